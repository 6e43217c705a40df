"""The live view re-reads a cluster's picture (cluster_state) only when etcd keys it shows were
written: a ConfigMap, a Lease or an Event changes nothing on it (web/views_cluster.scene_version);
and while the process is busy, fragments are rendered once a second (web/consumers.Ticker)."""
from cluster_sim.scenario import load_scenario, parse_action, shipped_path
from web import consumers
from web.runtime import registry
from web.views_cluster import scene_version, view_state

CONFIGMAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "colours"}, "data": {"sky": "blue"}}


def booted_cluster():
    live = registry.create(scenario=load_scenario(shipped_path("basic")), owner_session="scene", seed=5, paused=True)
    view_state(live)  # the view listens from here on
    live.advance_by(30_000)
    return live


def test_a_write_the_picture_does_not_show_leaves_its_version_alone():
    live = booted_cluster()
    before = scene_version(live, view_state(live))
    code, body, _events = live.api_request({"verb": "create", "resource": "configmaps", "namespace": "default",
                                            "body": CONFIGMAP})
    assert code == 201, body
    assert scene_version(live, view_state(live)) == before
    registry.delete(live.id)


def test_a_pod_write_changes_the_version():
    live = booted_cluster()
    before = scene_version(live, view_state(live))
    live.apply_action(parse_action({"action": "scale", "target": "web", "replicas": 5}, live.cluster.scenario, "t", ""))
    live.advance_by(5_000)  # the controllers create the pods; the scheduler binds them
    assert scene_version(live, view_state(live)) != before
    registry.delete(live.id)


def test_events_the_view_did_not_see_fall_back_to_the_revision():
    live = booted_cluster()
    live.cluster.run_until(live.now_ms + 20_000)  # straight into the simulation: no listener told
    assert scene_version(live, view_state(live))[0] == "revision"
    registry.delete(live.id)


def test_a_busy_ticker_renders_fragments_every_two_seconds():
    ticker = consumers.Ticker()
    ticker.watchers["c"] = {"channel": "en"}
    ticker.last_render_s["c"] = 100.0
    assert ticker.render_plan("c", 100.6) is None
    assert ticker.render_plan("c", 101.0) is not None  # once a second normally
    ticker.last_render_s["c"] = 100.0
    ticker.busy_until_s = 105.0
    assert ticker.render_plan("c", 101.0) is None
    assert ticker.render_plan("c", 102.0) is not None
    ticker.urgent["c"] = True  # somebody acted: at once, busy or not
    assert ticker.render_plan("c", 102.1) is not None
