"""Command line: run a scenario headless.

    python -m cluster_sim run SCENARIO.yaml [--seed N] [--until DURATION] [--events FILE] [--dump FILE]
    python -m cluster_sim scenarios
"""
from __future__ import annotations

import argparse
import json
import sys

from .durations import format_duration, parse_duration_ms
from .scenario import ScenarioError, list_shipped, load_scenario, shipped_path

EXIT_BAD_INPUT = 2
# Long enough after the last timeline action to see a node failure through to its evictions.
DEFAULT_TAIL_MS = 7 * 60_000
MINIMUM_RUN_MS = 2 * 60_000
CHUNK_MS = 10_000


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cluster_sim",
        description="Run a simulated Kubernetes v1.33 cluster from a scenario file, headless.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run", help="run a scenario and write its event stream and final state",
        description="Run a scenario on the virtual clock. The same scenario, seed and actions always "
                    "produce the same event stream, byte for byte.")
    run.add_argument("scenario", help="a scenario YAML file, or the name of a shipped scenario (see 'scenarios')")
    run.add_argument("--seed", type=int, help="root seed (default: the scenario's seed, else 1)")
    run.add_argument("--until", help="virtual time to stop at, as a duration like 90s, 5m, 1h30m "
                                     "(default: 7m after the last timeline action, at least 2m)")
    run.add_argument("--events", metavar="FILE", help="write the event stream as JSON lines ('-' for stdout)")
    run.add_argument("--dump", metavar="FILE", help="write every object in the simulated etcd at the end as a "
                                                    "Kubernetes List ('-' for stdout)")
    commands.add_parser("scenarios", help="list the shipped scenarios")
    return parser


def resolve_scenario_path(argument: str) -> str:
    if argument in list_shipped():
        return shipped_path(argument)
    return argument


def default_until_ms(scenario) -> int:
    last_action_ms = max((entry["at_ms"] for entry in scenario.timeline), default=0)
    return max(last_action_ms + DEFAULT_TAIL_MS, MINIMUM_RUN_MS)


def open_output(path: str):
    return sys.stdout if path == "-" else open(path, "w", encoding="utf-8")


def run_command(arguments) -> int:
    from .cluster import Cluster

    try:
        scenario = load_scenario(resolve_scenario_path(arguments.scenario))
    except ScenarioError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        until_ms = parse_duration_ms(arguments.until) if arguments.until else default_until_ms(scenario)
    except ValueError as error:
        print(f"error: --until: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    cluster = Cluster.from_scenario(scenario, arguments.seed)
    events_file = open_output(arguments.events) if arguments.events else None
    event_count = 0
    try:
        time_ms = 0
        while time_ms < until_ms:
            time_ms = min(time_ms + CHUNK_MS, until_ms)
            for event in cluster.run_until(time_ms):
                event_count += 1
                if events_file is not None:
                    events_file.write(json.dumps(event.as_dict(), separators=(",", ":"), sort_keys=True) + "\n")
    finally:
        if events_file is not None and events_file is not sys.stdout:
            events_file.close()
    if arguments.dump:
        dump_file = open_output(arguments.dump)
        json.dump(cluster.dump_list(), dump_file, indent=2, sort_keys=True)
        dump_file.write("\n")
        if dump_file is not sys.stdout:
            dump_file.close()
    summary = f"{scenario.name}: ran {format_duration(until_ms)} of virtual time, {event_count} events"
    print(summary, file=sys.stderr if arguments.events == "-" or arguments.dump == "-" else sys.stdout)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    arguments = parser.parse_args(argv)
    if arguments.command == "scenarios":
        for name in list_shipped():
            print(name)
        return 0
    return run_command(arguments)


if __name__ == "__main__":
    sys.exit(main())
