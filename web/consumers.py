"""The live view's websocket: `ws/clusters/<id>/`, one channel-layer group per cluster (`cluster.<id>`).

A per-process ticker (an asyncio task that runs while at least one socket is open) advances each
watched cluster with the wall clock every TICK_S and pushes to its group:
- `{"type": "events", ...}`: the new events as compact JSON for static/js/cluster.js to animate
  (those an action caused are pushed as soon as it is applied);
- HTML fragments with hx-swap-oob (htmx's ws extension swaps them), at most RENDERS_PER_S times
  a second, rendered once per language watching, only when what they show changed
  (web.views_cluster.render_changed_fragments), and sent only when their HTML changed.
A socket may also send commands as JSON: `{"command": "action", "action": {...}}` or
`{"command": "clock", "speed"|"paused"|"advance"|"rewind_to": ...}`; they call web.services,
exactly as the htmx controls do.
"""
from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import urllib.parse
import zlib
from dataclasses import dataclass
from typing import Any

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings

from web import limits, services
from web.runtime import ClusterElsewhere, LiveCluster, registry
from web.views_cluster import (FragmentMemory, can_view, drop_view_state, is_noise_event,
                               render_changed_fragments, render_log_push, view_state)

logger = logging.getLogger(__name__)

# Twice a second: a tick's events reach the animator, which spaces its dots out anyway (an
# action's events are pushed at once); longer runs of one cluster also cost less CPU a second.
TICK_S = 0.5
# Each TICK_S is cut in this many slices; a cluster ticks in one of them (Ticker).
TICK_SLICES = 4
# Once a second: what a fragment shows lags its events by half a second on average, and the
# etcd panel's counters and the clock run in the page between renders.
RENDERS_PER_S = 1
# While the process cannot keep up (a slice's tick overran its share of TICK_S), fragments are
# rendered this often instead, for BUSY_HOLD_S after the last overrun: the work shed first is
# the one nobody loses anything to (events are still pushed every TICK_S).
RENDERS_PER_S_WHEN_BUSY = 0.5
BUSY_HOLD_S = 5.0
# A push carries at most this many events; beyond it the animator could not show them anyway.
MAX_EVENTS_PER_PUSH = 400
MAX_STRING_IN_PUSH = 120
FORBIDDEN_CLOSE_CODE = 4403
# Another process took the cluster over: static/js/cluster.js reconnects, and the new connection
# is forwarded to the holder (daphne only sends 1000 or 3000-4999, so not RFC 6455's 1012).
MOVED_CLOSE_CODE = 4012
# One tick stops simulating after this much time, so pushes keep coming at 100x even while a big
# cluster boots; the clock then waits for the simulation.
ADVANCE_BUDGET_S = 0.15


# In one slice's call, the ticker's thread waits at most this long in all for learners' commands
# (ActionsFirst): more, and a stream of commands would hold every clock back.
ACTIONS_FIRST_MAX_WAIT_S = 0.02


def group_name(cluster_id: str) -> str:
    return f"cluster.{cluster_id}"


def language_from_query(query_string: bytes) -> str:
    requested = urllib.parse.parse_qs(query_string.decode("latin-1")).get("lang", [""])[0]
    known = [code for code, _name in settings.LANGUAGES]
    return requested if requested in known else settings.LANGUAGE_CODE


# --- what goes to the animator ------------------------------------------------------------------

# What static/js/cluster.js reads from the payloads of the frequent kinds (toAnimation): these
# make nearly every event, and the rest of their payload is in the log's raw line. Other kinds
# (an action, a stopped process) keep every scalar.
PUSHED_FIELDS = {
    "api.request": ("verb",), "api.response": ("code",), "api.watch": (),
    "etcd.request": (), "etcd.append": ("index",), "etcd.commit": ("index",), "etcd.apply": ("index",),
    "etcd.replicate": ("to_index",), "etcd.ack": (), "etcd.heartbeat": (),
}


def compact_payload(kind: str, payload: dict) -> dict:
    """What the page uses: scalars only (a decision's tables or a manifest would be kilobytes per
    event), and for the frequent kinds only their PUSHED_FIELDS."""
    fields = PUSHED_FIELDS.get(kind)
    if fields is not None:
        return {key: payload[key] for key in fields if key in payload}
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
                    compact_payload(event.kind, event.payload)] for event in kept],
    }, separators=(",", ":"))


def advance_bounded(live: LiveCluster) -> None:
    live.advance(budget_s=ADVANCE_BUDGET_S)


# --- the ticker -----------------------------------------------------------------------------------

class ActionsFirst:
    """Counts learners' commands from receipt until their events are pushed; while any is under
    way, the ticker's thread waits before its next cluster, up to ACTIONS_FIRST_MAX_WAIT_S per
    slice. (A bound per cluster let a busy process collapse: commands under way nearly all the
    time held the ticker back, so clusters fell behind, so commands took longer.)

    Both run Python in threads of one process and so take turns holding the interpreter's lock.
    Without the wait, a command's few milliseconds of work would share the core with a slice of
    clusters being simulated and rendered, and a learner would wait for other learners' clocks.
    The ticker only falls behind: the page's clock runs on its own between pushes.
    """

    def __init__(self):
        self.under_way = 0
        self.lock = threading.Lock()
        self.none_under_way = threading.Event()
        self.none_under_way.set()

    def begin(self) -> None:
        with self.lock:
            self.under_way += 1
            self.none_under_way.clear()

    def end(self) -> None:
        with self.lock:
            self.under_way -= 1
            if self.under_way == 0:
                self.none_under_way.set()

    def wait(self, timeout_s: float) -> None:
        if timeout_s > 0:
            self.none_under_way.wait(timeout_s)


actions_first = ActionsFirst()


@dataclass
class RenderPlan:
    """One cluster's render at this tick: for whom, and what they were sent before."""
    urgent: bool
    languages: list[str]
    memory: FragmentMemory


def tick_slice(cluster_id: str) -> int:
    """The slice of each TICK_S in which the cluster ticks (stable: its id decides)."""
    return zlib.crc32(cluster_id.encode()) % TICK_SLICES


class Ticker:
    """Advances watched clusters and pushes what changed; one per process (see `ticker`).

    Each TICK_S is cut into TICK_SLICES slices and every cluster ticks in one of them, so pushes
    are spread over the interval rather than sent in one burst. The clusters of a slice are
    advanced and rendered in one worker-thread call: a thread hop per cluster costs more than a
    quiet cluster's whole tick. The events an action caused are pushed at once (`kick`).
    """

    def __init__(self):
        self.watchers: dict[str, dict[str, str]] = {}  # cluster id -> channel name -> language
        self.task: asyncio.Task | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.last_render_s: dict[str, float] = {}
        self.busy_until_s = float("-inf")
        self.memory: dict[str, FragmentMemory] = {}
        self.urgent: dict[str, bool] = {}
        # One events push at a time per cluster, so pushes keep the events' order.
        self.push_locks: dict[str, asyncio.Lock] = {}

    def watch(self, cluster_id: str, channel_name: str, language: str) -> None:
        self.watchers.setdefault(cluster_id, {})[channel_name] = language
        # Everything is sent again so the new socket starts from a complete picture (a render
        # under way keeps the memory it started with).
        self.memory[cluster_id] = FragmentMemory()
        self.urgent[cluster_id] = True
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done() or self.loop is not loop:
            self.loop = loop
            self.task = loop.create_task(self.run())

    def unwatch(self, cluster_id: str, channel_name: str) -> None:
        channels = self.watchers.get(cluster_id, {})
        channels.pop(channel_name, None)
        if not channels:
            for table in (self.watchers, self.last_render_s, self.memory, self.urgent, self.push_locks):
                table.pop(cluster_id, None)

    async def kick(self, cluster_id: str) -> None:
        """Someone just pressed a control: push the events it caused now, and render at the
        cluster's next tick rather than after the throttle."""
        self.urgent[cluster_id] = True
        if cluster_id in self.watchers:
            await self.push_events_now(cluster_id)

    async def push_events_now(self, cluster_id: str) -> None:
        live = registry.clusters.get(cluster_id)
        if live is None:
            return
        try:
            await self.push_events(get_channel_layer(), live)
        except Exception:  # the next tick pushes them instead
            logger.exception("pushing the events of an action failed for cluster %s", cluster_id)

    async def push_events(self, layer: Any, live: LiveCluster) -> None:
        lock = self.push_locks.setdefault(live.id, asyncio.Lock())
        async with lock:
            events, dropped = view_state(live).take_animation()
            if events or dropped:
                await layer.group_send(group_name(live.id), {
                    "type": "cluster.events", "text": animation_message(live, events, dropped)})

    async def run(self) -> None:
        layer = get_channel_layer()
        loop = asyncio.get_running_loop()
        slice_s = TICK_S / TICK_SLICES
        round_number = 0
        while self.watchers:
            started = loop.time()
            cluster_ids = [cluster_id for cluster_id in self.watchers
                           if tick_slice(cluster_id) == round_number % TICK_SLICES]
            round_number += 1
            if cluster_ids:
                try:
                    await self.tick(layer, cluster_ids, started)
                except Exception:  # one broken slice must not stop the live views
                    logger.exception("live view tick failed")
            if loop.time() - started > slice_s:
                self.busy_until_s = loop.time() + BUSY_HOLD_S
            await asyncio.sleep(max(0.0, slice_s - (loop.time() - started)))

    async def tick(self, layer: Any, cluster_ids: list[str], now_s: float) -> None:
        plans = {cluster_id: self.render_plan(cluster_id, now_s) for cluster_id in cluster_ids}
        outcomes = await asyncio.to_thread(self.advance_and_render, plans)
        for cluster_id, (live, html) in outcomes.items():
            await self.push(layer, cluster_id, live, html, now_s)

    async def push(self, layer: Any, cluster_id: str, live: LiveCluster | None, html: dict | None,
                   now_s: float) -> None:
        try:
            if live is None:  # deleted while watched, or held by another process now
                drop_view_state(cluster_id)
                await self.send_away(layer, cluster_id)
                return
            await self.push_events(layer, live)
            if html is not None:
                self.last_render_s[cluster_id] = now_s
            if html and any(html.values()):
                await layer.group_send(group_name(cluster_id), {"type": "cluster.fragments", "html": html})
        except Exception:  # one broken cluster must not stop the others' views
            logger.exception("live view tick failed for cluster %s", cluster_id)

    def render_plan(self, cluster_id: str, now_s: float) -> RenderPlan | None:
        """None while the cluster was rendered less than 1/RENDERS_PER_S ago (and nobody acted)."""
        urgent = self.urgent.pop(cluster_id, False)
        renders_per_s = RENDERS_PER_S_WHEN_BUSY if now_s < self.busy_until_s else RENDERS_PER_S
        if not urgent and now_s - self.last_render_s.get(cluster_id, 0.0) < 1 / renders_per_s:
            return None
        return RenderPlan(urgent=urgent, languages=sorted(set(self.watchers.get(cluster_id, {}).values())),
                          memory=self.memory.setdefault(cluster_id, FragmentMemory()))

    def advance_and_render(self, plans: dict[str, RenderPlan | None]) -> dict[str, tuple]:
        """In a worker thread: per cluster (LiveCluster or None when gone, HTML per language or
        None when it was not rendered)."""
        outcomes: dict[str, tuple] = {}
        wait_until_s = time.monotonic() + ACTIONS_FIRST_MAX_WAIT_S
        for cluster_id, plan in plans.items():
            actions_first.wait(wait_until_s - time.monotonic())
            try:
                live = registry.get(cluster_id, claim=False)
                if live is None:
                    outcomes[cluster_id] = (None, None)
                    continue
                view = view_state(live)
                advance_bounded(live)
                outcomes[cluster_id] = (live, self.render(live, view, plan) if plan is not None else None)
            except Exception:  # one broken cluster must not stop the others' views
                logger.exception("live view tick failed for cluster %s", cluster_id)
        return outcomes

    async def send_away(self, layer: Any, cluster_id: str) -> None:
        """Another process took the cluster over (web/ownership.py): close this process's sockets on
        it with MOVED_CLOSE_CODE, so browsers reconnect and are forwarded to the new holder."""
        if registry.ownership is None or not await asyncio.to_thread(registry.held_elsewhere, cluster_id):
            return
        for channel_name in list(self.watchers.get(cluster_id, {})):
            await layer.send(channel_name, {"type": "cluster.moved"})
        self.watchers.pop(cluster_id, None)

    def render(self, live: LiveCluster, view: Any, plan: RenderPlan) -> dict[str, str] | None:
        """Per language: the fragments that changed since the last push, and the new log entries;
        None when nothing could have changed (paused, no events, nobody acted)."""
        changed = view.take_changed()
        if not (plan.urgent or changed or not live.clock.paused):
            return None
        log_events, reset = view.take_log()
        fragments = render_changed_fragments(live, languages=plan.languages, memory=plan.memory)
        html = {}
        for language in plan.languages:
            parts = list(fragments.get(language, []))
            if log_events or reset:
                parts.append(render_log_push(view, log_events, reset, language=language))
            html[language] = "".join(parts)
        return html


ticker = Ticker()


# --- the consumer -------------------------------------------------------------------------------

class ClusterConsumer(AsyncWebsocketConsumer):
    # Channels closes the database's stale connections before every handler, a hop through the
    # thread that runs sync code each time. The pushes (a few a second per socket, hundreds in a
    # busy process) touch no database, so they go straight to their handlers; what does use it
    # (commands, through web.services) still gets the check.
    PUSHES = frozenset({"cluster.events", "cluster.fragments", "cluster.moved"})

    async def dispatch(self, message: dict) -> None:
        if message.get("type") in self.PUSHES:
            await getattr(self, get_handler_name(message))(message)
            return
        await super().dispatch(message)

    async def connect(self) -> None:
        self.cluster_id = self.scope["url_route"]["kwargs"]["cluster_id"]
        session = self.scope.get("session")
        self.session_key = getattr(session, "session_key", None) if session is not None else None
        if not can_view(registry.get(self.cluster_id), self.session_key):
            await self.close(code=FORBIDDEN_CLOSE_CODE)
            return
        self.language = language_from_query(self.scope.get("query_string", b""))
        self.group = group_name(self.cluster_id)
        # A socket forwarded from another process (web/tunnel.py) gets the group's pushes there,
        # straight from the channel layer (GroupRelay): through this consumer they would cross
        # Redis twice. Its commands and results still come through the tunnel.
        if not self.scope.get("forwarded_from"):
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
        actions_first.begin()
        try:
            await self.run_and_push(command)
        finally:
            actions_first.end()

    async def run_and_push(self, command: dict) -> None:
        try:
            # One thread hop for both: the limits may ask Redis, the command runs the simulation.
            refusal = await asyncio.to_thread(self.run_within_limits, command)
        except (services.ServiceError, ClusterElsewhere) as failure:
            await self.send_result(False, str(failure))
            return
        if refusal:
            await self.send_result(False, refusal)
            return
        await ticker.kick(self.cluster_id)
        await self.send_result(True, "")

    def over_limit(self, command: dict) -> str | None:
        """The session's action rate and the cluster's pod cap (web/limits.py), as a message."""
        wait_s = limits.session_action_wait_s(self.session_key)
        if wait_s is not None:
            return limits.too_many_requests_message(wait_s)
        return limits.replicas_over_cap_message(command)

    def run_within_limits(self, command: dict) -> str | None:
        refusal = self.over_limit(command)
        if refusal is None:
            self.run_command(command)
        return refusal

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

    async def cluster_moved(self, message: dict) -> None:
        await self.close(code=MOVED_CLOSE_CODE)

    async def cluster_events(self, message: dict) -> None:
        await self.send(text_data=pushed_text(message, self.language))

    async def cluster_fragments(self, message: dict) -> None:
        text = pushed_text(message, self.language)
        if text:
            await self.send(text_data=text)


def pushed_text(message: dict, language: str) -> str | None:
    """What a live view in ``language`` is sent for one of its group's pushes (None: nothing)."""
    if message.get("type") == "cluster.events":
        return message["text"]
    if message.get("type") == "cluster.fragments":
        return message["html"].get(language) or None
    return None
