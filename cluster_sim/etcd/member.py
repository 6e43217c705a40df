"""An etcd member: a Raft node, the MVCC backend and the client protocol of docs/architecture.md.

Writes are proposed to Raft and answered once the entry is committed and applied here; reads are
linearizable through ReadIndex unless the client asks for a serializable (local) read.  Requests
that cannot finish get etcd's "request timed out" after ReqTimeout (5 s + 2 x election timeout).

Crash model: the Raft HardState and log (WAL) and the MVCC backend (bbolt, with its consistent
index) survive a crash, as on a real member's disk; everything else (leader, progress, pending
client requests, watchers) is lost.  A restarted member continues applying from the backend's
consistent index, like etcd replaying its WAL after the last applied entry.
"""
from __future__ import annotations

import random

from ..engine import Component, SimulationError
from .mvcc import MVCCError, MVCCStore
from .raft import ELECTION_TICKS, RaftNode, RaftStorage

TICK_MS = 100
ELECTION_TIMEOUT_MS = ELECTION_TICKS * TICK_MS
# etcd ServerConfig.ReqTimeout: 5 s for queueing and disk, plus two election timeouts.
REQUEST_TIMEOUT_MS = 5000 + 2 * ELECTION_TIMEOUT_MS
# etcd's linearizable read loop re-sends an unanswered ReadIndex after this long.
READ_INDEX_RETRY_MS = 500

ERROR_TIMEOUT = "etcdserver: request timed out"
ERROR_TIMEOUT_LEADER_FAIL = "etcdserver: request timed out, possibly due to previous leader failure"


class EtcdMember(Component):
    kind = "etcd"

    def __init__(self, sim, name: str, node: str | None, peer_names: list[str], *, pre_vote: bool = True):
        super().__init__(sim, name, node)
        self.member_names = sorted(set(peer_names) | {name})
        self.pre_vote = pre_vote
        self.mvcc = MVCCStore()
        self.raft = self.new_raft_node(RaftStorage())
        self.reset_volatile_state()
        self.arm_first_tick()

    def new_raft_node(self, storage: RaftStorage) -> RaftNode:
        # The node gets its own generator: two owners of one Random would not survive a snapshot.
        return RaftNode(self.name, self.member_names, random.Random(self.rng.getrandbits(64)), storage,
                        applied=self.mvcc.consistent_index, pre_vote=self.pre_vote)

    def reset_volatile_state(self) -> None:
        # request key ("<client>/<id>") -> {"client", "id", "op", "key", "started_ms", "request", "read_index"}
        self.pending: dict[str, dict] = {}
        self.waiting_proposals: list[dict] = []
        self.waiting_reads: list[str] = []
        # watch key ("<client>/<watch_id>") -> [client, watch_id]
        self.watch_clients: dict[str, list] = {}
        # watch key -> events to send at the end of this instant, so one watcher's events stay in order
        self.watch_buffer: dict[str, list] = {}
        self.known_leader: str | None = None
        self.leader_elected_ms = -1

    def arm_first_tick(self) -> None:
        # Members boot at different moments, so their tick clocks are out of phase.
        self.after(1 + self.rng.randrange(TICK_MS), "tick")

    # Lifecycle ----------------------------------------------------------------------------
    def on_stop(self) -> None:
        self.raft = self.new_raft_node(self.raft.storage)
        self.mvcc.cancel_all_watches()
        self.reset_volatile_state()

    def on_start(self) -> None:
        self.arm_first_tick()
        self.flush()

    # Raft plumbing ------------------------------------------------------------------------
    def on_tick(self, _payload) -> None:
        self.raft.tick()
        self.flush()
        self.after(TICK_MS, "tick")

    def on_raft(self, _sender: str, message: dict) -> None:
        raft = self.raft
        raft.step(message)
        # flush's own checks, inlined: most messages (a leader hearing heartbeat answers) leave
        # nothing to flush, and this runs for every Raft message.
        if (raft.outbox or raft.events or raft.lead != self.known_leader or raft.storage.commit > raft.applied
                or raft.read_states):
            self.flush()

    def flush(self) -> None:
        raft = self.raft
        if raft.lead != self.known_leader:
            self.leader_changed()
        if raft.events:
            self.emit_raft_events()
        if raft.outbox:
            self.send_raft_messages()
        if raft.storage.commit > raft.applied:
            self.apply_committed()
        if raft.read_states:
            self.take_read_states()

    def leader_changed(self) -> None:
        self.known_leader = self.raft.lead
        if self.known_leader is None:
            return
        self.leader_elected_ms = self.sim.now_ms
        waiting, self.waiting_proposals = self.waiting_proposals, []
        for data in waiting:
            self.propose(data)

    def emit_raft_events(self) -> None:
        events, self.raft.events = self.raft.events, []
        for kind, target, payload in events:
            self.sim.emit(kind, self.name, target, payload)

    def send_raft_messages(self) -> None:
        outbox, self.raft.outbox = self.raft.outbox, []
        name = self.name
        emit = self.sim.emit
        network = self.sim.network
        for message in outbox:
            message_type = message["type"]
            if message_type == "MsgHeartbeat":
                emit("etcd.heartbeat", name, message["to"], {"term": message["term"]})
            elif message_type == "MsgApp" and message["entries"]:
                emit("etcd.replicate", name, message["to"],
                     {"term": message["term"], "from_index": message["entries"][0]["index"],
                      "to_index": message["entries"][-1]["index"]})
            elif message_type == "MsgAppResp" and message["index"] and not message["reject"]:
                emit("etcd.ack", name, message["to"], {"term": message["term"], "match_index": message["index"]})
            network.send(self, message["to"], "raft", message)

    def propose(self, data: dict) -> None:
        # Like etcd's raft node, a member that knows no leader holds proposals until it does.
        if self.raft.lead is None or not self.raft.propose(data):
            self.waiting_proposals.append(data)

    # Applying -----------------------------------------------------------------------------
    def apply_committed(self) -> None:
        for entry in self.raft.committed_unapplied():
            self.raft.applied_to(entry["index"])
            self.apply_entry(entry)
        if self.waiting_reads:
            self.serve_ready_reads()

    def apply_entry(self, entry: dict) -> None:
        if entry["index"] != self.mvcc.consistent_index + 1:
            raise SimulationError(f"{self.name}: applying {entry['index']} after {self.mvcc.consistent_index}")
        self.mvcc.consistent_index = entry["index"]
        data = entry["data"]
        if data is None:
            return
        if data["op"] == "compact":
            response = self.apply_compact(data)
        else:
            response = self.apply_txn(data)
        self.emit("etcd.apply", self.name, {"index": entry["index"], "revision": self.mvcc.revision,
                                            "key": data.get("key"), "op": data["op"]})
        if data["member"] == self.name:
            self.respond(data["request"], response)

    def apply_txn(self, data: dict) -> dict:
        result = self.mvcc.txn(data["key"], data["expect_mod_revision"], data["value"])
        change = result["change"]
        if change is not None:
            for watch_key in self.mvcc.watchers_of(change):
                self.buffer_watch_events(watch_key, [change])
        return {"ok": True, "revision": result["revision"], "succeeded": result["succeeded"], "kv": result["kv"]}

    def apply_compact(self, data: dict) -> dict:
        try:
            self.mvcc.compact(data["revision"])
        except MVCCError as error:
            return {"ok": False, "error": str(error)}
        return {"ok": True, "revision": self.mvcc.revision}

    def respond(self, request_key: str, body: dict) -> None:
        pending = self.pending.pop(request_key, None)
        if pending is None:
            return
        body["id"] = pending["id"]
        self.send(pending["client"], "etcd_response", body)

    # Client protocol ----------------------------------------------------------------------
    def on_etcd_request(self, sender: str, body: dict) -> None:
        op = body["op"]
        if op == "txn":
            self.start_txn(sender, body)
        elif op == "range":
            self.start_range(sender, body)
        elif op == "watch":
            self.start_watch(sender, body)
        elif op == "cancel_watch":
            self.cancel_watch(sender, body)
        elif op == "compact":
            self.start_compact(sender, body)
        else:
            raise SimulationError(f"{self.name}: unknown etcd op {op!r} from {sender}")
        self.flush()

    def track(self, sender: str, body: dict, op: str) -> str:
        request_key = f"{sender}/{body['id']}"
        if request_key in self.pending:
            raise SimulationError(f"{self.name}: request id {body['id']} of {sender} reused while pending")
        self.pending[request_key] = {"client": sender, "id": body["id"], "op": op, "key": body.get("key"),
                                     "started_ms": self.sim.now_ms, "request": body, "read_index": None}
        self.after(REQUEST_TIMEOUT_MS, "request_timeout", request_key)
        return request_key

    def start_txn(self, sender: str, body: dict) -> None:
        op = "delete" if body.get("value") is None else "put"
        request_key = self.track(sender, body, op)
        self.propose({"op": op, "key": body["key"], "expect_mod_revision": body.get("expect_mod_revision"),
                      "value": body.get("value"), "member": self.name, "request": request_key})

    def start_compact(self, sender: str, body: dict) -> None:
        request_key = self.track(sender, body, "compact")
        self.propose({"op": "compact", "revision": body["revision"], "member": self.name,
                      "request": request_key})

    def start_range(self, sender: str, body: dict) -> None:
        if body.get("serializable"):
            self.send(sender, "etcd_response", self.range_response(body))
            return
        request_key = self.track(sender, body, "range")
        self.raft.read_index(request_key)
        self.after(READ_INDEX_RETRY_MS, "read_index_retry", request_key)

    def on_read_index_retry(self, request_key: str) -> None:
        pending = self.pending.get(request_key)
        if pending is None or pending["read_index"] is not None:
            return
        self.raft.read_index(request_key)
        self.after(READ_INDEX_RETRY_MS, "read_index_retry", request_key)
        self.flush()

    def take_read_states(self) -> None:
        read_states, self.raft.read_states = self.raft.read_states, []
        for read_state in read_states:
            pending = self.pending.get(read_state["context"])
            if pending is None or pending["read_index"] is not None:
                continue
            pending["read_index"] = read_state["index"]
            self.waiting_reads.append(read_state["context"])
        self.serve_ready_reads()

    def serve_ready_reads(self) -> None:
        still_waiting = []
        for request_key in self.waiting_reads:
            pending = self.pending.get(request_key)
            if pending is None:
                continue
            if pending["read_index"] > self.raft.applied:
                still_waiting.append(request_key)
                continue
            self.respond(request_key, self.range_response(pending["request"]))
        self.waiting_reads = still_waiting

    def range_response(self, body: dict) -> dict:
        try:
            result = self.mvcc.range(key=body.get("key"), prefix=None if "key" in body else body.get("prefix", ""),
                                     revision=body.get("revision") or 0, limit=body.get("limit") or 0)
        except MVCCError as error:
            return {"id": body["id"], "ok": False, "error": str(error)}
        return {"id": body["id"], "ok": True, "revision": result["revision"], "kvs": result["kvs"],
                "more": result["more"]}

    def on_request_timeout(self, request_key: str) -> None:
        pending = self.pending.get(request_key)
        if pending is None:
            return
        self.emit("etcd.request.timeout", pending["client"],
                  {"id": pending["id"], "op": pending["op"], "key": pending["key"]})
        # A proposal still held for want of a leader is dropped with its request, as etcd's
        # client context is cancelled: it must never be applied after the client was told it failed.
        self.waiting_proposals = [data for data in self.waiting_proposals if data.get("request") != request_key]
        self.respond(request_key, {"ok": False, "error": self.timeout_error(pending["started_ms"])})

    def timeout_error(self, started_ms: int) -> str:
        # etcd blames a leader change when the request began shortly before the current leader won.
        elected_ms = self.leader_elected_ms
        if elected_ms >= 0 and elected_ms - 2 * ELECTION_TIMEOUT_MS < started_ms < elected_ms:
            return ERROR_TIMEOUT_LEADER_FAIL
        return ERROR_TIMEOUT

    # Watch --------------------------------------------------------------------------------
    def start_watch(self, sender: str, body: dict) -> None:
        watch_id = body["watch_id"]
        watch_key = f"{sender}/{watch_id}"
        if watch_key in self.watch_clients:
            self.drop_watch(watch_key)
        try:
            history = self.mvcc.watch(watch_key, body.get("key"), None if "key" in body else body.get("prefix", ""),
                                      body.get("start_revision") or 0)
        except MVCCError:
            self.send(sender, "etcd_watch", {"watch_id": watch_id, "canceled": True,
                                             "compact_revision": self.mvcc.compact_revision})
            return
        self.watch_clients[watch_key] = [sender, watch_id]
        if history:
            self.buffer_watch_events(watch_key, history)

    def cancel_watch(self, sender: str, body: dict) -> None:
        self.drop_watch(f"{sender}/{body['watch_id']}")
        self.send(sender, "etcd_response", {"id": body["id"], "ok": True})

    def drop_watch(self, watch_key: str) -> None:
        self.mvcc.cancel_watch(watch_key)
        self.watch_clients.pop(watch_key, None)
        self.watch_buffer.pop(watch_key, None)

    def buffer_watch_events(self, watch_key: str, events: list) -> None:
        if not self.watch_buffer:
            # Timers run after every message of this instant: one notification per watcher.
            self.after(0, "flush_watches")
        self.watch_buffer.setdefault(watch_key, []).extend(events)

    def on_flush_watches(self, _payload) -> None:
        buffer, self.watch_buffer = self.watch_buffer, {}
        for watch_key, events in buffer.items():
            client = self.watch_clients.get(watch_key)
            if client is None:
                continue
            self.send(client[0], "etcd_watch", {"watch_id": client[1], "events": events,
                                                "revision": self.mvcc.revision})

    # Introspection for the UI and tests ---------------------------------------------------
    def is_leader(self) -> bool:
        return self.running and self.raft.state == "leader"

    # Read-only views for exports (the CLI's --dump, the web app's state pages) ---------------
    def applied_revision(self) -> int:
        return self.mvcc.revision

    def all_objects(self) -> list[dict]:
        """Every object under /registry with its resourceVersion, as an etcdctl get --prefix would show."""
        objects = []
        for kv in self.mvcc.range(prefix="/registry/")["kvs"]:
            value = dict(kv["value"])
            value["metadata"] = dict(value.get("metadata") or {}, resourceVersion=str(kv["mod_revision"]))
            objects.append(value)
        return objects
