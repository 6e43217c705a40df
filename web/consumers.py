"""The live view's websocket: `ws/clusters/<id>/`, one channel-layer group per cluster (`cluster.<id>`).

A per-process ticker (an asyncio task that runs while at least one socket is open) advances each
watched cluster with the wall clock every TICK_S and pushes to its group:
- `{"type": "events", ...}`: the new events as compact JSON for static/js/cluster.js to animate;
- HTML fragments with hx-swap-oob (htmx's ws extension swaps them), at most RENDERS_PER_S times
  a second and only the fragments whose HTML changed, rendered once per language watching.
A socket may also send commands as JSON: `{"command": "action", "action": {...}}` or
`{"command": "clock", "speed"|"paused"|"advance"|"rewind_to": ...}`; they call web.services,
exactly as the htmx controls do.
"""
from __future__ import annotations

import asyncio
import json
import logging
import urllib.parse
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings

from web import limits, services
from web.runtime import LiveCluster, registry
from web.views_cluster import (can_view, drop_view_state, is_noise_event, render_log_push,
                               render_state_fragments, view_state)

logger = logging.getLogger(__name__)

TICK_S = 0.1
RENDERS_PER_S = 4
# A push carries at most this many events; beyond it the animator could not show them anyway.
MAX_EVENTS_PER_PUSH = 400
MAX_STRING_IN_PUSH = 120
FORBIDDEN_CLOSE_CODE = 4403
# One tick stops simulating after this much time, so pushes keep coming at 100x even while a big
# cluster boots; the clock then waits for the simulation.
ADVANCE_BUDGET_S = 0.08


def group_name(cluster_id: str) -> str:
    return f"cluster.{cluster_id}"


def language_from_query(query_string: bytes) -> str:
    requested = urllib.parse.parse_qs(query_string.decode("latin-1")).get("lang", [""])[0]
    known = [code for code, _name in settings.LANGUAGES]
    return requested if requested in known else settings.LANGUAGE_CODE


# --- what goes to the animator ------------------------------------------------------------------

def compact_payload(payload: dict) -> dict:
    """Scalars only (a decision's tables or a manifest would be kilobytes per event)."""
    compact = {}
    for key, value in payload.items():
        if isinstance(value, str):
            compact[key] = value[:MAX_STRING_IN_PUSH]
        elif value is None or isinstance(value, (bool, int, float)):
            compact[key] = value
    return compact


def thin_out(events: list) -> tuple[list, int]:
    """Keep every story event and as much noise as fits, evenly spread; say how many were dropped."""
    if len(events) <= MAX_EVENTS_PER_PUSH:
        return events, 0
    story = [event for event in events if not is_noise_event(event)][-MAX_EVENTS_PER_PUSH:]
    noise = [event for event in events if is_noise_event(event)]
    room = MAX_EVENTS_PER_PUSH - len(story)
    kept_noise = noise[::max(1, -(-len(noise) // room))][:room] if room > 0 else []
    kept = sorted(story + kept_noise, key=lambda event: event.seq)
    return kept, len(events) - len(kept)


def animation_message(live: LiveCluster, events: list, dropped: int) -> str:
    kept, thinned = thin_out(events)
    return json.dumps({
        "type": "events", "now": live.now_ms, "speed": live.clock.speed, "paused": live.clock.paused,
        "dropped": dropped + thinned,
        "events": [[event.time_ms, event.seq, event.kind, event.source, event.target,
                    compact_payload(event.payload)] for event in kept],
    }, separators=(",", ":"))


def advance_bounded(live: LiveCluster) -> None:
    live.advance(budget_s=ADVANCE_BUDGET_S)


# --- the ticker -----------------------------------------------------------------------------------

class Ticker:
    """Advances watched clusters and pushes what changed; one per process (see `ticker`)."""

    def __init__(self):
        self.watchers: dict[str, dict[str, str]] = {}  # cluster id -> channel name -> language
        self.task: asyncio.Task | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.last_render_s: dict[str, float] = {}
        self.sent: dict[str, dict[str, str]] = {}      # cluster id -> "lang/fragment" -> html
        self.urgent: dict[str, bool] = {}

    def watch(self, cluster_id: str, channel_name: str, language: str) -> None:
        self.watchers.setdefault(cluster_id, {})[channel_name] = language
        # Everything is sent again so the new socket starts from a complete picture.
        self.sent.pop(cluster_id, None)
        self.urgent[cluster_id] = True
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done() or self.loop is not loop:
            self.loop = loop
            self.task = loop.create_task(self.run())

    def unwatch(self, cluster_id: str, channel_name: str) -> None:
        channels = self.watchers.get(cluster_id, {})
        channels.pop(channel_name, None)
        if not channels:
            for table in (self.watchers, self.last_render_s, self.sent, self.urgent):
                table.pop(cluster_id, None)

    def kick(self, cluster_id: str) -> None:
        """Render at the next tick, not after the throttle: someone just pressed a control."""
        self.urgent[cluster_id] = True

    async def run(self) -> None:
        layer = get_channel_layer()
        loop = asyncio.get_running_loop()
        while self.watchers:
            started = loop.time()
            for cluster_id in list(self.watchers):
                try:
                    await self.tick(layer, cluster_id, started)
                except Exception:  # one broken cluster must not stop the others' views
                    logger.exception("live view tick failed for cluster %s", cluster_id)
            await asyncio.sleep(max(0.0, TICK_S - (loop.time() - started)))

    async def tick(self, layer: Any, cluster_id: str, now_s: float) -> None:
        live = registry.get(cluster_id)
        if live is None:  # deleted while watched: forget what the view remembered of it
            drop_view_state(cluster_id)
            return
        view = view_state(live)
        await asyncio.to_thread(advance_bounded, live)
        events, dropped = view.take_animation()
        if events or dropped:
            await layer.group_send(group_name(cluster_id), {
                "type": "cluster.events", "text": animation_message(live, events, dropped)})
        urgent = self.urgent.pop(cluster_id, False)
        if not urgent and now_s - self.last_render_s.get(cluster_id, 0.0) < 1 / RENDERS_PER_S:
            return
        changed = view.take_changed()
        if not (urgent or changed or not live.clock.paused):
            return
        self.last_render_s[cluster_id] = now_s
        languages = sorted(set(self.watchers.get(cluster_id, {}).values()))
        html = await asyncio.to_thread(self.render, live, view, languages)
        if any(html.values()):
            await layer.group_send(group_name(cluster_id), {"type": "cluster.fragments", "html": html})

    def render(self, live: LiveCluster, view: Any, languages: list[str]) -> dict[str, str]:
        """Per language: the fragments that changed since the last push, and the new log entries."""
        sent = self.sent.setdefault(live.id, {})
        log_events, reset = view.take_log()
        html = {}
        for language in languages:
            parts = []
            for name, fragment in render_state_fragments(live, language=language).items():
                if sent.get(f"{language}/{name}") != fragment:
                    sent[f"{language}/{name}"] = fragment
                    parts.append(fragment)
            if log_events or reset:
                parts.append(render_log_push(view, log_events, reset, language=language))
            html[language] = "".join(parts)
        return html


ticker = Ticker()


# --- the consumer -------------------------------------------------------------------------------

class ClusterConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.cluster_id = self.scope["url_route"]["kwargs"]["cluster_id"]
        session = self.scope.get("session")
        self.session_key = getattr(session, "session_key", None) if session is not None else None
        if not can_view(registry.get(self.cluster_id), self.session_key):
            await self.close(code=FORBIDDEN_CLOSE_CODE)
            return
        self.language = language_from_query(self.scope.get("query_string", b""))
        self.group = group_name(self.cluster_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        ticker.watch(self.cluster_id, self.channel_name, self.language)

    async def disconnect(self, code: int) -> None:
        if getattr(self, "group", None):
            ticker.unwatch(self.cluster_id, self.channel_name)
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        size_bytes = len(text_data.encode()) if text_data is not None else len(bytes_data or b"")
        if size_bytes > limits.websocket_max_message_bytes():
            await self.close(code=limits.WEBSOCKET_TOO_BIG_CLOSE_CODE)
            return
        try:
            command = json.loads(text_data or "")
        except ValueError:
            command = None
        if not isinstance(command, dict) or command.get("command") not in ("action", "clock"):
            await self.send_result(False, 'expected {"command": "action" | "clock", ...}')
            return
        refusal = self.over_limit(command)
        if refusal:
            await self.send_result(False, refusal)
            return
        try:
            await asyncio.to_thread(self.run_command, command)
        except services.ServiceError as failure:
            await self.send_result(False, str(failure))
            return
        ticker.kick(self.cluster_id)
        await self.send_result(True, "")

    def over_limit(self, command: dict) -> str | None:
        """The session's action rate and the cluster's pod cap (web/limits.py), as a message."""
        key = limits.caller_key(session_key=self.session_key, remote_addr=None)
        wait_s = limits.actions.retry_after_s(key)
        if wait_s is not None:
            return limits.too_many_requests_message(wait_s)
        return limits.replicas_over_cap_message(command)

    def run_command(self, command: dict) -> None:
        if command["command"] == "action":
            services.apply_action(session_key=self.session_key, cluster_id=self.cluster_id,
                                  action=command.get("action"))
            return
        services.set_clock(session_key=self.session_key, cluster_id=self.cluster_id, speed=command.get("speed"),
                           paused=command.get("paused"), advance=command.get("advance"),
                           rewind_to=command.get("rewind_to"))

    async def send_result(self, ok: bool, message: str) -> None:
        await self.send(text_data=json.dumps({"type": "result", "ok": ok, "message": message}))

    async def cluster_events(self, message: dict) -> None:
        await self.send(text_data=message["text"])

    async def cluster_fragments(self, message: dict) -> None:
        html = message["html"].get(self.language)
        if html:
            await self.send(text_data=html)
