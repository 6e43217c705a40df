from __future__ import annotations

from .. import helpers
from ..framework import SKIP_STATUS, unschedulable

ERR_REASON = "node(s) didn't have free ports for the requested pod ports"
PRE_FILTER_KEY = "PreFilterNodePorts"


class NodePorts:
    """A pod's hostPorts must be free on the node (per IP and protocol; 0.0.0.0 means every IP)."""

    name = "NodePorts"

    def pre_filter(self, state, pod):
        ports = helpers.host_ports(pod)
        if not ports:
            return None, SKIP_STATUS
        state.data[PRE_FILTER_KEY] = ports
        return None, None

    def filter(self, state, pod, node_info):
        if node_info.port_conflicts(state.data[PRE_FILTER_KEY]):
            return unschedulable(ERR_REASON)
        return None
