"""Deployments, ReplicaSets, DaemonSets, Services, namespaces and owners in a hand-built cluster."""
from __future__ import annotations

import re

from cluster_sim.controllers.helpers import SAFE_ALPHABET
from tests.sim.test_controllers_harness import Harness, deployment, replicaset, service

SUFFIX = f"[{SAFE_ALPHABET}]{{5}}"


def replica_sets(h: Harness) -> dict:
    return {rs["metadata"]["name"]: rs for rs in h.list("replicasets")}


def test_deployment_creates_hashed_replica_set_and_named_pods_with_events():
    h = Harness()
    h.create("deployments", deployment("web", 3))
    h.run_for(10_000)
    (name, rs), = replica_sets(h).items()
    template_hash = rs["metadata"]["labels"]["pod-template-hash"]
    assert name == f"web-{template_hash}" and re.fullmatch(f"[{SAFE_ALPHABET}]{{1,10}}", template_hash)
    assert rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    assert rs["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] == "3"
    assert rs["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"] == "4"
    pods = h.pods()
    assert len(pods) == 3 and all(re.fullmatch(f"{name}-{SUFFIX}", p["metadata"]["name"]) for p in pods)
    messages = [e.payload["message"] for e in h.k8s_events()]
    assert f"Scaled up replica set {name} from 0 to 3" in messages
    assert sorted(m for m in messages if m.startswith("Created pod: ")) == sorted(
        f"Created pod: {p['metadata']['name']}" for p in pods)
    status = h.get("deployments", "web")["status"]
    assert [status["replicas"], status["updatedReplicas"], status["readyReplicas"], status["availableReplicas"]] == [3, 3, 3, 3]
    reasons = {c["type"]: c["reason"] for c in status["conditions"]}
    assert reasons == {"Available": "MinimumReplicasAvailable", "Progressing": "NewReplicaSetAvailable"}


def test_rolling_update_stays_within_surge_and_unavailability_bounds():
    h = Harness()
    h.create("deployments", deployment("web", 4, strategy={"type": "RollingUpdate",
                                                             "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1}}))
    h.run_for(10_000)
    current = h.get("deployments", "web")
    current["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.28"
    code, _ = h.api("update", "deployments", namespace="default", name="web", body=current)
    assert code == 200
    worst_total, worst_available = 0, 10
    for _ in range(60):
        h.run_for(500)
        pods = h.pods(include_terminating=False)
        ready = [p for p in pods if any(c["type"] == "Ready" and c["status"] == "True"
                                        for c in p["status"].get("conditions", []))]
        worst_total = max(worst_total, len(pods))
        worst_available = min(worst_available, len(ready))
    sets = replica_sets(h)
    assert len(sets) == 2
    new = [rs for rs in sets.values() if rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"][0]
    assert new["spec"]["replicas"] == 4 and all(rs["spec"]["replicas"] == 0 for rs in sets.values() if rs is not new)
    assert worst_total <= 5, "more pods than replicas + maxSurge"
    assert worst_available >= 3, "fewer ready pods than replicas - maxUnavailable"
    assert all(p["spec"]["containers"][0]["image"] == "nginx:1.28" for p in h.pods(include_terminating=False))
    downs = [e for e in h.k8s_events("ScalingReplicaSet") if "Scaled down" in e.payload["message"]]
    assert downs, "old replica set never scaled down"


def test_recreate_removes_old_pods_before_new_ones_exist():
    h = Harness()
    h.create("deployments", deployment("db", 2, strategy={"type": "Recreate"}))
    h.run_for(10_000)
    current = h.get("deployments", "db")
    current["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.28"
    h.api("update", "deployments", namespace="default", name="db", body=current)
    mixed = False
    for _ in range(40):
        h.run_for(250)
        images = {p["spec"]["containers"][0]["image"] for p in h.pods()}
        mixed = mixed or len(images) > 1
    assert not mixed
    assert {p["spec"]["containers"][0]["image"] for p in h.pods()} == {"nginx:1.28"}


def test_revision_history_limit_deletes_oldest_replica_sets():
    h = Harness()
    h.create("deployments", deployment("web", 1, revisionHistoryLimit=1))
    h.run_for(5_000)
    for version in ("1.28", "1.29", "1.30"):
        current = h.get("deployments", "web")
        current["spec"]["template"]["spec"]["containers"][0]["image"] = f"nginx:{version}"
        h.api("update", "deployments", namespace="default", name="web", body=current)
        h.run_for(15_000)
    revisions = sorted(int(rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"])
                       for rs in replica_sets(h).values())
    assert revisions == [3, 4]


def test_scaling_a_deployment_down_deletes_pods_and_records_it():
    h = Harness()
    h.create("deployments", deployment("web", 5))
    h.run_for(10_000)
    h.api("patch", "deployments", namespace="default", name="web", body={"spec": {"replicas": 2}},
          params={"patchType": "merge"})
    h.run_for(10_000)
    (name, rs), = replica_sets(h).items()
    assert rs["spec"]["replicas"] == 2 and len(h.pods()) == 2
    assert f"Scaled down replica set {name} from 5 to 2" in [e.payload["message"] for e in h.k8s_events()]
    assert len(h.k8s_events("SuccessfulDelete")) == 3


def test_replica_set_replaces_a_deleted_pod_at_once():
    h = Harness()
    h.create("replicasets", replicaset("cache", 2))
    h.run_for(5_000)
    victim = h.pods()[0]["metadata"]["name"]
    # h.api runs the simulation until the answer arrives, so the clock starts before it.
    start = h.sim.now_ms
    h.api("delete", "pods", namespace="default", name=victim)
    h.run_for(5_000)
    created = [e for e in h.k8s_events("SuccessfulCreate") if e.time_ms >= start]
    assert len(created) == 1 and created[0].time_ms - start < 1_000
    assert victim not in [p["metadata"]["name"] for p in h.pods()]


def test_daemonset_runs_one_pod_per_node_with_daemon_tolerations_and_node_affinity():
    h = Harness()
    labels = {"app": "agent"}
    h.create("daemonsets", {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
                            "spec": {"selector": {"matchLabels": labels},
                                     "template": {"metadata": {"labels": labels},
                                                  "spec": {"containers": [{"name": "a", "image": "busybox"}]}}}})
    h.run_for(10_000)
    pods = h.pods()
    assert sorted(p["spec"]["nodeName"] for p in pods) == ["node-1", "node-2", "node-3"]
    for pod in pods:
        term = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0]
        assert term["matchFields"] == [{"key": "metadata.name", "operator": "In", "values": [pod["spec"]["nodeName"]]}]
        keys = {(t["key"], t["effect"]) for t in pod["spec"]["tolerations"]}
        assert ("node.kubernetes.io/unreachable", "NoExecute") in keys
        assert ("node.kubernetes.io/unschedulable", "NoSchedule") in keys
        unreachable = [t for t in pod["spec"]["tolerations"] if t["key"] == "node.kubernetes.io/unreachable"]
        assert all("tolerationSeconds" not in t for t in unreachable)
    status = h.get("daemonsets", "agent")["status"]
    assert status["desiredNumberScheduled"] == 3 and status["numberReady"] == 3


def test_endpoints_and_endpoint_slices_follow_pod_readiness():
    h = Harness()
    h.create("deployments", deployment("web", 2))
    h.create("services", service("web", {"app": "web"}))
    h.run_for(10_000)
    endpoints = h.get("endpoints", "web")
    addresses = endpoints["subsets"][0]["addresses"]
    assert len(addresses) == 2 and endpoints["subsets"][0]["ports"][0]["port"] == 80
    slices = h.list("endpointslices")
    assert len(slices) == 1
    piece = slices[0]
    assert re.fullmatch(f"web-{SUFFIX}", piece["metadata"]["name"])
    assert piece["metadata"]["labels"]["kubernetes.io/service-name"] == "web"
    assert piece["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"] == "endpointslice-controller.k8s.io"
    assert all(e["conditions"] == {"ready": True, "serving": True, "terminating": False} for e in piece["endpoints"])
    assert {e["nodeName"] for e in piece["endpoints"]} <= {"node-1", "node-2", "node-3"}
    assert all(e.get("zone") == "zone-a" for e in piece["endpoints"])
    # A pod that stops being ready moves to notReadyAddresses.
    pod = h.pods()[0]
    conditions = [dict(c, status="False") if c["type"] == "Ready" else c for c in pod["status"]["conditions"]]
    h.api("patch", "pods", namespace="default", name=pod["metadata"]["name"], subresource="status",
          body={"status": {"conditions": conditions}}, params={"patchType": "merge"})
    h.run_for(2_000)
    subset = h.get("endpoints", "web")["subsets"][0]
    assert len(subset["addresses"]) == 1 and len(subset["notReadyAddresses"]) == 1
    endpoint = [e for s in h.list("endpointslices") for e in s["endpoints"] if e["targetRef"]["name"] == pod["metadata"]["name"]][0]
    assert endpoint["conditions"]["ready"] is False


def test_deleting_a_deployment_garbage_collects_replica_sets_and_pods():
    h = Harness()
    h.create("deployments", deployment("web", 2))
    h.run_for(10_000)
    h.api("delete", "deployments", namespace="default", name="web")
    h.run_for(15_000)
    assert h.list("replicasets") == [] and h.pods() == []


def test_orphan_deletion_keeps_the_pods():
    h = Harness()
    h.create("replicasets", replicaset("cache", 2))
    h.run_for(5_000)
    h.api("delete", "replicasets", namespace="default", name="cache", params={"propagationPolicy": "Orphan"})
    h.run_for(10_000)
    pods = h.pods()
    assert h.list("replicasets") == [] and len(pods) == 2
    assert all(not p["metadata"].get("ownerReferences") for p in pods)


def test_foreground_deletion_waits_for_dependents():
    h = Harness()
    h.create("replicasets", replicaset("cache", 2))
    h.run_for(5_000)
    code, body = h.api("delete", "replicasets", namespace="default", name="cache",
                       params={"propagationPolicy": "Foreground"})
    assert code == 200 and "foregroundDeletion" in body["metadata"]["finalizers"]
    h.run_for(10_000)
    assert h.get("replicasets", "cache") is None and h.pods() == []
    deletions = [e for e in h.stream("api.watch") if e.payload["type"] == "DELETED"
                 and e.payload["resource"] in ("pods", "replicasets")]
    order = [e.payload["resource"] for e in sorted(deletions, key=lambda e: e.seq)]
    assert order.index("replicasets") > max(i for i, r in enumerate(order) if r == "pods"), order


def test_namespace_deletion_removes_content_then_the_namespace():
    h = Harness()
    h.create("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}, namespace=None)
    h.run_for(2_000)
    assert h.get("serviceaccounts", "default", "team") is not None
    root_ca = h.get("configmaps", "kube-root-ca.crt", "team")
    assert root_ca["data"]["ca.crt"].startswith("-----BEGIN CERTIFICATE-----")
    h.create("deployments", deployment("web", 2), namespace="team")
    h.run_for(5_000)
    h.api("delete", "namespaces", name="team")
    h.run_for(30_000)
    assert h.get("namespaces", "team", None) is None
    assert h.pods("team") == []


def test_node_ipam_gives_each_node_its_own_slash_24():
    h = Harness()
    cidrs = [n["spec"].get("podCIDR") for n in h.list("nodes", None)]
    assert sorted(cidrs) == ["10.244.0.0/24", "10.244.1.0/24", "10.244.2.0/24"]
    nodes = h.list("nodes", None)
    assert all(n["spec"]["podCIDRs"] == [n["spec"]["podCIDR"]] for n in nodes)
