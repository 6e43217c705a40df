"""An overloaded process keeps answering learners: an action's catch-up with the clock is bounded
(the clock then waits, as the ticker's does), and the ticker's thread lets a learner's command
through before its next cluster (web/runtime.py, web/consumers.py)."""
import threading

import pytest

from cluster_sim.scenario import load_scenario, parse_action, shipped_path
from web import consumers, runtime
from web.consumers import ActionsFirst
from web.runtime import registry, wall_seconds

A_QUARTER_HOUR_S = 15 * 60


def test_an_action_on_a_cluster_far_behind_its_clock_lands_where_the_simulation_got_to(monkeypatch):
    live = registry.create(scenario=load_scenario(shipped_path("basic")), owner_session="overload", seed=3)
    live.clock.reanchor(0, wall_seconds() - A_QUARTER_HOUR_S)  # the clock says 15 min; nothing ran
    monkeypatch.setattr(runtime, "ACTION_CATCH_UP_BUDGET_S", 0.0)  # one slice of catch-up, then stop
    action = parse_action({"action": "scale", "target": "web", "replicas": 4}, live.cluster.scenario, "t", "")
    events = live.apply_action(action)
    applied = next(event for event in events if event.kind == "action")
    assert applied.time_ms == live.now_ms <= runtime.ADVANCE_SLICE_MS
    # The clock waits for the simulation rather than jumping past the action.
    assert live.clock.target_ms(wall_seconds()) - live.now_ms < 60_000
    registry.delete(live.id)


def test_an_action_on_a_cluster_that_kept_up_lands_at_the_clock_time():
    live = registry.create(scenario=load_scenario(shipped_path("basic")), owner_session="overload", seed=4)
    live.clock.reanchor(0, wall_seconds() - 30)
    live.advance()  # booted, up to the clock: what the ticker does
    clock_ms = live.now_ms + 2_000
    live.clock.reanchor(live.now_ms, wall_seconds() - 2)  # a tick's worth behind, and more
    action = parse_action({"action": "scale", "target": "web", "replicas": 4}, live.cluster.scenario, "t", "")
    events = live.apply_action(action)
    applied = next(event for event in events if event.kind == "action")
    assert applied.time_ms >= clock_ms
    registry.delete(live.id)


def test_the_ticker_thread_waits_while_a_command_is_under_way_and_not_longer():
    gate = ActionsFirst()
    gate.begin()
    waited = threading.Event()
    waiter = threading.Thread(target=lambda: (gate.wait(60), waited.set()))
    waiter.start()
    assert not waited.wait(0.2), "the ticker went on during a command"
    gate.end()
    assert waited.wait(10), "the ticker must go on once no command is under way"
    waiter.join(10)


def test_the_ticker_thread_never_waits_forever_for_commands():
    gate = ActionsFirst()
    gate.begin()  # a command that never ends (its socket hung)
    waiter = threading.Thread(target=gate.wait, args=(consumers.ACTIONS_FIRST_MAX_WAIT_S,))
    waiter.start()
    waiter.join(10)
    assert not waiter.is_alive(), "the ticker must go on after ACTIONS_FIRST_MAX_WAIT_S"


def test_without_commands_the_ticker_thread_does_not_wait_at_all():
    gate = ActionsFirst()
    gate.begin()
    gate.end()
    assert gate.none_under_way.is_set()


def switch_interval_s_of_a_server_process(environment: dict) -> float:
    """What sys.getswitchinterval() is once daphne has imported the application."""
    import os
    import subprocess
    import sys

    inherited = {name: value for name, value in os.environ.items() if name != "PYTHON_SWITCH_INTERVAL_MS"}
    output = subprocess.run([sys.executable, "-c", "import sys, web.asgi; print(sys.getswitchinterval())"],
                            env=dict(inherited, **environment), capture_output=True, text=True, check=True,
                            timeout=120)
    return float(output.stdout.strip().splitlines()[-1])


def test_a_server_process_hands_the_interpreter_lock_over_every_half_millisecond():
    assert switch_interval_s_of_a_server_process({}) == pytest.approx(0.0005)
    assert switch_interval_s_of_a_server_process({"PYTHON_SWITCH_INTERVAL_MS": "2"}) == pytest.approx(0.002)
    assert switch_interval_s_of_a_server_process({"PYTHON_SWITCH_INTERVAL_MS": "soon"}) == pytest.approx(0.0005)
