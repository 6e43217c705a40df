from __future__ import annotations

from .. import helpers


class PrioritySort:
    """Queue sort: higher spec.priority first, then the pod that entered the queue earlier."""

    name = "PrioritySort"

    @staticmethod
    def sort_key(pod: dict, timestamp_ms: int) -> list:
        return [-helpers.pod_priority(pod), timestamp_ms]

    def less(self, pod_a: dict, timestamp_a_ms: int, pod_b: dict, timestamp_b_ms: int) -> bool:
        return self.sort_key(pod_a, timestamp_a_ms) < self.sort_key(pod_b, timestamp_b_ms)
