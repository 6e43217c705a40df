"""Rolling updates (`rollout`: four replicas, maxSurge 25 % -> 1, maxUnavailable 25 % -> 1):
nginx:1.27 -> nginx:1.28 at 1 m completes within the bounds; nginx:1.288 at 6 m does not exist,
so the new pods back off pulling and the rollout stalls with three old pods serving until the
progress deadline (600 s) marks it ProgressDeadlineExceeded."""
from __future__ import annotations

import pytest

from cluster_sim.node import images
from cluster_sim.timefmt import parse_time_ms
from tests.sim.scenario_helpers import ScenarioRun, condition, container_state, live_pods, pod_is_ready

SEED = 5
GOOD_ROLLOUT_MS = 60_000
BAD_ROLLOUT_MS = 360_000
REPLICAS = 4
MAX_SURGE = 1
MAX_UNAVAILABLE = 1
SAMPLE_MS = 250
PROGRESS_DEADLINE_MS = 600_000
IMAGE_BACKOFF_MS = [10_000, 20_000, 40_000]
# A failed pod sync is retried after 10 s x [1, 1.5): the pull happens at the first retry after the back-off.
WORKER_RETRY_MAX_MS = 15_000


def image_of(pod: dict) -> str:
    return pod["spec"]["containers"][0]["image"]


@pytest.fixture(scope="module")
def rollout() -> dict:
    run = ScenarioRun("rollout", SEED)
    run.run_until(GOOD_ROLLOUT_MS - SAMPLE_MS)
    samples = []
    for step in range(1, 120_000 // SAMPLE_MS):
        run.run_until(GOOD_ROLLOUT_MS - SAMPLE_MS + step * SAMPLE_MS)
        pods = live_pods(run.pods("web"))
        samples.append({"t": run.now_ms, "live": len(pods), "ready": sum(1 for pod in pods if pod_is_ready(pod)),
                        "images": sorted(image_of(pod) for pod in pods)})
    after_good = live_pods(run.pods("web"))
    run.run_until(BAD_ROLLOUT_MS + 90_000)
    stalled = {"pods": live_pods(run.pods("web")), "replica_sets": run.objects("ReplicaSet", "default")}
    run.run_until(BAD_ROLLOUT_MS + PROGRESS_DEADLINE_MS + 10_000)
    return {"run": run, "samples": samples, "after_good": after_good, "stalled": stalled}


def test_rolling_update_stays_within_max_surge_and_max_unavailable(rollout):
    samples = rollout["samples"]
    assert max(s["live"] for s in samples) == REPLICAS + MAX_SURGE, rollout["run"]
    assert min(s["ready"] for s in samples) == REPLICAS - MAX_UNAVAILABLE, rollout["run"]
    mixed = [s for s in samples if len(set(s["images"])) > 1]
    assert mixed, "the rollout never had old and new pods at once"


def test_rolling_update_ends_with_every_pod_on_the_new_image(rollout):
    run, pods = rollout["run"], rollout["after_good"]
    assert len(pods) == REPLICAS and all(pod_is_ready(pod) for pod in pods), run
    assert {image_of(pod) for pod in pods} == {"nginx:1.28"}
    done = [s["t"] for s in rollout["samples"] if s["images"] == ["nginx:1.28"] * REPLICAS and s["ready"] == REPLICAS]
    assert done and done[0] - GOOD_ROLLOUT_MS <= 30_000, run


def test_missing_image_tag_stalls_the_rollout_in_image_pull_backoff(rollout):
    run, stalled = rollout["run"], rollout["stalled"]
    by_image: dict = {}
    for pod in stalled["pods"]:
        by_image.setdefault(image_of(pod), []).append(pod)
    old, new = by_image.get("nginx:1.28", []), by_image.get("nginx:1.288", [])
    # Surge 1 above 4 and 1 unavailable below it: 3 old pods keep serving, 2 new ones cannot start.
    assert len(old) == REPLICAS - MAX_UNAVAILABLE and all(pod_is_ready(pod) for pod in old), run
    assert len(new) == MAX_SURGE + MAX_UNAVAILABLE, run
    for pod in new:
        waiting = container_state(pod)["state"].get("waiting") or {}
        assert waiting.get("reason") in ("ErrImagePull", "ImagePullBackOff"), pod["status"]
        assert pod["status"]["phase"] == "Pending" and not pod_is_ready(pod)
    reasons = {e.payload["reason"] for e in run.find("container.state", since_ms=BAD_ROLLOUT_MS)
               if e.target.startswith("default/web-") and e.payload["state"] == "waiting"}
    assert {"ErrImagePull", "ImagePullBackOff"} <= reasons
    failed = [e.payload["message"] for e in run.k8s_events("Failed", since_ms=BAD_ROLLOUT_MS)]
    assert any(message.startswith('Failed to pull image "nginx:1.288"') and
               message.endswith("docker.io/library/nginx:1.288: not found") for message in failed), failed


def test_image_pull_retries_back_off_10_20_40_s(rollout):
    run = rollout["run"]
    for node in ("worker-1", "worker-2", "worker-3"):
        pulls = [e.time_ms for e in run.find("image.pull", target=node, since_ms=BAD_ROLLOUT_MS, image="nginx:1.288")]
        if len(pulls) < 4:
            continue
        gaps = [later - earlier for earlier, later in zip(pulls, pulls[1:])][:3]
        for gap, backoff in zip(gaps, IMAGE_BACKOFF_MS):
            assert backoff <= gap <= backoff + WORKER_RETRY_MAX_MS, (run, node, gaps)
        return
    pytest.fail(f"{run}: no node retried the pull four times")


def test_stalled_rollout_reports_progress_deadline_exceeded_after_600_s(rollout):
    run = rollout["run"]
    deployment = run.get("Deployment", "web", "default")
    progressing = condition(deployment, "Progressing")
    assert [progressing["status"], progressing["reason"]] == ["False", "ProgressDeadlineExceeded"], run
    assert progressing["message"].endswith("has timed out progressing.")
    stalled_ms = parse_time_ms(progressing["lastTransitionTime"]) - run.cluster.sim.start_epoch_ms
    # Counted from the last progress (the new ReplicaSet's pods were created just after 6 m).
    assert PROGRESS_DEADLINE_MS <= stalled_ms - BAD_ROLLOUT_MS <= PROGRESS_DEADLINE_MS + 10_000, (run, stalled_ms)
    assert condition(deployment, "Available")["status"] == "True"


@pytest.mark.parametrize("image, exists", [
    ("nginx:1.288", False), ("nginx:1.30", False), ("nginx:2.0", False), ("busybox:1.99", False),
    ("nginx:1.28", True), ("nginx:1.27.3-alpine", True), ("nginx:1", True), ("nginx:latest", True),
    ("busybox:1.36", True), ("redis:7.2", True), ("httpd:2.4", True), ("example.com/team/app:99.0", True),
])
def test_version_tags_beyond_the_newest_release_do_not_exist(image, exists):
    assert (images.pull_failure(image) is None) is exists
