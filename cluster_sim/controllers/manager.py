"""kube-controller-manager: leader-elected host of the built-in controllers.

Like the real binary it runs one set of shared informers and hands every change to each
controller that registered for that resource; controllers keep work queues and talk to the API
only through this component's ApiClient. Everything here is volatile: a crash or a lost lease
drops informers, queues and controller memory, and the next leader rebuilds them from the API.
"""
from __future__ import annotations

from typing import Any

from ..client import ApiComponent
from ..recorder import EventRecorder
from .daemonset import DaemonSetController
from .deployment import DeploymentController
from .endpoints import EndpointsController
from .endpointslice import EndpointSliceController
from .garbagecollector import GarbageCollector
from .helpers import controller_ref, key_of
from .namespace import NamespaceController
from .nodeipam import NodeIpamController
from .nodelifecycle import NodeLifecycleController
from .podgc import PodGCController
from .replicaset import ReplicaSetController
from .serviceaccount import RootCACertPublisher, ServiceAccountController
from .tainteviction import TaintEvictionController

USER_AGENT = "kube-controller-manager/v1.33.0 (linux/amd64) kubernetes/8adc0f0/leader-election"

DEFAULT_CONFIG = {
    "node_monitor_period_ms": 5_000,
    "node_monitor_grace_period_ms": 50_000,
    "node_startup_grace_period_ms": 60_000,
    "node_eviction_rate": 0.1,
    "secondary_node_eviction_rate": 0.01,
    "unhealthy_zone_threshold": 0.55,
    "large_cluster_size_threshold": 50,
    "cluster_cidr": "10.244.0.0/16",
    "node_cidr_mask_size": 24,
    "allocate_node_cidrs": True,
    "terminated_pod_gc_threshold": 12_500,
}

# Informer key -> [resource, namespace]. One shared set, as the real SharedInformerFactory.
SHARED_INFORMERS = {
    "pods": ["pods", None],
    "nodes": ["nodes", None],
    "replicasets": ["replicasets", None],
    "deployments": ["deployments", None],
    "daemonsets": ["daemonsets", None],
    "services": ["services", None],
    "endpoints": ["endpoints", None],
    "endpointslices": ["endpointslices", None],
    "namespaces": ["namespaces", None],
    "serviceaccounts": ["serviceaccounts", None],
    "configmaps": ["configmaps", None],
    "node-leases": ["leases", "kube-node-lease"],
}

# Informers whose objects the garbage collector tracks by uid (owners and dependents).
GC_INFORMERS = ["pods", "nodes", "replicasets", "deployments", "daemonsets", "services",
                "endpointslices", "serviceaccounts", "configmaps", "node-leases"]

CONTROLLER_CLASSES = [
    NodeIpamController, NodeLifecycleController, TaintEvictionController, DeploymentController,
    ReplicaSetController, DaemonSetController, EndpointsController, EndpointSliceController,
    NamespaceController, ServiceAccountController, RootCACertPublisher, GarbageCollector, PodGCController,
]


class ControllerHost(ApiComponent):
    """A leader-elected process running controllers over one set of shared informers
    (kube-controller-manager, cloud-controller-manager)."""

    lease_name = ""
    shared_informers: dict = {}
    controller_classes: list = []

    def __init__(self, sim: Any, name: str, node: str | None, api_servers: list[str], user_agent: str,
                 config: dict):
        super().__init__(sim, name, node, api_servers, user_agent)
        self.config = config
        self.reset_volatile()
        self.start_leader_election(self.lease_name)

    def reset_volatile(self) -> None:
        self.controllers: dict[str, Any] = {}
        self.recorders: dict[str, EventRecorder] = {}
        self.leading = False
        # Indexes over the shared informers (rebuilt from the informer events after a restart).
        self.pods_by_node: dict[str, dict[str, bool]] = {}
        self.uid_index: dict[str, list] = {}
        self.dependents: dict[str, dict[str, bool]] = {}

    # Lifecycle ----------------------------------------------------------------------------
    def on_start(self) -> None:
        self.reset_volatile()
        self.start_leader_election(self.lease_name)

    def on_stop(self) -> None:
        super().on_stop()
        self.api.informers.clear()
        self.api.watch_server.clear()
        self.elector = None
        self.reset_volatile()

    def on_started_leading(self) -> None:
        self.leading = True
        for informer_key, (resource, namespace) in self.shared_informers.items():
            self.api.add_informer(informer_key, resource, namespace)
        for cls in self.controller_classes:
            controller = cls(self.config)
            self.controllers[controller.name] = controller
        self.api.start_informers()

    def on_informers_synced(self) -> None:
        for controller in self.controllers.values():
            if not controller.started:
                controller.start(self)

    # Informer fan-out ---------------------------------------------------------------------
    def on_informer_event(self, informer: str, event_type: str, obj: dict, old: dict | None) -> None:
        self.update_indexes(informer, event_type, obj, old)
        for controller in self.controllers.values():
            if informer in controller.informers:
                controller.on_event(self, informer, event_type, obj, old)

    def update_indexes(self, informer: str, event_type: str, obj: dict, old: dict | None) -> None:
        if informer == "pods":
            self.index_pod(event_type, obj, old)
        if informer not in GC_INFORMERS:
            return
        uid = obj["metadata"].get("uid", "")
        entry = f"{informer}|{key_of(obj)}"
        if old is not None:
            for reference in old["metadata"].get("ownerReferences") or []:
                self.dependents.get(reference.get("uid", ""), {}).pop(entry, None)
        if event_type == "DELETED":
            self.uid_index.pop(uid, None)
            return
        self.uid_index[uid] = [informer, key_of(obj)]
        for reference in obj["metadata"].get("ownerReferences") or []:
            self.dependents.setdefault(reference.get("uid", ""), {})[entry] = True

    def index_pod(self, event_type: str, pod: dict, old: dict | None) -> None:
        key = key_of(pod)
        if old is not None:
            old_node = old["spec"].get("nodeName")
            if old_node:
                self.pods_by_node.get(old_node, {}).pop(key, None)
        node = pod["spec"].get("nodeName")
        if node and event_type != "DELETED":
            self.pods_by_node.setdefault(node, {})[key] = True

    # Lookups controllers use ----------------------------------------------------------------
    def store(self, informer: str) -> dict:
        found = self.api.informers.get(informer)
        return found.store if found is not None else {}

    def get(self, informer: str, key: str) -> dict | None:
        return self.store(informer).get(key)

    def pods_on_node(self, node_name: str) -> list:
        pods = self.store("pods")
        return [pods[key] for key in self.pods_by_node.get(node_name, {}) if key in pods]

    def pods_in_namespace(self, namespace: str) -> list:
        prefix = namespace + "/"
        return [pod for key, pod in self.store("pods").items() if key.startswith(prefix)]

    def pods_controlled_by(self, owner: dict) -> list:
        uid = owner["metadata"].get("uid")
        pods = self.store("pods")
        found = []
        for entry in self.dependents.get(uid, {}):
            informer, _, key = entry.partition("|")
            pod = pods.get(key) if informer == "pods" else None
            if pod is not None and (controller_ref(pod) or {}).get("uid") == uid:
                found.append(pod)
        return found

    def object_by_uid(self, uid: str) -> dict | None:
        entry = self.uid_index.get(uid)
        if entry is None:
            return None
        return self.store(entry[0]).get(entry[1])

    def now_ms(self) -> int:
        return self.sim.now_ms

    # Events (Kubernetes Event objects), one recorder per controller -------------------------
    def record_event(self, source: str, obj: dict, event_type: str, reason: str, message: str) -> None:
        recorder = self.recorders.get(source)
        if recorder is None:
            recorder = EventRecorder(source)
            self.recorders[source] = recorder
        recorder.record(self, obj, event_type, reason, message)

    # Timers and API results routed to controllers -------------------------------------------
    def on_controller_work(self, payload: dict) -> None:
        controller = self.controllers.get(payload["controller"])
        if controller is not None:
            controller.work(self)

    def on_controller_requeue(self, payload: dict) -> None:
        controller = self.controllers.get(payload["controller"])
        if controller is not None:
            controller.enqueue(self, payload["key"])

    def on_controller_timer(self, payload: dict) -> None:
        controller = self.controllers.get(payload["controller"])
        if controller is not None:
            controller.on_timer(self, payload["timer"], payload["data"])

    def on_request_result(self, context: dict, code: int, body: Any) -> None:
        controller = self.controllers.get(context.get("controller", ""))
        if controller is not None:
            controller.handle_result(self, context, code, body)


class KubeControllerManager(ControllerHost):
    kind = "kube-controller-manager"
    lease_name = "kube-controller-manager"
    shared_informers = SHARED_INFORMERS
    controller_classes = CONTROLLER_CLASSES

    def __init__(self, sim: Any, name: str, node: str | None, api_servers: list[str], config: dict | None = None):
        super().__init__(sim, name, node, api_servers, USER_AGENT, dict(DEFAULT_CONFIG, **(config or {})))
