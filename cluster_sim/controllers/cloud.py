"""cloud-controller-manager: the controllers that talk to the cloud provider (k8s.io/cloud-provider).

- service controller: a Service of type LoadBalancer gets the `service.kubernetes.io/load-balancer-cleanup`
  finalizer, a load balancer from the cloud (EnsuringLoadBalancer ... EnsuredLoadBalancer once the
  provider has built it) and `status.loadBalancer.ingress`; it is torn down (DeletingLoadBalancer,
  DeletedLoadBalancer) when the Service goes away or changes type.
- cloud node lifecycle controller: every 5 s, a node that is not Ready and whose machine no longer
  exists in the cloud is deleted (DeletingNode).

The cloud is the `CloudProvider` component (cluster_sim/cloud.py). It stands for the provider's
HTTP API, so these controllers call its methods directly, as a cloud SDK would.
"""
from __future__ import annotations

from typing import Any

from .base import Controller
from .helpers import is_terminating, key_of, node_ready_status, split_key
from .manager import ControllerHost

USER_AGENT = "cloud-controller-manager/v1.33.0 (linux/amd64) kubernetes/8adc0f0/leader-election"
LB_FINALIZER = "service.kubernetes.io/load-balancer-cleanup"
DEFAULT_CONFIG = {"cloud": "cloud", "node_monitor_period_ms": 5_000}


def cloud_of(mgr: Any) -> Any:
    return mgr.sim.components[mgr.config["cloud"]]


class ServiceController(Controller):
    name = "service-lb-controller"
    event_source = "service-controller"
    informers = ("services",)

    def __init__(self, config: dict | None = None) -> None:
        super().__init__(config)
        # service key -> {"ip", "ready_ms"} while the cloud builds the load balancer
        self.provisioning: dict[str, dict] = {}

    def on_event(self, mgr: Any, informer: str, event_type: str, obj: dict, old: dict | None) -> None:
        self.enqueue(mgr, key_of(obj))

    def sync(self, mgr: Any, key: str) -> None:
        service = mgr.get("services", key)
        wants = service is not None and (service.get("spec") or {}).get("type") == "LoadBalancer" \
            and not is_terminating(service)
        if wants:
            self.ensure(mgr, key, service)
        elif service is not None and (LB_FINALIZER in (service["metadata"].get("finalizers") or [])
                                      or key in cloud_of(mgr).load_balancers):
            self.tear_down(mgr, key, service)
        elif service is None:
            self.provisioning.pop(key, None)
            cloud_of(mgr).delete_load_balancer(key)

    def ensure(self, mgr: Any, key: str, service: dict) -> None:
        namespace, name = split_key(key)
        finalizers = list(service["metadata"].get("finalizers") or [])
        if LB_FINALIZER not in finalizers:
            self.request(mgr, key, "patch", "services", namespace=namespace, name=name,
                         body={"metadata": {"finalizers": finalizers + [LB_FINALIZER]}}, params={"patchType": "merge"})
        if key in self.provisioning:
            return
        ingress = (((service.get("status") or {}).get("loadBalancer") or {}).get("ingress")) or []
        known = cloud_of(mgr).load_balancers.get(key)
        if known is not None and ingress and ingress[0].get("ip") == known["ip"]:
            return
        self.record(mgr, service, "Normal", "EnsuringLoadBalancer", "Ensuring load balancer")
        result = cloud_of(mgr).ensure_load_balancer(key)
        if "error" in result:
            self.record(mgr, service, "Warning", "SyncLoadBalancerFailed",
                        f"Error syncing load balancer: failed to ensure load balancer: {result['error']}")
            self.queue.failed[key] = True
            return
        self.provisioning[key] = result
        self.emit_sync(mgr, key, "provision load balancer")
        self.after(mgr, max(result["ready_ms"] - mgr.now_ms(), 0), "provisioned", key)

    def timer_provisioned(self, mgr: Any, key: str) -> None:
        entry = self.provisioning.pop(key, None)
        service = mgr.get("services", key)
        if entry is None or service is None:
            return
        namespace, name = split_key(key)
        self.request(mgr, key, "patch", "services", namespace=namespace, name=name, subresource="status",
                     body={"status": {"loadBalancer": {"ingress": [{"ip": entry["ip"], "ipMode": "VIP"}]}}},
                     params={"patchType": "merge"}, tag="status_written")
        self.record(mgr, service, "Normal", "EnsuredLoadBalancer", "Ensured load balancer")

    def result_status_written(self, mgr: Any, context: dict, code: int, body: Any) -> bool | None:
        if not 200 <= code < 300 and code != 404:
            self.enqueue_after(mgr, context["key"], 5_000)
        return None

    def tear_down(self, mgr: Any, key: str, service: dict) -> None:
        namespace, name = split_key(key)
        self.provisioning.pop(key, None)
        self.record(mgr, service, "Normal", "DeletingLoadBalancer", "Deleting load balancer")
        cloud_of(mgr).delete_load_balancer(key)
        self.record(mgr, service, "Normal", "DeletedLoadBalancer", "Deleted load balancer")
        self.emit_sync(mgr, key, "delete load balancer")
        if ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress"):
            self.request(mgr, key, "patch", "services", namespace=namespace, name=name, subresource="status",
                         body={"status": {"loadBalancer": {"ingress": None}}}, params={"patchType": "merge"})
        finalizers = [f for f in service["metadata"].get("finalizers") or [] if f != LB_FINALIZER]
        if finalizers != list(service["metadata"].get("finalizers") or []):
            self.request(mgr, key, "patch", "services", namespace=namespace, name=name,
                         body={"metadata": {"finalizers": finalizers}}, params={"patchType": "merge"})


class CloudNodeLifecycleController(Controller):
    name = "cloud-node-lifecycle-controller"
    event_source = "cloud-node-lifecycle-controller"
    informers = ("nodes",)

    def __init__(self, config: dict | None = None) -> None:
        super().__init__(config)
        self.period_ms = int((config or {}).get("node_monitor_period_ms", 5_000))
        self.deleting: dict[str, bool] = {}

    def start(self, mgr: Any) -> None:
        super().start(mgr)
        self.after(mgr, self.period_ms, "monitor")

    def timer_monitor(self, mgr: Any, _data: Any) -> None:
        self.after(mgr, self.period_ms, "monitor")
        nodes = mgr.store("nodes")
        cloud = cloud_of(mgr)
        for name in sorted(nodes):
            node = nodes[name]
            if node_ready_status(node) == "True" or name in self.deleting:
                continue
            if cloud.instance_exists(name):
                continue
            self.deleting[name] = True
            self.record(mgr, node, "Normal", "DeletingNode",
                        f"Deleting node {name} because it does not exist in the cloud provider")
            mgr.emit("controller.sync", name, {"controller": self.name, "key": name, "action": "delete node", "count": 1})
            self.request(mgr, None, "delete", "nodes", name=name, tag="node_deleted", data=name)

    def result_node_deleted(self, mgr: Any, context: dict, code: int, body: Any) -> bool:
        self.deleting.pop(context["data"], None)
        return True


class CloudControllerManager(ControllerHost):
    kind = "cloud-controller-manager"
    lease_name = "cloud-controller-manager"
    shared_informers = {"services": ["services", None], "nodes": ["nodes", None]}
    controller_classes = [ServiceController, CloudNodeLifecycleController]

    def __init__(self, sim: Any, name: str, node: str | None, api_servers: list[str], config: dict | None = None):
        super().__init__(sim, name, node, api_servers, USER_AGENT, dict(DEFAULT_CONFIG, **(config or {})))
