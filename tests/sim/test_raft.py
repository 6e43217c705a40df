"""RaftNode on its own: elections, PreVote, CheckQuorum, replication, commit, ReadIndex, crashes.

Messages travel through a tiny in-memory router so each test controls exactly what is delivered.
"""
import random

import pytest

from cluster_sim.engine import SimulationError
from cluster_sim.etcd.raft import (CANDIDATE, FOLLOWER, LEADER, PRE_CANDIDATE, STEPDOWN_QUORUM_INACTIVE,
                                   RaftNode, RaftStorage)

MAX_ROUNDS = 10_000


class Router:
    """Delivers outbox messages between nodes; ``cut`` holds node ids that are unreachable."""

    def __init__(self, count: int, seed: int = 7, **options):
        self.ids = [f"m{number}" for number in range(1, count + 1)]
        self.nodes = {node_id: RaftNode(node_id, self.ids, random.Random(f"{seed}/{node_id}"), **options)
                      for node_id in self.ids}
        self.cut: set = set()
        self.delivered: list = []

    def deliver(self) -> None:
        for _ in range(MAX_ROUNDS):
            messages = []
            for node in self.nodes.values():
                messages.extend(node.outbox)
                node.outbox = []
            if not messages:
                return
            for message in messages:
                if message["from"] in self.cut or message["to"] in self.cut:
                    continue
                self.delivered.append(message)
                self.nodes[message["to"]].step(message)
        raise AssertionError("messages never settled")

    def tick_all(self, ticks: int) -> None:
        for _ in range(ticks):
            for node in self.nodes.values():
                node.tick()
            self.deliver()

    def leaders(self) -> list:
        return [node for node in self.nodes.values() if node.state == LEADER]

    def elect(self, node_id: str) -> RaftNode:
        """Make ``node_id`` campaign now and return it as leader."""
        node = self.nodes[node_id]
        node.hup()
        self.deliver()
        assert node.state == LEADER, node.state
        return node


def event_kinds(node: RaftNode) -> list:
    return [kind for kind, _target, _payload in node.events]


def test_first_election_happens_between_10_and_20_ticks():
    first_campaign_ticks = []
    for seed in range(30):
        node = RaftNode("m1", ["m1", "m2", "m3"], random.Random(seed))
        for tick in range(1, 30):
            node.tick()
            if node.state != FOLLOWER:
                first_campaign_ticks.append(tick)
                break
    assert all(10 <= ticks < 20 for ticks in first_campaign_ticks), first_campaign_ticks
    assert len(first_campaign_ticks) == 30
    assert len(set(first_campaign_ticks)) > 3, "timeouts are not randomised"


def test_three_members_elect_exactly_one_leader_which_commits_an_empty_entry():
    router = Router(3)
    router.tick_all(25)
    leaders = router.leaders()
    assert len(leaders) == 1
    leader = leaders[0]
    assert leader.term == 1
    assert leader.storage.entries[1] == {"term": 1, "index": 1, "data": None}
    for node in router.nodes.values():
        assert node.term == 1 and node.lead == leader.id and node.commit == 1


def test_single_member_elects_itself_and_commits_alone():
    node = RaftNode("m1", ["m1"], random.Random(1))
    for _ in range(20):
        node.tick()
    assert node.state == LEADER
    assert node.propose({"op": "put", "key": "/a"})
    assert node.commit == 2


def test_pre_vote_keeps_an_isolated_member_from_raising_its_term():
    router = Router(3)
    router.elect("m1")
    router.cut = {"m3"}
    router.tick_all(100)
    assert router.nodes["m3"].term == 1
    assert router.nodes["m3"].state == PRE_CANDIDATE
    router.cut = set()
    router.tick_all(5)
    assert router.nodes["m1"].state == LEADER and router.nodes["m1"].term == 1


def test_without_pre_vote_an_isolated_member_raises_its_term_and_disrupts_the_leader():
    router = Router(3, pre_vote=False)
    router.elect("m1")
    router.cut = {"m3"}
    router.tick_all(100)
    assert router.nodes["m3"].term > 3
    assert router.nodes["m3"].state == CANDIDATE
    router.cut = set()
    router.tick_all(1)
    assert router.nodes["m1"].term > 1, "the old leader must learn the higher term"


def test_check_quorum_makes_an_isolated_leader_step_down_within_an_election_timeout():
    router = Router(3)
    leader = router.elect("m1")
    leader.events = []
    router.cut = {"m1"}
    for tick in range(1, 25):
        leader.tick()
        router.deliver()
        if leader.state != LEADER:
            break
    assert leader.state == FOLLOWER
    assert tick <= 20
    stepdowns = [payload for kind, _target, payload in leader.events if kind == "etcd.leader.stepdown"]
    assert stepdowns == [{"term": 1, "reason": STEPDOWN_QUORUM_INACTIVE}]


def test_majority_side_elects_a_new_leader_and_minority_leader_cannot_commit():
    router = Router(5)
    old = router.elect("m1")
    router.cut = {"m1", "m2"}
    old.propose({"op": "put", "key": "/lost"})
    router.deliver()
    assert old.commit == 1, "a leader with 2 of 5 members must not commit"
    for _ in range(40):
        for node_id in ["m3", "m4", "m5"]:
            router.nodes[node_id].tick()
        router.deliver()
    majority_leaders = [node for node in router.leaders() if node.id in ("m3", "m4", "m5")]
    assert len(majority_leaders) == 1 and majority_leaders[0].term >= 2
    new = majority_leaders[0]
    new.propose({"op": "put", "key": "/kept"})
    router.deliver()
    assert new.storage.entries[new.commit]["data"] == {"op": "put", "key": "/kept"}
    # Healing: the old leader's uncommitted entry is replaced by the new leader's log.
    router.cut = set()
    router.tick_all(3)
    assert old.state == FOLLOWER
    assert old.storage.entries == new.storage.entries
    assert all(entry["data"] != {"op": "put", "key": "/lost"} for entry in old.storage.entries)


def test_follower_forwards_proposals_to_the_leader():
    router = Router(3)
    router.elect("m1")
    assert router.nodes["m2"].propose({"op": "put", "key": "/x"}) is True
    router.deliver()
    for node in router.nodes.values():
        assert node.storage.entries[2]["data"] == {"op": "put", "key": "/x"}
        assert node.commit == 2
    forwarded = [message for message in router.delivered if message["type"] == "MsgProp"]
    assert forwarded and forwarded[0]["to"] == "m1" and forwarded[0]["term"] == 0


def test_proposal_without_a_known_leader_is_dropped():
    router = Router(3)
    assert router.nodes["m2"].propose({"op": "put", "key": "/x"}) is False


def test_leader_steps_down_on_a_higher_term():
    router = Router(3)
    leader = router.elect("m1")
    leader.step({"type": "MsgHeartbeat", "from": "m2", "to": "m1", "term": 5, "commit": 0})
    assert leader.state == FOLLOWER and leader.term == 5 and leader.lead == "m2"
    assert "etcd.leader.stepdown" in event_kinds(leader)


def test_vote_is_refused_to_a_candidate_with_a_shorter_log():
    router = Router(3)
    router.elect("m1")
    router.nodes["m1"].propose({"op": "put", "key": "/a"})
    router.cut = {"m3"}
    router.deliver()
    router.cut = set()
    voter = router.nodes["m2"]
    voter.lead = None  # pretend the lease expired
    voter.step({"type": "MsgVote", "from": "m3", "to": "m2", "term": 2, "index": 1, "log_term": 1})
    response = voter.outbox[-1]
    assert response["type"] == "MsgVoteResp" and response["reject"] is True
    assert voter.storage.vote is None


def test_vote_requests_are_ignored_while_the_leader_lease_holds():
    router = Router(3)
    router.elect("m1")
    follower = router.nodes["m2"]
    follower.step({"type": "MsgVote", "from": "m3", "to": "m2", "term": 9, "index": 50, "log_term": 9})
    assert follower.term == 1 and follower.outbox == []


def test_lagging_follower_catches_up_after_rejections():
    router = Router(3)
    leader = router.elect("m1")
    router.cut = {"m3"}
    for number in range(100):
        leader.propose({"op": "put", "key": f"/k{number}"})
    router.deliver()
    assert leader.commit == 101
    router.cut = set()
    router.tick_all(5)
    assert router.nodes["m3"].storage.entries == leader.storage.entries
    assert router.nodes["m3"].commit == 101


def test_follower_with_divergent_uncommitted_tail_is_repaired():
    router = Router(3)
    old = router.elect("m1")
    router.cut = {"m2", "m3"}
    for number in range(3):
        old.propose({"op": "put", "key": f"/stale{number}"})
    router.deliver()
    router.cut = {"m1"}
    for _ in range(40):
        router.nodes["m2"].tick()
        router.nodes["m3"].tick()
        router.deliver()
    new = next(node for node in router.leaders() if node.id != "m1")
    new.propose({"op": "put", "key": "/fresh"})
    router.deliver()
    router.cut = set()
    router.tick_all(3)
    assert old.storage.entries == new.storage.entries
    assert old.storage.entries[-1]["data"] == {"op": "put", "key": "/fresh"}


def test_read_index_needs_a_quorum_heartbeat_round():
    router = Router(3)
    leader = router.elect("m1")
    router.cut = {"m2", "m3"}
    leader.read_index("r1")
    router.deliver()
    assert leader.read_states == []
    router.cut = {"m3"}
    leader.read_index("r2")
    router.deliver()
    # Confirming r2 also confirms the earlier r1, as etcd-io/raft's read-only queue does.
    assert leader.read_states == [{"index": 1, "context": "r1"}, {"index": 1, "context": "r2"}]


def test_read_index_from_a_follower_is_answered_by_the_leader():
    router = Router(3)
    router.elect("m1")
    follower = router.nodes["m3"]
    follower.read_index("m3/1")
    router.deliver()
    assert follower.read_states == [{"index": 1, "context": "m3/1"}]


def test_crash_keeps_term_vote_log_and_commit_but_not_leadership():
    router = Router(3)
    leader = router.elect("m1")
    leader.propose({"op": "put", "key": "/a"})
    router.deliver()
    storage = leader.storage
    restarted = RaftNode("m1", router.ids, random.Random(3), storage, applied=0)
    assert restarted.state == FOLLOWER and restarted.lead is None
    assert restarted.term == 1 and storage.vote == "m1" and restarted.commit == 2
    assert [entry["index"] for entry in restarted.committed_unapplied()] == [1, 2]


def test_applying_out_of_order_is_a_simulation_error():
    router = Router(1)
    node = router.nodes["m1"]
    with pytest.raises(SimulationError):
        node.applied_to(1)
    node = RaftNode("m1", ["m1"], random.Random(1), RaftStorage())
    for _ in range(20):
        node.tick()
    with pytest.raises(SimulationError):
        node.applied_to(2)


def test_node_state_is_plain_data():
    router = Router(3)
    router.elect("m1")
    router.nodes["m1"].propose({"op": "put", "key": "/a"})
    router.deliver()

    def check(value, path):
        assert not isinstance(value, (tuple, set)), path
        if isinstance(value, dict):
            for key, item in value.items():
                assert isinstance(key, str), path
                check(item, f"{path}.{key}")
        elif isinstance(value, list):
            for position, item in enumerate(value):
                check(item, f"{path}[{position}]")
        elif hasattr(value, "__dict__"):
            for name, item in vars(value).items():
                check(item, f"{path}.{name}")

    for node in router.nodes.values():
        check(node, node.id)


def test_leader_never_commits_an_old_term_entry_by_counting_replicas():
    """Raft paper figure 8: an entry of an earlier term on a majority is not yet committed."""
    storage = RaftStorage()
    storage.term = 3
    storage.entries += [{"term": 1, "index": 1, "data": None}, {"term": 2, "index": 2, "data": {"op": "put"}}]
    storage.commit = 1
    leader = RaftNode("m1", ["m1", "m2", "m3", "m4", "m5"], random.Random(1), storage, pre_vote=False)
    leader.hup()
    for voter in ["m2", "m3"]:
        leader.step({"type": "MsgVoteResp", "from": voter, "to": "m1", "term": 4, "reject": False})
    assert leader.state == LEADER and leader.term == 4 and leader.last_index() == 3
    leader.progress["m2"]["match"] = 2
    leader.progress["m3"]["match"] = 2
    assert leader.maybe_commit() is False and leader.commit == 1
    leader.progress["m2"]["match"] = 3
    leader.progress["m3"]["match"] = 3
    assert leader.maybe_commit() is True and leader.commit == 3


def test_a_restarted_member_remembers_its_vote_for_the_term():
    node = RaftNode("m1", ["m1", "m2", "m3"], random.Random(1))
    node.step({"type": "MsgVote", "from": "m2", "to": "m1", "term": 5, "index": 0, "log_term": 0})
    assert node.outbox[-1]["reject"] is False
    restarted = RaftNode("m1", ["m1", "m2", "m3"], random.Random(2), node.storage)
    restarted.step({"type": "MsgVote", "from": "m3", "to": "m1", "term": 5, "index": 0, "log_term": 0})
    assert restarted.outbox[-1] == {"type": "MsgVoteResp", "from": "m1", "to": "m3", "term": 5, "reject": True}
    restarted.step({"type": "MsgVote", "from": "m2", "to": "m1", "term": 5, "index": 0, "log_term": 0})
    assert restarted.outbox[-1]["reject"] is False
