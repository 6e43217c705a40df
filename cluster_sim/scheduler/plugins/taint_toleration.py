from __future__ import annotations

from .. import helpers
from ..framework import unresolvable
from .normalize import default_normalize_score

PRE_SCORE_KEY = "PreScoreTaintToleration"


class TaintToleration:
    """Filter: the first NoSchedule/NoExecute taint the pod does not tolerate rejects the node.
    Score: the number of PreferNoSchedule taints the pod does not tolerate, reverse-normalised."""

    name = "TaintToleration"

    def filter(self, state, pod, node_info):
        taints = node_info.taints
        if not taints:
            return None
        tolerations = pod["spec"].get("tolerations") or ()
        for taint in taints:
            if taint.get("effect") not in ("NoSchedule", "NoExecute"):
                continue
            if not helpers.tolerations_tolerate_taint(tolerations, taint):
                return unresolvable(f"node(s) had untolerated taint {{{taint.get('key', '')}: {taint.get('value', '')}}}")
        return None

    def pre_score(self, state, pod, nodes):
        tolerations = pod["spec"].get("tolerations") or ()
        state.data[PRE_SCORE_KEY] = [toleration for toleration in tolerations
                                     if not toleration.get("effect") or toleration.get("effect") == "PreferNoSchedule"]
        return None

    def score(self, state, pod, node_info):
        taints = node_info.taints
        if not taints:
            return 0
        tolerations = state.data[PRE_SCORE_KEY]
        count = 0
        for taint in taints:
            if taint.get("effect") == "PreferNoSchedule" and not helpers.tolerations_tolerate_taint(tolerations, taint):
                count += 1
        return count

    def normalize_score(self, state, pod, nodes, scores):
        default_normalize_score(scores, reverse=True)
