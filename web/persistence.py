"""Durable clusters: a write-ahead journal of actions and periodic snapshots in the database.

Every input to a simulation is a recorded action (cluster_sim's ``Cluster.schedule_action``), so a
cluster is fully described by its scenario, its seed and the actions recorded since. This module
keeps exactly that in the database (web/models.py) and rebuilds clusters from it:

- ``record_new``: the cluster's recipe (scenario document, seed, secret, owner, clock).
- ``append_action``: each recorded action, written before it is scheduled (write-ahead), so an
  acknowledged request is never lost.
- ``clock_changed`` / ``advanced``: where the clock stands (checkpoints); a compressed snapshot of
  the whole simulation every few virtual minutes, so a restore replays little.
- ``rewound``: a rewind branches history: later actions and snapshots are deleted.
- ``save_for_eviction``: a final snapshot before an idle cluster leaves memory.
- ``load``: snapshot + replay of later actions + run to the checkpoint = the cluster as it was.

docs/persistence.md describes the algorithm, the policies and the settings.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime
import functools
import json
import logging
import re
import threading
import zlib
from typing import Any, Callable

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from cluster_sim.cluster import (CHECKPOINT_JSON_DEPTH, SNAPSHOT_COMPRESSION_LEVEL, SNAPSHOT_INTERVAL_MS,
                                 compact_json_in_parts)
from cluster_sim.engine import PRIORITY_ACTION, Simulation
from cluster_sim.scenario import Scenario
from web.periodic import start_periodic
from web.runtime import JournaledCluster, LiveCluster, ClusterRegistry, cluster_max_pods, wall_seconds

logger = logging.getLogger(__name__)

# A snapshot is persisted at most every 5 virtual minutes and every 30 wall seconds (at 100x
# speed 5 virtual minutes pass in 3 s); the journal, not the snapshot, makes actions durable.
SNAPSHOT_EVERY_VIRTUAL_MS = 5 * 60_000
SNAPSHOT_EVERY_WALL_S = 30.0
# The clock's position is written at most every virtual minute and every 5 wall seconds while it
# runs, and at once on every action and clock change.
CHECKPOINT_EVERY_VIRTUAL_MS = 60_000
CHECKPOINT_EVERY_WALL_S = 5.0
# Older snapshots are thinned out beyond this many (they are what a rewind after a restore uses).
MAX_PERSISTED_SNAPSHOTS = 12
MAX_SNAPSHOTS_PER_WRITE = 3
SWEEP_INTERVAL_S = 60.0
# A cluster in use has its last_seen_at refreshed at least this often (retention counts from it).
SEEN_EVERY_WALL_S = 600.0
DEFAULT_IDLE_MINUTES = 30
DEFAULT_RETENTION_DAYS = 14
TICKET_NUMBER = re.compile(r"^[tw](\d+)$")
SNAPSHOT_HEAD = re.compile(r'"now_ms":(\d+),"heap_seq":(\d+)')


def idle_minutes() -> float:
    return float(getattr(settings, "CLUSTER_IDLE_MINUTES", DEFAULT_IDLE_MINUTES))


def retention_days() -> float:
    return float(getattr(settings, "CLUSTER_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))


def outside_event_loop(function: Callable) -> Callable:
    """Database calls made from an event loop's thread (an async view or consumer looking a
    cluster up) run in a worker thread: Django refuses synchronous queries in async code."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not in_event_loop_thread():
            return function(*args, **kwargs)
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(in_worker, function, *args, **kwargs).result()

    return wrapper


def in_event_loop_thread() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def in_worker(function: Callable, *args: Any, **kwargs: Any) -> Any:
    """Run in a worker thread, then give its database connection back."""
    try:
        return function(*args, **kwargs)
    finally:
        close_old_connections()


def compressed_snapshot(live: LiveCluster) -> bytes:
    """The simulation's state now, compressed as Cluster compresses its time-travel checkpoints."""
    live.cluster.sim.drain_events()
    # In parts, as the checkpoints are: one call for the whole would hold the interpreter's lock
    # for tens of milliseconds, and every other learner of the process would wait.
    text = compact_json_in_parts(live.cluster.sim.snapshot(), CHECKPOINT_JSON_DEPTH).encode()
    return zlib.compress(text, SNAPSHOT_COMPRESSION_LEVEL)


def snapshot_head(data: bytes) -> tuple[int, int]:
    """(now_ms, heap_seq) of a compressed snapshot, without inflating megabytes for two numbers."""
    head = zlib.decompressobj().decompress(data, 400).decode(errors="replace")
    match = SNAPSHOT_HEAD.search(head)
    if match:
        return int(match.group(1)), int(match.group(2))
    state = json.loads(zlib.decompress(data))
    return state["now_ms"], state["heap_seq"]


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


class Marks:
    """What this process last persisted of one cluster (to decide when to write again)."""

    def __init__(self, *, snapshot_ms: int = -1, checkpoint_ms: int = -1):
        self.snapshot_ms = snapshot_ms
        self.snapshot_wall_s = wall_seconds()
        self.checkpoint_ms = checkpoint_ms
        self.checkpoint_wall_s = wall_seconds()
        self.seen_wall_s = wall_seconds()


class DatabaseStore:
    """Keeps durable clusters in the Django database (SQLite here, PostgreSQL in production)."""

    def __init__(self, registry: ClusterRegistry):
        self.registry = registry
        self.marks: dict[str, Marks] = {}
        self.snapshot_every_wall_s = SNAPSHOT_EVERY_WALL_S
        self.checkpoint_every_wall_s = CHECKPOINT_EVERY_WALL_S
        self.sweeper: threading.Thread | None = None
        self.sweeper_lock = threading.Lock()
        self.sqlite_writer = threading.RLock()

    def writing(self) -> contextlib.AbstractContextManager:
        """On SQLite, one writing thread at a time in this process. SQLite allows one writer
        anyway, and a writer that finds it busy polls with sleeps of up to 100 ms; under load a
        journal write would wait that long behind another thread's. A lock hands the turn over at
        once. PostgreSQL takes concurrent writers."""
        return self.sqlite_writer if connection.vendor == "sqlite" else contextlib.nullcontext()

    # Writing --------------------------------------------------------------------------------
    @outside_event_loop
    def record_new(self, live: LiveCluster, *, scenario: Scenario, seed: int | None) -> None:
        from web.models import ClusterRecord

        with self.writing():
            ClusterRecord.objects.create(
                id=live.id, secret=live.secret, owner_session=live.owner_session, scenario_name=live.scenario_name,
                scenario_json=dumps(scenario.as_dict()), seed=seed, speed=live.clock.speed, paused=live.clock.paused,
                virtual_ms=live.cluster.now_ms)
        self.marks[live.id] = Marks(checkpoint_ms=live.cluster.now_ms)
        self.start_sweeper()

    @outside_event_loop
    def append_action(self, live: LiveCluster, ordinal: int, entry: dict) -> None:
        from web.models import ClusterAction

        action = {key: value for key, value in entry.items() if key not in ("at_ms", "heap_seq")}
        with self.writing(), transaction.atomic():
            if self.registry.ownership is not None:  # only the lease holder writes history
                self.registry.ownership.fence(live.id)
            ClusterAction.objects.create(cluster_id=live.id, ordinal=ordinal, at_ms=entry["at_ms"],
                                         heap_seq=entry["heap_seq"], action_json=dumps(action))

    def advanced(self, live: LiveCluster) -> None:
        """The clock moved on: checkpoint (and snapshot) when enough virtual and wall time passed."""
        marks = self._marks(live)
        now_ms = live.cluster.now_ms
        if (now_ms - marks.checkpoint_ms >= CHECKPOINT_EVERY_VIRTUAL_MS
                and wall_seconds() - marks.checkpoint_wall_s >= self.checkpoint_every_wall_s):
            self.clock_changed(live)
        elif wall_seconds() - marks.seen_wall_s >= SEEN_EVERY_WALL_S:
            self._touch(live.id)
            marks.seen_wall_s = wall_seconds()

    @outside_event_loop
    def _touch(self, cluster_id: str) -> None:
        from web.models import ClusterRecord

        with self.writing():
            ClusterRecord.objects.filter(id=cluster_id).update(last_seen_at=timezone.now())

    @outside_event_loop
    def clock_changed(self, live: LiveCluster) -> None:
        """Write where the clock stands, and the latest periodic snapshot if one is due."""
        from web.models import ClusterRecord

        marks = self._marks(live)
        snapshots = self._due_snapshots(live, marks)
        with self.writing(), transaction.atomic():
            ClusterRecord.objects.filter(id=live.id).update(
                speed=live.clock.speed, paused=live.clock.paused, virtual_ms=live.cluster.now_ms,
                updated_at=timezone.now(), last_seen_at=timezone.now())
            for snapshot_ms, data in snapshots:
                self._write_snapshot(live.id, snapshot_ms, data)
        marks.checkpoint_ms = live.cluster.now_ms
        marks.checkpoint_wall_s = marks.seen_wall_s = wall_seconds()
        if snapshots:
            marks.snapshot_ms = snapshots[-1][0]
            marks.snapshot_wall_s = wall_seconds()

    def _due_snapshots(self, live: LiveCluster, marks: Marks) -> list[list]:
        """The in-memory periodic snapshots to persist now: one per SNAPSHOT_EVERY_VIRTUAL_MS since
        the last persisted one (so a rewind after a restore can go back), the newest few only."""
        if wall_seconds() - marks.snapshot_wall_s < self.snapshot_every_wall_s:
            return []
        due, last_ms = [], marks.snapshot_ms
        for entry in live.cluster.snapshots:
            if entry[0] - last_ms >= SNAPSHOT_EVERY_VIRTUAL_MS or (last_ms < 0 <= entry[0]):
                due.append(entry)
                last_ms = entry[0]
        return due[-MAX_SNAPSHOTS_PER_WRITE:]

    def _write_snapshot(self, cluster_id: str, snapshot_ms: int, data: bytes) -> None:
        from web.models import ClusterSnapshot

        _now_ms, heap_seq = snapshot_head(data)
        ClusterSnapshot.objects.update_or_create(
            cluster_id=cluster_id, virtual_ms=snapshot_ms, defaults={"heap_seq": heap_seq, "data": data})
        kept = list(ClusterSnapshot.objects.filter(cluster_id=cluster_id).order_by("virtual_ms")
                    .values_list("id", flat=True))
        if len(kept) > MAX_PERSISTED_SNAPSHOTS:
            # Keep every other one of the older half, as Cluster thins its in-memory snapshots.
            half = len(kept) // 2
            dropped = [snapshot_id for index, snapshot_id in enumerate(kept[:half]) if index % 2]
            ClusterSnapshot.objects.filter(id__in=dropped).delete()

    @outside_event_loop
    def save_for_eviction(self, live: LiveCluster) -> None:
        """A snapshot of this very moment, so the restore replays nothing."""
        data = compressed_snapshot(live)
        with self.writing(), transaction.atomic():
            from web.models import ClusterRecord

            last_used = timezone.now() - datetime.timedelta(seconds=max(0.0, wall_seconds() - live.last_used_s))
            ClusterRecord.objects.filter(id=live.id).update(
                speed=live.clock.speed, paused=live.clock.paused, virtual_ms=live.cluster.now_ms,
                updated_at=timezone.now(), last_seen_at=last_used)
            self._write_snapshot(live.id, live.cluster.now_ms, data)
        self.marks.pop(live.id, None)

    def rewound(self, live: LiveCluster) -> None:
        """History now branches at the cluster's present: forget the journal and snapshots after it.
        If that cannot be written, the rewind is undone in memory too (the cluster is reloaded)."""
        try:
            self._truncate(live)
        except Exception:
            self.registry.forget(live.id)
            raise

    @outside_event_loop
    def _truncate(self, live: LiveCluster) -> None:
        from web.models import ClusterAction, ClusterRecord, ClusterSnapshot

        kept = live.cluster.recorded_actions
        now_ms = live.cluster.now_ms
        with self.writing(), transaction.atomic():
            ClusterAction.objects.filter(cluster_id=live.id, ordinal__gte=len(kept)).delete()
            stored = dict(ClusterAction.objects.filter(cluster_id=live.id).values_list("ordinal", "heap_seq"))
            for ordinal, entry in enumerate(kept):
                if stored.get(ordinal) != entry["heap_seq"]:  # a replay that scheduled differently
                    ClusterAction.objects.filter(cluster_id=live.id, ordinal=ordinal).update(heap_seq=entry["heap_seq"])
            ClusterSnapshot.objects.filter(cluster_id=live.id, virtual_ms__gt=now_ms).delete()
            ClusterRecord.objects.filter(id=live.id).update(
                speed=live.clock.speed, paused=live.clock.paused, virtual_ms=now_ms, updated_at=timezone.now(),
                last_seen_at=timezone.now())
        marks = self._marks(live)
        marks.checkpoint_ms = now_ms
        marks.snapshot_ms = min(marks.snapshot_ms, now_ms)

    @outside_event_loop
    def delete(self, cluster_id: str) -> bool:
        from web.models import ClusterRecord

        self.marks.pop(cluster_id, None)
        deleted, _by_model = ClusterRecord.objects.filter(id=cluster_id).delete()
        return deleted > 0

    def _marks(self, live: LiveCluster) -> Marks:
        marks = self.marks.get(live.id)
        if marks is None:
            marks = self.marks[live.id] = Marks(checkpoint_ms=live.cluster.now_ms)
        return marks

    # Reading --------------------------------------------------------------------------------
    @outside_event_loop
    def ids_owned_by(self, session_key: str) -> list[str]:
        from web.models import ClusterRecord

        return list(ClusterRecord.objects.filter(owner_session=session_key).order_by("created_at")
                    .values_list("id", flat=True))

    @outside_event_loop
    def id_for_secret(self, secret: str) -> str | None:
        from web.models import ClusterRecord

        return ClusterRecord.objects.filter(secret=secret).values_list("id", flat=True).first()

    @outside_event_loop
    def load(self, *, cluster_id: str | None = None, secret: str | None = None) -> LiveCluster | None:
        """The durable cluster rebuilt exactly as it was at its last persisted point, or None."""
        from web.models import ClusterRecord

        lookup = {"id": cluster_id} if cluster_id is not None else {"secret": secret}
        record = ClusterRecord.objects.filter(**lookup).first()
        if record is None:
            return None
        snapshots = [(row.virtual_ms, bytes(row.data)) for row in record.snapshots.order_by("virtual_ms")]
        actions = [dict(json.loads(row.action_json), at_ms=row.at_ms, heap_seq=row.heap_seq)
                   for row in record.actions.order_by("ordinal")]
        cluster = rebuild_cluster(scenario=Scenario(**json.loads(record.scenario_json)), seed=record.seed,
                                  snapshots=snapshots, actions=actions, until_ms=record.virtual_ms)
        live = LiveCluster(cluster_id=record.id, cluster=cluster, owner_session=record.owner_session,
                           scenario_name=record.scenario_name, secret=record.secret)
        live.clock.speed = record.speed
        live.clock.paused = record.paused
        live.clock.reanchor(cluster.now_ms, wall_seconds())
        live.continue_tickets_after(highest_ticket_number(actions))
        self.marks[live.id] = Marks(snapshot_ms=snapshots[-1][0] if snapshots else -1, checkpoint_ms=cluster.now_ms)
        return live

    def restored(self, live: LiveCluster) -> None:
        """Watches opened before the cluster left memory have no client any more: close them, as
        kubectl hanging up would (journaled, so it replays)."""
        kubectl = live.cluster.sim.components["kubectl"]
        tickets = sorted({watch["ticket"] for watch in kubectl.raw_watches.values()} | set(kubectl.raw_watch_events))
        with live.lock:
            for ticket in tickets:
                live.cluster.stop_watch(ticket)
            if tickets:
                live.cluster.run_until(live.cluster.now_ms)
        self.start_sweeper()

    # Idle clusters --------------------------------------------------------------------------
    def start_sweeper(self) -> None:
        """One thread per process evicts idle clusters; started with the first durable cluster."""
        with self.sweeper_lock:
            if self.sweeper is not None and self.sweeper.is_alive():
                return
            self.sweeper = start_periodic(name="cluster-sweeper", interval_s=lambda: SWEEP_INTERVAL_S,
                                          work=lambda: self.registry.evict_idle(idle_s=idle_minutes() * 60),
                                          what="evicting idle clusters", logger=logger,
                                          after_each=close_old_connections)


def rebuild_cluster(*, scenario: Scenario, seed: int | None, snapshots: list[tuple[int, bytes]],
                    actions: list[dict], until_ms: int) -> JournaledCluster:
    """Scenario + seed, then the latest snapshot, then every action recorded after it, each
    scheduled the way it first was (the clock at its time, then scheduled): the same history to
    the heap sequence number. Then run on to ``until_ms``."""
    snapshot_heap_seq = 0
    if not snapshots:
        cluster = JournaledCluster.from_scenario(scenario, seed, max_pods=cluster_max_pods())
    else:
        snapshot_ms, data = snapshots[-1]
        state = json.loads(zlib.decompress(data))
        sim = Simulation.restore(state)
        # The scenario's timeline entries are in the snapshot's heap already.
        cluster = JournaledCluster(sim, scenario, sim.components["director"].layout)
        # The persisted snapshots become the cluster's time-travel checkpoints again.
        cluster.snapshots = [[time_ms, snapshot_data] for time_ms, snapshot_data in snapshots]
        cluster.next_snapshot_ms = snapshot_ms + SNAPSHOT_INTERVAL_MS
        snapshot_heap_seq = state["heap_seq"]
    for action in actions:
        if action["heap_seq"] <= snapshot_heap_seq:
            continue
        cluster.run_until(action["at_ms"])
        entry = {key: value for key, value in action.items() if key not in ("at_ms", "heap_seq")}
        cluster.sim.schedule(action["at_ms"], PRIORITY_ACTION, "director", "action", entry)
        if cluster.sim.heap_seq != action["heap_seq"]:
            logger.warning("replayed action %s got heap_seq %s, journaled %s", entry.get("action"),
                           cluster.sim.heap_seq, action["heap_seq"])
    cluster.recorded_actions = actions
    last_action_ms = actions[-1]["at_ms"] if actions else 0
    cluster.run_until(max(until_ms, last_action_ms, cluster.now_ms))
    cluster.sim.drain_events()
    return cluster


def highest_ticket_number(actions: list[dict]) -> int:
    numbers = [int(match.group(1)) for action in actions
               if (match := TICKET_NUMBER.match(str(action.get("ticket", ""))))]
    return max(numbers, default=0)


def expire_clusters(*, older_than: datetime.timedelta | None = None) -> list[str]:
    """Delete the durable clusters nobody used for the retention period; returns their ids."""
    from web.models import ClusterRecord

    cutoff = timezone.now() - (older_than if older_than is not None else datetime.timedelta(days=retention_days()))
    expired = list(ClusterRecord.objects.filter(last_seen_at__lt=cutoff).values_list("id", flat=True))
    for cluster_id in expired:
        ClusterRecord.objects.filter(id=cluster_id, last_seen_at__lt=cutoff).delete()
    return expired


def install(registry: ClusterRegistry) -> DatabaseStore | None:
    """Make the registry's durable clusters live in the database (unless CLUSTER_PERSISTENCE is off)."""
    if not getattr(settings, "CLUSTER_PERSISTENCE", True):
        return None
    if registry.store is None:
        registry.store = DatabaseStore(registry)
    return registry.store
