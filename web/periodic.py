"""Background work that runs every few seconds for the life of the process (settling the heap,
the ownership heartbeat, evicting idle clusters)."""
from __future__ import annotations

import logging
import threading
from typing import Callable


def start_periodic(*, name: str, interval_s: Callable[[], float], work: Callable[[], object], what: str,
                   logger: logging.Logger, after_each: Callable[[], None] | None = None,
                   stop: threading.Event | None = None) -> threading.Thread:
    """Start a daemon thread called ``name`` that waits ``interval_s()`` seconds, then calls
    ``work`` and ``after_each``, over and over until ``stop`` is set.

    ``interval_s`` is asked again before every round, so a module setting changed at run time
    (tests do) applies from the next round. ``after_each`` runs even when ``work`` raised (closing
    the round's database connections, say). A failure of either is logged on ``logger`` as
    "<what> failed" (the caller's logger, so the record names the caller's module) and the next
    round tries again: one bad round must not end the work for good.
    """
    stop = threading.Event() if stop is None else stop

    def run() -> None:
        while not stop.wait(interval_s()):  # until stopped, else it ends with the process (a daemon)
            try:
                try:
                    work()
                finally:
                    if after_each is not None:
                        after_each()
            except Exception:
                logger.exception("%s failed", what)

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread
