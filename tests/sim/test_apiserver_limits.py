"""The simulated kube-apiserver's own limits: pods per cluster refused as an exceeded quota, and a
request its handlers cannot serve answered with a 500 Status instead of stopping the simulation."""
from __future__ import annotations

import json

from cluster_sim.apiserver.admission import DEFAULT_CLUSTER_MAX_PODS
from cluster_sim.cluster import Cluster
from cluster_sim.engine import Simulation
from cluster_sim.scenario import load_scenario, shipped_path

from .apiserver_helpers import BOOT_MS, call, pod_manifest

SMALL_CAP = 20  # the basic scenario runs 14 pods once booted (control plane, kube-proxy, coredns, web)


def booted(max_pods: int | None = None, seed: int = 1) -> Cluster:
    scenario = load_scenario(shipped_path("basic"))
    cluster = Cluster.from_scenario(scenario, seed) if max_pods is None else \
        Cluster.from_scenario(scenario, seed, max_pods=max_pods)
    cluster.run_until(BOOT_MS)
    return cluster


def pods(cluster: Cluster) -> list[dict]:
    return [obj for obj in cluster.etcd_objects() if obj["kind"] == "Pod"]


def events(cluster: Cluster, reason: str) -> list[dict]:
    return [obj for obj in cluster.etcd_objects() if obj["kind"] == "Event" and obj.get("reason") == reason]


def apiservers(cluster: Cluster) -> list:
    return [cluster.sim.components[name] for name in cluster.layout["apiservers"]]


# --- pods per cluster ---------------------------------------------------------------------------

def test_a_cluster_holds_a_thousand_pods_unless_built_with_another_cap():
    assert DEFAULT_CLUSTER_MAX_PODS == 1000
    assert [server.max_pods for server in apiservers(booted())] == [1000]
    ha = Cluster.from_scenario(load_scenario(shipped_path("ha")), 1, max_pods=7)
    assert [server.max_pods for server in apiservers(ha)] == [7, 7, 7]


def test_a_pod_beyond_the_cap_is_forbidden_as_an_exceeded_quota_and_not_stored():
    cluster = booted(max_pods=SMALL_CAP)
    stored = len(pods(cluster))
    for number in range(SMALL_CAP - stored):
        assert call(cluster, "create", "pods", namespace="default", body=pod_manifest(f"p{number}")).code == 201
    code, status = call(cluster, "create", "pods", namespace="default", body=pod_manifest("one-too-many"))
    assert code == 403 and status["reason"] == "Forbidden"
    assert status["message"] == (
        f'pods "one-too-many" is forbidden: exceeded quota: simulated-cluster-pods, requested: pods=1, '
        f"used: pods={SMALL_CAP}, limited: pods={SMALL_CAP} (the most pods this simulated cluster may hold, "
        "a limit of this server rather than a ResourceQuota object; delete some pods first)")
    assert status["details"] == {"name": "one-too-many", "kind": "pods"}
    assert len(pods(cluster)) == SMALL_CAP
    # Other kinds are not counted against it; deleting a pod makes room again.
    assert call(cluster, "create", "configmaps", namespace="default",
                body={"metadata": {"name": "still-fine"}}).code == 201
    assert call(cluster, "delete", "pods", namespace="default", name="p0",
                params={"gracePeriodSeconds": 0}).code == 200
    cluster.run_for(1_000)
    assert call(cluster, "create", "pods", namespace="default", body=pod_manifest("room-again")).code == 201


def test_invalid_pods_are_invalid_before_they_are_over_the_cap():
    cluster = booted(max_pods=1)
    code, status = call(cluster, "create", "pods", namespace="default",
                        body={"metadata": {"name": "bad"}, "spec": {"containers": []}})
    assert code == 422 and status["reason"] == "Invalid"


def test_a_replicaset_scaled_past_the_cap_stops_at_it_and_records_failed_create():
    cluster = booted(max_pods=SMALL_CAP)
    cluster.apply_action({"action": "scale", "name": "web", "namespace": "default", "replicas": 500})
    cluster.run_for(60_000)
    assert len(pods(cluster)) == SMALL_CAP  # the slow-start batches do not overshoot it
    failed = events(cluster, "FailedCreate")
    assert failed and all(event["type"] == "Warning" for event in failed)
    assert failed[0]["involvedObject"]["kind"] == "ReplicaSet"
    message = failed[0]["message"]
    assert message.startswith('Error creating: pods "web-') and "is forbidden: exceeded quota: simulated-cluster-pods" \
        in message and f"limited: pods={SMALL_CAP}" in message


def test_the_cap_is_part_of_the_snapshot_and_survives_a_rewind():
    cluster = booted(max_pods=SMALL_CAP)
    restored = Simulation.restore(json.loads(json.dumps(cluster.sim.snapshot())))
    assert [restored.components[name].max_pods for name in cluster.layout["apiservers"]] == [SMALL_CAP]
    cluster.rewind(10_000)
    cluster.run_until(BOOT_MS)
    assert [server.max_pods for server in apiservers(cluster)] == [SMALL_CAP]


def test_snapshots_taken_before_the_cap_existed_restore_with_the_default():
    cluster = booted()
    state = json.loads(json.dumps(cluster.sim.snapshot()))
    for name in cluster.layout["apiservers"]:
        del state["components"][name]["state"]["max_pods"]
    restored = Simulation.restore(state)
    assert restored.components[cluster.layout["apiservers"][0]].max_pods == DEFAULT_CLUSTER_MAX_PODS


# --- a request the handlers cannot serve ----------------------------------------------------------

def test_a_request_that_used_to_crash_the_simulation_gets_a_500_internal_error_status():
    cluster = booted()
    # Served from the watch cache (in the request handler) and from etcd (in its continuation).
    for params in ({"limit": "ten", "resourceVersion": "0"}, {"limit": "ten"}):
        code, status = call(cluster, "list", "pods", namespace="default", params=params)
        assert code == 500, status
        assert status["reason"] == "InternalError" and status["code"] == 500
        assert status["message"] == "Internal error occurred: ValueError: invalid literal for int() with base 10: 'ten'"
        assert status["details"] == {"causes": [{"message": "ValueError: invalid literal for int() with base 10: 'ten'"}]}
    code, status = call(cluster, "watch", "pods", namespace="default", params={"resourceVersion": 5})
    assert code == 500 and status["message"].startswith("Internal error occurred: AttributeError: ")
    # The cluster runs on and serves the next request.
    cluster.run_for(10_000)
    assert call(cluster, "list", "pods", namespace="default").code == 200


def test_a_bad_continue_token_read_from_etcd_is_the_clients_400():
    cluster = booted()
    code, status = call(cluster, "list", "pods", namespace="default", params={"continue": "not-a-token"})
    assert code == 400 and status["reason"] == "BadRequest" and status["message"] == "continue key is not valid"


def test_internal_errors_replay_exactly():
    answers = []
    for _run in range(2):
        cluster = booted(seed=4)
        answers.append([call(cluster, "list", "pods", params={"limit": "x"}).body, cluster.sim.snapshot()])
    assert answers[0] == answers[1]
