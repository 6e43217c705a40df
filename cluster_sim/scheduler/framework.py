"""The scheduling framework's data types: Status, NodeInfo, Snapshot and CycleState.

A filter returns ``None`` for success (Go's nil *Status) or a `Status`; scores are ints.  NodeInfo
and Snapshot are plain data (string-keyed dicts, lists, ints) and are updated incrementally when a
pod is bound or removed, so a scheduling cycle never rebuilds them.
"""
from __future__ import annotations

from . import helpers

SUCCESS = "Success"
ERROR = "Error"
UNSCHEDULABLE = "Unschedulable"
UNSCHEDULABLE_AND_UNRESOLVABLE = "UnschedulableAndUnresolvable"
SKIP = "Skip"
MAX_NODE_SCORE = 100
ZONE_LABELS = (helpers.LABEL_ZONE, "failure-domain.beta.kubernetes.io/zone")
REGION_LABELS = (helpers.LABEL_REGION, "failure-domain.beta.kubernetes.io/region")


class Status:
    """The outcome of one plugin at one extension point (framework.Status)."""

    __slots__ = ("code", "reasons", "plugin")

    def __init__(self, code: str, reasons: list | None = None, plugin: str = ""):
        self.code = code
        self.reasons = reasons or []
        self.plugin = plugin

    @property
    def message(self) -> str:
        return ", ".join(self.reasons)

    def is_success(self) -> bool:
        return self.code == SUCCESS

    def is_rejected(self) -> bool:
        return self.code in (UNSCHEDULABLE, UNSCHEDULABLE_AND_UNRESOLVABLE)

    def with_plugin(self, plugin: str) -> "Status":
        return Status(self.code, self.reasons, plugin)

    def __eq__(self, other) -> bool:
        return (isinstance(other, Status) and self.code == other.code and self.reasons == other.reasons
                and self.plugin == other.plugin)

    def __repr__(self) -> str:
        return f"Status({self.code}, {self.reasons!r}, plugin={self.plugin!r})"


def unschedulable(*reasons: str) -> Status:
    return Status(UNSCHEDULABLE, list(reasons))


def unresolvable(*reasons: str) -> Status:
    return Status(UNSCHEDULABLE_AND_UNRESOLVABLE, list(reasons))


SKIP_STATUS = Status(SKIP)


class CycleState:
    """Per-cycle scratch data plugins share (framework.CycleState); never stored."""

    def __init__(self, snapshot: "Snapshot"):
        self.snapshot = snapshot
        self.data: dict = {}
        self.skip_filter_plugins: dict = {}
        self.skip_score_plugins: dict = {}

    def clone(self) -> "CycleState":
        copy = CycleState(self.snapshot)
        copy.data = {key: (value.clone() if hasattr(value, "clone") else value) for key, value in self.data.items()}
        copy.skip_filter_plugins = dict(self.skip_filter_plugins)
        copy.skip_score_plugins = dict(self.skip_score_plugins)
        return copy


def zone_key(node: dict) -> str:
    """utilnode.GetZoneKey: "region:\\x00:zone", or "" for a node with neither label."""
    labels = node["metadata"].get("labels") or {}
    zone = labels.get(ZONE_LABELS[0]) or labels.get(ZONE_LABELS[1]) or ""
    region = labels.get(REGION_LABELS[0]) or labels.get(REGION_LABELS[1]) or ""
    if not zone and not region:
        return ""
    return region + ":\x00:" + zone


def _has_affinity(pod: dict) -> bool:
    affinity = pod.get("spec", {}).get("affinity") or {}
    return bool(affinity.get("podAffinity") or affinity.get("podAntiAffinity"))


def _has_required_anti_affinity(pod: dict) -> bool:
    anti = (pod.get("spec", {}).get("affinity") or {}).get("podAntiAffinity") or {}
    return bool(anti.get("requiredDuringSchedulingIgnoredDuringExecution"))


class PodResources:
    """What one pod takes from a node, computed once when the pod is added."""

    __slots__ = ("milli_cpu", "memory", "ephemeral_storage", "scalar", "non_zero_milli_cpu", "non_zero_memory")

    def __init__(self, pod: dict):
        requests = helpers.pod_requests(pod)
        non_zero = helpers.pod_requests(pod, non_zero=True)
        self.milli_cpu = requests.pop("cpu", 0)
        self.memory = requests.pop("memory", 0)
        self.ephemeral_storage = requests.pop("ephemeral-storage", 0)
        requests.pop("pods", None)
        self.scalar = requests
        self.non_zero_milli_cpu = non_zero.get("cpu", 0)
        self.non_zero_memory = non_zero.get("memory", 0)


_resources_cache: dict = {}


def pod_resources(pod: dict) -> PodResources:
    """Objects are never mutated once stored, so a pod dict's identity fixes its requests."""
    cached = _resources_cache.get(id(pod))
    if cached is not None and cached[0] is pod:
        return cached[1]
    if len(_resources_cache) > 400_000:
        _resources_cache.clear()
    resources = PodResources(pod)
    _resources_cache[id(pod)] = (pod, resources)
    return resources


class NodeInfo:
    """A node and the pods the scheduler counts on it (framework.NodeInfo)."""

    def __init__(self, node: dict):
        self.pods: dict = {}
        self.requested_milli_cpu = 0
        self.requested_memory = 0
        self.requested_ephemeral_storage = 0
        self.requested_scalar: dict = {}
        self.non_zero_milli_cpu = 0
        self.non_zero_memory = 0
        # ip -> {"TCP/80": number of pods using it}
        self.used_ports: dict = {}
        self.pods_with_affinity: dict = {}
        self.pods_with_required_anti_affinity: dict = {}
        self.generation = 0
        self.set_node(node)

    def set_node(self, node: dict) -> None:
        self.node = node
        self.name = node["metadata"]["name"]
        self.labels = node["metadata"].get("labels") or {}
        allocatable = node.get("status", {}).get("allocatable") or {}
        self.allocatable_milli_cpu = helpers.quantity_of("cpu", allocatable.get("cpu", 0))
        self.allocatable_memory = helpers.quantity_of("memory", allocatable.get("memory", 0))
        self.allocatable_ephemeral_storage = helpers.quantity_of("ephemeral-storage", allocatable.get("ephemeral-storage", 0))
        self.allowed_pod_number = helpers.quantity_of("pods", allocatable.get("pods", 0))
        self.allocatable_scalar = {name: helpers.quantity_of(name, text) for name, text in allocatable.items()
                                   if name not in ("cpu", "memory", "ephemeral-storage", "pods")}
        self.taints = helpers.node_taints(node)
        self.unschedulable = bool(node.get("spec", {}).get("unschedulable"))
        # image name -> size in bytes, for every name the kubelet reports for an image
        self.image_sizes = {}
        for image in node.get("status", {}).get("images") or ():
            for name in image.get("names") or ():
                self.image_sizes[name] = image.get("sizeBytes", 0)
        self.generation += 1

    def add_pod(self, pod: dict) -> None:
        key = helpers.pod_key(pod)
        if key in self.pods:
            self.remove_pod(self.pods[key])
        self.pods[key] = pod
        self._account(pod, 1)
        if _has_affinity(pod):
            self.pods_with_affinity[key] = True
        if _has_required_anti_affinity(pod):
            self.pods_with_required_anti_affinity[key] = True
        for ip, protocol, port in helpers.host_ports(pod):
            ports = self.used_ports.setdefault(ip, {})
            name = f"{protocol}/{port}"
            ports[name] = ports.get(name, 0) + 1
        self.generation += 1

    def remove_pod(self, pod: dict) -> bool:
        key = helpers.pod_key(pod)
        stored = self.pods.pop(key, None)
        if stored is None:
            return False
        self._account(stored, -1)
        self.pods_with_affinity.pop(key, None)
        self.pods_with_required_anti_affinity.pop(key, None)
        for ip, protocol, port in helpers.host_ports(stored):
            ports = self.used_ports.get(ip, {})
            name = f"{protocol}/{port}"
            ports[name] = ports.get(name, 0) - 1
            if ports[name] <= 0:
                ports.pop(name, None)
            if not ports:
                self.used_ports.pop(ip, None)
        self.generation += 1
        return True

    def _account(self, pod: dict, sign: int) -> None:
        resources = pod_resources(pod)
        self.requested_milli_cpu += sign * resources.milli_cpu
        self.requested_memory += sign * resources.memory
        self.requested_ephemeral_storage += sign * resources.ephemeral_storage
        for name, quantity in resources.scalar.items():
            self.requested_scalar[name] = self.requested_scalar.get(name, 0) + sign * quantity
        self.non_zero_milli_cpu += sign * resources.non_zero_milli_cpu
        self.non_zero_memory += sign * resources.non_zero_memory

    def port_conflicts(self, ports: list) -> bool:
        """HostPortInfo.CheckConflict: 0.0.0.0 conflicts with every address."""
        used = self.used_ports
        if not used:
            return False
        for ip, protocol, port in ports:
            name = f"{protocol}/{port}"
            if ip == "0.0.0.0":
                for ports_on_ip in used.values():
                    if name in ports_on_ip:
                        return True
            elif name in used.get(ip, ()) or name in used.get("0.0.0.0", ()):
                return True
        return False

    def clone(self) -> "NodeInfo":
        copy = NodeInfo.__new__(NodeInfo)
        copy.__dict__.update(self.__dict__)
        copy.pods = dict(self.pods)
        copy.requested_scalar = dict(self.requested_scalar)
        copy.used_ports = {ip: dict(ports) for ip, ports in self.used_ports.items()}
        copy.pods_with_affinity = dict(self.pods_with_affinity)
        copy.pods_with_required_anti_affinity = dict(self.pods_with_required_anti_affinity)
        return copy


class Snapshot:
    """Every node's NodeInfo in the scheduler's node order, plus what plugins look up cluster-wide.

    Node order follows kube-scheduler's nodeTree: zones in the order first seen, nodes taken
    round-robin across zones, so consecutive nodes are in different zones.  ``node_infos`` is
    derived from ``zone_nodes`` and ``node_info_by_name`` and rebuilt on restore.
    """

    TRANSIENT = ("node_infos",)

    def __init__(self):
        self.node_infos: list = []
        self.node_info_by_name: dict = {}
        self.zone_nodes: dict = {}           # zone key -> [node name], insertion order
        self.image_node_counts: dict = {}    # image name -> number of nodes that have it
        self.pods_without_node: dict = {}    # node name -> {pod key: pod} for pods bound to unknown nodes
        self.affinity_pod_count = 0
        self.required_anti_affinity_pod_count = 0
        # Objects some plugins consult, kept up to date by the component: "namespace/name" -> object.
        self.services: dict = {}
        self.replica_sets: dict = {}
        self.stateful_sets: dict = {}
        self.replication_controllers: dict = {}
        self.pod_disruption_budgets: dict = {}
        self.namespace_labels: dict = {}     # namespace -> labels
        # node name -> {pod key: pod} of pods nominated there by preemption
        self.nominated_pods: dict = {}

    def attach(self, sim) -> None:
        self._rebuild_order()

    # Nodes -----------------------------------------------------------------------------
    def add_node(self, node: dict) -> NodeInfo:
        name = node["metadata"]["name"]
        existing = self.node_info_by_name.get(name)
        if existing is not None:
            self.update_node(node)
            return existing
        node_info = NodeInfo(node)
        self.node_info_by_name[name] = node_info
        self.zone_nodes.setdefault(zone_key(node), []).append(name)
        self._count_images(node_info, 1)
        for pod in self.pods_without_node.pop(name, {}).values():
            self._add_pod_to(node_info, pod)
        self._rebuild_order()
        return node_info

    def update_node(self, node: dict) -> None:
        node_info = self.node_info_by_name[node["metadata"]["name"]]
        old_zone = zone_key(node_info.node)
        self._count_images(node_info, -1)
        node_info.set_node(node)
        self._count_images(node_info, 1)
        new_zone = zone_key(node)
        if new_zone != old_zone:
            self._remove_from_zone(old_zone, node_info.name)
            self.zone_nodes.setdefault(new_zone, []).append(node_info.name)
            self._rebuild_order()

    def remove_node(self, name: str) -> None:
        node_info = self.node_info_by_name.pop(name, None)
        if node_info is None:
            return
        self._count_images(node_info, -1)
        self._remove_from_zone(zone_key(node_info.node), name)
        for pod in list(node_info.pods.values()):
            self._count_affinity(pod, -1)
        self._rebuild_order()

    def _remove_from_zone(self, zone: str, name: str) -> None:
        names = self.zone_nodes.get(zone, [])
        if name in names:
            names.remove(name)
        if not names:
            self.zone_nodes.pop(zone, None)

    def _count_images(self, node_info: NodeInfo, sign: int) -> None:
        counts = self.image_node_counts
        for name in node_info.image_sizes:
            counts[name] = counts.get(name, 0) + sign
            if counts[name] <= 0:
                del counts[name]

    def _rebuild_order(self) -> None:
        zones = list(self.zone_nodes.values())
        ordered = []
        longest = max((len(names) for names in zones), default=0)
        for index in range(longest):
            for names in zones:
                if index < len(names):
                    ordered.append(self.node_info_by_name[names[index]])
        self.node_infos = ordered

    # Pods ------------------------------------------------------------------------------
    def add_pod(self, pod: dict) -> None:
        """Count a pod bound (or assumed) to ``spec.nodeName``."""
        node_name = pod["spec"]["nodeName"]
        node_info = self.node_info_by_name.get(node_name)
        if node_info is None:
            self.pods_without_node.setdefault(node_name, {})[helpers.pod_key(pod)] = pod
            return
        self._add_pod_to(node_info, pod)

    def _add_pod_to(self, node_info: NodeInfo, pod: dict) -> None:
        previous = node_info.pods.get(helpers.pod_key(pod))
        if previous is not None:
            self._count_affinity(previous, -1)
        node_info.add_pod(pod)
        self._count_affinity(pod, 1)

    def remove_pod(self, pod: dict) -> None:
        node_name = pod["spec"].get("nodeName")
        node_info = self.node_info_by_name.get(node_name)
        key = helpers.pod_key(pod)
        if node_info is None:
            self.pods_without_node.get(node_name, {}).pop(key, None)
            return
        stored = node_info.pods.get(key)
        if stored is not None and node_info.remove_pod(stored):
            self._count_affinity(stored, -1)

    def update_pod(self, old_pod: dict, new_pod: dict) -> None:
        self.remove_pod(old_pod)
        self.add_pod(new_pod)

    def _count_affinity(self, pod: dict, sign: int) -> None:
        if _has_affinity(pod):
            self.affinity_pod_count += sign
        if _has_required_anti_affinity(pod):
            self.required_anti_affinity_pod_count += sign

    # Nominated pods (set by the component after preemption) ----------------------------
    def set_nominated_pod(self, pod: dict, node_name: str | None) -> None:
        key = helpers.pod_key(pod)
        for pods in self.nominated_pods.values():
            pods.pop(key, None)
        if node_name:
            self.nominated_pods.setdefault(node_name, {})[key] = pod
        for name in [name for name, pods in self.nominated_pods.items() if not pods]:
            del self.nominated_pods[name]

    # Lookups ---------------------------------------------------------------------------
    def get(self, name: str) -> NodeInfo | None:
        return self.node_info_by_name.get(name)

    def num_nodes(self) -> int:
        return len(self.node_infos)

    def nodes_with_affinity_pods(self) -> list:
        return [info for info in self.node_infos if info.pods_with_affinity]

    def nodes_with_required_anti_affinity_pods(self) -> list:
        return [info for info in self.node_infos if info.pods_with_required_anti_affinity]


class FitError:
    """Why no node fits a pod (framework.FitError); ``message`` is kube-scheduler's text."""

    def __init__(self, num_all_nodes: int, node_statuses: dict, absent_status: Status | None = None,
                 pre_filter_message: str = "", post_filter_message: str = ""):
        self.num_all_nodes = num_all_nodes
        self.node_statuses = node_statuses      # node name -> Status, nodes evaluated explicitly
        self.absent_status = absent_status      # the status of every node not in node_statuses
        self.pre_filter_message = pre_filter_message
        self.post_filter_message = post_filter_message

    def reason_counts(self) -> dict:
        counts: dict = {}
        for status in self.node_statuses.values():
            for reason in status.reasons:
                counts[reason] = counts.get(reason, 0) + 1
        absent = self.num_all_nodes - len(self.node_statuses)
        if absent > 0 and self.absent_status is not None:
            for reason in self.absent_status.reasons:
                counts[reason] = counts.get(reason, 0) + absent
        return counts

    @property
    def message(self) -> str:
        text = f"0/{self.num_all_nodes} nodes are available:"
        if self.pre_filter_message:
            text += f" {self.pre_filter_message}."
        else:
            # Go sorts the "count reason" strings themselves, so "10 x" comes before "2 y".
            histogram = sorted(f"{count} {reason}" for reason, count in self.reason_counts().items())
            if histogram:
                text += " " + ", ".join(histogram) + "."
        if self.post_filter_message:
            text += " " + self.post_filter_message
        return text

    def __repr__(self) -> str:
        return f"FitError({self.message!r})"
