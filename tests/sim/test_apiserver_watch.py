"""Watches are served from the apiserver's watch cache, which etcd's own watch keeps current."""
from __future__ import annotations

import pytest

from tests.sim.apiserver_helpers import boot, call, notifications, open_watch, settle


@pytest.fixture(scope="module")
def cluster():
    return boot()


def config_map(name: str, labels: dict | None = None, data: dict | None = None) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels or {}},
            "data": data or {}}


def seen(cluster, watch_id: str) -> list:
    return [[kind, name] for kind, name, _rv, _obj in notifications(cluster, watch_id)]


def test_watch_from_a_resource_version_replays_exactly_the_later_changes_in_order(cluster):
    code, first = call(cluster, "create", "configmaps", namespace="default", body=config_map("w-one"))
    start = first["metadata"]["resourceVersion"]
    call(cluster, "create", "configmaps", namespace="default", body=config_map("w-two"))
    call(cluster, "patch", "configmaps", namespace="default", name="w-one", body={"data": {"k": "v"}},
         params={"patchType": "merge"})
    call(cluster, "delete", "configmaps", namespace="default", name="w-two")
    answer = open_watch(cluster, "configmaps", namespace="default", params={"resourceVersion": start})
    assert answer.code == 200
    watch_id = answer.body["watch_id"]
    settle(cluster, 10)
    assert seen(cluster, watch_id) == [["ADDED", "default/w-two"], ["MODIFIED", "default/w-one"],
                                       ["DELETED", "default/w-two"]]
    revisions = [int(rv) for _kind, _name, rv, _obj in notifications(cluster, watch_id)]
    assert revisions == sorted(revisions) and revisions[0] > int(start)
    modified = notifications(cluster, watch_id)[1][3]
    assert modified["data"] == {"k": "v"}
    # ...and then the live changes, once each.
    call(cluster, "patch", "configmaps", namespace="default", name="w-one", body={"data": {"k": "w"}},
         params={"patchType": "merge"})
    settle(cluster, 10)
    assert seen(cluster, watch_id)[3:] == [["MODIFIED", "default/w-one"]]


def test_watch_without_resource_version_starts_with_the_current_state(cluster):
    call(cluster, "create", "namespaces", body={"metadata": {"name": "quiet"}})
    call(cluster, "create", "configmaps", namespace="quiet", body=config_map("a"))
    call(cluster, "create", "configmaps", namespace="quiet", body=config_map("b"))
    answer = open_watch(cluster, "configmaps", namespace="quiet")
    settle(cluster, 10)
    # kube-root-ca.crt is published into every namespace by the root-ca-cert-publisher.
    assert sorted(seen(cluster, answer.body["watch_id"])) == [["ADDED", "quiet/a"], ["ADDED", "quiet/b"],
                                                             ["ADDED", "quiet/kube-root-ca.crt"]]


def test_watch_from_a_resource_version_older_than_the_watch_cache_window_is_expired():
    cluster = boot()
    code, leases = call(cluster, "list", "leases")
    early = leases["metadata"]["resourceVersion"]
    # Node and leader-election leases renew every few seconds: the window of the last 75 s
    # (100 to 200 events) moves on.
    settle(cluster, 210_000)
    server = cluster.sim.components["kube-apiserver-cp-1"]
    answer = open_watch(cluster, "leases", params={"resourceVersion": early})
    assert answer.code == 410
    status = answer.body
    assert (status["kind"], status["reason"], status["code"]) == ("Status", "Expired", 410)
    floor = server.oldest_revision("leases")
    assert floor > int(early)
    assert status["message"] == f"too old resource version: {early} ({floor})"
    # Pods changed little since: their window still reaches back that far.
    assert open_watch(cluster, "pods", params={"resourceVersion": early}).code == 200
    assert open_watch(cluster, "leases", params={"resourceVersion": str(floor)}).code == 200


def test_a_restarted_apiserver_cannot_replay_what_happened_before_it_started():
    cluster = boot()
    code, before = call(cluster, "create", "configmaps", namespace="default", body=config_map("old"))
    call(cluster, "create", "configmaps", namespace="default", body=config_map("newer"))
    cluster.apply_action({"action": "apiserver.fail", "target": "cp-1"})
    settle(cluster, 1_000)
    cluster.apply_action({"action": "apiserver.recover", "target": "cp-1"})
    settle(cluster, 2_000)
    answer = open_watch(cluster, "configmaps", params={"resourceVersion": before["metadata"]["resourceVersion"]})
    assert answer.code == 410 and answer.body["message"].startswith(
        f"too old resource version: {before['metadata']['resourceVersion']} (")
    # A watch from the revision it listed at works.
    code, listed = call(cluster, "list", "configmaps", params={"resourceVersion": "0"})
    assert open_watch(cluster, "configmaps", params={"resourceVersion": listed["metadata"]["resourceVersion"]}).code == 200


def test_selector_watch_sees_objects_enter_and_leave_the_selection(cluster):
    answer = open_watch(cluster, "configmaps", namespace="default", params={"labelSelector": "tier=front"})
    watch_id = answer.body["watch_id"]
    call(cluster, "create", "configmaps", namespace="default", body=config_map("s-in", {"tier": "front"}))
    call(cluster, "create", "configmaps", namespace="default", body=config_map("s-out", {"tier": "back"}))
    call(cluster, "patch", "configmaps", namespace="default", name="s-in", body={"data": {"x": "1"}},
         params={"patchType": "merge"})
    call(cluster, "patch", "configmaps", namespace="default", name="s-in", body={"metadata": {"labels": {"tier": "back"}}},
         params={"patchType": "merge"})
    call(cluster, "patch", "configmaps", namespace="default", name="s-out", body={"metadata": {"labels": {"tier": "front"}}},
         params={"patchType": "merge"})
    call(cluster, "delete", "configmaps", namespace="default", name="s-in")
    call(cluster, "delete", "configmaps", namespace="default", name="s-out")
    settle(cluster, 10)
    assert seen(cluster, watch_id) == [
        ["ADDED", "default/s-in"], ["MODIFIED", "default/s-in"], ["DELETED", "default/s-in"],
        ["ADDED", "default/s-out"], ["DELETED", "default/s-out"]]
    # A DELETED for an object leaving the selection carries its new state (labels no longer match).
    left = notifications(cluster, watch_id)[2][3]
    assert left["metadata"]["labels"] == {"tier": "back"}


def test_field_selector_watch_of_one_node_pods(cluster):
    answer = open_watch(cluster, "pods", params={"fieldSelector": "spec.nodeName=worker-2"})
    settle(cluster, 10)
    initial = seen(cluster, answer.body["watch_id"])
    code, pods = call(cluster, "list", "pods", params={"fieldSelector": "spec.nodeName=worker-2"})
    assert sorted(initial) == sorted(["ADDED", f"{p['metadata']['namespace']}/{p['metadata']['name']}"]
                                     for p in pods["items"])
    assert initial  # kube-proxy and web pods run there


def test_events_k8s_io_watch_is_converted(cluster):
    answer = open_watch(cluster, "events.events.k8s.io", namespace="default", params={"resourceVersion": "0"})
    settle(cluster, 10)
    delivered = notifications(cluster, answer.body["watch_id"])
    assert delivered
    assert all(obj["apiVersion"] == "events.k8s.io/v1" and "note" in obj for _t, _n, _rv, obj in delivered)
