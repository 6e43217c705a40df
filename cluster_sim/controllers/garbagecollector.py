"""garbage-collector-controller (pkg/controller/garbagecollector): ownerReferences.

- Background: a dependent whose owners are all gone is deleted. An owner missing from the
  informers is confirmed with a live GET first (the graph's "virtual node"), so informer lag
  never deletes a fresh object.
- Foreground: an owner with the `foregroundDeletion` finalizer has its dependents deleted (in
  foreground too); the finalizer goes once no blocking dependent (blockOwnerDeletion) is left.
- Orphan: an owner with the `orphan` finalizer has itself removed from its dependents'
  ownerReferences, then the finalizer goes.
"""
from __future__ import annotations

from typing import Any

from ..apiserver import kinds
from .base import Controller
from .helpers import is_terminating, key_of, split_key

FOREGROUND = "foregroundDeletion"
ORPHAN = "orphan"
RESOURCE_OF_INFORMER = {"node-leases": "leases"}


def finalizers_of(obj: dict) -> list:
    return list(obj["metadata"].get("finalizers") or [])


class GarbageCollector(Controller):
    name = "garbage-collector-controller"
    event_source = "garbage-collector-controller"
    informers = ("pods", "nodes", "replicasets", "deployments", "daemonsets", "services", "endpointslices",
                 "serviceaccounts", "configmaps", "node-leases")

    def __init__(self, config: dict | None = None) -> None:
        super().__init__(config)
        # "delete|<informer>|<key>" -> {"pending": n, "absent": [uids], "unknown": bool}
        self.checks: dict[str, dict] = {}
        # "orphan|..." key -> {"left": patches in flight, "failed": bool}
        self.orphaning: dict[str, dict] = {}

    # Events -----------------------------------------------------------------------------------
    def on_event(self, mgr: Any, informer: str, event_type: str, obj: dict, old: dict | None) -> None:
        entry = f"{informer}|{key_of(obj)}"
        uid = obj["metadata"].get("uid", "")
        if event_type == "DELETED":
            for dependent in mgr.dependents.get(uid, {}):
                self.enqueue(mgr, "delete|" + dependent)
            self.enqueue_waiting_owners(mgr, obj)
            return
        for reference in obj["metadata"].get("ownerReferences") or []:
            if reference.get("uid") not in mgr.uid_index:
                self.enqueue(mgr, "delete|" + entry)
                break
        if is_terminating(obj):
            if FOREGROUND in finalizers_of(obj):
                self.enqueue(mgr, "foreground|" + entry)
            if ORPHAN in finalizers_of(obj):
                self.enqueue(mgr, "orphan|" + entry)
            self.enqueue_waiting_owners(mgr, obj)

    def enqueue_waiting_owners(self, mgr: Any, obj: dict) -> None:
        for reference in obj["metadata"].get("ownerReferences") or []:
            owner = mgr.object_by_uid(reference.get("uid", ""))
            if owner is not None and is_terminating(owner) and FOREGROUND in finalizers_of(owner):
                informer = mgr.uid_index[reference["uid"]][0]
                self.enqueue(mgr, f"foreground|{informer}|{key_of(owner)}")

    # Sync -------------------------------------------------------------------------------------
    def sync(self, mgr: Any, key: str) -> None:
        action, informer, object_key = key.split("|", 2)
        obj = mgr.get(informer, object_key)
        if obj is None:
            return
        if action == "delete":
            self.attempt_to_delete(mgr, key, informer, obj)
        elif action == "foreground":
            self.process_foreground(mgr, key, informer, obj)
        elif action == "orphan":
            self.process_orphan(mgr, key, informer, obj)

    def attempt_to_delete(self, mgr: Any, key: str, informer: str, obj: dict) -> None:
        """Work from the live object (as the real GC does), not the possibly stale informer copy."""
        namespace, name = split_key(key_of(obj))
        self.request(mgr, key, "get", RESOURCE_OF_INFORMER.get(informer, informer), namespace=namespace,
                     name=name, tag="dependent_fetched", data=obj["metadata"].get("uid"))

    def result_dependent_fetched(self, mgr: Any, context: dict, code: int, body: Any) -> bool:
        if code == 404:
            return True
        if code != 200:
            return False
        if body["metadata"].get("uid") == context["data"]:
            self.check_owners(mgr, context["key"], context["key"].split("|", 2)[1], body)
        return True

    def check_owners(self, mgr: Any, key: str, informer: str, obj: dict) -> None:
        if is_terminating(obj) and FOREGROUND not in finalizers_of(obj):
            return
        references = obj["metadata"].get("ownerReferences") or []
        missing = [ref for ref in references if ref.get("uid") not in mgr.uid_index]
        if not missing and not self.waiting_owners(mgr, obj):
            return
        self.checks[key] = {"pending": len(missing), "absent": [], "unknown": False, "object": obj}
        for reference in missing:
            info = kinds.resource_for_kind(reference.get("apiVersion", ""), reference.get("kind", ""))
            if info is None:
                self.checks[key]["pending"] -= 1
                self.checks[key]["unknown"] = True
                continue
            namespace = obj["metadata"].get("namespace") if info.namespaced else None
            self.request(mgr, key, "get", info.key, namespace=namespace, name=reference.get("name"),
                         tag="owner_checked", data=reference.get("uid"))
        if self.checks[key]["pending"] == 0:
            self.decide(mgr, key, informer, obj)

    def waiting_owners(self, mgr: Any, obj: dict) -> list:
        waiting = []
        for reference in obj["metadata"].get("ownerReferences") or []:
            owner = mgr.object_by_uid(reference.get("uid", ""))
            if owner is not None and is_terminating(owner) and FOREGROUND in finalizers_of(owner):
                waiting.append(reference.get("uid"))
        return waiting

    def result_owner_checked(self, mgr: Any, context: dict, code: int, body: Any) -> bool:
        key = context["key"]
        check = self.checks.get(key)
        if check is None:
            return True
        check["pending"] -= 1
        if code == 404 or (code == 200 and body["metadata"].get("uid") != context["data"]):
            check["absent"].append(context["data"])
        elif code != 200:
            check["unknown"] = True
        if check["pending"] == 0:
            self.decide(mgr, key, key.split("|", 2)[1], check["object"])
        return code in (200, 404)

    def decide(self, mgr: Any, key: str, informer: str, obj: dict) -> None:
        check = self.checks.pop(key)
        if check["unknown"]:
            self.enqueue_after(mgr, key, 1_000)
            return
        references = obj["metadata"].get("ownerReferences") or []
        absent = check["absent"]
        waiting = self.waiting_owners(mgr, obj)
        solid = [ref for ref in references if ref.get("uid") not in absent and ref.get("uid") not in waiting]
        namespace, name = split_key(key_of(obj))
        resource = RESOURCE_OF_INFORMER.get(informer, informer)
        if solid:
            if absent:
                kept = [ref for ref in references if ref.get("uid") not in absent]
                self.request(mgr, key, "patch", resource, namespace=namespace, name=name,
                             body={"metadata": {"ownerReferences": kept}}, params={"patchType": "merge"})
            return
        if is_terminating(obj):
            return
        if waiting:
            policy = "Foreground"
        elif ORPHAN in finalizers_of(obj):
            policy = "Orphan"
        elif FOREGROUND in finalizers_of(obj):
            policy = "Foreground"
        else:
            policy = "Background"
        self.emit_sync(mgr, key_of(obj), f"delete {resource} {name} ({policy.lower()})")
        self.request(mgr, key, "delete", resource, namespace=namespace, name=name,
                     params={"propagationPolicy": policy})

    def process_foreground(self, mgr: Any, key: str, informer: str, owner: dict) -> None:
        if not is_terminating(owner) or FOREGROUND not in finalizers_of(owner):
            return
        blocking = []
        for entry in mgr.dependents.get(owner["metadata"]["uid"], {}):
            dependent_informer, _, dependent_key = entry.partition("|")
            dependent = mgr.get(dependent_informer, dependent_key)
            if dependent is None:
                continue
            reference = next((r for r in dependent["metadata"].get("ownerReferences") or []
                              if r.get("uid") == owner["metadata"]["uid"]), None)
            if reference is not None and reference.get("blockOwnerDeletion"):
                blocking.append(dependent)
            if not is_terminating(dependent):
                self.enqueue(mgr, "delete|" + entry)
        if not blocking:
            self.remove_finalizer(mgr, key, informer, owner, FOREGROUND)

    def process_orphan(self, mgr: Any, key: str, informer: str, owner: dict) -> None:
        if not is_terminating(owner) or ORPHAN not in finalizers_of(owner):
            return
        uid = owner["metadata"]["uid"]
        for entry in mgr.dependents.get(uid, {}):
            dependent_informer, _, dependent_key = entry.partition("|")
            dependent = mgr.get(dependent_informer, dependent_key)
            if dependent is None:
                continue
            kept = [r for r in dependent["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
            namespace, name = split_key(dependent_key)
            state = self.orphaning.setdefault(key, {"left": 0, "failed": False})
            state["left"] += 1
            self.request(mgr, key, "patch", RESOURCE_OF_INFORMER.get(dependent_informer, dependent_informer),
                         namespace=namespace, name=name, body={"metadata": {"ownerReferences": kept}},
                         params={"patchType": "merge"}, tag="orphaned", data=informer)
        if key not in self.orphaning:
            self.remove_finalizer(mgr, key, informer, owner, ORPHAN)

    def result_orphaned(self, mgr: Any, context: dict, code: int, body: Any) -> bool:
        """The finalizer goes only after every dependent let go of its owner."""
        key = context["key"]
        ok = 200 <= code < 300 or code == 404
        state = self.orphaning.get(key)
        if state is None:
            return ok
        state["left"] -= 1
        state["failed"] = state["failed"] or not ok
        if state["left"] == 0:
            del self.orphaning[key]
            owner = mgr.get(context["data"], key.split("|", 2)[2])
            if owner is not None and not state["failed"]:
                self.remove_finalizer(mgr, key, context["data"], owner, ORPHAN)
        return ok

    def remove_finalizer(self, mgr: Any, key: str, informer: str, owner: dict, finalizer: str) -> None:
        namespace, name = split_key(key_of(owner))
        remaining = [f for f in finalizers_of(owner) if f != finalizer]
        self.emit_sync(mgr, key_of(owner), f"remove {finalizer} finalizer")
        self.request(mgr, key, "patch", RESOURCE_OF_INFORMER.get(informer, informer), namespace=namespace,
                     name=name, body={"metadata": {"finalizers": remaining}}, params={"patchType": "merge"})
