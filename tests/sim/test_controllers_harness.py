"""A hand-built cluster for controller tests: one etcd member, one kube-apiserver, the
kube-controller-manager (and optionally the cloud-controller-manager), plus test-only stand-ins
for kubelets (register the Node, renew the Lease, run pods at once) and for the scheduler.

No tests here; the test_controllers_* modules import it.
"""
from __future__ import annotations

import copy
from typing import Any

from cluster_sim.apiserver.server import KubeApiServer
from cluster_sim.client import ApiComponent
from cluster_sim.cloud import CloudProvider
from cluster_sim.controllers.cloud import CloudControllerManager
from cluster_sim.controllers.manager import KubeControllerManager
from cluster_sim.engine import Simulation
from cluster_sim.etcd.member import EtcdMember
from cluster_sim.network import Network

API = ["kube-apiserver-cp-1"]
LEASE_RENEW_MS = 10_000
MAX_WAIT_STEPS = 200_000


class ApiStandIn(ApiComponent):
    def attach(self, sim: Simulation) -> None:
        super().attach(sim)
        self.api.owner = self


class Driver(ApiStandIn):
    """The test's own API client (like kubectl)."""

    def __init__(self, sim: Simulation) -> None:
        super().__init__(sim, "driver", "workstation", API, "kubectl/v1.33.0")
        self.results: dict[str, list] = {}
        self.next_id = 0

    def call(self, verb: str, resource: str, **kwargs: Any) -> str:
        self.next_id += 1
        request_id = str(self.next_id)
        self.api.request(verb, resource, context={"rid": request_id}, **kwargs)
        return request_id

    def on_request_result(self, context: dict, code: int, body: Any) -> None:
        # Objects are shared with the apiserver's cache: the test gets its own copy to edit.
        self.results[context["rid"]] = [code, copy.deepcopy(body)]


class FakeKubelet(ApiStandIn):
    """Registers its Node, renews its Lease every 10 s, runs its pods at once (Ready, with an
    IP) and confirms deletions. `stop()` is a dead kubelet."""

    def __init__(self, sim: Simulation, node: str, index: int, zone: str = "zone-a") -> None:
        super().__init__(sim, f"kubelet-{node}", node, API, f"kubelet/v1.33.0 ({node})")
        self.node_name = node
        self.index = index
        self.zone = zone
        self.next_ip = 2
        self.node_uid = ""
        self.after(0, "register", None)

    def on_register(self, _payload: Any) -> None:
        now = self.now_text()
        conditions = [{"type": t, "status": "False", "reason": f"KubeletHasSufficient{t}", "message": "",
                       "lastHeartbeatTime": now, "lastTransitionTime": now}
                      for t in ("MemoryPressure", "DiskPressure", "PIDPressure")]
        conditions.append({"type": "Ready", "status": "True", "reason": "KubeletReady",
                           "message": "kubelet is posting ready status", "lastHeartbeatTime": now,
                           "lastTransitionTime": now})
        node = {"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": self.node_name, "labels": {"kubernetes.io/hostname": self.node_name,
                                                                "topology.kubernetes.io/zone": self.zone}},
                "spec": {}, "status": {"conditions": conditions,
                                        "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"}}}
        self.api.request("create", "nodes", body=node, context={"step": "registered"})

    def on_start(self) -> None:
        """A restarted kubelet finds its Node, posts Ready again and resumes its Lease."""
        self.api.informers.clear()
        self.api.request("get", "nodes", name=self.node_name, context={"step": "resume"})

    def ready_status(self, node: dict) -> dict:
        now = self.now_text()
        conditions = []
        for condition in (node.get("status") or {}).get("conditions") or []:
            healthy = "True" if condition["type"] == "Ready" else "False"
            changed = condition.get("status") != healthy
            conditions.append(dict(condition, status=healthy, lastHeartbeatTime=now,
                                   reason="KubeletReady" if healthy == "True" else condition.get("reason"),
                                   lastTransitionTime=now if changed else condition.get("lastTransitionTime")))
        return dict(node.get("status") or {}, conditions=conditions)

    def on_request_result(self, context: dict, code: int, body: Any) -> None:
        step = context.get("step")
        if step == "resume" and code == 200:
            self.api.request("update", "nodes", name=self.node_name, subresource="status",
                             body=dict(body, status=self.ready_status(body)), context={"step": "status"})
            self.api.add_informer("pods", "pods", field_selector=f"spec.nodeName={self.node_name}")
            self.api.start_informers()
            self.on_renew(None)
        elif step == "registered":
            if code == 201:
                self.node_uid = body["metadata"]["uid"]
                self.api.request("update", "nodes", name=self.node_name, subresource="status",
                                 body=dict(body, status=dict(body["status"])), context={"step": "status"})
                self.api.add_informer("pods", "pods", field_selector=f"spec.nodeName={self.node_name}")
                self.api.start_informers()
                self.on_renew(None)
            else:
                self.after(1_000, "register", None)
        elif step == "lease_get":
            self.write_lease(code, body)

    def on_renew(self, _payload: Any) -> None:
        self.api.request("get", "leases", namespace="kube-node-lease", name=self.node_name,
                         context={"step": "lease_get"})
        self.after(LEASE_RENEW_MS, "renew", None)

    def write_lease(self, code: int, current: Any) -> None:
        spec = {"holderIdentity": self.node_name, "leaseDurationSeconds": 40, "renewTime": self.now_micro_text()}
        metadata = {"name": self.node_name, "namespace": "kube-node-lease",
                    "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": self.node_name,
                                         "uid": self.node_uid}]}
        if code == 404:
            self.api.request("create", "leases", namespace="kube-node-lease",
                             body={"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": metadata,
                                   "spec": spec}, context={"step": "lease"})
        elif code == 200:
            self.api.request("update", "leases", namespace="kube-node-lease", name=self.node_name,
                             body=dict(current, spec=spec), context={"step": "lease"})

    def on_informer_event(self, informer: str, event_type: str, obj: dict, old: dict | None) -> None:
        if event_type == "DELETED":
            return
        metadata = obj["metadata"]
        if metadata.get("deletionTimestamp"):
            self.api.request("delete", "pods", namespace=metadata["namespace"], name=metadata["name"],
                             params={"gracePeriodSeconds": 0}, context={"step": "confirm"})
            return
        if (obj.get("status") or {}).get("phase") == "Running":
            return
        self.next_ip += 1
        now = self.now_text()
        status = {"phase": "Running", "podIP": f"10.244.{self.index}.{self.next_ip}",
                  "hostIP": f"192.168.0.{10 + self.index}", "startTime": now,
                  "conditions": [{"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": now}
                                 for t in ("PodScheduled", "Initialized", "ContainersReady", "Ready")],
                  "containerStatuses": [{"name": c["name"], "ready": True, "restartCount": 0,
                                         "state": {"running": {"startedAt": now}}}
                                        for c in obj["spec"].get("containers") or []]}
        self.api.request("patch", "pods", namespace=metadata["namespace"], name=metadata["name"],
                         subresource="status", body={"status": status}, params={"patchType": "merge"},
                         context={"step": "run"})


class FakeScheduler(ApiStandIn):
    """Binds pending pods: DaemonSet pods to their matchFields node, others round-robin over
    nodes without untolerated NoSchedule/NoExecute taints."""

    def __init__(self, sim: Simulation) -> None:
        super().__init__(sim, "scheduler", "cp-1", API, "kube-scheduler/v1.33.0")
        self.turn = 0
        self.api.add_informer("pods", "pods")
        self.api.add_informer("nodes", "nodes")
        self.after(0, "begin", None)

    def on_begin(self, _payload: Any) -> None:
        self.api.start_informers()

    def on_informer_event(self, informer: str, event_type: str, obj: dict, old: dict | None) -> None:
        if informer != "pods" or event_type == "DELETED" or obj["spec"].get("nodeName"):
            return
        if obj["metadata"].get("deletionTimestamp"):
            return
        target = self.pick(obj)
        if target:
            self.api.request("create", "pods", namespace=obj["metadata"]["namespace"], name=obj["metadata"]["name"],
                             subresource="binding", body={"target": {"kind": "Node", "name": target}})

    def pick(self, pod: dict) -> str | None:
        from cluster_sim.controllers.daemonset import target_node
        from cluster_sim.controllers.helpers import tolerated
        wanted = target_node(pod)
        if wanted:
            return wanted
        nodes = self.api.informers["nodes"].store
        tolerations = pod["spec"].get("tolerations") or []
        fits = [name for name in sorted(nodes)
                if all(tolerated(tolerations, t) for t in (nodes[name].get("spec") or {}).get("taints") or []
                       if t.get("effect") in ("NoSchedule", "NoExecute"))]
        if not fits:
            return None
        self.turn += 1
        return fits[self.turn % len(fits)]


class Harness:
    def __init__(self, seed: int = 1, workers: list | None = None, zones: dict | None = None,
                 config: dict | None = None, cloud: bool = False, scheduler: bool = True) -> None:
        self.sim = Simulation(seed, start_epoch_ms=1_750_000_000_000)
        Network(self.sim)
        self.sim.add(EtcdMember(self.sim, "etcd-cp-1", "cp-1", ["etcd-cp-1"]))
        self.sim.add(KubeApiServer(self.sim, "kube-apiserver-cp-1", "cp-1", ["etcd-cp-1"]))
        self.driver = self.sim.add(Driver(self.sim))
        self.run_for(3_000)
        for namespace in ("default", "kube-system", "kube-node-lease"):
            self.api("create", "namespaces", body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        workers = workers if workers is not None else ["node-1", "node-2", "node-3"]
        zones = zones or {}
        self.kubelets = {}
        for index, name in enumerate(workers):
            self.kubelets[name] = self.sim.add(FakeKubelet(self.sim, name, index + 1, zones.get(name, "zone-a")))
        if scheduler:
            self.sim.add(FakeScheduler(self.sim))
        self.kcm = self.sim.add(KubeControllerManager(self.sim, "kube-controller-manager-cp-1", "cp-1", API, config or {}))
        if cloud:
            self.cloud = self.sim.add(CloudProvider(self.sim, {name: {"exists": True} for name in ["cp-1"] + workers}))
            self.ccm = self.sim.add(CloudControllerManager(self.sim, "cloud-controller-manager-cp-1", "cp-1", API, {}))
        self.run_for(5_000)

    # Running -----------------------------------------------------------------------------------
    def run_for(self, duration_ms: int) -> list:
        return self.run_until(self.sim.now_ms + duration_ms)

    def run_until(self, time_ms: int) -> list:
        self.sim.run_until(time_ms)
        events = self.sim.drain_events()
        self.events.extend(events)
        return events

    @property
    def events(self) -> list:
        if not hasattr(self, "collected_events"):
            self.collected_events = []
        return self.collected_events

    def api(self, verb: str, resource: str, **kwargs: Any) -> list:
        request_id = self.driver.call(verb, resource, **kwargs)
        for _ in range(MAX_WAIT_STEPS):
            if request_id in self.driver.results:
                self.events.extend(self.sim.drain_events())
                return self.driver.results.pop(request_id)
            if not self.sim.step():
                break
        raise AssertionError(f"no answer to {verb} {resource}")

    # Reading state -------------------------------------------------------------------------------
    def list(self, resource: str, namespace: str | None = "default") -> list:
        code, body = self.api("list", resource, namespace=namespace)
        assert code == 200, body
        return body["items"]

    def get(self, resource: str, name: str, namespace: str | None = "default") -> dict | None:
        code, body = self.api("get", resource, namespace=namespace, name=name)
        return body if code == 200 else None

    def pods(self, namespace: str = "default", *, include_terminating: bool = True) -> list:
        pods = self.list("pods", namespace)
        if not include_terminating:
            pods = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        return pods

    def k8s_events(self, reason: str | None = None) -> list:
        found = [e for e in self.events if e.kind == "k8s.event"]
        return [e for e in found if reason is None or e.payload["reason"] == reason]

    def stream(self, kind: str) -> list:
        return [e for e in self.events if e.kind == kind]

    # Objects -------------------------------------------------------------------------------------
    def create(self, resource: str, obj: dict, namespace: str | None = "default") -> dict:
        code, body = self.api("create", resource, namespace=namespace, body=obj)
        assert code == 201, body
        return body


def deployment(name: str, replicas: int, image: str = "nginx:1.27", **spec: Any) -> dict:
    labels = {"app": name}
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "main", "image": image,
                                                           "ports": [{"containerPort": 80, "name": "http"}]}]}}}}
    body["spec"].update(spec)
    return body


def replicaset(name: str, replicas: int) -> dict:
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]}}}}


def service(name: str, selector: dict, service_type: str = "ClusterIP") -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"type": service_type, "selector": selector,
                     "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}
