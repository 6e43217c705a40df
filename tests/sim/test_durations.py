"""Scenario durations (Go's time.ParseDuration plus bare seconds) and kubectl's AGE column."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cluster_sim.durations import format_age, format_duration, parse_duration_ms

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
YEAR = 365 * DAY


@pytest.mark.parametrize(("text", "expected_ms"), [
    # Go's own ParseDuration cases that land on whole milliseconds.
    ("0", 0), ("5s", 5 * SECOND), ("30s", 30 * SECOND), ("1478s", 1478 * SECOND),
    ("-5s", -5 * SECOND), ("+5s", 5 * SECOND), ("-0", 0), ("+0", 0),
    ("5.0s", 5 * SECOND), ("5.6s", 5600), ("5.s", 5 * SECOND), (".5s", 500), ("1.004s", 1004),
    ("1.0040s", 1004), ("100.00100s", 100_001), ("13ms", 13), ("15m", 15 * MINUTE), ("16h", 16 * HOUR),
    ("3h30m", 3 * HOUR + 30 * MINUTE), ("10.5s4m", 4 * MINUTE + 10_500), ("-2m3.4s", -(2 * MINUTE + 3400)),
    ("1000us", 1), ("1000\u00b5s", 1), ("1000000ns", 1), ("0.5h", 30 * MINUTE),
    # The forms scenarios use.
    ("90s", 90 * SECOND), ("5m", 5 * MINUTE), ("1h30m", 90 * MINUTE), ("250ms", 250), ("1m30s", 90 * SECOND),
    # Bare numbers are seconds.
    (90, 90 * SECOND), ("90", 90 * SECOND), (" 90 ", 90 * SECOND), (1.5, 1500), ("1.5", 1500), (0, 0),
])
def test_parse_duration(text, expected_ms):
    assert parse_duration_ms(text) == expected_ms


@pytest.mark.parametrize(("text", "message"), [
    ("", 'time: invalid duration ""'),
    ("-", 'time: invalid duration "-"'),
    ("s", 'time: invalid duration "s"'),
    (".", 'time: invalid duration "."'),
    ("-.", 'time: invalid duration "-."'),
    (".s", 'time: invalid duration ".s"'),
    ("+.s", 'time: invalid duration "+.s"'),
    ("1d", 'time: unknown unit "d" in duration "1d"'),
    ("5 m", 'time: unknown unit " m" in duration "5 m"'),
    ("1h-5m", 'time: unknown unit "h-" in duration "1h-5m"'),
    ("3000000h", 'time: invalid duration "3000000h"'),  # beyond int64 nanoseconds
    ("1.5ms", 'duration "1.5ms" is not a whole number of milliseconds'),
    ("10ns", 'duration "10ns" is not a whole number of milliseconds'),
    ("0.0001", 'duration "0.0001" is not a whole number of milliseconds'),
])
def test_parse_duration_errors_say_what_is_wrong(text, message):
    with pytest.raises(ValueError) as error:
        parse_duration_ms(text)
    assert str(error.value).startswith(message)


@pytest.mark.parametrize("value", [True, None, [5], {"s": 5}, float("nan")])
def test_parse_duration_rejects_non_durations(value):
    with pytest.raises(ValueError):
        parse_duration_ms(value)


@pytest.mark.parametrize(("ms", "expected"), [
    # Go's Duration.String cases at millisecond resolution.
    (0, "0s"), (2, "2ms"), (250, "250ms"), (3300, "3.3s"), (4 * MINUTE + 5 * SECOND, "4m5s"),
    (4 * MINUTE + 5001, "4m5.001s"), (5 * HOUR + 6 * MINUTE + 7001, "5h6m7.001s"), (HOUR, "1h0m0s"),
    (90 * MINUTE, "1h30m0s"), (5 * MINUTE + 50 * SECOND, "5m50s"), (1500, "1.5s"), (-1500, "-1.5s"),
    (-250, "-250ms"), (1010, "1.01s"),
])
def test_format_duration_matches_go(ms, expected):
    assert format_duration(ms) == expected


@settings(derandomize=True, max_examples=300)
@given(st.integers(min_value=-10 * YEAR, max_value=10 * YEAR))
def test_format_duration_parses_back(ms):
    assert parse_duration_ms(format_duration(ms)) == ms


@pytest.mark.parametrize(("ms", "expected"), [
    # k8s.io/apimachinery/pkg/util/duration TestHumanDuration and TestHumanDurationBoundaries.
    (SECOND, "1s"), (70 * SECOND, "70s"), (190 * SECOND, "3m10s"), (70 * MINUTE, "70m"), (47 * HOUR, "47h"),
    (49 * HOUR, "2d1h"), ((8 * 24 + 2) * HOUR, "8d"), (367 * DAY, "367d"), (2 * YEAR + 25 * HOUR, "2y1d"),
    (8 * YEAR + 2 * HOUR, "8y"),
    (-2 * SECOND, "<invalid>"), (-2 * SECOND + 1, "0s"), (0, "0s"), (SECOND - 1, "0s"),
    (2 * MINUTE - 1, "119s"), (2 * MINUTE, "2m"), (2 * MINUTE + SECOND, "2m1s"),
    (10 * MINUTE - 1, "9m59s"), (10 * MINUTE, "10m"), (10 * MINUTE + SECOND, "10m"),
    (3 * HOUR - 1, "179m"), (3 * HOUR, "3h"), (3 * HOUR + MINUTE, "3h1m"), (8 * HOUR - 1, "7h59m"),
    (8 * HOUR, "8h"), (8 * HOUR + 59 * MINUTE, "8h"), (2 * DAY - 1, "47h"), (2 * DAY, "2d"),
    (2 * DAY + HOUR, "2d1h"), (8 * DAY - 1, "7d23h"), (8 * DAY, "8d"), (8 * DAY + 23 * HOUR, "8d"),
    (2 * YEAR - 1, "729d"), (2 * YEAR, "2y"), (2 * YEAR + 23 * HOUR, "2y"), (2 * YEAR + DAY - 1, "2y"),
    (2 * YEAR + DAY, "2y1d"), (3 * YEAR, "3y"), (8 * YEAR - 1, "7y364d"), (8 * YEAR, "8y"),
    (8 * YEAR + 364 * DAY, "8y"), (9 * YEAR, "9y"),
    # What a learner sees while a node fails: the replacement pods 5m50s after the last heartbeat.
    (5 * MINUTE + 50 * SECOND, "5m50s"), (45 * SECOND, "45s"), (2 * MINUTE + 5 * SECOND, "2m5s"),
])
def test_format_age_matches_kubectl(ms, expected):
    assert format_age(ms) == expected
