"""web/heap.py: the heap is settled (collected, then frozen) so full collections stay short with
hundreds of clusters in memory, and clusters released from memory are still freed."""
import gc
import time
import weakref

from cluster_sim.scenario import load_scenario, shipped_path
from web.heap import SETTLE_EVERY_S, Heap
from web.runtime import registry


class Node:
    def __init__(self):
        self.other = None


def test_settling_freezes_what_lives_and_never_garbage():
    heap = Heap(clusters_in_memory=lambda: 1)
    kept = Node()
    kept.other = Node()
    garbage = Node()
    garbage.other = garbage  # a cycle only the collector can free
    garbage_ref = weakref.ref(garbage)
    del garbage
    frozen_before = gc.get_freeze_count()
    assert heap.settle() is False
    assert garbage_ref() is None
    assert gc.get_freeze_count() > frozen_before
    assert kept.other is not None


def test_a_full_collection_is_due_once_a_quarter_of_the_clusters_in_memory_were_released():
    in_memory = [8]
    heap = Heap(clusters_in_memory=lambda: in_memory[0])
    assert not heap.full_collection_due()
    heap.released(1)
    assert not heap.full_collection_due()
    heap.released(1)
    assert heap.full_collection_due()
    in_memory[0] = 0  # everything released: due as soon as anything was
    heap.released_since_full = 1
    assert heap.full_collection_due()


def test_deleted_clusters_are_freed_by_the_full_collection():
    clusters = [registry.create(scenario=load_scenario(shipped_path("basic")), owner_session="heap", seed=seed,
                                paused=True) for seed in range(3)]
    for live in clusters:
        live.advance_by(20_000)
    registry.heap.settle()  # their objects are frozen now
    simulation = weakref.ref(clusters[0].cluster.sim)
    for live in clusters:
        registry.delete(live.id)
    del clusters, live
    # Other tests' clusters may be in memory, so the quarter is not counted on here (see above).
    assert registry.heap.settle(full=True) is True
    assert simulation() is None, "a deleted cluster's simulation must not stay in memory"


def test_once_started_the_settler_is_the_only_collector_and_frees_cycles_on_its_own():
    registry.heap.start()
    assert gc.get_threshold()[0] == 0, "CPython's own collector would walk everything not frozen yet"
    garbage = Node()
    garbage.other = garbage
    garbage_ref = weakref.ref(garbage)
    del garbage
    for _wait in range(int(SETTLE_EVERY_S * 10) * 5 + 10):  # about five settles
        if garbage_ref() is None:
            break
        time.sleep(0.1)
    assert garbage_ref() is None, "the settling thread must collect cycles without being asked"
