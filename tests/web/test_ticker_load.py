"""What the live view's ticker does to stay cheap with hundreds of watched clusters must not change
what a learner sees: fragments rendered only when their inputs changed add up to a full render,
and the events of an action are pushed at once, not at the next tick."""
import asyncio
import json
import re

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore

from cluster_sim.scenario import load_scenario, parse_action, shipped_path
from tests.web.test_consumers import receive_until
from web import consumers, services
from web.asgi import application
from web.runtime import registry
from web.views_cluster import ETCD_COUNTERS_RESYNC_MS, FragmentMemory, STATE_FRAGMENTS, render_changed_fragments, render_state_fragments

RECEIVE_TIMEOUT_S = 10  # a bound for a broken test, not a performance assertion
RENDER_EVERY_MS = 1_000  # the ticker renders at most RENDERS_PER_S = 1 time a second


def without_running_time(html: str) -> str:
    """The clock's time as the page shows it between renders: static/js/cluster.js runs it from
    data-now-ms (and from every events push), so the server only sends the clock when something
    else about it changed."""
    html = re.sub(r'data-now-ms="\d+"', 'data-now-ms=""', html)
    return re.sub(r'<time class="cv-clock-time"[^>]*>[^<]*</time>', '<time class="cv-clock-time"></time>', html)


def without_etcd_counters(html: str) -> str:
    """The etcd panel's index cells as the page shows them between renders: static/js/cluster.js
    advances them from the events of every push."""
    return re.sub(r'(data-field="\w+">)\d+<', r'\1<', html)


def etcd_counters(html: str) -> dict[str, int]:
    return {field: int(value) for field, value in re.findall(r'data-field="(\w+)">(\d+)<', html)}


def act(live, document: dict) -> None:
    live.apply_action(parse_action(document, live.cluster.scenario, "test", ""))


def the_story(live):
    """Steps a learner goes through: a cluster boots, a worker fails and is counted down to
    NotReady and eviction, the control plane is cut off (countdowns that start with time alone), a
    deployment scales, a node is cordoned, the clock is paused, time is rewound. Each step
    yields, and the view is rendered between the steps."""
    for _step in range(12):
        live.advance_by(5_000)
        yield
    act(live, {"action": "node.fail", "target": "worker-2"})
    for _step in range(4 * 95):  # through the NotReady countdown and into the eviction one
        live.advance_by(RENDER_EVERY_MS)
        yield
    act(live, {"action": "node.recover", "target": "worker-2"})
    # The control plane is cut off: the workers' heartbeats no longer reach it and their
    # countdowns start with the passing of time alone (no write, no process stops).
    act(live, {"action": "network.partition", "target": "cp-1"})
    for _step in range(4 * 45):
        live.advance_by(RENDER_EVERY_MS)
        yield
    act(live, {"action": "network.heal"})
    act(live, {"action": "scale", "target": "web", "replicas": 5})
    act(live, {"action": "cordon", "target": "worker-1"})
    for _step in range(20):
        live.advance_by(RENDER_EVERY_MS)
        yield
    live.pause()
    yield
    live.rewind(30_000)
    yield
    act(live, {"action": "node.fail", "target": "worker-3"})
    for _step in range(8):
        live.advance_by(1_000)
        yield


@pytest.mark.parametrize("language", ["en", "ko"])
def test_rendering_only_what_changed_shows_what_a_full_render_shows(language):
    live = registry.create(scenario=load_scenario(shipped_path("basic")), owner_session="viewer", seed=3,
                           paused=True)
    memory = FragmentMemory()
    shown: dict[str, str] = {}  # what the page holds: the last HTML pushed for each fragment
    countdowns_seen = set()  # "cv-countdown" (NotReady in ...) and "cv-countdown evict"
    try:
        for _step in the_story(live):
            render_changed_fragments(live, languages=[language], memory=memory)
            shown.update({name: without_etcd_counters(without_running_time(memory.html[f"{language}/{name}"]))
                          for name in STATE_FRAGMENTS})
            full = render_state_fragments(live, language=language)
            full_shown = {name: without_etcd_counters(without_running_time(html)) for name, html in full.items()}
            assert shown == full_shown, f"at {live.now_ms} ms the page would differ from a full render"
            countdowns_seen.update(mark for mark in ('"cv-countdown"', '"cv-countdown evict"') if mark in full["overlay"])
    finally:
        registry.delete(live.id)
    assert countdowns_seen == {'"cv-countdown"', '"cv-countdown evict"'}, "the story should show both countdowns"


@pytest.fixture
def booted_paused_cluster():
    """A basic cluster paused at 90 s (booted, nothing under way), and a memory of what was sent."""
    live = registry.create(scenario=load_scenario(shipped_path("basic")), owner_session="viewer", seed=3,
                           paused=True)
    live.advance_by(90_000)
    yield live, FragmentMemory()
    registry.delete(live.id)


def test_a_quiet_cluster_renders_nothing_until_its_clock_changes_state(booted_paused_cluster):
    live, memory = booted_paused_cluster
    first = render_changed_fragments(live, languages=["en"], memory=memory)
    assert len(first["en"]) == len(STATE_FRAGMENTS)
    live.advance_by(1)  # one millisecond: no Raft round, no write; the page runs the clock itself
    assert render_changed_fragments(live, languages=["en"], memory=memory) == {}
    live.resume()
    again = render_changed_fragments(live, languages=["en"], memory=memory)
    assert [html[:len('<p id="clock-status"')] for html in again["en"]] == ['<p id="clock-status"']
    assert 'data-paused="0"' in again["en"][0] and f'data-now-ms="{live.now_ms}"' in again["en"][0]


def test_the_etcd_panel_is_not_rendered_for_its_counters_alone_but_resynced_every_few_seconds(booted_paused_cluster):
    live, memory = booted_paused_cluster
    render_changed_fragments(live, languages=["en"], memory=memory)
    first_sent = etcd_counters(memory.html["en/etcd"])
    renders_when = []
    for _step in range(2 * ETCD_COUNTERS_RESYNC_MS // 500):
        period = live.now_ms // ETCD_COUNTERS_RESYNC_MS
        live.advance_by(500)
        pushed = render_changed_fragments(live, languages=["en"], memory=memory)
        rendered = any('id="etcd-panel"' in html for html in pushed.get("en", []))
        renders_when.append([rendered, live.now_ms // ETCD_COUNTERS_RESYNC_MS != period])
        if rendered:
            now = etcd_counters(render_state_fragments(live, language="en", names=["etcd"])["etcd"])
            assert etcd_counters(memory.html["en/etcd"]) == now
    # Lease renewals wrote to etcd all along, yet the panel was sent only when a period turned.
    assert etcd_counters(memory.html["en/etcd"])["commit"] > first_sent["commit"]
    assert [rendered for rendered, turned in renders_when] == [turned for rendered, turned in renders_when]
    assert sum(rendered for rendered, _turned in renders_when) == 2


# --- over the websocket --------------------------------------------------------------------------

def new_session() -> str:
    session = SessionStore()
    session.create()
    return session.session_key


@pytest.mark.django_db(transaction=True)
async def test_the_events_of_an_action_come_without_waiting_for_a_tick(monkeypatch):
    # One tick at connection, then none for an hour: only the action itself can push its events.
    monkeypatch.setattr(consumers, "TICK_S", 3600.0)
    monkeypatch.setattr(consumers, "TICK_SLICES", 1)
    session_key = await sync_to_async(new_session)()
    live = await sync_to_async(services.create_cluster)(session_key=session_key, scenario="basic", seed=1,
                                                        paused=True)
    await sync_to_async(live.advance_by)(20_000)
    communicator = WebsocketCommunicator(application, f"/ws/clusters/{live.id}/?lang=en", headers=[
        (b"origin", b"http://localhost"), (b"host", b"localhost"), (b"cookie", f"sessionid={session_key}".encode())])
    connected, _code = await communicator.connect(timeout=RECEIVE_TIMEOUT_S)
    assert connected
    try:
        await receive_until(communicator, lambda text: 'id="clock-status"' in text, limit=400)  # the first tick's render
        await communicator.send_to(text_data=json.dumps(
            {"command": "action", "action": {"action": "scale", "target": "web", "replicas": 4}}))
        pushed = json.loads(await receive_until(communicator, lambda text: text.startswith('{"type":"events"'), limit=400))
        actions = [event for event in pushed["events"] if event[2] == "action"]
        assert [event[5]["action"] for event in actions] == ["scale"] and actions[0][5]["replicas"] == 4
    finally:
        await communicator.disconnect()
        if consumers.ticker.task is not None:
            consumers.ticker.task.cancel()
            await asyncio.gather(consumers.ticker.task, return_exceptions=True)


# --- what an events push carries ------------------------------------------------------------------

def payload_fields_the_page_reads() -> dict[str, set[str]]:
    """Per event kind, the payload fields static/js/cluster.js's toAnimation reads."""
    script = (settings.BASE_DIR / "static" / "js" / "cluster.js").read_text()
    body = script[script.index("function toAnimation"):script.index("function dot(")]
    reads: dict[str, set[str]] = {}
    for case in re.split(r"\n\s*case ", body)[1:]:
        kinds = re.findall(r'"([\w.]+)"', case.split("return", 1)[0])
        for kind in kinds:
            reads.setdefault(kind, set()).update(re.findall(r"payload\.(\w+)", case))
    return reads


def test_an_events_push_carries_what_the_page_animates_and_an_action_whole(booted_paused_cluster):
    live, _memory = booted_paused_cluster
    events = live.apply_action(parse_action({"action": "scale", "target": "web", "replicas": 4},
                                            live.cluster.scenario, "test", ""))
    events += live.advance_by(10_000)
    pushed = json.loads(consumers.animation_message(live, events, 0))["events"]
    by_kind: dict[str, list[dict]] = {}
    for _time_ms, _seq, kind, _source, _target, payload in pushed:
        by_kind.setdefault(kind, []).append(payload)
    reads = payload_fields_the_page_reads()
    assert reads["api.response"] == {"code"} and reads["etcd.commit"] == {"index"}
    for kind, fields in consumers.PUSHED_FIELDS.items():
        assert reads.get(kind, set()) <= set(fields), f"the page reads {kind} fields that are not pushed"
    for kind in ("api.request", "api.response", "etcd.append", "etcd.commit", "etcd.apply"):
        assert by_kind[kind] and all(set(payload) == reads[kind] for payload in by_kind[kind]), kind
    assert all(payload == {} for payload in by_kind["api.watch"] + by_kind["etcd.request"])
    # Everything else keeps its scalars: the learner's own action, a Kubernetes Event.
    assert by_kind["action"] == [{"action": "scale", "target": "default/web", "namespace": "default", "name": "web",
                                  "replicas": 4}]
    assert {"reason", "message"} <= set(by_kind["k8s.event"][0])
