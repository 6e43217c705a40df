"""The embedded mode's channel layer: Channels' in-memory layer, with its expiry sweep spaced out.

InMemoryChannelLayer walks every channel and every group for expired messages on each receive and
each group send. With 300 open live views that is hundreds of entries per message, hundreds of
messages a second: about a twentieth of the process. Messages expire after `expiry` (60 s), so
sweeping at most every SWEEP_EVERY_S changes when an expired message goes by at most that much.
"""
from __future__ import annotations

import time

from channels.layers import InMemoryChannelLayer

SWEEP_EVERY_S = 1.0


class SweptInMemoryChannelLayer(InMemoryChannelLayer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.swept_at_s = float("-inf")

    def _clean_expired(self) -> None:
        now_s = time.monotonic()
        if now_s - self.swept_at_s < SWEEP_EVERY_S:
            return
        self.swept_at_s = now_s
        super()._clean_expired()
