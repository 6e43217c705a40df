"""Talk to the simulated kube-apiserver through the learner's `kubectl` component of a whole
cluster, the way the web app's Kubernetes API front end does (raw requests), and wait, in
virtual time, for the answer.

No tests here; the test_apiserver* modules import it.
"""
from __future__ import annotations

import copy
from typing import Any

from cluster_sim.cluster import Cluster
from cluster_sim.engine import PRIORITY_ACTION, Component, Event
from cluster_sim.scenario import load_scenario, shipped_path

BOOT_MS = 30_000
STEP_MS = 1
# kubectl's raw requests give up after 30 s; wait a little longer for the timeout to land.
DEFAULT_TIMEOUT_MS = 30_000
WAIT_MARGIN_MS = 2_000


class Answer:
    """One request's outcome: status code (0 = no answer / connection error), body, the virtual
    time it took and every event emitted while waiting."""

    def __init__(self, code: int, body: Any, elapsed_ms: int, events: list[Event]):
        self.code = code
        self.body = body
        self.elapsed_ms = elapsed_ms
        self.events = events

    def __iter__(self):
        return iter((self.code, self.body))

    def __repr__(self) -> str:
        return f"Answer({self.code}, {self.body!r}, {self.elapsed_ms} ms)"


def boot(scenario: str = "basic", seed: int = 1, until_ms: int = BOOT_MS) -> Cluster:
    cluster = Cluster.from_scenario(load_scenario(shipped_path(scenario)), seed)
    cluster.run_until(until_ms)
    return cluster


def send(cluster: Cluster, verb: str, resource: str, *, namespace: str | None = None, name: str | None = None,
         body: Any = None, subresource: str | None = None, params: dict | None = None,
         timeout_ms: int = DEFAULT_TIMEOUT_MS) -> str:
    """Queue a raw request now; returns its ticket for `wait`."""
    sim = cluster.sim
    ticket = f"test-{sim.heap_seq + 1}"
    request = {"verb": verb, "resource": resource, "namespace": namespace, "name": name,
               "body": copy.deepcopy(body), "subresource": subresource, "params": dict(params or {})}
    sim.schedule(sim.now_ms, PRIORITY_ACTION, "kubectl", "raw_request",
                 {"ticket": ticket, "request": request, "timeout_ms": timeout_ms})
    return ticket


def wait(cluster: Cluster, ticket: str, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> Answer:
    """Run the cluster millisecond by millisecond until the ticket's answer is there."""
    results = cluster.sim.components["kubectl"].raw_results
    started_ms = cluster.now_ms
    events: list[Event] = []
    for _ in range((timeout_ms + WAIT_MARGIN_MS) // STEP_MS):
        events.extend(cluster.run_until(cluster.now_ms + STEP_MS))
        if ticket in results:
            answer = results.pop(ticket)
            return Answer(answer["code"], copy.deepcopy(answer["body"]), cluster.now_ms - started_ms, events)
    raise AssertionError(f"no answer to {ticket} within {timeout_ms + WAIT_MARGIN_MS} ms of virtual time")


def call(cluster: Cluster, verb: str, resource: str, **arguments: Any) -> Answer:
    """Send one request and run until it is answered. Unpacks as (code, body)."""
    timeout_ms = arguments.get("timeout_ms", DEFAULT_TIMEOUT_MS)
    ticket = send(cluster, verb, resource, **arguments)
    return wait(cluster, ticket, timeout_ms)


def settle(cluster: Cluster, duration_ms: int) -> list[Event]:
    return cluster.run_for(duration_ms)


def etcd_kv(cluster: Cluster, key: str) -> dict | None:
    """The key's live record on the etcd member with the most applied state."""
    members = [cluster.sim.components[name] for name in cluster.layout["etcd_members"]]
    best = max(members, key=lambda member: member.applied_revision())
    return best.mvcc.get(key)


def pod_manifest(name: str, **spec_fields: Any) -> dict:
    spec = {"containers": [{"name": "app", "image": "nginx:1.27"}]}
    spec.update(spec_fields)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def cause_fields(status: dict) -> list[str]:
    return [cause.get("field") for cause in (status.get("details") or {}).get("causes") or []]


class RawWatchClient(Component):
    """A test-only client on the learner's workstation that opens watches straight on one
    kube-apiserver (no informer, no relist) and records every notification it receives."""

    kind = "test-watch-client"

    def __init__(self, sim: Any, name: str, server: str):
        super().__init__(sim, name, "workstation")
        self.server = server
        self.next_id = 0
        self.responses: dict[str, dict] = {}
        # watch_id -> [[type, namespace/name, resourceVersion, object], ...]
        self.notifications: dict[str, list] = {}
        self.ended: dict[str, str] = {}

    def open(self, resource: str, namespace: str | None, params: dict) -> str:
        self.next_id += 1
        request_id = f"{self.name}/{self.next_id}"
        self.send(self.server, "api_request", {
            "id": request_id, "verb": "watch", "resource": resource, "namespace": namespace, "name": None,
            "subresource": None, "body": None, "params": dict(params, watch="true"), "user_agent": "test"})
        return request_id

    def on_api_response(self, _sender: str, body: dict) -> None:
        self.responses[body["id"]] = body

    def on_api_watch(self, _sender: str, body: dict) -> None:
        obj = body["object"]
        metadata = obj["metadata"]
        name = f"{metadata.get('namespace')}/{metadata['name']}" if metadata.get("namespace") else metadata["name"]
        self.notifications.setdefault(body["watch_id"], []).append(
            [body["type"], name, metadata["resourceVersion"], copy.deepcopy(obj)])

    def on_api_watch_end(self, _sender: str, body: dict) -> None:
        self.ended[body["watch_id"]] = body.get("reason", "")


def watch_client(cluster: Cluster, server: str = "kube-apiserver-cp-1") -> RawWatchClient:
    name = f"test-watcher-{server}"
    existing = cluster.sim.components.get(name)
    if existing is not None:
        return existing
    return cluster.sim.add(RawWatchClient(cluster.sim, name, server))


def open_watch(cluster: Cluster, resource: str, *, namespace: str | None = None, params: dict | None = None,
               server: str = "kube-apiserver-cp-1") -> Answer:
    """Open a watch; the answer's body is the watch handle ({"watch_id", "server"}) or a Status."""
    client = watch_client(cluster, server)
    request_id = client.open(resource, namespace, params or {})
    started_ms = cluster.now_ms
    for _ in range(DEFAULT_TIMEOUT_MS // STEP_MS):
        events = cluster.run_until(cluster.now_ms + STEP_MS)
        if request_id in client.responses:
            answer = client.responses.pop(request_id)
            return Answer(answer["code"], copy.deepcopy(answer["body"]), cluster.now_ms - started_ms, events)
    raise AssertionError(f"no answer to watch {request_id}")


def notifications(cluster: Cluster, watch_id: str, server: str = "kube-apiserver-cp-1") -> list:
    """[[type, namespace/name, resourceVersion, object], ...] the watch delivered so far."""
    return watch_client(cluster, server).notifications.get(watch_id, [])
