"""RaftLog: a Raft log that reads like a list of entries but keeps old committed entries sealed
(their data compressed in chunks).  Checked against a plain list under random operations, inside
etcd clusters (a follower catching up from sealed entries, Raft safety under faults), and across
snapshots, including snapshots taken before the log was a RaftLog (a plain list)."""
import base64
import json
import os
import random
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cluster_sim.engine import Simulation, SimulationError, decode_state, encode_state
from cluster_sim.etcd.raft import LEADER, SEALED_CHUNK_ENTRIES, RaftLog, RaftNode, RaftStorage

from .test_etcd_member import build_cluster, members, run_until_leader
from .test_raft_properties import MAX_SCHEDULE_STEPS, MIN_SCHEDULE_STEPS, SafetyChecker, run_checked, steps

# Examples per property test; raise them with CLUSTER_SIM_RAFT_LOG_EXAMPLES=5000.
EXAMPLES = int(os.environ.get("CLUSTER_SIM_RAFT_LOG_EXAMPLES", "200"))
SENTINEL = {"term": 0, "index": 0, "data": None}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3),
    max_leaves=6)
entry_data = st.none() | st.fixed_dictionaries({"op": st.just("put"), "key": st.text(max_size=6), "value": json_values})


def round_trip(value):
    """What a checkpoint does to a value: encode, JSON text, decode."""
    return decode_state(json.loads(json.dumps(encode_state(value))), Simulation(0))


def assert_same_log(log: RaftLog, model: list, commit: int) -> None:
    size = log.chunk_entries
    assert len(log) == len(model)
    assert log == model and model == log and not (log != model)
    assert list(log) == model
    assert log[-1] == model[-1] and log[0] == SENTINEL
    assert log.terms == [entry["term"] for entry in model]
    # Whole chunks are sealed once a further whole chunk of committed entries follows them.
    assert len(log.sealed) == max(0, (commit + 1) // size - 1)
    assert all(type(chunk) is str and chunk.isascii() for chunk in log.sealed)
    # A sealed chunk is its entries' data as compact JSON, whenever they were encoded.
    for number, chunk in enumerate(log.sealed):
        reference = json.dumps([entry["data"] for entry in model[number * size:(number + 1) * size]], separators=(",", ":"))
        assert zlib.decompress(base64.b64decode(chunk)).decode() == reference
    assert log.first_unencoded() <= commit + 1 and len(log.ready) <= 2
    # Unsealed entries are the very dicts appended, not copies.
    assert all(kept is appended for kept, appended in zip(log.tail, model[log.tail_start():]))


@settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(size=st.integers(1, 4), data=st.data())
def test_raft_log_behaves_like_a_list_under_random_operations(size, data):
    log = RaftLog(chunk_entries=size)
    model = [log[0]]
    commit = 0
    term = 1
    for _step in range(data.draw(st.integers(1, 40), label="steps")):
        operation = data.draw(st.sampled_from(["append", "append", "commit", "truncate", "truncate sealed",
                                               "read", "slice", "checkpoint"]), label="operation")
        if operation == "append":
            term += data.draw(st.integers(0, 1), label="new term")
            new = [{"term": term, "index": len(model) + offset, "data": data.draw(entry_data, label="data")}
                   for offset in range(data.draw(st.integers(1, 6), label="count"))]
            if data.draw(st.booleans(), label="with +="):
                log += new
            else:
                log.extend(new)
            model.extend(new)
        elif operation == "commit":
            commit = data.draw(st.integers(commit, len(model) - 1), label="commit")
            log.seal_through(commit)
        elif operation == "truncate":
            # Raft truncates only uncommitted entries (a conflict with a new leader).
            start = data.draw(st.integers(commit + 1, len(model)), label="truncate at")
            del log[start:]
            del model[start:]
        elif operation == "truncate sealed" and log.tail_start() > 0:
            with pytest.raises(SimulationError):
                del log[data.draw(st.integers(0, log.tail_start() - 1), label="truncate sealed at"):]
        elif operation == "read":
            index = data.draw(st.integers(-len(model) - 2, len(model) + 1), label="index")
            if -len(model) <= index < len(model):
                assert log[index] == model[index]
            else:
                with pytest.raises(IndexError):
                    log[index]
        elif operation == "slice":
            bound = st.none() | st.integers(-len(model) - 2, len(model) + 2)
            start, stop = data.draw(bound, label="start"), data.draw(bound, label="stop")
            assert log[start:stop] == model[start:stop]
        elif operation == "checkpoint":
            restored = round_trip(log)
            persisted = {name: value for name, value in vars(log).items() if name not in RaftLog.TRANSIENT}
            assert type(restored) is RaftLog and vars(restored) == dict(persisted, encoded=[], ready=[])
            log = restored
            model[log.tail_start():] = log.tail
        assert_same_log(log, model, commit)
    assert log == RaftLog(list(model), chunk_entries=size + 1)


def test_raft_log_refuses_what_a_raft_log_never_does():
    log = RaftLog([SENTINEL] + [{"term": 1, "index": index, "data": {"n": index}} for index in range(1, 10)],
                  chunk_entries=2)
    log.seal_through(9)
    assert log.tail_start() == 8 and len(log.sealed) == 4
    with pytest.raises(SimulationError):
        log.append({"term": 1, "index": 11, "data": None})
    with pytest.raises(SimulationError):
        del log[3:5]
    with pytest.raises(SimulationError):
        log[::2]
    with pytest.raises(SimulationError):
        log.seal_through(10)
    assert log != log[:] + [{"term": 1, "index": 10, "data": None}]
    assert "4 sealed chunks of 2" in repr(log)


def test_single_member_applies_committed_entries_read_back_from_sealed_chunks():
    node = RaftNode("m1", ["m1"], random.Random(1), pre_vote=False)
    node.hup()
    assert node.state == LEADER
    for number in range(3 * SEALED_CHUNK_ENTRIES):
        node.propose({"op": "put", "key": f"/k{number}", "value": {"n": number, "share": number / 7}})
    log = node.storage.entries
    assert node.commit == node.last_index() == 3 * SEALED_CHUNK_ENTRIES + 1
    assert len(log.sealed) == 2
    committed = node.committed_unapplied()
    assert [entry["index"] for entry in committed] == list(range(1, node.commit + 1))
    assert committed[0]["data"] is None
    assert committed[100]["data"] == {"op": "put", "key": "/k99", "value": {"n": 99, "share": 99 / 7}}


def use_small_chunks(sim, size: int) -> None:
    """Logs with a few entries per chunk, so a short run seals many chunks."""
    for member in members(sim):
        assert len(member.raft.storage.entries) == 1
        member.raft.storage.entries = RaftLog(chunk_entries=size)


def test_stopped_follower_catches_up_from_sealed_entries():
    sim, _names, client = build_cluster(seed=21)
    use_small_chunks(sim, 8)
    leader = run_until_leader(sim)
    follower = next(member for member in members(sim) if member.name != leader.name)
    follower.stop()
    for number in range(120):
        client.put(leader.name, f"/k{number % 7}", {"n": number})
    sim.run_until(sim.now_ms + 3000)
    assert all(client.response(request_id)["ok"] for request_id in range(1, 121))
    leader_log = leader.raft.storage.entries
    # What the follower lacks is sealed on the leader.
    assert len(follower.raft.storage.entries) < leader_log.tail_start() - 8 * 8
    follower.start()
    sim.run_until(sim.now_ms + 3000)
    logs = [member.raft.storage.entries for member in members(sim)]
    assert logs[0] == logs[1] == logs[2] and len(logs[0]) > 120
    assert len({member.raft.commit for member in members(sim)}) == 1
    assert follower.raft.applied == leader.raft.applied and follower.mvcc.revision == leader.mvcc.revision
    assert follower.mvcc.get("/k1") == leader.mvcc.get("/k1")
    # Sealing is a function of the log and the commit: the follower sealed the same bytes.
    follower_log = follower.raft.storage.entries
    assert len(follower_log.sealed) > 10 and follower_log.sealed == leader_log.sealed[:len(follower_log.sealed)]


def write_and_bounce(sim, first_number: int) -> None:
    client = sim.components["client"]
    for number in range(first_number, first_number + 40):
        client.put(f"etcd-cp-{number % 3 + 1}", f"/k{number % 5}", {"v": number, "ratio": number / 3})
    sim.run_until(sim.now_ms + 1500)
    sim.components["etcd-cp-2"].stop()
    for number in range(first_number + 40, first_number + 80):
        client.put("etcd-cp-1", f"/k{number % 5}", {"v": number})
    sim.run_until(sim.now_ms + 4000)
    sim.components["etcd-cp-2"].start()
    sim.run_until(sim.now_ms + 4000)


def test_snapshot_with_sealed_chunks_restores_exactly():
    sim, _names, _client = build_cluster(seed=13, loss=0.05)
    use_small_chunks(sim, 4)
    run_until_leader(sim)
    write_and_bounce(sim, 0)
    sim.drain_events()
    assert all(len(member.raft.storage.entries.sealed) > 10 for member in members(sim))
    restored = Simulation.restore(json.loads(json.dumps(sim.snapshot())))
    assert restored.snapshot() == sim.snapshot()
    for simulation in (sim, restored):
        write_and_bounce(simulation, 100)
    original = [event.as_dict() for event in sim.drain_events()]
    replayed = [event.as_dict() for event in restored.drain_events()]
    assert original == replayed and len(original) > 500
    answered = sim.components["client"].responses
    assert restored.components["client"].responses == answered and len(answered) > 120
    assert restored.snapshot() == sim.snapshot()


def test_snapshot_from_before_raft_log_restores_and_runs():
    """Clusters persisted before RaftLog hold each member's log as a plain list of entries."""
    sim, _names, client = build_cluster(seed=5)
    run_until_leader(sim)
    for number in range(2 * SEALED_CHUNK_ENTRIES + 40):
        client.put(f"etcd-cp-{number % 3 + 1}", f"/k{number % 9}", {"v": number})
    sim.run_until(sim.now_ms + 5000)
    sim.drain_events()
    assert all(member.raft.storage.entries.sealed for member in members(sim))
    current = json.dumps(sim.snapshot())
    for member in members(sim):
        member.raft.storage.entries = list(member.raft.storage.entries)
    legacy = json.loads(json.dumps(sim.snapshot()))
    assert all(type(state["state"]["raft"]["state"]["storage"]["state"]["entries"]) is list
               for name, state in legacy["components"].items() if name.startswith("etcd-"))

    from_legacy = Simulation.restore(legacy)
    from_current = Simulation.restore(json.loads(current))
    for member in members(from_legacy):
        log = member.raft.storage.entries
        assert type(log) is RaftLog and len(log.sealed) == (member.raft.commit + 1) // SEALED_CHUNK_ENTRIES - 1
    assert from_legacy.snapshot() == from_current.snapshot()
    for simulation in (from_legacy, from_current):
        write_and_bounce(simulation, 1000)
    assert [event.as_dict() for event in from_legacy.drain_events()] == \
        [event.as_dict() for event in from_current.drain_events()]
    logs = [member.raft.storage.entries for member in members(from_legacy)]
    assert logs[0] == logs[1] == logs[2]


def test_node_built_on_storage_holding_a_plain_list_gets_a_raft_log():
    storage = RaftStorage()
    storage.entries = [SENTINEL, {"term": 1, "index": 1, "data": None}, {"term": 1, "index": 2, "data": {"op": "put"}}]
    storage.term = 1
    storage.commit = 2
    node = RaftNode("m1", ["m1", "m2", "m3"], random.Random(3), storage)
    assert type(node.storage.entries) is RaftLog
    assert node.storage.entries == [SENTINEL, {"term": 1, "index": 1, "data": None},
                                    {"term": 1, "index": 2, "data": {"op": "put"}}]
    assert node.last_index() == 2 and node.term_at(2) == 1


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(seed=st.integers(0, 2**32 - 1), size=st.sampled_from([3, 5]), loss=st.sampled_from([0.0, 0.01, 0.1]),
       chunk=st.integers(1, 3), schedule=st.lists(steps, min_size=MIN_SCHEDULE_STEPS, max_size=MAX_SCHEDULE_STEPS))
def test_raft_safety_with_sealed_logs_under_random_faults(seed, size, loss, chunk, schedule):
    """test_raft_properties' safety checks, with logs that seal every few committed entries."""
    sim, names, client = build_cluster(seed, size=size, loss=loss)
    use_small_chunks(sim, chunk)
    checker = SafetyChecker(sim, f"seed={seed} size={size} loss={loss} chunk={chunk} schedule={schedule}")
    run_checked(sim, names, client, checker, schedule)
    for member in members(sim):
        assert len(member.raft.storage.entries.sealed) == max(0, (member.raft.commit + 1) // chunk - 1)
