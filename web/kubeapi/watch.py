"""Streaming watches: a raw watch registered in the simulated kube-apiserver, forwarded as
newline-delimited JSON watch events while the simulation follows the wall clock.

The watch is opened as one recorded `api.request` (verb watch), so it replays exactly and shows in
the event stream; its notifications reach the simulated kubectl component, which keeps them per
ticket (`Cluster.take_watch_events`). The stream polls every 100 ms: advance the simulation to
the present, forward what arrived. It ends when the client hangs up, when `timeoutSeconds` have
passed (wall clock: the connection is real), or when the simulated apiserver closes the watch.

Bookmarks follow the watch cache's schedule: one 2 s before the deadline if that comes first,
otherwise every minute, carrying the apiserver's current revision.
"""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable

from web import runtime

POLL_INTERVAL_S = 0.1
BOOKMARK_INTERVAL_S = 60.0
BOOKMARK_BEFORE_DEADLINE_S = 2.0
# kube-apiserver's --min-request-timeout: a watch without timeoutSeconds lasts 30..60 minutes.
DEFAULT_WATCH_TIMEOUT_S = 1800.0
MAX_EVENTS_PER_POLL = 10_000
# Simulated network latency is a few ms; notifications sent this long ago have arrived.
NOTIFICATION_DELIVERY_MS = 50


# Open streams (ticket -> Watch), so tests and operators can see that hung-up clients are let go.
open_streams: dict[str, "Watch"] = {}


@dataclass
class Watch:
    live: runtime.LiveCluster
    ticket: str
    server: str
    last_revision: str
    # A revision of the apiserver's cache and when it was read; it becomes safe to announce in a
    # bookmark once the notifications sent before it have surely arrived.
    observed_revision: int = 0
    observed_at_ms: int | None = None
    safe_revision: int = 0

    def observe(self) -> None:
        now_ms = self.live.cluster.now_ms
        if self.observed_at_ms is not None and now_ms - self.observed_at_ms >= NOTIFICATION_DELIVERY_MS:
            self.safe_revision = self.observed_revision
            self.observed_at_ms = None
        if self.observed_at_ms is None:
            server = self.live.cluster.sim.components.get(self.server)
            revision = getattr(server, "cache_revision", 0) if server is not None and server.running else 0
            self.observed_revision = int(revision or 0)
            self.observed_at_ms = now_ms


def open_watch(live: runtime.LiveCluster, request: dict, start_revision: str) -> tuple[int, Any, Watch | None]:
    """Register the watch in the simulated apiserver; (code, body, watch) as it answered."""
    code, body, ticket = live.start_watch(request)
    if code != 200 or not isinstance(body, dict) or "watch_id" not in body:
        return code, body, None
    return 200, body, Watch(live=live, ticket=ticket, server=body.get("server", ""), last_revision=start_revision)


def poll(watch: Watch) -> tuple[list[dict], int]:
    """Advance to the present; the notifications that arrived and a revision they surely cover."""
    with watch.live.lock:
        if watch.live.evicted:  # the cluster left this process: the client watches again, elsewhere
            return [{"type": "END"}], watch.safe_revision
        watch.live.advance()
        events = watch.live.cluster.take_watch_events(watch.ticket)
        watch.observe()
    return events[:MAX_EVENTS_PER_POLL], watch.safe_revision


def close(watch: Watch) -> None:
    with watch.live.lock:
        watch.live.cluster.stop_watch(watch.ticket)


def _line(event: dict) -> bytes:
    return (json.dumps(event, separators=(",", ":")) + "\n").encode()


def next_bookmark_s(now_s: float, deadline_s: float) -> float:
    return min(now_s + BOOKMARK_INTERVAL_S, deadline_s - BOOKMARK_BEFORE_DEADLINE_S)


async def stream(watch: Watch, *, timeout_s: float | None, bookmarks: bool,
                 convert: Callable[[dict], dict], bookmark_object: Callable[[str], dict]) -> AsyncIterator[bytes]:
    """The response body of a watch: one JSON event per line."""
    loop = asyncio.get_running_loop()
    started = time.monotonic()
    deadline = started + (timeout_s if timeout_s and timeout_s > 0 else DEFAULT_WATCH_TIMEOUT_S)
    bookmark_at = next_bookmark_s(started, deadline)
    polls = int((deadline - started) / POLL_INTERVAL_S) + 2
    open_streams[watch.ticket] = watch
    try:
        # An empty first chunk makes the server send the response headers now, as kube-apiserver
        # flushes them at once: clients wait for them before they count the watch as started.
        yield b""
        for _poll in range(polls):
            events, revision = await loop.run_in_executor(None, poll, watch)
            for event in events:
                if event["type"] == "END":
                    return
                resource_version = ((event.get("object") or {}).get("metadata") or {}).get("resourceVersion")
                if resource_version:
                    watch.last_revision = resource_version
                yield _line(convert(event))
            now = time.monotonic()
            if bookmarks and now >= bookmark_at:
                bookmark_at = next_bookmark_s(now, deadline) if now < deadline - BOOKMARK_BEFORE_DEADLINE_S else deadline + 1
                if revision > _as_int(watch.last_revision):
                    watch.last_revision = str(revision)
                yield _line({"type": "BOOKMARK", "object": bookmark_object(watch.last_revision)})
            if now >= deadline:
                return
            await asyncio.sleep(min(POLL_INTERVAL_S, max(0.0, deadline - now)))
    finally:
        open_streams.pop(watch.ticket, None)
        # The client hung up or the watch ended: stop it in the simulated apiserver too.
        loop.run_in_executor(None, close, watch)


def _as_int(text: str) -> int:
    return int(text) if text and text.isdigit() else 0
