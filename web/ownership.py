"""Which server process advances which cluster, when several share one database and one Redis.

A simulation lives in one process's memory and only that process may advance it and journal its
actions; otherwise two copies would drift apart. So (docs/deploy.md, "Several processes"):

- Every process has a name (APP_PROCESS_NAME, else host:pid), a boot id, and a channel of its own
  on the channel layer; it writes a heartbeat into ServerProcess every HEARTBEAT_EVERY_S.
- A cluster in a process's memory is leased to it (ClusterLease). A lease is void once its
  holder's heartbeat is LEASE_TTL_S old, or once the holder started again (another boot id); then
  any process may take the cluster over from the database.
- A request about one cluster is forwarded to the process that holds it (web/tunnel.py), so it
  behaves exactly as if it had landed there. Work that needs a cluster held elsewhere and cannot
  be forwarded (an instructor's class view reads thirty clusters) asks the holder to let go (it
  snapshots the cluster and drops it), then loads the cluster here.
- The journal is fenced: an action is appended only in a transaction that still finds the lease
  ours, so a process that lost its lease while stalled cannot fork a cluster's history.

Embedded mode (one process, in-memory channel layer) needs none of this: ``install`` leaves the
registry without an ``ownership``.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import datetime
import logging
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from channels.layers import get_channel_layer
from django.conf import settings
from django.db import IntegrityError, close_old_connections, transaction
from django.db.models.functions import Now

from web.periodic import start_periodic
from web.persistence import in_worker, outside_event_loop
from web.runtime import ClusterElsewhere, ClusterRegistry

logger = logging.getLogger(__name__)

HEARTBEAT_EVERY_S = 2.0
# A holder silent for this long is taken for dead (five missed heartbeats).
LEASE_TTL_S = 10.0
# How long a process waits for another to let go of a cluster (it snapshots it first).
RELEASE_TIMEOUT_S = 15.0
LEASE_ATTEMPTS = 3
# Every quiet forwarded connection asks whether its holder still beats (web/tunnel.py, every 2 s);
# one answer serves all of them this long. With 300 forwarded sockets, a query each (and, without
# persistent connections, a new PostgreSQL backend each) kept PostgreSQL at 63 % of a core.
ALIVE_ANSWER_KEPT_S = 1.0


def process_name() -> str:
    return os.environ.get("APP_PROCESS_NAME") or f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Holder:
    """The process holding a cluster's lease, and whether it is alive."""
    name: str
    boot_id: str
    channel: str
    alive: bool


class Ownership:
    def __init__(self, registry: ClusterRegistry, *, name: str | None = None):
        self.registry = registry
        self.name = name or process_name()
        self.boot_id = secrets.token_hex(8)
        self.channel = ""
        self.loop: asyncio.AbstractEventLoop | None = None
        self.listener: asyncio.Task | None = None
        self.heart: threading.Thread | None = None
        self.stopping = threading.Event()
        # Message type -> coroutine function(message), for what arrives on this process's channel.
        self.handlers: dict[str, Callable[[dict], Awaitable[None]]] = {"ownership.release": self._on_release}
        # Answers to this process (a message with "mailbox") wait here for whoever asked. Only the
        # listener ever reads the channel layer: cancelling a Redis receive midway breaks its
        # connection (core layer) or unsubscribes the channel (pub/sub layer), while waiting on a
        # local queue may time out safely.
        self.mailboxes: dict[str, asyncio.Queue] = {}
        # (holder name, boot id) -> (monotonic time asked, alive)
        self.alive_answers: dict[tuple[str, str], tuple[float, bool]] = {}

    # Starting -------------------------------------------------------------------------------
    async def start(self) -> None:
        """Listen on this process's channel and beat; idempotent, called for every connection."""
        loop = asyncio.get_running_loop()
        if self.loop is loop and self.listener is not None and not self.listener.done():
            return
        self.loop = loop
        layer = get_channel_layer()
        # The default prefix: channels_redis's core layer reads all of a process's channels through
        # one Redis key only when they share it; a second prefix would starve the consumers' channels.
        self.channel = await layer.new_channel()
        await asyncio.to_thread(self._beat_once)
        self.listener = loop.create_task(self._listen(layer))
        if self.heart is None or not self.heart.is_alive():
            self.heart = start_periodic(name="ownership-heartbeat", interval_s=lambda: HEARTBEAT_EVERY_S,
                                        work=self._beat_and_drop_lost_clusters, what="ownership heartbeat",
                                        logger=logger, after_each=close_old_connections, stop=self.stopping)

    async def _listen(self, layer: Any) -> None:
        while True:  # for the life of the process
            try:
                message = await layer.receive(self.channel)
            except Exception:  # Redis away for a moment: keep listening
                logger.exception("receiving on the process channel failed")
                await asyncio.sleep(HEARTBEAT_EVERY_S)
                continue
            if "mailbox" in message:
                mailbox = self.mailboxes.get(message["mailbox"])
                if mailbox is not None:
                    mailbox.put_nowait(message)
                continue
            handler = self.handlers.get(message.get("type"))
            if handler is None:
                logger.warning("process channel: unknown message %r", message.get("type"))
                continue
            self.loop.create_task(self._handle(handler, message))

    def open_mailbox(self) -> str:
        name = secrets.token_hex(12)
        self.mailboxes[name] = asyncio.Queue()
        return name

    def close_mailbox(self, name: str) -> None:
        self.mailboxes.pop(name, None)

    @staticmethod
    async def _handle(handler: Callable[[dict], Awaitable[None]], message: dict) -> None:
        try:
            await handler(message)
        except Exception:
            logger.exception("handling %s failed", message.get("type"))

    # Heartbeat ------------------------------------------------------------------------------
    def _beat_and_drop_lost_clusters(self) -> None:
        self._beat_once()
        self._drop_lost_clusters()

    def _beat_once(self) -> None:
        from web.models import ServerProcess

        updated = ServerProcess.objects.filter(name=self.name).update(
            boot_id=self.boot_id, channel=self.channel, heartbeat_at=Now())
        if not updated:
            try:
                with transaction.atomic():
                    ServerProcess.objects.create(name=self.name, boot_id=self.boot_id, channel=self.channel,
                                                 heartbeat_at=Now())
            except IntegrityError:  # created meanwhile by a namesake: ours wins on the next beat
                pass

    def _drop_lost_clusters(self) -> None:
        """Clusters whose lease another process took (we were stalled): drop our stale copies."""
        from web.models import ClusterLease

        with self.registry.lock:
            held = [cluster_id for cluster_id, live in self.registry.clusters.items() if live.store is not None]
        if not held:
            return
        still_ours = set(ClusterLease.objects.filter(cluster_id__in=held, holder=self.name, holder_boot_id=self.boot_id)
                         .values_list("cluster_id", flat=True))
        for cluster_id in held:
            if cluster_id not in still_ours:
                logger.warning("lost the lease of cluster %s: dropping it from memory", cluster_id)
                self.registry.forget(cluster_id)

    # Leases ---------------------------------------------------------------------------------
    @outside_event_loop
    def holder_of(self, cluster_id: str) -> Holder | None:
        """Who holds the cluster's lease (None: nobody, or the cluster does not exist)."""
        from web.models import ClusterLease

        lease = ClusterLease.objects.filter(cluster_id=cluster_id).values_list("holder", "holder_boot_id").first()
        return self._holder(*lease) if lease else None

    def _holder(self, name: str, boot_id: str) -> Holder:
        from web.models import ServerProcess

        if name == self.name and boot_id == self.boot_id:
            return Holder(name=name, boot_id=boot_id, channel=self.channel, alive=True)
        cutoff = Now() - datetime.timedelta(seconds=LEASE_TTL_S)
        channel = (ServerProcess.objects.filter(name=name, boot_id=boot_id, heartbeat_at__gte=cutoff)
                   .values_list("channel", flat=True).first())
        return Holder(name=name, boot_id=boot_id, channel=channel or "", alive=channel is not None)

    @outside_event_loop
    def elsewhere(self, cluster_id: str) -> Holder | None:
        """The live process other than this one that holds the cluster, if any."""
        holder = self.holder_of(cluster_id)
        return holder if holder is not None and holder.alive and not self.is_mine(holder) else None

    def still_alive(self, holder: Holder) -> bool:
        """Whether that start of that process still beats (a forwarded connection's other end),
        as found at most ALIVE_ANSWER_KEPT_S ago."""
        key = (holder.name, holder.boot_id)
        asked = self.alive_answers.get(key)
        if asked is not None and time.monotonic() - asked[0] < ALIVE_ANSWER_KEPT_S:
            return asked[1]
        alive = self._beats(holder)
        self.alive_answers[key] = (time.monotonic(), alive)
        return alive

    @outside_event_loop
    def _beats(self, holder: Holder) -> bool:
        return self._holder(holder.name, holder.boot_id).alive

    def is_mine(self, holder: Holder | None) -> bool:
        return holder is not None and holder.name == self.name and holder.boot_id == self.boot_id

    @outside_event_loop
    def acquire(self, cluster_id: str) -> Holder | None:
        """Take the lease unless another live process holds it; returns that process, else None.
        A cluster that does not exist gets no lease (and None)."""
        from web.models import ClusterLease, ClusterRecord

        for _attempt in range(LEASE_ATTEMPTS):
            with transaction.atomic():
                lease = ClusterLease.objects.select_for_update().filter(cluster_id=cluster_id).first()
                if lease is None:
                    if not ClusterRecord.objects.filter(id=cluster_id).exists():
                        return None
                    try:
                        with transaction.atomic():
                            ClusterLease.objects.create(cluster_id=cluster_id, holder=self.name,
                                                        holder_boot_id=self.boot_id)
                        return None
                    except IntegrityError:  # another process took it first: look again
                        continue
                holder = self._holder(lease.holder, lease.holder_boot_id)
                if self.is_mine(holder):
                    return None
                if holder.alive:
                    return holder
                logger.info("taking over cluster %s from %s (no heartbeat)", cluster_id, holder.name)
                lease.holder, lease.holder_boot_id = self.name, self.boot_id
                lease.save()
                return None
        raise ClusterElsewhere(cluster_id)

    @outside_event_loop
    def release(self, cluster_id: str) -> None:
        from web.models import ClusterLease

        ClusterLease.objects.filter(cluster_id=cluster_id, holder=self.name, holder_boot_id=self.boot_id).delete()

    def fence(self, cluster_id: str) -> None:
        """Inside the journal's transaction: lock our lease, or refuse if it is ours no more."""
        from web.models import ClusterLease

        if not ClusterLease.objects.select_for_update().filter(
                cluster_id=cluster_id, holder=self.name, holder_boot_id=self.boot_id).exists():
            self.registry.forget(cluster_id)
            raise ClusterElsewhere(cluster_id)

    # Moving a cluster here ------------------------------------------------------------------
    def claim(self, cluster_id: str) -> None:
        """Make the cluster's lease ours, asking a live holder to let go first."""
        holder = self.acquire(cluster_id)
        if holder is None:
            return
        if not self._ask_to_let_go(holder, cluster_id) or self.acquire(cluster_id) is not None:
            raise ClusterElsewhere(cluster_id)

    def _ask_to_let_go(self, holder: Holder, cluster_id: str) -> bool:
        loop = self.loop
        if loop is None or not loop.is_running() or _running_loop() is loop:
            # Waiting here would block the loop that must carry the answer.
            return False
        future = asyncio.run_coroutine_threadsafe(self._release_round_trip(holder, cluster_id), loop)
        try:
            return future.result(timeout=RELEASE_TIMEOUT_S + 1)
        except concurrent.futures.TimeoutError:
            future.cancel()
            return False

    async def _release_round_trip(self, holder: Holder, cluster_id: str) -> bool:
        mailbox = self.open_mailbox()
        try:
            await get_channel_layer().send(holder.channel, {
                "type": "ownership.release", "cluster_id": cluster_id, "reply_to": self.channel, "reply_mailbox": mailbox})
            answer = await asyncio.wait_for(self.mailboxes[mailbox].get(), RELEASE_TIMEOUT_S)
        except asyncio.TimeoutError:
            return False
        finally:
            self.close_mailbox(mailbox)
        return bool(answer.get("released"))

    async def _on_release(self, message: dict) -> None:
        released = await asyncio.to_thread(in_worker, self.let_go, message.get("cluster_id", ""))
        await get_channel_layer().send(message["reply_to"], {
            "type": "ownership.released", "mailbox": message["reply_mailbox"], "released": released})

    def let_go(self, cluster_id: str) -> bool:
        """Another process needs this cluster: bring it to now, snapshot it, drop it, release it."""
        live = self.registry.clusters.get(cluster_id)
        if live is not None:
            with live.lock:
                live.advance()
                live.store.save_for_eviction(live)
                self.registry.forget(cluster_id)
                self.release(cluster_id)
        else:
            self.release(cluster_id)
        logger.info("let go of cluster %s", cluster_id)
        return True


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def enabled() -> bool:
    return bool(getattr(settings, "CLUSTER_OWNERSHIP", False))


def install(registry: ClusterRegistry) -> Ownership | None:
    """Give the registry an ownership when clusters are shared between processes (settings)."""
    if not enabled() or registry.store is None:
        return None
    if registry.ownership is None:
        registry.ownership = Ownership(registry)
    return registry.ownership
