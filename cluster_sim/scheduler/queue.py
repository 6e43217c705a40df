"""kube-scheduler's SchedulingQueue as plain data: activeQ (PrioritySort order), backoffQ and
unschedulablePods.  It has no timers: the component calls `flush_backoff_completed` every second
and `flush_unschedulable_leftover` every 30 s, passing the virtual time."""
from __future__ import annotations

import heapq

from . import helpers

INITIAL_BACKOFF_MS = 1_000
MAX_BACKOFF_MS = 10_000
MAX_IN_UNSCHEDULABLE_PODS_MS = 5 * 60 * 1000   # podMaxInUnschedulablePodsDuration
BACKOFF_FLUSH_INTERVAL_MS = 1_000
UNSCHEDULABLE_FLUSH_INTERVAL_MS = 30_000
ACTIVE, BACKOFF, UNSCHEDULABLE, GATED, IN_FLIGHT = "active", "backoff", "unschedulable", "gated", "in-flight"


def backoff_duration_ms(attempts: int) -> int:
    """1 s after the first failed attempt, doubling per attempt, at most 10 s."""
    if attempts <= 0:
        return 0
    duration = INITIAL_BACKOFF_MS
    for _ in range(attempts - 1):
        if duration >= MAX_BACKOFF_MS - duration:
            return MAX_BACKOFF_MS
        duration += duration
    return duration


class SchedulingQueue:
    def __init__(self, pop_from_backoff_q: bool = True):
        # SchedulerPopFromBackoffQ (beta, on in v1.33): an idle scheduler takes the next pod from
        # backoffQ instead of waiting for its backoff to end.
        self.pop_from_backoff_q = pop_from_backoff_q
        self.entries: dict = {}          # pod key -> entry dict
        self.active_heap: list = []      # [-priority, timestamp_ms, seq, key]
        self.seq = 0
        self.scheduling_cycle = 0
        self.move_request_cycle = -1

    # Entries -----------------------------------------------------------------------------
    def _entry(self, pod: dict, now_ms: int) -> dict:
        return {"pod": pod, "timestamp_ms": now_ms, "initial_attempt_ms": None, "attempts": 0,
                "queue": "", "seq": 0, "cycle": 0, "unschedulable_plugins": []}

    def _to_active(self, key: str) -> None:
        entry = self.entries[key]
        self.seq += 1
        entry["queue"] = ACTIVE
        entry["seq"] = self.seq
        heapq.heappush(self.active_heap, [-helpers.pod_priority(entry["pod"]), entry["timestamp_ms"], self.seq, key])

    def _requeue(self, key: str, now_ms: int) -> None:
        """Back to activeQ, or to backoffQ while the pod's backoff lasts."""
        if self.backoff_expiry_ms(key) > now_ms:
            self.entries[key]["queue"] = BACKOFF
        else:
            self._to_active(key)

    def backoff_expiry_ms(self, key: str) -> int:
        entry = self.entries[key]
        return entry["timestamp_ms"] + backoff_duration_ms(entry["attempts"])

    # Events from informers ---------------------------------------------------------------
    def add(self, pod: dict, now_ms: int) -> None:
        key = helpers.pod_key(pod)
        if key in self.entries:
            self.update(pod, now_ms)
            return
        self.entries[key] = self._entry(pod, now_ms)
        if pod["spec"].get("schedulingGates"):
            self.entries[key]["queue"] = GATED
        else:
            self._to_active(key)

    def update(self, pod: dict, now_ms: int) -> None:
        key = helpers.pod_key(pod)
        entry = self.entries.get(key)
        if entry is None:
            self.add(pod, now_ms)
            return
        entry["pod"] = pod
        if entry["queue"] == GATED and not pod["spec"].get("schedulingGates"):
            entry["timestamp_ms"] = now_ms
            self._to_active(key)
        elif entry["queue"] == UNSCHEDULABLE:
            self._requeue(key, now_ms)
        elif entry["queue"] == ACTIVE:
            self._to_active(key)

    def delete(self, pod: dict) -> None:
        self.entries.pop(helpers.pod_key(pod), None)

    def move_all_to_active_or_backoff(self, now_ms: int) -> int:
        """A cluster event (node added, pod deleted, ...) may make unschedulable pods fit."""
        moved = 0
        for key, entry in self.entries.items():
            if entry["queue"] == UNSCHEDULABLE:
                self._requeue(key, now_ms)
                moved += 1
        self.move_request_cycle = self.scheduling_cycle
        return moved

    # Scheduling --------------------------------------------------------------------------
    def pop(self, now_ms: int) -> dict | None:
        """The next pod to schedule, or None.  The pod stays in-flight until `done` or
        `add_unschedulable`."""
        self.flush_backoff_completed(now_ms)
        key = self._pop_active()
        if key is None and self.pop_from_backoff_q:
            key = self._earliest_backoff()
        if key is None:
            return None
        entry = self.entries[key]
        self.scheduling_cycle += 1
        entry["attempts"] += 1
        entry["cycle"] = self.scheduling_cycle
        if entry["initial_attempt_ms"] is None:
            entry["initial_attempt_ms"] = now_ms
        entry["queue"] = IN_FLIGHT
        return entry["pod"]

    def _pop_active(self) -> str | None:
        heap = self.active_heap
        for _ in range(len(heap)):
            _priority, _timestamp, seq, key = heapq.heappop(heap)
            entry = self.entries.get(key)
            if entry is not None and entry["queue"] == ACTIVE and entry["seq"] == seq:
                return key
        return None

    def _earliest_backoff(self) -> str | None:
        waiting = [[self.backoff_expiry_ms(key), -helpers.pod_priority(entry["pod"]), key]
                   for key, entry in self.entries.items() if entry["queue"] == BACKOFF]
        return min(waiting)[2] if waiting else None

    def done(self, pod: dict) -> None:
        """The pod was scheduled (assumed): it leaves the queue."""
        self.entries.pop(helpers.pod_key(pod), None)

    def add_unschedulable(self, pod: dict, now_ms: int, unschedulable_plugins: list | None = None,
                          error: bool = False) -> str:
        """A failed attempt: to backoffQ after an error or when a cluster event arrived during the
        attempt, else to unschedulablePods.  Returns the queue it went to."""
        key = helpers.pod_key(pod)
        entry = self.entries.get(key)
        if entry is None:
            entry = self.entries[key] = self._entry(pod, now_ms)
            entry["attempts"] = 1
        entry["pod"] = pod
        entry["timestamp_ms"] = now_ms
        entry["unschedulable_plugins"] = list(unschedulable_plugins or [])
        if error or self.move_request_cycle >= entry["cycle"]:
            entry["queue"] = BACKOFF
        else:
            entry["queue"] = UNSCHEDULABLE
        return entry["queue"]

    # Periodic flushes --------------------------------------------------------------------
    def flush_backoff_completed(self, now_ms: int) -> int:
        ready = [key for key, entry in self.entries.items()
                 if entry["queue"] == BACKOFF and self.backoff_expiry_ms(key) <= now_ms]
        ready.sort(key=lambda key: [self.backoff_expiry_ms(key), -helpers.pod_priority(self.entries[key]["pod"])])
        for key in ready:
            self._to_active(key)
        return len(ready)

    def flush_unschedulable_leftover(self, now_ms: int) -> int:
        stale = [key for key, entry in self.entries.items()
                 if entry["queue"] == UNSCHEDULABLE and now_ms - entry["timestamp_ms"] >= MAX_IN_UNSCHEDULABLE_PODS_MS]
        for key in stale:
            self._requeue(key, now_ms)
        return len(stale)

    # Introspection -----------------------------------------------------------------------
    def queue_of(self, pod: dict) -> str | None:
        entry = self.entries.get(helpers.pod_key(pod))
        return entry["queue"] if entry else None

    def pending_pods(self) -> dict:
        """queue name -> pod keys, for display (kube-scheduler's /debug/pending_pods)."""
        listing = {ACTIVE: [], BACKOFF: [], UNSCHEDULABLE: [], GATED: [], IN_FLIGHT: []}
        for key, entry in self.entries.items():
            listing[entry["queue"]].append(key)
        return listing

    def __len__(self) -> int:
        return len(self.entries)
