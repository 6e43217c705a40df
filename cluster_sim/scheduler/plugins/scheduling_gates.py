from __future__ import annotations

from ..framework import unresolvable


class SchedulingGates:
    """PreEnqueue: a pod with spec.schedulingGates waits outside the active queue."""

    name = "SchedulingGates"

    def pre_enqueue(self, pod: dict):
        gates = pod["spec"].get("schedulingGates") or []
        if not gates:
            return None
        names = " ".join(gate["name"] for gate in gates)
        return unresolvable(f"waiting for scheduling gates: [{names}]")
