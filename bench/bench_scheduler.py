"""Scale bench for the pure-Python kube-scheduler: schedule N pods onto M nodes with the default
profile, binding each into the snapshot as the component would, and time one decision on a
5-worker cluster.

    .venv/bin/python bench/bench_scheduler.py [--nodes 5000 --pods 150000] [--runs 3] [--quick]
"""
from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from cluster_sim.scheduler.framework import Snapshot  # noqa: E402
from cluster_sim.scheduler.plugins.registry import default_profile  # noqa: E402
from cluster_sim.scheduler.schedule import schedule_pod  # noqa: E402

IMAGES = [["registry.k8s.io/pause:3.10", 320_000], ["docker.io/library/nginx:1.27", 72_000_000],
          ["docker.io/library/redis:7.4", 45_000_000], ["quay.io/prometheus/node-exporter:v1.8.2", 25_000_000]]
ZONES = ["zone-a", "zone-b", "zone-c"]


def make_node(index: int, rng: random.Random) -> dict:
    name = f"node-{index:05d}"
    images = [{"names": [image], "sizeBytes": size} for image, size in IMAGES if rng.random() < 0.6]
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name,
                                                  "topology.kubernetes.io/zone": ZONES[index % len(ZONES)],
                                                  "node.kubernetes.io/instance-type": "m5.8xlarge"}},
            "spec": {},
            "status": {"allocatable": {"cpu": "32", "memory": "128Gi", "pods": "110", "ephemeral-storage": "100Gi"},
                       "images": images}}


def make_pod(index: int, rng: random.Random) -> dict:
    image = IMAGES[1 + index % 3][0]
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"pod-{index:06d}", "namespace": "default",
                         "labels": {"app": f"app-{index % 50}", "tier": ["web", "cache", "batch"][index % 3]}},
            "spec": {"schedulerName": "default-scheduler", "priority": 0,
                     "containers": [{"name": "main", "image": image,
                                     "resources": {"requests": {"cpu": f"{rng.choice([500, 750, 1000])}m",
                                                                "memory": f"{rng.choice([1, 2, 3])}Gi"}}}]}}


def build_cluster(nodes: int, seed: int) -> Snapshot:
    rng = random.Random(seed)
    snapshot = Snapshot()
    for index in range(nodes):
        snapshot.add_node(make_node(index, rng))
    return snapshot


def run_scale(nodes: int, pods: int, seed: int) -> dict:
    snapshot = build_cluster(nodes, seed)
    profile = default_profile()
    rng = random.Random(seed)
    pod_rng = random.Random(seed + 1)
    pod_list = [make_pod(index, pod_rng) for index in range(pods)]
    next_start = 0
    unschedulable = 0
    started = time.perf_counter()
    for pod in pod_list:
        result = schedule_pod(pod, snapshot, profile, rng, next_start)
        next_start = result.next_start_node_index
        if result.selected_node is None:
            unschedulable += 1
            continue
        bound = dict(pod, spec=dict(pod["spec"], nodeName=result.selected_node))
        snapshot.add_pod(bound)
    elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "pods_per_second": pods / elapsed, "unschedulable": unschedulable}


def run_small_decision(repeats: int, seed: int) -> float:
    """Median microseconds for one decision on a 5-worker cluster with 30 pods already bound."""
    snapshot = build_cluster(5, seed)
    profile = default_profile()
    rng = random.Random(seed)
    pod_rng = random.Random(seed + 1)
    for index in range(30):
        pod = make_pod(index, pod_rng)
        result = schedule_pod(pod, snapshot, profile, rng)
        snapshot.add_pod(dict(pod, spec=dict(pod["spec"], nodeName=result.selected_node)))
    probe = make_pod(999_999, pod_rng)
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        schedule_pod(probe, snapshot, profile, rng)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--pods", type=int, default=150_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="500 nodes, 5,000 pods")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.nodes, arguments.pods = 500, 5000
    runs = [run_scale(arguments.nodes, arguments.pods, arguments.seed) for _ in range(arguments.runs)]
    rates = [run["pods_per_second"] for run in runs]
    print(f"scale: {arguments.pods} pods onto {arguments.nodes} nodes, default profile, {len(runs)} run(s)")
    print(f"  pods/s (median): {statistics.median(rates):.0f}   runs: {', '.join(f'{rate:.0f}' for rate in rates)}")
    print(f"  wall time (median): {statistics.median(run['seconds'] for run in runs):.1f} s, "
          f"unschedulable: {runs[0]['unschedulable']}")
    print(f"  peak memory (maxrss): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    print(f"one decision on a 5-worker cluster (median of 2000): {run_small_decision(2000, arguments.seed):.0f} us")


if __name__ == "__main__":
    main()
