from __future__ import annotations

from ..framework import MAX_NODE_SCORE

MIB = 1024 * 1024
MIN_THRESHOLD = 23 * MIB
MAX_CONTAINER_THRESHOLD = 1000 * MIB
IMAGES_KEY = "ImageLocalityImages"


def normalized_image_name(name: str) -> str:
    """An image without a tag means ":latest"."""
    if name.rfind(":") <= name.rfind("/"):
        return name + ":latest"
    return name


def calculate_priority(sum_scores: int, number_of_containers: int) -> int:
    max_threshold = MAX_CONTAINER_THRESHOLD * number_of_containers
    if sum_scores < MIN_THRESHOLD:
        sum_scores = MIN_THRESHOLD
    elif sum_scores > max_threshold:
        sum_scores = max_threshold
    return MAX_NODE_SCORE * (sum_scores - MIN_THRESHOLD) // (max_threshold - MIN_THRESHOLD)


class ImageLocality:
    """Score: the sizes of the pod's images already on the node, each scaled by the fraction of
    nodes that have it (so one node holding an image does not attract every pod), clamped to
    [23 MiB, 1000 MiB x containers] and mapped to 0..100."""

    name = "ImageLocality"

    def _prepared(self, state, pod) -> list:
        """[normalised image names, fraction of nodes holding each, score with no image present]."""
        prepared = state.data.get(IMAGES_KEY)
        if prepared is None:
            spec = pod["spec"]
            containers = list(spec.get("initContainers") or ()) + list(spec.get("containers") or ())
            images = [normalized_image_name(container.get("image", "")) for container in containers]
            counts = state.snapshot.image_node_counts
            total_nodes = len(state.snapshot.node_infos)
            spreads = [counts.get(image, 0) / total_nodes for image in images]
            prepared = state.data[IMAGES_KEY] = [images, spreads, calculate_priority(0, len(images))]
        return prepared

    def score(self, state, pod, node_info):
        images, spreads, empty_score = self._prepared(state, pod)
        sizes = node_info.image_sizes
        if not sizes:
            return empty_score
        total = 0
        for image, spread in zip(images, spreads):
            size = sizes.get(image)
            if size is not None:
                total += int(size * spread)
        return calculate_priority(total, len(images)) if total else empty_score
