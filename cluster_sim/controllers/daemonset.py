"""daemonset-controller (pkg/controller/daemon): one pod per eligible node.

Pods are not bound by the controller: each gets a required node affinity on `metadata.name`
(matchFields) so the scheduler places it on its node, and the tolerations every DaemonSet pod
receives (util.AddOrUpdateDaemonPodTolerations), so it keeps running on unreachable or
cordoned nodes. Template changes roll out node by node within maxUnavailable.
"""
from __future__ import annotations

from typing import Any

from .helpers import (TAINT_DISK_PRESSURE, TAINT_MEMORY_PRESSURE, TAINT_NETWORK_UNAVAILABLE, TAINT_NOT_READY,
                      TAINT_PID_PRESSURE, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE, compute_hash, is_pod_available,
                      is_pod_ready, is_terminating, key_of, node_taints, pod_fits_node_selection, pod_phase,
                      tolerated)
from .replicaset import PodOwnerController, pod_from_template
from .deployment import scaled_value

REVISION_HASH_LABEL = "controller-revision-hash"
TEMPLATE_GENERATION_LABEL = "pod-template-generation"

DAEMON_TOLERATIONS = [
    {"key": TAINT_NOT_READY, "operator": "Exists", "effect": "NoExecute"},
    {"key": TAINT_UNREACHABLE, "operator": "Exists", "effect": "NoExecute"},
    {"key": TAINT_DISK_PRESSURE, "operator": "Exists", "effect": "NoSchedule"},
    {"key": TAINT_MEMORY_PRESSURE, "operator": "Exists", "effect": "NoSchedule"},
    {"key": TAINT_PID_PRESSURE, "operator": "Exists", "effect": "NoSchedule"},
    {"key": TAINT_UNSCHEDULABLE, "operator": "Exists", "effect": "NoSchedule"},
]
HOST_NETWORK_TOLERATION = {"key": TAINT_NETWORK_UNAVAILABLE, "operator": "Exists", "effect": "NoSchedule"}


def daemon_pod_tolerations(spec: dict) -> list:
    tolerations = list(spec.get("tolerations") or [])
    wanted = DAEMON_TOLERATIONS + ([HOST_NETWORK_TOLERATION] if spec.get("hostNetwork") else [])
    for toleration in wanted:
        if not any(t.get("key") == toleration["key"] and t.get("effect") == toleration["effect"] for t in tolerations):
            tolerations.append(dict(toleration))
    return tolerations


def node_name_affinity(affinity: dict | None, node_name: str) -> dict:
    """ReplaceDaemonSetPodNodeNameNodeAffinity: the required terms become one matchFields term."""
    affinity = dict(affinity or {})
    node_affinity = dict(affinity.get("nodeAffinity") or {})
    node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": [
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node_name]}]}]}
    affinity["nodeAffinity"] = node_affinity
    return affinity


def target_node(pod: dict) -> str:
    """util.GetTargetNodeName: spec.nodeName, else the node named by the matchFields affinity."""
    if pod["spec"].get("nodeName"):
        return pod["spec"]["nodeName"]
    required = (((pod["spec"].get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    for term in required.get("nodeSelectorTerms") or []:
        for field in term.get("matchFields") or []:
            if field.get("key") == "metadata.name" and field.get("operator") == "In" and len(field.get("values") or []) == 1:
                return field["values"][0]
    return ""


def node_should_run(spec: dict, node: dict) -> list:
    """NodeShouldRunDaemonPod: [should run, should continue running]."""
    wanted_name = spec.get("nodeName")
    if wanted_name and wanted_name != node["metadata"]["name"]:
        return [False, False]
    if not pod_fits_node_selection(spec, node):
        return [False, False]
    tolerations = daemon_pod_tolerations(spec)
    fits = all(tolerated(tolerations, taint) for taint in node_taints(node, ["NoSchedule", "NoExecute"]))
    keeps = all(tolerated(tolerations, taint) for taint in node_taints(node, ["NoExecute"]))
    return [fits, keeps]


class DaemonSetController(PodOwnerController):
    name = "daemonset-controller"
    event_source = "daemonset-controller"
    informers = ("daemonsets", "pods", "nodes")
    owner_kind = "DaemonSet"
    owner_informer = "daemonsets"

    def on_event(self, mgr: Any, informer: str, event_type: str, obj: dict, old: dict | None) -> None:
        if informer == "pods":
            self.on_pod_event(mgr, event_type, obj, old)
        elif informer == "daemonsets":
            if event_type == "DELETED":
                self.expectations.forget(key_of(obj))
            self.enqueue(mgr, key_of(obj))
        elif old is None or event_type == "DELETED" or self.node_changed(obj, old):
            for key in mgr.store("daemonsets"):
                self.enqueue(mgr, key)

    def node_changed(self, node: dict, old: dict) -> bool:
        return (node["metadata"].get("labels") != old["metadata"].get("labels")
                or (node.get("spec") or {}).get("taints") != (old.get("spec") or {}).get("taints")
                or (node.get("spec") or {}).get("unschedulable") != (old.get("spec") or {}).get("unschedulable"))

    def sync(self, mgr: Any, key: str) -> None:
        ds = mgr.get("daemonsets", key)
        if ds is None:
            self.expectations.forget(key)
            self.creating.pop(key, None)
            return
        template = ds["spec"].get("template") or {}
        template_hash = compute_hash(template, (ds.get("status") or {}).get("collisionCount"))
        by_node = self.pods_by_node(mgr, ds)
        nodes = [mgr.store("nodes")[name] for name in sorted(mgr.store("nodes"))]
        if self.expectations.satisfied(key, mgr.now_ms()) and not is_terminating(ds) and key not in self.creating:
            self.manage(mgr, key, ds, nodes, by_node, template_hash)
        self.update_status(mgr, key, ds, nodes, by_node, template_hash)

    def pods_by_node(self, mgr: Any, ds: dict) -> dict:
        by_node: dict[str, list] = {}
        pods = sorted(mgr.pods_controlled_by(ds), key=lambda p: (p["metadata"].get("creationTimestamp") or "", p["metadata"]["name"]))
        for pod in pods:
            by_node.setdefault(target_node(pod), []).append(pod)
        return by_node

    def manage(self, mgr: Any, key: str, ds: dict, nodes: list, by_node: dict, template_hash: str) -> None:
        to_create, to_delete = [], []
        spec = (ds["spec"].get("template") or {}).get("spec") or {}
        for node in nodes:
            name = node["metadata"]["name"]
            should_run, should_continue = node_should_run(spec, node)
            pods = [pod for pod in by_node.get(name, []) if not is_terminating(pod)]
            failed = [pod for pod in pods if pod_phase(pod) == "Failed"]
            running = [pod for pod in pods if pod_phase(pod) != "Failed"]
            if should_run:
                to_delete.extend(failed)
                if not running:
                    to_create.append(name)
                else:
                    to_delete.extend(running[1:])
            elif not should_continue:
                to_delete.extend(pods)
        if not to_create and not to_delete:
            to_delete = self.rolling_update_victims(mgr, ds, nodes, by_node, template_hash)
        if to_create:
            self.create_pods(mgr, key, ds, [self.pod_for_node(ds, node, template_hash) for node in to_create])
        if to_delete:
            self.delete_pods(mgr, key, ds, to_delete)

    def pod_for_node(self, ds: dict, node_name: str, template_hash: str) -> dict:
        pod = pod_from_template(ds, ds["spec"].get("template") or {})
        pod["metadata"]["labels"][REVISION_HASH_LABEL] = template_hash
        pod["metadata"]["labels"][TEMPLATE_GENERATION_LABEL] = str(ds["metadata"].get("generation", 1))
        pod["spec"]["tolerations"] = daemon_pod_tolerations(pod["spec"])
        pod["spec"]["affinity"] = node_name_affinity(pod["spec"].get("affinity"), node_name)
        return pod

    def rolling_update_victims(self, mgr: Any, ds: dict, nodes: list, by_node: dict, template_hash: str) -> list:
        strategy = ds["spec"].get("updateStrategy") or {}
        if strategy.get("type", "RollingUpdate") != "RollingUpdate":
            return []
        min_ready = ds["spec"].get("minReadySeconds") or 0
        now_ms, start = mgr.now_ms(), mgr.sim.start_epoch_ms
        spec = (ds["spec"].get("template") or {}).get("spec") or {}
        eligible = [node for node in nodes if node_should_run(spec, node)[0]]
        budget = scaled_value((strategy.get("rollingUpdate") or {}).get("maxUnavailable", 1), len(eligible), True)
        unavailable, old_available, victims = 0, [], []
        for node in eligible:
            pods = [pod for pod in by_node.get(node["metadata"]["name"], []) if not is_terminating(pod)]
            if not pods or not is_pod_available(pods[0], min_ready, now_ms, start):
                unavailable += 1
            for pod in pods:
                if (pod["metadata"].get("labels") or {}).get(REVISION_HASH_LABEL) == template_hash:
                    continue
                if is_pod_available(pod, min_ready, now_ms, start):
                    old_available.append(pod)
                else:
                    victims.append(pod)
        for pod in old_available:
            if unavailable >= budget:
                break
            victims.append(pod)
            unavailable += 1
        return victims

    def update_status(self, mgr: Any, key: str, ds: dict, nodes: list, by_node: dict, template_hash: str) -> None:
        spec = (ds["spec"].get("template") or {}).get("spec") or {}
        min_ready = ds["spec"].get("minReadySeconds") or 0
        now_ms, start = mgr.now_ms(), mgr.sim.start_epoch_ms
        counts = {"desiredNumberScheduled": 0, "currentNumberScheduled": 0, "numberMisscheduled": 0,
                  "numberReady": 0, "numberAvailable": 0, "updatedNumberScheduled": 0}
        for node in nodes:
            pods = [pod for pod in by_node.get(node["metadata"]["name"], []) if not is_terminating(pod)]
            should_run = node_should_run(spec, node)[0]
            if not should_run:
                counts["numberMisscheduled"] += 1 if pods else 0
                continue
            counts["desiredNumberScheduled"] += 1
            if not pods:
                continue
            counts["currentNumberScheduled"] += 1
            counts["numberReady"] += 1 if is_pod_ready(pods[0]) else 0
            counts["numberAvailable"] += 1 if is_pod_available(pods[0], min_ready, now_ms, start) else 0
            if (pods[0]["metadata"].get("labels") or {}).get(REVISION_HASH_LABEL) == template_hash:
                counts["updatedNumberScheduled"] += 1
        counts["numberUnavailable"] = counts["desiredNumberScheduled"] - counts["numberAvailable"]
        counts["observedGeneration"] = ds["metadata"].get("generation", 1)
        current = ds.get("status") or {}
        status = dict(current, **counts)
        if status != current:
            self.request(mgr, key, "patch", "daemonsets", namespace=ds["metadata"]["namespace"],
                         name=ds["metadata"]["name"], subresource="status", body={"status": status},
                         params={"patchType": "merge"})
        if min_ready and counts["numberReady"] != counts["numberAvailable"]:
            self.enqueue_after(mgr, key, min_ready * 1000)
