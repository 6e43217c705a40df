"""The Node object a kubelet registers and the status it reports (pkg/kubelet/nodestatus).

Capacity is derived from the configured allocatable the way kubeadm's default kubelet
configuration reserves it: no kube/system reservation, the hard eviction thresholds
`memory.available<100Mi` and `nodefs.available<10%` are held back from allocatable.
"""
from __future__ import annotations

import hashlib

from ..quantity import format_bytes, memory_bytes

KUBELET_PORT = 10250
EVICTION_MEMORY_BYTES = 100 * 1024 * 1024
NODEFS_EVICTION_PERCENT = 10
MAX_IMAGES_IN_STATUS = 50
MAX_NAMES_PER_IMAGE = 5

READY_TRUE = ["True", "KubeletReady", "kubelet is posting ready status"]
NETWORK_NOT_READY = ("container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
                     "message:Network plugin returns error: cni plugin not initialized")
RUNTIME_DOWN = ("container runtime is down, PLEG is not healthy: pleg was last seen active 3m0s ago; "
                "threshold is 3m0s")
PRESSURE_CONDITIONS = [
    ["MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available", "NodeHasSufficientMemory"],
    ["DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure", "NodeHasNoDiskPressure"],
    ["PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available", "NodeHasSufficientPID"],
]


# Quantities parsed per distinct allocatable (a pure function of the configuration, not
# simulation state): parsing them is most of a node status computation, done every 10 s.
_capacity_by_allocatable: dict[str, dict] = {}
_identity_by_machine: dict[str, dict] = {}
MAX_CACHED_CONFIGURATIONS = 1_000


def cached(cache: dict, key: str, compute, argument):
    value = cache.get(key)
    if value is None:
        if len(cache) >= MAX_CACHED_CONFIGURATIONS:
            cache.clear()
        value = cache[key] = compute(argument)
    return value


def capacity_from_allocatable(allocatable: dict) -> dict:
    return dict(cached(_capacity_by_allocatable, repr(list(allocatable.items())), parse_capacity, allocatable))


def parse_capacity(allocatable: dict) -> dict:
    capacity = dict(allocatable)
    if "memory" in allocatable:
        capacity["memory"] = format_bytes(memory_bytes(allocatable["memory"]) + EVICTION_MEMORY_BYTES)
    if "ephemeral-storage" in allocatable:
        total = memory_bytes(allocatable["ephemeral-storage"]) * 100 // (100 - NODEFS_EVICTION_PERCENT)
        capacity["ephemeral-storage"] = format_bytes(total)
    capacity.setdefault("hugepages-1Gi", "0")
    capacity.setdefault("hugepages-2Mi", "0")
    return capacity


def node_labels(config: dict) -> dict:
    name = config["name"]
    labels = {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
              "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}
    if config.get("role") == "control-plane":
        labels["node-role.kubernetes.io/control-plane"] = ""
        labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
    if config.get("zone"):
        labels["topology.kubernetes.io/zone"] = config["zone"]
    labels.update(config.get("labels") or {})
    return labels


def node_taints(config: dict) -> list[dict]:
    taints = [dict(taint) for taint in (config.get("taints") or [])]
    if config.get("role") == "control-plane":
        key = "node-role.kubernetes.io/control-plane"
        if not any(taint.get("key") == key for taint in taints):
            taints.append({"key": key, "effect": "NoSchedule"})
    return taints


def machine_identity(name: str) -> dict:
    return dict(cached(_identity_by_machine, name, hash_machine_identity, name))


def hash_machine_identity(name: str) -> dict:
    digest = hashlib.sha256(("machine:" + name).encode()).hexdigest()
    return {"machineID": digest[:32],
            "systemUUID": f"{digest[32:40]}-{digest[40:44]}-{digest[44:48]}-{digest[48:52]}-{digest[52:64]}",
            "bootID": ""}


def node_info(config: dict, boot_id: str) -> dict:
    identity = machine_identity(config["name"])
    return {"architecture": "amd64", "bootID": boot_id,
            "containerRuntimeVersion": config.get("container_runtime_version", "containerd://1.7.24"),
            "kernelVersion": config.get("kernel_version", "6.8.0-51-generic"),
            "kubeProxyVersion": "", "kubeletVersion": config.get("kubelet_version", "v1.33.0"),
            "machineID": identity["machineID"], "operatingSystem": "linux",
            "osImage": config.get("os_image", "Ubuntu 24.04.1 LTS"), "systemUUID": identity["systemUUID"]}


def initial_node(config: dict, pod_cidr: str | None) -> dict:
    """The Node a kubelet creates when it registers (metadata and spec; status is added by the caller)."""
    spec: dict = {}
    taints = node_taints(config)
    if taints:
        spec["taints"] = taints
    if pod_cidr:
        spec["podCIDR"] = pod_cidr
        spec["podCIDRs"] = [pod_cidr]
    annotations = {"kubeadm.alpha.kubernetes.io/cri-socket": "unix:///var/run/containerd/containerd.sock",
                   "node.alpha.kubernetes.io/ttl": "0",
                   "volumes.kubernetes.io/controller-managed-attach-detach": "true"}
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": config["name"], "labels": node_labels(config), "annotations": annotations},
            "spec": spec}


def images_status(image_records: list[dict]) -> list[dict]:
    """status.images: largest first, at most 50, each with its digest and tag names."""
    ordered = sorted(image_records, key=lambda record: (-record["size_bytes"], record["name"]))
    return [{"names": [record["repo_digest"], record["name"]][:MAX_NAMES_PER_IMAGE], "sizeBytes": record["size_bytes"]}
            for record in ordered[:MAX_IMAGES_IN_STATUS]]


def status_body(config: dict, boot_id: str, conditions: list[dict], image_records: list[dict]) -> dict:
    allocatable = dict(config.get("allocatable") or {})
    allocatable.setdefault("hugepages-1Gi", "0")
    allocatable.setdefault("hugepages-2Mi", "0")
    return {
        "capacity": capacity_from_allocatable(config.get("allocatable") or {}),
        "allocatable": allocatable,
        "conditions": conditions,
        "addresses": [{"type": "InternalIP", "address": config["internal_ip"]},
                      {"type": "Hostname", "address": config["name"]}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": KUBELET_PORT}},
        "nodeInfo": node_info(config, boot_id),
        "images": images_status(image_records),
        "runtimeHandlers": [{"name": "runc", "features": {"recursiveReadOnlyMounts": True, "userNamespaces": True}},
                            {"name": "", "features": {"recursiveReadOnlyMounts": True, "userNamespaces": True}}],
        "features": {"supplementalGroupsPolicy": True},
    }


def without_heartbeats(status: dict) -> dict:
    """nodeStatusHasChanged ignores heartbeat times when deciding whether to report."""
    conditions = [{key: value for key, value in condition.items() if key != "lastHeartbeatTime"}
                  for condition in status.get("conditions", [])]
    return dict(status, conditions=conditions)
