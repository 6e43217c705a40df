from __future__ import annotations

from ..framework import unresolvable

ERR_REASON = "node(s) didn't match the requested node name"


class NodeName:
    """A pod that names its node (spec.nodeName) fits only that node."""

    name = "NodeName"

    def filter(self, state, pod, node_info):
        wanted = pod["spec"].get("nodeName")
        if not wanted or wanted == node_info.name:
            return None
        return unresolvable(ERR_REASON)
