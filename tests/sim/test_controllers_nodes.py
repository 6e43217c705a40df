"""Node failure, taints, eviction, zones, the cloud-controller-manager and snapshot/restore."""
from __future__ import annotations

from cluster_sim.engine import Simulation
from cluster_sim.timefmt import parse_time_ms
from tests.sim.test_controllers_harness import Harness, deployment, service

START = 1_750_000_000_000


def last_renewal_ms(h: Harness, node: str) -> int:
    lease = h.get("leases", node, "kube-node-lease")
    return parse_time_ms(lease["spec"]["renewTime"]) - START


def fail_node(h: Harness, node: str) -> int:
    """Stop the node's kubelet; returns the virtual time of its last lease renewal."""
    h.kubelets[node].stop()
    return last_renewal_ms(h, node)


def first(h: Harness, kind: str, **fields) -> object:
    for event in h.stream(kind):
        if all(event.payload.get(k) == v for k, v in fields.items()):
            return event
    return None


def test_dead_kubelet_goes_unknown_tainted_and_evicted_on_real_timings():
    h = Harness()
    h.create("deployments", deployment("web", 3))
    h.run_for(25_000)
    victims = [p["metadata"]["name"] for p in h.pods() if p["spec"]["nodeName"] == "node-1"]
    assert victims
    renewed = fail_node(h, "node-1")
    h.run_for(400_000)

    unknown = first(h, "node.condition", node="node-1", condition="Ready", status="Unknown")
    # Grace 50 s from the first monitor pass that saw the renewal (passes every 5 s, each a
    # millisecond later than the last, as wait.Until's sliding period drifts).
    assert unknown is not None and renewed + 50_000 <= unknown.time_ms <= renewed + 55_000 + 20
    node_event = [e for e in h.k8s_events("NodeNotReady") if e.payload["object"] == "node/node-1"]
    assert node_event and node_event[0].payload["message"] == "Node node-1 status is now: NodeNotReady"
    node = h.get("nodes", "node-1", None)
    ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"][0]
    assert [ready["reason"], ready["message"]] == ["NodeStatusUnknown", "Kubelet stopped posting node status."]

    no_schedule = first(h, "node.taint", node="node-1", key="node.kubernetes.io/unreachable", effect="NoSchedule", added=True)
    no_execute = first(h, "node.taint", node="node-1", key="node.kubernetes.io/unreachable", effect="NoExecute", added=True)
    assert no_schedule.time_ms - unknown.time_ms < 1_000
    assert no_execute.time_ms - unknown.time_ms < 1_000

    evicted = [e for e in h.stream("pod.evict") if e.payload["reason"] == "TaintManagerEviction"]
    assert sorted(e.payload["pod"] for e in evicted) == sorted(f"default/{name}" for name in victims)
    for event in evicted:
        assert 300_000 <= event.time_ms - no_execute.time_ms <= 301_000
    messages = [e.payload["message"] for e in h.k8s_events("TaintManagerEviction")]
    assert f"Marking for deletion Pod default/{victims[0]}" in messages
    # The pods stay Terminating (nobody confirms) and the ReplicaSet replaced them at once.
    pods = h.pods()
    stuck = [p for p in pods if p["metadata"]["name"] in victims]
    assert stuck and all(p["metadata"].get("deletionTimestamp") for p in stuck)
    live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    assert len(live) == 3 and all(p["spec"]["nodeName"] != "node-1" for p in live)
    replacement = min(e.time_ms for e in h.k8s_events("SuccessfulCreate") if e.time_ms > evicted[0].time_ms)
    assert replacement - evicted[0].time_ms < 5_000


def test_pods_on_an_unknown_node_leave_the_service_endpoints():
    h = Harness()
    h.create("deployments", deployment("web", 3))
    h.create("services", service("web", {"app": "web"}))
    h.run_for(25_000)
    fail_node(h, "node-2")
    h.run_for(70_000)
    subset = h.get("endpoints", "web")["subsets"][0]
    assert {a["nodeName"] for a in subset["addresses"]} == {"node-1", "node-3"}
    assert [a["nodeName"] for a in subset["notReadyAddresses"]] == ["node-2"]


def test_node_that_comes_back_loses_its_taints():
    h = Harness()
    fail_node(h, "node-3")
    h.run_for(70_000)
    assert any(t["key"] == "node.kubernetes.io/unreachable" for t in h.get("nodes", "node-3", None)["spec"]["taints"])
    h.kubelets["node-3"].start()
    h.run_for(10_000)
    node = h.get("nodes", "node-3", None)
    assert node["spec"].get("taints") in (None, [])
    removed = {(e.payload["key"], e.payload["effect"]) for e in h.stream("node.taint")
               if e.payload["node"] == "node-3" and not e.payload["added"]}
    assert {("node.kubernetes.io/unreachable", "NoSchedule"), ("node.kubernetes.io/unreachable", "NoExecute")} <= removed


def test_partial_zone_disruption_stops_no_execute_tainting_in_a_small_zone():
    workers = ["a-1", "a-2", "a-3", "a-4", "b-1"]
    zones = {"a-1": "zone-a", "a-2": "zone-a", "a-3": "zone-a", "a-4": "zone-a", "b-1": "zone-b"}
    h = Harness(workers=workers, zones=zones)
    for node in ("a-1", "a-2", "a-3"):
        h.kubelets[node].stop()
    h.run_for(120_000)
    assert first(h, "zone.state", zone="zone-a", state="PartialDisruption") is not None
    no_execute = [e for e in h.stream("node.taint") if e.payload["effect"] == "NoExecute" and e.payload["added"]]
    assert no_execute == []
    assert all(first(h, "node.condition", node=n, condition="Ready", status="Unknown") for n in ("a-1", "a-2", "a-3"))


def test_full_disruption_of_every_zone_evicts_nothing():
    h = Harness(workers=["node-1", "node-2"])
    h.create("deployments", deployment("web", 2))
    h.run_for(20_000)
    for kubelet in h.kubelets.values():
        kubelet.stop()
    h.run_for(420_000)
    assert first(h, "zone.state", zone="zone-a", state="FullDisruption") is not None
    assert h.stream("pod.evict") == []
    assert not any(e.payload["effect"] == "NoExecute" and e.payload["added"] for e in h.stream("node.taint"))


def test_no_execute_taints_are_rate_limited_per_zone():
    workers = [f"node-{i}" for i in range(1, 11)]
    h = Harness(workers=workers)
    for node in ("node-1", "node-2"):
        h.kubelets[node].stop()
    h.run_for(90_000)
    times = sorted(e.time_ms for e in h.stream("node.taint") if e.payload["effect"] == "NoExecute" and e.payload["added"])
    assert len(times) == 2 and 9_900 <= times[1] - times[0] <= 10_200


def test_cloud_load_balancer_gets_an_ingress_ip_after_provisioning():
    h = Harness(cloud=True)
    h.create("deployments", deployment("web", 1))
    h.create("services", service("web", {"app": "web"}, service_type="LoadBalancer"))
    created = h.sim.now_ms
    h.run_for(60_000)
    svc = h.get("services", "web")
    assert svc["status"]["loadBalancer"]["ingress"][0]["ip"] == "203.0.113.1"
    assert "service.kubernetes.io/load-balancer-cleanup" in svc["metadata"]["finalizers"]
    ensuring, = h.k8s_events("EnsuringLoadBalancer")
    ensured, = h.k8s_events("EnsuredLoadBalancer")
    assert ensuring.time_ms - created < 1_000
    assert 15_000 <= ensured.time_ms - ensuring.time_ms <= 45_000
    h.api("delete", "services", namespace="default", name="web")
    h.run_for(5_000)
    assert h.get("services", "web") is None and h.cloud.load_balancers == {}
    assert h.k8s_events("DeletedLoadBalancer")


def test_node_whose_machine_is_gone_is_deleted_and_its_pods_collected():
    h = Harness(cloud=True)
    h.create("deployments", deployment("web", 3))
    h.run_for(20_000)
    on_node = [p["metadata"]["name"] for p in h.pods() if p["spec"]["nodeName"] == "node-2"]
    h.cloud.remove_machine("node-2")
    renewed = fail_node(h, "node-2")
    h.run_for(150_000)
    deleting = h.k8s_events("DeletingNode")
    assert [e.payload["message"] for e in deleting] == ["Deleting node node-2 because it does not exist in the cloud provider"]
    assert renewed + 50_000 <= deleting[0].time_ms <= renewed + 61_000
    assert h.get("nodes", "node-2", None) is None
    assert h.get("leases", "node-2", "kube-node-lease") is None, "the node's Lease is garbage-collected"
    names = [p["metadata"]["name"] for p in h.pods()]
    assert on_node and not set(on_node) & set(names)
    assert len(names) == 3


def test_new_leader_takes_over_after_a_controller_manager_crash():
    h = Harness()
    h.kcm.stop()
    h.create("deployments", deployment("web", 2))
    h.run_for(5_000)
    assert h.pods() == []
    h.kcm.start()
    h.run_for(30_000)
    assert len(h.pods()) == 2
    acquired = [e for e in h.stream("leader.acquired") if e.payload["lease"] == "kube-system/kube-controller-manager"]
    assert len(acquired) == 2


def test_snapshot_restore_continues_identically():
    h = Harness(seed=7)
    h.create("deployments", deployment("web", 3))
    h.run_for(20_000)
    h.kubelets["node-1"].stop()
    h.run_for(40_000)
    snapshot = h.sim.snapshot()
    restored = Simulation.restore(snapshot)
    end = h.sim.now_ms + 30_000
    original_events = [e.as_dict() for e in h.sim.events_until(end)]
    restored_events = [e.as_dict() for e in restored.events_until(end)]
    assert original_events == restored_events
    assert any(e["kind"] == "node.condition" for e in original_events)
