from __future__ import annotations

import math

from ..framework import SKIP_STATUS, pod_resources

PRE_SCORE_KEY = "PreScoreNodeResourcesBalancedAllocation"


def balanced_score(fractions: list) -> int:
    """(1 - standard deviation of the requested fractions) x 100, truncated."""
    if len(fractions) == 2:
        deviation = abs((fractions[0] - fractions[1]) / 2)
    elif len(fractions) > 2:
        mean = sum(fractions) / len(fractions)
        deviation = math.sqrt(sum((fraction - mean) * (fraction - mean) for fraction in fractions) / len(fractions))
    else:
        deviation = 0.0
    return int((1 - deviation) * 100)


class NodeResourcesBalancedAllocation:
    """Score: nodes whose cpu and memory would be used in similar fractions score higher.  It uses
    the real requests (no 100m / 200Mi defaults) and skips best-effort pods (v1.33)."""

    name = "NodeResourcesBalancedAllocation"

    def pre_score(self, state, pod, nodes):
        resources = pod_resources(pod)
        if resources.milli_cpu == 0 and resources.memory == 0:
            return SKIP_STATUS
        state.data[PRE_SCORE_KEY] = [resources.milli_cpu, resources.memory]
        return None

    def score(self, state, pod, node_info):
        cpu, memory = state.data[PRE_SCORE_KEY]
        cpu_capacity = node_info.allocatable_milli_cpu
        memory_capacity = node_info.allocatable_memory
        if cpu_capacity and memory_capacity:
            cpu_fraction = min((node_info.requested_milli_cpu + cpu) / cpu_capacity, 1.0)
            memory_fraction = min((node_info.requested_memory + memory) / memory_capacity, 1.0)
            return int((1 - abs((cpu_fraction - memory_fraction) / 2)) * 100)
        fractions = []
        if cpu_capacity:
            fractions.append(min((node_info.requested_milli_cpu + cpu) / cpu_capacity, 1.0))
        if memory_capacity:
            fractions.append(min((node_info.requested_memory + memory) / memory_capacity, 1.0))
        return balanced_score(fractions)
