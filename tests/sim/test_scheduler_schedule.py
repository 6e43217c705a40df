"""The scheduling cycle: FailedScheduling messages, node sampling, rotation, tie-breaking,
preemption and kube-scheduler-simulator annotations."""
import json
import random

from cluster_sim.scheduler.framework import Snapshot
from cluster_sim.scheduler.plugins.registry import default_profile
from cluster_sim.scheduler.schedule import num_feasible_nodes_to_find, schedule_pod, simulator_annotations
from tests.sim.test_scheduler_plugins import node, pod

UNREACHABLE = {"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"}


def cluster(nodes, pods=()):
    snapshot = Snapshot()
    for item in nodes:
        snapshot.add_node(item)
    for item in pods:
        snapshot.add_pod(item)
    return snapshot


def test_percentage_of_nodes_to_score():
    assert [num_feasible_nodes_to_find(n) for n in (5, 99, 100, 200, 1000, 5000, 6000, 10000)] == [
        5, 99, 100, 100, 420, 500, 300, 500]
    assert num_feasible_nodes_to_find(1000, 30) == 300


def test_failed_scheduling_message_with_preemption_suffix():
    snapshot = cluster([node("n1", taints=[UNREACHABLE]), node("n2"), node("n3")],
                       [pod("a", "3", node_name="n2"), pod("b", "3", node_name="n3")])
    result = schedule_pod(pod("big", "2"), snapshot, default_profile(), random.Random(1))
    assert result.selected_node is None
    assert result.message == (
        "0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, "
        "2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, "
        "2 No preemption victims found for incoming pod.")
    too_big = schedule_pod(pod("huge", "8"), snapshot, default_profile(), random.Random(1))
    assert too_big.message == (
        "0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, "
        "2 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.")
    never = pod("never", "2", preemptionPolicy="Never")
    assert schedule_pod(never, snapshot, default_profile(), random.Random(1)).message.endswith(
        "2 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.")


def test_daemonset_style_pod_only_tries_its_node():
    snapshot = cluster([node("n1"), node("n2"), node("n3")], [pod("a", "4", node_name="n2")])
    daemon = pod("ds", "1", affinity={"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n2"]}]}]}}})
    result = schedule_pod(daemon, snapshot, default_profile(), random.Random(1))
    assert result.message == ("0/3 nodes are available: 1 Insufficient cpu, "
                              "2 node(s) didn't satisfy plugin(s) [NodeAffinity]. preemption: 0/3 nodes are "
                              "available: 1 No preemption victims found for incoming pod, "
                              "2 Preemption is not helpful for scheduling.")
    assert list(result.node_statuses) == ["n2"]


def test_tie_breaking_is_uniform_and_reproducible_under_a_seed():
    nodes = [node(f"n{i}") for i in range(4)]
    chosen = [schedule_pod(pod("p", "1"), cluster(nodes), default_profile(), random.Random(seed)).selected_node
              for seed in range(200)]
    assert set(chosen) == {"n0", "n1", "n2", "n3"}, chosen
    again = [schedule_pod(pod("p", "1"), cluster(nodes), default_profile(), random.Random(seed)).selected_node
             for seed in range(200)]
    assert chosen == again
    counts = [chosen.count(name) for name in ("n0", "n1", "n2", "n3")]
    assert min(counts) > 25, counts


def test_least_loaded_node_wins_and_start_index_rotates():
    snapshot = cluster([node("n1"), node("n2"), node("n3")], [pod("a", "2", "4Gi", node_name="n1")])
    result = schedule_pod(pod("p", "1", "1Gi"), snapshot, default_profile(), random.Random(3), next_start_node_index=1)
    assert result.selected_node in ("n2", "n3")
    assert result.next_start_node_index == 1  # all 3 nodes evaluated: (1 + 3) % 3
    assert list(result.node_statuses) == ["n2", "n3", "n1"]
    totals = result.scores_by_node()
    assert totals["n2"] == totals["n3"] > totals["n1"]


def test_sampling_stops_after_enough_feasible_nodes():
    nodes = [node(f"n{i:03d}") for i in range(1000)]
    result = schedule_pod(pod("p", "1"), cluster(nodes), default_profile(), random.Random(1), next_start_node_index=990)
    assert len(result.feasible_nodes) == 420
    assert result.next_start_node_index == (990 + 420) % 1000
    assert result.feasible_nodes[0] == cluster(nodes).node_infos[990].name


def test_nodes_are_ordered_round_robin_across_zones():
    snapshot = cluster([node("a1", zone="a"), node("a2", zone="a"), node("a3", zone="a"), node("b1", zone="b")])
    assert [info.name for info in snapshot.node_infos] == ["a1", "b1", "a2", "a3"]


def test_preemption_evicts_the_fewest_lowest_priority_pods():
    snapshot = cluster([node("n1", cpu="4")], [
        pod("p1", "1", node_name="n1", priority=1), pod("p5", "1", node_name="n1", priority=5),
        pod("p10", "2", node_name="n1", priority=10)])
    result = schedule_pod(pod("urgent", "1", priority=8), snapshot, default_profile(), random.Random(1))
    assert result.selected_node is None
    assert result.nominated_node_name == "n1"
    assert [victim["metadata"]["name"] for victim in result.victims] == ["p1"]
    assert result.message == "0/1 nodes are available: 1 Insufficient cpu."


def test_preemption_prefers_the_node_whose_most_important_victim_is_least_important():
    snapshot = cluster([node("n1", cpu="1"), node("n2", cpu="1", zone="zone-b")], [
        pod("mid", "1", node_name="n1", priority=5), pod("low", "1", node_name="n2", priority=1)])
    result = schedule_pod(pod("urgent", "1", priority=8), snapshot, default_profile(), random.Random(1))
    assert result.nominated_node_name == "n2"
    assert [victim["metadata"]["name"] for victim in result.victims] == ["low"]


def test_simulator_annotations():
    snapshot = cluster([node("n1", taints=[UNREACHABLE]), node("n2"), node("n3")], [pod("a", "2", node_name="n2")])
    result = schedule_pod(pod("p", "1", "1Gi"), snapshot, default_profile(), random.Random(1))
    annotations = simulator_annotations(result)
    prefix = "kube-scheduler-simulator.sigs.k8s.io/"
    assert annotations[prefix + "selected-node"] == "n3"
    filters = json.loads(annotations[prefix + "filter-result"])
    assert filters["n1"] == {"NodeUnschedulable": "passed", "NodeName": "passed",
                             "TaintToleration": "node(s) had untolerated taint {node.kubernetes.io/unreachable: }"}
    assert filters["n3"] == {"NodeUnschedulable": "passed", "NodeName": "passed", "TaintToleration": "passed",
                             "NodeResourcesFit": "passed"}
    raw = json.loads(annotations[prefix + "score-result"])
    final = json.loads(annotations[prefix + "finalscore-result"])
    # n3 empty: cpu (4000-1000)/4000 -> 75, memory 87 -> 81; TaintToleration 0 raw -> 100 x 3
    assert raw["n3"]["NodeResourcesFit"] == "81" and final["n3"]["TaintToleration"] == "300"
    assert set(raw["n3"]) == {"TaintToleration", "NodeResourcesFit", "NodeResourcesBalancedAllocation", "ImageLocality"}
    assert json.loads(annotations[prefix + "prefilter-result-status"])["NodeAffinity"] == ""
    assert annotations[prefix + "bind-result"] == '{"DefaultBinder":"success"}'
    assert annotations[prefix + "filter-result"] == json.dumps(filters, sort_keys=True, separators=(",", ":"))
