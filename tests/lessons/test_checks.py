"""Checks against real simulated clusters: every lesson walked with its own show-me actions, plus
focused checks whose verdict must flip when the cluster changes."""
import pytest

from cluster_sim.scenario import load_scenario, parse_action, shipped_path
from lessons import checks, views
from lessons.loader import load_all
from web.runtime import registry

WAIT_STEP_MS = 5_000
MAX_WAITS = 12  # one minute of virtual time for a step's goal after its show-me


def paused_cluster(scenario):
    live = registry.create(scenario=scenario, owner_session="lesson-tests")
    live.pause()
    return live


def apply(live, document):
    live.apply_action(parse_action(document, live.cluster.scenario, "test", ""))


def results_text(results):
    return [result.en for result in results]


def show_me(live, step):
    """What the Show me button does: placeholders resolved at run time, then the clock."""
    for document in step.show_me:
        for _attempt in range(MAX_WAITS):
            action = dict(document)
            for key in ("target", "name"):
                if key in action:
                    action[key] = views.resolve_target(live, action[key], key)
            if None not in action.values():
                break
            live.advance_by(WAIT_STEP_MS)
        apply(live, action)
    if step.clock_ms:
        live.advance_by(step.clock_ms)


@pytest.mark.parametrize("lesson", load_all(), ids=lambda lesson: lesson.slug)
def test_every_step_of_every_lesson_is_reached_by_its_show_me(lesson):
    live = paused_cluster(lesson.scenario)
    try:
        for step in lesson.steps:
            live.advance_by(WAIT_STEP_MS)  # the learner reads the step first
            before = checks.run_goal(live, step.goal)
            if step.show_me:
                assert not all(result.passed for result in before), \
                    f"{lesson.slug}/{step.id}: goal met before its actions ran: {results_text(before)}"
            show_me(live, step)
            for _wait in range(MAX_WAITS):
                after = checks.run_goal(live, step.goal)
                if all(result.passed for result in after):
                    break
                live.advance_by(WAIT_STEP_MS)
            assert all(result.passed for result in after), \
                f"{lesson.slug}/{step.id} at {live.now_ms} ms: {results_text(after)} (seed {live.cluster.sim.seed})"
    finally:
        registry.delete(live.id)


@pytest.fixture
def basic():
    live = paused_cluster(load_scenario(shipped_path("basic")))
    live.advance_by(20_000)
    yield live
    registry.delete(live.id)


def run(live, check_name, **params):
    return checks.CHECKS[check_name].function(checks.ClusterView(live), params)


def test_deployment_ready_follows_a_scale(basic):
    assert run(basic, "deployment_ready", name="web", replicas=3).passed
    assert not run(basic, "deployment_ready", name="web", replicas=4).passed
    apply(basic, {"action": "scale", "target": "web", "replicas": 4})
    assert not run(basic, "deployment_ready", name="web", replicas=4).passed  # nothing happened yet
    basic.advance_by(15_000)
    result = run(basic, "deployment_ready", name="web", replicas=4)
    assert result.passed, result.en
    assert "4 ready" in result.en and "4개" in result.ko


def test_pods_running_counts_nodes_and_forbidden_nodes(basic):
    assert run(basic, "pods_running", selector="app=web", count=3, distinct_nodes=3).passed
    assert not run(basic, "pods_running", selector="app=web", count=3, not_on=["worker-1"]).passed
    assert not run(basic, "pods_running", selector="app=nothing", min_count=1).passed


def test_node_failure_checks_flip_with_the_grace_period_and_eviction():
    live = paused_cluster(load_scenario(shipped_path("worker-failure")))  # node.fail worker-2 at 60 s
    try:
        live.advance_by(100_000)  # 40 s after the failure: still inside the 50 s grace period
        assert not run(live, "node_not_ready", node="worker-2").passed
        live.advance_by(15_000)
        assert run(live, "node_not_ready", node="worker-2").passed
        assert run(live, "node_tainted", node="worker-2", key="node.kubernetes.io/unreachable", effect="NoSchedule").passed
        assert not run(live, "pods_replaced_from", node="worker-2", selector="app=web", count=6).passed
        live.advance_by(310_000)  # past the 300 s toleration
        result = run(live, "pods_replaced_from", node="worker-2", selector="app=web", count=6)
        assert result.passed, result.en
        assert run(live, "node_ready", node="worker-1").passed
    finally:
        registry.delete(live.id)


def test_etcd_checks_follow_leader_loss_and_quorum_loss():
    live = paused_cluster(load_scenario(shipped_path("external-etcd")))
    try:
        live.cluster.scenario.timeline.clear()
        live.advance_by(10_000)
        assert run(live, "etcd_has_leader", members=3).passed
        assert not run(live, "etcd_leader_changed").passed
        assert not run(live, "etcd_no_quorum").passed
        apply(live, {"action": "etcd.fail", "target": views.resolve_target(live, "$etcd-leader")})
        live.advance_by(5_000)
        assert run(live, "etcd_leader_changed").passed
        apply(live, {"action": "etcd.fail", "target": views.resolve_target(live, "$etcd-leader")})
        live.advance_by(3_000)
        assert run(live, "etcd_no_quorum").passed
        assert not run(live, "write_failed_recently").passed
        apply(live, {"action": "scale", "target": "web", "replicas": 5})
        live.advance_by(10_000)
        result = run(live, "write_failed_recently")
        assert result.passed and "timed out" in result.en, result.en
    finally:
        registry.delete(live.id)


def test_scheduling_checks_on_the_scheduling_scenario():
    live = paused_cluster(load_scenario(shipped_path("scheduling")))
    try:
        live.advance_by(30_000)
        assert run(live, "pod_scheduled", name="database", node="large-1").passed
        assert not run(live, "pod_scheduled", name="database", node="small-1").passed
        assert run(live, "pod_unschedulable", name="batch").passed
        assert not run(live, "pod_unschedulable", name="database").passed
        assert not run(live, "node_unschedulable", node="small-2").passed
        apply(live, {"action": "cordon", "target": "small-2"})
        live.advance_by(2_000)
        assert run(live, "node_unschedulable", node="small-2").passed
        assert run(live, "node_tainted", node="small-2", key="node.kubernetes.io/unschedulable", effect="NoSchedule").passed
    finally:
        registry.delete(live.id)


def test_service_and_action_checks(basic):
    assert run(basic, "service_has_endpoints", service="web", count=3).passed
    assert not run(basic, "service_routed", service="web").passed
    assert not run(basic, "action_done", action="service.request").passed
    apply(basic, {"action": "service.request", "target": "web"})
    basic.advance_by(1_000)
    assert run(basic, "service_routed", service="web").passed
    assert run(basic, "action_done", action="service.request", target="default/web").passed
    assert run(basic, "action_done", action="service.request", target="web").passed
    assert not run(basic, "object_exists", resource="namespaces", name="team-a").passed


def test_checks_read_etcd_while_no_apiserver_serves(basic):
    apply(basic, {"action": "apiserver.fail", "target": "cp-1"})
    basic.advance_by(1_000)
    assert run(basic, "apiserver_unavailable").passed
    assert run(basic, "deployment_ready", name="web", replicas=3).passed  # etcd still has it


def test_checking_sends_no_request_into_the_simulation(basic):
    before = basic.cluster.sim.event_seq
    for name, params in [("deployment_ready", {"name": "web", "replicas": 3}), ("nodes_ready", {"count": 4}),
                         ("etcd_has_leader", {}), ("service_has_endpoints", {"service": "web", "count": 3})]:
        run(basic, name, **params)
    assert basic.cluster.sim.event_seq == before
    assert basic.cluster.recorded_actions == []


def test_goal_validation_names_the_problem():
    assert checks.validate_goal({"check": "deployment_ready", "name": "web", "replicas": 3}) is None
    assert "unknown check" in checks.validate_goal({"check": "nope"})
    assert "unknown parameter(s) colour" in checks.validate_goal({"check": "node_ready", "node": "a", "colour": 1})
    assert "exactly one of name, selector" in checks.validate_goal({"check": "pod_unschedulable"})
    assert "selector" in checks.validate_goal({"check": "pods_running", "selector": "a in (b"})
