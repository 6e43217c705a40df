"""kube-scheduler as a simulated process: leader election, informers, the scheduling queue, one
scheduling cycle at a time, assume + bind, and every decision recorded on the pod and in the stream.
"""
from __future__ import annotations

from typing import Any

from ..client import ApiComponent
from ..recorder import EventRecorder
from . import helpers
from .framework import Snapshot
from .plugins.registry import default_profile
from .queue import BACKOFF_FLUSH_INTERVAL_MS, UNSCHEDULABLE_FLUSH_INTERVAL_MS, SchedulingQueue
from .schedule import SchedulingError, filter_table, schedule_pod, score_tables, simulator_annotations
from ..jsontree import copy_tree

USER_AGENT = "kube-scheduler/v1.33.0 (linux/amd64) kubernetes/8adc0f0/scheduler"
SCHEDULER_NAME = "default-scheduler"
# One cycle on a small cluster takes about a millisecond of real kube-scheduler time.
CYCLE_MS = 1
CONTEXT_KEY = "scheduler"


class KubeScheduler(ApiComponent):
    kind = "kube-scheduler"
    TRANSIENT = ("sim", "profile")

    def __init__(self, sim: Any, name: str, node: str, api_servers: list[str]):
        super().__init__(sim, name, node, api_servers, USER_AGENT)
        self.recorder = EventRecorder("default-scheduler", None)
        self.profile = default_profile()
        self._reset_volatile()
        self.after(0, "boot", None)

    def attach(self, sim: Any) -> None:
        super().attach(sim)
        self.profile = default_profile()

    def _reset_volatile(self) -> None:
        self.queue = SchedulingQueue()
        self.snapshot = Snapshot()
        self.assumed: dict[str, dict] = {}
        self.next_start_node_index = 0
        self.cycle_armed = False
        self.leading = False
        self.api.informers = {}

    # Lifecycle ------------------------------------------------------------------------------
    def on_boot(self, _payload: Any) -> None:
        self.start_leader_election("kube-scheduler")

    def on_stop(self) -> None:
        super().on_stop()
        self._reset_volatile()
        self.elector = None

    def on_start(self) -> None:
        self.after(0, "boot", None)

    def on_started_leading(self) -> None:
        self.leading = True
        for resource in ("nodes", "pods", "services", "replicasets"):
            self.api.add_informer(resource, resource)
        self.api.start_informers()
        self.after(BACKOFF_FLUSH_INTERVAL_MS, "flush_backoff", None)
        self.after(UNSCHEDULABLE_FLUSH_INTERVAL_MS, "flush_unschedulable", None)

    # Informers ------------------------------------------------------------------------------
    def on_informer_event(self, informer: str, event_type: str, obj: dict, old: dict | None) -> None:
        if informer == "nodes":
            self.node_event(event_type, obj)
        elif informer == "pods":
            self.pod_event(event_type, obj, old)
        else:
            store = self.snapshot.services if informer == "services" else self.snapshot.replica_sets
            key = helpers.pod_key(obj)
            if event_type == "DELETED":
                store.pop(key, None)
            else:
                store[key] = obj

    def node_event(self, event_type: str, node: dict) -> None:
        if event_type == "DELETED":
            if self.snapshot.get(node["metadata"]["name"]) is not None:
                self.snapshot.remove_node(node["metadata"]["name"])
            return
        self.snapshot.add_node(node)
        self.queue.move_all_to_active_or_backoff(self.sim.now_ms)
        self.arm_cycle()

    def pod_event(self, event_type: str, pod: dict, old: dict | None) -> None:
        key = helpers.pod_key(pod)
        bound = bool(pod["spec"].get("nodeName"))
        if event_type == "DELETED":
            self.queue.delete(pod)
            self.forget_assumed(key)
            if bound:
                self.snapshot.remove_pod(pod)
                self.queue.move_all_to_active_or_backoff(self.sim.now_ms)
                self.arm_cycle()
            return
        if bound:
            self.queue.delete(pod)
            assumed = self.assumed.pop(key, None)
            previous = assumed or (old if old is not None and old["spec"].get("nodeName") else None)
            if previous is not None:
                self.snapshot.update_pod(previous, pod)
            else:
                self.snapshot.add_pod(pod)
            return
        if pod["spec"].get("schedulerName", SCHEDULER_NAME) != SCHEDULER_NAME or pod["metadata"].get("deletionTimestamp"):
            return
        if key in self.assumed:
            return
        self.queue.add(pod, self.sim.now_ms)
        self.arm_cycle()

    def forget_assumed(self, key: str) -> None:
        assumed = self.assumed.pop(key, None)
        if assumed is not None:
            self.snapshot.remove_pod(assumed)

    # Scheduling cycle ----------------------------------------------------------------------
    def arm_cycle(self) -> None:
        if self.leading and not self.cycle_armed and self.api.all_synced():
            self.cycle_armed = True
            self.after(CYCLE_MS, "cycle", None)

    def on_informers_synced(self) -> None:
        self.arm_cycle()

    def on_flush_backoff(self, _payload: Any) -> None:
        self.after(BACKOFF_FLUSH_INTERVAL_MS, "flush_backoff", None)
        if self.queue.flush_backoff_completed(self.sim.now_ms):
            self.arm_cycle()

    def on_flush_unschedulable(self, _payload: Any) -> None:
        self.after(UNSCHEDULABLE_FLUSH_INTERVAL_MS, "flush_unschedulable", None)
        if self.queue.flush_unschedulable_leftover(self.sim.now_ms):
            self.arm_cycle()

    def on_cycle(self, _payload: Any) -> None:
        self.cycle_armed = False
        pod = self.queue.pop(self.sim.now_ms)
        if pod is None:
            return
        self.schedule_one(pod)
        self.arm_cycle()

    def schedule_one(self, pod: dict) -> None:
        try:
            result = schedule_pod(pod, self.snapshot, self.profile, self.rng, self.next_start_node_index)
        except SchedulingError as error:
            self.queue.add_unschedulable(pod, self.sim.now_ms, error=True)
            self.emit("scheduler.error", helpers.pod_key(pod), {"pod": helpers.pod_key(pod), "message": str(error)})
            return
        self.next_start_node_index = result.next_start_node_index
        self.emit_decision(pod, result)
        annotations = simulator_annotations(result)
        if result.selected_node is not None:
            self.assume_and_bind(pod, result.selected_node, annotations)
        else:
            self.handle_failure(pod, result, annotations)

    def emit_decision(self, pod: dict, result: Any) -> None:
        raw, final = score_tables(result)
        self.emit("scheduler.decision", helpers.pod_key(pod), {
            "pod": helpers.pod_key(pod), "selected": result.selected_node,
            "filter": filter_table(result), "scores": raw, "final": final,
            "totals": {node: total for node, total in result.scores_by_node().items()},
            "evaluated": result.evaluated_nodes, "message": result.message if result.selected_node is None else "",
            "nominated": result.nominated_node_name or None})

    def assume_and_bind(self, pod: dict, node_name: str, annotations: dict) -> None:
        assumed = copy_tree(pod)
        assumed["spec"]["nodeName"] = node_name
        key = helpers.pod_key(pod)
        self.assumed[key] = assumed
        self.snapshot.add_pod(assumed)
        self.queue.done(pod)
        namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": name, "namespace": namespace,
                                                                        "uid": pod["metadata"].get("uid")},
                   "target": {"apiVersion": "v1", "kind": "Node", "name": node_name}}
        self.api.request("create", "pods", namespace=namespace, name=name, subresource="binding", body=binding,
                         context={CONTEXT_KEY: "bind", "pod": key, "node": node_name})
        self.annotate(pod, annotations)

    def annotate(self, pod: dict, annotations: dict) -> None:
        self.api.request("patch", "pods", namespace=pod["metadata"]["namespace"], name=pod["metadata"]["name"],
                         body={"metadata": {"annotations": annotations}}, params={"patchType": "merge"},
                         context={CONTEXT_KEY: "annotate"})

    def handle_failure(self, pod: dict, result: Any, annotations: dict) -> None:
        plugins = sorted({status.plugin for status in result.node_statuses.values() if status is not None})
        self.queue.add_unschedulable(pod, self.sim.now_ms, plugins)
        self.recorder.record(self, pod, "Warning", "FailedScheduling", result.message)
        condition = {"type": "PodScheduled", "status": "False", "lastProbeTime": None,
                     "lastTransitionTime": self.now_text(), "reason": "Unschedulable", "message": result.message}
        status_patch: dict = {"status": {"conditions": [condition]}}
        if result.nominated_node_name:
            status_patch["status"]["nominatedNodeName"] = result.nominated_node_name
            self.snapshot.set_nominated_pod(pod, result.nominated_node_name)
            self.preempt(pod, result)
        self.api.request("patch", "pods", namespace=pod["metadata"]["namespace"], name=pod["metadata"]["name"],
                         subresource="status", body=status_patch, params={"patchType": "merge"},
                         context={CONTEXT_KEY: "status"})
        self.annotate(pod, annotations)

    def preempt(self, pod: dict, result: Any) -> None:
        for victim in result.victims:
            message = f"Preempted by pod {pod['metadata'].get('uid', '')} on node {result.nominated_node_name}"
            self.recorder.record(self, victim, "Normal", "Preempted", message)
            self.emit("scheduler.preempt", helpers.pod_key(victim), {"victim": helpers.pod_key(victim),
                                                                     "preemptor": helpers.pod_key(pod),
                                                                     "node": result.nominated_node_name})
            self.api.request("delete", "pods", namespace=victim["metadata"]["namespace"], name=victim["metadata"]["name"],
                             context={CONTEXT_KEY: "preempt"})

    def on_request_result(self, context: dict, code: int, body: Any) -> None:
        if context.get(CONTEXT_KEY) != "bind":
            return
        key = context["pod"]
        if code in (200, 201):
            namespace, _, name = key.partition("/")
            involved = (self.api.informers.get("pods").store.get(key) if self.api.informers.get("pods") else None) \
                or {"kind": "Pod", "apiVersion": "v1", "metadata": {"namespace": namespace, "name": name}}
            self.recorder.record(self, involved, "Normal", "Scheduled",
                                 f"Successfully assigned {key} to {context['node']}")
            self.emit("scheduler.bound", key, {"pod": key, "node": context["node"]})
            return
        # Binding failed: forget the assumption and try again after a backoff, as kube-scheduler does.
        assumed = self.assumed.get(key)
        self.forget_assumed(key)
        if assumed is not None:
            unbound = copy_tree(assumed)
            unbound["spec"].pop("nodeName", None)
            self.queue.add_unschedulable(unbound, self.sim.now_ms, error=True)
            self.arm_cycle()
