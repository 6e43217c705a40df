"""Speed of the whole simulated cluster: the idle HA lesson cluster (`ha` scenario), the same
cluster under a steady ConfigMap write load, fast-forwarding six minutes after a worker fails,
and the size and cost of one time-travel snapshot.

Every figure is measured after the cluster has settled (from 90 virtual seconds on) and is the
median over several runs, each on a freshly built cluster, with the spread (min..max) beside it.
The process pins itself to one CPU so the figures are one-core figures.

    .venv/bin/python bench/bench_cluster.py [--runs 5] [--span-s 600] [--seed 42] [--quick]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from typing import Callable

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from cluster_sim.cluster import Cluster  # noqa: E402
from cluster_sim.engine import PRIORITY_ACTION, Simulation  # noqa: E402
from cluster_sim.scenario import load_scenario, shipped_path  # noqa: E402

SETTLED_MS = 90_000
FAILOVER_SPAN_MS = 360_000
GOAL_VIRTUAL_SECONDS_PER_WALL_SECOND = 1_000
# ConfigMaps written in turn by the write load; each write replaces the one written this many
# writes earlier, so the store stays the same size however long the load runs.
WRITE_LOAD_KEPT_OBJECTS = 50


def pin_to_one_cpu() -> str:
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity)"
    cpu = sorted(os.sched_getaffinity(0))[-1]
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu}"


def settled_cluster(seed: int) -> Cluster:
    cluster = Cluster.from_scenario(load_scenario(shipped_path("ha")), seed)
    cluster.run_until(SETTLED_MS)
    return cluster


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def run_sim_only(cluster: Cluster, until_ms: int) -> list:
    """What Cluster.run_until does without its periodic snapshots."""
    cluster.sim.run_until(until_ms)
    return cluster.sim.drain_events()


# --- measurements (each returns one run's figures) -----------------------------------------
def measure_idle(seed: int, span_ms: int) -> dict:
    cluster = settled_cluster(seed)
    start_ms = cluster.now_ms
    with_snapshots_s = timed(lambda: cluster.run_until(start_ms + span_ms))
    without_snapshots_s = timed(lambda: run_sim_only(cluster, start_ms + 2 * span_ms))
    return {"idle_rate": span_ms / 1000 / with_snapshots_s,
            "idle_rate_no_snapshots": span_ms / 1000 / without_snapshots_s}


def configmap_request(verb: str, index: int) -> dict:
    name = f"bench-{index % WRITE_LOAD_KEPT_OBJECTS}"
    if verb == "delete":
        return {"verb": "delete", "resource": "configmaps", "namespace": "default", "name": name}
    return {"verb": "create", "resource": "configmaps", "namespace": "default",
            "body": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
                     "data": {"index": str(index)}}}


def schedule_write_load(cluster: Cluster, start_ms: int, span_ms: int, writes_per_s: int) -> None:
    """kubectl creates a ConfigMap, and deletes the one written 50 writes before, at a steady rate."""
    interval_ms = max(1, 1000 // writes_per_s)
    count = span_ms // interval_ms
    for index in range(count):
        at_ms = start_ms + index * interval_ms
        verb = "delete" if index % 2 else "create"
        request = configmap_request(verb, index // 2 + (WRITE_LOAD_KEPT_OBJECTS // 2 if verb == "delete" else 0))
        cluster.sim.schedule(at_ms, PRIORITY_ACTION, "kubectl", "raw_request",
                             {"ticket": f"bench-{index}", "request": request})


def committed_writes(events: list) -> int:
    """Raft entries carrying a write (not a leader's empty entry), each counted once."""
    indexes = {event.payload["index"] for event in events if event.kind == "etcd.apply"}
    return len(indexes)


def measure_write_load(seed: int, span_ms: int, writes_per_s: int) -> dict:
    cluster = settled_cluster(seed)
    start_ms = cluster.now_ms
    schedule_write_load(cluster, start_ms + 1, span_ms, writes_per_s)
    events: list = []
    wall_s = timed(lambda: events.extend(cluster.run_until(start_ms + span_ms)))
    answered = cluster.sim.components["kubectl"].raw_results
    failed = sum(1 for result in answered.values() if result["code"] >= 400 and result["code"] != 404)
    return {"rate": span_ms / 1000 / wall_s, "commits_per_wall_s": committed_writes(events) / wall_s,
            "commits_per_virtual_s": committed_writes(events) / (span_ms / 1000),
            "answered": len(answered), "failed": failed}


def measure_failover(seed: int) -> dict:
    cluster = settled_cluster(seed)
    cluster.apply_action({"action": "node.fail", "target": cluster.layout["workers"][0]})
    wall_s = timed(lambda: cluster.run_for(FAILOVER_SPAN_MS))
    return {"failover_wall_s": wall_s}


def measure_snapshot(seed: int) -> dict:
    cluster = settled_cluster(seed)
    cluster.sim.drain_events()
    text = ""

    def take() -> None:
        nonlocal text
        text = json.dumps(cluster.sim.snapshot(), separators=(",", ":"))

    take_s = timed(take)
    restore_s = timed(lambda: Simulation.restore(json.loads(text)))
    return {"snapshot_bytes": len(text), "snapshot_take_ms": take_s * 1000, "snapshot_restore_ms": restore_s * 1000}


# --- reporting -----------------------------------------------------------------------------
def summary(values: list[float], unit_format: str) -> str:
    median = statistics.median(values)
    if len(values) == 1:
        return unit_format.format(median)
    return f"{unit_format.format(median)}  ({unit_format.format(min(values))}..{unit_format.format(max(values))})"


def collect(runs: int, measure: Callable[[], dict]) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {}
    for _ in range(runs):
        for key, value in measure().items():
            figures.setdefault(key, []).append(value)
    return figures


def print_row(label: str, values: list[float], unit_format: str) -> None:
    print(f"  {label:<58} {summary(values, unit_format)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--span-s", type=int, default=600, help="virtual seconds measured per run")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--writes-per-s", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--quick", action="store_true", help="3 runs of 300 virtual seconds, one write load")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.runs, arguments.span_s, arguments.writes_per_s = 3, 300, [20]
    span_ms = arguments.span_s * 1000
    print(f"whole cluster, 'ha' scenario (3 control planes, 3 etcd members, 5 workers, 40 pods), seed {arguments.seed}, "
          f"{pin_to_one_cpu()}; median (min..max) of {arguments.runs} runs, measured from {SETTLED_MS // 1000} s on")
    idle = collect(arguments.runs, lambda: measure_idle(arguments.seed, span_ms))
    print(f"idle, {arguments.span_s} virtual s (goal: {GOAL_VIRTUAL_SECONDS_PER_WALL_SECOND} virtual s per wall s)")
    print_row("virtual s per wall s, with events and periodic snapshots", idle["idle_rate"], "{:.0f}")
    print_row("virtual s per wall s, with events, no snapshots", idle["idle_rate_no_snapshots"], "{:.0f}")
    for writes_per_s in arguments.writes_per_s:
        load = collect(arguments.runs, lambda: measure_write_load(arguments.seed, span_ms, writes_per_s))
        print(f"ConfigMap create/delete through kubectl at {writes_per_s} per virtual s, {arguments.span_s} virtual s, "
              f"with snapshots ({load['answered'][0]:.0f} answered, {load['failed'][0]:.0f} failed)")
        print_row("virtual s per wall s", load["rate"], "{:.0f}")
        print_row("etcd writes committed per wall s", load["commits_per_wall_s"], "{:.0f}")
        print_row("etcd writes committed per virtual s (all clients)", load["commits_per_virtual_s"], "{:.1f}")
    failover = collect(arguments.runs, lambda: measure_failover(arguments.seed))
    print(f"worker-1 fails at {SETTLED_MS // 1000} s, then {FAILOVER_SPAN_MS // 1000} virtual s with snapshots")
    print_row("wall s", failover["failover_wall_s"], "{:.2f}")
    snapshot = collect(arguments.runs, lambda: measure_snapshot(arguments.seed))
    print(f"one JSON snapshot at {SETTLED_MS // 1000} s")
    print_row("size, bytes", snapshot["snapshot_bytes"], "{:,.0f}")
    print_row("take (Simulation.snapshot + json.dumps), ms", snapshot["snapshot_take_ms"], "{:.0f}")
    print_row("restore (json.loads + Simulation.restore), ms", snapshot["snapshot_restore_ms"], "{:.0f}")


if __name__ == "__main__":
    main()
