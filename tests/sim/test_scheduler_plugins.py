"""Each default-profile plugin against values computed by hand from kube-scheduler v1.33's formulas."""
from cluster_sim.scheduler.framework import (UNSCHEDULABLE, UNSCHEDULABLE_AND_UNRESOLVABLE, CycleState,
                                             Snapshot)
from cluster_sim.scheduler.plugins.balanced_allocation import NodeResourcesBalancedAllocation
from cluster_sim.scheduler.plugins.image_locality import ImageLocality
from cluster_sim.scheduler.plugins.inter_pod_affinity import InterPodAffinity
from cluster_sim.scheduler.plugins.node_affinity import NodeAffinity
from cluster_sim.scheduler.plugins.node_name import NodeName
from cluster_sim.scheduler.plugins.node_ports import NodePorts
from cluster_sim.scheduler.plugins.node_resources_fit import NodeResourcesFit
from cluster_sim.scheduler.plugins.node_unschedulable import NodeUnschedulable
from cluster_sim.scheduler.plugins.pod_topology_spread import PodTopologySpread
from cluster_sim.scheduler.plugins.taint_toleration import TaintToleration

GI = 1024 ** 3
MIB = 1024 ** 2


def node(name, zone="zone-a", cpu="4", memory="8Gi", pods="110", labels=None, taints=None, images=None,
         unschedulable=False):
    all_labels = {"kubernetes.io/hostname": name, "topology.kubernetes.io/zone": zone}
    all_labels.update(labels or {})
    return {"metadata": {"name": name, "labels": all_labels},
            "spec": {"taints": taints or [], "unschedulable": unschedulable},
            "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": pods}, "images": images or []}}


def pod(name, cpu=None, memory=None, labels=None, node_name=None, **spec):
    requests = {}
    if cpu:
        requests["cpu"] = cpu
    if memory:
        requests["memory"] = memory
    body = {"metadata": {"name": name, "namespace": "default", "labels": labels or {}},
            "spec": {"containers": [{"name": "c", "image": spec.pop("image", "nginx:1.27"),
                                     "resources": {"requests": requests}}], **spec}}
    if node_name:
        body["spec"]["nodeName"] = node_name
    return body


def snapshot_of(nodes, pods=()):
    snapshot = Snapshot()
    for item in nodes:
        snapshot.add_node(item)
    for item in pods:
        snapshot.add_pod(item)
    return snapshot


def scores(plugin, snapshot, incoming):
    state = CycleState(snapshot)
    if hasattr(plugin, "pre_score"):
        status = plugin.pre_score(state, incoming, snapshot.node_infos)
        if status is not None:
            return status.code
    raw = [plugin.score(state, incoming, info) for info in snapshot.node_infos]
    if hasattr(plugin, "normalize_score"):
        plugin.normalize_score(state, incoming, snapshot.node_infos, raw)
    return dict(zip([info.name for info in snapshot.node_infos], raw))


def filters(plugin, snapshot, incoming):
    state = CycleState(snapshot)
    if hasattr(plugin, "pre_filter"):
        _names, status = plugin.pre_filter(state, incoming)
        if status is not None:
            return status
    return {info.name: plugin.filter(state, incoming, info) for info in snapshot.node_infos}


def test_node_resources_fit_rejects_with_every_insufficient_resource_and_too_many_pods():
    snapshot = snapshot_of([node("n1", cpu="2", memory="2Gi", pods="1")], [pod("old", "1500m", "1Gi", node_name="n1")])
    status = filters(NodeResourcesFit(), snapshot, pod("new", "1", "1500Mi"))["n1"]
    assert status.code == UNSCHEDULABLE
    assert status.reasons == ["Too many pods", "Insufficient cpu", "Insufficient memory"]
    # Asking for more than the node's whole allocatable cannot be fixed by preemption.
    assert filters(NodeResourcesFit(), snapshot, pod("huge", "3"))["n1"].code == UNSCHEDULABLE_AND_UNRESOLVABLE


def test_least_allocated_score_uses_non_zero_defaults():
    snapshot = snapshot_of([node("n1")], [pod("old", "1", "2Gi", node_name="n1")])
    # cpu (4000-2000)*100/4000 = 50, memory (8-3)*100/8 = 62 -> (50+62)//2 = 56
    assert scores(NodeResourcesFit(), snapshot, pod("new", "1", "1Gi")) == {"n1": 56}
    # no requests: 100m and 200Mi count -> cpu (4000-1100)*100/4000 = 72, memory (8Gi-2Gi-200Mi)*100/8Gi = 72
    assert scores(NodeResourcesFit(), snapshot, pod("empty")) == {"n1": 72}


def test_balanced_allocation_standard_deviation_and_best_effort_skip():
    snapshot = snapshot_of([node("n1")], [pod("old", "1", "2Gi", node_name="n1")])
    # fractions 0.5 and 0.375 -> std 0.0625 -> 93
    assert scores(NodeResourcesBalancedAllocation(), snapshot, pod("new", "1", "1Gi")) == {"n1": 93}
    assert scores(NodeResourcesBalancedAllocation(), snapshot, pod("best-effort")) == "Skip"


def test_image_locality_scales_by_spread_and_clamps():
    image = [{"names": ["docker.io/library/nginx:1.27"], "sizeBytes": 300 * MIB}]
    snapshot = snapshot_of([node("n1", images=image), node("n2", zone="zone-b", images=image), node("n3")])
    result = scores(ImageLocality(), snapshot, pod("p", image="docker.io/library/nginx:1.27"))
    # 300MiB x 2/3 = 200MiB -> 100 x (200-23)/(1000-23) = 18
    assert result == {"n1": 18, "n2": 18, "n3": 0}
    # "nginx" means nginx:latest, which no node has.
    assert scores(ImageLocality(), snapshot, pod("p", image="docker.io/library/nginx")) == {"n1": 0, "n2": 0, "n3": 0}


def test_taint_toleration_filter_message_and_reverse_normalised_score():
    unreachable = {"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"}
    soft = [{"key": "a", "value": "1", "effect": "PreferNoSchedule"}, {"key": "b", "effect": "PreferNoSchedule"}]
    snapshot = snapshot_of([node("n1", taints=[unreachable]), node("n2", taints=soft), node("n3", taints=soft[:1]),
                            node("n4")])
    result = filters(TaintToleration(), snapshot, pod("p"))
    assert result["n1"].reasons == ["node(s) had untolerated taint {node.kubernetes.io/unreachable: }"]
    assert result["n1"].code == UNSCHEDULABLE_AND_UNRESOLVABLE
    assert result["n2"] is None
    tolerant = pod("p", tolerations=[{"key": "node.kubernetes.io/unreachable", "operator": "Exists"}])
    assert filters(TaintToleration(), snapshot, tolerant)["n1"] is None
    assert scores(TaintToleration(), snapshot, pod("p")) == {"n1": 100, "n2": 0, "n3": 50, "n4": 100}


def test_node_affinity_selector_required_and_preferred():
    snapshot = snapshot_of([node("n1", labels={"disk": "ssd"}), node("n2", zone="zone-b", labels={"disk": "ssd"}),
                            node("n3", zone="zone-b")])
    selector_pod = pod("p", nodeSelector={"disk": "ssd"})
    result = filters(NodeAffinity(), snapshot, selector_pod)
    assert result["n1"] is None and result["n3"].reasons == ["node(s) didn't match Pod's node affinity/selector"]
    assert filters(NodeAffinity(), snapshot, pod("free")).code == "Skip"
    preferred = pod("p", affinity={"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 5, "preference": {"matchExpressions": [
            {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["zone-b"]}]}},
        {"weight": 3, "preference": {"matchExpressions": [{"key": "disk", "operator": "Exists"}]}}]}})
    # raw 3, 8, 5 -> x100/8 -> 37, 100, 62
    assert scores(NodeAffinity(), snapshot, preferred) == {"n1": 37, "n2": 100, "n3": 62}


def test_node_affinity_match_fields_narrow_the_nodes_like_daemonset_pods():
    snapshot = snapshot_of([node("n1"), node("n2")])
    daemon = pod("ds", affinity={"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n2"]}]}]}}})
    names, status = NodeAffinity().pre_filter(CycleState(snapshot), daemon)
    assert names == ["n2"] and status is None


def test_unschedulable_name_and_ports_filters():
    snapshot = snapshot_of([node("n1", unschedulable=True), node("n2")],
                           [dict(pod("web", node_name="n2"), spec={
                               "nodeName": "n2", "containers": [{"name": "c", "ports": [{"containerPort": 80, "hostPort": 80}]}]})])
    assert filters(NodeUnschedulable(), snapshot, pod("p"))["n1"].reasons == ["node(s) were unschedulable"]
    tolerant = pod("p", tolerations=[{"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}])
    assert filters(NodeUnschedulable(), snapshot, tolerant)["n1"] is None
    assert filters(NodeName(), snapshot, pod("p", nodeName="n2"))["n1"].reasons == ["node(s) didn't match the requested node name"]
    wants_port = pod("p")
    wants_port["spec"]["containers"][0]["ports"] = [{"containerPort": 8080, "hostPort": 80, "hostIP": "10.0.0.1"}]
    result = filters(NodePorts(), snapshot, wants_port)
    assert result["n1"] is None
    assert result["n2"].reasons == ["node(s) didn't have free ports for the requested pod ports"]
    assert filters(NodePorts(), snapshot, pod("no-ports")).code == "Skip"


def test_pod_topology_spread_filter_skew():
    web = {"app": "web"}
    snapshot = snapshot_of([node("n1"), node("n2", zone="zone-b"), node("n3", zone="zone-b")],
                           [pod("w1", labels=web, node_name="n1"), pod("w2", labels=web, node_name="n1")])
    spread = pod("new", labels=web, topologySpreadConstraints=[{
        "maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",
        "labelSelector": {"matchLabels": web}}])
    result = filters(PodTopologySpread(), snapshot, spread)
    # zone-a: 2 + 1 - 0 = 3 > 1
    assert result["n1"].reasons == ["node(s) didn't match pod topology spread constraints"]
    assert result["n2"] is None and result["n3"] is None
    unlabeled = snapshot_of([{"metadata": {"name": "bare", "labels": {}}, "spec": {},
                              "status": {"allocatable": {"cpu": "1", "memory": "1Gi", "pods": "10"}}}])
    assert filters(PodTopologySpread(), unlabeled, spread)["bare"].reasons == [
        "node(s) didn't match pod topology spread constraints (missing required label)"]


def test_pod_topology_spread_system_default_score():
    web = {"app": "web"}
    owner = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-abc", "controller": True}]
    snapshot = snapshot_of([node("n1"), node("n2"), node("n3", zone="zone-b")],
                           [pod("w1", labels=web, node_name="n1"), pod("w2", labels=web, node_name="n1")])
    snapshot.replica_sets["default/web-abc"] = {"metadata": {"name": "web-abc", "namespace": "default"},
                                                "spec": {"selector": {"matchLabels": web}}}
    incoming = pod("w3", labels=web)
    incoming["metadata"]["ownerReferences"] = owner
    # zone weight ln(2+2), hostname weight ln(3+2): n1 = round(2*1.386+4 + 2*1.609+2) = 12,
    # n2 = round(6.77 + 2) = 9, n3 = 4 + 2 = 6 -> 100*(12+6-s)/12
    assert scores(PodTopologySpread(), snapshot, incoming) == {"n1": 50, "n2": 75, "n3": 100}
    assert scores(PodTopologySpread(), snapshot, pod("orphan", labels=web)) == "Skip"


def test_inter_pod_affinity_filters():
    snapshot = snapshot_of([node("n1"), node("n2"), node("n3", zone="zone-b")],
                           [pod("web", labels={"app": "web"}, node_name="n1")])
    anti = pod("p", labels={"app": "web"}, affinity={"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}]}})
    result = filters(InterPodAffinity(), snapshot, anti)
    assert result["n1"].reasons == ["node(s) didn't match pod anti-affinity rules"] and result["n1"].code == UNSCHEDULABLE
    assert result["n2"] is None
    needs_db = pod("p", affinity={"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": "topology.kubernetes.io/zone"}]}})
    result = filters(InterPodAffinity(), snapshot, needs_db)
    assert {name: status.reasons for name, status in result.items()} == {
        name: ["node(s) didn't match pod affinity rules"] for name in ("n1", "n2", "n3")}
    # An existing pod's required anti-affinity keeps matching pods out of its zone.
    snapshot.add_pod(dict(anti, metadata=dict(anti["metadata"], name="guard", labels={"app": "guard"}),
                          spec=dict(anti["spec"], nodeName="n3")))
    assert filters(InterPodAffinity(), snapshot, pod("p2", labels={"app": "web"}))["n3"].reasons == [
        "node(s) didn't satisfy existing pods anti-affinity rules"]


def test_inter_pod_affinity_preferred_score():
    snapshot = snapshot_of([node("n1"), node("n2"), node("n3", zone="zone-b")],
                           [pod("db", labels={"app": "db"}, node_name="n1")])
    incoming = pod("p", affinity={"podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 10, "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": "db"}},
                                           "topologyKey": "topology.kubernetes.io/zone"}}]}})
    assert scores(InterPodAffinity(), snapshot, incoming) == {"n1": 100, "n2": 100, "n3": 0}
    assert scores(InterPodAffinity(), snapshot, pod("plain")) == "Skip"
