"""node-lifecycle-controller (pkg/controller/nodelifecycle): node health, taints, zone disruption.

Every node-monitor-period it compares each node's Ready condition and its kube-node-lease Lease
with what it saw before; a change moves the node's probe timestamp to "now". A node whose probe
timestamp is older than the grace period gets its conditions set to Unknown ("Kubelet stopped
posting node status."), a NodeNotReady event, its pods marked not ready, the NoSchedule taint at
once (condition -> taint pass) and the NoExecute taint through a per-zone rate-limited queue.
Zones are Normal, PartialDisruption or FullDisruption; the queue rate follows the zone state and
all tainting stops while every zone is fully disrupted.
"""
from __future__ import annotations

import json
from typing import Any

from .base import Controller
from .helpers import (TAINT_DISK_PRESSURE, TAINT_MEMORY_PRESSURE, TAINT_NETWORK_UNAVAILABLE, TAINT_NOT_READY,
                      TAINT_PID_PRESSURE, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE, node_condition, time_ms, zone_of)

NODE_EVICTION_PERIOD_MS = 100
# wait.Until measures its period from the end of a pass; a pass takes about a millisecond.
PASS_DURATION_MS = 1
MAX_TAINT_RETRIES = 5
STATE_INITIAL = "Initial"
STATE_NORMAL = "Normal"
STATE_FULL = "FullDisruption"
STATE_PARTIAL = "PartialDisruption"
UNKNOWN_CONDITION_TYPES = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"]
# nodeConditionToTaintKeyStatusMap
CONDITION_TAINTS = {
    "Ready": {"False": TAINT_NOT_READY, "Unknown": TAINT_UNREACHABLE},
    "MemoryPressure": {"True": TAINT_MEMORY_PRESSURE},
    "DiskPressure": {"True": TAINT_DISK_PRESSURE},
    "NetworkUnavailable": {"True": TAINT_NETWORK_UNAVAILABLE},
    "PIDPressure": {"True": TAINT_PID_PRESSURE},
}
NO_SCHEDULE_KEYS = [TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_MEMORY_PRESSURE, TAINT_DISK_PRESSURE,
                    TAINT_NETWORK_UNAVAILABLE, TAINT_PID_PRESSURE, TAINT_UNSCHEDULABLE]


def compute_zone_state(ready_statuses: list, unhealthy_threshold: float) -> str:
    """ComputeZoneState: no ready node -> full; >2 not ready and >= threshold -> partial."""
    ready = sum(1 for status in ready_statuses if status == "True")
    not_ready = len(ready_statuses) - ready
    if ready == 0 and not_ready > 0:
        return STATE_FULL
    if not_ready > 2 and not_ready / (not_ready + ready) >= unhealthy_threshold:
        return STATE_PARTIAL
    return STATE_NORMAL


def zone_eviction_rate(state: str, zone_size: int, config: dict) -> float:
    """setLimiterInZone."""
    if state == STATE_PARTIAL:
        if zone_size > config["large_cluster_size_threshold"]:
            return config["secondary_node_eviction_rate"]
        return 0.0
    return config["node_eviction_rate"]


class TokenBucket:
    """flowcontrol token bucket with burst 1; a rate of 0 never admits (fakeNeverRateLimiter)."""

    def __init__(self, qps: float, now_ms: int) -> None:
        self.qps = qps
        self.tokens = 1.0
        self.last_ms = now_ms

    def try_accept(self, now_ms: int) -> bool:
        if self.qps <= 0:
            return False
        self.tokens = min(1.0, self.tokens + (now_ms - self.last_ms) * self.qps / 1000)
        self.last_ms = now_ms
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


def taint_matches(a: dict, b: dict) -> bool:
    return a.get("key") == b.get("key") and a.get("effect") == b.get("effect")


def swap_taints(taints: list, add: list, remove: list, now_text: str) -> list | None:
    """SwapNodeControllerTaint: the new taint list, or None when nothing changes."""
    kept = [t for t in taints if not any(taint_matches(t, r) for r in remove)]
    added = [dict(t, timeAdded=now_text) for t in add if not any(taint_matches(t, k) for k in kept)]
    if not added and len(kept) == len(taints):
        return None
    return kept + added


class NodeLifecycleController(Controller):
    name = "node-lifecycle-controller"
    event_source = "node-controller"
    informers = ("nodes", "node-leases", "pods")

    def __init__(self, config: dict | None = None) -> None:
        super().__init__(config)
        self.config = dict(config or {})
        self.health: dict[str, dict] = {}
        self.known_nodes: dict[str, bool] = {}
        self.zone_states: dict[str, str] = {}
        # zone -> {"items": [node names], "present": {name: True}, "bucket": TokenBucket}
        self.zone_queues: dict[str, dict] = {}
        self.pods_to_retry: dict[str, bool] = {}
        self.taint_pass_armed = False

    def start(self, mgr: Any) -> None:
        super().start(mgr)
        self.after(mgr, self.config["node_monitor_period_ms"], "monitor")

    def on_event(self, mgr: Any, informer: str, event_type: str, obj: dict, old: dict | None) -> None:
        if informer == "nodes":
            self.enqueue(mgr, obj["metadata"]["name"])

    # The condition -> NoSchedule taint pass (doNoScheduleTaintingPass), keyed by node -----------
    def sync(self, mgr: Any, key: str) -> None:
        node = mgr.get("nodes", key)
        if node is None:
            return
        wanted = []
        for condition in (node.get("status") or {}).get("conditions") or []:
            taint_key = CONDITION_TAINTS.get(condition.get("type"), {}).get(condition.get("status"))
            if taint_key:
                wanted.append({"key": taint_key, "effect": "NoSchedule"})
        if (node.get("spec") or {}).get("unschedulable"):
            wanted.append({"key": TAINT_UNSCHEDULABLE, "effect": "NoSchedule"})
        present = [t for t in (node.get("spec") or {}).get("taints") or []
                   if t.get("effect") == "NoSchedule" and t.get("key") in NO_SCHEDULE_KEYS]
        add = [t for t in wanted if not any(taint_matches(t, p) for p in present)]
        remove = [t for t in present if not any(taint_matches(t, w) for w in wanted)]
        if add or remove:
            self.swap(mgr, key, node, add, remove)

    # Taint writes with conflict retries (RetryOnConflict around a fresh GET) --------------------
    def swap(self, mgr: Any, key: str | None, node: dict, add: list, remove: list, attempt: int = 0,
             requeue_zone: str | None = None) -> None:
        current = (node.get("spec") or {}).get("taints") or []
        taints = swap_taints(current, add, remove, mgr.now_text())
        if taints is None:
            return
        body = dict(node, spec=dict(node.get("spec") or {}, taints=taints))
        data = {"node": node["metadata"]["name"], "add": add, "remove": remove, "attempt": attempt,
                "zone": requeue_zone,
                "added": [t for t in add if not any(taint_matches(t, c) for c in current)],
                "removed": [t for t in remove if any(taint_matches(t, c) for c in current)]}
        self.request(mgr, key, "update", "nodes", name=node["metadata"]["name"], body=body, tag="taints", data=data)

    def result_taints(self, mgr: Any, context: dict, code: int, body: Any) -> bool:
        data = context["data"]
        if 200 <= code < 300:
            for taint in data["added"]:
                mgr.emit("node.taint", data["node"], {"node": data["node"], "key": taint["key"],
                                                      "effect": taint["effect"], "added": True})
            for taint in data["removed"]:
                mgr.emit("node.taint", data["node"], {"node": data["node"], "key": taint["key"],
                                                      "effect": taint["effect"], "added": False})
            return True
        if code == 409 and data["attempt"] < MAX_TAINT_RETRIES:
            self.request(mgr, context["key"], "get", "nodes", name=data["node"], tag="taints_refetch", data=data)
            return True
        if data.get("zone") is not None:
            self.add_to_zone_queue(mgr, data["zone"], data["node"], force=True)
        return code == 404

    def result_taints_refetch(self, mgr: Any, context: dict, code: int, body: Any) -> bool:
        data = context["data"]
        if code != 200:
            return code == 404
        self.swap(mgr, context["key"], body, data["add"], data["remove"], data["attempt"] + 1, data.get("zone"))
        return True

    # monitorNodeHealth --------------------------------------------------------------------
    def timer_monitor(self, mgr: Any, _data: Any) -> None:
        self.after(mgr, self.config["node_monitor_period_ms"] + PASS_DURATION_MS, "monitor")
        nodes = mgr.store("nodes")
        self.classify_nodes(mgr, nodes)
        zone_statuses: dict[str, list] = {}
        for name in sorted(nodes):
            node = nodes[name]
            zone = zone_of(node)
            self.ensure_zone(mgr, zone)
            before = node_condition(node, "Ready")
            before_status = before.get("status") if before else None
            observed = self.try_update_health(mgr, node)
            zone_statuses.setdefault(zone, []).append(observed)
            self.process_taint_eviction(mgr, node, observed)
            if observed != "True" and (before_status == "True" or self.pods_to_retry.pop(name, False)):
                if before_status == "True":
                    self.record(mgr, node_reference(name), "Normal", "NodeNotReady",
                                f"Node {name} status is now: NodeNotReady")
                self.mark_pods_not_ready(mgr, name)
        self.handle_disruption(mgr, zone_statuses, nodes)

    def classify_nodes(self, mgr: Any, nodes: dict) -> None:
        for name in sorted(nodes):
            if name not in self.known_nodes:
                self.known_nodes[name] = True
                self.record(mgr, node_reference(name), "Normal", "RegisteredNode",
                            f"Node {name} event: Registered Node {name} in Controller")
        for name in list(self.known_nodes):
            if name not in nodes:
                del self.known_nodes[name]
                self.health.pop(name, None)
                for queue in self.zone_queues.values():
                    self.remove_from_queue(queue, name)
                self.record(mgr, node_reference(name), "Normal", "RemovingNode",
                            f"Node {name} event: Removing Node {name} from Controller")

    def ensure_zone(self, mgr: Any, zone: str) -> None:
        if zone not in self.zone_states:
            self.zone_states[zone] = STATE_INITIAL
            self.zone_queues[zone] = {"items": [], "present": {},
                                      "bucket": TokenBucket(self.config["node_eviction_rate"], mgr.now_ms())}

    def try_update_health(self, mgr: Any, node: dict) -> str:
        """tryUpdateNodeHealth: returns the Ready status after this pass."""
        name = node["metadata"]["name"]
        now_ms = mgr.now_ms()
        ready = node_condition(node, "Ready")
        created_ms = time_ms(node["metadata"].get("creationTimestamp"), mgr.sim.start_epoch_ms) or 0
        if ready is None:
            grace_ms = self.config["node_startup_grace_period_ms"]
            observed_text = "never"
            if name not in self.health:
                self.health[name] = {"probe_ms": created_ms, "transition_ms": created_ms,
                                     "ready": observed_text, "lease_renew": ""}
        else:
            grace_ms = self.config["node_monitor_grace_period_ms"]
            observed_text = json.dumps(ready, sort_keys=True)
        health = self.health.get(name)
        if health is None:
            health = {"probe_ms": now_ms, "transition_ms": now_ms, "ready": observed_text, "lease_renew": ""}
            self.health[name] = health
        elif health["ready"] != observed_text:
            health["probe_ms"] = now_ms
            health["ready"] = observed_text
        lease = mgr.get("node-leases", f"kube-node-lease/{name}")
        renew = ((lease or {}).get("spec") or {}).get("renewTime") or ""
        if renew and renew > health["lease_renew"]:
            health["lease_renew"] = renew
            health["probe_ms"] = now_ms
        status = ready.get("status", "Unknown") if ready else "Unknown"
        if now_ms > health["probe_ms"] + grace_ms:
            status = self.mark_unknown(mgr, node, health)
        return status

    def mark_unknown(self, mgr: Any, node: dict, health: dict) -> str:
        now_text = mgr.now_text()
        conditions = [dict(c) for c in (node.get("status") or {}).get("conditions") or []]
        changed = []
        for condition_type in UNKNOWN_CONDITION_TYPES:
            current = next((c for c in conditions if c.get("type") == condition_type), None)
            if current is None:
                conditions.append({"type": condition_type, "status": "Unknown", "reason": "NodeStatusNeverUpdated",
                                   "message": "Kubelet never posted node status.",
                                   "lastHeartbeatTime": node["metadata"].get("creationTimestamp"),
                                   "lastTransitionTime": now_text})
                changed.append(condition_type)
            elif current.get("status") != "Unknown":
                current.update(status="Unknown", reason="NodeStatusUnknown",
                               message="Kubelet stopped posting node status.", lastTransitionTime=now_text)
                changed.append(condition_type)
        if not changed:
            return "Unknown"
        ready = next(c for c in conditions if c.get("type") == "Ready")
        health["ready"] = json.dumps(ready, sort_keys=True)
        health["transition_ms"] = mgr.now_ms()
        body = dict(node, status=dict(node.get("status") or {}, conditions=conditions))
        self.request(mgr, None, "update", "nodes", name=node["metadata"]["name"], subresource="status", body=body,
                     tag="node_status", data={"node": node["metadata"]["name"], "conditions": changed,
                                              "reason": ready["reason"]})
        return "Unknown"

    def result_node_status(self, mgr: Any, context: dict, code: int, body: Any) -> bool:
        data = context["data"]
        if 200 <= code < 300:
            for condition_type in data["conditions"]:
                mgr.emit("node.condition", data["node"], {"node": data["node"], "condition": condition_type,
                                                          "status": "Unknown", "reason": data["reason"]})
            return True
        # Not written: forget what we believed we wrote, so the next pass tries again.
        health = self.health.get(data["node"])
        if health is not None:
            health["ready"] = ""
            health["probe_ms"] = -10 ** 12
        return False

    def mark_pods_not_ready(self, mgr: Any, node_name: str) -> None:
        """MarkPodsNotReady: the pods' Ready condition becomes False so they leave endpoints."""
        for pod in mgr.pods_on_node(node_name):
            conditions = [dict(c) for c in (pod.get("status") or {}).get("conditions") or []]
            ready = next((c for c in conditions if c.get("type") == "Ready"), None)
            if ready is None or ready.get("status") == "False":
                continue
            ready["status"] = "False"
            ready["lastTransitionTime"] = mgr.now_text()
            body = dict(pod, status=dict(pod.get("status") or {}, conditions=conditions))
            self.request(mgr, None, "update", "pods", namespace=pod["metadata"]["namespace"],
                         name=pod["metadata"]["name"], subresource="status", body=body,
                         tag="pod_not_ready", data=node_name)
            self.record(mgr, pod, "Warning", "NodeNotReady", "Node is not ready")

    def result_pod_not_ready(self, mgr: Any, context: dict, code: int, body: Any) -> bool:
        if not (200 <= code < 300) and code != 404:
            self.pods_to_retry[context["data"]] = True
        return True

    # Taint-based eviction ---------------------------------------------------------------------
    def process_taint_eviction(self, mgr: Any, node: dict, ready_status: str) -> None:
        name = node["metadata"]["name"]
        taints = (node.get("spec") or {}).get("taints") or []
        unreachable = {"key": TAINT_UNREACHABLE, "effect": "NoExecute"}
        not_ready = {"key": TAINT_NOT_READY, "effect": "NoExecute"}
        if ready_status == "True":
            for queue in self.zone_queues.values():
                self.remove_from_queue(queue, name)
            present = [t for t in [unreachable, not_ready] if any(taint_matches(t, x) for x in taints)]
            if present:
                self.swap(mgr, None, node, [], present)
            return
        wanted, opposite = (not_ready, unreachable) if ready_status == "False" else (unreachable, not_ready)
        if any(taint_matches(opposite, x) for x in taints):
            self.swap(mgr, None, node, [wanted], [opposite])
        elif not any(taint_matches(wanted, x) for x in taints):
            self.add_to_zone_queue(mgr, zone_of(node), name)

    def add_to_zone_queue(self, mgr: Any, zone: str, name: str, force: bool = False) -> None:
        self.ensure_zone(mgr, zone)
        queue = self.zone_queues[zone]
        if name in queue["present"] and not force:
            return
        queue["present"][name] = True
        if name not in queue["items"]:
            queue["items"].append(name)
        self.arm_taint_pass(mgr)

    def remove_from_queue(self, queue: dict, name: str) -> None:
        queue["present"].pop(name, None)
        if name in queue["items"]:
            queue["items"].remove(name)

    def arm_taint_pass(self, mgr: Any) -> None:
        if not self.taint_pass_armed:
            self.taint_pass_armed = True
            self.after(mgr, NODE_EVICTION_PERIOD_MS, "taint_pass")

    def timer_taint_pass(self, mgr: Any, _data: Any) -> None:
        """doNoExecuteTaintingPass: per zone, take queued nodes while the token bucket admits."""
        self.taint_pass_armed = False
        now_ms = mgr.now_ms()
        for zone in sorted(self.zone_queues):
            queue = self.zone_queues[zone]
            for _ in range(len(queue["items"])):
                if not queue["items"] or not queue["bucket"].try_accept(now_ms):
                    break
                name = queue["items"].pop(0)
                self.taint_no_execute(mgr, zone, name)
        if any(queue["items"] for queue in self.zone_queues.values()):
            self.arm_taint_pass(mgr)

    def taint_no_execute(self, mgr: Any, zone: str, name: str) -> None:
        node = mgr.get("nodes", name)
        if node is None:
            return
        ready = node_condition(node, "Ready")
        status = ready.get("status") if ready else "Unknown"
        if status == "False":
            wanted, opposite = TAINT_NOT_READY, TAINT_UNREACHABLE
        elif status == "Unknown":
            wanted, opposite = TAINT_UNREACHABLE, TAINT_NOT_READY
        else:
            return  # "Node was in a taint queue, but it's ready now. Ignoring taint request."
        self.swap(mgr, None, node, [{"key": wanted, "effect": "NoExecute"}],
                  [{"key": opposite, "effect": "NoExecute"}], requeue_zone=zone)

    # Zones (handleDisruption) -----------------------------------------------------------------
    def handle_disruption(self, mgr: Any, zone_statuses: dict, nodes: dict) -> None:
        threshold = self.config["unhealthy_zone_threshold"]
        new_states = {zone: compute_zone_state(statuses, threshold) for zone, statuses in zone_statuses.items()}
        for zone in list(self.zone_states):
            if zone not in zone_statuses:
                del self.zone_states[zone]
        all_were_full = bool(self.zone_states) and all(s == STATE_FULL for s in self.zone_states.values())
        all_full = bool(new_states) and all(s == STATE_FULL for s in new_states.values())
        if all_full and not all_were_full:
            # "Controller detected that all Nodes are not-Ready. Entering master disruption mode."
            for name in sorted(nodes):
                self.process_taint_eviction(mgr, nodes[name], "True")
            for queue in self.zone_queues.values():
                queue["bucket"] = TokenBucket(0.0, mgr.now_ms())
            self.set_states(mgr, new_states)
            return
        if all_were_full and not all_full:
            # "Controller detected that some Nodes are Ready. Exiting master disruption mode."
            for health in self.health.values():
                health["probe_ms"] = health["transition_ms"] = mgr.now_ms()
            for zone, state in new_states.items():
                self.set_rate(mgr, zone, zone_eviction_rate(state, len(zone_statuses[zone]), self.config))
            self.set_states(mgr, new_states)
            return
        for zone, state in new_states.items():
            if self.zone_states.get(zone) != state:
                self.set_rate(mgr, zone, zone_eviction_rate(state, len(zone_statuses[zone]), self.config))
        self.set_states(mgr, new_states)

    def set_states(self, mgr: Any, new_states: dict) -> None:
        for zone, state in new_states.items():
            if self.zone_states.get(zone) != state:
                self.zone_states[zone] = state
                mgr.emit("zone.state", zone or "(no zone)", {"zone": zone, "state": state})

    def set_rate(self, mgr: Any, zone: str, qps: float) -> None:
        """SwapLimiter: a new bucket (full) unless the rate is unchanged."""
        self.ensure_zone(mgr, zone)
        queue = self.zone_queues[zone]
        if queue["bucket"].qps != qps:
            queue["bucket"] = TokenBucket(qps, mgr.now_ms())


def node_reference(name: str) -> dict:
    """The reference node events carry: the real controller puts the node name in the uid."""
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "uid": name}}
