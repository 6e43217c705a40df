"""pod-garbage-collector (pkg/controller/podgc), every 20 s.

- Terminated pods beyond terminated_pod_gc_threshold: the oldest are deleted.
- Orphaned pods: bound to a node that has been absent for the 40 s quarantine are marked Failed
  with DisruptionTarget (DeletionByPodGC) and force-deleted, Terminating ones included.
- Unscheduled pods being deleted are force-deleted.
"""
from __future__ import annotations

from typing import Any

from .base import Controller
from .helpers import is_terminating, key_of, pod_phase, split_key

GC_CHECK_PERIOD_MS = 20_000
QUARANTINE_MS = 40_000


class PodGCController(Controller):
    name = "pod-garbage-collector"
    event_source = "pod-garbage-collector"
    informers = ()

    def __init__(self, config: dict | None = None) -> None:
        super().__init__(config)
        self.threshold = int((config or {}).get("terminated_pod_gc_threshold", 12_500))
        # node name -> when a pass first found it missing
        self.missing_since: dict[str, int] = {}

    def start(self, mgr: Any) -> None:
        super().start(mgr)
        self.after(mgr, GC_CHECK_PERIOD_MS, "gc")

    def timer_gc(self, mgr: Any, _data: Any) -> None:
        self.after(mgr, GC_CHECK_PERIOD_MS, "gc")
        pods = mgr.store("pods")
        self.gc_terminated(mgr, pods)
        self.gc_orphaned(mgr, pods)
        self.gc_unscheduled_terminating(mgr, pods)

    def gc_terminated(self, mgr: Any, pods: dict) -> None:
        if self.threshold <= 0:
            return
        terminated = [pod for pod in pods.values() if pod_phase(pod) in ("Succeeded", "Failed")]
        excess = len(terminated) - self.threshold
        if excess <= 0:
            return
        terminated.sort(key=lambda pod: (pod["metadata"].get("creationTimestamp") or "", key_of(pod)))
        for pod in terminated[:excess]:
            self.force_delete(mgr, pod, None)

    def gc_orphaned(self, mgr: Any, pods: dict) -> None:
        nodes = mgr.store("nodes")
        now_ms = mgr.now_ms()
        seen_missing: dict[str, bool] = {}
        for pod in pods.values():
            node_name = pod["spec"].get("nodeName")
            if not node_name or node_name in nodes:
                continue
            seen_missing[node_name] = True
            since = self.missing_since.setdefault(node_name, now_ms)
            if now_ms - since >= QUARANTINE_MS:
                self.force_delete(mgr, pod, "PodGC: node no longer exists")
        for node_name in list(self.missing_since):
            if node_name not in seen_missing:
                del self.missing_since[node_name]

    def gc_unscheduled_terminating(self, mgr: Any, pods: dict) -> None:
        for pod in pods.values():
            if is_terminating(pod) and not pod["spec"].get("nodeName"):
                self.force_delete(mgr, pod, None)

    def force_delete(self, mgr: Any, pod: dict, disruption_message: str | None) -> None:
        key = key_of(pod)
        namespace, name = split_key(key)
        node_name = pod["spec"].get("nodeName")
        mgr.emit("pod.evict", key, {"pod": key, "node": node_name, "reason": "PodGC"})
        if disruption_message is None:
            self.delete_retrying(mgr, "pods", namespace, name, {"gracePeriodSeconds": 0})
            return
        status = {"conditions": [c for c in (pod.get("status") or {}).get("conditions") or []
                                 if c.get("type") != "DisruptionTarget"]
                  + [{"type": "DisruptionTarget", "status": "True", "reason": "DeletionByPodGC",
                      "message": disruption_message, "lastProbeTime": None, "lastTransitionTime": mgr.now_text()}]}
        if pod_phase(pod) not in ("Succeeded", "Failed"):
            status["phase"] = "Failed"
        self.request(mgr, None, "patch", "pods", namespace=namespace, name=name, subresource="status",
                     body={"status": status}, params={"patchType": "merge"}, tag="marked", data=key)

    def result_marked(self, mgr: Any, context: dict, code: int, body: Any) -> bool:
        namespace, name = split_key(context["data"])
        self.delete_retrying(mgr, "pods", namespace, name, {"gracePeriodSeconds": 0})
        return True
