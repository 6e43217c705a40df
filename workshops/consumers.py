"""Workshop websockets.

- `ws/workshops/<id>/class/`: the instructor's class view. One refresher task per watched workshop
  (shared by every open class view of it) rebuilds the tiles from cheap per-cluster summaries at
  most every REFRESH_S and sends only the tiles whose HTML changed (hx-swap-oob), to the group
  `workshop.<id>`.
- `ws/workshops/<id>/student/`: a student's banners (paused, broadcast, moved, reset, a question),
  as JSON {"type": "banner", "kind", "text", ...}, from the group `workshop.<id>.students`.
"""
from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.utils import translation
from django.utils.translation import gettext as _

from web.consumers import FORBIDDEN_CLOSE_CODE, language_from_query

from . import services
from .models import Student, Workshop

logger = logging.getLogger(__name__)

REFRESH_S = 1.0


class Refresher:
    """Per workshop: which sockets watch it (and in which language) and what they were sent."""

    def __init__(self):
        self.watchers: dict[int, dict[str, str]] = {}
        self.sent: dict[int, dict[str, str]] = {}
        self.tasks: dict[int, asyncio.Task] = {}
        self.last_cost_s: dict[int, float] = {}

    def watch(self, workshop_id: int, channel_name: str, language: str) -> None:
        self.watchers.setdefault(workshop_id, {})[channel_name] = language
        self.sent.pop(workshop_id, None)  # the new socket needs everything
        task = self.tasks.get(workshop_id)
        if task is None or task.done():
            self.tasks[workshop_id] = asyncio.get_running_loop().create_task(self.run(workshop_id))

    def unwatch(self, workshop_id: int, channel_name: str) -> None:
        channels = self.watchers.get(workshop_id, {})
        channels.pop(channel_name, None)
        if not channels:
            self.watchers.pop(workshop_id, None)
            self.sent.pop(workshop_id, None)

    async def run(self, workshop_id: int) -> None:
        layer = get_channel_layer()
        loop = asyncio.get_running_loop()
        while self.watchers.get(workshop_id):
            started = loop.time()
            try:
                languages = sorted(set(self.watchers.get(workshop_id, {}).values()))
                html = await asyncio.to_thread(self.render, workshop_id, languages)
                self.last_cost_s[workshop_id] = loop.time() - started
                if any(html.values()):
                    await layer.group_send(f"workshop.{workshop_id}", {"type": "class.tiles", "html": html})
            except Exception:  # a bad refresh must not end the class view
                logger.exception("class view refresh failed for workshop %s", workshop_id)
            await asyncio.sleep(max(0.05, REFRESH_S - (loop.time() - started)))
        self.tasks.pop(workshop_id, None)

    def render(self, workshop_id: int, languages: list[str]) -> dict[str, str]:
        from .views import render_counts, render_tile, tiles_context
        workshop = Workshop.objects.filter(pk=workshop_id).first()
        if workshop is None:
            return {}
        sent = self.sent.setdefault(workshop_id, {})
        html = {}
        for language in languages:
            with translation.override(language):
                context = tiles_context(workshop, language)
                parts = []
                ids = ",".join(str(tile["id"]) for tile in context["tiles"])
                if sent.get(f"{language}/ids") != ids:
                    # Someone joined: the whole grid, so new tiles have a place.
                    sent[f"{language}/ids"] = ids
                    grid = "".join(render_tile(tile, oob=False) for tile in context["tiles"])
                    parts.append(f'<div id="class-tiles" class="class-tiles" hx-swap-oob="innerHTML">{grid}</div>')
                    for tile in context["tiles"]:
                        sent[f"{language}/tile-{tile['id']}"] = render_tile(tile, oob=True)
                else:
                    for tile in context["tiles"]:
                        fragment = render_tile(tile, oob=True)
                        if sent.get(f"{language}/tile-{tile['id']}") != fragment:
                            sent[f"{language}/tile-{tile['id']}"] = fragment
                            parts.append(fragment)
                counts = render_counts(context, oob=True)
                if sent.get(f"{language}/counts") != counts:
                    sent[f"{language}/counts"] = counts
                    parts.append(counts)
                html[language] = "".join(parts)
        return html


refresher = Refresher()


@database_sync_to_async
def _instructor_workshop(workshop_id: int, user: Any) -> Workshop | None:
    workshop = Workshop.objects.filter(pk=workshop_id).first()
    if workshop is None or not user or not user.is_authenticated or workshop.instructor_id != user.id:
        return None
    return workshop


@database_sync_to_async
def _student(workshop_id: int, session_key: str | None) -> Student | None:
    if not session_key:
        return None
    return Student.objects.filter(workshop_id=workshop_id, session_key=session_key).first()


class ClassConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.workshop_id = self.scope["url_route"]["kwargs"]["workshop_id"]
        workshop = await _instructor_workshop(self.workshop_id, self.scope.get("user"))
        if workshop is None:
            await self.close(code=FORBIDDEN_CLOSE_CODE)
            return
        self.group = services.group_name(workshop)
        self.language = language_from_query(self.scope.get("query_string", b""))
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        refresher.watch(self.workshop_id, self.channel_name, self.language)

    async def disconnect(self, code: int) -> None:
        if getattr(self, "group", None):
            refresher.unwatch(self.workshop_id, self.channel_name)
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def class_tiles(self, message: dict) -> None:
        html = message["html"].get(self.language)
        if html:
            await self.send(text_data=html)

    async def workshop_event(self, message: dict) -> None:
        """Something the instructor did: the next refresh shows it (nothing to send now)."""


BANNERS = {
    "paused": lambda details: _("The instructor paused your cluster's clock."),
    "resumed": lambda details: _("The instructor started your cluster's clock again."),
    "broadcast": lambda details: _("The instructor did this to your cluster: %(action)s. Watch what happens.")
    % {"action": details.get("action", "")},
    "moved": lambda details: _("The instructor moved everyone to a step; the page reloads."),
    "reset": lambda details: _("The instructor reset everyone's cluster; the page reloads."),
    "question": lambda details: _("A question from the instructor: %(question)s") % {
        "question": details.get("question", "")},
    "presenter": lambda details: _("The instructor's cluster is on: you can follow it."),
    "status": lambda details: _("The workshop is closed: your cluster is read-only now.")
    if details.get("status") == "closed" else _("The workshop is open."),
}


class StudentConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.workshop_id = self.scope["url_route"]["kwargs"]["workshop_id"]
        session = self.scope.get("session")
        student = await _student(self.workshop_id, getattr(session, "session_key", None))
        if student is None:
            await self.close(code=FORBIDDEN_CLOSE_CODE)
            return
        self.group = f"workshop.{self.workshop_id}.students"
        self.language = language_from_query(self.scope.get("query_string", b""))
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def workshop_event(self, message: dict) -> None:
        banner = BANNERS.get(message["kind"])
        if banner is None:
            return
        details = message.get("details") or {}
        with translation.override(self.language):
            text = banner(details)
        body = {"type": "banner", "kind": message["kind"], "text": text}
        if message["kind"] == "question":
            body["broadcast"] = details.get("broadcast")
        if message["kind"] == "presenter":
            body["url"] = f"/clusters/{details.get('cluster')}/"
        await self.send(text_data=json.dumps(body))
