"""Virtual-clock timestamps in the formats the Kubernetes API uses.

Computed from the scenario's start time plus virtual milliseconds: the wall clock is never read.
"""
from __future__ import annotations

import datetime

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def _at(epoch_ms: int) -> datetime.datetime:
    return _EPOCH + datetime.timedelta(milliseconds=epoch_ms)


def format_time(epoch_ms: int) -> str:
    """metav1.Time: RFC 3339 with whole seconds."""
    return _at(epoch_ms).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_micro_time(epoch_ms: int) -> str:
    """metav1.MicroTime (Lease renewTime, events.k8s.io eventTime)."""
    return _at(epoch_ms).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time_ms(text: str) -> int:
    """Milliseconds since the Unix epoch of an RFC 3339 timestamp."""
    value = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    delta = value - _EPOCH
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000
