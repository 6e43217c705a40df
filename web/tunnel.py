"""Forwarding a connection to the process that holds its cluster, through the channel layer.

With several server processes (web/ownership.py) a request about one cluster may land on a
process that does not hold it: a real kubectl sends no cookie, so a proxy's affinity cannot
help, and an instructor's process may have taken a student's cluster over. Such a connection is
carried whole to the holder, as ASGI messages over the channel layer (Redis):

    client <-> this process (ForwardingApplication) <-> Redis <-> holder (serve_tunnel) <-> the app

The holder runs the very same application on the forwarded scope, so a page, a REST call, a
kubectl watch or a live-view websocket behaves exactly as it would have there. Messages carry a
sequence number each and are put back in order on arrival. Which cluster a connection is about is
read from its path (``cluster_of``); anything else is served where it lands.
"""
from __future__ import annotations

import asyncio
import functools
import http.cookies
import itertools
import logging
import re
from typing import Any, Callable

from channels.layers import get_channel_layer
from django.conf import settings

from web.consumers import group_name, language_from_query, pushed_text
from web.ownership import LEASE_TTL_S, Holder, Ownership
from web.persistence import in_worker
from web.runtime import CLUSTER_ID_SHAPE, SECRET_SHAPE, registry

logger = logging.getLogger(__name__)

CLUSTER_PATH = re.compile(r"^/(?:api/|ws/)?clusters/([0-9a-f]{16})(?:/|$)")
LIVE_VIEW_PATH = re.compile(r"^/ws/clusters/([0-9a-f]{16})/$")
KUBE_API_PATH = re.compile(r"^/k8s/([A-Za-z0-9_-]+)(?:/|$)")
LESSON_PATH = re.compile(r"^/lessons/([-a-zA-Z0-9_]+)/")
WORKSHOP_LEARN_PATH = re.compile(r"^/workshops/(\d+)/learn/")
# Paths that may name a cluster: only these cost a look into the database.
MAY_NAME_A_CLUSTER = re.compile(r"^/(?:api/clusters/|ws/clusters/|clusters/|k8s/|lessons/|workshops/\d+/learn/)")
# The scope keys a forwarded connection keeps (the rest is process-local: state, extensions).
PORTABLE_SCOPE_KEYS = ("type", "asgi", "http_version", "method", "scheme", "path", "raw_path", "query_string",
                       "root_path", "headers", "client", "server", "subprotocols")
# While waiting on the other side, its liveness is checked this often.
LIVENESS_CHECK_S = 2.0
# A connection without a word from a live holder for this long is answered 504 / closed.
FIRST_ANSWER_TIMEOUT_S = 120.0
MAX_MESSAGES_PER_TUNNEL = 100_000_000
# A forwarded live view's pushes waiting for the browser (GroupRelay); past this, new ones are dropped.
MAX_RELAYED_WAITING = 1_000
# RFC 6455's 1013 "try again later" in the range a server may send; static/js/cluster.js reconnects.
WEBSOCKET_TRY_AGAIN_LATER = 4013


# --- which cluster a connection is about ----------------------------------------------------------

def session_key_of(scope: dict) -> str:
    cookies = http.cookies.SimpleCookie()
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            try:
                cookies.load(value.decode("latin-1"))
            except http.cookies.CookieError:
                return ""
    morsel = cookies.get(settings.SESSION_COOKIE_NAME)
    return morsel.value if morsel is not None else ""


def cluster_of(scope: dict) -> str | None:
    """The id of the one cluster this connection is about, when its path says (database reads)."""
    path = scope.get("path", "")
    match = CLUSTER_PATH.match(path)
    if match:
        return match.group(1)
    match = KUBE_API_PATH.match(path)
    if match:
        key = match.group(1)
        if CLUSTER_ID_SHAPE.fullmatch(key):
            return key
        return cluster_id_for_secret(key) if SECRET_SHAPE.fullmatch(key) else None
    return _session_cluster(scope, path)


@functools.lru_cache(maxsize=4096)
def cluster_id_for_secret(secret: str) -> str | None:
    """A secret names one cluster for its whole life; kubectl sends it with every request."""
    return registry.store.id_for_secret(secret)


def _session_cluster(scope: dict, path: str) -> str | None:
    """A lesson page's or a workshop student's cluster, found through the session cookie."""
    lesson, learn = LESSON_PATH.match(path), WORKSHOP_LEARN_PATH.match(path)
    if not (lesson or learn):
        return None
    session_key = session_key_of(scope)
    if not session_key:
        return None
    if lesson:
        from lessons.models import LessonProgress

        rows = LessonProgress.objects.filter(session_key=session_key, lesson_slug=lesson.group(1))
    else:
        from workshops.models import Student

        rows = Student.objects.filter(session_key=session_key, workshop_id=int(learn.group(1)))
    return rows.values_list("cluster_id", flat=True).first() or None


def holder_elsewhere(ownership: Ownership, scope: dict) -> Holder | None:
    """The live process other than this one that holds this connection's cluster, if any (None:
    served here, the cluster loaded or taken over on the way)."""
    cluster_id = cluster_of(scope)
    if not cluster_id or cluster_id in registry.clusters:
        return None
    return ownership.elsewhere(cluster_id)


# --- the forwarding side ----------------------------------------------------------------------

class InOrder:
    """Puts a tunnel's numbered messages back in the order they were sent."""

    def __init__(self):
        self.next_seq = 0
        self.waiting: dict[int, dict] = {}

    def arrived(self, message: dict) -> list[dict]:
        self.waiting[message["seq"]] = message["message"]
        ready = []
        while self.next_seq in self.waiting:
            ready.append(self.waiting.pop(self.next_seq))
            self.next_seq += 1
        return ready


def portable_scope(scope: dict) -> dict:
    return {key: scope[key] for key in PORTABLE_SCOPE_KEYS if key in scope}


def restored_scope(portable: dict, origin: str) -> dict:
    scope = dict(portable, forwarded_from=origin)
    scope["headers"] = [(bytes(name), bytes(value)) for name, value in portable.get("headers", [])]
    for key in ("client", "server"):
        if portable.get(key) is not None:
            scope[key] = tuple(portable[key])
    return scope


def is_last(message: dict) -> bool:
    kind = message.get("type")
    return (kind == "http.response.body" and not message.get("more_body", False)) or kind == "websocket.close"


class ForwardingApplication:
    """The outermost ASGI application: forwards a connection whose cluster is held elsewhere."""

    def __init__(self, application: Callable, ownership_of: Callable[[], Ownership | None]):
        self.application = application
        self.ownership_of = ownership_of

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        ownership = self.ownership_of() if scope.get("type") in ("http", "websocket") else None
        if ownership is None or scope.get("forwarded_from"):
            return await self.application(scope, receive, send)
        if "tunnel.open" not in ownership.handlers:
            ownership.handlers["tunnel.open"] = lambda message: serve_tunnel(ownership, self.application, message)
            ownership.handlers["tunnel.in"] = _on_tunnel_in
        await ownership.start()
        if not MAY_NAME_A_CLUSTER.match(scope.get("path", "")):
            return await self.application(scope, receive, send)
        holder = await asyncio.to_thread(in_worker, holder_elsewhere, ownership, scope)
        if holder is None:
            return await self.application(scope, receive, send)
        await forward(ownership, holder, scope, receive, send)


async def forward(ownership: Ownership, holder: Holder, scope: dict, receive: Callable, send: Callable) -> None:
    layer = get_channel_layer()
    relay = await GroupRelay.open(layer, scope, send)
    send = relay.send if relay is not None else send
    mailbox = ownership.open_mailbox()
    tunnel = f"{ownership.channel}/{mailbox}"
    try:
        await layer.send(holder.channel, {"type": "tunnel.open", "tunnel": tunnel, "scope": portable_scope(scope),
                                          "reply_to": ownership.channel, "reply_mailbox": mailbox,
                                          "origin": ownership.name, "origin_boot_id": ownership.boot_id})
        upstream = asyncio.get_running_loop().create_task(_pump_up(layer, holder.channel, tunnel, receive))
        try:
            await _pump_down(ownership, ownership.mailboxes[mailbox], holder, scope["type"], send)
        finally:
            upstream.cancel()
    finally:
        ownership.close_mailbox(mailbox)
        if relay is not None:
            await relay.close()


class GroupRelay:
    """A forwarded live view's pushes, taken from its cluster's group in this process.

    Through the holder's consumer and back through the tunnel, each push would cross Redis twice
    (web/consumers.py leaves forwarded sockets out of the group). The relay joins the group before
    the connection is forwarded, so nothing the holder pushes after accepting is missed, and sends
    nothing until the holder's accept has reached the browser: the holder alone decides who may
    watch, and what a refused socket was pushed is dropped with it.
    """

    def __init__(self, layer: Any, group: str, language: str, client_send: Callable):
        self.layer, self.group, self.language, self.client_send = layer, group, language, client_send
        self.channel = ""
        self.waiting: asyncio.Queue = asyncio.Queue(MAX_RELAYED_WAITING)
        self.accepted = asyncio.Event()
        self.tasks: list[asyncio.Task] = []
        self.dropped = 0

    @classmethod
    async def open(cls, layer: Any, scope: dict, client_send: Callable) -> GroupRelay | None:
        """A relay for a live view's websocket (None for anything else), already in the group."""
        match = LIVE_VIEW_PATH.match(scope.get("path", ""))
        if scope.get("type") != "websocket" or match is None:
            return None
        relay = cls(layer, group_name(match.group(1)), language_from_query(scope.get("query_string", b"")),
                    client_send)
        relay.channel = await layer.new_channel()
        await layer.group_add(relay.group, relay.channel)
        loop = asyncio.get_running_loop()
        # Two tasks: cancelled inside receive, the channel layer lets go of the channel.
        relay.tasks = [loop.create_task(relay._take()), loop.create_task(relay._deliver())]
        return relay

    async def send(self, message: dict) -> None:
        """The tunnel's own messages to the browser (accept, results, close)."""
        if message.get("type") == "websocket.close":
            self.tasks[-1].cancel()  # nothing more goes out after a close
        await self.client_send(message)
        if message.get("type") == "websocket.accept":
            self.accepted.set()

    async def _take(self) -> None:
        for _push in range(MAX_MESSAGES_PER_TUNNEL):
            message = await self.layer.receive(self.channel)
            try:
                self.waiting.put_nowait(message)
            except asyncio.QueueFull:
                self.dropped += 1
                if self.dropped == 1:  # once per socket: a stalled browser would fill the log
                    logger.warning("live view relay for %s: the browser is too slow, pushes dropped", self.group)

    async def _deliver(self) -> None:
        await self.accepted.wait()
        for _push in range(MAX_MESSAGES_PER_TUNNEL):
            text = pushed_text(await self.waiting.get(), self.language)
            if text:
                await self.client_send({"type": "websocket.send", "text": text})

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)  # cancelled, or the browser had gone
        await self.layer.group_discard(self.group, self.channel)


async def _pump_up(layer: Any, holder_channel: str, tunnel: str, receive: Callable) -> None:
    """The client's messages (request body, websocket frames, disconnect) to the holder."""
    for seq in range(MAX_MESSAGES_PER_TUNNEL):
        message = await receive()
        await layer.send(holder_channel, {"type": "tunnel.in", "tunnel": tunnel, "seq": seq, "message": message})
        if message.get("type", "").endswith("disconnect"):
            return


async def _pump_down(ownership: Ownership, inbox: asyncio.Queue, holder: Holder, kind: str, send: Callable) -> None:
    """The holder's answer to the client, until its last message or the holder's death."""
    order, answered, silent_s = InOrder(), False, 0.0
    for _message in range(MAX_MESSAGES_PER_TUNNEL):
        try:
            message = await asyncio.wait_for(inbox.get(), LIVENESS_CHECK_S)
        except asyncio.TimeoutError:
            # A websocket or a watch may be quiet for long; a request must be answered in time.
            silent_s += LIVENESS_CHECK_S
            if (answered or silent_s < FIRST_ANSWER_TIMEOUT_S) and await _alive(ownership, holder):
                continue
            await _give_up(send, kind, answered)
            return
        silent_s = 0.0
        for ready in order.arrived(message):
            if ready.get("type") == "tunnel.end":  # the application finished without a last word
                if not answered:
                    await _give_up(send, kind, answered)
                return
            answered = True
            await send(ready)
            if is_last(ready):
                return


async def _alive(ownership: Ownership, holder: Holder) -> bool:
    return await asyncio.to_thread(in_worker, ownership.still_alive, holder)


async def _give_up(send: Callable, kind: str, answered: bool) -> None:
    """The holder died or fell silent: a 503 the client may retry, or the socket closed."""
    try:
        if kind == "websocket":
            await send({"type": "websocket.close", "code": WEBSOCKET_TRY_AGAIN_LATER})
        elif not answered:
            body = b"The server process holding this cluster stopped answering; try again.\n"
            await send({"type": "http.response.start", "status": 503,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"retry-after", b"1")]})
            await send({"type": "http.response.body", "body": body})
        else:
            await send({"type": "http.response.body", "body": b""})
    except Exception:  # the client went away meanwhile
        logger.debug("giving up on a tunnel whose client left", exc_info=True)


# --- the holder's side --------------------------------------------------------------------------

class ServedTunnel:
    """A forwarded connection running here: its messages in, the application's messages out."""

    def __init__(self, ownership: Ownership, message: dict):
        self.ownership = ownership
        self.tunnel = message["tunnel"]
        self.reply_to, self.reply_mailbox = message["reply_to"], message["reply_mailbox"]
        self.origin = Holder(name=message["origin"], boot_id=message["origin_boot_id"], channel=self.reply_to,
                             alive=True)
        self.kind = message["scope"].get("type", "http")
        self.order = InOrder()
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.sent = itertools.count()

    def arrived(self, message: dict) -> None:
        for ready in self.order.arrived(message):
            self.inbox.put_nowait(ready)

    async def receive(self) -> dict:
        for _check in range(MAX_MESSAGES_PER_TUNNEL):
            try:
                return await asyncio.wait_for(self.inbox.get(), LEASE_TTL_S)
            except asyncio.TimeoutError:
                if not await _alive(self.ownership, self.origin):  # the forwarding process died
                    return {"type": f"{self.kind}.disconnect", "code": 1006}
        return {"type": f"{self.kind}.disconnect", "code": 1006}

    async def send(self, message: dict) -> None:
        seq = next(self.sent)
        await get_channel_layer().send(self.reply_to, {"type": "tunnel.out", "mailbox": self.reply_mailbox,
                                                       "seq": seq, "message": message})


served: dict[str, ServedTunnel] = {}


async def serve_tunnel(ownership: Ownership, application: Callable, message: dict) -> None:
    tunnel = ServedTunnel(ownership, message)
    served[tunnel.tunnel] = tunnel
    try:
        await application(restored_scope(message["scope"], tunnel.origin.name), tunnel.receive, tunnel.send)
    finally:
        served.pop(tunnel.tunnel, None)
        await tunnel.send({"type": "tunnel.end"})


async def _on_tunnel_in(message: dict) -> None:
    tunnel = served.get(message.get("tunnel", ""))
    if tunnel is not None:
        tunnel.arrived(message)


def wrap(application: Callable) -> Callable:
    """The application, forwarding what belongs to another process's cluster when enabled."""
    return ForwardingApplication(application, lambda: registry.ownership)

