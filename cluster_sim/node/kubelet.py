"""The kubelet: registers its Node, heartbeats, runs the pods bound to its node through the CRI.

Modelled on pkg/kubelet of Kubernetes v1.33:
- registration with backoff 100 ms doubling to 7 s; node status computed every 10 s (x1.04 jitter)
  and patched only when it changed or every 5 min (nodeStatusReportFrequency);
- the node Lease `kube-node-lease/<node>` (leaseDurationSeconds 40) renewed every 10 s
  (40 x 0.25, x1.04 jitter); a failed update is retried 5 times at once, then the lease is read
  again with backoff 200 ms doubling to 7 s (component-helpers/apimachinery/lease);
- a pod worker per pod: admission (OutOfcpu/OutOfmemory/OutOfpods), sandbox, image pull
  (serialized, as `serializeImagePulls: true`), create and start each container in order; a
  failed sync is retried after 10 s x [1, 1.5) (pod_workers: backOffPeriod, jitter 0.5);
- container restarts follow client-go's flowcontrol.Backoff (10 s doubling to 300 s, forgotten
  after 10 min without a restart): the first exit restarts at once, later ones wait; images the
  same (ErrImagePull, then ImagePullBackOff while backing off);
- PLEG relists the runtime every second; the status manager patches pods/status on change and
  retries unsynced statuses every 10 s; probes per container; graceful termination, then the
  kubelet deletes the pod with gracePeriodSeconds 0.
The kubelet's own memory (pod workers, backoffs, probe results, cached statuses) is lost when it
stops; containers and sandboxes live in the runtime and are adopted again when it starts.
"""
from __future__ import annotations

import hashlib
from typing import Any

from ..client import ApiComponent
from ..durations import format_duration
from ..recorder import EventRecorder
from ..timefmt import format_time, parse_time_ms
from . import images, nodestatus, podstatus
from .runtime import CREATED, EXITED, RUNNING, SANDBOX_READY
from ..jsontree import copy_tree

NODE_STATUS_UPDATE_MS = 10_000
NODE_STATUS_REPORT_MS = 5 * 60_000
PERIOD_JITTER = 0.04
LEASE_DURATION_S = 40
LEASE_RENEW_MS = LEASE_DURATION_S * 1000 // 4
LEASE_MAX_UPDATE_RETRIES = 5
LEASE_BACKOFF_FIRST_MS = 200
BACKOFF_MAX_MS = 7_000
REGISTER_BACKOFF_FIRST_MS = 100
HEARTBEAT_TIMEOUT_MS = 10_000
PLEG_RELIST_MS = 1_000
STATUS_SYNC_MS = 10_000
WORKER_BACKOFF_MS = 10_000
TRANSIENT_ERROR_BACKOFF_MS = 1_000
WORKER_JITTER = 0.5
CONTAINER_BACKOFF_INITIAL_MS = 10_000
CONTAINER_BACKOFF_MAX_MS = 300_000
IMAGE_BACKOFF_INITIAL_MS = 10_000
IMAGE_BACKOFF_MAX_MS = 300_000
MIN_GRACE_PERIOD_S = 2
ORPHAN_GRACE_PERIOD_S = 30
CRI_TIMEOUT_MS = 120_000
MAX_PODS_TRACKED = 10_000
CRI_UNAVAILABLE = ('rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: '
                   'dial unix /run/containerd/containerd.sock: connect: connection refused"')
MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
TERMINAL_PHASES = ("Succeeded", "Failed")
PROBE_TYPES = ("startupProbe", "readinessProbe", "livenessProbe")
PROBE_NAMES = {"startupProbe": "Startup", "readinessProbe": "Readiness", "livenessProbe": "Liveness"}
STATIC_PRIORITY = 2_000_001_000


class Kubelet(ApiComponent):
    kind = "kubelet"

    def __init__(self, sim: Any, name: str, node: str, api_servers: list[str], node_config: dict):
        super().__init__(sim, name, node, api_servers, f"kubelet/{node_config.get('kubelet_version', 'v1.33.0')} (linux/amd64) kubernetes/8adc0f0")
        self.config = copy_tree(node_config)
        self.node_name = node_config["name"]
        self.runtime_name = node_config.get("runtime") or f"containerd-{node}"
        runtime = sim.components.get(self.runtime_name)
        if runtime is not None and not runtime.images:
            runtime.preload_images(self.config.get("images") or [])
        self.reset_volatile()
        self.after(0, "boot", None)

    def reset_volatile(self) -> None:
        self.recorder = EventRecorder("kubelet", self.node_name)
        self.boot_id = ""
        self.started_ms = 0
        self.registered = False
        self.register_backoff_ms = REGISTER_BACKOFF_FIRST_MS
        self.node_uid: str | None = None
        self.node_labels: dict = {}
        self.pod_cidr: str | None = self.config.get("pod_cidr")
        self.conditions: dict[str, dict] = {}
        self.reported_status: dict | None = None
        self.last_report_ms = -NODE_STATUS_REPORT_MS
        self.node_status_in_flight = False
        self.lease: dict | None = None
        self.lease_in_flight = False
        self.lease_update_failures = 0
        self.lease_backoff_ms = 0
        self.pods: dict[str, dict] = {}
        self.crash_backoff: dict[str, dict] = {}
        self.image_backoff: dict[str, dict] = {}
        self.pull_queue: list[dict] = []
        self.pull_active = False
        self.cri_pending: dict[str, dict] = {}
        self.next_cri_id = 0
        self.runtime_revision_seen = -1
        self.runtime_up = True

    # Lifecycle ------------------------------------------------------------------------------
    def on_stop(self) -> None:
        super().on_stop()
        self.reset_volatile()

    def on_start(self) -> None:
        self.after(0, "boot", None)

    def on_boot(self, _payload: Any) -> None:
        self.started_ms = self.sim.now_ms
        self.boot_id = random_uuid(self.rng)
        self.record_node_event("Normal", "Starting", "Starting kubelet.")
        self.api.add_informer("node", "nodes", field_selector=f"metadata.name={self.node_name}")
        self.api.add_informer("pods", "pods", field_selector=f"spec.nodeName={self.node_name}")
        self.api.start_informers()
        self.after(REGISTER_BACKOFF_FIRST_MS, "register", None)
        self.after(0, "node_status_tick", None)
        self.after(0, "lease_tick", None)
        self.after(PLEG_RELIST_MS, "pleg_relist", None)
        self.after(STATUS_SYNC_MS, "status_sync", None)
        for static_pod in self.config.get("static_pods") or []:
            record = self.new_pod_record(self.static_pod_object(static_pod), static_pod["component"])
            self.pods[record["uid"]] = record
            self.trigger_sync(record["uid"])

    def jittered(self, period_ms: int, factor: float) -> int:
        return period_ms + int(self.rng.random() * factor * period_ms)

    # API results ----------------------------------------------------------------------------
    def on_request_result(self, context: dict, code: int, body: Any) -> None:
        getattr(self, "result_" + context["op"])(context, code, body)

    def on_informer_event(self, informer: str, event_type: str, obj: dict, old: dict | None) -> None:
        if informer == "node":
            self.observe_node(event_type, obj)
        elif MIRROR_ANNOTATION in (obj["metadata"].get("annotations") or {}):
            self.observe_mirror_pod(event_type, obj)
        else:
            self.observe_pod(event_type, obj, old)

    def on_informers_synced(self) -> None:
        self.clean_up_orphans()

    # Registration ---------------------------------------------------------------------------
    def on_register(self, _payload: Any) -> None:
        if self.registered:
            return
        body = nodestatus.initial_node(self.config, self.config.get("pod_cidr"))
        body["status"] = self.compute_node_status()
        self.api.request("create", "nodes", body=body, context={"op": "register"})

    def result_register(self, _context: dict, code: int, body: Any) -> None:
        if code == 201:
            self.registered_as(body)
            self.emit("kubelet.registered", self.node_name, {"node": self.node_name})
        elif code == 409:
            self.api.request("get", "nodes", name=self.node_name, context={"op": "register_existing"})
        else:
            self.retry_registration()

    def result_register_existing(self, _context: dict, code: int, body: Any) -> None:
        if code == 200:
            self.registered_as(body)
        else:
            self.retry_registration()

    def retry_registration(self) -> None:
        self.register_backoff_ms = min(self.register_backoff_ms * 2, BACKOFF_MAX_MS)
        self.after(self.register_backoff_ms, "register", None)

    def registered_as(self, node: dict) -> None:
        self.registered = True
        self.observe_node("ADDED", node)
        # The status setters run on the Node as stored, so transitions (and NodeReady after the
        # node controller's Unknown) are relative to what the API holds, not to this process.
        for condition in (node.get("status") or {}).get("conditions") or []:
            self.conditions[condition["type"]] = dict(condition)
        self.reported_status = nodestatus.without_heartbeats(node.get("status") or {})
        self.last_report_ms = self.sim.now_ms
        self.record_node_event("Normal", "NodeAllocatableEnforced", "Updated Node Allocatable limit across pods")
        self.create_mirror_pods()
        # syncNodeStatus updates the status as soon as registration returns.
        self.sync_node_status()

    def observe_node(self, event_type: str, node: dict) -> None:
        if event_type == "DELETED":
            self.node_uid = None
            return
        self.node_uid = node["metadata"].get("uid")
        self.node_labels = node["metadata"].get("labels") or {}
        self.adopt_unknown_conditions(node)
        cidr = (node.get("spec") or {}).get("podCIDR")
        if cidr and cidr != self.pod_cidr:
            self.pod_cidr = cidr
            for uid in list(self.pods):
                self.trigger_sync(uid)

    # Node status ----------------------------------------------------------------------------
    def adopt_unknown_conditions(self, node: dict) -> None:
        """The node lifecycle controller set our conditions Unknown (only it writes Unknown).

        tryUpdateNodeStatus compares against the Node as the API holds it, so the next status
        sync reports the change back at once (with NodeReady) instead of waiting for the
        5-minute report."""
        for condition in (node.get("status") or {}).get("conditions") or []:
            own = self.conditions.get(condition.get("type"))
            if own is not None and condition.get("status") == "Unknown" and own["status"] != "Unknown":
                self.conditions[condition["type"]] = dict(condition)

    def on_node_status_tick(self, _payload: Any) -> None:
        self.after(self.jittered(NODE_STATUS_UPDATE_MS, PERIOD_JITTER), "node_status_tick", None)
        self.sync_node_status()

    def sync_node_status(self) -> None:
        if not self.registered or self.node_status_in_flight:
            return
        status = self.compute_node_status()
        unchanged = nodestatus.without_heartbeats(status) == self.reported_status
        if unchanged and self.sim.now_ms - self.last_report_ms < NODE_STATUS_REPORT_MS:
            return
        self.node_status_in_flight = True
        self.api.request("patch", "nodes", name=self.node_name, subresource="status", body={"status": status},
                         params={"patchType": "merge"}, context={"op": "node_status", "status": status},
                         timeout_ms=HEARTBEAT_TIMEOUT_MS)

    def result_node_status(self, context: dict, code: int, _body: Any) -> None:
        self.node_status_in_flight = False
        if code != 200:
            return
        self.reported_status = nodestatus.without_heartbeats(context["status"])
        self.last_report_ms = self.sim.now_ms
        self.emit("kubelet.status", self.node_name, {"node": self.node_name, "ready": self.conditions["Ready"]["status"] == "True"})

    def compute_node_status(self) -> dict:
        now_text = self.now_text()
        for condition_type, reason, message, event in nodestatus.PRESSURE_CONDITIONS:
            self.set_condition(condition_type, ["False", reason, message], now_text, event)
        self.set_condition("Ready", self.ready_condition(), now_text, None)
        conditions = [dict(self.conditions[name]) for name in ("MemoryPressure", "DiskPressure", "PIDPressure", "Ready")]
        runtime = self.runtime()
        image_records = runtime.image_list() if runtime is not None else []
        return nodestatus.status_body(self.config, self.boot_id, conditions, image_records)

    def ready_condition(self) -> list:
        if self.runtime() is None:
            return ["False", "KubeletNotReady", nodestatus.RUNTIME_DOWN]
        if not self.pod_cidr:
            return ["False", "KubeletNotReady", nodestatus.NETWORK_NOT_READY]
        return list(nodestatus.READY_TRUE)

    def set_condition(self, condition_type: str, value: list, now_text: str, event: str | None) -> None:
        status, reason, message = value
        previous = self.conditions.get(condition_type)
        transition = now_text if previous is None or previous["status"] != status else previous["lastTransitionTime"]
        self.conditions[condition_type] = {"type": condition_type, "status": status, "lastHeartbeatTime": now_text,
                                           "lastTransitionTime": transition, "reason": reason, "message": message}
        changed = previous is not None and previous["status"] != status
        if event and (previous is None or changed):
            self.record_node_event("Normal", event, f"Node {self.node_name} status is now: {event}")
        if condition_type == "Ready" and changed:
            ready_event = "NodeReady" if status == "True" else "NodeNotReady"
            self.record_node_event("Normal", ready_event, f"Node {self.node_name} status is now: {ready_event}")

    def record_node_event(self, event_type: str, reason: str, message: str) -> None:
        involved = {"kind": "Node", "apiVersion": "v1", "metadata": {"name": self.node_name, "uid": self.node_name}}
        self.recorder.record(self, involved, event_type, reason, message)

    # Node lease -----------------------------------------------------------------------------
    def on_lease_tick(self, _payload: Any) -> None:
        if self.lease_in_flight:
            return
        self.lease_in_flight = True
        if self.lease is not None:
            self.update_lease()
        else:
            self.api.request("get", "leases", namespace="kube-node-lease", name=self.node_name,
                             context={"op": "lease_get"}, timeout_ms=HEARTBEAT_TIMEOUT_MS)

    def next_lease_tick(self) -> None:
        self.lease_in_flight = False
        self.lease_update_failures = 0
        self.lease_backoff_ms = 0
        self.after(self.jittered(LEASE_RENEW_MS, PERIOD_JITTER), "lease_tick", None)

    def lease_body(self, base: dict | None) -> dict:
        # Only metadata and spec change; the rest is shared with the (never mutated) object read.
        lease = dict(base, metadata=dict(base["metadata"]), spec=dict(base["spec"])) if base is not None else {
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": self.node_name, "namespace": "kube-node-lease"},
            "spec": {"holderIdentity": self.node_name, "leaseDurationSeconds": LEASE_DURATION_S}}
        lease["spec"]["renewTime"] = self.now_micro_text()
        if self.node_uid and not lease["metadata"].get("ownerReferences"):
            lease["metadata"]["ownerReferences"] = [{"apiVersion": "v1", "kind": "Node", "name": self.node_name,
                                                     "uid": self.node_uid}]
        return lease

    def update_lease(self) -> None:
        self.api.request("update", "leases", namespace="kube-node-lease", name=self.node_name,
                         body=self.lease_body(self.lease), context={"op": "lease_update"},
                         timeout_ms=HEARTBEAT_TIMEOUT_MS)

    def result_lease_update(self, _context: dict, code: int, body: Any) -> None:
        if code == 200:
            self.lease = body
            self.emit("kubelet.lease.renew", self.node_name, {"node": self.node_name})
            self.next_lease_tick()
            return
        self.emit("kubelet.lease.error", self.node_name, {"node": self.node_name, "error": error_text(code, body)})
        self.lease_update_failures += 1
        if code == 409 or self.lease_update_failures >= LEASE_MAX_UPDATE_RETRIES:
            self.lease = None
            self.lease_update_failures = 0
            self.api.request("get", "leases", namespace="kube-node-lease", name=self.node_name,
                             context={"op": "lease_get"}, timeout_ms=HEARTBEAT_TIMEOUT_MS)
            return
        self.update_lease()

    def result_lease_get(self, _context: dict, code: int, body: Any) -> None:
        if code == 200:
            self.lease = body
            self.update_lease()
            return
        if code == 404 and self.node_uid:
            self.api.request("create", "leases", namespace="kube-node-lease", body=self.lease_body(None),
                             context={"op": "lease_create"}, timeout_ms=HEARTBEAT_TIMEOUT_MS)
            return
        if code == 404:
            # The owner reference needs the Node's uid: no lease before the Node exists.
            self.next_lease_tick()
            return
        self.lease_backoff()

    def result_lease_create(self, _context: dict, code: int, body: Any) -> None:
        if code == 201:
            self.lease = body
            self.emit("kubelet.lease.renew", self.node_name, {"node": self.node_name})
            self.next_lease_tick()
            return
        self.lease_backoff()

    def lease_backoff(self) -> None:
        self.lease_backoff_ms = min(max(LEASE_BACKOFF_FIRST_MS, self.lease_backoff_ms * 2), BACKOFF_MAX_MS)
        self.after(self.lease_backoff_ms, "lease_retry", None)

    def on_lease_retry(self, _payload: Any) -> None:
        self.api.request("get", "leases", namespace="kube-node-lease", name=self.node_name,
                         context={"op": "lease_get"}, timeout_ms=HEARTBEAT_TIMEOUT_MS)

    # Pods from the API ------------------------------------------------------------------------
    def new_pod_record(self, pod: dict, component: str | None = None) -> dict:
        metadata = pod["metadata"]
        start_ms = self.sim.now_ms
        start_text = (pod.get("status") or {}).get("startTime")
        if start_text:
            start_ms = parse_time_ms(start_text) - self.sim.start_epoch_ms
        return {"uid": metadata["uid"], "key": f"{metadata['namespace']}/{metadata['name']}",
                "namespace": metadata["namespace"], "name": metadata["name"], "pod": pod,
                "static": component is not None, "component": component, "mirror_uid": None, "mirror_pending": False,
                "start_ms": start_ms, "rejected": None, "inflight": 0, "round": [], "round_active": False,
                "resync": False, "sync_error": False, "transient_error": False, "requeue_token": 0,
                "current": None, "waiting": {}, "probes": {}, "condition_times": {},
                "terminating": False, "grace_s": 0, "kill_sent": False, "sandbox_stopped": False,
                "terminal": False, "deleted_from_api": False, "delete_sent": False, "removed": False,
                "status_acked": None, "status_in_flight": False, "status_dirty": False,
                "last_phase": "", "last_container_states": {}, "seen_revision": -1}

    def observe_pod(self, event_type: str, pod: dict, old: dict | None) -> None:
        uid = pod["metadata"]["uid"]
        record = self.pods.get(uid)
        if event_type == "DELETED":
            if record is not None:
                record["deleted_from_api"] = True
                self.begin_termination(record, pod["metadata"].get("deletionGracePeriodSeconds") or 0)
                self.trigger_sync(uid)
            return
        if record is None:
            self.add_pod(pod)
            return
        record["pod"] = pod
        deleting = bool(pod["metadata"].get("deletionTimestamp"))
        if deleting and not record["terminating"]:
            self.begin_termination(record, pod["metadata"].get("deletionGracePeriodSeconds", 30))
        elif old is not None and old.get("spec") == pod.get("spec") and not deleting:
            return  # only our own status write came back
        self.trigger_sync(uid)

    def add_pod(self, pod: dict) -> None:
        if len(self.pods) >= MAX_PODS_TRACKED:
            return
        phase = (pod.get("status") or {}).get("phase")
        runtime = self.runtime()
        known_to_runtime = runtime is not None and pod["metadata"]["uid"] in runtime.pod_uids()
        if phase in TERMINAL_PHASES and not known_to_runtime:
            if pod["metadata"].get("deletionTimestamp"):
                self.delete_api_pod(pod["metadata"]["namespace"], pod["metadata"]["name"], pod["metadata"]["uid"])
            return
        record = self.new_pod_record(pod)
        self.pods[record["uid"]] = record
        if phase in TERMINAL_PHASES:
            record["terminal"] = True
        elif not known_to_runtime:
            self.admit(record)
        if pod["metadata"].get("deletionTimestamp"):
            self.begin_termination(record, pod["metadata"].get("deletionGracePeriodSeconds", 30))
        self.trigger_sync(record["uid"])

    def admit(self, record: dict) -> None:
        """The kubelet's own admission (lifecycle.PredicateAdmitHandler): resources and node selector."""
        spec = record["pod"]["spec"]
        selector = spec.get("nodeSelector") or {}
        if any(self.node_labels.get(key) != value for key, value in selector.items()) and self.node_labels:
            self.reject(record, "NodeAffinity", "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector")
            return
        failure = self.insufficient_resource(record)
        if failure is not None:
            resource, requested, used, capacity = failure
            self.reject(record, f"OutOf{resource}",
                        f"Node didn't have enough resource: {resource}, requested: {requested}, used: {used}, capacity: {capacity}")

    def insufficient_resource(self, record: dict) -> list | None:
        allocatable = self.config.get("allocatable") or {}
        active = [other for other in self.pods.values()
                  if other is not record and not other["rejected"] and not other["terminal"]]
        capacity_pods = int(allocatable.get("pods", 110))
        if len(active) + 1 > capacity_pods:
            return ["pods", 1, len(active), capacity_pods]
        requested = podstatus.pod_requests(record["pod"]["spec"])
        used = {"cpu": 0, "memory": 0, "ephemeral-storage": 0}
        for other in active:
            for resource, amount in podstatus.pod_requests(other["pod"]["spec"]).items():
                used[resource] += amount
        for resource in ("cpu", "memory", "ephemeral-storage"):
            if resource not in allocatable or not requested[resource]:
                continue
            capacity = podstatus.resource_amount(resource, allocatable[resource])
            if used[resource] + requested[resource] > capacity:
                return [resource, requested[resource], used[resource], capacity]
        return None

    def reject(self, record: dict, reason: str, message: str) -> None:
        record["rejected"] = {"reason": reason, "message": message}
        record["terminal"] = True
        self.record_pod_event(record, "Warning", reason, message)

    def begin_termination(self, record: dict, grace_s: Any) -> None:
        if record["terminating"] or record["static"]:
            return
        record["terminating"] = True
        record["grace_s"] = int(grace_s or 0)
        record["requeue_token"] += 1

    def clean_up_orphans(self) -> None:
        """Pods the runtime still runs but the API no longer has (deleted while we were away)."""
        runtime = self.runtime()
        if runtime is None or not self.api.informers["pods"].synced:
            return
        for uid in runtime.pod_uids():
            if uid in self.pods:
                continue
            view = runtime.pod_view(uid)
            pod_key = (view["sandbox"] or {}).get("pod") or "default/unknown"
            namespace, _, name = pod_key.partition("/")
            orphan = {"metadata": {"uid": uid, "namespace": namespace, "name": name},
                      "spec": {"containers": [{"name": c["name"], "image": c["image"]} for c in view["containers"]]}}
            record = self.new_pod_record(orphan)
            record["deleted_from_api"] = True
            self.pods[uid] = record
            self.begin_termination(record, ORPHAN_GRACE_PERIOD_S)
            self.trigger_sync(uid)

    # Static pods and their mirror pods ----------------------------------------------------------
    def static_pod_object(self, static_pod: dict) -> dict:
        pod_name = static_pod.get("pod_name") or static_pod["component"]
        container_name = static_pod.get("tier") or pod_name.rsplit("-" + self.node_name, 1)[0]
        config_hash = hashlib.sha256(f"{self.node_name}/{pod_name}/{static_pod['image']}".encode()).hexdigest()[:32]
        resources = {"requests": dict(static_pod.get("requests") or {})}
        return {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": pod_name, "namespace": "kube-system", "uid": config_hash,
                             "labels": {"component": container_name, "tier": "control-plane"},
                             "annotations": {"kubernetes.io/config.hash": config_hash,
                                             "kubernetes.io/config.seen": format_time(self.sim.start_epoch_ms),
                                             "kubernetes.io/config.source": "file"}},
                "spec": {"containers": [{"name": container_name, "image": static_pod["image"],
                                         "imagePullPolicy": "IfNotPresent", "resources": resources}],
                         "hostNetwork": True, "nodeName": self.node_name, "priority": STATIC_PRIORITY,
                         "priorityClassName": "system-node-critical", "restartPolicy": "Always",
                         "terminationGracePeriodSeconds": 30,
                         "tolerations": [{"operator": "Exists", "effect": "NoExecute"}]},
                "status": {}}

    def static_records(self) -> list[dict]:
        return [record for record in self.pods.values() if record["static"]]

    def create_mirror_pods(self) -> None:
        for record in self.static_records():
            if record["mirror_uid"] is None and not record["mirror_pending"] and self.node_uid:
                self.create_mirror_pod(record)

    def create_mirror_pod(self, record: dict) -> None:
        mirror = copy_tree(record["pod"])
        metadata = mirror["metadata"]
        metadata.pop("uid", None)
        metadata["annotations"][MIRROR_ANNOTATION] = metadata["annotations"]["kubernetes.io/config.hash"]
        metadata["ownerReferences"] = [{"apiVersion": "v1", "kind": "Node", "name": self.node_name,
                                        "uid": self.node_uid, "controller": True}]
        mirror.pop("status", None)
        record["mirror_pending"] = True
        self.api.request("create", "pods", namespace="kube-system", body=mirror,
                         context={"op": "mirror_created", "uid": record["uid"]})

    def result_mirror_created(self, context: dict, code: int, body: Any) -> None:
        record = self.pods.get(context["uid"])
        if record is None:
            return
        record["mirror_pending"] = False
        if code == 201:
            record["mirror_uid"] = body["metadata"]["uid"]
            record["status_acked"] = None
            self.update_pod_status(record)

    def observe_mirror_pod(self, event_type: str, mirror: dict) -> None:
        metadata = mirror["metadata"]
        record = next((r for r in self.static_records() if r["key"] == f"{metadata['namespace']}/{metadata['name']}"), None)
        if record is None:
            if event_type != "DELETED":
                self.delete_api_pod(metadata["namespace"], metadata["name"], metadata["uid"])
            return
        if event_type == "DELETED" or metadata.get("deletionTimestamp"):
            if event_type != "DELETED":
                self.delete_api_pod(metadata["namespace"], metadata["name"], metadata["uid"])
            record["mirror_uid"] = None
            record["status_acked"] = None
            if event_type == "DELETED" and self.registered:
                self.create_mirror_pod(record)
            return
        if record["mirror_uid"] != metadata["uid"]:
            record["mirror_uid"] = metadata["uid"]
            record["status_acked"] = None
            self.update_pod_status(record)

    def on_static_pod_exited(self, payload: dict) -> None:
        """A control-plane process exited (e.g. "leaderelection lost"): the PLEG sees it now."""
        self.emit("kubelet.static_pod.exited", self.node_name, {"component": payload.get("component"),
                                                                "reason": payload.get("reason")})
        self.relist()

    # PLEG -----------------------------------------------------------------------------------
    def runtime(self) -> Any:
        runtime = self.sim.components.get(self.runtime_name)
        return runtime if runtime is not None and runtime.running else None

    def on_pleg_relist(self, _payload: Any) -> None:
        self.after(PLEG_RELIST_MS, "pleg_relist", None)
        self.relist()

    def relist(self) -> None:
        runtime = self.runtime()
        if runtime is None:
            self.runtime_up = False
            return
        if not self.runtime_up:
            self.runtime_up = True
        runtime.reap_exited_components()
        if runtime.revision == self.runtime_revision_seen:
            return
        self.runtime_revision_seen = runtime.revision
        for uid, record in list(self.pods.items()):
            revision = runtime.pod_revision(uid)
            if revision != record["seen_revision"]:
                record["seen_revision"] = revision
                self.trigger_sync(uid)

    # Pod worker -----------------------------------------------------------------------------
    def trigger_sync(self, uid: str) -> None:
        record = self.pods.get(uid)
        if record is None:
            return
        if record["inflight"] > 0 or record["round_active"]:
            record["resync"] = True
            return
        record["round"] = []
        record["round_active"] = True
        record["sync_error"] = False
        record["transient_error"] = False
        record["requeue_token"] += 1
        # syncPod begins by generating the pod's API status (Pending, ContainerCreating at first).
        self.update_pod_status(record)
        self.advance(record)

    def resume(self, record: dict) -> None:
        """After a CRI answer: continue this sync, or start one if none is running."""
        if record["inflight"] > 0:
            return
        if record["round_active"]:
            self.advance(record)
        else:
            self.trigger_sync(record["uid"])

    def finish_round(self, record: dict) -> None:
        record["round_active"] = False
        record["current"] = None
        self.update_pod_status(record)
        if record["removed"]:
            return
        if record["resync"]:
            record["resync"] = False
            self.trigger_sync(record["uid"])
            return
        if record["sync_error"]:
            base = TRANSIENT_ERROR_BACKOFF_MS if record["transient_error"] else WORKER_BACKOFF_MS
            self.after(self.jittered(base, WORKER_JITTER), "pod_requeue",
                       {"uid": record["uid"], "token": record["requeue_token"]})

    def on_pod_requeue(self, payload: dict) -> None:
        record = self.pods.get(payload["uid"])
        if record is not None and record["requeue_token"] == payload["token"]:
            self.trigger_sync(payload["uid"])

    def advance(self, record: dict) -> None:
        """One step of syncPod: start what the pod lacks, in order, one CRI call at a time."""
        if record["terminating"]:
            self.advance_termination(record)
            return
        runtime = self.runtime()
        if record["rejected"] or runtime is None:
            record["sync_error"] = runtime is None
            self.finish_round(record)
            return
        view = runtime.pod_view(record["uid"])
        if record["terminal"]:
            self.stop_terminal_sandbox(record, view)
            return
        sandbox = view["sandbox"]
        if sandbox is None or sandbox["state"] != SANDBOX_READY:
            self.ensure_sandbox(record, sandbox)
            return
        for container in record["pod"]["spec"].get("containers") or []:
            name = container["name"]
            if name in record["round"]:
                continue
            record["round"].append(name)
            if self.container_needs_start(record, container, view) and self.start_container(record, container):
                return
        self.finish_round(record)

    def ensure_sandbox(self, record: dict, sandbox: dict | None) -> None:
        host_network = bool(record["pod"]["spec"].get("hostNetwork"))
        if "sandbox" in record["round"]:
            self.finish_round(record)
            return
        record["round"].append("sandbox")
        if not host_network and not self.pod_cidr:
            message = f"network is not ready: {nodestatus.NETWORK_NOT_READY}"
            self.record_pod_event(record, "Warning", "NetworkNotReady", message)
            record["sync_error"] = True
            record["transient_error"] = True
            self.finish_round(record)
            return
        if sandbox is not None:
            self.record_pod_event(record, "Normal", "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.")
        self.cri("RunPodSandbox", record, {"host_network": host_network, "pod_cidr": self.pod_cidr,
                                           "node_ip": self.config["internal_ip"]})

    def container_needs_start(self, record: dict, container: dict, view: dict) -> bool:
        """computePodActions plus doBackOff for one container."""
        name = container["name"]
        attempts = [c for c in view["containers"] if c["name"] == name]
        if not attempts:
            return True
        latest = attempts[-1]
        if latest["state"] == RUNNING:
            if name not in record["probes"]:
                self.arm_probes(record, name, latest["id"])
            return False
        if latest["state"] == CREATED:
            return True  # created but never started (the kubelet restarted in between): start anew
        policy = record["pod"]["spec"].get("restartPolicy", "Always")
        if policy == "Never" or (policy == "OnFailure" and latest["exit_code"] == 0):
            return False
        key = f"{record['name']}_{record['namespace']}_{record['uid']}_{name}"
        finished_ms = latest["finished_ms"]
        if backoff_active(self.crash_backoff, key, finished_ms, self.sim.now_ms, since_event=True,
                          max_ms=CONTAINER_BACKOFF_MAX_MS):
            delay = format_duration(self.crash_backoff[key]["backoff_ms"])
            pod_text = podstatus.go_pod_name(record["namespace"], record["name"], record["uid"])
            self.set_waiting(record, name, "CrashLoopBackOff",
                             f"back-off {delay} restarting failed container={name} pod={pod_text}")
            self.record_pod_event(record, "Warning", "BackOff",
                                  f"Back-off restarting failed container {name} in pod {pod_text}", name)
            record["sync_error"] = True
            return False
        backoff_next(self.crash_backoff, key, finished_ms, self.sim.now_ms,
                     CONTAINER_BACKOFF_INITIAL_MS, CONTAINER_BACKOFF_MAX_MS)
        return True

    def set_waiting(self, record: dict, name: str, reason: str, message: str | None = None) -> None:
        record["waiting"][name] = {"reason": reason, "message": message}

    # Starting a container: image, create, start ---------------------------------------------------
    def start_container(self, record: dict, container: dict) -> bool:
        """Returns True when an asynchronous step (pull or create) has begun."""
        name = container["name"]
        image = container.get("image") or ""
        runtime = self.runtime()
        present = runtime is not None and runtime.image_present(image)
        policy = container.get("imagePullPolicy") or ("Always" if images.split_reference(image)[2] == "latest" else "IfNotPresent")
        if policy == "Never" or (policy == "IfNotPresent" and present):
            if not present:
                message = f'Container image "{image}" is not present with pull policy of Never'
                self.record_pod_event(record, "Warning", "ErrImageNeverPull", message, name)
                self.fail_container_start(record, name, "ErrImageNeverPull", message)
                return False
            self.record_pod_event(record, "Normal", "Pulled", f'Container image "{image}" already present on machine', name)
            self.create_container(record, container)
            return True
        key = f"{record['uid']}_{image}"
        if backoff_active(self.image_backoff, key, self.sim.now_ms, self.sim.now_ms, since_event=False,
                          max_ms=IMAGE_BACKOFF_MAX_MS):
            message = f'Back-off pulling image "{image}"'
            self.record_pod_event(record, "Normal", "BackOff", message, name)
            self.fail_container_start(record, name, "ImagePullBackOff", message)
            return False
        self.record_pod_event(record, "Normal", "Pulling", f'Pulling image "{image}"', name)
        record["current"] = {"container": name}
        record["inflight"] += 1
        self.pull_queue.append({"uid": record["uid"], "container": name, "image": image, "queued_ms": self.sim.now_ms})
        self.dispatch_pull()
        return True

    def fail_container_start(self, record: dict, name: str, reason: str, message: str) -> None:
        self.record_pod_event(record, "Warning", "Failed", f"Error: {reason}", name)
        self.set_waiting(record, name, reason, message)
        record["sync_error"] = True

    def dispatch_pull(self) -> None:
        for _ in range(len(self.pull_queue)):
            if self.pull_active or not self.pull_queue:
                return
            entry = self.pull_queue.pop(0)
            record = self.pods.get(entry["uid"])
            if record is None:
                continue
            if record["terminating"]:
                record["inflight"] -= 1
                self.resume(record)
                continue
            self.pull_active = True
            self.cri("PullImage", None, {"image": entry["image"], "pod": record["key"], "container": entry["container"]},
                     dict(entry))
            return

    def cri_done_PullImage(self, _record: Any, pending: dict, result: dict) -> None:
        self.pull_active = False
        record = self.pods.get(pending["uid"])
        image = pending["image"]
        waited_ms = self.sim.now_ms - pending["queued_ms"]
        self.emit("image.pull", self.node_name, {"image": image, "node": self.node_name, "ms": waited_ms,
                                                  "ok": bool(result.get("ok"))})
        if record is not None:
            record["inflight"] -= 1
            self.pulled(record, pending, result, waited_ms)
        self.dispatch_pull()

    def pulled(self, record: dict, pending: dict, result: dict, waited_ms: int) -> None:
        name, image = pending["container"], pending["image"]
        if record["terminating"] or record["removed"]:
            self.resume(record)
            return
        if result.get("ok"):
            pull_text = format_duration(int(result.get("pull_ms", waited_ms)))
            self.record_pod_event(record, "Normal", "Pulled",
                                  f'Successfully pulled image "{image}" in {pull_text} ({format_duration(waited_ms)} '
                                  f'including waiting). Image size: {result["size_bytes"]} bytes.', name)
            container = self.container_spec(record, name)
            if container is not None:
                self.create_container(record, container)
                return
        else:
            error = result.get("error") or "unknown error"
            self.record_pod_event(record, "Warning", "Failed", f'Failed to pull image "{image}": {error}', name)
            backoff_next(self.image_backoff, f"{record['uid']}_{image}", self.sim.now_ms, self.sim.now_ms,
                         IMAGE_BACKOFF_INITIAL_MS, IMAGE_BACKOFF_MAX_MS)
            self.fail_container_start(record, name, "ErrImagePull", error)
        record["current"] = None
        self.resume(record)

    def container_spec(self, record: dict, name: str) -> dict | None:
        for container in record["pod"]["spec"].get("containers") or []:
            if container["name"] == name:
                return container
        return None

    def create_container(self, record: dict, container: dict) -> None:
        runtime = self.runtime()
        view = runtime.pod_view(record["uid"]) if runtime is not None else {"sandbox": None, "containers": []}
        attempts = [c for c in view["containers"] if c["name"] == container["name"]]
        restart_count = 0
        if attempts:
            restart_count = attempts[-1]["restart_count"] + (1 if attempts[-1]["state"] == EXITED else 0)
        record["current"] = {"container": container["name"]}
        self.cri("CreateContainer", record, {"sandbox_id": (view["sandbox"] or {}).get("id"),
                                             "container": container["name"], "image": container.get("image"),
                                             "restart_count": restart_count, "component": record["component"]})

    def cri_done_CreateContainer(self, record: dict, pending: dict, result: dict) -> None:
        name = pending["container"]
        if record["terminating"]:
            self.resume(record)
            return
        if not result.get("ok"):
            self.record_pod_event(record, "Warning", "Failed", f"Error: {result.get('error')}", name)
            self.set_waiting(record, name, "CreateContainerError", result.get("error"))
            record["sync_error"] = True
            record["current"] = None
            self.resume(record)
            return
        self.record_pod_event(record, "Normal", "Created", f"Created container: {name}", name)
        self.cri("StartContainer", record, {"container": name, "container_id": result["container_id"]})

    def cri_done_StartContainer(self, record: dict, pending: dict, result: dict) -> None:
        name = pending["container"]
        record["current"] = None
        if not result.get("ok"):
            self.record_pod_event(record, "Warning", "Failed", f"Error: {result.get('error')}", name)
            self.set_waiting(record, name, "RunContainerError", result.get("error"))
            record["sync_error"] = True
        elif not record["terminating"]:
            self.record_pod_event(record, "Normal", "Started", f"Started container {name}", name)
            record["waiting"].pop(name, None)
            self.arm_probes(record, name, pending["container_id"])
        self.resume(record)

    def cri_done_RunPodSandbox(self, record: dict, _pending: dict, result: dict) -> None:
        if not result.get("ok") and not record["terminating"]:
            self.record_pod_event(record, "Warning", "FailedCreatePodSandBox",
                                  f"Failed to create pod sandbox: {result.get('error')}")
            record["sync_error"] = True
        self.resume(record)

    # CRI plumbing -----------------------------------------------------------------------------
    def cri(self, method: str, record: dict | None, body: dict, context: dict | None = None) -> None:
        self.next_cri_id += 1
        request_id = str(self.next_cri_id)
        pending = dict(context or {}, method=method, container=body.get("container"),
                       container_id=body.get("container_id"))
        if record is not None:
            pending["uid"] = record["uid"]
            record["inflight"] += 1
            body = dict(body, pod_uid=record["uid"], pod=record["key"])
        self.cri_pending[request_id] = pending
        if self.runtime() is None:
            self.after(0, "cri_failed", {"id": request_id, "error": CRI_UNAVAILABLE})
            return
        self.send(self.runtime_name, "cri", dict(body, id=request_id, method=method))
        self.after(CRI_TIMEOUT_MS, "cri_failed", {"id": request_id, "error": "rpc error: code = DeadlineExceeded desc = context deadline exceeded"})

    def on_cri_result(self, _sender: str, body: dict) -> None:
        self.cri_finished(body["id"], body)

    def on_cri_failed(self, payload: dict) -> None:
        self.cri_finished(payload["id"], {"ok": False, "error": payload["error"]})

    def cri_finished(self, request_id: str, result: dict) -> None:
        pending = self.cri_pending.pop(request_id, None)
        if pending is None:
            return
        handler = getattr(self, "cri_done_" + pending["method"])
        if pending["method"] == "PullImage":
            handler(None, pending, result)
            return
        record = self.pods.get(pending.get("uid", ""))
        if record is None:
            return
        record["inflight"] -= 1
        handler(record, pending, result)

    # Probes --------------------------------------------------------------------------------------
    def arm_probes(self, record: dict, name: str, container_id: str) -> None:
        container = self.container_spec(record, name) or {}
        has_startup = "startupProbe" in container
        record["probes"][name] = {"container_id": container_id, "started": not has_startup,
                                  "ready": "readinessProbe" not in container, "counts": {}}
        for probe_type in PROBE_TYPES:
            probe = container.get(probe_type)
            if probe:
                delay_ms = int(probe.get("initialDelaySeconds") or 0) * 1000
                self.after(delay_ms, "probe", {"uid": record["uid"], "container": name, "type": probe_type,
                                               "container_id": container_id})

    def on_probe(self, payload: dict) -> None:
        record = self.pods.get(payload["uid"])
        if record is None or record["terminating"]:
            return
        name, probe_type = payload["container"], payload["type"]
        state = record["probes"].get(name)
        running = self.running_container(record, name)
        if state is None or running is None or running["id"] != payload["container_id"] or state["container_id"] != payload["container_id"]:
            return
        probe = (self.container_spec(record, name) or {}).get(probe_type) or {}
        self.after(int(probe.get("periodSeconds") or 10) * 1000, "probe", payload)
        if probe_type == "startupProbe" and state["started"]:
            return
        if probe_type != "startupProbe" and not state["started"]:
            return
        healthy = running["readiness_ok"] if probe_type == "readinessProbe" else running["liveness_ok"]
        self.probe_result(record, name, probe_type, probe, healthy, running)

    def probe_result(self, record: dict, name: str, probe_type: str, probe: dict, healthy: bool, running: dict) -> None:
        counts = record["probes"][name]["counts"].setdefault(probe_type, {"successes": 0, "failures": 0})
        if healthy:
            counts["successes"] += 1
            counts["failures"] = 0
        else:
            counts["failures"] += 1
            counts["successes"] = 0
            self.emit("probe.fail", record["key"], {"pod": record["key"], "container": name,
                                                    "probe": PROBE_NAMES[probe_type].lower()})
            self.record_pod_event(record, "Warning", "Unhealthy",
                                  f"{PROBE_NAMES[probe_type]} probe failed: {probe_failure_output(probe, probe_type, record, running)}", name)
        state = record["probes"][name]
        if probe_type == "readinessProbe":
            ready = state["ready"]
            if healthy and counts["successes"] >= int(probe.get("successThreshold") or 1):
                ready = True
            elif not healthy and counts["failures"] >= int(probe.get("failureThreshold") or 3):
                ready = False
            if ready != state["ready"]:
                state["ready"] = ready
                self.update_pod_status(record)
            return
        if healthy:
            if probe_type == "startupProbe":
                state["started"] = True
                self.update_pod_status(record)
            return
        if counts["failures"] >= int(probe.get("failureThreshold") or 3):
            state["container_id"] = ""
            kind = "liveness" if probe_type == "livenessProbe" else "startup"
            self.record_pod_event(record, "Normal", "Killing", f"Container {name} failed {kind} probe, will be restarted", name)
            grace = int(record["pod"]["spec"].get("terminationGracePeriodSeconds", 30))
            self.cri("StopContainer", record, {"container": name, "container_id": running["id"],
                                               "timeout_s": max(grace, MIN_GRACE_PERIOD_S)})

    def running_container(self, record: dict, name: str) -> dict | None:
        runtime = self.runtime()
        if runtime is None:
            return None
        attempts = [c for c in runtime.pod_view(record["uid"])["containers"] if c["name"] == name]
        if attempts and attempts[-1]["state"] == RUNNING:
            return attempts[-1]
        return None

    # Termination --------------------------------------------------------------------------------
    def advance_termination(self, record: dict) -> None:
        record["current"] = None
        runtime = self.runtime()
        if runtime is None:
            record["sync_error"] = True
            self.finish_round(record)
            return
        view = runtime.pod_view(record["uid"])
        live = [c for c in view["containers"] if c["state"] in (RUNNING, CREATED)]
        if live and not record["kill_sent"]:
            record["kill_sent"] = True
            grace_s = max(record["grace_s"], MIN_GRACE_PERIOD_S)
            for container in live:
                self.record_pod_event(record, "Normal", "Killing", f"Stopping container {container['name']}", container["name"])
                self.cri("StopContainer", record, {"container": container["name"], "container_id": container["id"],
                                                   "timeout_s": grace_s})
            return
        sandbox = view["sandbox"]
        if sandbox is not None and sandbox["state"] == SANDBOX_READY and not record["sandbox_stopped"]:
            record["sandbox_stopped"] = True
            self.cri("StopPodSandbox", record, {"sandbox_id": sandbox["id"]})
            return
        record["terminal"] = True
        if record["deleted_from_api"]:
            if not record["removed"]:
                record["removed"] = True
                self.cri("RemovePodSandbox", record, {})
                return
        self.finish_round(record)
        self.delete_when_synced(record)

    def stop_terminal_sandbox(self, record: dict, view: dict) -> None:
        sandbox = view["sandbox"]
        if sandbox is not None and sandbox["state"] == SANDBOX_READY and not record["sandbox_stopped"]:
            record["sandbox_stopped"] = True
            self.cri("StopPodSandbox", record, {"sandbox_id": sandbox["id"]})
            return
        self.finish_round(record)

    def cri_done_StopContainer(self, record: dict, _pending: dict, _result: dict) -> None:
        self.resume(record)

    def cri_done_StopPodSandbox(self, record: dict, _pending: dict, _result: dict) -> None:
        self.resume(record)

    def cri_done_RemovePodSandbox(self, record: dict, _pending: dict, _result: dict) -> None:
        record["round_active"] = False
        self.pods.pop(record["uid"], None)

    def delete_when_synced(self, record: dict) -> None:
        """The status manager deletes a terminated pod once its final status reached the API."""
        if record["deleted_from_api"] or record["delete_sent"] or record["static"]:
            return
        if record["status_in_flight"] or record["status_acked"] != record.get("status_wanted"):
            return
        record["delete_sent"] = True
        self.delete_api_pod(record["namespace"], record["name"], record["uid"])

    def delete_api_pod(self, namespace: str, name: str, uid: str) -> None:
        self.api.request("delete", "pods", namespace=namespace, name=name,
                         body={"gracePeriodSeconds": 0, "preconditions": {"uid": uid}},
                         params={"gracePeriodSeconds": 0}, context={"op": "pod_deleted", "uid": uid})

    def result_pod_deleted(self, context: dict, code: int, _body: Any) -> None:
        record = self.pods.get(context["uid"])
        if record is not None and code not in (200, 404):
            record["delete_sent"] = False

    # Status manager ----------------------------------------------------------------------------------
    def update_pod_status(self, record: dict) -> None:
        if record["removed"]:
            return
        runtime = self.runtime()
        if runtime is None:
            return
        status = self.build_pod_status(record, runtime.pod_view(record["uid"]))
        record["status_wanted"] = status
        if status["phase"] != record["last_phase"]:
            record["last_phase"] = status["phase"]
            self.emit("pod.phase", record["key"], {"pod": record["key"], "phase": status["phase"], "node": self.node_name})
            if status["phase"] in TERMINAL_PHASES and not record["terminal"]:
                record["terminal"] = True
                self.after(0, "pod_requeue", {"uid": record["uid"], "token": record["requeue_token"]})
        self.send_pod_status(record)

    def send_pod_status(self, record: dict) -> None:
        status = record.get("status_wanted")
        if status is None or status == record["status_acked"] or record["deleted_from_api"]:
            return
        if record["status_in_flight"]:
            record["status_dirty"] = True
            return
        if record["static"] and record["mirror_uid"] is None:
            return
        record["status_in_flight"] = True
        record["status_dirty"] = False
        self.api.request("patch", "pods", namespace=record["namespace"], name=record["name"], subresource="status",
                         body={"status": status}, params={"patchType": "merge"},
                         context={"op": "pod_status", "uid": record["uid"], "status": status})

    def result_pod_status(self, context: dict, code: int, _body: Any) -> None:
        record = self.pods.get(context["uid"])
        if record is None:
            return
        record["status_in_flight"] = False
        if code == 200:
            record["status_acked"] = context["status"]
        if record["status_dirty"] and code == 200:
            self.send_pod_status(record)
        if record["terminal"] and record["terminating"] and not record["inflight"]:
            self.delete_when_synced(record)

    def on_status_sync(self, _payload: Any) -> None:
        """syncBatch: statuses (and deletions) that did not reach the API are sent again."""
        self.after(STATUS_SYNC_MS, "status_sync", None)
        for record in list(self.pods.values()):
            if self.needs_reconcile(record):
                record["status_acked"] = None
            if not record["status_in_flight"] and record.get("status_wanted") != record["status_acked"]:
                self.send_pod_status(record)
            elif record["terminal"] and record["terminating"] and not record["inflight"]:
                self.delete_when_synced(record)
        if self.registered:
            self.create_mirror_pods()

    def needs_reconcile(self, record: dict) -> bool:
        """needsReconcile: the API's pod status lost what we reported (e.g. the node lifecycle
        controller set Ready=False while we were unreachable), so syncBatch sends it again."""
        wanted = record.get("status_wanted")
        if record["static"] or record["status_in_flight"] or wanted is None or wanted != record["status_acked"]:
            return False
        api_status = record["pod"].get("status") or {}
        if api_status.get("phase") != wanted.get("phase"):
            return True
        # Usually the API holds exactly the conditions we sent: no need to pick the statuses out.
        return (api_status.get("conditions") != wanted.get("conditions")
                and kubelet_condition_statuses(api_status) != kubelet_condition_statuses(wanted))

    def build_pod_status(self, record: dict, view: dict) -> dict:
        pod = record["pod"]
        spec = pod["spec"]
        api_status = pod.get("status") or {}
        base = {"qosClass": podstatus.qos_class(spec), "startTime": self.time_text(record["start_ms"])}
        if record["rejected"]:
            return dict(base, phase="Failed", reason=record["rejected"]["reason"],
                        message="Pod was rejected: " + record["rejected"]["message"],
                        conditions=copy_tree(api_status.get("conditions") or []))
        container_statuses, phase_inputs, unready = self.container_statuses(record, spec, view)
        finished = record["terminal"] and not any(entry["state"] == "running" for entry in phase_inputs)
        phase = podstatus.pod_phase(spec.get("restartPolicy", "Always"), phase_inputs, finished)
        sandbox = view["sandbox"]
        sandbox_ready = sandbox is not None and sandbox["state"] == SANDBOX_READY
        status = dict(base, phase=phase, conditions=self.pod_conditions(record, api_status, sandbox_ready, unready, phase),
                      hostIP=self.config["internal_ip"], hostIPs=[{"ip": self.config["internal_ip"]}],
                      containerStatuses=container_statuses)
        address = (sandbox or {}).get("ip") or api_status.get("podIP")
        if address:
            status["podIP"] = address
            status["podIPs"] = [{"ip": address}]
        self.emit_container_changes(record, container_statuses)
        return status

    def container_statuses(self, record: dict, spec: dict, view: dict) -> list:
        statuses, phase_inputs, unready = [], [], []
        for container in spec.get("containers") or []:
            name = container["name"]
            attempts = [c for c in view["containers"] if c["name"] == name]
            status, phase_input = self.container_status(record, container, attempts)
            statuses.append(status)
            phase_inputs.append(phase_input)
            if not status["ready"]:
                unready.append(name)
        return [statuses, phase_inputs, unready]

    def container_status(self, record: dict, container: dict, attempts: list) -> list:
        name = container["name"]
        waiting = record["waiting"].get(name)
        status = {"name": name, "state": {}, "lastState": {}, "ready": False, "restartCount": 0,
                  "image": images.normalize(container.get("image") or ""), "imageID": "", "started": False}
        phase_input = {"state": "waiting", "has_last": False}
        latest = attempts[-1] if attempts else None
        previous = attempts[-2] if len(attempts) > 1 else None
        if latest is None:
            status["state"] = {"waiting": waiting_state(waiting or {"reason": "ContainerCreating"})}
            return [status, phase_input]
        status["containerID"] = "containerd://" + latest["id"]
        status["imageID"] = latest["image_ref"]
        status["restartCount"] = latest["restart_count"]
        if latest["state"] == RUNNING:
            probes = record["probes"].get(name) or {"ready": True, "started": True}
            status["state"] = {"running": {"startedAt": self.time_text(latest["started_ms"])}}
            status["ready"] = bool(probes["ready"] and probes["started"]) and not record["terminating"]
            status["started"] = bool(probes["started"])
            phase_input = {"state": "running"}
        elif latest["state"] == EXITED and waiting and not record["terminating"] and not record["terminal"]:
            status["state"] = {"waiting": waiting_state(waiting)}
            status["lastState"] = {"terminated": self.terminated_state(latest)}
            phase_input = {"state": "waiting", "has_last": True, "last_exit_code": latest["exit_code"]}
            return [status, phase_input]
        elif latest["state"] == EXITED:
            status["state"] = {"terminated": self.terminated_state(latest)}
            phase_input = {"state": "terminated", "exit_code": latest["exit_code"]}
        else:
            status["state"] = {"waiting": {"reason": "ContainerCreating"}}
        if previous is not None and previous["state"] == EXITED:
            status["lastState"] = {"terminated": self.terminated_state(previous)}
            phase_input["has_last"] = True
            phase_input["last_exit_code"] = previous["exit_code"]
        return [status, phase_input]

    def terminated_state(self, attempt: dict) -> dict:
        return {"containerID": "containerd://" + attempt["id"], "exitCode": attempt["exit_code"],
                "finishedAt": self.time_text(attempt["finished_ms"]), "reason": attempt["reason"],
                "startedAt": self.time_text(attempt["started_ms"] if attempt["started_ms"] is not None else attempt["created_ms"])}

    def pod_conditions(self, record: dict, api_status: dict, sandbox_ready: bool, unready: list, phase: str) -> list:
        completed = phase in TERMINAL_PHASES
        containers_ready = not unready and not completed
        values = {
            "PodReadyToStartContainers": ["True" if sandbox_ready else "False", None, None],
            "Initialized": ["True", None, None],
            **({"PodScheduled": ["True", None, None]} if record["static"] else {}),
            "Ready": self.readiness_value(containers_ready, completed, unready),
            "ContainersReady": self.readiness_value(containers_ready, completed, unready),
        }
        conditions = []
        for condition_type, (status, reason, message) in values.items():
            since = record["condition_times"].get(condition_type)
            if since is None or since[0] != status:
                since = [status, self.sim.now_ms]
                record["condition_times"][condition_type] = since
            condition = {"type": condition_type, "status": status, "lastProbeTime": None,
                         "lastTransitionTime": self.time_text(since[1])}
            if reason:
                condition["reason"] = reason
            if message:
                condition["message"] = message
            conditions.append(condition)
        for existing in api_status.get("conditions") or []:
            if existing.get("type") not in values:
                conditions.append(copy_tree(existing))
        return podstatus.order_conditions(conditions)

    def readiness_value(self, ready: bool, completed: bool, unready: list) -> list:
        if ready:
            return ["True", None, None]
        if completed:
            return ["False", "PodCompleted", None]
        return ["False", "ContainersNotReady", podstatus.unready_message("containers", unready)]

    def emit_container_changes(self, record: dict, container_statuses: list) -> None:
        for status in container_statuses:
            state_name = next(iter(status["state"]), "waiting")
            detail = status["state"].get(state_name) or {}
            reason = detail.get("reason", "")
            signature = f"{state_name}/{reason}/{status['restartCount']}"
            if record["last_container_states"].get(status["name"]) != signature:
                record["last_container_states"][status["name"]] = signature
                self.emit("container.state", record["key"], {"pod": record["key"], "container": status["name"],
                                                             "state": state_name, "reason": reason,
                                                             "restartCount": status["restartCount"]})

    def time_text(self, ms: int | None) -> str | None:
        if ms is None:
            return None
        return format_time(self.sim.start_epoch_ms + ms)

    def record_pod_event(self, record: dict, event_type: str, reason: str, message: str,
                         container: str | None = None) -> None:
        field_path = f"spec.containers{{{container}}}" if container else None
        self.recorder.record(self, record["pod"], event_type, reason, message, field_path)


# --- helpers -------------------------------------------------------------------------------------

KUBELET_POD_CONDITIONS = ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady")


def kubelet_condition_statuses(status: dict) -> dict:
    """The statuses of the pod conditions the kubelet owns, by type."""
    return {condition["type"]: condition.get("status") for condition in status.get("conditions") or []
            if condition.get("type") in KUBELET_POD_CONDITIONS}


def backoff_active(table: dict, key: str, event_ms: int, now_ms: int, *, since_event: bool, max_ms: int) -> bool:
    """flowcontrol.Backoff.IsInBackOffSince (since_event) / IsInBackOffSinceUpdate."""
    entry = table.get(key)
    if entry is None or event_ms - entry["last_update_ms"] > 2 * max_ms:
        return False
    elapsed = now_ms - event_ms if since_event else event_ms - entry["last_update_ms"]
    return elapsed < entry["backoff_ms"]


def backoff_next(table: dict, key: str, event_ms: int, now_ms: int, initial_ms: int, max_ms: int) -> None:
    """flowcontrol.Backoff.Next: start at the initial delay, double up to the maximum; an entry
    not updated for twice the maximum starts over."""
    entry = table.get(key)
    if entry is None or event_ms - entry["last_update_ms"] > 2 * max_ms:
        entry = {"backoff_ms": initial_ms, "last_update_ms": now_ms}
        table[key] = entry
    else:
        entry["backoff_ms"] = min(entry["backoff_ms"] * 2, max_ms)
    entry["last_update_ms"] = now_ms


def waiting_state(waiting: dict) -> dict:
    state = {"reason": waiting["reason"]}
    if waiting.get("message"):
        state["message"] = waiting["message"]
    return state


def probe_failure_output(probe: dict, probe_type: str, record: dict, running: dict) -> str:
    if "httpGet" in probe:
        return f"HTTP probe failed with statuscode: {503 if probe_type == 'readinessProbe' else 500}"
    if "tcpSocket" in probe:
        port = probe["tcpSocket"].get("port")
        return f"dial tcp {record['pod'].get('status', {}).get('podIP', '')}:{port}: connect: connection refused"
    if "grpc" in probe:
        return 'service unhealthy (responded with "NOT_SERVING")'
    return ""


def error_text(code: int, body: Any) -> str:
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or code)
    return str(code)


def random_uuid(rng: Any) -> str:
    text = f"{rng.getrandbits(128):032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:32]}"
