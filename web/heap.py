"""Short garbage-collector pauses with hundreds of clusters in memory.

A booted cluster is about 13,000 container objects that live as long as it does, and its
components point at each other. CPython's full collection walks every tracked object with the GIL
held: with 60 clusters in memory one took about 0.5 s, so with 300 every live view and request
would stall for seconds, a few times a minute.

So once the first cluster exists, CPython's automatic collection is turned off (its collections of
everything not frozen took up to 580 ms under load), and every SETTLE_EVERY_S (0.1 s) a thread
collects what is not yet frozen (cheap: only what appeared since the last time) and freezes the
survivors (gc.freeze: the collector no longer looks at them; reference counting still frees them).
Collecting first means no garbage is frozen. A frozen structure with reference cycles (a cluster
evicted or deleted: its components and informers point at each other) can only be freed by a full
collection over everything. One runs once the clusters released since the last reach
RELEASED_SHARE_FOR_FULL_COLLECTION of those in memory, the ratio CPython uses itself to space full
collections, so at most that share of memory waits for it.
"""
from __future__ import annotations

import gc
import logging
import os
import threading
from dataclasses import dataclass, field
from typing import Callable

from web.periodic import start_periodic

logger = logging.getLogger(__name__)



def positive_number_from_env(name: str, default: float) -> float:
    """The environment variable as a positive number, or ``default`` when it is unset or is not
    one (logged)."""
    text = os.environ.get(name, str(default))
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if value > 0:
        return value
    logger.warning("%s=%r is not a positive number; using %s", name, text, default)
    return default


# Often, so each settle is short: its pause holds every thread, and an action that meets it waits
# it out. Settling every second instead took ~65 ms at a time with 300 learners (objects spread
# over 2 GB: nearly every reference the collector follows is a cache miss).
SETTLE_EVERY_S = positive_number_from_env("PYTHON_GC_SETTLE_S", 0.1)
RELEASED_SHARE_FOR_FULL_COLLECTION = 0.25


@dataclass
class Heap:
    """Counts clusters released from memory and settles the heap (see the module's text)."""

    clusters_in_memory: Callable[[], int]
    released_since_full: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    thread: threading.Thread | None = None

    def released(self, count: int = 1) -> None:
        with self.lock:
            self.released_since_full += count

    def full_collection_due(self) -> bool:
        in_memory = max(1, self.clusters_in_memory())
        return self.released_since_full > 0 and \
            self.released_since_full >= RELEASED_SHARE_FOR_FULL_COLLECTION * in_memory

    def settle(self, *, full: bool | None = None) -> bool:
        """Collect (everything when a full collection is due or ``full``, else what is not
        frozen), then freeze the survivors. True when it was a full collection."""
        with self.lock:
            full = self.full_collection_due() if full is None else full
            if full:
                gc.unfreeze()
                self.released_since_full = 0
            gc.collect()
            gc.freeze()
        return full

    def start(self) -> None:
        """The settling thread, once per process (idempotent)."""
        with self.lock:
            if self.thread is not None and self.thread.is_alive():
                return
            # The settler is now the only collector: CPython's own would walk everything not yet
            # frozen whenever enough survived, up to half a second at a time under load.
            gc.set_threshold(0)
            self.thread = start_periodic(name="heap-settler", interval_s=lambda: SETTLE_EVERY_S, work=self.settle,
                                         what="settling the heap", logger=logger)
