"""Leases (web/ownership.py) on the test database: another process is just rows, as it would be.

Two-process behaviour end to end (forwarding, hand-over, kill -9) is in tests/prod/test_two_processes.py."""
from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from web import persistence, services
from web.models import ClusterAction, ClusterLease, ServerProcess
from web.ownership import LEASE_TTL_S, Ownership
from web.runtime import ClusterElsewhere, registry

pytestmark = pytest.mark.django_db
SESSION = "s" * 32
NODE_FAIL = {"action": "node.fail", "target": "worker-2"}


@pytest.fixture(autouse=True)
def leased_registry():
    """A registry with a store and the ownership of a process named "here"."""
    registry.clusters.clear()
    registry.store = persistence.DatabaseStore(registry)
    registry.ownership = Ownership(registry, name="here")
    registry.ownership._beat_once()
    yield registry.ownership
    registry.clusters.clear()
    registry.ownership = None


def other_process(name: str = "there", *, heartbeat_age_s: float = 0.0, boot_id: str = "b" * 16) -> Ownership:
    """Another server process, as the database sees it."""
    ServerProcess.objects.update_or_create(name=name, defaults={
        "boot_id": boot_id, "channel": f"process.{name}!x",
        "heartbeat_at": timezone.now() - datetime.timedelta(seconds=heartbeat_age_s)})
    other = Ownership(registry, name=name)
    other.boot_id = boot_id
    return other


def new_cluster():
    live = services.create_cluster(session_key=SESSION, scenario="basic", seed=3, paused=True, start_time="scenario")
    live.advance_by(20_000)
    return live


def give_lease_to(cluster_id: str, holder: Ownership) -> None:
    ClusterLease.objects.filter(cluster_id=cluster_id).update(holder=holder.name, holder_boot_id=holder.boot_id)


def test_a_new_cluster_is_leased_to_the_process_that_made_it(leased_registry):
    live = new_cluster()
    holder = leased_registry.holder_of(live.id)
    assert holder is not None and leased_registry.is_mine(holder) and holder.alive


def test_a_live_holder_keeps_its_cluster_and_a_silent_one_loses_it(leased_registry):
    live = new_cluster()
    there = other_process()
    assert there.acquire(live.id) is not None  # "here" is alive: "there" must ask
    ServerProcess.objects.filter(name="here").update(
        heartbeat_at=timezone.now() - datetime.timedelta(seconds=LEASE_TTL_S + 1))
    assert there.acquire(live.id) is None      # "here" fell silent: "there" takes over
    assert ClusterLease.objects.get(cluster_id=live.id).holder == "there"


def test_a_restarted_namesake_voids_the_leases_of_its_former_self(leased_registry):
    live = new_cluster()
    restarted = Ownership(registry, name="here")  # same name, new boot id
    restarted._beat_once()
    assert not restarted.holder_of(live.id).alive  # its former self, gone
    assert restarted.acquire(live.id) is None
    assert ClusterLease.objects.get(cluster_id=live.id).holder_boot_id == restarted.boot_id


def test_a_process_that_lost_its_lease_cannot_journal_and_drops_its_copy(leased_registry):
    live = new_cluster()
    journaled = ClusterAction.objects.filter(cluster_id=live.id).count()
    give_lease_to(live.id, other_process())
    with pytest.raises(ClusterElsewhere):
        services.apply_action(session_key=SESSION, cluster_id=live.id, action=NODE_FAIL)
    assert ClusterAction.objects.filter(cluster_id=live.id).count() == journaled
    assert live.id not in registry.clusters and live.evicted


def test_the_heartbeat_drops_clusters_another_process_took(leased_registry):
    live = new_cluster()
    give_lease_to(live.id, other_process())
    leased_registry._drop_lost_clusters()
    assert live.id not in registry.clusters


def test_letting_go_snapshots_the_present_and_the_next_holder_continues_from_it(leased_registry):
    live = new_cluster()
    services.apply_action(session_key=SESSION, cluster_id=live.id, action=NODE_FAIL)
    live.advance_by(5_000)
    now_ms, nodes = live.now_ms, sorted(live.cluster.layout["workers"])
    assert leased_registry.let_go(live.id)
    assert live.id not in registry.clusters and ClusterLease.objects.filter(cluster_id=live.id).count() == 0
    registry.ownership = other_process(name="next")
    moved = registry.get(live.id)
    assert moved is not None and moved is not live
    assert moved.now_ms == now_ms and sorted(moved.cluster.layout["workers"]) == nodes
    assert ClusterLease.objects.get(cluster_id=live.id).holder == "next"


def test_without_claiming_a_cluster_held_elsewhere_is_not_loaded(leased_registry):
    live = new_cluster()
    registry.forget(live.id)
    give_lease_to(live.id, other_process())
    assert registry.get(live.id, claim=False) is None
    assert registry.held_elsewhere(live.id)


def test_claiming_from_a_live_holder_that_cannot_be_asked_answers_busy(leased_registry):
    """No event loop runs in this test process, so the holder cannot be asked to let go."""
    live = new_cluster()
    registry.forget(live.id)
    give_lease_to(live.id, other_process())
    with pytest.raises(ClusterElsewhere):
        registry.get(live.id)


def test_one_liveness_answer_serves_every_forwarded_connection_for_a_second(leased_registry):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from web import ownership

    there = other_process()
    holder = leased_registry._holder(there.name, there.boot_id)
    with CaptureQueriesContext(connection) as asked:
        answers = [leased_registry.still_alive(holder) for _connection in range(300)]
    assert answers == [True] * 300
    assert len(asked.captured_queries) == 1, "300 quiet sockets on one holder: one query"
    # Once the answer is older than ALIVE_ANSWER_KEPT_S, the database is asked again: a holder that
    # stopped beating is found out.
    other_process(heartbeat_age_s=LEASE_TTL_S * 2)
    key = (holder.name, holder.boot_id)
    asked_at_s, alive = leased_registry.alive_answers[key]
    leased_registry.alive_answers[key] = (asked_at_s - ownership.ALIVE_ANSWER_KEPT_S, alive)
    assert leased_registry.still_alive(holder) is False
