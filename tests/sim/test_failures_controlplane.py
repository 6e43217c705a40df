"""The only control-plane node fails (`controlplane-failure`: down at 30 s, a container crash at
1 m, back at 3 m). The data plane carries on without the API; after recovery everything
reconciles, and the restarted node lifecycle controller gives every node a fresh grace period
instead of evicting pods whose heartbeats it could not see."""
from __future__ import annotations

import pytest

from tests.sim.scenario_helpers import (ScenarioRun, container_state, kubectl_node_status, live_pods, pod_is_ready,
                                        taint_keys)

SEED = 3
DOWN_MS = 30_000
CRASH_MS = 60_000
UP_MS = 180_000
LEASE_DURATION_MS = 15_000
# client-go's leader election retries every 2 s x [1, 2.2): observing a new record, then acting.
MAX_RETRY_MS = 4_400


@pytest.fixture(scope="module")
def outage() -> dict:
    run = ScenarioRun("controlplane-failure", SEED)
    run.run_until(DOWN_MS - 1)
    web_before = sorted(p["metadata"]["name"] for p in run.pods("web"))
    run.run_until(40_000)
    run.act("scale", "default/web", replicas=5)
    run.act("service.request", "default/web", **{"from": "worker-1"})
    run.act("service.request", "default/web", **{"from": "worker-3"})
    run.run_until(CRASH_MS + 5_000)
    containers_during = {node: run.running_containers(node) for node in ("worker-1", "worker-2", "worker-3")}
    run.run_until(UP_MS + 60_000)
    scaled_ms = run.act("scale", "default/web", replicas=5)
    run.run_until(scaled_ms + 30_000)
    return {"run": run, "web_before": web_before, "containers_during": containers_during, "scaled_ms": scaled_ms}


def test_api_actions_fail_and_nothing_is_scheduled_while_the_control_plane_is_down(outage):
    run = outage["run"]
    results = run.action_results("scale")
    assert results[0].time_ms < UP_MS and results[0].payload["ok"] is False, run
    assert not [e for e in run.find("api.response", since_ms=DOWN_MS) if e.time_ms < UP_MS]
    assert not [e for e in run.k8s_events("Scheduled", since_ms=DOWN_MS) if e.time_ms < UP_MS]
    assert not [e for e in run.find("controller.sync", since_ms=DOWN_MS) if e.time_ms < UP_MS]


def test_running_pods_keep_serving_through_the_last_programmed_rules(outage):
    run = outage["run"]
    routes = [e for e in run.find("proxy.route", since_ms=DOWN_MS) if e.time_ms < UP_MS]
    assert len(routes) == 2 and not run.find("proxy.reject"), run
    assert {e.payload["pod"] for e in routes} <= set(outage["web_before"])
    running_web = sorted(c.split("/")[1] for containers in outage["containers_during"].values()
                         for c in containers if c.startswith("default/web-"))
    assert running_web == outage["web_before"]


def test_kubelet_restarts_a_crashed_container_without_the_api(outage):
    run = outage["run"]
    states = [e for e in run.find("container.state", target="default/logger", since_ms=CRASH_MS) if e.time_ms < UP_MS]
    assert [(e.payload["state"], e.payload["restartCount"]) for e in states[:2]] == [("terminated", 0), ("running", 1)]
    # The first restart has no back-off: the next PLEG relist (1 s) at most, plus create/start.
    assert states[0].time_ms == CRASH_MS and states[1].time_ms - CRASH_MS <= 1_500, run
    assert "default/logger/logger" in outage["containers_during"]["worker-1"]
    # Reported once the API is back.
    assert container_state(run.get("Pod", "logger", "default"))["restartCount"] == 1


def test_controllers_return_after_the_old_leases_expire(outage):
    run = outage["run"]
    ready = run.first("apiserver.ready", since_ms=UP_MS)
    assert ready is not None and ready.time_ms - UP_MS <= 5_000, run
    for component in ("kube-controller-manager-cp-1", "kube-scheduler-cp-1"):
        acquired = run.first("leader.acquired", source=component, since_ms=UP_MS)
        # The new process has a new identity: it waits out the lease its predecessor held.
        assert acquired is not None, (run, component)
        delay_ms = acquired.time_ms - ready.time_ms
        assert LEASE_DURATION_MS <= delay_ms <= LEASE_DURATION_MS + 2 * MAX_RETRY_MS, (run, component, delay_ms)


def test_no_spurious_not_ready_or_eviction_after_the_control_plane_returns(outage):
    run = outage["run"]
    assert not run.find("node.condition"), run
    assert not run.find("pod.evict"), run
    assert not run.k8s_events("NodeNotReady"), run
    registered = run.k8s_events("RegisteredNode", since_ms=UP_MS)
    assert sorted(e.payload["object"] for e in registered) == ["node/cp-1", "node/worker-1", "node/worker-2", "node/worker-3"]
    for node in run.objects("Node"):
        assert kubectl_node_status(node) == "Ready", node["metadata"]["name"]
        assert "node.kubernetes.io/unreachable:NoSchedule" not in taint_keys(node)


def test_after_recovery_api_actions_work_again(outage):
    run = outage["run"]
    result = run.action_results("scale", since_ms=outage["scaled_ms"])[0]
    assert result.payload["ok"] is True and result.time_ms - outage["scaled_ms"] <= 100, run
    web = live_pods(run.pods("web"))
    assert len(web) == 5 and all(pod_is_ready(pod) for pod in web), run
    assert set(outage["web_before"]) <= {p["metadata"]["name"] for p in web}
