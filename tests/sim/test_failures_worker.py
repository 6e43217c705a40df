"""A worker that fails (power loss, kubelet stopped, network cut) seen end to end in the `basic`
scenario, with the timings of Kubernetes v1.33:

- the kubelet renews its Lease every 10 s; the node lifecycle controller probes every 5 s
  (`--node-monitor-period`, each pass about 1 ms after the end of the last) and declares the node
  Unknown once 50 s (`--node-monitor-grace-period`) have passed since the pass that saw the last
  renewal: 50 s after the renewal, plus up to one 5 s period, plus the passes' drift;
- the unreachable NoSchedule taint follows at once, the NoExecute one through the 100 ms taint
  pass; pods tolerate it for 300 s (DefaultTolerationSeconds), then the taint eviction controller
  deletes them and their ReplicaSets create replacements at once.
"""
from __future__ import annotations

import pytest

from tests.sim.scenario_helpers import (ScenarioRun, condition, container_state, is_terminating,
                                        kubectl_node_status, live_pods, names, pod_is_ready, taint_keys)

SEED = 1
FAIL_AT_MS = 60_000
GRACE_MS = 50_000
MONITOR_PERIOD_MS = 5_000
# Ten monitor passes drift 1 ms each, plus network latency of the writes.
DRIFT_MS = 20
TOLERATION_MS = 300_000
TAINT_PASS_MS = 100
VICTIM = "worker-2"


def settled_run() -> ScenarioRun:
    run = ScenarioRun("basic", SEED)
    run.run_until(FAIL_AT_MS)
    return run


def victims_on(run: ScenarioRun, node: str) -> list[dict]:
    return [pod for pod in run.objects("Pod") if pod["spec"].get("nodeName") == node]


def owned_by_daemonset(pod: dict) -> bool:
    return any(owner.get("kind") == "DaemonSet" for owner in pod["metadata"].get("ownerReferences") or [])


def assert_not_ready_on_time(run: ScenarioRun, last_renewal_ms: int) -> int:
    unknown = run.first("node.condition", node=VICTIM, condition="Ready", status="Unknown")
    assert unknown is not None, run
    delay_ms = unknown.time_ms - last_renewal_ms
    assert GRACE_MS < delay_ms <= GRACE_MS + MONITOR_PERIOD_MS + DRIFT_MS, (run, delay_ms)
    return unknown.time_ms


@pytest.fixture(scope="module")
def power_loss() -> dict:
    """node.fail worker-2 at 60 s, a look at 2 min and just before recovery, node.recover at 7m50s."""
    run = settled_run()
    pods_before = victims_on(run, VICTIM)
    run.act("node.fail", VICTIM)
    last_renewal_ms = run.lease_renew_ms(VICTIM)
    run.run_until(120_000)
    at_two_minutes = {"node": run.node(VICTIM), "pods": run.objects("Pod"),
                      "endpoints": run.ready_endpoint_pods("web"),
                      "proxy_worker_1": run.proxy_endpoint_pods("worker-1", "web")}
    run.run_until(469_000)
    before_recovery = {"pods": run.objects("Pod"), "lease_renew_ms": run.lease_renew_ms(VICTIM)}
    recovered_ms = run.act("node.recover", VICTIM)
    run.run_until(recovered_ms + 30_000)
    return {"run": run, "pods_before": pods_before, "last_renewal_ms": last_renewal_ms,
            "at_two_minutes": at_two_minutes, "before_recovery": before_recovery, "recovered_ms": recovered_ms}


def test_lease_stops_and_node_goes_not_ready_after_the_grace_period(power_loss):
    run, last_renewal_ms = power_loss["run"], power_loss["last_renewal_ms"]
    renewals = run.find("kubelet.lease.renew", target=VICTIM, since_ms=FAIL_AT_MS)
    assert all(e.time_ms >= power_loss["recovered_ms"] for e in renewals), run
    assert power_loss["before_recovery"]["lease_renew_ms"] == last_renewal_ms, run
    unknown_ms = assert_not_ready_on_time(run, last_renewal_ms)

    node = power_loss["at_two_minutes"]["node"]
    ready = condition(node, "Ready")
    assert kubectl_node_status(node) == "NotReady"
    assert [ready["status"], ready["reason"], ready["message"]] == \
        ["Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status."]
    for pressure in ("MemoryPressure", "DiskPressure", "PIDPressure"):
        assert condition(node, pressure)["status"] == "Unknown"
    node_events = run.k8s_events("NodeNotReady", object_ref=f"node/{VICTIM}")
    assert [e.payload["message"] for e in node_events] == [f"Node {VICTIM} status is now: NodeNotReady"]
    assert node_events[0].time_ms == unknown_ms


def test_unreachable_taints_come_at_once_then_through_the_rate_limited_pass(power_loss):
    run = power_loss["run"]
    unknown = run.first("node.condition", node=VICTIM, condition="Ready")
    no_schedule = run.first("node.taint", node=VICTIM, key="node.kubernetes.io/unreachable", effect="NoSchedule", added=True)
    no_execute = run.first("node.taint", node=VICTIM, key="node.kubernetes.io/unreachable", effect="NoExecute", added=True)
    assert 0 <= no_schedule.time_ms - unknown.time_ms <= 5, run
    assert 0 < no_execute.time_ms - unknown.time_ms <= TAINT_PASS_MS + 5, run
    assert taint_keys(power_loss["at_two_minutes"]["node"]) == \
        ["node.kubernetes.io/unreachable:NoExecute", "node.kubernetes.io/unreachable:NoSchedule"]


def test_pods_of_the_lost_node_become_unready_and_leave_the_service(power_loss):
    run, snapshot = power_loss["run"], power_loss["at_two_minutes"]
    web_victims = [p for p in power_loss["pods_before"] if (p["metadata"].get("labels") or {}).get("app") == "web"]
    assert len(web_victims) == 1, run
    victim_name = web_victims[0]["metadata"]["name"]
    on_node = [p for p in snapshot["pods"] if p["spec"].get("nodeName") == VICTIM]
    assert on_node and not any(pod_is_ready(pod) for pod in on_node)
    # The controller marks them; nobody on the dead node can say otherwise: still "Running".
    assert {pod["status"]["phase"] for pod in on_node} == {"Running"}
    assert victim_name not in snapshot["endpoints"] and len(snapshot["endpoints"]) == 2
    assert snapshot["proxy_worker_1"] == snapshot["endpoints"]
    warnings = run.k8s_events("NodeNotReady", object_ref=f"pod/{victim_name}")
    assert [w.payload["message"] for w in warnings] == ["Node is not ready"]


def test_pods_are_evicted_300_s_after_the_no_execute_taint_and_stay_terminating(power_loss):
    run = power_loss["run"]
    no_execute = run.first("node.taint", node=VICTIM, effect="NoExecute", added=True)
    expected = sorted(f"{p['metadata']['namespace']}/{p['metadata']['name']}"
                      for p in power_loss["pods_before"] if not owned_by_daemonset(p))
    evictions = run.find("pod.evict", reason="TaintManagerEviction")
    assert sorted(e.payload["pod"] for e in evictions) == expected, run
    for eviction in evictions:
        assert 0 <= eviction.time_ms - no_execute.time_ms - TOLERATION_MS <= 5, (run, eviction)
    messages = [e.payload["message"] for e in run.k8s_events("TaintManagerEviction")]
    assert sorted(messages) == sorted(f"Marking for deletion Pod {key}" for key in expected)

    stuck = {f"{p['metadata']['namespace']}/{p['metadata']['name']}": p
             for p in power_loss["before_recovery"]["pods"] if p["spec"].get("nodeName") == VICTIM}
    for key in expected:
        assert is_terminating(stuck[key]), key
        assert condition(stuck[key], "DisruptionTarget")["reason"] == "DeletionByTaintManager"
    # DaemonSet pods tolerate the taint forever.
    daemon_pods = [p for p in stuck.values() if owned_by_daemonset(p)]
    assert daemon_pods and not any(is_terminating(p) for p in daemon_pods)


def test_replacements_appear_5m50s_to_6m_after_the_last_heartbeat_and_run_elsewhere(power_loss):
    run = power_loss["run"]
    first_eviction = run.first("pod.evict", reason="TaintManagerEviction")
    created = run.k8s_events("SuccessfulCreate", since_ms=FAIL_AT_MS)
    assert len(created) == 3, run  # one web pod and two coredns pods
    for event in created:
        assert 0 <= event.time_ms - first_eviction.time_ms <= 100, event
        assert 350_000 <= event.time_ms - power_loss["last_renewal_ms"] <= 360_000 + DRIFT_MS, event
    pods = power_loss["before_recovery"]["pods"]
    web = live_pods([p for p in pods if (p["metadata"].get("labels") or {}).get("app") == "web"])
    assert len(web) == 3
    for pod in web:
        assert pod["spec"]["nodeName"] != VICTIM and pod["status"]["phase"] == "Running" and pod_is_ready(pod)


def test_recovered_node_is_ready_untainted_and_its_old_pods_are_cleaned_up(power_loss):
    run, recovered_ms = power_loss["run"], power_loss["recovered_ms"]
    node_ready = run.k8s_events("NodeReady", since_ms=recovered_ms, object_ref=f"node/{VICTIM}")
    # Registration (100 ms backoff) then the first status update right away.
    assert node_ready and node_ready[0].time_ms - recovered_ms <= 300, run
    node = run.node(VICTIM)
    assert kubectl_node_status(node) == "Ready" and taint_keys(node) == []
    removed = run.find("node.taint", node=VICTIM, added=False, since_ms=recovered_ms)
    assert {e.payload["effect"] for e in removed} == {"NoSchedule", "NoExecute"}
    assert max(e.time_ms for e in removed) - node_ready[0].time_ms <= MONITOR_PERIOD_MS + DRIFT_MS

    evicted = {e.payload["pod"] for e in run.find("pod.evict")}
    remaining = {f"{p['metadata']['namespace']}/{p['metadata']['name']}" for p in run.objects("Pod")}
    assert not evicted & remaining, run
    # The runtime lost everything with the power; the kubelet restarted only the DaemonSet pod.
    assert [c.split("/")[0] + "/" + c.split("/")[2] for c in run.running_containers(VICTIM)] == \
        ["kube-system/kube-proxy"]
    proxy_pod = next(p for p in run.objects("Pod", "kube-system") if p["spec"].get("nodeName") == VICTIM)
    assert container_state(proxy_pod)["restartCount"] == 1 and pod_is_ready(proxy_pod)
    assert len(live_pods(run.pods("web"))) == 3


def test_stopped_kubelet_leaves_containers_running_until_it_returns():
    run = settled_run()
    victim_pods = victims_on(run, VICTIM)
    containers_before = run.running_containers(VICTIM)
    run.act("kubelet.stop", VICTIM)
    last_renewal_ms = run.lease_renew_ms(VICTIM)
    run.run_until(120_000)
    assert_not_ready_on_time(run, last_renewal_ms)
    web_victim = next(p["metadata"]["name"] for p in victim_pods if p["metadata"]["name"].startswith("web-"))
    assert web_victim not in run.ready_endpoint_pods("web")
    assert run.running_containers(VICTIM) == containers_before, run

    run.run_until(420_000)
    evicted = {e.payload["pod"] for e in run.find("pod.evict")}
    assert f"default/{web_victim}" in evicted
    # Deleted in the API, yet nobody told the runtime: the containers still run.
    assert is_terminating(run.get("Pod", web_victim, "default"))
    assert run.running_containers(VICTIM) == containers_before, run

    started_ms = run.act("kubelet.start", VICTIM)
    run.run_until(started_ms + 20_000)
    killing = [e for e in run.k8s_events("Killing", since_ms=started_ms) if e.payload["object"] == f"pod/{web_victim}"]
    assert killing and killing[0].time_ms - started_ms <= 100, run
    assert run.get("Pod", web_victim, "default") is None, run
    assert all("/kube-proxy-" in name for name in run.running_containers(VICTIM)), run
    node = run.node(VICTIM)
    assert kubectl_node_status(node) == "Ready" and taint_keys(node) == []
    node_ready = run.k8s_events("NodeReady", since_ms=started_ms, object_ref=f"node/{VICTIM}")
    assert node_ready and node_ready[0].time_ms - started_ms <= 300


def test_partitioned_worker_keeps_running_and_recovers_readiness_when_healed():
    run = settled_run()
    web_victim = next(p["metadata"]["name"] for p in victims_on(run, VICTIM) if p["metadata"]["name"].startswith("web-"))
    containers_before = run.running_containers(VICTIM)
    run.act("network.partition", VICTIM)
    last_renewal_ms = run.lease_renew_ms(VICTIM)
    run.run_until(130_000)
    assert_not_ready_on_time(run, last_renewal_ms)
    assert run.running_containers(VICTIM) == containers_before, run
    assert web_victim not in run.ready_endpoint_pods("web")
    assert web_victim not in run.proxy_endpoint_pods("worker-1", "web")
    # The cut-off node never heard of the change: its own rules still send traffic to its pod.
    assert web_victim in run.proxy_endpoint_pods(VICTIM, "web")

    # Healed before the 300 s toleration ran out: nothing is evicted, everything returns.
    healed_ms = run.act("network.heal", VICTIM)
    run.run_until(healed_ms + 30_000)
    assert not run.find("pod.evict"), run
    node_ready = run.k8s_events("NodeReady", since_ms=healed_ms, object_ref=f"node/{VICTIM}")
    # The kubelet relists, sees Unknown and reports at its next 10 s (x1.04) status tick.
    assert node_ready and node_ready[0].time_ms - healed_ms <= 15_000, run
    node = run.node(VICTIM)
    assert kubectl_node_status(node) == "Ready" and taint_keys(node) == []
    # Its status manager puts back Ready=True within one 10 s sync, so the pod serves again.
    assert pod_is_ready(run.get("Pod", web_victim, "default"))
    assert web_victim in run.ready_endpoint_pods("web")
    assert run.running_containers(VICTIM) == containers_before
    assert names(live_pods(run.pods("web"))) == names(run.pods("web"))


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_not_ready_window_holds_for_other_seeds(seed):
    run = ScenarioRun("basic", seed)
    run.run_until(FAIL_AT_MS)
    run.act("node.fail", VICTIM)
    last_renewal_ms = run.lease_renew_ms(VICTIM)
    run.run_until(FAIL_AT_MS + GRACE_MS + 2 * MONITOR_PERIOD_MS)
    unknown_ms = assert_not_ready_on_time(run, last_renewal_ms)
    no_execute = run.first("node.taint", node=VICTIM, effect="NoExecute", added=True)
    assert no_execute is not None and 0 < no_execute.time_ms - unknown_ms <= TAINT_PASS_MS + 5, run
