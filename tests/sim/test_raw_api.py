"""Requests from outside the simulation (a person's kubectl through the web app) are recorded
actions: they are answered like any client's and their watches stream like an informer's."""
from __future__ import annotations

from cluster_sim.cluster import Cluster
from cluster_sim.scenario import load_scenario, shipped_path


def settled_cluster() -> Cluster:
    cluster = Cluster.from_scenario(load_scenario(shipped_path("basic")), 3)
    cluster.run_until(30_000)
    return cluster


def answer(cluster: Cluster, ticket: str, request: dict) -> dict:
    cluster.submit_api_request(ticket, request)
    for _ in range(1_000):
        cluster.run_for(5)
        result = cluster.take_api_result(ticket)
        if result is not None:
            return result
    raise AssertionError(f"no answer to {request}")


def test_raw_get_and_error_answers():
    cluster = settled_cluster()
    nodes = answer(cluster, "a", {"verb": "list", "resource": "nodes"})
    assert nodes["code"] == 200 and len(nodes["body"]["items"]) == 4
    missing = answer(cluster, "b", {"verb": "get", "resource": "pods", "namespace": "default", "name": "nope"})
    assert missing["code"] == 404 and missing["body"]["message"] == 'pods "nope" not found'


def test_raw_watch_streams_changes_until_stopped():
    cluster = settled_cluster()
    opened = answer(cluster, "w", {"verb": "watch", "resource": "pods", "namespace": "default",
                                   "params": {"resourceVersion": "0"}})
    assert opened["code"] == 200
    initial = cluster.take_watch_events("w")
    assert [event["type"] for event in initial] == ["ADDED"] * 3
    cluster.apply_action({"action": "scale", "name": "web", "namespace": "default", "replicas": 4})
    cluster.run_for(5_000)
    changes = cluster.take_watch_events("w")
    new_pods = {event["object"]["metadata"]["name"] for event in changes if event["type"] == "ADDED"}
    assert len(new_pods) == 1
    assert changes[-1]["object"]["status"]["phase"] == "Running"
    cluster.stop_watch("w")
    cluster.run_for(1_000)
    cluster.apply_action({"action": "scale", "name": "web", "namespace": "default", "replicas": 2})
    cluster.run_for(5_000)
    assert cluster.take_watch_events("w") == []


def test_watch_ends_when_its_apiserver_stops():
    cluster = settled_cluster()
    answer(cluster, "w", {"verb": "watch", "resource": "nodes", "params": {"resourceVersion": "0"}})
    cluster.take_watch_events("w")
    cluster.apply_action({"action": "apiserver.fail", "target": "cp-1"})
    cluster.run_for(1_000)
    assert cluster.take_watch_events("w")[-1]["type"] == "END"


def test_scenario_objects_are_applied_even_when_a_node_never_becomes_ready():
    cluster = Cluster.from_scenario(load_scenario(shipped_path("basic")), 1)
    cluster.run_until(5_000)
    cluster.apply_action({"action": "node.fail", "target": "worker-2"})
    cluster.run_until(90_000)
    pods = [obj for obj in cluster.etcd_objects()
            if obj["kind"] == "Pod" and obj["metadata"]["namespace"] == "default"]
    assert len(pods) == 3 and all(pod["status"]["phase"] == "Running" for pod in pods)
    assert all(pod["spec"]["nodeName"] != "worker-2" for pod in pods)
