"""web/periodic.py: work that runs every interval in a daemon thread, whatever one round does."""
from __future__ import annotations

import logging
import threading
from typing import Callable

import pytest

from web.periodic import start_periodic

INTERVAL_S = 0.01
# Guards against a hung thread only; no test asserts how long anything takes.
GUARD_S = 30
logger = logging.getLogger("tests.periodic")


class Rounds:
    """Counts calls and sets ``reached`` once there were ``wanted`` of them."""

    def __init__(self, wanted: int, *, failing: bool = False):
        self.wanted = wanted
        self.failing = failing
        self.count = 0
        self.reached = threading.Event()

    def __call__(self) -> None:
        self.count += 1
        if self.count >= self.wanted:
            self.reached.set()
        if self.failing:
            raise RuntimeError(f"round {self.count} broke")


@pytest.fixture
def start() -> Callable[..., threading.Thread]:
    """start_periodic with a stop event that ends the thread after the test."""
    stops: list[tuple[threading.Event, threading.Thread]] = []

    def start(**arguments) -> threading.Thread:
        stop = threading.Event()
        arguments.setdefault("interval_s", lambda: INTERVAL_S)
        thread = start_periodic(name="test-periodic", what="counting", logger=logger, stop=stop, **arguments)
        stops.append((stop, thread))
        return thread

    yield start
    for stop, thread in stops:
        stop.set()
        thread.join(GUARD_S)


def test_work_runs_again_and_again_in_a_daemon_thread_with_the_given_name(start):
    work = Rounds(3)
    thread = start(work=work)
    assert work.reached.wait(GUARD_S), f"{work.count} rounds"
    assert thread.name == "test-periodic" and thread.daemon


def test_the_interval_is_asked_before_every_round(start):
    asked = Rounds(3)

    def interval_s() -> float:
        asked()
        return INTERVAL_S

    work = Rounds(3)
    start(work=work, interval_s=interval_s)
    assert work.reached.wait(GUARD_S), f"{work.count} rounds"
    assert asked.count >= work.count


def test_a_failing_round_is_logged_and_the_next_round_runs(start, caplog):
    work = Rounds(2, failing=True)
    thread = start(work=work)
    assert work.reached.wait(GUARD_S), "the thread must survive the first round's exception"
    assert thread.is_alive()
    failures = [record for record in caplog.records if record.name == "tests.periodic"]
    assert failures[0].getMessage() == "counting failed"
    assert failures[0].levelno == logging.ERROR
    assert str(failures[0].exc_info[1]) == "round 1 broke"


def test_after_each_runs_after_every_round_even_a_failing_one(start):
    work = Rounds(1, failing=True)
    after_each = Rounds(2)
    start(work=work, after_each=after_each)
    assert after_each.reached.wait(GUARD_S), f"after_each ran {after_each.count} times"
    assert work.count >= 2


def test_a_failing_after_each_is_logged_and_does_not_end_the_thread(start, caplog):
    after_each = Rounds(1, failing=True)
    work = Rounds(3)
    start(work=work, after_each=after_each)
    assert work.reached.wait(GUARD_S), f"{work.count} rounds"
    messages = [record.getMessage() for record in caplog.records if record.name == "tests.periodic"]
    assert messages[0] == "counting failed"


def test_setting_stop_ends_the_thread():
    stop = threading.Event()
    work = Rounds(1)
    thread = start_periodic(name="test-periodic-stopped", interval_s=lambda: INTERVAL_S, work=work, what="counting",
                            logger=logger, stop=stop)
    assert work.reached.wait(GUARD_S)
    stop.set()
    thread.join(GUARD_S)
    assert not thread.is_alive()
