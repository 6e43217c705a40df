"""taint-eviction-controller (pkg/controller/tainteviction): deletes pods from NoExecute-tainted nodes.

A pod that does not tolerate every NoExecute taint of its node is deleted at once; one that
tolerates them all for a limited time is deleted when the smallest tolerationSeconds has passed
since the controller first saw it tainted (300 s from DefaultTolerationSeconds). Deletion adds the
DisruptionTarget condition, then deletes with the default grace period; on an unreachable node the
kubelet never confirms, so the pod stays Terminating.
"""
from __future__ import annotations

from typing import Any

from .base import Controller
from .helpers import is_terminating, key_of, node_taints, split_key, toleration_tolerates

FOREVER = -1


def min_toleration_ms(taints: list, tolerations: list) -> int | None:
    """None when some taint is not tolerated; FOREVER when tolerated without a limit; else ms.

    GetMatchingTolerations + getMinTolerationTime."""
    used = []
    for taint in taints:
        matching = [t for t in tolerations if toleration_tolerates(t, taint)]
        if not matching:
            return None
        used.extend(matching)
    if not used:
        return 0
    smallest = None
    for toleration in used:
        seconds = toleration.get("tolerationSeconds")
        if seconds is None:
            continue
        if seconds <= 0:
            return 0
        smallest = seconds if smallest is None else min(smallest, seconds)
    return FOREVER if smallest is None else smallest * 1000


class TaintEvictionController(Controller):
    name = "taint-eviction-controller"
    event_source = "taint-eviction-controller"
    informers = ("nodes", "pods")

    def __init__(self, config: dict | None = None) -> None:
        super().__init__(config)
        # pod key -> {"created_ms", "fire_ms", "node"}
        self.scheduled: dict[str, dict] = {}

    def on_event(self, mgr: Any, informer: str, event_type: str, obj: dict, old: dict | None) -> None:
        if informer == "nodes":
            self.on_node(mgr, event_type, obj, old)
        else:
            self.on_pod(mgr, event_type, obj, old)

    def on_node(self, mgr: Any, event_type: str, node: dict, old: dict | None) -> None:
        name = node["metadata"]["name"]
        taints = [] if event_type == "DELETED" else node_taints(node, ["NoExecute"])
        old_taints = node_taints(old, ["NoExecute"]) if old is not None else []
        if taints == old_taints and event_type != "ADDED":
            return
        for pod in mgr.pods_on_node(name):
            self.process_pod(mgr, pod, taints)

    def on_pod(self, mgr: Any, event_type: str, pod: dict, old: dict | None) -> None:
        key = key_of(pod)
        if event_type == "DELETED":
            self.scheduled.pop(key, None)
            return
        node_name = pod["spec"].get("nodeName")
        if not node_name:
            return
        if old is not None and old["spec"].get("nodeName") == node_name and \
                old["spec"].get("tolerations") == pod["spec"].get("tolerations"):
            return
        node = mgr.get("nodes", node_name)
        self.process_pod(mgr, pod, node_taints(node, ["NoExecute"]) if node else [])

    def process_pod(self, mgr: Any, pod: dict, taints: list) -> None:
        key = key_of(pod)
        if is_terminating(pod):
            return
        if not taints:
            self.cancel(mgr, pod)
            return
        limit_ms = min_toleration_ms(taints, pod["spec"].get("tolerations") or [])
        now_ms = mgr.now_ms()
        if limit_ms is None:
            self.cancel(mgr, pod)
            self.schedule(mgr, key, pod, now_ms, now_ms)
            return
        if limit_ms == FOREVER:
            self.cancel(mgr, pod)
            return
        existing = self.scheduled.get(key)
        if existing is not None:
            if existing["created_ms"] + limit_ms < now_ms + limit_ms:
                return
            self.cancel(mgr, pod)
        self.schedule(mgr, key, pod, now_ms, now_ms + limit_ms)

    def schedule(self, mgr: Any, key: str, pod: dict, created_ms: int, fire_ms: int) -> None:
        self.scheduled[key] = {"created_ms": created_ms, "fire_ms": fire_ms, "node": pod["spec"].get("nodeName")}
        self.after(mgr, fire_ms - mgr.now_ms(), "evict", {"pod": key, "fire_ms": fire_ms})

    def cancel(self, mgr: Any, pod: dict) -> None:
        key = key_of(pod)
        if self.scheduled.pop(key, None) is not None:
            self.record(mgr, pod_reference(key), "Normal", "TaintManagerEviction", f"Cancelling deletion of Pod {key}")

    def timer_evict(self, mgr: Any, data: dict) -> None:
        key = data["pod"]
        entry = self.scheduled.get(key)
        if entry is None or entry["fire_ms"] != data["fire_ms"]:
            return
        del self.scheduled[key]
        pod = mgr.get("pods", key)
        if pod is None:
            return
        namespace, name = split_key(key)
        self.record(mgr, pod_reference(key), "Normal", "TaintManagerEviction", f"Marking for deletion Pod {key}")
        mgr.emit("pod.evict", key, {"pod": key, "node": entry["node"], "reason": "TaintManagerEviction"})
        conditions = [c for c in (pod.get("status") or {}).get("conditions") or [] if c.get("type") != "DisruptionTarget"]
        conditions.append({"type": "DisruptionTarget", "status": "True", "reason": "DeletionByTaintManager",
                           "message": "Taint manager: deleting due to NoExecute taint",
                           "lastProbeTime": None, "lastTransitionTime": mgr.now_text()})
        self.request(mgr, None, "patch", "pods", namespace=namespace, name=name, subresource="status",
                     body={"status": {"conditions": conditions}}, params={"patchType": "merge"},
                     tag="condition_added", data=key)

    def result_condition_added(self, mgr: Any, context: dict, code: int, body: Any) -> bool:
        namespace, name = split_key(context["data"])
        self.delete_retrying(mgr, "pods", namespace, name)
        return True


def pod_reference(key: str) -> dict:
    """emitPodDeletionEvent refers to the pod by namespace and name only."""
    namespace, name = split_key(key)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace}}
