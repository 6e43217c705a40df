"""Raft safety under random schedules of crashes, restarts, partitions and message loss.

Hypothesis draws a seed, a cluster size (1, 3 or 5 members), a loss rate and a schedule.  While
the schedule runs, the event stream and the members' state are checked for the Raft safety
properties (Raft paper, figure 3): election safety, log matching, leader completeness and
state-machine safety, plus: no acknowledged write is ever lost.  After the schedule the network
heals, every member restarts and the cluster must converge and accept a new write.

2,000 schedules by default (about 20 s); raise them with CLUSTER_SIM_RAFT_EXAMPLES=10000.
"""
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cluster_sim.etcd import REQUEST_TIMEOUT_MS

from .test_etcd_member import build_cluster, members

EXAMPLES = int(os.environ.get("CLUSTER_SIM_RAFT_EXAMPLES", "2000"))

MIN_SCHEDULE_STEPS = 10
MAX_SCHEDULE_STEPS = 40
FIRST_ELECTION_MS = 3000
SETTLE_MS = 15_000

# Each step is [action, member number, key number, then run this many ms]; writes come often so
# that there is something to lose, faults often enough to force many elections.
ACTIONS = ["write", "write", "write", "write", "crash", "restart", "restart", "isolate", "partition",
           "heal", "heal", "wait"]
# Short runs land faults inside elections and replication rounds; long ones let timeouts fire.
run_ms = st.one_of(st.integers(1, 30), st.integers(30, 2500))
steps = st.tuples(st.sampled_from(ACTIONS), st.integers(0, 31), st.integers(0, 4), run_ms)


class SafetyChecker:
    """Watches one simulation; every violation message names the seed that reproduces it."""

    def __init__(self, sim, context: str):
        self.sim = sim
        self.context = context
        self.leader_of_term = {}
        self.committed = [None]        # index -> [term, data] of entries known committed
        self.committed_in_term = [0]   # index -> earliest term in which it was known committed
        self.applied = {}              # index -> [key, op, revision]
        self.acknowledged = []         # [key, value, mod_revision]
        sim.listeners.append(self.on_event)

    def fail(self, message: str) -> None:
        raise AssertionError(f"{message} [{self.context}]")

    def on_event(self, event) -> None:
        kind = event.kind
        if kind == "etcd.heartbeat":
            return
        if kind == "etcd.leader.elected":
            self.check_election(event.payload["term"], event.payload["leader"])
        elif kind == "etcd.commit":
            self.check_commit(event.source, event.payload["term"], event.payload["index"])
        elif kind == "etcd.apply":
            self.check_apply(event.source, event.payload)

    def check_election(self, term: int, leader: str) -> None:
        previous = self.leader_of_term.setdefault(term, leader)
        if previous != leader:
            self.fail(f"election safety: {previous} and {leader} both led term {term}")
        self.check_leader_complete(self.sim.components[leader])

    def check_leader_complete(self, member) -> None:
        entries = member.raft.storage.entries
        term = member.raft.term
        for index in range(1, len(self.committed)):
            if self.committed_in_term[index] >= term:
                continue
            if index >= len(entries) or [entries[index]["term"], entries[index]["data"]] != self.committed[index]:
                self.fail(f"leader completeness: {member.name} leads term {term} without committed entry {index}")

    def check_commit(self, source: str, term: int, index: int) -> None:
        entries = self.sim.components[source].raft.storage.entries
        for position in range(1, index + 1):
            entry = [entries[position]["term"], entries[position]["data"]]
            if position < len(self.committed):
                if entry != self.committed[position]:
                    self.fail(f"{source} committed a different entry at index {position}")
                self.committed_in_term[position] = min(self.committed_in_term[position], term)
            else:
                self.committed.append(entry)
                self.committed_in_term.append(term)

    def check_apply(self, source: str, payload: dict) -> None:
        applied = [payload["key"], payload["op"], payload["revision"]]
        previous = self.applied.setdefault(str(payload["index"]), applied)
        if previous != applied:
            self.fail(f"state machine safety: {source} applied {applied} at {payload['index']}, "
                      f"another member applied {previous}")

    def check_logs_match(self) -> None:
        logs = [[member.name, member.raft.storage.entries] for member in members(self.sim)]
        for position, (name, log) in enumerate(logs):
            for other_name, other in logs[position + 1:]:
                shared = min(len(log), len(other)) - 1
                for index in range(shared, 0, -1):
                    if log[index]["term"] == other[index]["term"]:
                        if log[:index + 1] != other[:index + 1]:
                            self.fail(f"log matching: {name} and {other_name} agree on term at {index} "
                                      "but not on the entries before it")
                        break

    def check_current_leaders(self) -> None:
        for member in members(self.sim):
            if member.is_leader():
                self.check_leader_complete(member)

    def check_acknowledged(self) -> None:
        for key, value, revision in self.acknowledged:
            for member in members(self.sim):
                if member.mvcc.revision < revision:
                    continue
                record = member.mvcc.record_at(key, revision)
                if record is None or record["mod_revision"] != revision or record["value"] != value:
                    self.fail(f"acknowledged write {key}@{revision} missing on {member.name}")

    def check_all(self) -> None:
        self.check_logs_match()
        self.check_current_leaders()
        self.check_acknowledged()


class Writer:
    def __init__(self, client, names):
        self.client = client
        self.names = names
        self.sent = {}

    def write(self, member_number: int, key_number: int) -> None:
        value = {"write": len(self.sent)}
        key = f"/registry/configmaps/default/k{key_number}"
        request_id = self.client.put(self.names[member_number % len(self.names)], key, value)
        self.sent[str(request_id)] = [key, value]

    def collect(self, checker: SafetyChecker) -> None:
        for request_id, body in list(self.client.responses.items()):
            if request_id not in self.sent:
                continue
            key, value = self.sent.pop(request_id)
            if body["ok"]:
                checker.acknowledged.append([key, value, body["kv"]["mod_revision"]])
            elif not body["error"].startswith("etcdserver: request timed out"):
                checker.fail(f"unexpected etcd error {body['error']!r}")


def apply_step(sim, names, writer, step) -> None:
    action, member_number, key_number, run_ms = step
    machines = [f"cp-{number}" for number in range(1, len(names) + 1)]
    if action == "write":
        writer.write(member_number, key_number)
    elif action == "crash":
        sim.components[names[member_number % len(names)]].stop()
    elif action == "restart":
        sim.components[names[member_number % len(names)]].start()
    elif action == "isolate":
        sim.network.isolate(machines[member_number % len(machines)])
    elif action == "partition":
        side = [machine for number, machine in enumerate(machines) if member_number >> number & 1]
        other = [machine for machine in machines if machine not in side]
        sim.network.partition([side, other])
    elif action == "heal":
        sim.network.heal()
    sim.run_until(sim.now_ms + run_ms)


def settle(sim, names, writer, checker) -> None:
    sim.network.heal()
    sim.network.loss = 0.0
    for name in names:
        sim.components[name].start()
    sim.run_until(sim.now_ms + SETTLE_MS)
    writer.write(0, 99)
    final_id = writer.client.last_id
    sim.run_until(sim.now_ms + REQUEST_TIMEOUT_MS + 100)
    response = writer.client.response(final_id)
    writer.collect(checker)
    checker.check_all()
    if response is None or not response["ok"]:
        checker.fail(f"healed cluster did not accept a write: {response}")
    sim.run_until(sim.now_ms + 2000)
    checker.check_all()
    revisions = {member.name: [member.raft.applied, member.mvcc.revision] for member in members(sim)}
    if len({str(value) for value in revisions.values()}) != 1:
        checker.fail(f"members did not converge: {revisions}")


def run_checked(sim, names, client, checker, schedule) -> None:
    """Elect, run the schedule's steps with every safety check after each, then settle."""
    writer = Writer(client, names)
    sim.run_until(FIRST_ELECTION_MS)
    for step in schedule:
        apply_step(sim, names, writer, step)
        sim.drain_events()
        writer.collect(checker)
        checker.check_all()
    settle(sim, names, writer, checker)
    sim.drain_events()


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(seed=st.integers(0, 2**32 - 1), size=st.sampled_from([1, 3, 5]),
       loss=st.sampled_from([0.0, 0.01, 0.1, 0.3]), pre_vote=st.booleans(),
       schedule=st.lists(steps, min_size=MIN_SCHEDULE_STEPS, max_size=MAX_SCHEDULE_STEPS))
def test_raft_safety_under_random_faults(seed, size, loss, pre_vote, schedule):
    sim, names, client = build_cluster(seed, size=size, loss=loss, pre_vote=pre_vote)
    checker = SafetyChecker(sim, f"seed={seed} size={size} loss={loss} pre_vote={pre_vote} schedule={schedule}")
    run_checked(sim, names, client, checker, schedule)
