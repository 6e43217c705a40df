"""SchedulingQueue: PrioritySort order, backoff 1 s doubling to 10 s, unschedulablePods."""
from cluster_sim.scheduler.queue import (ACTIVE, BACKOFF, GATED, UNSCHEDULABLE, SchedulingQueue,
                                         backoff_duration_ms)
from tests.sim.test_scheduler_plugins import pod


def test_backoff_doubles_from_one_to_ten_seconds():
    assert [backoff_duration_ms(attempts) for attempts in range(1, 8)] == [
        1000, 2000, 4000, 8000, 10000, 10000, 10000]


def test_active_queue_orders_by_priority_then_arrival():
    queue = SchedulingQueue()
    queue.add(pod("low-early", priority=1), now_ms=0)
    queue.add(pod("high", priority=100), now_ms=10)
    queue.add(pod("low-late", priority=1), now_ms=20)
    names = [queue.pop(30)["metadata"]["name"] for _ in range(3)]
    assert names == ["high", "low-early", "low-late"]
    assert queue.pop(40) is None


def test_unschedulable_pod_waits_for_an_event_then_its_backoff():
    queue = SchedulingQueue(pop_from_backoff_q=False)
    queue.add(pod("p"), now_ms=0)
    first = queue.pop(0)
    assert queue.add_unschedulable(first, now_ms=100, unschedulable_plugins=["NodeResourcesFit"]) == UNSCHEDULABLE
    assert queue.pop(5_000) is None
    queue.move_all_to_active_or_backoff(now_ms=600)   # a node was added, backoff (1 s) not over
    assert queue.queue_of(first) == BACKOFF
    assert queue.pop(1_099) is None
    assert queue.pop(1_100)["metadata"]["name"] == "p"   # 100 ms + 1 s
    queue.add_unschedulable(first, now_ms=2_000)
    queue.move_all_to_active_or_backoff(now_ms=2_500)
    assert queue.pop(3_999) is None and queue.pop(4_000) is not None   # second attempt: 2 s


def test_idle_scheduler_pops_from_backoff_queue_in_v1_33():
    queue = SchedulingQueue()
    queue.add(pod("p"), now_ms=0)
    queue.add_unschedulable(queue.pop(0), now_ms=100)
    queue.move_all_to_active_or_backoff(now_ms=200)
    assert queue.pop(300)["metadata"]["name"] == "p"


def test_event_during_the_attempt_sends_the_pod_to_backoff():
    queue = SchedulingQueue(pop_from_backoff_q=False)
    queue.add(pod("p"), now_ms=0)
    attempt = queue.pop(0)
    queue.move_all_to_active_or_backoff(now_ms=50)
    assert queue.add_unschedulable(attempt, now_ms=100) == BACKOFF


def test_unschedulable_pods_are_flushed_after_five_minutes():
    queue = SchedulingQueue()
    queue.add(pod("p"), now_ms=0)
    queue.add_unschedulable(queue.pop(0), now_ms=1_000)
    assert queue.flush_unschedulable_leftover(now_ms=300_999) == 0
    assert queue.flush_unschedulable_leftover(now_ms=301_000) == 1
    assert queue.queue_of(pod("p")) == ACTIVE


def test_gated_pod_enters_the_active_queue_when_its_gates_are_removed():
    queue = SchedulingQueue()
    gated = pod("g", schedulingGates=[{"name": "example.com/wait"}])
    queue.add(gated, now_ms=0)
    assert queue.queue_of(gated) == GATED and queue.pop(10) is None
    queue.update(pod("g"), now_ms=20)
    assert queue.pop(30)["metadata"]["name"] == "g"
