"""Durations as scenarios write them and as kubectl prints them.

Scenario durations use Go's ``time.ParseDuration`` syntax (``90s``, ``1m30s``, ``250ms``,
``1h30m``), or a bare number meaning seconds (``90``, ``"90"``, ``1.5``).  The simulation clock
counts whole milliseconds, so a duration finer than that is refused rather than rounded.

``format_duration`` prints like Go's ``time.Duration.String`` and ``format_age`` like kubectl's
AGE column (``HumanDuration`` in k8s.io/apimachinery/pkg/util/duration).
"""
from __future__ import annotations

import json
import math
import re
from fractions import Fraction

NANOSECONDS_PER_MS = 1_000_000
# Go's time.Duration is an int64 count of nanoseconds.
MAX_DURATION_NS = (1 << 63) - 1

GO_UNIT_NS = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,  # micro sign
    "\u03bcs": 1_000,  # Greek small letter mu
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "h": 3600 * 1_000_000_000,
}

BARE_SECONDS = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")
LEADING_NUMBER = re.compile(r"([0-9]*)(\.([0-9]*))?")
UNIT = re.compile(r"[^0-9.]*")

SECOND_MS = 1000
MINUTE_MS = 60 * SECOND_MS
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
YEAR_MS = 365 * DAY_MS


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def parse_go_duration_ns(text: str) -> Fraction:
    """Go's time.ParseDuration, exact: returns nanoseconds (a Fraction, before truncation)."""
    original = text
    negative = text[:1] == "-"
    if text[:1] in ("-", "+"):
        text = text[1:]
    if text == "0":
        return Fraction(0)
    if text == "":
        raise ValueError(f"time: invalid duration {_quote(original)}")
    total = Fraction(0)
    for _ in range(len(text)):  # every pass consumes at least one character
        if not text:
            break
        if not (text[0] == "." or text[0].isdigit()) or not text[0].isascii():
            raise ValueError(f"time: invalid duration {_quote(original)}")
        number = LEADING_NUMBER.match(text)
        whole, fraction = number.group(1), number.group(3) or ""
        if not whole and not fraction:
            raise ValueError(f"time: invalid duration {_quote(original)}")
        text = text[number.end():]
        unit = UNIT.match(text).group(0)
        if not unit:
            raise ValueError(f"time: missing unit in duration {_quote(original)}")
        if unit not in GO_UNIT_NS:
            raise ValueError(f"time: unknown unit {_quote(unit)} in duration {_quote(original)}")
        text = text[len(unit):]
        value = Fraction(int(whole or "0"))
        if fraction:
            value += Fraction(int(fraction), 10 ** len(fraction))
        total += value * GO_UNIT_NS[unit]
        if total > MAX_DURATION_NS + (1 if negative else 0):
            raise ValueError(f"time: invalid duration {_quote(original)}")
    return -total if negative else total


def parse_duration_ms(text: str | int | float) -> int:
    """A scenario duration in milliseconds: Go syntax, or a bare number of seconds."""
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise ValueError(f"a duration must be a string such as \"90s\" or a number of seconds, not {text!r}")
    if isinstance(text, float):
        if not math.isfinite(text):
            raise ValueError(f"invalid duration {text!r}")
        return _whole_milliseconds(Fraction(text) * 1000, repr(text))
    if isinstance(text, int):
        return text * 1000
    stripped = text.strip()
    if BARE_SECONDS.fullmatch(stripped):
        return _whole_milliseconds(Fraction(stripped) * 1000, text)
    nanoseconds = parse_go_duration_ns(stripped)
    return _whole_milliseconds(nanoseconds / NANOSECONDS_PER_MS, text)


def _whole_milliseconds(milliseconds: Fraction, shown: str) -> int:
    if milliseconds.denominator != 1:
        raise ValueError(f"duration {_quote(str(shown))} is not a whole number of milliseconds "
                         "(the simulation clock counts milliseconds)")
    return int(milliseconds)


def format_duration(ms: int) -> str:
    """Go's time.Duration.String for a whole number of milliseconds: 1m30s, 1.5s, 250ms, 1h0m0s."""
    if ms == 0:
        return "0s"
    sign = "-" if ms < 0 else ""
    ms = abs(ms)
    if ms < SECOND_MS:
        return f"{sign}{ms}ms"
    hours, rest = divmod(ms, HOUR_MS)
    minutes, rest = divmod(rest, MINUTE_MS)
    seconds, millis = divmod(rest, SECOND_MS)
    seconds_text = str(seconds)
    if millis:
        seconds_text += "." + f"{millis:03d}".rstrip("0")
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds_text}s"
    if minutes:
        return f"{sign}{minutes}m{seconds_text}s"
    return f"{sign}{seconds_text}s"


def format_age(ms: int) -> str:
    """kubectl's AGE column (HumanDuration): about two significant figures."""
    seconds = ms // SECOND_MS if ms >= 0 else -(-ms // SECOND_MS)  # Go truncates toward zero
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 2 * 60:
        return f"{seconds}s"
    minutes = ms // MINUTE_MS
    if minutes < 10:
        rest_seconds = seconds % 60
        return f"{minutes}m{rest_seconds}s" if rest_seconds else f"{minutes}m"
    if minutes < 3 * 60:
        return f"{minutes}m"
    hours = ms // HOUR_MS
    if hours < 8:
        rest_minutes = minutes % 60
        return f"{hours}h{rest_minutes}m" if rest_minutes else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest_hours = hours % 24
        return f"{hours // 24}d{rest_hours}h" if rest_hours else f"{hours // 24}d"
    days = hours // 24
    if hours < 24 * 365 * 2:
        return f"{days}d"
    if hours < 24 * 365 * 8:
        rest_days = days % 365
        return f"{days // 365}y{rest_days}d" if rest_days else f"{days // 365}y"
    return f"{days // 365}y"
