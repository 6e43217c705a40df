"""Pure helpers for the pod status the kubelet reports: requests, QoS class, phase, conditions.

They follow pkg/kubelet (getPhase, generateAPIPodStatus, status.GeneratePodReadyCondition...) and
pkg/apis/core/v1/helper/qos of Kubernetes v1.33.
"""
from __future__ import annotations

from ..quantity import cpu_millis, memory_bytes

COMPUTE_RESOURCES = ("cpu", "memory")
CONDITION_ORDER = ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")


def resource_amount(resource: str, value: object) -> int:
    return cpu_millis(value) if resource == "cpu" else memory_bytes(value)


def pod_requests(spec: dict) -> dict:
    """Effective requests: max(sum over containers, max over init containers), plus overhead.

    cpu in millicores, memory and ephemeral-storage in bytes (what the kubelet's admission adds up).
    """
    totals = {"cpu": 0, "memory": 0, "ephemeral-storage": 0}
    for container in (spec.get("containers") or [])[:1000]:
        requests = ((container.get("resources") or {}).get("requests") or {})
        for resource in totals:
            if resource in requests:
                totals[resource] += resource_amount(resource, requests[resource])
    for container in (spec.get("initContainers") or [])[:1000]:
        requests = ((container.get("resources") or {}).get("requests") or {})
        for resource in totals:
            if resource in requests:
                totals[resource] = max(totals[resource], resource_amount(resource, requests[resource]))
    for resource, value in ((spec.get("overhead") or {}).items()):
        if resource in totals:
            totals[resource] += resource_amount(resource, value)
    return totals


def qos_class(spec: dict) -> str:
    """Guaranteed: every container has cpu and memory limits equal to its requests;
    BestEffort: no container requests or limits cpu/memory; else Burstable."""
    containers = list(spec.get("containers") or []) + list(spec.get("initContainers") or [])
    any_set = False
    guaranteed = True
    for container in containers[:1000]:
        resources = container.get("resources") or {}
        requests = resources.get("requests") or {}
        limits = resources.get("limits") or {}
        for resource in COMPUTE_RESOURCES:
            if resource in requests or resource in limits:
                any_set = True
            if resource not in limits:
                guaranteed = False
            elif resource in requests and resource_amount(resource, requests[resource]) != resource_amount(resource, limits[resource]):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def pod_phase(restart_policy: str, container_states: list[dict], terminal: bool) -> str:
    """getPhase for pods without init containers. Each entry: {"state", "exit_code", "has_last"}."""
    running = waiting = stopped = succeeded = 0
    for entry in container_states:
        state = entry["state"]
        if state == "running":
            running += 1
        elif state == "terminated":
            stopped += 1
            if entry.get("exit_code") == 0:
                succeeded += 1
        elif entry.get("has_last"):
            stopped += 1
            if entry.get("last_exit_code") == 0:
                succeeded += 1
        else:
            waiting += 1
    total = len(container_states)
    if terminal and running == 0:
        return "Succeeded" if total and succeeded == total else "Failed"
    if waiting > 0:
        return "Pending"
    if running > 0:
        return "Running"
    if stopped > 0:
        if restart_policy == "Always":
            return "Running"
        if stopped == succeeded:
            return "Succeeded"
        return "Running" if restart_policy == "OnFailure" else "Failed"
    return "Pending"


def unready_message(kind: str, names: list[str]) -> str:
    return f"{kind} with unready status: [{' '.join(names)}]"


def order_conditions(conditions: list[dict]) -> list[dict]:
    ranked = {name: index for index, name in enumerate(CONDITION_ORDER)}
    return sorted(conditions, key=lambda condition: ranked.get(condition["type"], len(ranked)))


def go_pod_name(namespace: str, name: str, uid: str) -> str:
    """format.Pod: `name_namespace(uid)`, how the kubelet names pods in messages."""
    return f"{name}_{namespace}({uid})"
