"""The incremental snapshot (NodeInfo updated on every bind and delete, cached pod requests,
skip shortcuts) must decide exactly like a snapshot rebuilt from scratch before each cycle."""
import random

import pytest

from cluster_sim.scheduler.framework import Snapshot
from cluster_sim.scheduler.plugins.registry import default_profile
from cluster_sim.scheduler.schedule import schedule_pod, simulator_annotations

ZONES = ["a", "b", "c"]


def random_node(rng, index):
    name = f"n{index}"
    taints = []
    if rng.random() < 0.2:
        taints.append({"key": "dedicated", "value": "gpu", "effect": rng.choice(["NoSchedule", "PreferNoSchedule"])})
    images = [{"names": [f"img{i}:1"], "sizeBytes": rng.randint(1, 900) * 1024 * 1024} for i in range(3) if rng.random() < 0.5]
    return {"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "topology.kubernetes.io/zone": rng.choice(ZONES),
                                                  "disk": rng.choice(["ssd", "hdd"])}},
            "spec": {"taints": taints, "unschedulable": rng.random() < 0.05},
            "status": {"allocatable": {"cpu": str(rng.choice([2, 4, 8])), "memory": f"{rng.choice([4, 8, 16])}Gi",
                                       "pods": str(rng.choice([5, 10, 110]))}, "images": images}}


def random_pod(rng, index):
    app = rng.choice(["web", "db", "cache"])
    spec = {"priority": rng.choice([0, 0, 10, 100]),
            "containers": [{"name": "c", "image": f"img{rng.randint(0, 3)}:1",
                            "resources": {"requests": {"cpu": f"{rng.choice([0, 100, 500, 1500])}m",
                                                       "memory": f"{rng.choice([0, 256, 1024])}Mi"}}}]}
    roll = rng.random()
    term = {"labelSelector": {"matchLabels": {"app": app}}, "topologyKey": rng.choice(["kubernetes.io/hostname", "topology.kubernetes.io/zone"])}
    if roll < 0.15:
        spec["affinity"] = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}
    elif roll < 0.3:
        spec["affinity"] = {"podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 7, "podAffinityTerm": term}]}}
    elif roll < 0.45:
        spec["topologySpreadConstraints"] = [{"maxSkew": 1, "topologyKey": term["topologyKey"],
                                              "whenUnsatisfiable": rng.choice(["DoNotSchedule", "ScheduleAnyway"]),
                                              "labelSelector": {"matchLabels": {"app": app}}}]
    elif roll < 0.55:
        spec["nodeSelector"] = {"disk": "ssd"}
    elif roll < 0.65:
        spec["tolerations"] = [{"key": "dedicated", "operator": "Exists"}]
    metadata = {"name": f"p{index}", "namespace": "default", "labels": {"app": app}}
    if rng.random() < 0.5:
        metadata["ownerReferences"] = [{"kind": "ReplicaSet", "name": f"{app}-rs", "controller": True}]
    return {"metadata": metadata, "spec": spec}


def rebuilt(nodes, bound, replica_sets):
    snapshot = Snapshot()
    for item in nodes:
        snapshot.add_node(item)
    for item in bound.values():
        snapshot.add_pod(item)
    snapshot.replica_sets = replica_sets
    return snapshot


def decision(result):
    return [result.selected_node, result.message, result.next_start_node_index, result.nominated_node_name,
            [victim["metadata"]["name"] for victim in result.victims], simulator_annotations(result)]


@pytest.mark.parametrize("seed", range(12))
def test_incremental_snapshot_decides_like_a_rebuilt_one(seed):
    rng = random.Random(seed)
    nodes = [random_node(rng, index) for index in range(rng.randint(3, 12))]
    replica_sets = {f"default/{app}-rs": {"spec": {"selector": {"matchLabels": {"app": app}}}} for app in ("web", "db", "cache")}
    live = rebuilt(nodes, {}, replica_sets)
    bound = {}
    profile = default_profile()
    live_rng, reference_rng = random.Random(seed), random.Random(seed)
    live_start = reference_start = 0
    for index in range(60):
        if bound and rng.random() < 0.15:
            name = rng.choice(sorted(bound))
            live.remove_pod(bound.pop(name))
            continue
        incoming = random_pod(rng, index)
        reference_snapshot = rebuilt(nodes, bound, replica_sets)
        expected = schedule_pod(incoming, reference_snapshot, profile, reference_rng, reference_start)
        actual = schedule_pod(incoming, live, profile, live_rng, live_start)
        assert decision(actual) == decision(expected), f"seed={seed} pod={index}"
        live_start, reference_start = actual.next_start_node_index, expected.next_start_node_index
        if actual.selected_node:
            placed = dict(incoming, spec=dict(incoming["spec"], nodeName=actual.selected_node))
            bound[placed["metadata"]["name"]] = placed
            live.add_pod(placed)


def test_snapshot_survives_a_state_round_trip():
    from cluster_sim.engine import decode_state, encode_state
    rng = random.Random(7)
    nodes = [random_node(rng, index) for index in range(6)]
    snapshot = rebuilt(nodes, {}, {})
    profile = default_profile()
    for index in range(20):
        result = schedule_pod(random_pod(rng, index), snapshot, profile, random.Random(index))
        if result.selected_node:
            snapshot.add_pod(dict(result.pod, spec=dict(result.pod["spec"], nodeName=result.selected_node)))
    restored = decode_state(encode_state(snapshot), None)
    assert [info.name for info in restored.node_infos] == [info.name for info in snapshot.node_infos]
    assert restored.node_infos[0] is restored.node_info_by_name[restored.node_infos[0].name]
    probe = random_pod(rng, 99)
    assert decision(schedule_pod(probe, restored, profile, random.Random(1))) == decision(
        schedule_pod(probe, snapshot, profile, random.Random(1)))
