"""The kubelet as a user sees it: its Node and Lease, pods started, restarted, stopped, rejected."""
from __future__ import annotations

import ipaddress
import json

from cluster_sim.engine import PRIORITY_TIMER, Simulation
from cluster_sim.node.runtime import RUNNING

from tests.sim.test_node_helpers import NodeCluster, phase_of, worker_config

AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.53"
APP = [{"name": "app", "image": AGNHOST}]


def started_calls(cluster: NodeCluster, pod: str) -> list[int]:
    return [event.time_ms for event in cluster.events
            if event.kind == "cri.call" and event.payload["method"] == "StartContainer"
            and event.payload["pod"] == f"default/{pod}"]


def test_node_registers_ready_with_what_kubectl_get_nodes_wide_shows():
    cluster = NodeCluster(seed=3)
    node = cluster.get("nodes", "worker-1")
    assert node is not None
    ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
    assert [ready["status"], ready["reason"], ready["message"]] == ["True", "KubeletReady", "kubelet is posting ready status"]
    assert [c["type"] for c in node["status"]["conditions"]] == ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"]
    info = node["status"]["nodeInfo"]
    assert [info["kubeletVersion"], info["osImage"], info["kernelVersion"], info["containerRuntimeVersion"]] == \
        ["v1.33.0", "Ubuntu 24.04.1 LTS", "6.8.0-51-generic", "containerd://1.7.24"]
    assert {"type": "InternalIP", "address": "192.168.56.101"} in node["status"]["addresses"]
    labels = node["metadata"]["labels"]
    assert labels["kubernetes.io/hostname"] == "worker-1" and labels["kubernetes.io/os"] == "linux"
    assert labels["topology.kubernetes.io/zone"] == "zone-a"
    assert node["status"]["allocatable"]["memory"] == "4Gi"
    assert node["status"]["capacity"]["memory"] == "4196Mi"  # + the 100Mi hard eviction threshold
    assert node["status"]["daemonEndpoints"] == {"kubeletEndpoint": {"Port": 10250}}
    assert any("registry.k8s.io/pause:3.10" in image["names"] for image in node["status"]["images"])
    assert [e["reason"] for e in cluster.k8s_events()][:4] == \
        ["Starting", "NodeHasSufficientMemory", "NodeHasNoDiskPressure", "NodeHasSufficientPID"]


def test_control_plane_node_gets_role_label_and_taint():
    config = worker_config("cp-2", 0, role="control-plane")
    cluster = NodeCluster(configs=[config])
    node = cluster.get("nodes", "cp-2")
    assert node["metadata"]["labels"]["node-role.kubernetes.io/control-plane"] == ""
    assert {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"} in node["spec"]["taints"]


def test_node_without_pod_cidr_is_not_ready_until_the_cni_can_work():
    cluster = NodeCluster(configs=[worker_config("worker-1", 0, pod_cidr=None)])
    ready = next(c for c in cluster.get("nodes", "worker-1")["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "False"
    assert "cni plugin not initialized" in ready["message"]
    node = json.loads(json.dumps(cluster.get("nodes", "worker-1")))
    node["spec"]["podCIDR"] = "10.244.7.0/24"
    _context, code, _body = cluster.request("update", "nodes", name="worker-1", body=node)
    assert code == 200
    cluster.run_for(25_000)
    ready = next(c for c in cluster.get("nodes", "worker-1")["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "True"
    assert "NodeReady" in [e["reason"] for e in cluster.k8s_events()]


def test_lease_is_renewed_every_ten_seconds():
    cluster = NodeCluster(seed=5)
    cluster.run_for(120_000)
    renewals = [event.time_ms for event in cluster.events_of("kubelet.lease.renew")]
    gaps = [later - earlier for earlier, later in zip(renewals, renewals[1:])]
    assert len(gaps) >= 10
    assert all(10_000 <= gap <= 10_400 + 20 for gap in gaps), gaps
    lease = cluster.get("leases", "worker-1", "kube-node-lease")
    assert lease["spec"]["holderIdentity"] == "worker-1"
    assert lease["spec"]["leaseDurationSeconds"] == 40
    assert lease["metadata"]["ownerReferences"][0]["kind"] == "Node"


def test_node_status_is_patched_only_on_change_or_every_five_minutes():
    cluster = NodeCluster(seed=2)
    start = cluster.sim.now_ms
    cluster.run_for(11 * 60_000)
    reports = [event.time_ms for event in cluster.events_of("kubelet.status", start)]
    assert 2 <= len(reports) <= 3, reports
    gaps = [later - earlier for earlier, later in zip(reports, reports[1:])]
    assert all(300_000 <= gap <= 312_000 for gap in gaps), gaps


def test_pod_bound_to_the_node_runs_with_an_address_from_the_node_cidr():
    cluster = NodeCluster(seed=4)
    created = cluster.sim.now_ms
    cluster.create_pod("web", "worker-1", [{"name": "nginx", "image": "nginx:1.27"}])
    running_at = cluster.wait_for(lambda: phase_of(cluster, "web") == "Running", 10_000, 50)
    # sandbox (0.25-0.6 s) + pull of 72 MB at 50 MB/s (1.8 s) + create/start: about 2-3 s.
    assert 2_000 <= running_at - created <= 3_500
    status = cluster.pod("web")["status"]
    address = ipaddress.ip_address(status["podIP"])
    assert address in ipaddress.ip_network("10.244.1.0/24") and str(address) != "10.244.1.1"
    assert status["hostIP"] == "192.168.56.101" and status["qosClass"] == "BestEffort"
    container = status["containerStatuses"][0]
    assert container["ready"] and container["restartCount"] == 0 and "running" in container["state"]
    assert container["containerID"].startswith("containerd://") and len(container["containerID"]) == 13 + 64
    assert container["image"] == "docker.io/library/nginx:1.27"
    assert container["imageID"].startswith("docker.io/library/nginx@sha256:")
    conditions = {c["type"]: c["status"] for c in status["conditions"]}
    assert conditions == {"PodReadyToStartContainers": "True", "Initialized": "True", "Ready": "True",
                          "ContainersReady": "True"}
    messages = [e["message"] for e in cluster.k8s_events() if e["object"] == "pod/web"]
    assert messages[0] == 'Pulling image "nginx:1.27"'
    assert messages[1].startswith('Successfully pulled image "nginx:1.27" in 1.842s (')
    assert messages[1].endswith("including waiting). Image size: 72100000 bytes.")
    assert messages[2:] == ["Created container: nginx", "Started container nginx"]
    phases = [e.payload["phase"] for e in cluster.events_of("pod.phase")]
    assert phases == ["Pending", "Running"]


def test_pre_pulled_image_starts_fast_and_says_already_present():
    cluster = NodeCluster(seed=6)
    created = cluster.sim.now_ms
    cluster.create_pod("fast", "worker-1", APP)
    running_at = cluster.wait_for(lambda: phase_of(cluster, "fast") == "Running", 5_000, 20)
    assert running_at - created <= 1_200
    assert f'Container image "{AGNHOST}" already present on machine' in [e["message"] for e in cluster.k8s_events("Pulled")]


def test_image_pull_backoff_doubles_from_ten_seconds_to_five_minutes():
    cluster = NodeCluster(seed=8)
    cluster.create_pod("broken", "worker-1", [{"name": "app", "image": "nginx:doesnotexist"}])
    reasons = set()
    for _ in range(1_300):
        cluster.run_for(1_000)
        waiting = cluster.container_status("broken").get("state", {}).get("waiting") or {}
        reasons.add(waiting.get("reason"))
    pulls = [event.time_ms for event in cluster.events
             if event.kind == "cri.call" and event.payload["method"] == "PullImage"]
    gaps = [later - earlier for earlier, later in zip(pulls, pulls[1:])]
    expected = [10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]
    assert len(gaps) >= len(expected)
    for gap, backoff in zip(gaps, expected):
        # The pod worker retries a failed sync after 10 s x [1, 1.5): a pull waits at most that long extra.
        assert backoff <= gap < backoff + 15_000 + 1_000, (gaps, expected)
    assert {"ErrImagePull", "ImagePullBackOff"} <= reasons
    assert phase_of(cluster, "broken") == "Pending"
    messages = [e["message"] for e in cluster.k8s_events()]
    assert ('Failed to pull image "nginx:doesnotexist": rpc error: code = NotFound desc = failed to pull and unpack '
            'image "docker.io/library/nginx:doesnotexist": failed to resolve reference '
            '"docker.io/library/nginx:doesnotexist": docker.io/library/nginx:doesnotexist: not found') in messages
    assert {"Error: ErrImagePull", "Error: ImagePullBackOff", 'Back-off pulling image "nginx:doesnotexist"'} <= set(messages)


def test_crash_loop_backoff_restarts_at_once_then_after_10_20_40_seconds():
    cluster = NodeCluster(seed=9)
    cluster.create_pod("crashy", "worker-1", APP)
    runtime = cluster.sim.components["containerd-worker-1"]
    cluster.wait_for(lambda: phase_of(cluster, "crashy") == "Running", 5_000)
    delays = []
    for expected_count in range(1, 6):
        crash_ms = cluster.sim.now_ms
        assert runtime.crash_container("default", "crashy", "app")
        cluster.wait_for(lambda: cluster.container_status("crashy").get("restartCount") == expected_count
                         and "running" in cluster.container_status("crashy")["state"], 400_000, 100)
        delays.append(started_calls(cluster, "crashy")[-1] - crash_ms)
    assert delays[0] <= 1_500, delays  # the first exit is restarted at once (after the 1 s PLEG relist)
    for delay, backoff in zip(delays[1:], [10_000, 20_000, 40_000, 80_000]):
        assert backoff <= delay < backoff + 15_000 + 1_500, delays
    crash_events = [e["message"] for e in cluster.k8s_events("BackOff")]
    uid = cluster.pod("crashy")["metadata"]["uid"]
    assert f"Back-off restarting failed container app in pod crashy_default({uid})" in crash_events
    last = cluster.container_status("crashy")["lastState"]["terminated"]
    assert [last["exitCode"], last["reason"]] == [1, "Error"]


def test_crash_loop_status_and_reset_after_ten_minutes_running():
    cluster = NodeCluster(seed=10)
    cluster.create_pod("crashy", "worker-1", APP)
    runtime = cluster.sim.components["containerd-worker-1"]
    cluster.wait_for(lambda: phase_of(cluster, "crashy") == "Running", 5_000)
    runtime.crash_container("default", "crashy")
    cluster.wait_for(lambda: cluster.container_status("crashy").get("restartCount") == 1
                     and "running" in cluster.container_status("crashy")["state"], 5_000)
    runtime.crash_container("default", "crashy")
    cluster.run_for(3_000)
    waiting = cluster.container_status("crashy")["state"]["waiting"]
    assert waiting["reason"] == "CrashLoopBackOff"
    assert waiting["message"].startswith("back-off 10s restarting failed container=app pod=crashy_default(")
    assert phase_of(cluster, "crashy") == "Running"  # restartPolicy Always: still Running while backing off
    cluster.wait_for(lambda: "running" in cluster.container_status("crashy")["state"], 30_000)
    cluster.run_for(11 * 60_000)
    crash_ms = cluster.sim.now_ms
    runtime.crash_container("default", "crashy")
    cluster.wait_for(lambda: cluster.container_status("crashy").get("restartCount") == 3, 5_000)
    assert started_calls(cluster, "crashy")[-1] - crash_ms <= 1_500


def test_graceful_deletion_stops_containers_then_removes_the_pod():
    cluster = NodeCluster(seed=11)
    cluster.create_pod("web", "worker-1", APP)
    cluster.wait_for(lambda: phase_of(cluster, "web") == "Running", 5_000)
    address = cluster.pod("web")["status"]["podIP"]
    deleted_ms = cluster.sim.now_ms
    _context, code, _body = cluster.request("delete", "pods", namespace="default", name="web")
    assert code == 200
    gone_at = cluster.wait_for(lambda: cluster.pod("web") is None, 10_000, 50)
    assert gone_at - deleted_ms <= 1_500  # the app exits on SIGTERM within 0.1-0.6 s
    assert "Stopping container app" in [e["message"] for e in cluster.k8s_events("Killing")]
    assert [e.payload["phase"] for e in cluster.events_of("pod.phase")][-1] == "Succeeded"
    runtime = cluster.sim.components["containerd-worker-1"]
    assert address not in runtime.ipam["allocated"]
    assert runtime.pod_uids() == []


def test_app_that_ignores_sigterm_is_killed_after_the_grace_period():
    cluster = NodeCluster(seed=12)
    cluster.create_pod("stubborn", "worker-1", APP, terminationGracePeriodSeconds=20)
    cluster.wait_for(lambda: phase_of(cluster, "stubborn") == "Running", 5_000)
    cluster.sim.components["containerd-worker-1"].set_container_health("default", "stubborn", ignore_sigterm=True)
    deleted_ms = cluster.sim.now_ms
    cluster.request("delete", "pods", namespace="default", name="stubborn")
    cluster.run_for(15_000)
    assert cluster.pod("stubborn") is not None  # Terminating
    gone_at = cluster.wait_for(lambda: cluster.pod("stubborn") is None, 10_000, 50)
    assert 20_000 <= gone_at - deleted_ms <= 21_500
    assert [e.payload["phase"] for e in cluster.events_of("pod.phase")][-1] == "Failed"  # exit 137


def test_pods_keep_running_while_the_apiserver_is_down_and_status_catches_up():
    cluster = NodeCluster(seed=13)
    cluster.create_pod("web", "worker-1", APP)
    cluster.wait_for(lambda: phase_of(cluster, "web") == "Running", 5_000)
    uid = cluster.pod("web")["metadata"]["uid"]
    apiserver = cluster.sim.components["kube-apiserver-cp-1"]
    apiserver.stop()
    outage_start = cluster.sim.now_ms
    cluster.run_for(5_000)
    runtime = cluster.sim.components["containerd-worker-1"]
    runtime.crash_container("default", "web")
    cluster.run_for(60_000)
    view = runtime.pod_view(uid)
    assert view["containers"][-1]["state"] == RUNNING and view["containers"][-1]["restart_count"] == 1
    stops = [e for e in cluster.events_of("cri.call", outage_start) if e.payload["method"] == "StopContainer"]
    assert stops == []
    apiserver.start()
    back_ms = cluster.sim.now_ms
    cluster.wait_for(lambda: cluster.container_status("web").get("restartCount") == 1, 30_000, 200)
    assert phase_of(cluster, "web") == "Running"
    cluster.run_for(20_000)
    # Lease reads back off up to 7 s while the apiserver is away: the renewal resumes within that.
    renewals = cluster.events_of("kubelet.lease.renew", back_ms)
    assert renewals and renewals[0].time_ms - back_ms <= 7_000 + 3_000


def test_kubelet_restart_adopts_running_containers():
    cluster = NodeCluster(seed=14)
    cluster.create_pod("web", "worker-1", APP)
    cluster.wait_for(lambda: phase_of(cluster, "web") == "Running", 5_000)
    before = cluster.container_status("web")
    kubelet = cluster.sim.components["kubelet-worker-1"]
    kubelet.stop()
    cluster.run_for(30_000)
    runtime = cluster.sim.components["containerd-worker-1"]
    assert runtime.pod_view(cluster.pod("web")["metadata"]["uid"])["containers"][-1]["state"] == RUNNING
    kubelet.start()
    cluster.run_for(15_000)
    after = cluster.container_status("web")
    assert after["containerID"] == before["containerID"] and after["restartCount"] == 0
    assert phase_of(cluster, "web") == "Running"


def test_admission_rejects_a_pod_the_node_cannot_fit():
    cluster = NodeCluster(seed=15)
    cluster.create_pod("huge", "worker-1", [{"name": "app", "image": AGNHOST,
                                             "resources": {"requests": {"cpu": "3"}}}])
    cluster.wait_for(lambda: phase_of(cluster, "huge") == "Failed", 5_000)
    status = cluster.pod("huge")["status"]
    assert status["reason"] == "OutOfcpu"
    assert status["message"] == "Pod was rejected: Node didn't have enough resource: cpu, requested: 3000, used: 0, capacity: 2000"
    assert cluster.k8s_events("OutOfcpu")


def test_readiness_probe_failures_make_the_pod_unready_after_three_periods():
    cluster = NodeCluster(seed=16)
    probe = {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10, "failureThreshold": 3}
    cluster.create_pod("probed", "worker-1", [{"name": "app", "image": AGNHOST, "readinessProbe": probe}])
    cluster.wait_for(lambda: cluster.container_status("probed").get("ready"), 5_000, 50)
    runtime = cluster.sim.components["containerd-worker-1"]
    runtime.set_container_health("default", "probed", readiness=False)
    unhealthy_ms = cluster.sim.now_ms
    unready_at = cluster.wait_for(lambda: not cluster.container_status("probed").get("ready"), 60_000, 100)
    assert 20_000 <= unready_at - unhealthy_ms <= 31_000
    assert len(cluster.events_of("probe.fail", unhealthy_ms)) == 3
    assert "Readiness probe failed: HTTP probe failed with statuscode: 503" in [e["message"] for e in cluster.k8s_events("Unhealthy")]
    ready = next(c for c in cluster.pod("probed")["status"]["conditions"] if c["type"] == "Ready")
    assert [ready["status"], ready["reason"], ready["message"]] == \
        ["False", "ContainersNotReady", "containers with unready status: [app]"]
    assert phase_of(cluster, "probed") == "Running"


def test_liveness_probe_failure_restarts_the_container():
    cluster = NodeCluster(seed=17)
    probe = {"tcpSocket": {"port": 8080}, "periodSeconds": 5, "failureThreshold": 3}
    cluster.create_pod("live", "worker-1", [{"name": "app", "image": AGNHOST, "livenessProbe": probe}])
    cluster.wait_for(lambda: phase_of(cluster, "live") == "Running", 5_000)
    cluster.sim.components["containerd-worker-1"].set_container_health("default", "live", liveness=False)
    cluster.wait_for(lambda: cluster.container_status("live").get("restartCount") == 1, 60_000)
    assert "Container app failed liveness probe, will be restarted" in [e["message"] for e in cluster.k8s_events("Killing")]


def test_static_pods_get_mirror_pods_and_restart_with_crash_loop_backoff():
    config = worker_config("cp-1", 0, role="control-plane", static_pods=[
        {"component": "kube-scheduler-cp-1", "pod_name": "kube-scheduler-cp-1", "tier": "kube-scheduler",
         "image": "registry.k8s.io/kube-scheduler:v1.33.0", "requests": {"cpu": "100m"}}],
        images=[{"names": ["registry.k8s.io/kube-scheduler:v1.33.0"], "sizeBytes": 21_800_000}])
    cluster = NodeCluster(seed=18, configs=[config], static_components=["kube-scheduler-cp-1"])
    cluster.run_for(5_000)
    mirror = cluster.get("pods", "kube-scheduler-cp-1", "kube-system")
    assert mirror is not None
    annotations = mirror["metadata"]["annotations"]
    assert annotations["kubernetes.io/config.source"] == "file"
    assert annotations["kubernetes.io/config.mirror"] == annotations["kubernetes.io/config.hash"]
    assert mirror["metadata"]["ownerReferences"][0]["kind"] == "Node"
    assert mirror["status"]["phase"] == "Running" and mirror["status"]["podIP"] == "192.168.56.101"
    process = cluster.sim.components["kube-scheduler-cp-1"]
    # The process loses its leader lease and exits, as ApiComponent.on_stopped_leading does.
    process.stop()
    cluster.sim.schedule(cluster.sim.now_ms, PRIORITY_TIMER, "kubelet-cp-1", "static_pod_exited",
                         {"component": "kube-scheduler-cp-1", "reason": "leaderelection lost"})
    cluster.run_for(1_000)
    assert process.running  # first exit: restarted at once
    exited_ms = cluster.sim.now_ms
    process.stop()
    cluster.run_for(5_000)
    assert not process.running
    restarted_at = cluster.wait_for(lambda: process.running, 30_000, 100)
    assert 10_000 <= restarted_at - exited_ms <= 10_000 + 16_500
    cluster.wait_for(lambda: cluster.get("pods", "kube-scheduler-cp-1", "kube-system")["status"]
                     ["containerStatuses"][0]["restartCount"] == 2, 10_000)


def test_deleted_mirror_pod_is_recreated():
    config = worker_config("cp-1", 0, role="control-plane", static_pods=[
        {"component": "kube-scheduler-cp-1", "pod_name": "kube-scheduler-cp-1", "tier": "kube-scheduler",
         "image": "registry.k8s.io/kube-scheduler:v1.33.0", "requests": {"cpu": "100m"}}])
    cluster = NodeCluster(seed=19, configs=[config], static_components=["kube-scheduler-cp-1"])
    cluster.run_for(5_000)
    first_uid = cluster.get("pods", "kube-scheduler-cp-1", "kube-system")["metadata"]["uid"]
    cluster.request("delete", "pods", namespace="kube-system", name="kube-scheduler-cp-1")
    cluster.run_for(5_000)
    mirror = cluster.get("pods", "kube-scheduler-cp-1", "kube-system")
    assert mirror is not None and mirror["metadata"]["uid"] != first_uid
    assert cluster.sim.components["kube-scheduler-cp-1"].running


def test_snapshot_restore_continues_identically():
    cluster = NodeCluster(seed=20)
    cluster.create_pod("web", "worker-1", [{"name": "nginx", "image": "nginx:1.27"}])
    cluster.run_for(1_000)
    cluster.sim.drain_events()
    state = json.loads(json.dumps(cluster.sim.snapshot()))
    restored = Simulation.restore(state)
    cluster.sim.run_until(cluster.sim.now_ms + 60_000)
    restored.run_until(restored.now_ms + 60_000)
    original = [e.as_dict() for e in cluster.sim.drain_events()]
    replayed = [e.as_dict() for e in restored.drain_events()]
    assert original == replayed and any(e["kind"] == "pod.phase" for e in original)
