"""Same scenario + same seed + same actions => the same event stream, byte for byte; a snapshot
taken anywhere restores a simulation that goes on exactly as the uninterrupted one."""
from __future__ import annotations

import json
import os
import random

import pytest

from cluster_sim.cluster import Cluster
from cluster_sim.engine import Simulation
from cluster_sim.scenario import load_scenario, shipped_path

RUN_MS = 40_000


def stream_lines(events) -> list[str]:
    return [json.dumps(event.as_dict(), sort_keys=True, separators=(",", ":")) for event in events]


def run_basic(seed: int, until_ms: int = RUN_MS, actions: list | None = None) -> list[str]:
    cluster = Cluster.from_scenario(load_scenario(shipped_path("basic")), seed)
    for action in actions or []:
        cluster.schedule_action(action)
    return stream_lines(cluster.run_until(until_ms))


def test_same_seed_gives_byte_identical_stream():
    first = run_basic(7)
    second = run_basic(7)
    assert len(first) > 1_000, "the basic cluster should be busy bootstrapping"
    assert first == second


def test_another_seed_gives_another_stream():
    assert run_basic(7) != run_basic(8)


def test_same_actions_give_same_stream():
    actions = [{"action": "node.fail", "target": "worker-2", "at_ms": 20_000}]
    assert run_basic(3, actions=actions) == run_basic(3, actions=actions)
    assert run_basic(3, actions=actions) != run_basic(3)


def continue_from_snapshot(cluster: Cluster, until_ms: int) -> list[str]:
    text = json.dumps(cluster.sim.snapshot())
    restored = Simulation.restore(json.loads(text))
    restored.run_until(until_ms)
    return stream_lines(restored.drain_events())


@pytest.mark.parametrize("case", range(int(os.environ.get("CLUSTER_SIM_CUT_CASES", "3"))))
def test_snapshot_restore_at_random_cut_points(case):
    seed = 1000 + case
    rng = random.Random(seed)
    scenario = load_scenario(shipped_path("worker-failure"))
    until_ms = 130_000
    reference = Cluster.from_scenario(scenario, seed)
    reference_lines = stream_lines(reference.sim.events_until(until_ms))
    cut_points = sorted(rng.randrange(0, until_ms) for _ in range(4))
    for cut_ms in cut_points:
        interrupted = Cluster.from_scenario(scenario, seed)
        before = stream_lines(interrupted.sim.events_until(cut_ms))
        after = continue_from_snapshot(interrupted, until_ms)
        assert before + after == reference_lines, f"stream differs after restoring at {cut_ms} ms (seed {seed})"


def test_rewind_replays_history_then_branches():
    scenario = load_scenario(shipped_path("basic"))
    cluster = Cluster.from_scenario(scenario, 11)
    cluster.run_until(70_000)
    cluster.apply_action({"action": "node.fail", "target": "worker-1"})
    cluster.run_until(100_000)
    fresh = Cluster.from_scenario(scenario, 11)
    fresh.run_until(70_000)
    fresh.apply_action({"action": "node.fail", "target": "worker-1"})
    expected_at_90s = stream_lines(fresh.run_until(90_000))

    cluster.rewind(90_000)
    assert cluster.now_ms == 90_000
    assert cluster.snapshot()["simulation"] == fresh.snapshot()["simulation"], "rewind must land on the same state"
    assert expected_at_90s, "the failure should have produced events"

    cluster.rewind(65_000)
    assert [a for a in cluster.recorded_actions if a["action"] == "node.fail"] == [], \
        "branching before an action forgets it"
    branch = stream_lines(cluster.run_until(100_000))
    assert not any('"machine.down"' in line for line in branch)
