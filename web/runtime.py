"""Live clusters inside the server process: each wraps a cluster_sim Cluster with a clock.

The virtual clock follows the wall clock times a speed (1x..100x) from an anchor, and the
simulation is advanced lazily to "now" whenever someone looks (an API request, a page, the ticker
that feeds websockets). Everything that enters a simulation goes in as a recorded action, so
rewinding, replaying after a restart and branching all reproduce it exactly.
"""
from __future__ import annotations

import collections
import itertools
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from cluster_sim.cluster import Cluster
from cluster_sim.engine import Event
from cluster_sim.scenario import Scenario

MAX_SPEED = 100.0
MIN_SPEED = 0.1
# One call never simulates more than this much at once (bounded CPU per request).
MAX_ADVANCE_PER_CALL_MS = 15 * 60_000
# How far the simulation may run to answer one API request (etcd's timeout is 7 s).
API_ANSWER_HORIZON_MS = 60_000
API_ANSWER_STEP_MS = 5
RECENT_EVENTS_KEPT = 4_000
ADVANCE_SLICE_MS = 1_000


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


class LiveCluster:
    """One learner's cluster: the simulation, its clock, its recent events, its secret."""

    def __init__(self, *, cluster_id: str, cluster: Cluster, owner_session: str, scenario_name: str,
                 secret: str | None = None):
        self.id = cluster_id
        self.cluster = cluster
        self.owner_session = owner_session
        self.scenario_name = scenario_name
        self.secret = secret or secrets.token_urlsafe(24)
        self.clock = ClockState()
        self.recent_events: collections.deque = collections.deque(maxlen=RECENT_EVENTS_KEPT)
        self.lock = threading.RLock()
        self.listeners: list[Callable[[list[Event]], None]] = []
        self._tickets = itertools.count(1)

    # Clock ----------------------------------------------------------------------------------
    @property
    def now_ms(self) -> int:
        return self.cluster.now_ms

    def advance(self, now_wall_s: float | None = None, *, budget_s: float | None = None) -> list[Event]:
        """Run the simulation up to the clock's present, bounded per call; with ``budget_s``, in
        one-second slices that stop once that much wall time is spent. When the clock outruns what
        may be simulated, the clock waits for the simulation (the speed shown is then not reached)."""
        with self.lock:
            started_s = wall_seconds()
            now_wall_s = started_s if now_wall_s is None else now_wall_s
            target = self.clock.target_ms(now_wall_s)
            if target <= self.cluster.now_ms:
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

    def pause(self) -> None:
        with self.lock:
            self.advance()
            self.clock.paused = True
            self.clock.reanchor(self.cluster.now_ms, wall_seconds())

    def resume(self) -> None:
        with self.lock:
            self.clock.paused = False
            self.clock.reanchor(self.cluster.now_ms, wall_seconds())

    def advance_by(self, duration_ms: int) -> list[Event]:
        with self.lock:
            self.advance()
            events = self.cluster.run_for(min(duration_ms, MAX_ADVANCE_PER_CALL_MS))
            self.clock.reanchor(self.cluster.now_ms, wall_seconds())
            return self.publish(events)

    def rewind(self, time_ms: int) -> list[Event]:
        with self.lock:
            events = self.cluster.rewind(time_ms)
            self.clock.reanchor(self.cluster.now_ms, wall_seconds())
            self.recent_events.clear()
            return self.publish(events)

    # Inputs ---------------------------------------------------------------------------------
    def apply_action(self, action: dict) -> list[Event]:
        with self.lock:
            self.advance()
            self.cluster.apply_action(action)
            # The action runs at this very instant of virtual time.
            return self.publish(self.cluster.run_until(self.cluster.now_ms))

    def api_request(self, request: dict) -> tuple[int, Any, list[Event]]:
        """Send one request through the simulated kubectl to kube-apiserver and wait for its answer.

        The simulation runs ahead of the clock as far as the answer needs (a few ms normally, 7 s
        when etcd has no quorum); the clock then jumps to the answer's time.
        """
        with self.lock:
            code, body, events, _ticket = self._request_and_wait(request, "t")
            return code, body, events

    def start_watch(self, request: dict) -> tuple[int, Any, str]:
        """Open a watch in the simulated apiserver: (code, body, ticket). Read it with poll_watch."""
        with self.lock:
            code, body, _events, ticket = self._request_and_wait(dict(request, verb="watch"), "w")
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
    """The live clusters of this process."""

    def __init__(self):
        self.clusters: dict[str, LiveCluster] = {}
        self.lock = threading.RLock()
        # Called with the cluster id when a cluster goes, so per-cluster caches elsewhere can follow.
        self.deletion_hooks: list[Callable[[str], None]] = []

    def create(self, *, scenario: Scenario, owner_session: str, seed: int | None = None,
               paused: bool = False) -> LiveCluster:
        """A new cluster at virtual time 0; ``paused`` keeps its clock there until resumed."""
        cluster = Cluster.from_scenario(scenario, seed)
        cluster_id = secrets.token_hex(8)
        live = LiveCluster(cluster_id=cluster_id, cluster=cluster, owner_session=owner_session,
                           scenario_name=scenario.name)
        live.clock.paused = paused
        with self.lock:
            self.clusters[cluster_id] = live
        return live

    def get(self, cluster_id: str) -> LiveCluster | None:
        return self.clusters.get(cluster_id)

    def by_secret(self, secret: str) -> LiveCluster | None:
        with self.lock:
            candidates = list(self.clusters.values())
        for live in candidates:
            if secrets.compare_digest(live.secret, secret):
                return live
        return None

    def delete(self, cluster_id: str) -> bool:
        with self.lock:
            existed = self.clusters.pop(cluster_id, None) is not None
        if existed:
            for hook in list(self.deletion_hooks):
                hook(cluster_id)
        return existed

    def owned_by(self, session_key: str) -> list[LiveCluster]:
        with self.lock:
            return [live for live in self.clusters.values() if live.owner_session == session_key]


registry = ClusterRegistry()
