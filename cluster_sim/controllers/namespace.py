"""namespace-controller (pkg/controller/namespace): empties a Terminating namespace, then finalizes it.

Each pass lists every namespaced resource in the namespace and deletes what it finds; when a pass
finds nothing left, it removes the `kubernetes` finalizer through the namespace's `finalize`
subresource and the apiserver deletes the namespace. Pods that take their grace period keep the
namespace Terminating meanwhile, as in a real cluster.
"""
from __future__ import annotations

from typing import Any

from ..apiserver import kinds
from .base import Controller
from .helpers import is_terminating

CONTENT_RETRY_MS = 2_000
FINALIZER = "kubernetes"


def namespaced_resources() -> list:
    """Every stored namespaced resource once (the events.k8s.io view shares storage with events)."""
    return [info.plural for key, info in kinds.RESOURCES.items()
            if info.namespaced and info.stored and key == info.plural]


class NamespaceController(Controller):
    name = "namespace-controller"
    event_source = "namespace-controller"
    informers = ("namespaces",)

    def __init__(self, config: dict | None = None) -> None:
        super().__init__(config)
        # namespace -> {"lists_left": n, "found": count of objects still present}
        self.passes: dict[str, dict] = {}

    def on_event(self, mgr: Any, informer: str, event_type: str, obj: dict, old: dict | None) -> None:
        if event_type != "DELETED" and is_terminating(obj):
            self.enqueue(mgr, obj["metadata"]["name"])

    def sync(self, mgr: Any, key: str) -> None:
        namespace = mgr.get("namespaces", key)
        if namespace is None or not is_terminating(namespace):
            return
        resources = namespaced_resources()
        self.passes[key] = {"lists_left": len(resources), "found": 0, "failed": False}
        for resource in resources:
            self.request(mgr, key, "list", resource, namespace=key, tag="listed", data=resource)

    def result_listed(self, mgr: Any, context: dict, code: int, body: Any) -> bool:
        key = context["key"]
        state = self.passes.get(key)
        if state is None:
            return True
        state["lists_left"] -= 1
        if code != 200:
            state["failed"] = True
        else:
            items = body.get("items") or []
            state["found"] += len(items)
            for item in items:
                if not is_terminating(item) or context["data"] == "pods":
                    self.request(mgr, key, "delete", context["data"], namespace=key, name=item["metadata"]["name"])
        if state["lists_left"] > 0:
            return True
        del self.passes[key]
        if state["failed"]:
            return False
        if state["found"]:
            self.emit_sync(mgr, key, "delete namespace content", state["found"])
            self.enqueue_after(mgr, key, CONTENT_RETRY_MS)
            return True
        self.finalize(mgr, key)
        return True

    def finalize(self, mgr: Any, key: str) -> None:
        namespace = mgr.get("namespaces", key)
        if namespace is None:
            return
        spec = dict(namespace.get("spec") or {})
        spec["finalizers"] = [f for f in spec.get("finalizers") or [] if f != FINALIZER]
        self.emit_sync(mgr, key, "finalize namespace")
        self.request(mgr, key, "update", "namespaces", name=key, subresource="finalize",
                     body=dict(namespace, spec=spec))
