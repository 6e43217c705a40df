"""Golden transcripts: small scenarios whose whole event streams are checked in.

A change that alters what the simulation does shows up here as a diff to review. When the change
is intended, regenerate with `UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/sim/test_golden.py`
and commit the new transcripts with the change that explains them.
"""
from __future__ import annotations

import gzip
import json
import os
import pathlib

import pytest

from cluster_sim.cluster import Cluster
from cluster_sim.scenario import load_scenario

GOLDEN = pathlib.Path(__file__).resolve().parent.parent / "golden"
CASES = {"tiny": 15_000, "etcd-member-loss": 24_000}


def transcript(name: str, until_ms: int) -> list[str]:
    cluster = Cluster.from_scenario(load_scenario(str(GOLDEN / f"{name}.yaml")))
    return [json.dumps(event.as_dict(), sort_keys=True, separators=(",", ":")) for event in cluster.run_until(until_ms)]


@pytest.mark.parametrize("name", sorted(CASES))
def test_event_stream_matches_checked_in_transcript(name):
    lines = transcript(name, CASES[name])
    path = GOLDEN / f"{name}.jsonl.gz"
    if os.environ.get("UPDATE_GOLDEN"):
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
    expected = gzip.open(path, "rt", encoding="utf-8").read().splitlines()
    for index, (got, want) in enumerate(zip(lines, expected)):
        assert got == want, f"{name}: event {index + 1} differs\n got: {got[:400]}\nwant: {want[:400]}"
    assert len(lines) == len(expected), f"{name}: {len(lines)} events, transcript has {len(expected)}"


def test_tiny_transcript_tells_the_story_of_one_pod():
    lines = [json.loads(line) for line in gzip.open(GOLDEN / "tiny.jsonl.gz", "rt", encoding="utf-8")]
    kinds = [line["kind"] for line in lines]
    assert "etcd.leader.elected" in kinds and "apiserver.ready" in kinds
    hello = [line for line in lines if line["kind"] == "pod.phase" and line["payload"]["pod"] == "default/hello"]
    assert hello and hello[-1]["payload"]["phase"] == "Running"
