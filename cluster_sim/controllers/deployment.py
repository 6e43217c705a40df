"""deployment-controller (pkg/controller/deployment): rollouts through ReplicaSets.

RollingUpdate scales the new ReplicaSet up within maxSurge and old ones down within
maxUnavailable; Recreate scales old ones to zero and waits for their pods to be gone. Revisions,
the desired/max-replicas annotations, proportional scaling, pause, the progress deadline and
revision-history cleanup follow the real controller (sync.go, rolling.go, recreate.go,
progress.go, util/deployment_util.go).
"""
from __future__ import annotations

import math
from typing import Any

from .base import Controller
from .helpers import (POD_TEMPLATE_HASH_LABEL, compute_hash, controller_ref, find_condition, is_terminating,
                      key_of, owner_reference, pod_phase, selector_matches, set_condition, split_key,
                      templates_equal_ignoring_hash, time_ms)

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
# Deployment annotations never copied onto its ReplicaSets (annotationsToSkip).
ANNOTATIONS_NOT_COPIED = ("kubectl.kubernetes.io/last-applied-configuration", REVISION, REVISION_HISTORY,
                          DESIRED_REPLICAS, MAX_REPLICAS, "deprecated.deployment.rollback.to")


# --- pure arithmetic (util/deployment_util.go) -------------------------------------------------

def scaled_value(value: Any, total: int, round_up: bool) -> int:
    """intstr.GetScaledValueFromIntOrPercent."""
    if isinstance(value, int):
        return value
    text = str(value)
    if text.endswith("%"):
        exact = int(text[:-1]) * total / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return int(text)


def resolve_fenceposts(max_surge: Any, max_unavailable: Any, replicas: int) -> list:
    surge = scaled_value(max_surge if max_surge is not None else 0, replicas, True)
    unavailable = scaled_value(max_unavailable if max_unavailable is not None else 0, replicas, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return [surge, unavailable]


def rolling_params(deployment: dict) -> dict | None:
    strategy = deployment["spec"].get("strategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return None
    return strategy.get("rollingUpdate") or {"maxSurge": "25%", "maxUnavailable": "25%"}


def max_surge(deployment: dict) -> int:
    params = rolling_params(deployment)
    if params is None:
        return 0
    return resolve_fenceposts(params.get("maxSurge"), params.get("maxUnavailable"), replicas_of(deployment))[0]


def max_unavailable(deployment: dict) -> int:
    params = rolling_params(deployment)
    replicas = replicas_of(deployment)
    if params is None or replicas == 0:
        return 0
    unavailable = resolve_fenceposts(params.get("maxSurge"), params.get("maxUnavailable"), replicas)[1]
    return min(unavailable, replicas)


def replicas_of(obj: dict) -> int:
    replicas = obj["spec"].get("replicas")
    return 1 if replicas is None else replicas


def spec_total(replica_sets: list) -> int:
    return sum(replicas_of(rs) for rs in replica_sets if rs is not None)


def status_total(replica_sets: list, field: str) -> int:
    return sum((rs.get("status") or {}).get(field, 0) for rs in replica_sets if rs is not None)


def revision_of(obj: dict) -> int:
    try:
        return int((obj["metadata"].get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def new_rs_replicas(deployment: dict, all_sets: list, new_rs: dict) -> int:
    """NewRSNewReplicas: how big the new ReplicaSet may grow now."""
    if rolling_params(deployment) is None:
        return replicas_of(deployment)
    current = spec_total(all_sets)
    max_total = replicas_of(deployment) + max_surge(deployment)
    if current >= max_total:
        return replicas_of(new_rs)
    scale_up = min(max_total - current, replicas_of(deployment) - replicas_of(new_rs))
    return replicas_of(new_rs) + scale_up


def by_creation(replica_sets: list) -> list:
    return sorted(replica_sets, key=lambda rs: (rs["metadata"].get("creationTimestamp") or "", rs["metadata"]["name"]))


class DeploymentController(Controller):
    name = "deployment-controller"
    event_source = "deployment-controller"
    informers = ("deployments", "replicasets", "pods")

    def __init__(self, config: dict | None = None) -> None:
        super().__init__(config)
        # Working copies of ReplicaSets changed during the current sync of a key (by rs key).
        self.scratch: dict[str, dict] = {}

    # Events -------------------------------------------------------------------------------
    def on_event(self, mgr: Any, informer: str, event_type: str, obj: dict, old: dict | None) -> None:
        if informer == "deployments":
            self.enqueue(mgr, key_of(obj))
            return
        if informer == "replicasets":
            owner = self.owner_of(mgr, obj) or (self.owner_of(mgr, old) if old else None)
            if owner is not None:
                self.enqueue(mgr, key_of(owner))
            elif event_type != "DELETED":
                self.enqueue_orphan_adopters(mgr, obj)
            return
        if event_type == "DELETED":
            # Recreate waits for old pods to disappear.
            deployment = self.deployment_of_pod(mgr, obj)
            if deployment is not None and (deployment["spec"].get("strategy") or {}).get("type") == "Recreate":
                self.enqueue(mgr, key_of(deployment))

    def owner_of(self, mgr: Any, rs: dict) -> dict | None:
        reference = controller_ref(rs)
        if reference is None or reference.get("kind") != "Deployment":
            return None
        deployment = mgr.get("deployments", f"{rs['metadata']['namespace']}/{reference.get('name')}")
        if deployment is None or deployment["metadata"].get("uid") != reference.get("uid"):
            return None
        return deployment

    def deployment_of_pod(self, mgr: Any, pod: dict) -> dict | None:
        reference = controller_ref(pod)
        if reference is None or reference.get("kind") != "ReplicaSet":
            return None
        rs = mgr.get("replicasets", f"{pod['metadata']['namespace']}/{reference.get('name')}")
        return self.owner_of(mgr, rs) if rs is not None else None

    def enqueue_orphan_adopters(self, mgr: Any, rs: dict) -> None:
        namespace = rs["metadata"]["namespace"]
        for key, deployment in mgr.store("deployments").items():
            if key.startswith(namespace + "/") and selector_matches(deployment["spec"].get("selector"),
                                                                    rs["metadata"].get("labels")):
                self.enqueue(mgr, key)

    # Sync ---------------------------------------------------------------------------------
    def sync(self, mgr: Any, key: str) -> None:
        deployment = mgr.get("deployments", key)
        if deployment is None:
            return
        self.scratch = {}
        replica_sets = self.claim_replica_sets(mgr, key, deployment)
        if is_terminating(deployment):
            self.sync_status(mgr, key, deployment, replica_sets, self.find_new(deployment, replica_sets))
            return
        if self.paused_condition_changed(mgr, key, deployment):
            return
        if deployment["spec"].get("paused") or self.is_scaling_event(deployment, replica_sets):
            self.sync_scale(mgr, key, deployment, replica_sets)
            return
        if (deployment["spec"].get("strategy") or {}).get("type") == "Recreate":
            self.rollout_recreate(mgr, key, deployment, replica_sets)
        else:
            self.rollout_rolling(mgr, key, deployment, replica_sets)

    def claim_replica_sets(self, mgr: Any, key: str, deployment: dict) -> list:
        uid = deployment["metadata"]["uid"]
        namespace = deployment["metadata"]["namespace"]
        claimed = []
        for rs_key, rs in mgr.store("replicasets").items():
            if not rs_key.startswith(namespace + "/"):
                continue
            reference = controller_ref(rs)
            if reference is not None and reference.get("uid") == uid:
                claimed.append(rs)
            elif reference is None and not is_terminating(deployment) and selector_matches(
                    deployment["spec"].get("selector"), rs["metadata"].get("labels")):
                references = list(rs["metadata"].get("ownerReferences") or []) + [owner_reference(deployment)]
                self.request(mgr, key, "patch", "replicasets", namespace=namespace, name=rs["metadata"]["name"],
                             body={"metadata": {"ownerReferences": references}}, params={"patchType": "merge"})
                claimed.append(rs)
        return claimed

    def find_new(self, deployment: dict, replica_sets: list) -> dict | None:
        """FindNewReplicaSet: the oldest ReplicaSet whose template equals the Deployment's."""
        template = deployment["spec"].get("template") or {}
        expected_hash = compute_hash(template, (deployment.get("status") or {}).get("collisionCount"))
        for rs in by_creation(replica_sets):
            rs_template = rs["spec"].get("template") or {}
            labels = (rs["metadata"].get("labels") or {})
            # The hash check covers templates the apiserver defaulted differently on the two kinds.
            if templates_equal_ignoring_hash(rs_template, template) or labels.get(POD_TEMPLATE_HASH_LABEL) == expected_hash:
                return rs
        return None

    def is_scaling_event(self, deployment: dict, replica_sets: list) -> bool:
        for rs in replica_sets:
            if replicas_of(rs) == 0:
                continue
            desired = (rs["metadata"].get("annotations") or {}).get(DESIRED_REPLICAS)
            if desired is not None and desired != str(replicas_of(deployment)):
                return True
        return False

    def paused_condition_changed(self, mgr: Any, key: str, deployment: dict) -> bool:
        """checkPausedConditions: Progressing Unknown while paused, DeploymentResumed after."""
        if deployment["spec"].get("progressDeadlineSeconds") is None:
            return False
        conditions = list((deployment.get("status") or {}).get("conditions") or [])
        progressing = find_condition(conditions, "Progressing")
        paused = bool(deployment["spec"].get("paused"))
        was_paused = progressing is not None and progressing.get("reason") == "DeploymentPaused"
        if paused and not was_paused:
            new = self.condition(mgr, "Progressing", "Unknown", "DeploymentPaused", "Deployment is paused")
        elif not paused and was_paused:
            new = self.condition(mgr, "Progressing", "Unknown", "DeploymentResumed", "Deployment is resumed")
        else:
            return False
        status = dict(deployment.get("status") or {}, conditions=set_condition(conditions, new))
        self.write_status(mgr, key, deployment, status)
        return True

    def condition(self, mgr: Any, condition_type: str, status: str, reason: str, message: str) -> dict:
        now = mgr.now_text()
        return {"type": condition_type, "status": status, "lastUpdateTime": now, "lastTransitionTime": now,
                "reason": reason, "message": message}

    # getAllReplicaSetsAndSyncRevision ------------------------------------------------------
    def new_and_old(self, mgr: Any, key: str, deployment: dict, replica_sets: list, create: bool) -> list:
        new_rs = self.find_new(deployment, replica_sets)
        old_sets = [rs for rs in replica_sets if rs is not new_rs]
        new_revision = max([revision_of(rs) for rs in old_sets] or [0]) + 1
        if new_rs is not None:
            new_rs = self.sync_existing_new(mgr, key, deployment, new_rs, new_revision)
        elif create:
            new_rs = self.create_new(mgr, key, deployment, old_sets, new_revision)
        return [new_rs, old_sets]

    def sync_existing_new(self, mgr: Any, key: str, deployment: dict, rs: dict, new_revision: int) -> dict:
        annotations = dict(rs["metadata"].get("annotations") or {})
        changed = False
        current = revision_of(rs)
        if current < new_revision:
            if current:
                history = [item for item in annotations.get(REVISION_HISTORY, "").split(",") if item]
                annotations[REVISION_HISTORY] = ",".join(history + [str(current)])
            annotations[REVISION] = str(new_revision)
            changed = True
        if changed:
            rs = dict(rs, metadata=dict(rs["metadata"], annotations=annotations))
            self.update_rs(mgr, key, rs)
        self.sync_deployment_revision(mgr, key, deployment, annotations.get(REVISION, str(new_revision)))
        conditions = (deployment.get("status") or {}).get("conditions") or []
        if deployment["spec"].get("progressDeadlineSeconds") is not None and find_condition(conditions, "Progressing") is None:
            message = f'Found new replica set "{rs["metadata"]["name"]}"'
            new = self.condition(mgr, "Progressing", "True", "FoundNewReplicaSet", message)
            self.write_status(mgr, key, deployment, dict(deployment.get("status") or {},
                                                          conditions=set_condition(list(conditions), new)))
        return rs

    def sync_deployment_revision(self, mgr: Any, key: str, deployment: dict, revision: str) -> None:
        annotations = deployment["metadata"].get("annotations") or {}
        if annotations.get(REVISION) != revision:
            namespace, name = split_key(key)
            self.request(mgr, key, "patch", "deployments", namespace=namespace, name=name,
                         body={"metadata": {"annotations": {REVISION: revision}}}, params={"patchType": "merge"})

    def create_new(self, mgr: Any, key: str, deployment: dict, old_sets: list, new_revision: int) -> dict:
        template = deployment["spec"].get("template") or {}
        collision_count = (deployment.get("status") or {}).get("collisionCount")
        template_hash = compute_hash(template, collision_count)
        name = f"{deployment['metadata']['name']}-{template_hash}"
        rs_template = _copy(template)
        rs_template.setdefault("metadata", {})
        rs_template["metadata"]["labels"] = dict(rs_template["metadata"].get("labels") or {},
                                                 **{POD_TEMPLATE_HASH_LABEL: template_hash})
        selector = _copy(deployment["spec"].get("selector") or {})
        selector["matchLabels"] = dict(selector.get("matchLabels") or {}, **{POD_TEMPLATE_HASH_LABEL: template_hash})
        annotations = {k: v for k, v in (deployment["metadata"].get("annotations") or {}).items()
                       if k not in ANNOTATIONS_NOT_COPIED}
        annotations[REVISION] = str(new_revision)
        annotations[DESIRED_REPLICAS] = str(replicas_of(deployment))
        annotations[MAX_REPLICAS] = str(replicas_of(deployment) + max_surge(deployment))
        rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
              "metadata": {"name": name, "namespace": deployment["metadata"]["namespace"],
                           "labels": dict(rs_template["metadata"]["labels"]), "annotations": annotations,
                           "ownerReferences": [owner_reference(deployment)],
                           "creationTimestamp": mgr.now_text()},
              "spec": {"replicas": 0, "minReadySeconds": deployment["spec"].get("minReadySeconds") or 0,
                       "selector": selector, "template": rs_template}}
        replicas = new_rs_replicas(deployment, old_sets + [rs], rs)
        rs["spec"]["replicas"] = replicas
        body = _copy(rs)
        body["metadata"].pop("creationTimestamp")
        self.emit_sync(mgr, key, f"create replica set {name}", replicas)
        self.request(mgr, key, "create", "replicasets", namespace=rs["metadata"]["namespace"], body=body,
                     tag="rs_created", data={"name": name, "replicas": replicas})
        self.sync_deployment_revision(mgr, key, deployment, str(new_revision))
        self.scratch[f"{rs['metadata']['namespace']}/{name}"] = rs
        return rs

    def result_rs_created(self, mgr: Any, context: dict, code: int, body: Any) -> bool:
        key = context["key"]
        deployment = mgr.get("deployments", key)
        if deployment is None:
            return True
        name, replicas = context["data"]["name"], context["data"]["replicas"]
        if code == 201:
            if replicas > 0:
                self.record(mgr, deployment, "Normal", "ScalingReplicaSet",
                            f"Scaled up replica set {name} from 0 to {replicas}")
            if deployment["spec"].get("progressDeadlineSeconds") is not None:
                new = self.condition(mgr, "Progressing", "True", "NewReplicaSetCreated",
                                     f'Created new replica set "{name}"')
                conditions = list((deployment.get("status") or {}).get("conditions") or [])
                self.write_status(mgr, key, deployment, dict(deployment.get("status") or {},
                                                              conditions=set_condition(conditions, new)))
            return True
        if code == 409:
            return self.handle_collision(mgr, key, deployment, name)
        return False

    def handle_collision(self, mgr: Any, key: str, deployment: dict, name: str) -> bool:
        """An existing ReplicaSet of that name: ours and equal is fine, else bump collisionCount."""
        existing = mgr.get("replicasets", f"{deployment['metadata']['namespace']}/{name}")
        if existing is None:
            return False
        ours = (controller_ref(existing) or {}).get("uid") == deployment["metadata"]["uid"]
        if ours and templates_equal_ignoring_hash(existing["spec"].get("template") or {},
                                                  deployment["spec"].get("template") or {}):
            return True
        status = dict(deployment.get("status") or {})
        status["collisionCount"] = status.get("collisionCount", 0) + 1
        self.write_status(mgr, key, deployment, status)
        return False

    # Scaling helpers ------------------------------------------------------------------------
    def scale(self, mgr: Any, key: str, deployment: dict, rs: dict, new_scale: int, *, always: bool = False) -> dict:
        """scaleReplicaSetAndRecordEvent (or, with `always`, scaleReplicaSet, which also refreshes
        the desired/max-replicas annotations at an unchanged size); returns the working copy."""
        if rs is None:
            return rs
        old_scale = replicas_of(rs)
        annotations = dict(rs["metadata"].get("annotations") or {})
        desired, maximum = str(replicas_of(deployment)), str(replicas_of(deployment) + max_surge(deployment))
        stale = annotations.get(DESIRED_REPLICAS) != desired or annotations.get(MAX_REPLICAS) != maximum
        if old_scale == new_scale and not (always and stale):
            return rs
        annotations[DESIRED_REPLICAS], annotations[MAX_REPLICAS] = desired, maximum
        updated = dict(rs, metadata=dict(rs["metadata"], annotations=annotations),
                       spec=dict(rs["spec"], replicas=new_scale))
        event = None
        if new_scale != old_scale:
            direction = "up" if new_scale > old_scale else "down"
            event = f"Scaled {direction} replica set {rs['metadata']['name']} from {old_scale} to {new_scale}"
        self.update_rs(mgr, key, updated, event=event)
        return updated

    def update_rs(self, mgr: Any, key: str, rs: dict, event: str | None = None) -> None:
        rs_key = key_of(rs)
        if rs_key in self.scratch and "resourceVersion" not in rs["metadata"]:
            # Created in this sync and not yet seen: the create carries its size already.
            self.scratch[rs_key] = rs
            return
        self.scratch[rs_key] = rs
        self.emit_sync(mgr, key, f"scale {rs['metadata']['name']} to {rs['spec']['replicas']}",
                       rs["spec"]["replicas"])
        self.request(mgr, key, "update", "replicasets", namespace=rs["metadata"]["namespace"],
                     name=rs["metadata"]["name"], body=rs, tag="rs_updated", data={"event": event})

    def result_rs_updated(self, mgr: Any, context: dict, code: int, body: Any) -> bool:
        deployment = mgr.get("deployments", context["key"])
        event = (context.get("data") or {}).get("event")
        if 200 <= code < 300 and event and deployment is not None:
            self.record(mgr, deployment, "Normal", "ScalingReplicaSet", event)
        return 200 <= code < 300 or code == 404

    # Rolling update (rolling.go) -----------------------------------------------------------
    def rollout_rolling(self, mgr: Any, key: str, deployment: dict, replica_sets: list) -> None:
        new_rs, old_sets = self.new_and_old(mgr, key, deployment, replica_sets, True)
        all_sets = old_sets + [new_rs]
        if self.reconcile_new(mgr, key, deployment, all_sets, new_rs):
            self.sync_rollout_status(mgr, key, deployment, self.current(old_sets + [new_rs]), self.current([new_rs])[0])
            return
        if self.reconcile_old(mgr, key, deployment, all_sets, old_sets, new_rs):
            self.sync_rollout_status(mgr, key, deployment, self.current(old_sets + [new_rs]), self.current([new_rs])[0])
            return
        if self.complete(deployment, self.calculate_status(mgr, deployment, all_sets, new_rs)):
            self.cleanup(mgr, key, deployment, old_sets)
        self.sync_rollout_status(mgr, key, deployment, all_sets, new_rs)

    def current(self, replica_sets: list) -> list:
        return [self.scratch.get(key_of(rs), rs) if rs is not None else None for rs in replica_sets]

    def reconcile_new(self, mgr: Any, key: str, deployment: dict, all_sets: list, new_rs: dict) -> bool:
        if replicas_of(new_rs) == replicas_of(deployment):
            return False
        if replicas_of(new_rs) > replicas_of(deployment):
            return self.scale(mgr, key, deployment, new_rs, replicas_of(deployment)) is not new_rs
        wanted = new_rs_replicas(deployment, all_sets, new_rs)
        return self.scale(mgr, key, deployment, new_rs, wanted) is not new_rs

    def reconcile_old(self, mgr: Any, key: str, deployment: dict, all_sets: list, old_sets: list, new_rs: dict) -> bool:
        active_old = [rs for rs in old_sets if replicas_of(rs) > 0]
        if spec_total(active_old) == 0:
            return False
        all_pods = spec_total(all_sets)
        min_available = replicas_of(deployment) - max_unavailable(deployment)
        new_unavailable = replicas_of(new_rs) - (new_rs.get("status") or {}).get("availableReplicas", 0)
        max_scaled_down = all_pods - min_available - new_unavailable
        if max_scaled_down <= 0:
            return False
        active_old, cleaned = self.cleanup_unhealthy(mgr, key, deployment, active_old, max_scaled_down)
        scaled = self.scale_down_old(mgr, key, deployment, active_old + [new_rs], active_old)
        return cleaned + scaled > 0

    def cleanup_unhealthy(self, mgr: Any, key: str, deployment: dict, old_sets: list, max_cleanup: int) -> list:
        total = 0
        result = []
        for rs in by_creation(old_sets):
            available = (rs.get("status") or {}).get("availableReplicas", 0)
            if total >= max_cleanup or replicas_of(rs) == 0 or replicas_of(rs) == available:
                result.append(rs)
                continue
            count = min(max_cleanup - total, replicas_of(rs) - available)
            result.append(self.scale(mgr, key, deployment, rs, replicas_of(rs) - count))
            total += count
        return [result, total]

    def scale_down_old(self, mgr: Any, key: str, deployment: dict, all_sets: list, old_sets: list) -> int:
        min_available = replicas_of(deployment) - max_unavailable(deployment)
        available = status_total(all_sets, "availableReplicas")
        if available <= min_available:
            return 0
        wanted = available - min_available
        total = 0
        for rs in by_creation(old_sets):
            if total >= wanted:
                break
            if replicas_of(rs) == 0:
                continue
            count = min(replicas_of(rs), wanted - total)
            self.scale(mgr, key, deployment, rs, replicas_of(rs) - count)
            total += count
        return total

    # Recreate (recreate.go) -------------------------------------------------------------------
    def rollout_recreate(self, mgr: Any, key: str, deployment: dict, replica_sets: list) -> None:
        new_rs, old_sets = self.new_and_old(mgr, key, deployment, replica_sets, False)
        scaled_down = False
        for rs in old_sets:
            if replicas_of(rs) > 0:
                self.scale(mgr, key, deployment, rs, 0)
                scaled_down = True
        if scaled_down or self.old_pods_running(mgr, new_rs, old_sets):
            self.sync_rollout_status(mgr, key, deployment, self.current(old_sets + [new_rs]), self.current([new_rs])[0])
            return
        if new_rs is None:
            new_rs, old_sets = self.new_and_old(mgr, key, deployment, replica_sets, True)
        elif replicas_of(new_rs) != replicas_of(deployment):
            new_rs = self.scale(mgr, key, deployment, new_rs, replicas_of(deployment))
        all_sets = old_sets + [new_rs]
        if self.complete(deployment, self.calculate_status(mgr, deployment, all_sets, new_rs)):
            self.cleanup(mgr, key, deployment, old_sets)
        self.sync_rollout_status(mgr, key, deployment, all_sets, new_rs)

    def old_pods_running(self, mgr: Any, new_rs: dict | None, old_sets: list) -> bool:
        if status_total(old_sets, "replicas") > 0:
            return True
        for rs in old_sets:
            for pod in mgr.pods_controlled_by(rs):
                if pod_phase(pod) not in ("Failed", "Succeeded"):
                    return True
        return False

    # Scaling event / paused (sync.go scale) ----------------------------------------------
    def sync_scale(self, mgr: Any, key: str, deployment: dict, replica_sets: list) -> None:
        new_rs, old_sets = self.new_and_old(mgr, key, deployment, replica_sets, False)
        self.proportional_scale(mgr, key, deployment, new_rs, old_sets)
        if deployment["spec"].get("paused"):
            self.cleanup(mgr, key, deployment, old_sets)
        all_sets = self.current(old_sets + ([new_rs] if new_rs is not None else []))
        new_rs = self.current([new_rs])[0] if new_rs is not None else None
        self.sync_status(mgr, key, deployment, all_sets, new_rs)

    def proportional_scale(self, mgr: Any, key: str, deployment: dict, new_rs: dict | None, old_sets: list) -> None:
        replicas = replicas_of(deployment)
        active = [rs for rs in old_sets + ([new_rs] if new_rs is not None else []) if replicas_of(rs) > 0]
        if len(active) <= 1:
            target = active[0] if active else (new_rs if new_rs is not None else (by_creation(old_sets) or [None])[-1])
            if target is not None:
                self.scale(mgr, key, deployment, target, replicas, always=True)
            return
        if new_rs is not None and self.saturated(deployment, new_rs):
            for rs in old_sets:
                if replicas_of(rs) > 0:
                    self.scale(mgr, key, deployment, rs, 0)
            return
        if rolling_params(deployment) is None:
            return
        allowed = replicas + max_surge(deployment) if replicas > 0 else 0
        to_add = allowed - spec_total(active)
        if to_add == 0:
            return
        # Scale up: newest first; scale down: biggest first (ReplicaSetsBySizeNewer/Older).
        if to_add > 0:
            ordered = sorted(active, key=lambda rs: (-replicas_of(rs), _negated(rs["metadata"].get("creationTimestamp") or "")))
        else:
            ordered = sorted(active, key=lambda rs: (-replicas_of(rs), rs["metadata"].get("creationTimestamp") or ""))
        added = 0
        sizes = {}
        for rs in ordered:
            proportion = self.proportion(deployment, rs, to_add, added)
            sizes[key_of(rs)] = replicas_of(rs) + proportion
            added += proportion
        leftover = to_add - added
        for index, rs in enumerate(ordered):
            size = sizes[key_of(rs)] + (leftover if index == 0 else 0)
            self.scale(mgr, key, deployment, rs, max(size, 0), always=True)

    def proportion(self, deployment: dict, rs: dict, to_add: int, added: int) -> int:
        if replicas_of(rs) == 0 or to_add == 0 or to_add == added:
            return 0
        annotated = (rs["metadata"].get("annotations") or {}).get(MAX_REPLICAS)
        try:
            annotated_replicas = int(annotated) if annotated is not None else 0
        except ValueError:
            annotated_replicas = 0
        if annotated_replicas == 0:
            annotated_replicas = (deployment.get("status") or {}).get("replicas", 0)
        if annotated_replicas == 0:
            return 0
        maximum = replicas_of(deployment) + max_surge(deployment)
        fraction = int(_round_half_away(replicas_of(rs) * maximum / annotated_replicas)) - replicas_of(rs)
        allowed = to_add - added
        return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)

    def saturated(self, deployment: dict, rs: dict) -> bool:
        desired = (rs["metadata"].get("annotations") or {}).get(DESIRED_REPLICAS)
        return (replicas_of(rs) == replicas_of(deployment) and desired == str(replicas_of(deployment))
                and (rs.get("status") or {}).get("availableReplicas", 0) == replicas_of(deployment))

    # Cleanup (revision history) ----------------------------------------------------------
    def cleanup(self, mgr: Any, key: str, deployment: dict, old_sets: list) -> None:
        limit = deployment["spec"].get("revisionHistoryLimit")
        if limit is None:
            return
        cleanable = [rs for rs in old_sets if not is_terminating(rs)]
        excess = len(cleanable) - limit
        if excess <= 0:
            return
        ordered = sorted(cleanable, key=lambda rs: (revision_of(rs), rs["metadata"].get("creationTimestamp") or ""))
        for rs in ordered[:excess]:
            status = rs.get("status") or {}
            if status.get("replicas", 0) != 0 or replicas_of(rs) != 0:
                continue
            if rs["metadata"].get("generation", 1) > status.get("observedGeneration", 0):
                continue
            self.emit_sync(mgr, key, f"delete old replica set {rs['metadata']['name']}")
            self.request(mgr, key, "delete", "replicasets", namespace=rs["metadata"]["namespace"],
                         name=rs["metadata"]["name"])

    # Status (sync.go calculateStatus, progress.go) ----------------------------------------
    def calculate_status(self, mgr: Any, deployment: dict, all_sets: list, new_rs: dict | None) -> dict:
        all_sets = [rs for rs in all_sets if rs is not None]
        available = status_total(all_sets, "availableReplicas")
        unavailable = max(spec_total(all_sets) - available, 0)
        previous = deployment.get("status") or {}
        status = {"observedGeneration": deployment["metadata"].get("generation", 1),
                  "replicas": status_total(all_sets, "replicas"),
                  "updatedReplicas": status_total([new_rs], "replicas") if new_rs is not None else 0,
                  "readyReplicas": status_total(all_sets, "readyReplicas"),
                  "availableReplicas": available, "unavailableReplicas": unavailable}
        if previous.get("collisionCount") is not None:
            status["collisionCount"] = previous["collisionCount"]
        conditions = list(previous.get("conditions") or [])
        if available >= replicas_of(deployment) - max_unavailable(deployment):
            new = self.condition(mgr, "Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
        else:
            new = self.condition(mgr, "Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.")
        status["conditions"] = set_condition(conditions, new)
        return status

    def complete(self, deployment: dict, status: dict) -> bool:
        replicas = replicas_of(deployment)
        return (status["updatedReplicas"] == replicas and status["replicas"] == replicas
                and status["availableReplicas"] == replicas
                and status["observedGeneration"] >= deployment["metadata"].get("generation", 1))

    def progressing(self, deployment: dict, status: dict) -> bool:
        old = deployment.get("status") or {}
        old_old = old.get("replicas", 0) - old.get("updatedReplicas", 0)
        new_old = status["replicas"] - status["updatedReplicas"]
        return (status["updatedReplicas"] > old.get("updatedReplicas", 0) or new_old < old_old
                or status["readyReplicas"] > old.get("readyReplicas", 0)
                or status["availableReplicas"] > old.get("availableReplicas", 0))

    def timed_out(self, mgr: Any, deployment: dict, status: dict) -> bool:
        progressing = find_condition(status.get("conditions") or [], "Progressing")
        if progressing is None:
            return False
        if progressing.get("reason") == "ProgressDeadlineExceeded":
            return True
        since_ms = time_ms(progressing.get("lastUpdateTime"), mgr.sim.start_epoch_ms)
        deadline_s = deployment["spec"].get("progressDeadlineSeconds") or 0
        return since_ms is not None and mgr.now_ms() > since_ms + deadline_s * 1000

    def sync_rollout_status(self, mgr: Any, key: str, deployment: dict, all_sets: list, new_rs: dict | None) -> None:
        status = self.calculate_status(mgr, deployment, all_sets, new_rs)
        conditions = status["conditions"]
        if deployment["spec"].get("progressDeadlineSeconds") is None:
            status["conditions"] = [c for c in conditions if c.get("type") != "Progressing"]
        else:
            status["conditions"] = self.progress_conditions(mgr, deployment, status, new_rs)
        if _same_status(status, deployment.get("status") or {}):
            self.requeue_stuck(mgr, key, deployment, status)
            return
        self.write_status(mgr, key, deployment, status)

    def progress_conditions(self, mgr: Any, deployment: dict, status: dict, new_rs: dict | None) -> list:
        conditions = status["conditions"]
        current = find_condition(conditions, "Progressing")
        name = new_rs["metadata"]["name"] if new_rs is not None else ""
        if (status["replicas"] == status["updatedReplicas"] and current is not None
                and current.get("reason") == "NewReplicaSetAvailable"):
            return conditions
        if self.complete(deployment, status):
            message = f'ReplicaSet "{name}" has successfully progressed.' if new_rs is not None else "Deployment has successfully progressed."
            return set_condition(conditions, self.condition(mgr, "Progressing", "True", "NewReplicaSetAvailable", message))
        if self.progressing(deployment, status):
            message = f'ReplicaSet "{name}" is progressing.' if new_rs is not None else "Deployment is progressing."
            new = self.condition(mgr, "Progressing", "True", "ReplicaSetUpdated", message)
            if current is not None and current.get("status") == "True":
                new["lastTransitionTime"] = current.get("lastTransitionTime")
            return [c for c in conditions if c.get("type") != "Progressing"] + [new]
        if self.timed_out(mgr, deployment, status):
            message = f'ReplicaSet "{name}" has timed out progressing.' if new_rs is not None else "Deployment has timed out progressing."
            return set_condition(conditions, self.condition(mgr, "Progressing", "False", "ProgressDeadlineExceeded", message))
        return conditions

    def requeue_stuck(self, mgr: Any, key: str, deployment: dict, status: dict) -> None:
        """requeueStuckDeployment: look again when the progress deadline would pass."""
        current = find_condition(status.get("conditions") or [], "Progressing")
        deadline_s = deployment["spec"].get("progressDeadlineSeconds")
        if deadline_s is None or current is None or current.get("reason") in ("NewReplicaSetAvailable", "ProgressDeadlineExceeded"):
            return
        if current.get("status") != "True":
            return
        since_ms = time_ms(current.get("lastUpdateTime"), mgr.sim.start_epoch_ms) or 0
        delay_ms = since_ms + deadline_s * 1000 - mgr.now_ms()
        self.enqueue_after(mgr, key, delay_ms + 1000 if delay_ms > 0 else 1000)

    def sync_status(self, mgr: Any, key: str, deployment: dict, all_sets: list, new_rs: dict | None) -> None:
        status = self.calculate_status(mgr, deployment, all_sets, new_rs)
        if not _same_status(status, deployment.get("status") or {}):
            self.write_status(mgr, key, deployment, status)

    def write_status(self, mgr: Any, key: str, deployment: dict, status: dict) -> None:
        namespace, name = split_key(key)
        self.request(mgr, key, "update", "deployments", namespace=namespace, name=name, subresource="status",
                     body=dict(deployment, status=status))


def _same_status(a: dict, b: dict) -> bool:
    return {k: v for k, v in a.items() if v is not None} == {k: v for k, v in b.items() if v is not None}


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _negated(text: str) -> list:
    return [-ord(char) for char in text]


def _round_half_away(value: float) -> float:
    return math.floor(value + 0.5) if value >= 0 else -math.floor(-value + 0.5)
