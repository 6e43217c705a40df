"""Live clusters inside the server process: each wraps a cluster_sim Cluster with a clock.

The virtual clock follows the wall clock times a speed (1x..100x) from an anchor, and the
simulation is advanced lazily to "now" whenever someone looks (an API request, a page, the ticker
that feeds websockets). Everything that enters a simulation goes in as a recorded action, so
rewinding, replaying after a restart and branching all reproduce it exactly.
"""
from __future__ import annotations

import collections
import itertools
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from cluster_sim.cluster import DEFAULT_CLUSTER_MAX_PODS, Cluster
from cluster_sim.engine import Event, SimulationError
from cluster_sim.scenario import Scenario
from web.heap import Heap

MAX_SPEED = 100.0
MIN_SPEED = 0.1
# One call never simulates more than this much at once (bounded CPU per request).
MAX_ADVANCE_PER_CALL_MS = 15 * 60_000
# How far the simulation may run to answer one API request (etcd's timeout is 7 s).
API_ANSWER_HORIZON_MS = 60_000
API_ANSWER_STEP_MS = 5
RECENT_EVENTS_KEPT = 4_000
CLUSTER_ID_BYTES = 8
SECRET_BYTES = 24
# What ids and secrets look like (token_hex(8), token_urlsafe(24)): anything else is not looked up
# in the store at all.
CLUSTER_ID_SHAPE = re.compile(r"[0-9a-f]{16}")
SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{32}")
ADVANCE_SLICE_MS = 1_000
# Before an action, the simulation catches up with the clock for at most this long; past it the
# clock waits (as in advance): an overloaded process keeps answering learners, its clocks slow.
ACTION_CATCH_UP_BUDGET_S = 0.05


class ClusterElsewhere(Exception):
    """Another live server process holds this cluster and did not let go of it (web/ownership.py):
    the caller answers 503 and the client tries again."""

    def __init__(self, cluster_id: str):
        super().__init__(f"cluster {cluster_id} is busy in another server process; try again in a moment")
        self.cluster_id = cluster_id


def cluster_max_pods() -> int:
    """The pods one cluster may hold (settings.CLUSTER_MAX_PODS); its apiservers enforce it."""
    from django.conf import settings

    return int(getattr(settings, "CLUSTER_MAX_PODS", DEFAULT_CLUSTER_MAX_PODS))


def wall_seconds() -> float:
    return time.monotonic()


@dataclass
class ClockState:
    speed: float = 1.0
    paused: bool = False
    anchor_wall_s: float = field(default_factory=wall_seconds)
    anchor_virtual_ms: int = 0

    def target_ms(self, now_wall_s: float) -> int:
        if self.paused:
            return self.anchor_virtual_ms
        return self.anchor_virtual_ms + int((now_wall_s - self.anchor_wall_s) * 1000 * self.speed)

    def reanchor(self, virtual_ms: int, now_wall_s: float) -> None:
        self.anchor_virtual_ms = virtual_ms
        self.anchor_wall_s = now_wall_s


class JournaledCluster(Cluster):
    """A Cluster that hands every recorded action to ``journal(ordinal, entry)`` *before* scheduling
    it (write-ahead): if the journal cannot store it, the action never happens. ``entry`` is the
    action as ``recorded_actions`` will hold it (with ``at_ms`` and ``heap_seq``)."""

    journal: Callable[[int, dict], None] | None = None

    def schedule_action(self, action: dict, *, record: bool = True) -> None:
        if not record or self.journal is None:
            super().schedule_action(action, record=record)
            return
        at_ms = max(int(action.get("at_ms", self.sim.now_ms)), self.sim.now_ms)
        entry = {key: value for key, value in action.items() if key != "at_ms"}
        expected = dict(entry, at_ms=at_ms, heap_seq=self.sim.heap_seq + 1)
        self.journal(len(self.recorded_actions), expected)
        super().schedule_action(action, record=record)
        if self.recorded_actions[-1] != expected:
            raise SimulationError(f"journaled {expected!r} but recorded {self.recorded_actions[-1]!r}")


class LiveCluster:
    """One learner's cluster: the simulation, its clock, its recent events, its secret.

    ``store`` (set by the registry for durable clusters) is told about every change that must
    survive a restart: see web/persistence.py.
    """

    def __init__(self, *, cluster_id: str, cluster: Cluster, owner_session: str, scenario_name: str,
                 secret: str | None = None):
        self.id = cluster_id
        self.cluster = cluster
        self.owner_session = owner_session
        self.scenario_name = scenario_name
        self.secret = secret or secrets.token_urlsafe(SECRET_BYTES)
        self.clock = ClockState()
        self.recent_events: collections.deque = collections.deque(maxlen=RECENT_EVENTS_KEPT)
        self.lock = threading.RLock()
        self.listeners: list[Callable[[list[Event]], None]] = []
        self._tickets = itertools.count(1)
        self.store: Any = None
        # Wall time of the last use; idle durable clusters are evicted from memory.
        self.last_used_s = wall_seconds()
        self.evicted = False
        # Rewinds since this copy was loaded: the live view's clock starts a new timeline on each.
        self.rewinds = 0

    def attach_store(self, store: Any) -> None:
        """Journal this cluster's actions and clock in ``store`` from now on."""
        self.store = store
        if isinstance(self.cluster, JournaledCluster):
            self.cluster.journal = lambda ordinal, entry: store.append_action(self, ordinal, entry)

    def continue_tickets_after(self, number: int) -> None:
        self._tickets = itertools.count(number + 1)

    def _persist_clock(self) -> None:
        if self.store is not None and not self.evicted:
            self.store.clock_changed(self)

    # Clock ----------------------------------------------------------------------------------
    @property
    def now_ms(self) -> int:
        return self.cluster.now_ms

    def advance(self, now_wall_s: float | None = None, *, budget_s: float | None = None) -> list[Event]:
        """Run the simulation up to the clock's present, bounded per call; with ``budget_s``, in
        one-second slices that stop once that much wall time is spent. When the clock outruns what
        may be simulated, the clock waits for the simulation (the speed shown is then not reached)."""
        with self.lock:
            if self.evicted:  # a copy dropped from this process (evicted, or now held elsewhere)
                return []
            started_s = wall_seconds()
            self.last_used_s = started_s
            now_wall_s = started_s if now_wall_s is None else now_wall_s
            target = self.clock.target_ms(now_wall_s)
            if target <= self.cluster.now_ms:
                if self.store is not None:
                    self.store.advanced(self)
                return []
            capped = min(target, self.cluster.now_ms + MAX_ADVANCE_PER_CALL_MS)
            events: list[Event] = []
            for _slice in range((capped - self.cluster.now_ms) // ADVANCE_SLICE_MS + 1):
                if self.cluster.now_ms >= capped:
                    break
                step_to = capped if budget_s is None else min(capped, self.cluster.now_ms + ADVANCE_SLICE_MS)
                events.extend(self.cluster.run_until(step_to))
                if budget_s is not None and wall_seconds() - started_s > budget_s:
                    break
            if self.cluster.now_ms < target:
                self.clock.reanchor(self.cluster.now_ms, wall_seconds())
            if self.store is not None:
                self.store.advanced(self)
            return self.publish(events)

    def publish(self, events: list[Event]) -> list[Event]:
        if events:
            self.recent_events.extend(events)
            for listener in list(self.listeners):
                listener(events)
        return events

    def set_speed(self, speed: float) -> None:
        with self.lock:
            self.advance()
            self.clock.reanchor(self.cluster.now_ms, wall_seconds())
            self.clock.speed = min(MAX_SPEED, max(MIN_SPEED, float(speed)))
            self._persist_clock()

    def pause(self) -> None:
        with self.lock:
            self.advance()
            self.clock.paused = True
            self.clock.reanchor(self.cluster.now_ms, wall_seconds())
            self._persist_clock()

    def resume(self) -> None:
        with self.lock:
            self.clock.paused = False
            self.clock.reanchor(self.cluster.now_ms, wall_seconds())
            self._persist_clock()

    def advance_by(self, duration_ms: int) -> list[Event]:
        with self.lock:
            self.advance()
            events = self.cluster.run_for(min(duration_ms, MAX_ADVANCE_PER_CALL_MS))
            self.clock.reanchor(self.cluster.now_ms, wall_seconds())
            self._persist_clock()
            return self.publish(events)

    def rewind(self, time_ms: int) -> list[Event]:
        with self.lock:
            events = self.cluster.rewind(time_ms)
            self.rewinds += 1
            self.clock.reanchor(self.cluster.now_ms, wall_seconds())
            self.recent_events.clear()
            if self.store is not None:
                self.store.rewound(self)
            return self.publish(events)

    # Inputs ---------------------------------------------------------------------------------
    def apply_action(self, action: dict) -> list[Event]:
        with self.lock:
            self.advance(budget_s=ACTION_CATCH_UP_BUDGET_S)
            self.cluster.apply_action(action)
            # The action runs at this very instant of virtual time. Its journal row (written when
            # it was scheduled) is enough to find the clock again: a restore runs on to the last
            # action's time, so the clock is not written here too (one transaction per action).
            return self.publish(self.cluster.run_until(self.cluster.now_ms))

    def api_request(self, request: dict) -> tuple[int, Any, list[Event]]:
        """Send one request through the simulated kubectl to kube-apiserver and wait for its answer.

        The simulation runs ahead of the clock as far as the answer needs (a few ms normally, 7 s
        when etcd has no quorum); the clock then jumps to the answer's time.
        """
        with self.lock:
            code, body, events, _ticket = self._request_and_wait(request, "t")
            self._persist_clock()
            return code, body, events

    def start_watch(self, request: dict) -> tuple[int, Any, str]:
        """Open a watch in the simulated apiserver: (code, body, ticket). Read it with poll_watch."""
        with self.lock:
            code, body, _events, ticket = self._request_and_wait(dict(request, verb="watch"), "w")
            self._persist_clock()
            return code, body, ticket

    def _request_and_wait(self, request: dict, ticket_prefix: str) -> tuple[int, Any, list[Event], str]:
        self.advance()
        ticket = f"{ticket_prefix}{next(self._tickets)}"
        self.cluster.submit_api_request(ticket, request)
        deadline = self.cluster.now_ms + API_ANSWER_HORIZON_MS
        events: list[Event] = []
        result = None
        for _step in range(API_ANSWER_HORIZON_MS // API_ANSWER_STEP_MS + 1):
            events.extend(self.cluster.run_until(min(self.cluster.now_ms + API_ANSWER_STEP_MS, deadline)))
            result = self.cluster.take_api_result(ticket)
            if result is not None or self.cluster.now_ms >= deadline:
                break
        if self.clock.target_ms(wall_seconds()) < self.cluster.now_ms:
            self.clock.reanchor(self.cluster.now_ms, wall_seconds())
        self.publish(events)
        if result is None:
            return 504, None, events, ticket
        return result["code"], result["body"], events, ticket

    def poll_watch(self, ticket: str) -> list[dict]:
        """Advance to now and return the watch's new notifications ({"type", "object"}; "END" closes)."""
        with self.lock:
            self.advance()
            return self.cluster.take_watch_events(ticket)

    def stop_watch(self, ticket: str) -> None:
        with self.lock:
            self.advance()
            self.cluster.stop_watch(ticket)
            self.publish(self.cluster.run_until(self.cluster.now_ms))


class ClusterRegistry:
    """The live clusters of this process, and (through ``store``) the durable ones that are not.

    With a store (web/persistence.py), clusters created ``durable`` are recorded in the database;
    a durable cluster that is not in memory (after a restart, or evicted while idle) is restored
    from there by ``get`` and ``by_secret``.
    """

    def __init__(self):
        self.clusters: dict[str, LiveCluster] = {}
        self.lock = threading.RLock()
        # Restores are serialised, so two requests never build the same cluster twice.
        self.restore_lock = threading.Lock()
        # Called with the cluster id when a cluster goes, so per-cluster caches elsewhere can follow.
        self.deletion_hooks: list[Callable[[str], None]] = []
        self.store: Any = None
        # With several server processes (web/ownership.py): who may hold which cluster.
        self.ownership: Any = None
        self.heap = Heap(clusters_in_memory=lambda: len(self.clusters))

    def create(self, *, scenario: Scenario, owner_session: str, seed: int | None = None,
               paused: bool = False, durable: bool = False) -> LiveCluster:
        """A new cluster at virtual time 0; ``paused`` keeps its clock there until resumed.
        ``durable`` records it in the store first (its journal then starts with it)."""
        cluster = JournaledCluster.from_scenario(scenario, seed, max_pods=cluster_max_pods())
        cluster_id = secrets.token_hex(CLUSTER_ID_BYTES)
        live = LiveCluster(cluster_id=cluster_id, cluster=cluster, owner_session=owner_session,
                           scenario_name=scenario.name)
        live.clock.paused = paused
        if durable:
            if self.store is None:
                raise RuntimeError("durable clusters need a store (web.persistence.install)")
            self.store.record_new(live, scenario=scenario, seed=seed)
            if self.ownership is not None:
                self.ownership.acquire(cluster_id)
            live.attach_store(self.store)
        with self.lock:
            self.clusters[cluster_id] = live
        self.heap.start()
        return live

    def get(self, cluster_id: str, *, claim: bool = True) -> LiveCluster | None:
        """The cluster, from memory or restored from the store. With ``claim=False`` a cluster that
        another live process holds is not moved here (None)."""
        live = self.clusters.get(cluster_id)
        if live is None and self.store is not None and isinstance(cluster_id, str) \
                and CLUSTER_ID_SHAPE.fullmatch(cluster_id):
            live = self._restore(cluster_id=cluster_id, claim=claim)
        if live is not None:
            live.last_used_s = wall_seconds()
        return live

    def by_secret(self, secret: str) -> LiveCluster | None:
        with self.lock:
            candidates = list(self.clusters.values())
        for live in candidates:
            if secrets.compare_digest(live.secret, secret):
                live.last_used_s = wall_seconds()
                return live
        if self.store is not None and isinstance(secret, str) and SECRET_SHAPE.fullmatch(secret):
            cluster_id = self.store.id_for_secret(secret)
            return self._restore(cluster_id=cluster_id) if cluster_id else None
        return None

    def _restore(self, *, cluster_id: str, claim: bool = True) -> LiveCluster | None:
        with self.restore_lock:
            live = self.clusters.get(cluster_id)  # restored meanwhile by another request
            if live is not None:
                return live
            if self.ownership is not None:
                if claim:
                    self.ownership.claim(cluster_id)
                elif self.ownership.acquire(cluster_id) is not None:  # held elsewhere: leave it there
                    return None
            live = self.store.load(cluster_id=cluster_id)
            if live is None:
                return None
            live.attach_store(self.store)
            with self.lock:
                self.clusters[live.id] = live
            self.heap.start()
            self.store.restored(live)
            return live

    def held_elsewhere(self, cluster_id: str) -> bool:
        """Whether another live server process holds the cluster (web/ownership.py)."""
        if self.ownership is None or cluster_id in self.clusters:
            return False
        return self.ownership.elsewhere(cluster_id) is not None

    def delete(self, cluster_id: str) -> bool:
        with self.lock:
            live = self.clusters.pop(cluster_id, None)
        existed = live is not None
        if live is not None:
            self.heap.released()
        # A cluster in memory without a store was never durable; one not in memory may be evicted.
        store = live.store if live is not None else self.store
        if store is not None and isinstance(cluster_id, str) and CLUSTER_ID_SHAPE.fullmatch(cluster_id):
            existed = store.delete(cluster_id) or existed
        if existed:
            self._run_deletion_hooks(cluster_id)
        return existed

    def _run_deletion_hooks(self, cluster_id: str) -> None:
        for hook in list(self.deletion_hooks):
            hook(cluster_id)

    def owned_by(self, session_key: str) -> list[LiveCluster]:
        """The session's clusters; durable ones that are out of memory are restored."""
        with self.lock:
            in_memory = [live for live in self.clusters.values() if live.owner_session == session_key]
        if self.store is None:
            return in_memory
        known = {live.id for live in in_memory}
        restored = [self.get(cluster_id) for cluster_id in self.store.ids_owned_by(session_key)
                    if cluster_id not in known]
        return in_memory + [live for live in restored if live is not None and live.owner_session == session_key]

    def count_owned_by(self, session_key: str) -> int:
        """How many clusters the session has, without restoring any."""
        with self.lock:
            ids = {live.id for live in self.clusters.values() if live.owner_session == session_key}
        if self.store is not None:
            ids.update(self.store.ids_owned_by(session_key))
        return len(ids)

    def forget(self, cluster_id: str) -> None:
        """Drop a cluster from memory only (its durable copy, if any, stays)."""
        with self.lock:
            live = self.clusters.pop(cluster_id, None)
        if live is not None:
            live.evicted = True
            self.heap.released()
            self._run_deletion_hooks(cluster_id)

    def evict_idle(self, *, idle_s: float, now_s: float | None = None) -> list[str]:
        """Snapshot and drop the durable clusters unused for ``idle_s``: they cost no memory and no
        CPU until someone uses them again (their clock does not run meanwhile)."""
        now_s = wall_seconds() if now_s is None else now_s
        with self.lock:
            idle = [live for live in self.clusters.values()
                    if live.store is not None and now_s - live.last_used_s >= idle_s]
        evicted = []
        for live in idle:
            with live.lock:
                if now_s - live.last_used_s < idle_s:  # used meanwhile
                    continue
                live.store.save_for_eviction(live)
                self.forget(live.id)
                if self.ownership is not None:
                    self.ownership.release(live.id)
            evicted.append(live.id)
        return evicted


registry = ClusterRegistry()
