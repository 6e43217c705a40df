"""A Raft state machine modelled on etcd-io/raft (raft.go): ticks and messages in, messages out.

The node never sends anything itself: messages go to ``outbox`` and notable moments (elections,
votes, appends, commits) to ``events``; the owning etcd member sends and emits them.  Like
etcd-io/raft it runs PreVote and CheckQuorum (etcd enables CheckQuorum always and PreVote by
default since v3.5), ignores vote requests while it has heard from a leader within the election
timeout (leader lease), and serves linearizable reads with ReadIndex (ReadOnlySafe).

Messages are small dicts: ``type``, ``from``, ``to``, ``term`` plus per-type fields (``index``,
``log_term``, ``entries``, ``commit``, ``reject``, ``reject_hint``, ``context``).  Proposals and
read requests carry term 0: like in etcd-io/raft they are local messages forwarded to the leader.
Entries are ``{"term", "index", "data"}`` dicts that are never mutated once in a log; a
RaftLog keeps old committed ones sealed (compressed).
"""
from __future__ import annotations

import base64
import json
import random
import zlib

from ..engine import SimulationError

FOLLOWER = "follower"
PRE_CANDIDATE = "pre-candidate"
CANDIDATE = "candidate"
LEADER = "leader"

# etcd: --heartbeat-interval 100 ms and --election-timeout 1000 ms with a 100 ms tick.
ELECTION_TICKS = 10
HEARTBEAT_TICKS = 1
# etcd bounds a MsgApp by bytes (MaxSizePerMsg, 1 MiB); a count is the simulated stand-in.
MAX_ENTRIES_PER_APPEND = 64

PROBE = "probe"
REPLICATE = "replicate"

STEPDOWN_HIGHER_TERM = "received a message with higher term"
STEPDOWN_QUORUM_INACTIVE = "stepped down to follower since quorum is not active"

# Entries per sealed chunk of a RaftLog; a chunk is sealed once a whole further chunk of
# entries after it is committed too, so a follower just behind still reads plain entries.
SEALED_CHUNK_ENTRIES = 256
# Sealing happens once per entry, so zlib's default level is worth it: half the size of level 1
# for a few microseconds an entry.
SEAL_ZLIB_LEVEL = 6


# Entry data are trees of JSON values (a snapshot could not encode a cycle either).
_DATA_ENCODER = json.JSONEncoder(separators=(",", ":"), check_circular=False)


def encode_data(data) -> str:
    return _DATA_ENCODER.encode(data)


def seal_chunk(encoded_data: list[str]) -> str:
    """A chunk from its entries' encoded data: the compact JSON list of them, compressed."""
    text = "[" + ",".join(encoded_data) + "]"
    return base64.b64encode(zlib.compress(text.encode(), SEAL_ZLIB_LEVEL)).decode("ascii")


def unseal_chunk(sealed: str) -> list:
    return json.loads(zlib.decompress(base64.b64decode(sealed)))


class RaftLog:
    """A Raft log that reads like a list of entries (``log[i]["index"] == i``) but keeps the
    ``data`` of old committed entries compressed.

    etcd keeps up to --snapshot-count entries in memory; kept as dicts here, each entry would
    hold its written object alive and be re-encoded by every checkpoint.  Committed entries are
    never truncated, so whole chunks of them can be sealed: ``sealed[k]`` holds the data of
    entries [k*C, (k+1)*C) as zlib-compressed JSON (base64, so a snapshot stays plain JSON);
    ``tail`` holds the entries after them as dicts, ``terms`` every entry's term.  Reading a
    sealed entry returns a new dict equal to the original one.

    Each entry's data is encoded as soon as it is committed, while it is still in the CPU's caches
    (encoding it a chunk later, among hundreds of other clusters, cost twice as much or more):
    ``encoded`` holds the texts of the committed entries not yet in a chunk, ``ready`` the chunks
    compressed from them whose entries are still in the tail. Both are derived from the tail, so
    a snapshot leaves them out and a restored log encodes its committed tail again.
    """

    TRANSIENT = ("encoded", "ready")

    def __init__(self, entries: list | None = None, chunk_entries: int = SEALED_CHUNK_ENTRIES):
        if chunk_entries < 1:
            raise SimulationError(f"RaftLog chunk of {chunk_entries} entries")
        self.chunk_entries = chunk_entries
        self.sealed: list[str] = []
        self.terms: list[int] = []
        self.tail: list[dict] = []
        self.encoded: list[str] = []
        self.ready: list[str] = []
        self.extend([{"term": 0, "index": 0, "data": None}] if entries is None else entries)

    def attach(self, _sim) -> None:
        self.encoded, self.ready = [], []

    def tail_start(self) -> int:
        return len(self.terms) - len(self.tail)

    def first_unencoded(self) -> int:
        return self.tail_start() + len(self.ready) * self.chunk_entries + len(self.encoded)

    def seal_through(self, commit: int) -> None:
        """Encode the entries newly committed (up to ``commit``), then seal every chunk that has a
        whole chunk of committed entries after it."""
        if commit >= len(self.terms):
            raise SimulationError(f"sealing through {commit} beyond the last index {len(self.terms) - 1}")
        size = self.chunk_entries
        tail = self.tail
        tail_start = len(self.terms) - len(tail)
        for entry in tail[self.first_unencoded() - tail_start:commit + 1 - tail_start]:
            self.encoded.append(encode_data(entry["data"]))
            if len(self.encoded) == size:
                self.ready.append(seal_chunk(self.encoded))
                self.encoded = []
        while (len(self.sealed) + 2) * size <= commit + 1:
            self.sealed.append(self.ready.pop(0))
            del tail[:size]

    def sealed_entries(self, start: int, stop: int) -> list[dict]:
        """Fresh entry dicts for [start, stop), all below the tail; each chunk decoded once."""
        size = self.chunk_entries
        terms = self.terms
        entries = []
        for chunk in range(start // size, (stop - 1) // size + 1):
            first = chunk * size
            data_list = unseal_chunk(self.sealed[chunk])
            for index in range(max(start, first), min(stop, first + size)):
                entries.append({"term": terms[index], "index": index, "data": data_list[index - first]})
        return entries

    def __len__(self) -> int:
        return len(self.terms)

    def __getitem__(self, key):
        tail_start = len(self.terms) - len(self.tail)
        if type(key) is int:
            if key < 0:
                key += len(self.terms)
            if key >= tail_start:
                return self.tail[key - tail_start]
            if key < 0:
                raise IndexError("RaftLog index out of range")
            return self.sealed_entries(key, key + 1)[0]
        if not isinstance(key, slice):
            raise TypeError(f"RaftLog indices must be integers or slices, not {type(key).__name__}")
        if key.step is not None and key.step != 1:
            raise SimulationError("RaftLog slices have no step")
        start, stop, _step = key.indices(len(self.terms))
        if stop <= start:
            return []
        if start >= tail_start:
            return self.tail[start - tail_start:stop - tail_start]
        if stop <= tail_start:
            return self.sealed_entries(start, stop)
        return self.sealed_entries(start, tail_start) + self.tail[:stop - tail_start]

    def __delitem__(self, key) -> None:
        if not isinstance(key, slice) or key.stop is not None or key.step is not None:
            raise SimulationError("a Raft log is only truncated from an index to its end")
        start = key.indices(len(self.terms))[0]
        # Sealed and encoded entries are committed, and Raft never truncates those.
        committed_through = self.first_unencoded() - 1
        if start <= committed_through:
            raise SimulationError(f"truncating the Raft log at {start}, below its committed entries "
                                  f"(up to {committed_through})")
        del self.tail[start - self.tail_start():]
        del self.terms[start:]

    def append(self, entry: dict) -> None:
        if entry["index"] != len(self.terms):
            raise SimulationError(f"appending entry {entry['index']} to a log whose next index is {len(self.terms)}")
        self.terms.append(entry["term"])
        self.tail.append(entry)

    def extend(self, entries) -> None:
        for entry in entries:
            self.append(entry)

    def __iadd__(self, entries) -> "RaftLog":
        self.extend(entries)
        return self

    def __iter__(self):
        size = self.chunk_entries
        for chunk in range(len(self.sealed)):
            yield from self.sealed_entries(chunk * size, (chunk + 1) * size)
        yield from self.tail

    def __eq__(self, other) -> bool:
        if isinstance(other, RaftLog):
            if other.terms != self.terms:
                return False
            if other.chunk_entries == self.chunk_entries and other.sealed == self.sealed:
                return other.tail == self.tail
        elif not isinstance(other, list):
            return NotImplemented
        return len(other) == len(self) and list(other) == list(self)

    __hash__ = None

    def __repr__(self) -> str:
        return (f"RaftLog({len(self.terms)} entries, {len(self.sealed)} sealed chunks of "
                f"{self.chunk_entries}, tail {self.tail!r})")


class RaftStorage:
    """What a crash keeps: etcd's HardState (term, vote, commit) and the WAL's entries.

    ``entries[0]`` is a sentinel at index 0, term 0, so an entry's index is its position.
    """

    def __init__(self):
        self.term = 0
        self.vote: str | None = None
        self.commit = 0
        self.entries = RaftLog()

    def upgrade_log(self) -> None:
        if not isinstance(self.entries, RaftLog):
            self.entries = RaftLog(self.entries)
        self.entries.seal_through(self.commit)

    def attach(self, _sim) -> None:
        # Called by decode_state on restore: snapshots persisted before RaftLog hold a list.
        self.upgrade_log()


def describe_entry(data: dict | None) -> dict:
    if data is None:
        return {"key": None, "op": "noop"}
    return {"key": data.get("key"), "op": data.get("op")}


class RaftNode:
    """One member's Raft state. Persistent state lives in ``storage``; the rest is volatile."""

    def __init__(self, member_id: str, peer_ids: list[str], rng: random.Random,
                 storage: RaftStorage | None = None, *, applied: int = 0, pre_vote: bool = True,
                 check_quorum: bool = True, election_ticks: int = ELECTION_TICKS,
                 heartbeat_ticks: int = HEARTBEAT_TICKS):
        self.id = member_id
        self.voters = sorted(set(peer_ids) | {member_id})
        self.peers = [voter for voter in self.voters if voter != member_id]
        self.quorum = len(self.voters) // 2 + 1
        self.rng = rng
        self.storage = storage if storage is not None else RaftStorage()
        self.storage.upgrade_log()
        self.pre_vote = pre_vote
        self.check_quorum = check_quorum
        self.election_ticks = election_ticks
        self.heartbeat_ticks = heartbeat_ticks
        if applied > self.storage.commit:
            raise SimulationError(f"{member_id}: applied {applied} beyond commit {self.storage.commit}")
        self.applied = applied
        self.state = FOLLOWER
        self.lead: str | None = None
        self.election_elapsed = 0
        self.heartbeat_elapsed = 0
        self.randomized_election_ticks = election_ticks
        self.votes: dict[str, bool] = {}
        # Leader only: peer -> {"match", "next", "state", "probe_sent", "recent_active"}
        self.progress: dict[str, dict] = {}
        # Leader only, ReadIndex: contexts in arrival order and their pending acks.
        self.read_queue: list[str] = []
        self.read_requests: dict[str, dict] = {}
        self.pending_read_messages: list[dict] = []
        self.outbox: list[dict] = []
        self.events: list[list] = []
        self.read_states: list[dict] = []
        self.become_follower(self.storage.term, None)

    # Log -----------------------------------------------------------------------------------
    @property
    def term(self) -> int:
        return self.storage.term

    @property
    def commit(self) -> int:
        return self.storage.commit

    def last_index(self) -> int:
        return len(self.storage.entries.terms) - 1

    def term_at(self, index: int) -> int | None:
        terms = self.storage.entries.terms
        return terms[index] if 0 <= index < len(terms) else None

    def is_up_to_date(self, log_term: int, index: int) -> bool:
        last = self.storage.entries[-1]
        return log_term > last["term"] or (log_term == last["term"] and index >= last["index"])

    def find_conflict_by_term(self, index: int, term: int) -> list:
        """The largest index <= ``index`` whose term is <= ``term``, and that term."""
        terms = self.storage.entries.terms
        for candidate in range(min(index, self.last_index()), 0, -1):
            candidate_term = terms[candidate]
            if candidate_term <= term:
                return [candidate, candidate_term]
        return [0, 0]

    def commit_to(self, index: int) -> None:
        if index <= self.storage.commit:
            return
        if index > self.last_index():
            raise SimulationError(f"{self.id}: commit {index} beyond last index {self.last_index()}")
        self.storage.commit = index
        self.storage.entries.seal_through(index)
        self.events.append(["etcd.commit", self.id, {"term": self.storage.term, "index": index}])

    def committed_unapplied(self) -> list[dict]:
        return self.storage.entries[self.applied + 1:self.storage.commit + 1]

    def applied_to(self, index: int) -> None:
        if index != self.applied + 1 or index > self.storage.commit:
            raise SimulationError(f"{self.id}: apply {index} out of order (applied {self.applied}, "
                                  f"commit {self.storage.commit})")
        self.applied = index

    # Role changes --------------------------------------------------------------------------
    def reset(self, term: int) -> None:
        if term < self.storage.term:
            raise SimulationError(f"{self.id}: term going back from {self.storage.term} to {term}")
        if term != self.storage.term:
            self.storage.term = term
            self.storage.vote = None
        self.lead = None
        self.election_elapsed = 0
        self.heartbeat_elapsed = 0
        # etcd-io/raft: electiontimeout + rand(electiontimeout), so in [10, 20) ticks.
        self.randomized_election_ticks = self.election_ticks + self.rng.randrange(self.election_ticks)
        self.votes = {}
        self.progress = {}
        self.read_queue = []
        self.read_requests = {}
        self.pending_read_messages = []

    def become_follower(self, term: int, lead: str | None, reason: str = STEPDOWN_HIGHER_TERM) -> None:
        if self.state == LEADER:
            self.events.append(["etcd.leader.stepdown", self.id, {"term": self.storage.term, "reason": reason}])
        self.reset(term)
        self.state = FOLLOWER
        self.lead = lead

    def become_pre_candidate(self) -> None:
        if self.state == LEADER:
            raise SimulationError(f"{self.id}: leader cannot become pre-candidate")
        self.state = PRE_CANDIDATE
        self.votes = {}
        self.lead = None

    def become_candidate(self) -> None:
        if self.state == LEADER:
            raise SimulationError(f"{self.id}: leader cannot become candidate")
        self.reset(self.storage.term + 1)
        self.storage.vote = self.id
        self.state = CANDIDATE

    def become_leader(self) -> None:
        if self.state != CANDIDATE or self.storage.vote != self.id:
            raise SimulationError(f"{self.id}: only a candidate that voted for itself becomes leader")
        self.reset(self.storage.term)
        self.state = LEADER
        self.lead = self.id
        next_index = self.last_index() + 1
        for peer in self.peers:
            self.progress[peer] = {"match": 0, "next": next_index, "state": PROBE,
                                   "probe_sent": False, "recent_active": False}
        self.events.append(["etcd.leader.elected", self.id, {"term": self.storage.term, "leader": self.id}])
        # A new leader commits an empty entry of its own term, which also commits earlier ones.
        self.append_entries([None])

    # Ticks ---------------------------------------------------------------------------------
    def tick(self) -> None:
        if self.state == LEADER:
            self.tick_heartbeat()
            return
        self.election_elapsed += 1
        if self.election_elapsed >= self.randomized_election_ticks:
            self.election_elapsed = 0
            self.hup()

    def tick_heartbeat(self) -> None:
        self.heartbeat_elapsed += 1
        self.election_elapsed += 1
        if self.election_elapsed >= self.election_ticks:
            self.election_elapsed = 0
            if self.check_quorum and not self.quorum_active():
                self.become_follower(self.storage.term, None, STEPDOWN_QUORUM_INACTIVE)
                return
        if self.heartbeat_elapsed >= self.heartbeat_ticks:
            self.heartbeat_elapsed = 0
            self.broadcast_heartbeat(None)

    def quorum_active(self) -> bool:
        """Whether a quorum spoke to us since the last check; resets the marks for the next."""
        active = 1
        for progress in self.progress.values():
            if progress["recent_active"]:
                active += 1
            progress["recent_active"] = False
        return active >= self.quorum

    # Elections -----------------------------------------------------------------------------
    def hup(self) -> None:
        if self.state == LEADER:
            return
        self.campaign(pre_vote=self.pre_vote)

    def campaign(self, pre_vote: bool) -> None:
        if pre_vote:
            self.become_pre_candidate()
            vote_type, term = "MsgPreVote", self.storage.term + 1
        else:
            self.become_candidate()
            vote_type, term = "MsgVote", self.storage.term
        self.events.append(["etcd.election.start", self.id,
                            {"term": term, "member": self.id, "pre_vote": pre_vote}])
        if self.poll(self.id, True) == "won":
            self.won_election()
            return
        last = self.storage.entries[-1]
        for peer in self.peers:
            self.outbox.append({"type": vote_type, "from": self.id, "to": peer, "term": term,
                                "index": last["index"], "log_term": last["term"]})

    def poll(self, voter: str, granted: bool) -> str:
        self.votes[voter] = granted
        granted_count = sum(1 for vote in self.votes.values() if vote)
        if granted_count >= self.quorum:
            return "won"
        if len(self.votes) - granted_count > len(self.voters) - self.quorum:
            return "lost"
        return "pending"

    def won_election(self) -> None:
        if self.state == PRE_CANDIDATE:
            self.campaign(pre_vote=False)
        else:
            self.become_leader()
            self.broadcast_append()

    def handle_vote_request(self, message: dict) -> None:
        candidate = message["from"]
        is_pre_vote = message["type"] == "MsgPreVote"
        can_vote = (self.storage.vote == candidate
                    or (self.storage.vote is None and self.lead is None)
                    or (is_pre_vote and message["term"] > self.storage.term))
        granted = can_vote and self.is_up_to_date(message["log_term"], message["index"])
        # A grant echoes the request's term (a pre-vote's term is in our future); a refusal
        # carries our own term so a stale candidate learns it.
        self.outbox.append({"type": "MsgPreVoteResp" if is_pre_vote else "MsgVoteResp",
                            "from": self.id, "to": candidate,
                            "term": message["term"] if granted else self.storage.term,
                            "reject": not granted})
        if granted and not is_pre_vote:
            self.election_elapsed = 0
            self.storage.vote = candidate
        self.events.append(["etcd.vote", candidate, {"term": message["term"], "candidate": candidate,
                                                     "granted": granted, "pre_vote": is_pre_vote}])

    # Messages ------------------------------------------------------------------------------
    def step(self, message: dict):
        """Advance the state machine by one message. Returns False for a dropped proposal."""
        message_term = message["term"]
        message_type = message["type"]
        if message_term == self.storage.term:
            # Heartbeats and their answers are most of an idle cluster's Raft traffic.
            if message_type == "MsgHeartbeat" and self.state == FOLLOWER:
                self.election_elapsed = 0
                self.lead = message["from"]
                self.handle_heartbeat(message)
                return None
            if message_type == "MsgHeartbeatResp" and self.state == LEADER:
                progress = self.progress.get(message["from"])
                if progress is not None:
                    self.handle_heartbeat_response(message, progress)
                return None
        if message_term > self.storage.term:
            if not self.accept_higher_term(message, message_type, message_term):
                return None
        elif message_term and message_term < self.storage.term:
            self.answer_lower_term(message, message_type)
            return None
        if message_type == "MsgVote" or message_type == "MsgPreVote":
            self.handle_vote_request(message)
            return None
        if self.state == LEADER:
            return self.step_leader(message)
        if self.state == FOLLOWER:
            return self.step_follower(message)
        return self.step_candidate(message)

    def accept_higher_term(self, message: dict, message_type: str, message_term: int) -> bool:
        """Handle a message from a later term; False means ignore the message."""
        if message_type == "MsgVote" or message_type == "MsgPreVote":
            in_lease = (self.check_quorum and self.lead is not None
                        and self.election_elapsed < self.election_ticks)
            if in_lease:
                # We heard from a live leader within the election timeout: do not disrupt it.
                return False
        if message_type == "MsgPreVote":
            return True
        if message_type == "MsgPreVoteResp" and not message["reject"]:
            return True
        if message_type == "MsgApp" or message_type == "MsgHeartbeat":
            self.become_follower(message_term, message["from"])
        else:
            self.become_follower(message_term, None)
        return True

    def answer_lower_term(self, message: dict, message_type: str) -> None:
        if (self.check_quorum or self.pre_vote) and message_type in ("MsgHeartbeat", "MsgApp"):
            # A leader of an old term: tell it our term so it steps down (etcd-io/raft does this
            # because with CheckQuorum/PreVote we may not raise terms through votes).
            self.outbox.append({"type": "MsgAppResp", "from": self.id, "to": message["from"],
                                "term": self.storage.term, "index": 0, "reject": False})
        elif message_type == "MsgPreVote":
            self.outbox.append({"type": "MsgPreVoteResp", "from": self.id, "to": message["from"],
                                "term": self.storage.term, "reject": True})

    def step_follower(self, message: dict):
        message_type = message["type"]
        if message_type == "MsgHeartbeat":
            self.election_elapsed = 0
            self.lead = message["from"]
            self.handle_heartbeat(message)
        elif message_type == "MsgApp":
            self.election_elapsed = 0
            self.lead = message["from"]
            self.handle_append_entries(message)
        elif message_type == "MsgProp":
            if self.lead is None:
                return False
            self.outbox.append({"type": "MsgProp", "from": message["from"], "to": self.lead, "term": 0,
                                "entries": message["entries"]})
        elif message_type == "MsgReadIndex":
            if self.lead is None:
                return None
            self.outbox.append({"type": "MsgReadIndex", "from": message["from"], "to": self.lead,
                                "term": 0, "context": message["context"]})
        elif message_type == "MsgReadIndexResp":
            self.read_states.append({"index": message["index"], "context": message["context"]})
        return None

    def step_candidate(self, message: dict):
        message_type = message["type"]
        if message_type == "MsgProp":
            return False
        if message_type == "MsgApp":
            self.become_follower(message["term"], message["from"])
            self.handle_append_entries(message)
        elif message_type == "MsgHeartbeat":
            self.become_follower(message["term"], message["from"])
            self.handle_heartbeat(message)
        elif message_type == ("MsgPreVoteResp" if self.state == PRE_CANDIDATE else "MsgVoteResp"):
            result = self.poll(message["from"], not message["reject"])
            if result == "won":
                self.won_election()
            elif result == "lost":
                self.become_follower(self.storage.term, None)
        return None

    def step_leader(self, message: dict):
        message_type = message["type"]
        if message_type == "MsgProp":
            self.append_entries([entry["data"] for entry in message["entries"]])
            self.broadcast_append()
            return True
        if message_type == "MsgReadIndex":
            self.leader_read_index(message)
            return None
        progress = self.progress.get(message["from"])
        if progress is None:
            return None
        if message_type == "MsgHeartbeatResp":
            self.handle_heartbeat_response(message, progress)
        elif message_type == "MsgAppResp":
            progress["recent_active"] = True
            if message["reject"]:
                self.handle_append_rejection(message, progress)
            else:
                self.handle_append_success(message, progress)
        return None

    # Public entry points for the member --------------------------------------------------
    def propose(self, data: dict) -> bool:
        """Propose one entry; False when it was dropped (no leader known)."""
        return self.step({"type": "MsgProp", "from": self.id, "term": 0, "entries": [{"data": data}]}) is not False

    def read_index(self, context: str) -> None:
        self.step({"type": "MsgReadIndex", "from": self.id, "term": 0, "context": context})

    # Replication (leader) -----------------------------------------------------------------
    def append_entries(self, data_list: list) -> None:
        entries = self.storage.entries
        term = self.storage.term
        for data in data_list:
            index = len(entries)
            entries.append({"term": term, "index": index, "data": data})
            payload = {"term": term, "index": index}
            payload.update(describe_entry(data))
            self.events.append(["etcd.append", self.id, payload])
        self.maybe_commit()

    def broadcast_append(self) -> None:
        for peer in self.peers:
            self.send_append(peer)

    def send_append(self, peer: str) -> None:
        progress = self.progress[peer]
        if progress["state"] == PROBE and progress["probe_sent"]:
            return
        next_index = progress["next"]
        entries = self.storage.entries[next_index:next_index + MAX_ENTRIES_PER_APPEND]
        self.outbox.append({"type": "MsgApp", "from": self.id, "to": peer, "term": self.storage.term,
                            "index": next_index - 1, "log_term": self.term_at(next_index - 1),
                            "entries": entries, "commit": self.storage.commit})
        if progress["state"] == PROBE:
            # Probing: one MsgApp in flight until the follower answers (or a heartbeat reply).
            progress["probe_sent"] = True
        elif entries:
            progress["next"] = entries[-1]["index"] + 1

    def handle_append_success(self, message: dict, progress: dict) -> None:
        index = message["index"]
        updated = progress["match"] < index
        if updated:
            progress["match"] = index
            progress["probe_sent"] = False
        progress["next"] = max(progress["next"], index + 1)
        if not updated and not (progress["match"] == index and progress["state"] == PROBE):
            return
        if progress["state"] == PROBE:
            progress["state"] = REPLICATE
            progress["next"] = progress["match"] + 1
        if self.maybe_commit():
            self.broadcast_append()
        elif progress["next"] <= self.last_index():
            self.send_append(message["from"])

    def handle_append_rejection(self, message: dict, progress: dict) -> None:
        next_probe = message["reject_hint"]
        if message["log_term"] > 0:
            next_probe = self.find_conflict_by_term(message["reject_hint"], message["log_term"])[0]
        rejected = message["index"]
        if progress["state"] == REPLICATE:
            if rejected <= progress["match"]:
                return
            progress["next"] = progress["match"] + 1
            progress["state"] = PROBE
        else:
            if progress["next"] - 1 != rejected:
                return
            progress["next"] = max(min(rejected, next_probe + 1), progress["match"] + 1)
        progress["probe_sent"] = False
        self.send_append(message["from"])

    def maybe_commit(self) -> bool:
        matches = [progress["match"] for progress in self.progress.values()]
        matches.append(self.last_index())
        matches.sort(reverse=True)
        quorum_index = matches[self.quorum - 1]
        # Raft commits only entries of the leader's own term by counting replicas (§5.4.2).
        if quorum_index <= self.storage.commit or self.term_at(quorum_index) != self.storage.term:
            return False
        self.commit_to(quorum_index)
        self.release_pending_reads()
        return True

    # Heartbeats and ReadIndex -------------------------------------------------------------
    def broadcast_heartbeat(self, context: str | None) -> None:
        commit = self.storage.commit
        term = self.storage.term
        outbox = self.outbox
        for peer in self.peers:
            match = self.progress[peer]["match"]
            message = {"type": "MsgHeartbeat", "from": self.id, "to": peer, "term": term,
                       "commit": match if match < commit else commit}
            if context is not None:
                message["context"] = context
            outbox.append(message)

    def handle_heartbeat(self, message: dict) -> None:
        if message["commit"] > self.storage.commit:
            self.commit_to(message["commit"])
        response = {"type": "MsgHeartbeatResp", "from": self.id, "to": message["from"],
                    "term": self.storage.term}
        context = message.get("context")
        if context is not None:
            response["context"] = context
        self.outbox.append(response)

    def handle_heartbeat_response(self, message: dict, progress: dict) -> None:
        progress["recent_active"] = True
        progress["probe_sent"] = False
        if progress["match"] < len(self.storage.entries.terms) - 1:
            self.send_append(message["from"])
        context = message.get("context")
        if context is None:
            return
        request = self.read_requests.get(context)
        if request is None:
            return
        request["acks"][message["from"]] = True
        if len(request["acks"]) >= self.quorum:
            self.advance_reads(context)

    def handle_append_entries(self, message: dict) -> None:
        previous_index = message["index"]
        commit = self.storage.commit
        if previous_index < commit:
            self.outbox.append({"type": "MsgAppResp", "from": self.id, "to": message["from"],
                                "term": self.storage.term, "index": commit, "reject": False})
            return
        if self.term_at(previous_index) == message["log_term"]:
            last_new = previous_index + len(message["entries"])
            self.append_from_leader(message["entries"])
            self.commit_to(min(message["commit"], last_new))
            self.outbox.append({"type": "MsgAppResp", "from": self.id, "to": message["from"],
                                "term": self.storage.term, "index": last_new, "reject": False})
            return
        hint_index, hint_term = self.find_conflict_by_term(min(previous_index, self.last_index()),
                                                           message["log_term"])
        self.outbox.append({"type": "MsgAppResp", "from": self.id, "to": message["from"],
                            "term": self.storage.term, "index": previous_index, "reject": True,
                            "reject_hint": hint_index, "log_term": hint_term})

    def append_from_leader(self, new_entries: list) -> None:
        """Append the leader's entries, truncating our log at the first conflicting one."""
        entries = self.storage.entries
        terms = entries.terms
        for position, entry in enumerate(new_entries):
            index = entry["index"]
            if index < len(terms) and terms[index] == entry["term"]:
                continue
            if index <= self.storage.commit:
                raise SimulationError(f"{self.id}: conflicting entry {index} at or below commit "
                                      f"{self.storage.commit}")
            if index > len(entries):
                raise SimulationError(f"{self.id}: gap in log before entry {index}")
            del entries[index:]
            entries.extend(new_entries[position:])
            return

    def leader_read_index(self, message: dict) -> None:
        if len(self.voters) == 1:
            self.answer_read(message["from"], message["context"], self.storage.commit)
            return
        if self.term_at(self.storage.commit) != self.storage.term:
            # A new leader does not know the commit index until it commits in its own term.
            self.pending_read_messages.append(message)
            return
        self.start_read(message)

    def start_read(self, message: dict) -> None:
        context = message["context"]
        if context in self.read_requests:
            return
        self.read_requests[context] = {"index": self.storage.commit, "from": message["from"],
                                       "acks": {self.id: True}}
        self.read_queue.append(context)
        self.broadcast_heartbeat(context)

    def release_pending_reads(self) -> None:
        pending, self.pending_read_messages = self.pending_read_messages, []
        for message in pending:
            self.start_read(message)

    def advance_reads(self, context: str) -> None:
        """A quorum confirmed our leadership at ``context``: answer it and every earlier read."""
        position = self.read_queue.index(context)
        answered, self.read_queue = self.read_queue[:position + 1], self.read_queue[position + 1:]
        for answered_context in answered:
            request = self.read_requests.pop(answered_context)
            self.answer_read(request["from"], answered_context, request["index"])

    def answer_read(self, requester: str, context: str, index: int) -> None:
        if requester == self.id:
            self.read_states.append({"index": index, "context": context})
            return
        self.outbox.append({"type": "MsgReadIndexResp", "from": self.id, "to": requester,
                            "term": self.storage.term, "index": index, "context": context})
