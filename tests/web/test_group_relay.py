"""web/tunnel.GroupRelay: a forwarded live view's pushes go from the cluster's group to the browser
on the forwarding process, only once the holder has accepted the socket, in order, in the
socket's language. Run on Channels' in-memory layer; tests/prod runs it across two daphne
processes on Redis."""
import asyncio
import logging

from web import tunnel
from web.channel_layer import SweptInMemoryChannelLayer
from web.tunnel import GroupRelay

CLUSTER_ID = "0123456789abcdef"
SCOPE = {"type": "websocket", "path": f"/ws/clusters/{CLUSTER_ID}/", "query_string": b"lang=ko"}


class Browser:
    """What daphne's ``send`` would write to the socket, in order."""

    def __init__(self):
        self.sent: list[dict] = []

    async def send(self, message: dict) -> None:
        self.sent.append(message)

    def texts(self) -> list[str]:
        return [message["text"] for message in self.sent if message["type"] == "websocket.send"]


async def settle() -> None:
    for _turn in range(20):  # let the relay's two tasks run
        await asyncio.sleep(0)


async def push(layer, text: str) -> None:
    await layer.group_send(f"cluster.{CLUSTER_ID}", {"type": "cluster.events", "text": text})


async def push_fragments(layer, html: dict) -> None:
    await layer.group_send(f"cluster.{CLUSTER_ID}", {"type": "cluster.fragments", "html": html})


def test_pushes_wait_for_the_holders_accept_then_arrive_in_order_in_the_sockets_language():
    async def scenario():
        layer, browser = SweptInMemoryChannelLayer(), Browser()
        relay = await GroupRelay.open(layer, SCOPE, browser.send)
        await push(layer, "first events")
        await push_fragments(layer, {"en": "<p>en</p>", "ko": "<p>ko</p>"})
        await settle()
        before_accept = list(browser.sent)
        await relay.send({"type": "websocket.accept"})
        await push(layer, "later events")
        await push_fragments(layer, {"en": "<p>only en</p>"})
        await settle()
        await relay.close()
        return before_accept, browser

    before_accept, browser = asyncio.run(scenario())
    assert before_accept == [], "nothing may reach the browser before the holder accepts the socket"
    assert browser.sent[0] == {"type": "websocket.accept"}
    assert browser.texts() == ["first events", "<p>ko</p>", "later events"]


def test_a_refused_socket_is_sent_nothing_the_group_pushed():
    async def scenario():
        layer, browser = SweptInMemoryChannelLayer(), Browser()
        relay = await GroupRelay.open(layer, SCOPE, browser.send)
        await push(layer, "events nobody may see")
        await settle()
        await relay.send({"type": "websocket.close", "code": 4403})
        await push(layer, "more")
        await settle()
        await relay.close()
        return browser, layer

    browser, layer = asyncio.run(scenario())
    assert browser.sent == [{"type": "websocket.close", "code": 4403}]
    assert f"cluster.{CLUSTER_ID}" not in layer.groups, "a closed relay must leave the cluster's group"


def test_only_a_live_views_websocket_gets_a_relay():
    async def scenario():
        layer, browser = SweptInMemoryChannelLayer(), Browser()
        return [await GroupRelay.open(layer, scope, browser.send) for scope in (
            dict(SCOPE, type="http"), dict(SCOPE, path=f"/clusters/{CLUSTER_ID}/"),
            dict(SCOPE, path="/ws/workshops/3/class/"))]

    assert asyncio.run(scenario()) == [None, None, None]


def test_a_browser_that_never_reads_loses_pushes_past_the_bound_with_one_warning(monkeypatch, caplog):
    monkeypatch.setattr(tunnel, "MAX_RELAYED_WAITING", 3)

    async def scenario():
        layer, browser = SweptInMemoryChannelLayer(), Browser()
        relay = await GroupRelay.open(layer, SCOPE, browser.send)
        for number in range(6):
            await push(layer, f"push {number}")
        await settle()
        await relay.send({"type": "websocket.accept"})
        await settle()
        await relay.close()
        return browser

    with caplog.at_level(logging.WARNING, logger="web.tunnel"):
        browser = asyncio.run(scenario())
    assert browser.texts() == ["push 0", "push 1", "push 2"]
    assert [record.getMessage() for record in caplog.records].count(
        f"live view relay for cluster.{CLUSTER_ID}: the browser is too slow, pushes dropped") == 1
