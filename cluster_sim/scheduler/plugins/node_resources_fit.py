from __future__ import annotations

from ..framework import UNSCHEDULABLE, UNSCHEDULABLE_AND_UNRESOLVABLE, Status, pod_resources

PRE_FILTER_KEY = "PreFilterNodeResourcesFit"
PRE_SCORE_KEY = "PreScoreNodeResourcesFit"
TOO_MANY_PODS = "Too many pods"


def least_requested_score(requested: int, capacity: int) -> int:
    if capacity == 0 or requested > capacity:
        return 0
    return (capacity - requested) * 100 // capacity


class NodeResourcesFit:
    """Filter: the pod's requests fit the node's allocatable minus what its pods request, and the
    node has room for one more pod.  Score (LeastAllocated, cpu and memory weight 1): the free
    fraction after placing the pod, counting 100m / 200Mi for containers without requests."""

    name = "NodeResourcesFit"

    def pre_filter(self, state, pod):
        state.data[PRE_FILTER_KEY] = pod_resources(pod)
        return None, None

    def filter(self, state, pod, node_info):
        request = state.data[PRE_FILTER_KEY]
        reasons = None
        unresolvable = False
        if len(node_info.pods) + 1 > node_info.allowed_pod_number:
            reasons = [TOO_MANY_PODS]
        cpu = request.milli_cpu
        memory = request.memory
        storage = request.ephemeral_storage
        if cpu == 0 and memory == 0 and storage == 0 and not request.scalar:
            return None if reasons is None else Status(UNSCHEDULABLE, reasons)
        if cpu > 0 and cpu > node_info.allocatable_milli_cpu - node_info.requested_milli_cpu:
            reasons = (reasons or []) + ["Insufficient cpu"]
            unresolvable = unresolvable or cpu > node_info.allocatable_milli_cpu
        if memory > 0 and memory > node_info.allocatable_memory - node_info.requested_memory:
            reasons = (reasons or []) + ["Insufficient memory"]
            unresolvable = unresolvable or memory > node_info.allocatable_memory
        if storage > 0 and storage > node_info.allocatable_ephemeral_storage - node_info.requested_ephemeral_storage:
            reasons = (reasons or []) + ["Insufficient ephemeral-storage"]
            unresolvable = unresolvable or storage > node_info.allocatable_ephemeral_storage
        for name in sorted(request.scalar):
            quantity = request.scalar[name]
            allocatable = node_info.allocatable_scalar.get(name, 0)
            if quantity > 0 and quantity > allocatable - node_info.requested_scalar.get(name, 0):
                reasons = (reasons or []) + [f"Insufficient {name}"]
                unresolvable = unresolvable or quantity > allocatable
        if reasons is None:
            return None
        return Status(UNSCHEDULABLE_AND_UNRESOLVABLE if unresolvable else UNSCHEDULABLE, reasons)

    def pre_score(self, state, pod, nodes):
        resources = pod_resources(pod)
        state.data[PRE_SCORE_KEY] = [resources.non_zero_milli_cpu, resources.non_zero_memory]
        return None

    def score(self, state, pod, node_info):
        cpu, memory = state.data[PRE_SCORE_KEY]
        cpu_capacity = node_info.allocatable_milli_cpu
        memory_capacity = node_info.allocatable_memory
        if cpu_capacity and memory_capacity:
            cpu = node_info.non_zero_milli_cpu + cpu
            memory = node_info.non_zero_memory + memory
            cpu_score = (cpu_capacity - cpu) * 100 // cpu_capacity if cpu <= cpu_capacity else 0
            memory_score = (memory_capacity - memory) * 100 // memory_capacity if memory <= memory_capacity else 0
            return (cpu_score + memory_score) // 2
        total = weights = 0
        if cpu_capacity:
            total += least_requested_score(node_info.non_zero_milli_cpu + cpu, cpu_capacity)
            weights += 1
        if memory_capacity:
            total += least_requested_score(node_info.non_zero_memory + memory, memory_capacity)
            weights += 1
        return total // weights if weights else 0
