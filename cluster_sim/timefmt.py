"""Virtual-clock timestamps in the formats the Kubernetes API uses.

Computed from the scenario's start time plus virtual milliseconds: the wall clock is never read.
"""
from __future__ import annotations

import datetime
import functools

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def _at(epoch_ms: int) -> datetime.datetime:
    return _EPOCH + datetime.timedelta(milliseconds=epoch_ms)


# Timestamps are formatted tens of thousands of times a virtual minute, mostly for the same few
# seconds: strftime once per second, the milliseconds are appended.
@functools.lru_cache(maxsize=4096)
def _whole_second_text(epoch_s: int) -> str:
    return (_EPOCH + datetime.timedelta(seconds=epoch_s)).strftime("%Y-%m-%dT%H:%M:%S")


def format_time(epoch_ms: int) -> str:
    """metav1.Time: RFC 3339 with whole seconds."""
    if type(epoch_ms) is not int:
        return _at(epoch_ms).strftime("%Y-%m-%dT%H:%M:%SZ")
    return _whole_second_text(epoch_ms // 1000) + "Z"


def format_micro_time(epoch_ms: int) -> str:
    """metav1.MicroTime (Lease renewTime, events.k8s.io eventTime)."""
    if type(epoch_ms) is not int:
        return _at(epoch_ms).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return f"{_whole_second_text(epoch_ms // 1000)}.{epoch_ms % 1000:03d}000Z"


def parse_time_ms(text: str) -> int:
    """Milliseconds since the Unix epoch of an RFC 3339 timestamp."""
    if type(text) is str:
        return _parse_text_ms(text)
    return _parse_text_ms.__wrapped__(text)  # fails as it always did, not as an unhashable key


# The controllers parse the same timestamps (creation times, probe times) over and over.
@functools.lru_cache(maxsize=4096)
def _parse_text_ms(text: str) -> int:
    value = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    delta = value - _EPOCH
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000
