"""Driving a whole simulated cluster from a shipped scenario and reading what a user would see.

`ScenarioRun` wraps `Cluster`: it keeps every event emitted so far, applies actions, and answers
the questions the failure tests ask (when did the node's Lease last renew, what does the
EndpointSlice list, which containers does the runtime still run). Reads go to the stored objects
(`cluster.etcd_objects()`) or to a component's own state, never through the simulated network,
so looking does not change what happens.
"""
from __future__ import annotations

from typing import Any

from cluster_sim.cluster import Cluster
from cluster_sim.engine import Event
from cluster_sim.node.runtime import RUNNING
from cluster_sim.scenario import load_scenario, parse_action, shipped_path
from cluster_sim.timefmt import parse_time_ms

SERVICE_NAME_LABEL = "kubernetes.io/service-name"


class ScenarioRun:
    """A shipped scenario running under one seed, with its whole event history."""

    def __init__(self, scenario_name: str, seed: int) -> None:
        self.scenario_name = scenario_name
        self.seed = seed
        self.cluster = Cluster.from_scenario(load_scenario(shipped_path(scenario_name)), seed)
        self.events: list[Event] = []

    def __repr__(self) -> str:
        return f"ScenarioRun({self.scenario_name!r}, seed={self.seed}, now={self.now_ms} ms)"

    # Time and actions -------------------------------------------------------------------------
    @property
    def now_ms(self) -> int:
        return self.cluster.now_ms

    def run_until(self, time_ms: int) -> list[Event]:
        emitted = self.cluster.run_until(time_ms)
        self.events.extend(emitted)
        return emitted

    def run_for(self, duration_ms: int) -> list[Event]:
        return self.run_until(self.now_ms + duration_ms)

    def act(self, action: str, target: str | None = None, **fields: Any) -> int:
        """Apply an action now and run the instant it lands; returns the time it was applied."""
        applied_ms = self.now_ms
        document = dict(fields, action=action)
        if target is not None:
            document["target"] = target
        entry = parse_action(document, self.cluster.scenario, "test", "action")
        entry.pop("at_ms")
        self.cluster.apply_action(entry)
        self.run_until(applied_ms)
        return applied_ms

    # Events -----------------------------------------------------------------------------------
    def find(self, kind: str, *, since_ms: int = 0, target: str | None = None, source: str | None = None,
             **payload: Any) -> list[Event]:
        return [event for event in self.events
                if event.kind == kind and event.time_ms >= since_ms
                and (target is None or event.target == target)
                and (source is None or event.source == source)
                and all(event.payload.get(key) == value for key, value in payload.items())]

    def first(self, kind: str, **criteria: Any) -> Event | None:
        found = self.find(kind, **criteria)
        return found[0] if found else None

    def k8s_events(self, reason: str, *, since_ms: int = 0, object_ref: str | None = None) -> list[Event]:
        return [event for event in self.find("k8s.event", since_ms=since_ms, reason=reason)
                if object_ref is None or event.payload.get("object") == object_ref]

    def action_results(self, action: str, *, since_ms: int = 0) -> list[Event]:
        return self.find("action.result", since_ms=since_ms, action=action)

    # Stored objects ---------------------------------------------------------------------------
    def objects(self, kind: str, namespace: str | None = None) -> list[dict]:
        return [item for item in self.cluster.etcd_objects()
                if item.get("kind") == kind
                and (namespace is None or item["metadata"].get("namespace") == namespace)]

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict | None:
        for item in self.objects(kind, namespace):
            if item["metadata"]["name"] == name:
                return item
        return None

    def pods(self, app: str | None = None, namespace: str = "default") -> list[dict]:
        return [pod for pod in self.objects("Pod", namespace)
                if app is None or (pod["metadata"].get("labels") or {}).get("app") == app]

    def node(self, name: str) -> dict:
        node = self.get("Node", name)
        assert node is not None, f"{self}: no Node {name}"
        return node

    def lease_renew_ms(self, node: str) -> int:
        """The virtual time of the node Lease's last stored renewal."""
        lease = self.get("Lease", node, "kube-node-lease")
        assert lease is not None, f"{self}: no Lease kube-node-lease/{node}"
        return parse_time_ms(lease["spec"]["renewTime"]) - self.cluster.sim.start_epoch_ms

    def lease_holder(self, name: str) -> str:
        lease = self.get("Lease", name, "kube-system")
        assert lease is not None, f"{self}: no Lease kube-system/{name}"
        return lease["spec"].get("holderIdentity") or ""

    def ready_endpoint_pods(self, service: str, namespace: str = "default") -> list[str]:
        """Pod names the Service's EndpointSlices list as ready (what kube-proxy routes to)."""
        names = []
        for endpoint_slice in self.objects("EndpointSlice", namespace):
            if (endpoint_slice["metadata"].get("labels") or {}).get(SERVICE_NAME_LABEL) != service:
                continue
            for endpoint in endpoint_slice.get("endpoints") or []:
                if (endpoint.get("conditions") or {}).get("ready"):
                    names.append((endpoint.get("targetRef") or {}).get("name"))
        return sorted(names)

    # Component state --------------------------------------------------------------------------
    def component(self, name: str) -> Any:
        return self.cluster.component(name)

    def running_containers(self, node: str) -> list[str]:
        """`crictl ps` on the node: "ns/pod/container" for every running container."""
        runtime = self.component(f"containerd-{node}")
        return sorted(f"{record['pod']}/{record['name']}" for record in runtime.containers.values()
                      if record["state"] == RUNNING)

    def proxy_endpoint_pods(self, node: str, service: str, namespace: str = "default") -> list[str]:
        """Pods the node's programmed iptables rules send the Service's traffic to."""
        proxy = self.component(f"kube-proxy-{node}")
        pods = []
        for rule in proxy.rules.values():
            if rule["service"] == f"{namespace}/{service}":
                pods.extend(endpoint["pod"] for endpoint in rule["endpoints"])
        return sorted(pods)


# Object reading -------------------------------------------------------------------------------
def condition(obj: dict, condition_type: str) -> dict:
    for item in (obj.get("status") or {}).get("conditions") or []:
        if item.get("type") == condition_type:
            return item
    return {}


def kubectl_node_status(node: dict) -> str:
    """The STATUS column of `kubectl get nodes`."""
    status = "Ready" if condition(node, "Ready").get("status") == "True" else "NotReady"
    if (node.get("spec") or {}).get("unschedulable"):
        status += ",SchedulingDisabled"
    return status


def taint_keys(node: dict) -> list[str]:
    """The node's taints as "key:Effect", sorted."""
    return sorted(f"{taint['key']}:{taint['effect']}" for taint in (node.get("spec") or {}).get("taints") or [])


def is_terminating(obj: dict) -> bool:
    return bool(obj["metadata"].get("deletionTimestamp"))


def pod_is_ready(pod: dict) -> bool:
    return condition(pod, "Ready").get("status") == "True"


def live_pods(pods: list[dict]) -> list[dict]:
    return [pod for pod in pods if not is_terminating(pod)]


def names(objects: list[dict]) -> list[str]:
    return sorted(item["metadata"]["name"] for item in objects)


def container_state(pod: dict, container: str | None = None) -> dict:
    """The pod's container status (the first container unless named)."""
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if container in (None, status.get("name")):
            return status
    return {}
