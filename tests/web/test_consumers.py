"""The live view's websocket: one group per cluster, the owner's session only, events and fragments pushed."""
import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.backends.db import SessionStore

from web import services
from web.asgi import application
from web.consumers import MAX_EVENTS_PER_PUSH, group_name, thin_out
from web.views_cluster import is_noise_event

pytestmark = pytest.mark.django_db(transaction=True)
RECEIVE_TIMEOUT_S = 10  # generous: a bound for a broken test, not a performance assertion


def new_session() -> str:
    session = SessionStore()
    session.create()
    return session.session_key


async def connect(cluster_id: str, session_key: str, language: str = "en") -> tuple[WebsocketCommunicator, bool, int]:
    communicator = WebsocketCommunicator(application, f"/ws/clusters/{cluster_id}/?lang={language}", headers=[
        (b"origin", b"http://localhost"), (b"host", b"localhost"),
        (b"cookie", f"sessionid={session_key}".encode())])
    connected, code = await communicator.connect(timeout=RECEIVE_TIMEOUT_S)
    return communicator, connected, code


async def receive_until(communicator: WebsocketCommunicator, predicate, limit: int = 200) -> str:
    for _message in range(limit):
        text = await communicator.receive_from(timeout=RECEIVE_TIMEOUT_S)
        if predicate(text):
            return text
    raise AssertionError("expected message never came")


async def owned_cluster(scenario: str = "basic", at_ms: int = 20_000):
    session_key = await sync_to_async(new_session)()
    live = await sync_to_async(services.create_cluster)(session_key=session_key, scenario=scenario, seed=1, paused=True)
    await sync_to_async(live.advance_by)(at_ms)
    return session_key, live


async def test_the_owner_gets_fragments_then_the_events_of_an_action():
    session_key, live = await owned_cluster()
    communicator, connected, _code = await connect(live.id, session_key)
    assert connected
    first = await receive_until(communicator, lambda text: 'id="cluster-overlay"' in text)
    assert 'hx-swap-oob="true"' in first and 'id="etcd-panel"' in first
    await communicator.send_to(text_data=json.dumps(
        {"command": "action", "action": {"action": "node.fail", "target": "worker-2"}}))
    result = json.loads(await receive_until(communicator, lambda text: '"type": "result"' in text))
    assert result == {"type": "result", "ok": True, "message": ""}
    pushed = json.loads(await receive_until(communicator, lambda text: text.startswith('{"type":"events"')))
    kinds = [event[2] for event in pushed["events"]]
    assert "action" in kinds and "machine.down" in kinds
    machine_down = next(event for event in pushed["events"] if event[2] == "machine.down")
    assert machine_down[3:] == ["director", "worker-2", {"machine": "worker-2"}]
    overlay = await receive_until(communicator, lambda text: "machine down" in text)
    assert 'id="badge-worker-2"' in overlay
    await communicator.disconnect()


async def test_a_bad_command_is_answered_not_applied():
    session_key, live = await owned_cluster()
    communicator, connected, _code = await connect(live.id, session_key)
    assert connected
    await communicator.send_to(text_data=json.dumps({"command": "action", "action": {"action": "node.fail",
                                                                                     "target": "worker-9"}}))
    result = json.loads(await receive_until(communicator, lambda text: '"type": "result"' in text))
    assert result["ok"] is False and "worker-9" in result["message"]
    assert not live.cluster.sim.network.machines_down
    await communicator.disconnect()


async def test_clock_commands_over_the_socket():
    session_key, live = await owned_cluster()
    communicator, connected, _code = await connect(live.id, session_key)
    assert connected
    await communicator.send_to(text_data=json.dumps({"command": "clock", "advance": "10s"}))
    await receive_until(communicator, lambda text: '"type": "result"' in text)
    assert live.now_ms == 30_000
    await communicator.disconnect()


async def test_another_session_is_turned_away():
    _owner, live = await owned_cluster()
    stranger = await sync_to_async(new_session)()
    communicator, connected, code = await connect(live.id, stranger)
    assert not connected and code == 4403
    communicator, connected, code = await connect("no-such-cluster", stranger)
    assert not connected


async def test_one_group_per_cluster():
    session_key, live = await owned_cluster()
    _other_key, other = await owned_cluster()
    communicator, connected, _code = await connect(live.id, session_key)
    assert connected
    layer = get_channel_layer()
    await layer.group_send(group_name(other.id), {"type": "cluster.events", "text": "for the other cluster"})
    await layer.group_send(group_name(live.id), {"type": "cluster.events", "text": "for this cluster"})
    text = await receive_until(communicator, lambda text: text.startswith("for "))
    assert text == "for this cluster"
    await communicator.disconnect()


async def test_each_socket_gets_fragments_in_its_language():
    session_key, live = await owned_cluster()
    english, connected_en, _ = await connect(live.id, session_key, "en")
    korean, connected_ko, _ = await connect(live.id, session_key, "ko")
    assert connected_en and connected_ko
    assert "members up" in await receive_until(english, lambda text: 'id="etcd-panel"' in text)
    assert "멤버" in await receive_until(korean, lambda text: 'id="etcd-panel"' in text)
    await english.disconnect()
    await korean.disconnect()


def test_a_flood_is_thinned_to_the_story_plus_some_noise():
    from cluster_sim.cluster import Cluster
    from cluster_sim.scenario import load_scenario, shipped_path

    events = Cluster.from_scenario(load_scenario(shipped_path("ha"))).run_until(20_000)
    assert len(events) > MAX_EVENTS_PER_PUSH * 3
    kept, dropped = thin_out(events)
    assert len(kept) + dropped == len(events) and len(kept) <= MAX_EVENTS_PER_PUSH
    story = [event for event in events if not is_noise_event(event)]
    assert [event for event in kept if not is_noise_event(event)] == story[-MAX_EVENTS_PER_PUSH:]
    assert [event.seq for event in kept] == sorted(event.seq for event in kept)


async def test_pushes_go_straight_to_the_socket_and_commands_get_the_database_check(monkeypatch):
    # Channels checks the database's connections before every handler (a hop through the sync
    # thread); the pushes, hundreds a second in a busy process, use no database and skip it.
    import channels.consumer
    checks = []
    original = channels.consumer.aclose_old_connections

    async def counted() -> None:
        checks.append(1)
        await original()

    monkeypatch.setattr(channels.consumer, "aclose_old_connections", counted)
    session_key, live = await owned_cluster()
    communicator, connected, _code = await connect(live.id, session_key)
    assert connected
    await receive_until(communicator, lambda text: 'id="cluster-overlay"' in text)
    checked_at_connect = len(checks)
    await get_channel_layer().group_send(group_name(live.id), {"type": "cluster.fragments", "html": {"en": "<p id=x>pushed</p>"}})
    assert await receive_until(communicator, lambda text: "pushed" in text) == "<p id=x>pushed</p>"
    assert len(checks) == checked_at_connect  # the ticker's own pushes came through too
    await communicator.send_to(text_data=json.dumps({"command": "clock", "paused": True}))
    await receive_until(communicator, lambda text: '"type": "result"' in text)
    assert len(checks) == checked_at_connect + 1
    await communicator.disconnect()
