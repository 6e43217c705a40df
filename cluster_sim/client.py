"""How simulated components talk to kube-apiserver: requests, responses, informers (list + watch).

This plays client-go's part. A component owns one `ApiClient` (attribute `api`) and implements
`on_api_result(context, code, body)` for answers to requests it made and
`on_informer_event(resource, event_type, obj, old)` for changes its informers see.
The client picks a running kube-apiserver the way a load balancer with health checks would;
a process that is down refuses the connection at once, a machine that is down or cut off makes the
request time out.
"""
from __future__ import annotations

from typing import Any

from .engine import PRIORITY_TIMER, Component
from .leaderelection import CONTEXT_KEY as ELECTION_CONTEXT_KEY
from .leaderelection import LeaderElector
from .recorder import CONTEXT_KEY as RECORDER_CONTEXT_KEY

REQUEST_TIMEOUT_MS = 10_000
REFUSED_ERROR = "connection refused"
TIMEOUT_ERROR = "timeout"
# client-go's HTTP/2 health check: ping after 30 s without traffic, give up 15 s later.
WATCH_HEALTH_CHECK_MS = 30_000
WATCH_PING_TIMEOUT_MS = 15_000
RELIST_BACKOFF_MS = 1_000


def object_key(obj: dict) -> str:
    metadata = obj["metadata"]
    namespace = metadata.get("namespace")
    return f"{namespace}/{metadata['name']}" if namespace else metadata["name"]


class Informer:
    """A reflector and its store for one resource (optionally one namespace or field selector)."""

    def __init__(self, resource: str, namespace: str | None = None, field_selector: str | None = None):
        self.resource = resource
        self.namespace = namespace
        self.field_selector = field_selector
        self.store: dict[str, dict] = {}
        self.resource_version = "0"
        self.watch_id: str | None = None
        self.synced = False

    def params(self) -> dict:
        params = {}
        if self.field_selector:
            params["fieldSelector"] = self.field_selector
        return params


class ApiClient:
    """Owned by a component; all state is plain data so it snapshots with its owner."""

    TRANSIENT = ("owner",)

    def __init__(self, owner: Component, api_servers: list[str], user_agent: str):
        self.owner = owner
        self.owner_name = owner.name
        self.api_servers = api_servers
        self.current_index = 0
        self.user_agent = user_agent
        self.next_request_id = 0
        self.pending: dict[str, dict] = {}
        self.informers: dict[str, Informer] = {}
        self.watch_server: dict[str, str] = {}
        self.last_heard_ms = 0
        self.health_check_armed = False

    def attach(self, sim: Any) -> None:
        # The owner re-attaches us after a restore (see Component subclasses' attach()).
        pass

    # Choosing a server -------------------------------------------------------------------
    def _pick_server(self) -> str:
        """First healthy, reachable apiserver starting at the current one, as a load balancer
        that probes /readyz would choose (a client with one server has no choice)."""
        count = len(self.api_servers)
        if count == 1:
            return self.api_servers[0]  # what the loop below comes to, without its checks
        sim = self.owner.sim
        for offset in range(count):
            name = self.api_servers[(self.current_index + offset) % count]
            server = sim.components[name]
            if server.running and sim.network.reachable(self.owner.node, server.node) and \
                    (count == 1 or _etcd_reachable(sim, server)):
                self.current_index = (self.current_index + offset) % count
                return name
        return self.api_servers[self.current_index % count]

    # Requests ---------------------------------------------------------------------------
    def request(self, verb: str, resource: str, *, namespace: str | None = None, name: str | None = None,
                body: dict | None = None, subresource: str | None = None, params: dict | None = None,
                context: dict | None = None, timeout_ms: int = REQUEST_TIMEOUT_MS) -> str:
        self.next_request_id += 1
        request_id = f"{self.owner_name}/{self.next_request_id}"
        message = {"id": request_id, "verb": verb, "resource": resource, "namespace": namespace,
                   "name": name, "subresource": subresource, "body": body, "params": params or {},
                   "user_agent": self.user_agent}
        self.pending[request_id] = {"context": context or {}, "verb": verb}
        self._dispatch(message, timeout_ms)
        return request_id

    def _dispatch(self, message: dict, timeout_ms: int) -> None:
        owner = self.owner
        server_name = self._pick_server()
        server = owner.sim.components[server_name]
        network = owner.sim.network
        if not network.reachable(owner.node, server.node):
            owner.after(timeout_ms, "api_client_timeout", {"id": message["id"], "server": server_name})
            return
        if not server.running:
            # The machine answers with a TCP reset: the caller learns at once.
            owner.after(2 * network.latency_ms, "api_client_timeout",
                        {"id": message["id"], "server": server_name, "refused": True})
            return
        owner.send(server_name, "api_request", message)
        owner.after(timeout_ms, "api_client_timeout", {"id": message["id"], "server": server_name})

    def handle_response(self, body: dict) -> None:
        pending = self.pending.pop(body["id"], None)
        self.last_heard_ms = self.owner.sim.now_ms
        if pending is None:
            return
        if pending["verb"] == "watch" and "informer" in pending["context"]:
            self._watch_established(pending["context"], body)
            return
        self.owner.on_api_result(pending["context"], body["code"], body["body"])

    def handle_timeout(self, payload: dict) -> None:
        pending = self.pending.pop(payload["id"], None)
        if pending is None:
            return
        refused = payload.get("refused", False)
        self.current_index = (self.current_index + 1) % len(self.api_servers)
        server = self.owner.sim.components[payload["server"]]
        error = _connection_error(getattr(server, "advertise_address", payload["server"]), refused)
        if pending["verb"] == "watch" and "informer" in pending["context"]:
            self._watch_failed(pending["context"]["informer"])
            return
        self.owner.on_api_result(pending["context"], 0, error)

    # Informers --------------------------------------------------------------------------
    def add_informer(self, key: str, resource: str, namespace: str | None = None,
                     field_selector: str | None = None) -> Informer:
        informer = Informer(resource, namespace, field_selector)
        self.informers[key] = informer
        return informer

    def start_informers(self) -> None:
        for key in self.informers:
            self._list(key)
        self._arm_health_check()

    def stop_informers(self) -> None:
        for informer in self.informers.values():
            informer.watch_id = None
            informer.synced = False
        self.pending.clear()
        self.health_check_armed = False

    def all_synced(self) -> bool:
        return all(informer.synced for informer in self.informers.values())

    def _list(self, key: str) -> None:
        informer = self.informers[key]
        params = dict(informer.params(), resourceVersion="0")
        self.request("list", informer.resource, namespace=informer.namespace, params=params,
                     context={"informer": key, "__informer_list__": True})

    def handle_list_result(self, context: dict, code: int, body: dict) -> bool:
        """Returns True when the result belonged to an informer (and was consumed here)."""
        if not context.get("__informer_list__"):
            return False
        key = context["informer"]
        informer = self.informers.get(key)
        if informer is None:
            return True
        if code != 200:
            self.owner.after(RELIST_BACKOFF_MS, "api_client_relist", {"informer": key})
            return True
        self._replace_store(key, informer, body)
        self._watch(key)
        return True

    def _replace_store(self, key: str, informer: Informer, body: dict) -> None:
        fresh = {object_key(item): item for item in body["items"]}
        previous = informer.store
        informer.store = fresh
        informer.resource_version = body["metadata"]["resourceVersion"]
        informer.synced = True
        for object_name, obj in fresh.items():
            old = previous.get(object_name)
            if old is None:
                self.owner.on_informer_event(key, "ADDED", obj, None)
            elif old["metadata"]["resourceVersion"] != obj["metadata"]["resourceVersion"]:
                self.owner.on_informer_event(key, "MODIFIED", obj, old)
        for object_name, old in previous.items():
            if object_name not in fresh:
                self.owner.on_informer_event(key, "DELETED", old, old)

    def _watch(self, key: str) -> None:
        informer = self.informers[key]
        params = dict(informer.params(), resourceVersion=informer.resource_version, watch="true")
        self.request("watch", informer.resource, namespace=informer.namespace, params=params,
                     context={"informer": key})

    def _watch_established(self, context: dict, body: dict) -> None:
        key = context["informer"]
        informer = self.informers.get(key)
        if informer is None:
            return
        if body["code"] != 200:
            self._watch_failed(key)
            return
        informer.watch_id = body["body"]["watch_id"]
        self.watch_server[informer.watch_id] = body["body"]["server"]

    def _watch_failed(self, key: str) -> None:
        informer = self.informers.get(key)
        if informer is None:
            return
        if informer.watch_id:
            self.watch_server.pop(informer.watch_id, None)
        informer.watch_id = None
        self.owner.after(RELIST_BACKOFF_MS, "api_client_relist", {"informer": key})

    def handle_watch_event(self, body: dict) -> None:
        self.last_heard_ms = self.owner.sim.now_ms
        key = self._informer_for_watch(body["watch_id"])
        if key is None:
            self.owner.on_unclaimed_watch_event(body)
            return
        informer = self.informers[key]
        obj = body["object"]
        informer.resource_version = obj["metadata"]["resourceVersion"]
        object_name = object_key(obj)
        old = informer.store.get(object_name)
        if body["type"] == "DELETED":
            informer.store.pop(object_name, None)
        else:
            informer.store[object_name] = obj
        event_type = body["type"]
        if event_type == "MODIFIED" and old is None:
            event_type = "ADDED"
        self.owner.on_informer_event(key, event_type, obj, old)

    def handle_watch_end(self, body: dict) -> None:
        key = self._informer_for_watch(body["watch_id"])
        if key is not None:
            self._watch_failed(key)
        else:
            self.owner.on_unclaimed_watch_event(dict(body, type="END"))

    def _informer_for_watch(self, watch_id: str) -> str | None:
        for key, informer in self.informers.items():
            if informer.watch_id == watch_id:
                return key
        return None

    # Health check of watch connections ---------------------------------------------------
    def _arm_health_check(self) -> None:
        if not self.health_check_armed and self.informers:
            self.health_check_armed = True
            self.owner.after(WATCH_HEALTH_CHECK_MS, "api_client_health_check", None)

    def health_check(self) -> None:
        """An idle watch connection is pinged; a dead one is given up so informers relist."""
        self.health_check_armed = False
        owner = self.owner
        servers = sorted(set(self.watch_server.values()))
        for server_name in servers:
            server = owner.sim.components[server_name]
            if not (server.running and owner.sim.network.reachable(owner.node, server.node)):
                owner.after(WATCH_PING_TIMEOUT_MS, "api_client_watch_lost", {"server": server_name})
        self._arm_health_check()

    def watch_lost(self, server_name: str) -> None:
        owner = self.owner
        server = owner.sim.components[server_name]
        if server.running and owner.sim.network.reachable(owner.node, server.node):
            return
        for key, informer in self.informers.items():
            if informer.watch_id and self.watch_server.get(informer.watch_id) == server_name:
                self._watch_failed(key)
        self.current_index = (self.current_index + 1) % len(self.api_servers)


def _etcd_reachable(sim: Any, server: Any) -> bool:
    """kube-apiserver's /readyz fails while none of its etcd endpoints answers."""
    for endpoint_name in getattr(server, "etcd_endpoints", ()):
        endpoint = sim.components[endpoint_name]
        if endpoint.running and sim.network.reachable(server.node, endpoint.node):
            return True
    return not getattr(server, "etcd_endpoints", None)


def _connection_error(address: str, refused: bool) -> dict:
    """What Go's net/http reports: a reset from a host whose apiserver is down, or no answer at all."""
    if refused:
        message = f"dial tcp {address}:6443: connect: connection refused"
    else:
        message = f"dial tcp {address}:6443: i/o timeout"
    return {"error": REFUSED_ERROR if refused else TIMEOUT_ERROR, "message": message, "address": f"{address}:6443"}


class ApiComponent(Component):
    """A component that talks to kube-apiserver through an ApiClient held in ``self.api``."""

    def __init__(self, sim: Any, name: str, node: str | None, api_servers: list[str], user_agent: str):
        super().__init__(sim, name, node)
        self.api = ApiClient(self, api_servers, user_agent)
        self.elector: LeaderElector | None = None

    def attach(self, sim: Any) -> None:
        super().attach(sim)
        self.api.owner = self

    # Leader election (kube-scheduler, kube-controller-manager, cloud-controller-manager) ---
    def start_leader_election(self, lease_name: str) -> None:
        identity = f"{self.node}_{random_uid(self.rng)}"
        self.elector = LeaderElector(lease_name, identity)
        self.after(0, "leader_election_tick", None)

    def on_leader_election_tick(self, _payload: Any) -> None:
        if self.elector is None:
            return
        self.elector.tick(self)
        if self.elector is None or not self.running:
            return  # leadership was lost and the process exited
        self.after(self.elector.next_delay_ms(self), "leader_election_tick", None)

    def on_started_leading(self) -> None:
        pass

    def on_stopped_leading(self) -> None:
        """client-go's OnStoppedLeading: the real binaries exit here; the kubelet restarts them."""
        self.stop()
        kubelet = f"kubelet-{self.node}"
        if kubelet in self.sim.components:
            self.sim.schedule(self.sim.now_ms, PRIORITY_TIMER, kubelet, "static_pod_exited",
                              {"component": self.name, "reason": "leaderelection lost"})

    # Messages from kube-apiserver ------------------------------------------------------
    def on_api_response(self, _sender: str, body: dict) -> None:
        self.api.handle_response(body)

    def on_api_watch(self, _sender: str, body: dict) -> None:
        self.api.handle_watch_event(body)

    def on_api_watch_end(self, _sender: str, body: dict) -> None:
        self.api.handle_watch_end(body)

    # Client timers ----------------------------------------------------------------------
    def on_api_client_timeout(self, payload: dict) -> None:
        self.api.handle_timeout(payload)

    def on_api_client_relist(self, payload: dict) -> None:
        if payload["informer"] in self.api.informers:
            self.api._list(payload["informer"])

    def on_api_client_health_check(self, _payload: Any) -> None:
        self.api.health_check()

    def on_api_client_watch_lost(self, payload: dict) -> None:
        self.api.watch_lost(payload["server"])

    # Hooks for subclasses ---------------------------------------------------------------
    def on_api_result(self, context: dict, code: int, body: Any) -> None:
        if context.get(RECORDER_CONTEXT_KEY):
            return
        if context.get(ELECTION_CONTEXT_KEY):
            if self.elector is not None:
                self.elector.handle_result(self, context, code, body)
            return
        if self.api.handle_list_result(context, code, body):
            if self.api.all_synced():
                self.on_informers_synced()
            return
        self.on_request_result(context, code, body)

    def on_informers_synced(self) -> None:
        pass

    def on_request_result(self, context: dict, code: int, body: Any) -> None:
        pass

    def on_informer_event(self, informer: str, event_type: str, obj: dict, old: dict | None) -> None:
        pass

    def on_unclaimed_watch_event(self, body: dict) -> None:
        """A watch notification for a watch no informer owns (the raw watches of Kubectl)."""

    def on_stop(self) -> None:
        self.api.stop_informers()


def random_uid(rng: Any) -> str:
    value = rng.getrandbits(128)
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-{'89ab'[int(text[16], 16) % 4]}{text[17:20]}-{text[20:32]}"
