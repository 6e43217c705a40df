"""`python -m cluster_sim run`: what a person at a terminal sees."""
from __future__ import annotations

import json
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]


def run_cli(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cluster_sim", *arguments], cwd=REPO, capture_output=True,
                          text=True, timeout=600)


def test_help_explains_every_option():
    result = run_cli("run", "--help")
    assert result.returncode == 0
    for option in ("--seed", "--until", "--events", "--dump"):
        assert option in result.stdout


def test_run_writes_events_and_dump(tmp_path):
    events, dump = tmp_path / "events.jsonl", tmp_path / "dump.json"
    result = run_cli("run", "basic", "--until", "40s", "--events", str(events), "--dump", str(dump))
    assert result.returncode == 0, result.stderr
    assert "ran 40s of virtual time" in result.stdout
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    assert lines[0]["seq"] == 1 and all(set(line) == {"t", "seq", "kind", "source", "target", "payload"} for line in lines)
    assert max(line["t"] for line in lines) <= 40_000
    listing = json.loads(dump.read_text())
    assert listing["apiVersion"] == "v1" and listing["kind"] == "List"
    pods = [item for item in listing["items"] if item["kind"] == "Pod" and item["metadata"]["namespace"] == "default"]
    assert len(pods) == 3 and all(pod["status"]["phase"] == "Running" for pod in pods)
    # Timestamps come from the virtual clock that starts at the scenario's startTime.
    assert all(pod["metadata"]["creationTimestamp"].startswith("2025-01-01T00:00:") for pod in pods)
    assert all(pod["metadata"]["resourceVersion"].isdigit() for pod in pods)


def test_same_seed_same_bytes(tmp_path):
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert run_cli("run", "basic", "--until", "20s", "--seed", "5", "--events", str(first)).returncode == 0
    assert run_cli("run", "basic", "--until", "20s", "--seed", "5", "--events", str(second)).returncode == 0
    assert first.read_bytes() == second.read_bytes()


def test_bad_scenario_names_file_and_path_and_exits_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntopology:\n  workers:\n    - name: w1\n      allocatable: {cpu: lots}\n")
    result = run_cli("run", str(bad))
    assert result.returncode == 2
    assert f"{bad}: topology.workers[0].allocatable[cpu]: Invalid value: \"lots\"" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_file_and_bad_duration_exit_2(tmp_path):
    missing = run_cli("run", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2 and "nope.yaml" in missing.stderr and "Traceback" not in missing.stderr
    bad_until = run_cli("run", "basic", "--until", "soon")
    assert bad_until.returncode == 2 and 'invalid duration "soon"' in bad_until.stderr


def test_unknown_action_in_timeline_is_reported(tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: s\ntopology:\n  workers:\n    - name: w1\ntimeline:\n  - {at: 10s, action: node.explode, target: w1}\n")
    result = run_cli("run", str(scenario))
    assert result.returncode == 2 and "timeline[0].action" in result.stderr
