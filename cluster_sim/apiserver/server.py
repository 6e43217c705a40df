"""kube-apiserver: the only component that talks to etcd; every other one talks to it.

Writes go to etcd as compare-and-swap transactions (optimistic concurrency: the object's
resourceVersion is the etcd mod_revision it was read at). Reads with resourceVersion "0" and
watches are served from the watch cache, which is fed by one etcd watch; reads without a
resourceVersion are linearizable etcd reads, so they fail when etcd has no quorum.
"""
from __future__ import annotations

import base64
import json
from typing import Any

from ..engine import Component
from ..timefmt import format_time
from . import admission, conversion, defaults, kinds, validation
from .patch import PatchError, json_patch, merge_patch
from .selectors import SelectorError, fields_match, labels_match, parse_field_selector, parse_label_selector
from ..jsontree import copy_tree

ETCD_TIMEOUT_ERROR = "etcdserver: request timed out"
ETCD_REQUEST_TIMEOUT_MS = 7_000
# The watch cache keeps a window of recent events per resource (staging/.../cacher/watch_cache.go):
# 100 events at first, doubled while the oldest one is younger than 75 s, up to 100 x 1024,
# halved again when a quarter of the window is older than that.
WATCH_CACHE_LOWER_CAPACITY = 100
WATCH_CACHE_UPPER_CAPACITY = 100 * 1024
WATCH_CACHE_FRESH_MS = 75_000
COMPACTION_INTERVAL_MS = 5 * 60_000
ETCD_WATCH_CHECK_MS = 1_000
MAX_CONFLICT_RETRIES = 3
GENERATION_RESOURCES = ("deployments", "replicasets", "daemonsets", "statefulsets")
SERVICE_CIDR_SIZE = 1 << 20
SYSTEM_OBJECTS_RETRY_MS = 1_000
BINDING_SUCCESS = {"binding": "success"}


def with_resource_version(obj: dict, revision: int) -> dict:
    stored = dict(obj)
    stored["metadata"] = dict(obj["metadata"], resourceVersion=str(revision))
    return stored


def without_resource_version(obj: dict) -> dict:
    bare = dict(obj)
    metadata = dict(obj.get("metadata") or {})
    metadata.pop("resourceVersion", None)
    bare["metadata"] = metadata
    return bare


class KubeApiServer(Component):
    kind = "kube-apiserver"
    # watch_index: self.watchers grouped by resource, rebuilt from them when needed.
    TRANSIENT = Component.TRANSIENT + ("watch_index",)
    # Snapshots taken before the cap existed restore with the default.
    max_pods = admission.DEFAULT_CLUSTER_MAX_PODS

    def __init__(self, sim: Any, name: str, node: str, etcd_endpoints: list[str],
                 max_pods: int = admission.DEFAULT_CLUSTER_MAX_PODS):
        super().__init__(sim, name, node)
        self.etcd_endpoints = etcd_endpoints
        self.max_pods = max_pods
        self.etcd_index = 0
        self._reset_volatile()
        self.after(0, "boot", None)

    def _reset_volatile(self) -> None:
        self.ready = False
        self.cache: dict[str, dict[str, dict]] = {}
        self.cache_revision = 0
        # resource -> {"events": [[revision, type, obj, old, record_ms]], "capacity", "floor"}:
        # the window can replay every change after "floor" (the revision the cache was listed
        # at, later the last event it evicted).
        self.history: dict[str, dict] = {}
        self.list_revision = 0
        self.next_etcd_id = 0
        self.pending_etcd: dict[str, dict] = {}
        self.watchers: dict[str, dict] = {}
        self.watch_index: dict[str, list] | None = None
        self.next_watch_id = 0
        self.etcd_watch_id: str | None = None
        self.etcd_watch_epoch = 0
        self.last_compaction_revision = 0
        # Revisions of pods this server wrote that its watch cache has not seen yet (pods per cluster).
        self.pod_write_revisions: list[int] = []

    # Lifecycle --------------------------------------------------------------------------
    def on_stop(self) -> None:
        for watch_id, watcher in self.watchers.items():
            # The process is gone: the kernel resets its connections.
            self.send(watcher["client"], "api_watch_end", {"watch_id": watch_id, "reason": "connection reset"})
        self._reset_volatile()

    def on_start(self) -> None:
        self.after(0, "boot", None)

    def on_boot(self, _payload: Any) -> None:
        self.emit("apiserver.starting", self.etcd_endpoint(), {})
        self.etcd_request({"op": "range", "prefix": "/registry/"}, {"phase": "cache_list"})
        self.after(ETCD_WATCH_CHECK_MS, "etcd_watch_check", None)
        self.after(COMPACTION_INTERVAL_MS, "compaction", None)

    # etcd client ------------------------------------------------------------------------
    def etcd_endpoint(self) -> str:
        return self.etcd_endpoints[self.etcd_index % len(self.etcd_endpoints)]

    def etcd_request(self, body: dict, continuation: dict) -> None:
        self.next_etcd_id += 1
        request_id = self.next_etcd_id
        body = dict(body, id=request_id)
        endpoint = self.etcd_endpoint()
        self.pending_etcd[str(request_id)] = continuation
        self.send(endpoint, "etcd_request", body)
        self.after(ETCD_REQUEST_TIMEOUT_MS + 500, "etcd_client_timeout", {"id": request_id})

    def on_etcd_client_timeout(self, payload: dict) -> None:
        continuation = self.pending_etcd.pop(str(payload["id"]), None)
        if continuation is None:
            return
        if len(self.etcd_endpoints) > 1:
            self.etcd_index += 1
        self.continue_after_etcd(continuation, {"ok": False, "error": ETCD_TIMEOUT_ERROR})

    def on_etcd_response(self, _sender: str, body: dict) -> None:
        continuation = self.pending_etcd.pop(str(body["id"]), None)
        if continuation is not None:
            self.continue_after_etcd(continuation, body)

    def continue_after_etcd(self, continuation: dict, response: dict) -> None:
        handler = getattr(self, "after_" + continuation["phase"])
        if "request" not in continuation:
            handler(continuation, response)
            return
        if is_pod_create(continuation) and response.get("ok") and response.get("succeeded"):
            self.note_pod_written(response["kv"]["mod_revision"])
        try:
            handler(continuation, response)
        except Exception as error:  # noqa: BLE001  (see answer_failure)
            self.answer_failure(continuation["client"], continuation["request"], error)

    # Watch cache ------------------------------------------------------------------------
    def after_cache_list(self, _continuation: dict, response: dict) -> None:
        if not response.get("ok"):
            self.after(ETCD_WATCH_CHECK_MS, "boot_retry", None)
            return
        self.cache = {}
        for kv in response["kvs"]:
            resource_name = kinds.resource_for_key(kv["key"])
            if resource_name is not None:
                self.cache.setdefault(resource_name, {})[kv["key"]] = with_resource_version(kv["value"], kv["mod_revision"])
        self.cache_revision = response["revision"]
        self.history = {}
        self.list_revision = self.cache_revision
        self.start_etcd_watch()

    def on_boot_retry(self, _payload: Any) -> None:
        self.etcd_request({"op": "range", "prefix": "/registry/"}, {"phase": "cache_list"})

    def start_etcd_watch(self) -> None:
        self.next_watch_id += 1
        self.etcd_watch_id = f"{self.name}/cache/{self.next_watch_id}"
        self.etcd_watch_epoch = self.sim.components[self.etcd_endpoint()].epoch
        self.next_etcd_id += 1
        # A watch gets no reply, only notifications (or a cancellation when compacted).
        self.send(self.etcd_endpoint(), "etcd_request", {
            "id": self.next_etcd_id, "op": "watch", "watch_id": self.etcd_watch_id, "prefix": "/registry/",
            "start_revision": self.cache_revision + 1})
        if not self.ready:
            self.ready = True
            self.emit("apiserver.ready", self.name, {"revision": self.cache_revision})
            self.ensure_system_objects()

    def ensure_system_objects(self) -> None:
        """What the apiserver's own bootstrap controllers create: system namespaces, the
        `kubernetes` Service and the system priority classes."""
        missing = 0
        for manifest in system_objects():
            info = kinds.resource_for_kind(manifest["apiVersion"], manifest["kind"])
            if self.cached(info, manifest["metadata"].get("namespace"), manifest["metadata"]["name"]) is not None:
                continue
            missing += 1
            request = {"id": f"{self.name}/bootstrap/{manifest['kind']}/{manifest['metadata']['name']}", "verb": "create",
                       "resource": info.plural, "namespace": manifest["metadata"].get("namespace"),
                       "name": None, "body": manifest, "params": {}, "user_agent": self.name}
            self.handle_create(self.name, request, info)
        if missing:
            self.after(SYSTEM_OBJECTS_RETRY_MS, "system_objects", None)

    def on_system_objects(self, _payload: Any) -> None:
        if self.ready:
            self.ensure_system_objects()

    def on_api_response(self, _sender: str, _body: dict) -> None:
        """Answers to the apiserver's own bootstrap writes need no follow-up."""

    def on_etcd_watch_check(self, _payload: Any) -> None:
        """The etcd client notices a broken watch stream (member gone) and re-establishes it."""
        self.after(ETCD_WATCH_CHECK_MS, "etcd_watch_check", None)
        endpoint = self.sim.components[self.etcd_endpoint()]
        alive = endpoint.running and self.sim.network.reachable(self.node, endpoint.node)
        if alive and self.etcd_watch_id is not None and endpoint.epoch != self.etcd_watch_epoch:
            # The member restarted since the watch began: its stream is gone with the old process.
            self.etcd_watch_id = None
        if not alive:
            if self.etcd_watch_id is not None:
                self.etcd_watch_id = None
            if len(self.etcd_endpoints) > 1:
                self.etcd_index += 1
            return
        if self.etcd_watch_id is None and self.cache_revision:
            self.start_etcd_watch()
        elif not self.cache_revision and not self.pending_etcd:
            self.on_boot_retry(None)

    def on_etcd_watch(self, _sender: str, body: dict) -> None:
        if body["watch_id"] != self.etcd_watch_id:
            return
        if body.get("canceled"):
            self.etcd_watch_id = None
            self.on_boot_retry(None)
            return
        for event in body["events"]:
            self.apply_etcd_event(event)
        self.cache_revision = max(self.cache_revision, body["revision"])

    def apply_etcd_event(self, event: dict) -> None:
        kv = event["kv"]
        key = kv["key"]
        resource_name = kinds.resource_for_key(key)
        if resource_name is None:
            return
        bucket = self.cache.setdefault(resource_name, {})
        old = bucket.get(key)
        if event["type"] == "DELETE":
            if old is None:
                return
            bucket.pop(key)
            obj = with_resource_version(old, kv["mod_revision"])
            event_type = "DELETED"
        else:
            obj = with_resource_version(kv["value"], kv["mod_revision"])
            bucket[key] = obj
            event_type = "MODIFIED" if old is not None else "ADDED"
        revision = kv["mod_revision"]
        self.cache_revision = max(self.cache_revision, revision)
        self.record_history(resource_name, [revision, event_type, obj, old, self.sim.now_ms])
        self.fan_out(resource_name, event_type, obj, old)

    def history_window(self, resource_name: str) -> dict:
        window = self.history.get(resource_name)
        if window is None:
            window = {"events": [], "capacity": WATCH_CACHE_LOWER_CAPACITY, "floor": self.list_revision}
            self.history[resource_name] = window
        return window

    def record_history(self, resource_name: str, entry: list) -> None:
        window = self.history_window(resource_name)
        events = window["events"]
        capacity = window["capacity"]
        now_ms = entry[4]
        if len(events) >= capacity and now_ms - events[0][4] < WATCH_CACHE_FRESH_MS:
            window["capacity"] = min(capacity * 2, WATCH_CACHE_UPPER_CAPACITY)
        elif len(events) >= capacity and now_ms - events[len(events) - capacity // 4][4] > WATCH_CACHE_FRESH_MS:
            window["capacity"] = max(capacity // 2, WATCH_CACHE_LOWER_CAPACITY)
        events.append(entry)
        evicted = len(events) - window["capacity"]
        if evicted > 0:
            window["floor"] = events[evicted - 1][0]
            del events[:evicted]

    def fan_out(self, resource_name: str, event_type: str, obj: dict, old: dict | None) -> None:
        revision = int(obj["metadata"]["resourceVersion"])
        for watch_id, watcher in self.watches_of(resource_name):
            if revision <= watcher["since_revision"]:
                continue
            delivered = self.filter_for_watcher(watcher, event_type, obj, old)
            if delivered is not None:
                self.deliver_watch_event(watch_id, watcher, delivered, obj)

    def watches_of(self, resource_name: str) -> list:
        """[watch id, watcher] of the watches of one resource, in the order they began: every
        write fans out to the watches of its resource only, a few of the dozens a cluster has."""
        index = getattr(self, "watch_index", None)  # absent after a restore
        if index is None:
            index = self.watch_index = {}
            for watch_id, watcher in self.watchers.items():
                index.setdefault(watcher["resource"], []).append((watch_id, watcher))
        return index.get(resource_name, [])

    def forget_watch(self, watch_id: str) -> None:
        if self.watchers.pop(watch_id, None) is not None:
            self.watch_index = None

    def filter_for_watcher(self, watcher: dict, event_type: str, obj: dict, old: dict | None) -> str | None:
        """Selector-filtered watches see objects enter (ADDED) and leave (DELETED) their view."""
        matches_now = event_type != "DELETED" and self.matches(watcher, obj)
        matched_before = old is not None and self.matches(watcher, old)
        if event_type == "DELETED":
            return "DELETED" if matched_before else None
        if matches_now and matched_before:
            return "MODIFIED"
        if matches_now:
            return "ADDED"
        if matched_before:
            return "DELETED"
        return None

    def matches(self, watcher: dict, obj: dict) -> bool:
        metadata = obj["metadata"]
        if watcher["namespace"] and metadata.get("namespace") != watcher["namespace"]:
            return False
        if watcher["labels"] and not labels_match(watcher["labels"], metadata.get("labels")):
            return False
        if watcher["fields"] and not fields_match(watcher["fields"], obj):
            return False
        return True

    def deliver_watch_event(self, watch_id: str, watcher: dict, event_type: str, obj: dict) -> None:
        metadata = obj["metadata"]
        self.emit("api.watch", watcher["client"], {
            "resource": watcher["resource"], "type": event_type, "name": metadata["name"],
            "namespace": metadata.get("namespace"), "resourceVersion": metadata["resourceVersion"]})
        self.send(watcher["client"], "api_watch", {"watch_id": watch_id, "type": event_type,
                                                   "object": conversion.to_view(watcher["view"], obj)})

    # Compaction (the apiserver asks etcd to compact every 5 minutes) ------------------------
    def on_compaction(self, _payload: Any) -> None:
        self.after(COMPACTION_INTERVAL_MS, "compaction", None)
        if self.last_compaction_revision:
            self.etcd_request({"op": "compact", "revision": self.last_compaction_revision}, {"phase": "compacted"})
        self.last_compaction_revision = self.cache_revision

    def after_compacted(self, _continuation: dict, _response: dict) -> None:
        pass

    # Requests ---------------------------------------------------------------------------
    def on_api_request(self, sender: str, request: dict) -> None:
        # The request travels client -> apiserver: the client is the event's source.
        self.sim.emit("api.request", sender, self.name, {
            "id": request["id"], "verb": request["verb"], "resource": request["resource"],
            "namespace": request.get("namespace"), "name": request.get("name"),
            "subresource": request.get("subresource"), "userAgent": request.get("user_agent")})
        if not self.ready:
            self.respond(sender, request, 503, validation.status_error(
                503, "ServiceUnavailable", "apiserver is starting: the watch cache is not ready"))
            return
        info = kinds.RESOURCES.get(request["resource"])
        if info is None:
            self.respond(sender, request, 404, validation.status_error(
                404, "NotFound", "the server could not find the requested resource"))
            return
        handler = getattr(self, "handle_" + request["verb"], None)
        if handler is None:
            self.respond(sender, request, 405, validation.status_error(
                405, "MethodNotAllowed", f"the server does not allow this method on the requested resource"))
            return
        try:
            handler(sender, request, info)
        except Exception as error:  # noqa: BLE001  (see answer_failure)
            self.answer_failure(sender, request, error)

    def answer_failure(self, client: str, request: dict, error: Exception) -> None:
        """A request the handlers could not serve is answered, never left to escape into the engine
        loop: a bad selector or patch is the client's 400; anything else is this server's bug,
        answered as the real apiserver answers a panic in a handler (500 InternalError)."""
        if isinstance(error, (SelectorError, PatchError)):
            self.respond(client, request, 400, validation.status_error(400, "BadRequest", str(error)))
            return
        text = f"{type(error).__name__}: {error}"
        self.respond(client, request, 500, validation.status_error(
            500, "InternalError", f"Internal error occurred: {text}", {"causes": [{"message": text}]}))

    def respond(self, client: str, request: dict, code: int, body: Any) -> None:
        reason = body.get("reason") if isinstance(body, dict) and body.get("kind") == "Status" else None
        self.emit("api.response", client, {
            "id": request["id"], "verb": request["verb"], "resource": request["resource"],
            "name": request.get("name") or _name_of(body), "namespace": request.get("namespace"),
            "code": code, "reason": reason,
            "message": body.get("message") if reason else None})
        self.send(client, "api_response", {"id": request["id"], "code": code, "body": body})

    def key_for(self, info: Any, namespace: str | None, name: str) -> str:
        return info.etcd_key(namespace if info.namespaced else None, name)

    def cached(self, info: Any, namespace: str | None, name: str) -> dict | None:
        return self.cache.get(info.plural, {}).get(self.key_for(info, namespace, name))

    def not_found(self, info: Any, name: str) -> dict:
        return validation.not_found(info.group, info.plural, name)

    # get / list ---------------------------------------------------------------------------
    def handle_get(self, client: str, request: dict, info: Any) -> None:
        params = request.get("params") or {}
        name, namespace = request["name"], request.get("namespace")
        if params.get("resourceVersion") not in (None, ""):
            obj = self.cached(info, namespace, name)
            if obj is None:
                self.respond(client, request, 404, self.not_found(info, name))
            else:
                self.respond(client, request, 200, self.present(obj, request))
            return
        self.etcd_request({"op": "range", "key": self.key_for(info, namespace, name)},
                          {"phase": "get_read", "client": client, "request": request})

    def after_get_read(self, continuation: dict, response: dict) -> None:
        client, request = continuation["client"], continuation["request"]
        if not response.get("ok"):
            self.respond(client, request, 500, self.etcd_failure(response))
            return
        info = kinds.RESOURCES[request["resource"]]
        if not response["kvs"]:
            self.respond(client, request, 404, self.not_found(info, request["name"]))
            return
        kv = response["kvs"][0]
        self.respond(client, request, 200, self.present(with_resource_version(kv["value"], kv["mod_revision"]), request))

    def present(self, obj: dict, request: dict) -> dict:
        """The object as returned for a subresource request."""
        subresource = request.get("subresource")
        if subresource == "scale":
            return scale_of(obj, kinds.RESOURCES[request["resource"]])
        return conversion.to_view(request["resource"], obj)

    def handle_list(self, client: str, request: dict, info: Any) -> None:
        params = request.get("params") or {}
        if params.get("resourceVersion") not in (None, ""):
            items = list(self.cache.get(info.plural, {}).values())
            self.respond_list(client, request, info, items, self.cache_revision)
            return
        self.etcd_request({"op": "range", "prefix": info.etcd_prefix(request.get("namespace") if info.namespaced else None)},
                          {"phase": "list_read", "client": client, "request": request})

    def after_list_read(self, continuation: dict, response: dict) -> None:
        client, request = continuation["client"], continuation["request"]
        if not response.get("ok"):
            self.respond(client, request, 500, self.etcd_failure(response))
            return
        info = kinds.RESOURCES[request["resource"]]
        items = [with_resource_version(kv["value"], kv["mod_revision"]) for kv in response["kvs"]]
        self.respond_list(client, request, info, items, response["revision"])

    def respond_list(self, client: str, request: dict, info: Any, items: list, revision: int) -> None:
        params = request.get("params") or {}
        labels = parse_label_selector(params.get("labelSelector"))
        fields = parse_field_selector(params.get("fieldSelector"))
        namespace = request.get("namespace") if info.namespaced else None
        selected = [item for item in items
                    if (not namespace or item["metadata"].get("namespace") == namespace)
                    and labels_match(labels, item["metadata"].get("labels")) and fields_match(fields, item)]
        selected.sort(key=lambda item: (item["metadata"].get("namespace") or "", item["metadata"]["name"]))
        metadata: dict = {"resourceVersion": str(revision)}
        selected, continue_token, remaining = paginate(selected, params, revision)
        if continue_token:
            metadata["continue"] = continue_token
            metadata["remainingItemCount"] = remaining
        items = [conversion.to_view(info.key, item) for item in selected]
        body = {"apiVersion": info.api_version, "kind": info.kind + "List", "metadata": metadata, "items": items}
        self.respond(client, request, 200, body)

    # watch ------------------------------------------------------------------------------
    def handle_watch(self, client: str, request: dict, info: Any) -> None:
        params = request.get("params") or {}
        watcher = {"client": client, "resource": info.plural, "view": info.key, "since_revision": 0,
                   "namespace": request.get("namespace") if info.namespaced else None,
                   "labels": parse_label_selector(params.get("labelSelector")),
                   "fields": parse_field_selector(params.get("fieldSelector"))}
        if request.get("name"):
            watcher["fields"] = watcher["fields"] + [["metadata.name", "=", request["name"]]]
        start = params.get("resourceVersion") or "0"
        if start.isdigit():
            # A client that saw a newer revision on another apiserver must not get it twice.
            watcher["since_revision"] = int(start)
        replay = self.replay_since(watcher, start)
        if replay is None:
            self.respond(client, request, 410, validation.status_error(
                410, "Expired", f"too old resource version: {start} ({self.oldest_revision(info.plural)})"))
            return
        self.next_watch_id += 1
        watch_id = f"{self.name}/watch/{self.next_watch_id}"
        self.watchers[watch_id] = watcher
        self.watch_index = None
        self.respond(client, request, 200, {"watch_id": watch_id, "server": self.name})
        for event_type, obj in replay:
            self.deliver_watch_event(watch_id, watcher, event_type, obj)

    def oldest_revision(self, resource_name: str) -> int:
        window = self.history.get(resource_name)
        return window["floor"] if window is not None else self.list_revision

    def replay_since(self, watcher: dict, start: str) -> list | None:
        if start == "0":
            return [["ADDED", obj] for obj in self.cache.get(watcher["resource"], {}).values() if self.matches(watcher, obj)]
        if not start.isdigit():
            return None
        revision = int(start)
        if revision < self.oldest_revision(watcher["resource"]):
            return None
        replay = []
        events = self.history_window(watcher["resource"])["events"]
        for entry_revision, event_type, obj, old, _record_ms in events:
            if entry_revision <= revision:
                continue
            delivered = self.filter_for_watcher(watcher, event_type, obj, old)
            if delivered is not None:
                replay.append([delivered, obj])
        return replay

    def handle_unwatch(self, client: str, request: dict, _info: Any) -> None:
        self.forget_watch((request.get("params") or {}).get("watch_id", ""))

    def on_api_unwatch(self, _sender: str, body: dict) -> None:
        self.forget_watch(body.get("watch_id", ""))

    # create -----------------------------------------------------------------------------
    def handle_create(self, client: str, request: dict, info: Any) -> None:
        subresource = request.get("subresource")
        if subresource == "binding":
            self.handle_binding(client, request, info)
            return
        if subresource == "eviction":
            self.handle_eviction(client, request, info)
            return
        body = conversion.to_storage(info.key, request.get("body"))
        if not isinstance(body, dict):
            self.respond(client, request, 400, validation.status_error(400, "BadRequest", "the body of the request was not an object"))
            return
        decode_failure = validation.decode_error(info.plural, body)
        if decode_failure is not None:
            self.respond(client, request, decode_failure.get("code", 400), decode_failure)
            return
        obj = self.prepare_create(client, request, info, body)
        if obj is None:
            return
        if (request.get("params") or {}).get("dryRun"):
            self.respond(client, request, 201, self.present(with_resource_version(obj, self.cache_revision), request))
            return
        key = self.key_for(info, obj["metadata"].get("namespace"), obj["metadata"]["name"])
        self.write(client, request, key, obj, expect_mod_revision=0, on_success_code=201)

    def prepare_create(self, client: str, request: dict, info: Any, body: dict) -> dict | None:
        obj = copy_tree(body)
        metadata = obj.setdefault("metadata", {})
        if not isinstance(metadata, dict):
            self.respond(client, request, 400, validation.status_error(400, "BadRequest", "metadata must be an object"))
            return None
        obj.setdefault("apiVersion", info.api_version)
        obj.setdefault("kind", info.kind)
        if info.namespaced:
            namespace = request.get("namespace") or metadata.get("namespace") or "default"
            if metadata.get("namespace") and metadata["namespace"] != namespace:
                self.respond(client, request, 400, validation.status_error(
                    400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request"))
                return None
            metadata["namespace"] = namespace
        else:
            metadata.pop("namespace", None)
        if not metadata.get("name") and metadata.get("generateName"):
            metadata["name"] = metadata["generateName"] + random_suffix(self.rng)
        for server_owned in ("resourceVersion", "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"):
            metadata.pop(server_owned, None)
        metadata["uid"] = random_uid(self.rng)
        metadata["creationTimestamp"] = self.now_text()
        if info.plural in GENERATION_RESOURCES:
            metadata["generation"] = 1
        obj = defaults.apply_defaults(info.plural, obj)
        admitted = admission.admit_create(info.plural, obj, namespaces=self.cache.get("namespaces", {}),
                                          priority_classes=self.cache.get("priorityclasses", {}), rng=self.rng,
                                          service_accounts=self.cache.get("serviceaccounts", {}))
        if admitted.get("kind") == "Status":
            self.respond(client, request, admitted["code"], admitted)
            return None
        if info.plural == "services":
            admitted = self.allocate_service_addresses(admitted)
        causes = validation.validate_create(info.plural, admitted)
        if causes:
            name = admitted["metadata"].get("name") or ""
            self.respond(client, request, 422, validation.invalid_status(info.group, info.kind, name, causes))
            return None
        refusal = admission.cluster_pod_limit(info.plural, admitted, stored_pods=self.pods_stored_or_written(),
                                              max_pods=self.max_pods) if info.plural == "pods" else None
        if refusal is not None:
            self.respond(client, request, refusal["code"], refusal)
            return None
        return admitted

    def pods_stored_or_written(self) -> int:
        """Pods in the watch cache, plus pods written that it has not seen yet, plus pod creates on
        their way to etcd: a batch of creates sent at once (a ReplicaSet's slow start) must not all
        pass against the same count."""
        writing = sum(1 for continuation in self.pending_etcd.values() if is_pod_create(continuation))
        unseen = sum(1 for revision in getattr(self, "pod_write_revisions", ()) if revision > self.cache_revision)
        return len(self.cache.get("pods", {})) + writing + unseen

    def note_pod_written(self, revision: int) -> None:
        unseen = [known for known in getattr(self, "pod_write_revisions", ()) if known > self.cache_revision]
        self.pod_write_revisions = unseen + [revision]

    def allocate_service_addresses(self, service: dict) -> dict:
        """ClusterIP from 10.96.0.0/12 and node ports from 30000-32767, at random like the allocators."""
        spec = service.get("spec") or {}
        used_ips = {(s.get("spec") or {}).get("clusterIP") for s in self.cache.get("services", {}).values()}
        if spec.get("type", "ClusterIP") != "ExternalName" and not spec.get("clusterIP"):
            for _attempt in range(1_000):
                offset = self.rng.randrange(11, SERVICE_CIDR_SIZE - 1)
                candidate = f"10.{96 + offset // 65536}.{(offset // 256) % 256}.{offset % 256}"
                if candidate not in used_ips:
                    spec["clusterIP"] = candidate
                    break
        if spec.get("clusterIP") and spec["clusterIP"] != "None":
            spec["clusterIPs"] = [spec["clusterIP"]]
        if spec.get("type") in ("NodePort", "LoadBalancer"):
            used_ports = {port.get("nodePort") for s in self.cache.get("services", {}).values()
                          for port in (s.get("spec") or {}).get("ports") or []}
            for port in spec.get("ports") or []:
                while not port.get("nodePort"):
                    candidate_port = self.rng.randint(30000, 32767)
                    if candidate_port not in used_ports:
                        port["nodePort"] = candidate_port
                        used_ports.add(candidate_port)
        return service

    def write(self, client: str, request: dict, key: str, obj: dict | None, *, expect_mod_revision: int | None,
              on_success_code: int, retries: int = 0, result_override: dict | None = None) -> None:
        self.emit("etcd.request", self.etcd_endpoint(), {"op": "delete" if obj is None else "put", "key": key,
                                                          "requestId": request["id"]})
        self.etcd_request({"op": "txn", "key": key, "expect_mod_revision": expect_mod_revision, "value": obj},
                          {"phase": "written", "client": client, "request": request, "code": on_success_code,
                           "retries": retries, "deleted": obj is None, "result": result_override})

    def after_written(self, continuation: dict, response: dict) -> None:
        client, request = continuation["client"], continuation["request"]
        info = kinds.RESOURCES[request["resource"]]
        if not response.get("ok"):
            self.respond(client, request, 500, self.etcd_failure(response))
            return
        if not response["succeeded"]:
            self.write_conflict(continuation, response, info)
            return
        if continuation["result"] is BINDING_SUCCESS or continuation["result"] == BINDING_SUCCESS:
            self.respond(client, request, continuation["code"], {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                                                 "status": "Success", "code": 201})
            return
        if continuation["deleted"]:
            result = continuation["result"] or success_status(info, request.get("name"))
            self.respond(client, request, continuation["code"], result)
            return
        kv = response["kv"]
        self.respond(client, request, continuation["code"], self.present(with_resource_version(kv["value"], kv["mod_revision"]), request))

    def write_conflict(self, continuation: dict, response: dict, info: Any) -> None:
        client, request = continuation["client"], continuation["request"]
        name = request.get("name") or (request.get("body") or {}).get("metadata", {}).get("name", "")
        if request.get("subresource") == "binding" and response.get("kv") and continuation["retries"] < MAX_CONFLICT_RETRIES:
            latest = with_resource_version(response["kv"]["value"], response["kv"]["mod_revision"])
            self.bind_pod(client, request, info, latest, retries=continuation["retries"] + 1)
            return
        if request["verb"] == "create":
            created = (continuation.get("result") or {}).get("metadata", {}).get("name") or name
            if not created:
                created = response.get("kv", {}).get("value", {}).get("metadata", {}).get("name", "")
            self.respond(client, request, 409, validation.already_exists(info.group, info.plural, created))
            return
        current = response.get("kv")
        if current is None:
            self.respond(client, request, 404, self.not_found(info, name))
            return
        if self.precondition_given(request) or continuation["retries"] >= MAX_CONFLICT_RETRIES:
            self.respond(client, request, 409, validation.conflict(info.group, info.plural, name))
            return
        # No resourceVersion precondition: retry against the state etcd just returned, as
        # GuaranteedUpdate does.
        latest = with_resource_version(current["value"], current["mod_revision"])
        if request["verb"] == "delete" or request.get("subresource") == "eviction":
            self.delete_object(client, dict(request, verb="delete", subresource=None), info, latest,
                               retries=continuation["retries"] + 1)
            return
        self.mutate(client, request, info, latest, retries=continuation["retries"] + 1)

    def precondition_given(self, request: dict) -> bool:
        if request["verb"] != "update":
            return False
        body = request.get("body") or {}
        return bool((body.get("metadata") or {}).get("resourceVersion"))

    def etcd_failure(self, response: dict) -> dict:
        return validation.unknown_error(response.get("error") or ETCD_TIMEOUT_ERROR)

    # update / patch ---------------------------------------------------------------------
    def handle_update(self, client: str, request: dict, info: Any) -> None:
        self.start_mutation(client, request, info)

    def handle_patch(self, client: str, request: dict, info: Any) -> None:
        self.start_mutation(client, request, info)

    def start_mutation(self, client: str, request: dict, info: Any) -> None:
        current = self.cached(info, request.get("namespace"), request["name"])
        if current is None:
            self.respond(client, request, 404, self.not_found(info, request["name"]))
            return
        self.mutate(client, request, info, current, retries=0)

    def mutate(self, client: str, request: dict, info: Any, current: dict, *, retries: int) -> None:
        new = self.compute_mutation(client, request, info, current)
        if new is None:
            return
        key = self.key_for(info, current["metadata"].get("namespace"), current["metadata"]["name"])
        expected = int(current["metadata"]["resourceVersion"])
        if request["verb"] == "update":
            given = (new.get("metadata") or {}).get("resourceVersion")
            if given:
                if not str(given).isdigit():
                    self.respond(client, request, 400, validation.status_error(400, "BadRequest", f"invalid resourceVersion {given!r}"))
                    return
                expected = int(given)
        if (request.get("params") or {}).get("dryRun"):
            self.respond(client, request, 200, self.present(with_resource_version(new, expected), request))
            return
        if self.deletion_completes(info, new):
            self.write(client, request, key, None, expect_mod_revision=expected, on_success_code=200,
                       retries=retries, result_override=with_resource_version(new, expected))
            return
        stored = without_resource_version(new)
        unchanged = stored == without_resource_version(current)
        if unchanged and expected == int(current["metadata"]["resourceVersion"]):
            self.respond(client, request, 200, self.present(current, request))
            return
        self.write(client, request, key, stored, expect_mod_revision=expected, on_success_code=200, retries=retries)

    def compute_mutation(self, client: str, request: dict, info: Any, current: dict) -> dict | None:
        """The object after the update or patch, or None when the request was answered with an error."""
        subresource = request.get("subresource")
        body = request.get("body")
        if request["verb"] == "patch":
            candidate = self.apply_patch(info, current, request, body, subresource)
        elif subresource == "scale":
            candidate = self.apply_scale(current, body)
        else:
            # Clients never change a body once sent, so it needs no copy: fields are replaced below.
            candidate = conversion.to_storage(info.key, body) if isinstance(body, dict) else None
        if isinstance(candidate, dict) and request["verb"] == "update":
            body_name = (candidate.get("metadata") or {}).get("name")
            if body_name and body_name != request["name"]:
                self.respond(client, request, 400, validation.status_error(
                    400, "BadRequest", f"the name of the object ({body_name}) does not match the name on the URL ({request['name']})"))
                return None
        if not isinstance(candidate, dict):
            self.respond(client, request, 400, validation.status_error(400, "BadRequest", "the body of the request was not an object"))
            return None
        if candidate.get("kind") not in (None, info.kind) and subresource != "scale":
            self.respond(client, request, 400, validation.status_error(
                400, "BadRequest", f"the kind of the provided object ({candidate.get('kind')}) does not match {info.kind}"))
            return None
        decode_failure = validation.decode_error(info.plural, candidate)
        if decode_failure is not None:
            self.respond(client, request, decode_failure.get("code", 400), decode_failure)
            return None
        new = self.merge_server_fields(info, current, candidate, subresource)
        new = defaults.apply_defaults(info.plural, new, operation="update")
        causes = validation.validate_update(info.plural, new, current)
        if causes:
            self.respond(client, request, 422, validation.invalid_status(info.group, info.kind, current["metadata"]["name"], causes))
            return None
        return new

    def apply_patch(self, info: Any, current: dict, request: dict, body: Any, subresource: str | None) -> Any:
        patch_type = (request.get("params") or {}).get("patchType", "merge")
        base = scale_of(current, info) if subresource == "scale" else conversion.to_view(info.key, current)
        if patch_type == "json":
            patched = json_patch(base, body)
        elif patch_type == "strategic":
            from .strategic import strategic_merge_patch
            patched = strategic_merge_patch(info.kind, base, body)
        else:
            patched = merge_patch(base, body)
        if subresource == "scale":
            return self.apply_scale(current, patched)
        return conversion.to_storage(info.key, patched)

    def apply_scale(self, current: dict, scale: Any) -> Any:
        if not isinstance(scale, dict):
            return None
        replicas = (scale.get("spec") or {}).get("replicas")
        new = copy_tree(current)
        if replicas is not None:
            new["spec"]["replicas"] = replicas
        return new

    def merge_server_fields(self, info: Any, current: dict, candidate: dict, subresource: str | None) -> dict:
        new = dict(candidate)
        new["apiVersion"] = current["apiVersion"]
        new["kind"] = current["kind"]
        metadata = dict(new.get("metadata") or {})
        old_metadata = current["metadata"]
        for preserved in ("name", "namespace", "uid", "creationTimestamp", "deletionTimestamp",
                          "deletionGracePeriodSeconds", "generation"):
            if preserved in old_metadata:
                metadata[preserved] = old_metadata[preserved]
            else:
                metadata.pop(preserved, None)
        if request_resource_version := metadata.get("resourceVersion"):
            metadata["resourceVersion"] = request_resource_version
        new["metadata"] = metadata
        if subresource == "status":
            keep_status = new.get("status")
            new = dict(current, status=keep_status, metadata=dict(current["metadata"], resourceVersion=metadata.get("resourceVersion", current["metadata"]["resourceVersion"])))
        elif "status" in current and subresource != "scale" and info.plural not in ("namespaces",):
            new["status"] = current["status"]
        elif info.plural == "namespaces":
            new["status"] = current.get("status")
        if info.plural == "namespaces" and subresource != "finalize":
            # Only the finalize subresource may change spec.finalizers.
            spec = dict(new.get("spec") or {})
            if (current.get("spec") or {}).get("finalizers") is not None:
                spec["finalizers"] = current["spec"]["finalizers"]
            else:
                spec.pop("finalizers", None)
            new["spec"] = spec
        if info.plural in GENERATION_RESOURCES and new.get("spec") != current.get("spec"):
            new["metadata"]["generation"] = old_metadata.get("generation", 1) + 1
        return new

    def deletion_completes(self, info: Any, obj: dict) -> bool:
        metadata = obj["metadata"]
        if not metadata.get("deletionTimestamp") or metadata.get("finalizers"):
            return False
        if info.plural == "namespaces":
            return not (obj.get("spec") or {}).get("finalizers")
        if info.plural == "pods":
            return metadata.get("deletionGracePeriodSeconds", 0) == 0
        return True

    # binding / eviction ---------------------------------------------------------------------
    def handle_binding(self, client: str, request: dict, info: Any) -> None:
        pod = self.cached(info, request.get("namespace"), request["name"])
        if pod is None:
            self.respond(client, request, 404, self.not_found(info, request["name"]))
            return
        self.bind_pod(client, request, info, pod, retries=0)

    def bind_pod(self, client: str, request: dict, info: Any, pod: dict, *, retries: int) -> None:
        target = ((request.get("body") or {}).get("target") or {}).get("name")
        if not target:
            self.respond(client, request, 422, validation.invalid_status("", "Binding", request["name"], [
                {"reason": "FieldValueRequired", "message": "Required value", "field": "target.name"}]))
            return
        if pod["spec"].get("nodeName"):
            self.respond(client, request, 409, validation.status_error(
                409, "Conflict", f"Operation cannot be fulfilled on pods/binding \"{request['name']}\": pod {request['name']} is already assigned to node \"{pod['spec']['nodeName']}\"",
                {"name": request["name"], "kind": "pods/binding"}))
            return
        bound = copy_tree(without_resource_version(pod))
        bound["spec"]["nodeName"] = target
        status = bound.setdefault("status", {})
        conditions = [c for c in status.get("conditions", []) if c.get("type") != "PodScheduled"]
        conditions.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                           "lastTransitionTime": self.now_text()})
        status["conditions"] = conditions
        key = self.key_for(info, pod["metadata"]["namespace"], pod["metadata"]["name"])
        self.write(client, request, key, bound, expect_mod_revision=int(pod["metadata"]["resourceVersion"]),
                   on_success_code=201, retries=retries, result_override=BINDING_SUCCESS)

    def handle_eviction(self, client: str, request: dict, info: Any) -> None:
        delete_request = dict(request, verb="delete", subresource=None, body=None)
        self.handle_delete(client, delete_request, info)

    # delete -----------------------------------------------------------------------------
    def handle_delete(self, client: str, request: dict, info: Any) -> None:
        current = self.cached(info, request.get("namespace"), request["name"])
        if current is None:
            self.respond(client, request, 404, self.not_found(info, request["name"]))
            return
        refusal = admission.admit_delete(info.plural, request["name"])
        if refusal is not None:
            self.respond(client, request, refusal.get("code", 403), refusal)
            return
        self.delete_object(client, request, info, current, retries=0)

    def delete_object(self, client: str, request: dict, info: Any, current: dict, *, retries: int) -> None:
        params = request.get("params") or {}
        body = request.get("body") or {}
        grace_s = params.get("gracePeriodSeconds", body.get("gracePeriodSeconds"))
        policy = params.get("propagationPolicy", body.get("propagationPolicy"))
        key = self.key_for(info, current["metadata"].get("namespace"), current["metadata"]["name"])
        revision = int(current["metadata"]["resourceVersion"])
        updated = self.graceful_delete(info, current, grace_s, policy)
        if params.get("dryRun"):
            self.respond(client, request, 200, updated or current)
            return
        if updated is None:
            # Pods answer with the deleted object (ReturnDeletedObject); other kinds with a Status.
            result = current if info.plural == "pods" else success_status(info, current["metadata"]["name"],
                                                                           current["metadata"].get("uid"))
            self.write(client, request, key, None, expect_mod_revision=revision, on_success_code=200,
                       retries=retries, result_override=result)
            return
        if updated is current:
            self.respond(client, request, 200, current)
            return
        self.write(client, request, key, without_resource_version(updated), expect_mod_revision=revision,
                   on_success_code=200, retries=retries)

    def graceful_delete(self, info: Any, current: dict, grace_s: Any, policy: str | None) -> dict | None:
        """The object marked for deletion, or None when it is removed at once."""
        metadata = current["metadata"]
        finalizers = list(metadata.get("finalizers") or [])
        if policy == "Foreground" and "foregroundDeletion" not in finalizers:
            finalizers.append("foregroundDeletion")
        if policy == "Orphan" and "orphan" not in finalizers:
            finalizers.append("orphan")
        spec_finalizers = (current.get("spec") or {}).get("finalizers") if info.plural == "namespaces" else None
        grace = None
        if info.plural == "pods":
            default_grace = (current.get("spec") or {}).get("terminationGracePeriodSeconds", 30)
            grace = default_grace if grace_s is None else int(grace_s)
            if not current["spec"].get("nodeName") or current.get("status", {}).get("phase") in ("Succeeded", "Failed"):
                grace = 0
            if metadata.get("deletionTimestamp"):
                if grace >= metadata.get("deletionGracePeriodSeconds", 0) and not finalizers:
                    return current
        if not finalizers and not spec_finalizers and not grace:
            return None
        if metadata.get("deletionTimestamp") and info.plural != "pods":
            return current
        updated = copy_tree(current)
        updated_metadata = updated["metadata"]
        updated_metadata["finalizers"] = finalizers
        if not finalizers:
            updated_metadata.pop("finalizers")
        updated_metadata["deletionGracePeriodSeconds"] = grace or 0
        if updated_metadata.get("generation"):
            # BeforeDelete: a graceful deletion is a change of desired state.
            updated_metadata["generation"] += 1
        deadline_ms = self.sim.start_epoch_ms + self.sim.now_ms + (grace or 0) * 1000
        updated_metadata["deletionTimestamp"] = format_time(deadline_ms)
        if info.plural == "namespaces":
            updated["status"] = dict(updated.get("status") or {}, phase="Terminating")
        return updated

    def handle_deletecollection(self, client: str, request: dict, info: Any) -> None:
        self.respond(client, request, 405, validation.status_error(
            405, "MethodNotAllowed", "deletecollection is served by the Kubernetes API front end"))


def is_pod_create(continuation: dict) -> bool:
    """An etcd write continuing a client's pod create."""
    if continuation["phase"] != "written" or continuation["deleted"]:
        return False
    request = continuation["request"]
    return request["verb"] == "create" and request["resource"] == "pods" and not request.get("subresource")


def paginate(items: list, params: dict, revision: int) -> tuple:
    limit = params.get("limit")
    start = 0
    token = params.get("continue")
    if token:
        try:
            decoded = json.loads(base64.urlsafe_b64decode(token.encode()).decode())
            start = int(decoded["start"])
        except (ValueError, KeyError, TypeError):
            raise SelectorError("continue key is not valid")
    if not limit:
        return items[start:], None, 0
    limit = int(limit)
    page = items[start:start + limit]
    if start + limit >= len(items):
        return page, None, 0
    next_token = base64.urlsafe_b64encode(json.dumps({"start": start + limit, "rv": revision}).encode()).decode()
    return page, next_token, len(items) - start - limit


def scale_of(obj: dict, info: Any) -> dict:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    selector = spec.get("selector") or {}
    match_labels = selector.get("matchLabels") or {}
    return {
        "apiVersion": "autoscaling/v1", "kind": "Scale",
        "metadata": {"name": obj["metadata"]["name"], "namespace": obj["metadata"].get("namespace"),
                     "uid": obj["metadata"].get("uid"), "resourceVersion": obj["metadata"].get("resourceVersion"),
                     "creationTimestamp": obj["metadata"].get("creationTimestamp")},
        "spec": {"replicas": spec.get("replicas", 0)},
        "status": {"replicas": status.get("replicas", 0),
                   "selector": ",".join(f"{key}={value}" for key, value in sorted(match_labels.items()))},
    }


def success_status(info: Any, name: str | None, uid: str | None = None) -> dict:
    details: dict = {"name": name}
    if info.group:
        details["group"] = info.group
    details["kind"] = info.plural
    if uid:
        details["uid"] = uid
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}


def _name_of(body: Any) -> str | None:
    if isinstance(body, dict):
        return (body.get("metadata") or {}).get("name")
    return None


RANDOM_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def random_suffix(rng: Any, length: int = 5) -> str:
    return "".join(rng.choice(RANDOM_SUFFIX_ALPHABET) for _ in range(length))


def random_uid(rng: Any) -> str:
    value = rng.getrandbits(128)
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-{'89ab'[int(text[16], 16) % 4]}{text[17:20]}-{text[20:32]}"


def system_objects() -> list[dict]:
    namespaces = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
                  for name in ("default", "kube-system", "kube-public", "kube-node-lease")]
    kubernetes_service = {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "kubernetes", "namespace": "default",
                     "labels": {"component": "apiserver", "provider": "kubernetes"}},
        "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.1", "sessionAffinity": "None",
                 "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]}}
    priority_classes = [
        {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": name},
         "value": value, "preemptionPolicy": "PreemptLowerPriority",
         "description": description}
        for name, value, description in (
            ("system-node-critical", 2000001000, "Used for system critical pods that must not be moved from their current node."),
            ("system-cluster-critical", 2000000000, "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary."))]
    return namespaces + [kubernetes_service] + priority_classes
