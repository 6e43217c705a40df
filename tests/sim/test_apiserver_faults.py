"""How kube-apiserver fails: etcd without quorum, a stopped apiserver, a machine that is down; and
the hops one request makes through the event stream."""
from __future__ import annotations

from tests.sim.apiserver_helpers import boot, call, etcd_kv, settle

ETCD_REQUEST_TIMEOUT_MS = 7_000


def config_map(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"at": name}}


def test_without_etcd_quorum_writes_time_out_and_cached_reads_still_work():
    # Shipped lesson: etcd-cp-2 stops at 30 s, etcd-cp-3 at 90 s, etcd-cp-3 returns at 4 m.
    cluster = boot("etcd-quorum-loss", until_ms=40_000)
    acknowledged = []
    for index in range(3):  # one member down: still a quorum
        code, _ = call(cluster, "create", "configmaps", namespace="default", body=config_map(f"kept-{index}"))
        assert code == 201
        acknowledged.append(f"kept-{index}")
    settle(cluster, 95_000 - cluster.now_ms)

    answer = call(cluster, "create", "configmaps", namespace="default", body=config_map("lost"))
    assert answer.code == 500
    assert answer.body["message"].startswith("etcdserver: request timed out")
    assert answer.body["kind"] == "Status" and answer.body["code"] == 500
    assert ETCD_REQUEST_TIMEOUT_MS <= answer.elapsed_ms <= ETCD_REQUEST_TIMEOUT_MS + 100
    assert [e.kind for e in answer.events if e.kind == "etcd.request.timeout"]

    quorum_read = call(cluster, "get", "configmaps", namespace="default", name="kept-0")
    assert quorum_read.code == 500 and quorum_read.body["message"].startswith("etcdserver: request timed out")
    quorum_list = call(cluster, "list", "configmaps", namespace="default")
    assert quorum_list.code == 500

    code, cached = call(cluster, "get", "configmaps", namespace="default", name="kept-0", params={"resourceVersion": "0"})
    assert code == 200 and cached["data"] == {"at": "kept-0"}
    code, cached_list = call(cluster, "list", "configmaps", namespace="default", params={"resourceVersion": "0"})
    assert code == 200 and {f"kept-{i}" for i in range(3)} <= {item["metadata"]["name"] for item in cached_list["items"]}

    settle(cluster, 250_000 - cluster.now_ms)  # etcd-cp-3 is back since 4 m
    code, created = call(cluster, "create", "configmaps", namespace="default", body=config_map("after"))
    assert code == 201, created
    for name in acknowledged + ["after"]:
        code, obj = call(cluster, "get", "configmaps", namespace="default", name=name)
        assert code == 200 and obj["data"] == {"at": name}


def test_two_of_three_members_failed_by_action_in_ha():
    cluster = boot("ha", until_ms=40_000)
    code, before = call(cluster, "create", "configmaps", namespace="default", body=config_map("before"))
    assert code == 201
    cluster.apply_action({"action": "etcd.fail", "target": "cp-2"})
    cluster.apply_action({"action": "etcd.fail", "target": "cp-3"})
    settle(cluster, 3_000)
    answer = call(cluster, "patch", "configmaps", namespace="default", name="before",
                  body={"data": {"at": "during"}}, params={"patchType": "merge"})
    assert answer.code == 500 and answer.body["message"].startswith("etcdserver: request timed out")
    assert ETCD_REQUEST_TIMEOUT_MS <= answer.elapsed_ms <= ETCD_REQUEST_TIMEOUT_MS + 100
    cluster.apply_action({"action": "etcd.recover", "target": "cp-2"})
    cluster.apply_action({"action": "etcd.recover", "target": "cp-3"})
    settle(cluster, 10_000)
    code, patched = call(cluster, "patch", "configmaps", namespace="default", name="before",
                         body={"data": {"at": "after"}}, params={"patchType": "merge"})
    assert code == 200 and patched["data"] == {"at": "after"}
    assert etcd_kv(cluster, "/registry/configmaps/default/before")["value"]["data"] == {"at": "after"}


def test_a_stopped_apiserver_refuses_connections_at_once():
    cluster = boot()
    cluster.apply_action({"action": "apiserver.fail", "target": "cp-1"})
    settle(cluster, 1)
    answer = call(cluster, "get", "pods", namespace="default", name="anything", timeout_ms=10_000)
    assert answer.code == 0
    assert answer.body["error"] == "connection refused"
    assert answer.body["message"].endswith("connect: connection refused")
    assert answer.elapsed_ms <= 10
    cluster.apply_action({"action": "apiserver.recover", "target": "cp-1"})
    settle(cluster, 2_000)
    assert call(cluster, "list", "pods", namespace="default").code == 200


def test_a_machine_that_is_down_makes_requests_time_out():
    cluster = boot()
    cluster.apply_action({"action": "controlplane.fail", "target": "cp-1"})
    settle(cluster, 1)
    answer = call(cluster, "get", "pods", namespace="default", name="anything", timeout_ms=10_000)
    assert answer.code == 0
    assert answer.body["error"] == "timeout"
    assert answer.elapsed_ms == 10_000


def first(events: list, kind: str, predicate=lambda event: True) -> int:
    for position, event in enumerate(events):
        if event.kind == kind and predicate(event):
            return position
    raise AssertionError(f"no {kind} event")


def create_hops(cluster) -> list:
    answer = call(cluster, "create", "deployments", namespace="default", body={
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "hops"},
        "spec": {"selector": {"matchLabels": {"app": "hops"}},
                 "template": {"metadata": {"labels": {"app": "hops"}},
                              "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}}})
    assert answer.code == 201
    return answer.events + settle(cluster, 50)


HOPS_KEY = "/registry/deployments/default/hops"


def is_hops_added(event) -> bool:
    return (event.payload["name"] == "hops" and event.payload["type"] == "ADDED"
            and event.target.startswith("kube-controller-manager-"))


def test_one_create_reads_hop_by_hop_on_a_single_member_cluster():
    cluster = boot()
    events = create_hops(cluster)
    request = first(events, "api.request", lambda e: e.source == "kubectl" and e.payload["verb"] == "create")
    assert events[request].target == "kube-apiserver-cp-1"
    put = first(events, "etcd.request", lambda e: e.payload["key"] == HOPS_KEY)
    assert (events[put].source, events[put].target) == ("kube-apiserver-cp-1", "etcd-cp-1")
    assert events[put].payload["op"] == "put" and events[put].payload["requestId"] == events[request].payload["id"]
    append = first(events, "etcd.append", lambda e: e.payload.get("key") == HOPS_KEY)
    commit = first(events, "etcd.commit", lambda e: e.payload["index"] >= events[append].payload["index"])
    apply = first(events, "etcd.apply", lambda e: e.payload.get("key") == HOPS_KEY)
    response = first(events, "api.response", lambda e: e.target == "kubectl" and e.payload["name"] == "hops")
    watch = first(events, "api.watch", is_hops_added)
    assert request < put < append < commit < apply < response < watch
    assert (events[response].payload["code"], events[watch].source) == (201, "kube-apiserver-cp-1")


def test_one_create_reads_hop_by_hop_through_raft_replication():
    cluster = boot("ha", until_ms=40_000)
    events = create_hops(cluster)
    request = first(events, "api.request", lambda e: e.source == "kubectl" and e.payload["verb"] == "create")
    server = events[request].target
    put = first(events, "etcd.request", lambda e: e.payload["key"] == HOPS_KEY)
    member = events[put].target
    assert events[put].source == server and member == "etcd-" + server[len("kube-apiserver-"):]
    append = first(events, "etcd.append", lambda e: e.payload.get("key") == HOPS_KEY)
    index = events[append].payload["index"]
    leader = events[append].source
    covers = lambda e: e.payload["from_index"] <= index <= e.payload["to_index"]  # noqa: E731
    replicate = first(events, "etcd.replicate", lambda e: e.source == leader and covers(e))
    ack = first(events, "etcd.ack", lambda e: e.target == leader and e.payload["match_index"] >= index)
    commit = first(events, "etcd.commit", lambda e: e.source == leader and e.payload["index"] >= index)
    applies = {e.source: position for position, e in enumerate(events)
               if e.kind == "etcd.apply" and e.payload["index"] == index}
    assert sorted(applies) == ["etcd-cp-1", "etcd-cp-2", "etcd-cp-3"]  # every member applies it
    response = first(events, "api.response", lambda e: e.target == "kubectl" and e.payload["name"] == "hops")
    watch = first(events, "api.watch", is_hops_added)
    assert request < put < append < replicate < ack < commit < applies[leader]
    # The answer waits for the member the apiserver asked; a controller watching through
    # another apiserver may hear of the object first.
    assert applies[member] < response and applies[leader] < watch
    assert events[response].payload["code"] == 201 and events[response].source == server
