from __future__ import annotations

from .. import helpers
from ..framework import SKIP_STATUS, unresolvable
from .normalize import default_normalize_score

ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector"
ERR_REASON_CONFLICT = "pod affinity terms conflict"
PRE_SCORE_KEY = "PreScoreNodeAffinity"


class NodeAffinity:
    """Filter: spec.nodeSelector and required node affinity.  Score: the summed weights of the
    preferred terms the node matches, normalised to 0..100."""

    name = "NodeAffinity"

    def pre_filter(self, state, pod):
        spec = pod["spec"]
        terms = helpers.required_node_affinity_terms(pod)
        if terms is None and spec.get("nodeSelector") is None:
            return None, SKIP_STATUS
        if not terms:
            return None, None
        # Terms naming nodes with matchFields metadata.name (DaemonSet pods) narrow the nodes to try.
        node_names = None
        for term in terms:
            term_names = None
            for field in term.get("matchFields") or ():
                if field["key"] == helpers.OBJECT_NAME_FIELD and field["operator"] == "In":
                    values = field.get("values") or []
                    term_names = list(values) if term_names is None else [name for name in term_names if name in values]
            if term_names is None:
                return None, None
            node_names = term_names if node_names is None else node_names + [n for n in term_names if n not in node_names]
        if node_names is not None and not node_names:
            return None, unresolvable(ERR_REASON_CONFLICT)
        return node_names, None

    def filter(self, state, pod, node_info):
        if helpers.pod_matches_node_selector_and_affinity(pod, node_info.node):
            return None
        return unresolvable(ERR_REASON_POD)

    def pre_score(self, state, pod, nodes):
        affinity = (pod["spec"].get("affinity") or {}).get("nodeAffinity") or {}
        preferred = affinity.get("preferredDuringSchedulingIgnoredDuringExecution") or []
        if not preferred:
            return SKIP_STATUS
        state.data[PRE_SCORE_KEY] = preferred
        return None

    def score(self, state, pod, node_info):
        total = 0
        for term in state.data[PRE_SCORE_KEY]:
            weight = term.get("weight", 0)
            if weight and helpers.node_selector_term_matches(term.get("preference") or {}, node_info.node):
                total += weight
        return total

    def normalize_score(self, state, pod, nodes, scores):
        default_normalize_score(scores, reverse=False)
