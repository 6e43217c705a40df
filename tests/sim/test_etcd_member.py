"""EtcdMember inside a Simulation: elections, writes, reads, timeouts, partitions, crashes, watch.

``build_cluster`` and ``EtcdTestClient`` are reused by test_raft_properties.py.
"""
from cluster_sim.engine import Component, Simulation
from cluster_sim.etcd import REQUEST_TIMEOUT_MS, EtcdMember
from cluster_sim.network import Network


class EtcdTestClient(Component):
    """Stands in for kube-apiserver: sends etcd_request, records answers and watch notifications."""

    kind = "test-client"

    def __init__(self, sim, name="client", node="workstation"):
        super().__init__(sim, name, node)
        self.last_id = 0
        self.responses = {}
        self.answered_ms = {}
        self.notifications = []

    def request(self, member: str, body: dict) -> int:
        self.last_id += 1
        self.send(member, "etcd_request", dict(body, id=self.last_id))
        return self.last_id

    def put(self, member: str, key: str, value: dict, expect=None) -> int:
        return self.request(member, {"op": "txn", "key": key, "expect_mod_revision": expect, "value": value})

    def on_etcd_response(self, _sender, body):
        self.responses[str(body["id"])] = body
        self.answered_ms[str(body["id"])] = self.sim.now_ms

    def on_etcd_watch(self, _sender, body):
        self.notifications.append(body)

    def response(self, request_id: int):
        return self.responses.get(str(request_id))


def build_cluster(seed: int, size: int = 3, loss: float = 0.0, pre_vote: bool = True):
    sim = Simulation(seed)
    Network(sim, loss=loss)
    names = [f"etcd-cp-{number}" for number in range(1, size + 1)]
    for number, name in enumerate(names, start=1):
        sim.add(EtcdMember(sim, name, f"cp-{number}", names, pre_vote=pre_vote))
    client = sim.add(EtcdTestClient(sim))
    return sim, names, client


def members(sim):
    return [component for component in sim.components.values() if isinstance(component, EtcdMember)]


def leader_of(sim):
    leaders = [member for member in members(sim) if member.is_leader()]
    assert len(leaders) <= 1 or len({member.raft.term for member in leaders}) == len(leaders)
    return max(leaders, key=lambda member: member.raft.term) if leaders else None


def run_until_leader(sim, limit_ms=20_000):
    for _ in range(limit_ms // 100):
        leader = leader_of(sim)
        if leader is not None and all(m.raft.lead == leader.name for m in members(sim) if m.running):
            return leader
        sim.run_until(sim.now_ms + 100)
    raise AssertionError("no leader elected")


def kinds(events):
    return [event.kind for event in events]


def test_three_members_elect_a_leader_within_a_few_seconds():
    sim, names, _client = build_cluster(seed=1)
    leader = run_until_leader(sim)
    events = sim.drain_events()
    assert sim.now_ms <= 3000
    elected = [event for event in events if event.kind == "etcd.leader.elected"]
    assert len(elected) == 1 and elected[0].payload == {"term": 1, "leader": leader.name}
    assert "etcd.election.start" in kinds(events) and "etcd.vote" in kinds(events)
    assert leader.name in names


def test_write_through_a_follower_is_answered_after_commit_and_apply():
    sim, names, client = build_cluster(seed=2)
    leader = run_until_leader(sim)
    follower = next(name for name in names if name != leader.name)
    sim.drain_events()
    request_id = client.put(follower, "/registry/pods/default/web-1", {"kind": "Pod"})
    sim.run_until(sim.now_ms + 200)
    response = client.response(request_id)
    assert response == {"id": request_id, "ok": True, "revision": 2, "succeeded": True,
                        "kv": {"key": "/registry/pods/default/web-1", "value": {"kind": "Pod"},
                               "create_revision": 2, "mod_revision": 2, "version": 1}}
    events = sim.drain_events()
    order = kinds(events)
    assert order.index("etcd.append") < order.index("etcd.replicate") < order.index("etcd.ack")
    assert order.index("etcd.ack") < order.index("etcd.commit") < order.index("etcd.apply")
    applied_by = {event.source for event in events if event.kind == "etcd.apply"}
    assert applied_by == set(names)
    for member in members(sim):
        assert member.mvcc.get("/registry/pods/default/web-1")["value"] == {"kind": "Pod"}


def test_optimistic_concurrency_conflict_returns_the_current_key():
    sim, names, client = build_cluster(seed=3)
    run_until_leader(sim)
    first = client.put(names[0], "/registry/configmaps/default/c", {"v": 1}, expect=0)
    sim.run_until(sim.now_ms + 200)
    second = client.put(names[1], "/registry/configmaps/default/c", {"v": 2}, expect=0)
    sim.run_until(sim.now_ms + 200)
    assert client.response(first)["succeeded"] is True
    conflict = client.response(second)
    assert conflict["ok"] is True and conflict["succeeded"] is False
    assert conflict["kv"]["value"] == {"v": 1} and conflict["revision"] == 2


def test_linearizable_read_sees_a_write_acknowledged_by_another_member():
    sim, names, client = build_cluster(seed=4)
    run_until_leader(sim)
    client.put(names[0], "/registry/pods/default/a", {"v": 1})
    sim.run_until(sim.now_ms + 300)
    read = client.request(names[2], {"op": "range", "prefix": "/registry/pods/"})
    sim.run_until(sim.now_ms + 300)
    response = client.response(read)
    assert response["ok"] is True and [kv["value"] for kv in response["kvs"]] == [{"v": 1}]


def test_writes_without_a_quorum_time_out_after_seven_seconds():
    sim, names, client = build_cluster(seed=5)
    leader = run_until_leader(sim)
    survivor = leader.name
    for member in members(sim):
        if member.name != survivor:
            member.stop()
    sim.drain_events()
    start_ms = sim.now_ms
    write = client.put(survivor, "/registry/pods/default/x", {"v": 1})
    read = client.request(survivor, {"op": "range", "key": "/registry/pods/default/x"})
    local = client.request(survivor, {"op": "range", "key": "/registry/pods/default/x", "serializable": True})
    sim.run_until(start_ms + REQUEST_TIMEOUT_MS)
    assert client.response(write) is None
    sim.run_until(start_ms + REQUEST_TIMEOUT_MS + 10)
    assert client.response(write) == {"id": write, "ok": False, "error": "etcdserver: request timed out"}
    assert client.response(read) == {"id": read, "ok": False, "error": "etcdserver: request timed out"}
    assert client.response(local)["ok"] is True and client.response(local)["kvs"] == []
    assert 7000 <= client.answered_ms[str(write)] - start_ms <= 7010
    timeouts = [event.payload for event in sim.drain_events() if event.kind == "etcd.request.timeout"]
    assert {"id": write, "op": "put", "key": "/registry/pods/default/x"} in timeouts
    assert REQUEST_TIMEOUT_MS == 7000


def test_isolated_leader_loses_writes_majority_elects_and_old_leader_rejoins():
    sim, names, client = build_cluster(seed=6)
    old = run_until_leader(sim)
    sim.network.isolate(old.node)
    # A client on the leader's own machine still reaches it over loopback.
    local_client = sim.add(EtcdTestClient(sim, "client-local", old.node))
    lost = local_client.put(old.name, "/registry/pods/default/lost", {"v": 1})
    sim.run_until(sim.now_ms + 3000)
    new = leader_of(sim)
    assert new is not None and new.name != old.name and new.raft.term > old.raft.term
    assert old.raft.state == "follower", "CheckQuorum must have demoted the isolated leader"
    kept = client.put(new.name, "/registry/pods/default/kept", {"v": 2})
    sim.run_until(sim.now_ms + 5000)
    assert client.response(kept)["ok"] is True
    assert local_client.response(lost)["error"].startswith("etcdserver: request timed out")
    sim.network.heal()
    sim.run_until(sim.now_ms + 2000)
    assert old.mvcc.get("/registry/pods/default/kept")["value"] == {"v": 2}
    assert old.mvcc.get("/registry/pods/default/lost") is None
    stepdowns = [event for event in sim.drain_events() if event.kind == "etcd.leader.stepdown"]
    assert stepdowns and stepdowns[0].source == old.name


def test_proposal_made_before_any_leader_waits_and_then_succeeds():
    sim, names, client = build_cluster(seed=7)
    request_id = client.put(names[0], "/registry/namespaces/default", {"v": 1})
    sim.run_until(5000)
    assert client.response(request_id)["ok"] is True


def test_crashed_member_restarts_from_disk_and_catches_up():
    sim, names, client = build_cluster(seed=8)
    leader = run_until_leader(sim)
    victim = next(member for member in members(sim) if member.name != leader.name)
    client.put(leader.name, "/a", {"v": 1})
    sim.run_until(sim.now_ms + 300)
    victim.stop()
    client.put(leader.name, "/b", {"v": 2})
    sim.run_until(sim.now_ms + 300)
    assert victim.mvcc.get("/a")["value"] == {"v": 1}
    assert victim.mvcc.get("/b") is None
    victim.start()
    sim.run_until(sim.now_ms + 1000)
    assert victim.mvcc.get("/b")["value"] == {"v": 2}
    assert victim.mvcc.revision == leader.mvcc.revision == 3


def test_leader_crash_keeps_acknowledged_writes_and_a_new_leader_takes_over():
    sim, names, client = build_cluster(seed=9)
    old = run_until_leader(sim)
    write = client.put(old.name, "/a", {"v": 1})
    sim.run_until(sim.now_ms + 300)
    assert client.response(write)["ok"] is True
    old.stop()
    crash_ms = sim.now_ms
    new = run_until_leader(sim)
    assert new.name != old.name
    assert sim.now_ms - crash_ms <= 4000
    assert new.mvcc.get("/a")["value"] == {"v": 1}
    old.start()
    sim.run_until(sim.now_ms + 2000)
    assert old.raft.lead == new.name


def test_requests_waiting_at_a_crashed_member_get_no_answer():
    sim, names, client = build_cluster(seed=10)
    leader = run_until_leader(sim)
    follower = next(member for member in members(sim) if member.name != leader.name)
    sim.network.isolate(follower.node)
    local_client = sim.add(EtcdTestClient(sim, "client-local", follower.node))
    waiting = local_client.put(follower.name, "/a", {"v": 1})
    control = local_client.put(follower.name, "/b", {"v": 1})
    sim.run_until(sim.now_ms + 100)
    assert follower.pending, "the write must be waiting for a quorum"
    follower.stop()
    follower.start()
    sim.run_until(sim.now_ms + REQUEST_TIMEOUT_MS + 1000)
    assert local_client.response(waiting) is None
    assert local_client.response(control) is None
    after_restart = local_client.put(follower.name, "/c", {"v": 1})
    sim.run_until(sim.now_ms + REQUEST_TIMEOUT_MS + 100)
    assert local_client.response(after_restart)["error"] == "etcdserver: request timed out"


def test_watch_streams_history_then_live_changes_with_prev_kv():
    sim, names, client = build_cluster(seed=11)
    run_until_leader(sim)
    client.put(names[0], "/registry/pods/default/a", {"v": 1})
    sim.run_until(sim.now_ms + 300)
    client.request(names[1], {"op": "watch", "watch_id": "w1", "prefix": "/registry/pods/", "start_revision": 2})
    sim.run_until(sim.now_ms + 100)
    client.put(names[0], "/registry/pods/default/a", {"v": 2})
    client.put(names[0], "/registry/nodes/n1", {"v": 1})
    sim.run_until(sim.now_ms + 300)
    client.request(names[0], {"op": "txn", "key": "/registry/pods/default/a", "expect_mod_revision": None,
                              "value": None})
    sim.run_until(sim.now_ms + 300)
    events = [event for body in client.notifications for event in body["events"]]
    assert [(event["type"], event["kv"]["mod_revision"]) for event in events] == [("PUT", 2), ("PUT", 3), ("DELETE", 5)]
    assert events[1]["prev_kv"]["value"] == {"v": 1}
    assert events[2]["kv"]["value"] is None and events[2]["prev_kv"]["value"] == {"v": 2}
    assert all(body["watch_id"] == "w1" for body in client.notifications)


def test_compaction_cancels_old_watches_and_refuses_old_reads():
    sim, names, client = build_cluster(seed=12)
    run_until_leader(sim)
    for version in range(4):
        client.put(names[0], "/a", {"v": version})
        sim.run_until(sim.now_ms + 100)
    compact = client.request(names[0], {"op": "compact", "revision": 4})
    sim.run_until(sim.now_ms + 300)
    assert client.response(compact) == {"id": compact, "ok": True, "revision": 5}
    old_read = client.request(names[1], {"op": "range", "key": "/a", "revision": 3})
    client.request(names[1], {"op": "watch", "watch_id": "old", "prefix": "/", "start_revision": 2})
    sim.run_until(sim.now_ms + 300)
    assert client.response(old_read) == {"id": old_read, "ok": False,
                                         "error": "mvcc: required revision has been compacted"}
    assert client.notifications == [{"watch_id": "old", "canceled": True, "compact_revision": 4}]
    for member in members(sim):
        assert member.mvcc.compact_revision == 4


def test_snapshot_and_restore_replay_identically():
    sim, names, client = build_cluster(seed=13, size=3, loss=0.05)
    run_until_leader(sim)
    for number in range(5):
        client.put(names[number % 3], f"/k{number}", {"v": number})
    sim.run_until(sim.now_ms + 50)
    sim.drain_events()
    restored = Simulation.restore(sim.snapshot())
    for simulation in (sim, restored):
        simulation.components["etcd-cp-2"].stop()
        simulation.run_until(simulation.now_ms + 5000)
        simulation.components["etcd-cp-2"].start()
        simulation.run_until(simulation.now_ms + 5000)
    original = [event.as_dict() for event in sim.drain_events()]
    replayed = [event.as_dict() for event in restored.drain_events()]
    assert original == replayed and len(original) > 100
    assert restored.components["client"].responses == sim.components["client"].responses


def test_idle_cluster_only_heartbeats():
    sim, _names, _client = build_cluster(seed=14)
    run_until_leader(sim)
    sim.run_until(sim.now_ms + 1000)
    sim.drain_events()
    sim.run_until(sim.now_ms + 10_000)
    events = sim.drain_events()
    assert set(kinds(events)) == {"etcd.heartbeat"}
    # One heartbeat per follower per 100 ms tick.
    assert 195 <= len(events) <= 201
