from __future__ import annotations

from .. import helpers
from ..framework import unresolvable

ERR_REASON_UNSCHEDULABLE = "node(s) were unschedulable"
_UNSCHEDULABLE_TAINT = {"key": helpers.TAINT_NODE_UNSCHEDULABLE, "effect": "NoSchedule"}


class NodeUnschedulable:
    """Filters out cordoned nodes (spec.unschedulable) unless the pod tolerates
    node.kubernetes.io/unschedulable:NoSchedule."""

    name = "NodeUnschedulable"

    def filter(self, state, pod, node_info):
        if not node_info.unschedulable:
            return None
        tolerations = pod["spec"].get("tolerations") or ()
        if tolerations and helpers.tolerations_tolerate_taint(tolerations, _UNSCHEDULABLE_TAINT):
            return None
        return unresolvable(ERR_REASON_UNSCHEDULABLE)
