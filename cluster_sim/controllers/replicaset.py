"""replicaset-controller (pkg/controller/replicaset): keeps `spec.replicas` active pods per ReplicaSet.

Terminating and finished pods do not count, so a pod stuck Terminating on an unreachable node is
replaced at once. Pods are created in slow-start batches (1, 2, 4, ...; at most 500 per sync);
expectations stop a second sync from acting before the informer has seen the first one's pods.
"""
from __future__ import annotations

import functools
import math
from typing import Any

from .base import Controller
from .helpers import (controller_ref, deletion_cost, is_pod_active, is_pod_available, is_pod_ready,
                      is_terminating, key_of, max_container_restarts, owner_reference, pod_condition,
                      pod_phase, selector_matches, split_key, time_ms)

BURST_REPLICAS = 500
SLOW_START_INITIAL_BATCH = 1
EXPECTATIONS_TIMEOUT_MS = 5 * 60_000
PHASE_ORDINAL = {"Pending": 0, "Unknown": 1, "Running": 2}


class Expectations:
    """ControllerExpectations: creations and deletions a controller waits to observe, per key."""

    def __init__(self) -> None:
        self.entries: dict[str, dict] = {}

    def expect(self, key: str, adds: int, deleting: list, now_ms: int) -> None:
        self.entries[key] = {"add": adds, "del": len(deleting), "deleting": {k: True for k in deleting},
                             "set_ms": now_ms}

    def satisfied(self, key: str, now_ms: int) -> bool:
        entry = self.entries.get(key)
        if entry is None:
            return True
        if entry["add"] <= 0 and entry["del"] <= 0:
            return True
        return now_ms - entry["set_ms"] > EXPECTATIONS_TIMEOUT_MS

    def creation_observed(self, key: str) -> None:
        entry = self.entries.get(key)
        if entry is not None:
            entry["add"] -= 1

    def deletion_observed(self, key: str, pod_key: str) -> None:
        entry = self.entries.get(key)
        if entry is not None and entry["deleting"].pop(pod_key, None):
            entry["del"] -= 1

    def forget(self, key: str) -> None:
        self.entries.pop(key, None)


def pod_ready_ms(pod: dict, start_epoch_ms: int) -> int | None:
    condition = pod_condition(pod, "Ready")
    if not condition or condition.get("status") != "True":
        return None
    return time_ms(condition.get("lastTransitionTime"), start_epoch_ms)


def _log2_rank(moment_ms: int, now_ms: int) -> int:
    elapsed_ns = (now_ms - moment_ms) * 1_000_000
    return int(math.log2(elapsed_ns)) if elapsed_ns > 0 else -1


def compare_for_deletion(a: dict, b: dict, rank: dict, now_ms: int, start_epoch_ms: int) -> int:
    """ActivePodsWithRanks.Less as a cmp: negative when `a` should be deleted before `b`.

    Unassigned < assigned; Pending < Unknown < Running; not ready < ready; lower
    pod-deletion-cost; more related pods on the same node; ready for less time (log2 buckets);
    more restarts; newer (log2 buckets); equal buckets fall back to the uid."""
    node_a, node_b = a["spec"].get("nodeName") or "", b["spec"].get("nodeName") or ""
    if node_a != node_b and (not node_a or not node_b):
        return -1 if not node_a else 1
    phase_a, phase_b = PHASE_ORDINAL.get(pod_phase(a), 0), PHASE_ORDINAL.get(pod_phase(b), 0)
    if phase_a != phase_b:
        return -1 if phase_a < phase_b else 1
    ready_a, ready_b = is_pod_ready(a), is_pod_ready(b)
    if ready_a != ready_b:
        return -1 if not ready_a else 1
    cost_a, cost_b = deletion_cost(a), deletion_cost(b)
    if cost_a != cost_b:
        return -1 if cost_a < cost_b else 1
    rank_a, rank_b = rank.get(key_of(a), 0), rank.get(key_of(b), 0)
    if rank_a != rank_b:
        return -1 if rank_a > rank_b else 1
    if ready_a and ready_b:
        outcome = _compare_times(pod_ready_ms(a, start_epoch_ms), pod_ready_ms(b, start_epoch_ms), a, b, now_ms)
        if outcome:
            return outcome
    restarts_a, restarts_b = max_container_restarts(a), max_container_restarts(b)
    if restarts_a != restarts_b:
        return -1 if restarts_a > restarts_b else 1
    created_a = time_ms(a["metadata"].get("creationTimestamp"), start_epoch_ms)
    created_b = time_ms(b["metadata"].get("creationTimestamp"), start_epoch_ms)
    return _compare_times(created_a, created_b, a, b, now_ms)


def _compare_times(time_a: int | None, time_b: int | None, a: dict, b: dict, now_ms: int) -> int:
    """Later (more recent) first, compared in log2 buckets of the age; 0 when equal."""
    if time_a == time_b:
        return 0
    if time_a is None or time_b is None:
        return -1 if time_a is None else 1
    difference = _log2_rank(time_a, now_ms) - _log2_rank(time_b, now_ms)
    if difference == 0:
        uid_a, uid_b = a["metadata"].get("uid", ""), b["metadata"].get("uid", "")
        return -1 if uid_a < uid_b else (1 if uid_a > uid_b else 0)
    return -1 if difference < 0 else 1


def pods_to_delete(pods: list, related: list, count: int, now_ms: int, start_epoch_ms: int) -> list:
    """getPodsToDelete: rank by active related pods on the same node, sort, take the first."""
    if count >= len(pods):
        return list(pods)
    on_node: dict[str, int] = {}
    for pod in related:
        if is_pod_active(pod):
            node = pod["spec"].get("nodeName") or ""
            on_node[node] = on_node.get(node, 0) + 1
    rank = {key_of(pod): on_node.get(pod["spec"].get("nodeName") or "", 0) for pod in pods}
    ordered = sorted(pods, key=functools.cmp_to_key(
        lambda a, b: compare_for_deletion(a, b, rank, now_ms, start_epoch_ms)))
    return ordered[:count]


def pod_from_template(owner: dict, template: dict) -> dict:
    template_metadata = template.get("metadata") or {}
    metadata = {"generateName": owner["metadata"]["name"] + "-", "namespace": owner["metadata"]["namespace"],
                "labels": dict(template_metadata.get("labels") or {}),
                "ownerReferences": [owner_reference(owner)]}
    if template_metadata.get("annotations"):
        metadata["annotations"] = dict(template_metadata["annotations"])
    if template_metadata.get("finalizers"):
        metadata["finalizers"] = list(template_metadata["finalizers"])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata,
            "spec": _deep_copy(template.get("spec") or {})}


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _deep_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_deep_copy(item) for item in value]
    return value


class PodOwnerController(Controller):
    """What the ReplicaSet and DaemonSet controllers share: expectations, pod creation in
    slow-start batches, deletion and their events."""

    owner_kind = ""
    owner_informer = ""

    def __init__(self, config: dict | None = None) -> None:
        super().__init__(config)
        self.expectations = Expectations()
        # key -> {"pending": [pod bodies still to create], "batch": size, "outstanding": n, "failed": bool}
        self.creating: dict[str, dict] = {}

    def owner_of(self, mgr: Any, pod: dict) -> dict | None:
        reference = controller_ref(pod)
        if reference is None or reference.get("kind") != self.owner_kind:
            return None
        owner = mgr.get(self.owner_informer, f"{pod['metadata']['namespace']}/{reference.get('name')}")
        if owner is None or owner["metadata"].get("uid") != reference.get("uid"):
            return None
        return owner

    # Pod events ---------------------------------------------------------------------------
    def on_pod_event(self, mgr: Any, event_type: str, pod: dict, old: dict | None) -> None:
        owner = self.owner_of(mgr, pod)
        if owner is not None:
            owner_key = key_of(owner)
            if event_type == "ADDED" and not is_terminating(pod):
                self.expectations.creation_observed(owner_key)
            became_terminating = is_terminating(pod) and (old is None or not is_terminating(old))
            if event_type == "DELETED" or became_terminating:
                self.expectations.deletion_observed(owner_key, key_of(pod))
            self.enqueue(mgr, owner_key)
            self.enqueue_for_availability(mgr, owner, pod, old)
        if old is not None:
            old_owner = self.owner_of(mgr, old)
            if old_owner is not None and old_owner is not owner:
                self.enqueue(mgr, key_of(old_owner))
        if controller_ref(pod) is None and event_type != "DELETED":
            self.enqueue_orphan_adopters(mgr, pod)

    def enqueue_for_availability(self, mgr: Any, owner: dict, pod: dict, old: dict | None) -> None:
        min_ready_seconds = (owner.get("spec") or {}).get("minReadySeconds") or 0
        if min_ready_seconds and old is not None and is_pod_ready(pod) and not is_pod_ready(old):
            self.enqueue_after(mgr, key_of(owner), min_ready_seconds * 1000 + 1000)

    def enqueue_orphan_adopters(self, mgr: Any, pod: dict) -> None:
        pass

    # Creating and deleting -----------------------------------------------------------------
    def create_pods(self, mgr: Any, key: str, owner: dict, bodies: list) -> None:
        self.expectations.expect(key, len(bodies), [], mgr.now_ms())
        self.creating[key] = {"pending": bodies, "batch": 0, "outstanding": 0, "failed": False}
        self.emit_sync(mgr, key, "create pods", len(bodies))
        self.next_batch(mgr, key)

    def next_batch(self, mgr: Any, key: str) -> None:
        state = self.creating.get(key)
        if state is None:
            return
        if state["failed"] or not state["pending"]:
            for _ in state["pending"]:
                # Pods never created are never observed: lower the expectation for them.
                self.expectations.creation_observed(key)
            del self.creating[key]
            return
        size = SLOW_START_INITIAL_BATCH if state["batch"] == 0 else 2 * state["batch"]
        size = min(size, len(state["pending"]))
        batch, state["pending"] = state["pending"][:size], state["pending"][size:]
        state["batch"] = size
        state["outstanding"] = size
        namespace, _ = split_key(key)
        for body in batch:
            self.request(mgr, key, "create", "pods", namespace=namespace, body=body, tag="pod_created")

    def result_pod_created(self, mgr: Any, context: dict, code: int, body: Any) -> bool:
        key = context["key"]
        owner = mgr.get(self.owner_informer, key)
        state = self.creating.get(key)
        ok = 200 <= code < 300
        if ok and owner is not None:
            self.record(mgr, owner, "Normal", "SuccessfulCreate", f"Created pod: {body['metadata']['name']}")
        elif not ok:
            self.expectations.creation_observed(key)
            message = (body or {}).get("message", "") if isinstance(body, dict) else str(body)
            if owner is not None:
                self.record(mgr, owner, "Warning", "FailedCreate", f"Error creating: {message}")
        if state is not None:
            state["outstanding"] -= 1
            state["failed"] = state["failed"] or not ok
            if state["outstanding"] <= 0:
                self.next_batch(mgr, key)
        return ok

    def delete_pods(self, mgr: Any, key: str, owner: dict, victims: list) -> None:
        self.expectations.expect(key, 0, [key_of(pod) for pod in victims], mgr.now_ms())
        self.emit_sync(mgr, key, "delete pods", len(victims))
        for pod in victims:
            self.request(mgr, key, "delete", "pods", namespace=pod["metadata"]["namespace"],
                         name=pod["metadata"]["name"], tag="pod_deleted", data=key_of(pod))

    def result_pod_deleted(self, mgr: Any, context: dict, code: int, body: Any) -> bool:
        key = context["key"]
        owner = mgr.get(self.owner_informer, key)
        pod_name = split_key(context["data"])[1]
        if 200 <= code < 300:
            if owner is not None:
                self.record(mgr, owner, "Normal", "SuccessfulDelete", f"Deleted pod: {pod_name}")
            return True
        # The informer will never see this deletion: stop waiting for it.
        self.expectations.deletion_observed(key, context["data"])
        if code == 404:
            return True
        if owner is not None:
            message = (body or {}).get("message", "") if isinstance(body, dict) else str(body)
            self.record(mgr, owner, "Warning", "FailedDelete", f"Error deleting: {message}")
        return False


class ReplicaSetController(PodOwnerController):
    name = "replicaset-controller"
    event_source = "replicaset-controller"
    informers = ("replicasets", "pods")
    owner_kind = "ReplicaSet"
    owner_informer = "replicasets"

    def on_event(self, mgr: Any, informer: str, event_type: str, obj: dict, old: dict | None) -> None:
        if informer == "pods":
            self.on_pod_event(mgr, event_type, obj, old)
            return
        if event_type == "DELETED":
            self.expectations.forget(key_of(obj))
        self.enqueue(mgr, key_of(obj))

    def enqueue_orphan_adopters(self, mgr: Any, pod: dict) -> None:
        namespace = pod["metadata"]["namespace"]
        for key, rs in mgr.store("replicasets").items():
            if key.startswith(namespace + "/") and selector_matches(rs["spec"].get("selector"), pod["metadata"].get("labels")):
                self.enqueue(mgr, key)

    def sync(self, mgr: Any, key: str) -> None:
        rs = mgr.get("replicasets", key)
        if rs is None:
            self.expectations.forget(key)
            self.creating.pop(key, None)
            return
        pods = self.claim_pods(mgr, key, rs)
        active = [pod for pod in pods if is_pod_active(pod)]
        now_ms = mgr.now_ms()
        if self.expectations.satisfied(key, now_ms) and not is_terminating(rs) and key not in self.creating:
            self.manage_replicas(mgr, key, rs, active)
        self.update_status(mgr, key, rs, active)

    def claim_pods(self, mgr: Any, key: str, rs: dict) -> list:
        """ClaimPods: owned pods that still match, plus matching orphans this sync adopts."""
        uid = rs["metadata"]["uid"]
        selector = rs["spec"].get("selector")
        claimed = []
        for pod in mgr.pods_in_namespace(rs["metadata"]["namespace"]):
            reference = controller_ref(pod)
            labels = pod["metadata"].get("labels")
            if reference is not None:
                if reference.get("uid") == uid:
                    if selector_matches(selector, labels):
                        claimed.append(pod)
                    elif not is_terminating(pod):
                        self.release(mgr, key, pod, uid)
                continue
            if selector_matches(selector, labels) and not is_terminating(pod) and not is_terminating(rs):
                self.adopt(mgr, key, rs, pod)
                claimed.append(pod)
        return claimed

    def adopt(self, mgr: Any, key: str, owner: dict, pod: dict) -> None:
        references = list(pod["metadata"].get("ownerReferences") or []) + [owner_reference(owner)]
        self.request(mgr, key, "patch", "pods", namespace=pod["metadata"]["namespace"], name=pod["metadata"]["name"],
                     body={"metadata": {"ownerReferences": references}}, params={"patchType": "merge"})

    def release(self, mgr: Any, key: str, pod: dict, uid: str) -> None:
        references = [ref for ref in pod["metadata"].get("ownerReferences") or [] if ref.get("uid") != uid]
        self.request(mgr, key, "patch", "pods", namespace=pod["metadata"]["namespace"], name=pod["metadata"]["name"],
                     body={"metadata": {"ownerReferences": references}}, params={"patchType": "merge"})

    def manage_replicas(self, mgr: Any, key: str, rs: dict, active: list) -> None:
        wanted = rs["spec"].get("replicas", 1)
        difference = len(active) - wanted
        if difference < 0:
            count = min(-difference, BURST_REPLICAS)
            template = rs["spec"].get("template") or {}
            self.create_pods(mgr, key, rs, [pod_from_template(rs, template) for _ in range(count)])
        elif difference > 0:
            count = min(difference, BURST_REPLICAS)
            related = self.related_pods(mgr, rs)
            victims = pods_to_delete(active, related, count, mgr.now_ms(), mgr.sim.start_epoch_ms)
            self.delete_pods(mgr, key, rs, victims)

    def related_pods(self, mgr: Any, rs: dict) -> list:
        """getIndirectlyRelatedPods: pods of every ReplicaSet with the same controller (Deployment)."""
        owner = controller_ref(rs)
        if owner is None:
            return mgr.pods_controlled_by(rs)
        related = []
        namespace = rs["metadata"]["namespace"]
        for other_key, other in mgr.store("replicasets").items():
            if other_key.startswith(namespace + "/") and (controller_ref(other) or {}).get("uid") == owner.get("uid"):
                related.extend(mgr.pods_controlled_by(other))
        return related

    def update_status(self, mgr: Any, key: str, rs: dict, active: list) -> None:
        spec = rs["spec"]
        template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        min_ready = spec.get("minReadySeconds") or 0
        now_ms, start = mgr.now_ms(), mgr.sim.start_epoch_ms
        ready = sum(1 for pod in active if is_pod_ready(pod))
        available = sum(1 for pod in active if is_pod_available(pod, min_ready, now_ms, start))
        labelled = sum(1 for pod in active
                       if all((pod["metadata"].get("labels") or {}).get(k) == v for k, v in template_labels.items()))
        current = rs.get("status") or {}
        status = dict(current, replicas=len(active), fullyLabeledReplicas=labelled, readyReplicas=ready,
                      availableReplicas=available, observedGeneration=rs["metadata"].get("generation", 1))
        if status != current:
            self.request(mgr, key, "patch", "replicasets", namespace=rs["metadata"]["namespace"],
                         name=rs["metadata"]["name"], subresource="status", body={"status": status},
                         params={"patchType": "merge"})
        if min_ready and ready != available:
            self.enqueue_after(mgr, key, min_ready * 1000)
