"""The live cluster view's server side: the Graphviz picture, the fragments, the controls, the sandbox."""
import re

import pytest
from django.test import Client

from web import graph, services
from web.runtime import registry
from web.views_cluster import (cluster_state, machine_controls, render_state_fragments, sandbox_document,
                               skip_to_next)

pytestmark = pytest.mark.django_db

ELEMENT = re.compile(r'<g id="((?:node|comp)-[^"]+)" class="[^"]*">(.*?)</g>', re.S)


def element_geometry(svg: str) -> dict[str, str]:
    """Every machine and component box: its id and the path/text coordinates dot gave it."""
    return {match.group(1): re.sub(r'class="[^"]*"', "", match.group(2)) for match in ELEMENT.finditer(svg)}


def session_client() -> tuple[Client, str]:
    client = Client()
    client.get("/sandbox/")
    return client, client.session.session_key


def paused_cluster(session_key: str, scenario, at_ms: int = 0):
    live = services.create_cluster(session_key=session_key, scenario=scenario, seed=1, paused=True)
    if at_ms:
        live.advance_by(at_ms)
    return live


def overlay_of(live, language: str = "en") -> str:
    return render_state_fragments(live, language=language, names=["overlay"])["overlay"]


def slot_html(html: str, machine: str) -> str:
    start = html.index(f'id="slot-{machine}"')
    end = html.find('<div class="cv-slot"', start + 1)
    return html[start:end if end > 0 else len(html)]


def slot_text(html: str, machine: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", slot_html(html, machine)))


# --- the picture ---------------------------------------------------------------------------

def test_the_picture_has_stable_ids_for_every_machine_and_process():
    layout = {"control_plane": ["cp-1", "cp-2", "cp-3"], "workers": [f"worker-{n}" for n in range(1, 8)],
              "etcd_members": ["etcd-1", "etcd-2", "etcd-3"], "etcd_mode": "external"}
    skeleton = graph.skeleton_for(layout)
    assert skeleton.svg.startswith("<svg"), "the XML prolog must not be inlined"
    for element_id in ["node-cp-2", "node-worker-7", "node-etcd-3", "node-workstation", "comp-kubectl",
                       "comp-kube-apiserver-cp-1", "comp-kube-scheduler-cp-3", "comp-kube-controller-manager-cp-2",
                       "comp-cloud-controller-manager-cp-1", "comp-etcd-2", "comp-kubelet-worker-7",
                       "comp-kube-proxy-cp-1", "comp-containerd-worker-3"]:
        assert f'id="{element_id}"' in skeleton.svg, element_id
    assert set(skeleton.slots) == set(layout["control_plane"] + layout["workers"])
    assert "comp-etcd-cp-1" not in skeleton.svg  # external etcd: no member on the control plane


def test_dot_runs_once_per_topology():
    layout = {"control_plane": ["cp-1"], "workers": ["w-a", "w-b"], "etcd_members": ["etcd-cp-1"],
              "etcd_mode": "stacked"}
    graph.skeleton_for(layout)
    misses = graph._skeleton.cache_info().misses
    for _ in range(3):
        graph.skeleton_for(dict(layout, stopped_by_action={"kubelet-w-a": True}))
    assert graph._skeleton.cache_info().misses == misses


def test_machines_and_components_do_not_move_while_pods_come_and_go():
    client, session_key = session_client()
    live = paused_cluster(session_key, sandbox_document(control_plane_nodes=1, etcd_members=1, workers=3,
                                                        sample_app=True), at_ms=40_000)
    skeleton = graph.skeleton_for(live.cluster.layout)
    before = element_geometry(graph.svg_with_classes(skeleton, cluster_state(live)["classes"]))
    pods_before = overlay_of(live).count('class="pod ')
    services.apply_action(session_key=session_key, cluster_id=live.id,
                          action={"action": "scale", "target": "web", "replicas": 9})
    live.advance_by(30_000)
    services.apply_action(session_key=session_key, cluster_id=live.id, action={"action": "node.fail", "target": "worker-3"})
    live.advance_by(5_000)
    state = cluster_state(live)
    after = element_geometry(graph.svg_with_classes(skeleton, state["classes"]))
    assert overlay_of(live).count('class="pod ') > pods_before + 4
    assert "down" in state["classes"]["node-worker-3"]
    assert before.keys() == after.keys() and len(before) > 20
    assert before == after  # same coordinates for every machine and component


# --- fragments ---------------------------------------------------------------------------------

def test_a_failed_worker_counts_down_to_notready_then_to_eviction_then_its_pods_move():
    client, session_key = session_client()
    live = paused_cluster(session_key, "worker-failure", at_ms=70_000)  # node.fail worker-2 at 60 s
    overlay = overlay_of(live)
    assert "machine down" in overlay
    countdown = re.search(r"NotReady in (\d+) s", slot_text(overlay, "worker-2"))
    assert countdown and 20 <= int(countdown.group(1)) <= 50, slot_text(overlay, "worker-2")
    assert "NotReady in" not in slot_text(overlay, "worker-1")

    live.advance_by(50_000)  # past the 50 s grace period
    overlay = overlay_of(live)
    assert re.search(r'id="badge-worker-2".*?✕ NotReady', overlay, re.S)
    worker_2 = slot_text(overlay, "worker-2")
    assert "unreachable:NoSchedule" in worker_2 and "unreachable:NoExecute" in worker_2
    eviction = re.search(r"pods evicted in (\d):(\d\d)", worker_2)
    assert eviction and 4 * 60 <= int(eviction.group(1)) * 60 + int(eviction.group(2)) <= 300, worker_2
    pods_on_worker_2 = re.findall(r'id="(pod-default-web-[^"]+)" class="pod running', slot_html(overlay, "worker-2"))
    assert len(pods_on_worker_2) == 2  # still Running as far as the API knows

    live.advance_by(300_000)
    overlay = overlay_of(live)
    for pod_id in pods_on_worker_2:
        assert f'id="{pod_id}" class="pod terminating"' in slot_html(overlay, "worker-2")
    elsewhere = slot_html(overlay, "worker-1") + slot_html(overlay, "worker-3")
    assert len(re.findall(r'id="pod-default-web-[^"]+" class="pod running"', elsewhere)) == 6


def test_korean_overlay_and_etcd_panel_after_quorum_loss():
    client, session_key = session_client()
    live = paused_cluster(session_key, "etcd-quorum-loss", at_ms=40_000)
    for member in ("cp-2", "cp-3"):
        services.apply_action(session_key=session_key, cluster_id=live.id, action={"action": "etcd.fail", "target": member})
    live.advance_by(3_000)
    fragments = render_state_fragments(live, language="en", names=["etcd"])
    etcd = fragments["etcd"]
    assert "Quorum lost" in etcd and "1 of 3 members up; a write needs 2." in etcd
    assert etcd.count("✕ down") == 2
    assert 'hx-swap-oob="true"' in etcd and 'id="etcd-panel"' in etcd
    korean = render_state_fragments(live, language="ko", names=["etcd"])["etcd"]
    assert "쿼럼 상실" in korean


def test_the_scheduler_panel_shows_filters_scores_and_the_winner():
    client, session_key = session_client()
    live = paused_cluster(session_key, "basic", at_ms=30_000)
    panel = render_state_fragments(live, language="en", names=["scheduler"])["scheduler"]
    rows = re.findall(r"<tr class=\"([^\"]*)\">\s*<th scope=\"row\">(.*?)</th>", panel)
    selected = [name for classes, name in rows if classes == "selected"]
    assert len(selected) == 1 and selected[0].startswith("★ worker-")
    assert "✕ <span title=\"node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }\">TaintToleration" in panel
    assert "ResourcesFit" in panel and "total" in panel


def test_page_and_controls_for_the_owner_only():
    client, session_key = session_client()
    live = paused_cluster(session_key, "basic", at_ms=20_000)
    page = client.get(f"/clusters/{live.id}/")
    assert page.status_code == 200
    html = page.content.decode()
    for element_id in ["cluster-overlay", "etcd-panel", "scheduler-panel", "clock-status", "event-log-entries",
                       "workload-controls", "comp-etcd-cp-1"]:
        assert f'id="{element_id}"' in html, element_id
    assert f'ws-connect="/ws/clusters/{live.id}/?lang=en"' in html
    assert "<?xml" not in html
    stranger = Client()
    assert stranger.get(f"/clusters/{live.id}/").status_code == 404
    assert stranger.post(f"/clusters/{live.id}/action", {"action": "node.fail", "target": "worker-1"}).status_code == 404
    assert not live.cluster.sim.network.machines_down


def test_a_control_applies_its_action_and_answers_with_fragments():
    client, session_key = session_client()
    live = paused_cluster(session_key, "basic", at_ms=20_000)
    answer = client.post(f"/clusters/{live.id}/action", {"action": "node.fail", "target": "worker-2"})
    assert answer.status_code == 200
    assert live.cluster.sim.network.machines_down == {"worker-2": True}
    body = answer.content.decode()
    assert 'id="cluster-overlay" class="cv-overlay" data-svg-classes=' in body and "machine down" in body
    assert "Done: node.fail worker-2" in body
    refused = client.post(f"/clusters/{live.id}/action", {"action": "node.fail", "target": "worker-9"}).content.decode()
    assert 'class="cv-status error"' in refused and "worker-9" in refused


def test_clock_controls():
    client, session_key = session_client()
    live = paused_cluster(session_key, "basic", at_ms=20_000)
    url = f"/clusters/{live.id}/clock"
    client.post(url, {"command": "step", "seconds": "10"})
    assert live.now_ms == 30_000
    client.post(url, {"command": "speed", "speed": "100"})
    assert live.clock.speed == 100
    client.post(url, {"command": "rewind", "time_ms": "5000"})
    assert live.now_ms == 5_000
    client.post(url, {"command": "play"})
    assert not live.clock.paused
    client.post(url, {"command": "pause"})
    assert live.clock.paused


def test_skip_stops_at_the_next_event_a_learner_would_notice():
    client, session_key = session_client()
    live = paused_cluster(session_key, "worker-failure", at_ms=45_000)  # steady state before the failure at 60 s
    message = skip_to_next(live)
    assert 45_000 < live.now_ms <= 61_000
    assert "Skipped" in message


def test_failure_controls_name_the_action_and_the_target():
    client, session_key = session_client()
    stacked = paused_cluster(session_key, sandbox_document(control_plane_nodes=3, etcd_members=3, workers=2,
                                                           sample_app=False))
    external = paused_cluster(session_key, sandbox_document(control_plane_nodes=1, etcd_members=3, workers=3,
                                                            sample_app=False))
    labels = {action["label"] for group in machine_controls(stacked) + machine_controls(external)
              for action in group["actions"]}
    for label in ["Fail node worker-2", "Recover node worker-2", "Stop control-plane node cp-1",
                  "Recover control-plane node cp-3", "Stop etcd member cp-2", "Stop etcd member etcd-2",
                  "Recover etcd member etcd-3", "Partition worker-3", "Heal the network of worker-3",
                  "Stop kube-apiserver on cp-1", "Stop the kubelet on worker-1", "Cordon worker-1", "Drain worker-2"]:
        assert label in labels, label


# --- the sandbox --------------------------------------------------------------------------------

@pytest.mark.parametrize("control_plane, etcd, mode, members", [
    (1, 1, "stacked", ["etcd-cp-1"]),
    (3, 3, "stacked", ["etcd-cp-1", "etcd-cp-2", "etcd-cp-3"]),
    (1, 5, "external", ["etcd-1", "etcd-2", "etcd-3", "etcd-4", "etcd-5"]),
    (3, 1, "external", ["etcd-1"]),
])
def test_the_sandbox_builds_the_chosen_topology(control_plane, etcd, mode, members):
    client, _ = session_client()
    answer = client.post("/sandbox/", {"control_plane": control_plane, "etcd": etcd, "workers": 7, "sample_app": "on"})
    assert answer.status_code == 302
    cluster_id = answer["Location"].rstrip("/").rsplit("/", 1)[-1]
    live = registry.get(cluster_id)
    layout = live.cluster.layout
    assert len(layout["control_plane"]) == control_plane and layout["etcd_mode"] == mode
    assert layout["etcd_members"] == members and len(layout["workers"]) == 7
    assert client.get(answer["Location"]).status_code == 200
    assert f'href="/clusters/{cluster_id}/"' in client.get("/sandbox/").content.decode()


def test_the_sandbox_page_in_korean():
    client = Client(HTTP_ACCEPT_LANGUAGE="ko")
    html = client.get("/sandbox/").content.decode()
    assert "클러스터를 만들고 고장 내 보세요" in html and "컨트롤 플레인 노드" in html
