"""Durable clusters: after a restart (the in-memory registry dropped) a cluster comes back from the
database exactly as it was, and its future is the one it would have had without the restart."""
from __future__ import annotations

import datetime
import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from web import persistence, services
from web.models import ClusterAction, ClusterRecord, ClusterSnapshot
from web.runtime import LiveCluster, registry

pytestmark = pytest.mark.django_db

SESSION = "persistence-tests"
CONFIGMAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"colour": "blue"}}


@pytest.fixture(autouse=True)
def fresh_registry():
    """Every test starts with an empty registry and a store of its own."""
    registry.clusters.clear()
    registry.store = persistence.DatabaseStore(registry)
    registry.store.snapshot_every_wall_s = 0
    registry.store.checkpoint_every_wall_s = 0
    yield
    registry.clusters.clear()


def new_cluster(scenario: str = "basic", seed: int = 7) -> LiveCluster:
    live = services.create_cluster(session_key=SESSION, scenario=scenario, seed=seed, paused=True,
                                   start_time="scenario")
    live.advance_by(20_000)
    return live


def act(live: LiveCluster) -> None:
    """A learner's action and an API write through the Kubernetes API."""
    services.apply_action(session_key=SESSION, cluster_id=live.id,
                          action={"action": "node.fail", "target": "worker-2"})
    code, body, _events = live.api_request({"verb": "create", "resource": "configmaps", "namespace": "default",
                                            "body": CONFIGMAP})
    assert code == 201, body
    live.advance_by(15_000)


def restart() -> None:
    """What a server restart leaves: the database only (a new store, nothing in memory)."""
    for live in registry.clusters.values():
        live.store = None  # the old object lives on in the test only as a reference
        live.cluster.journal = None
    registry.clusters.clear()
    registry.store = persistence.DatabaseStore(registry)


def stored_objects(live: LiveCluster) -> list[str]:
    return sorted(json.dumps(item, sort_keys=True) for item in live.cluster.etcd_objects())


def future_events(live: LiveCluster, duration_ms: int = 90_000) -> list[dict]:
    return [event.as_dict() for event in live.advance_by(duration_ms)]


def assert_same_cluster(restored: LiveCluster, original: LiveCluster) -> None:
    assert restored is not original
    assert restored.now_ms == original.now_ms
    assert restored.secret == original.secret and restored.owner_session == original.owner_session
    assert stored_objects(restored) == stored_objects(original)
    assert restored.cluster.recorded_actions == original.cluster.recorded_actions
    assert (restored.clock.speed, restored.clock.paused) == (original.clock.speed, original.clock.paused)
    assert future_events(restored) == future_events(original)
    assert stored_objects(restored) == stored_objects(original)


def test_a_cluster_comes_back_after_a_restart_with_the_same_state_and_future():
    original = new_cluster()
    act(original)
    restart()
    restored = registry.get(original.id)
    assert restored is not None
    names = [json.loads(item)["metadata"]["name"] for item in stored_objects(restored)]
    assert "settings" in names
    assert_same_cluster(restored, original)


def test_restore_from_a_mid_way_snapshot_replays_only_later_actions():
    original = new_cluster()
    original.advance_by(6 * 60_000)  # a persisted snapshot at 6 min (periodic, every 5 virtual minutes)
    assert ClusterSnapshot.objects.filter(cluster_id=original.id).exists()
    act(original)
    snapshot = ClusterSnapshot.objects.filter(cluster_id=original.id).latest("virtual_ms")
    later = ClusterAction.objects.filter(cluster_id=original.id, heap_seq__gt=snapshot.heap_seq).count()
    assert later >= 2  # node.fail and the API create come after the snapshot
    restart()
    restored = registry.by_secret(original.secret)
    assert restored is not None and restored.id == original.id
    assert_same_cluster(restored, original)


def test_a_rewind_branches_the_journal():
    original = new_cluster()
    original.advance_by(60_000)
    rewind_to_ms = original.now_ms - 1_000  # just before the actions
    act(original)
    assert ClusterAction.objects.filter(cluster_id=original.id).count() == 2
    services.set_clock(session_key=SESSION, cluster_id=original.id, rewind_to=rewind_to_ms)
    assert ClusterAction.objects.filter(cluster_id=original.id).count() == 0
    services.apply_action(session_key=SESSION, cluster_id=original.id,
                          action={"action": "node.fail", "target": "worker-3"})
    original.advance_by(30_000)
    restart()
    restored = registry.get(original.id)
    journaled = [json.loads(row.action_json)["target"] for row in ClusterAction.objects.filter(cluster_id=original.id)]
    assert journaled == ["worker-3"]
    assert "settings" not in " ".join(stored_objects(restored))
    assert_same_cluster(restored, original)


def test_a_rewind_after_a_restart_reaches_back_to_the_persisted_snapshots():
    original = new_cluster()
    original.advance_by(11 * 60_000)
    act(original)
    restart()
    restored = registry.get(original.id)
    services.set_clock(session_key=SESSION, cluster_id=restored.id, rewind="8m")
    original.rewind(restored.now_ms)
    assert_same_cluster(restored, original)


def test_idle_clusters_leave_memory_and_come_back_as_they_were():
    idle = new_cluster()
    act(idle)
    busy = new_cluster(seed=8)
    now_s = idle.last_used_s + 31 * 60
    busy.last_used_s = now_s - 60
    assert registry.evict_idle(idle_s=30 * 60, now_s=now_s) == [idle.id]
    assert idle.id not in registry.clusters and busy.id in registry.clusters
    record = ClusterRecord.objects.get(id=idle.id)
    assert record.virtual_ms == idle.now_ms
    assert ClusterSnapshot.objects.filter(cluster_id=idle.id, virtual_ms=idle.now_ms).exists()
    idle.store = None
    idle.cluster.journal = None
    back = services.get_cluster(session_key=SESSION, cluster_id=idle.id)
    assert_same_cluster(back, idle)


def test_a_running_clock_continues_from_where_it_was_after_a_restart():
    original = new_cluster()
    services.set_clock(session_key=SESSION, cluster_id=original.id, speed=2, paused=False)
    restart()
    restored = registry.get(original.id)
    assert (restored.clock.speed, restored.clock.paused) == (2.0, False)
    assert restored.now_ms >= original.now_ms - 1


def test_the_sessions_clusters_are_listed_and_counted_after_a_restart():
    first, second = new_cluster(), new_cluster(seed=9)
    restart()
    assert registry.count_owned_by(SESSION) == 2
    assert {live.id for live in services.list_clusters(session_key=SESSION)} == {first.id, second.id}


def test_deleting_a_cluster_deletes_its_journal_and_snapshots():
    live = new_cluster()
    act(live)
    live.advance_by(6 * 60_000)
    restart()
    services.delete_cluster(session_key=SESSION, cluster_id=live.id)
    assert not ClusterRecord.objects.filter(id=live.id).exists()
    assert not ClusterAction.objects.filter(cluster_id=live.id).exists()
    assert not ClusterSnapshot.objects.filter(cluster_id=live.id).exists()
    restart()
    assert registry.get(live.id) is None


def test_a_watch_left_open_by_a_restart_is_closed_and_tickets_do_not_collide():
    live = new_cluster()
    code, _body, ticket = live.start_watch({"resource": "pods", "namespace": "default"})
    assert code == 200
    restart()
    restored = registry.get(live.id)
    kubectl = restored.cluster.sim.components["kubectl"]
    assert ticket not in {watch["ticket"] for watch in kubectl.raw_watches.values()}
    assert restored.cluster.recorded_actions[-1] == dict(restored.cluster.recorded_actions[-1],
                                                         action="api.unwatch", ticket=ticket)
    code, _body, new_ticket = restored.start_watch({"resource": "pods", "namespace": "default"})
    assert code == 200 and new_ticket != ticket


def test_a_refused_journal_write_refuses_the_action(monkeypatch):
    live = new_cluster()
    before = list(live.cluster.recorded_actions)

    def database_down(*_args, **_kwargs):
        raise RuntimeError("database is down")

    monkeypatch.setattr(registry.store, "append_action", database_down)
    with pytest.raises(RuntimeError):
        live.apply_action({"action": "node.fail", "target": "worker-1"})
    assert live.cluster.recorded_actions == before
    assert all(component.running for component in live.cluster.sim.components.values()
               if component.node == "worker-1")


def test_expire_clusters_deletes_only_those_unused_for_the_retention_period():
    old, recent = new_cluster(), new_cluster(seed=8)
    ClusterRecord.objects.filter(id=old.id).update(last_seen_at=timezone.now() - datetime.timedelta(days=15))
    ClusterRecord.objects.filter(id=recent.id).update(last_seen_at=timezone.now() - datetime.timedelta(days=13))
    call_command("expire_clusters", verbosity=0)
    assert list(ClusterRecord.objects.values_list("id", flat=True)) == [recent.id]


def test_sqlite_commits_are_in_the_write_ahead_log_without_waiting_for_the_disk():
    """WAL with synchronous=NORMAL: a commit survives the process being killed (test_persistence_process
    kills it with -9); only a crash of the machine itself could lose the last ones (docs/deploy.md)."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("the embedded mode's database only")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        journal_mode = cursor.fetchone()[0]
        cursor.execute("PRAGMA synchronous")
        synchronous = cursor.fetchone()[0]
    assert (journal_mode, synchronous) == ("wal", 1)
