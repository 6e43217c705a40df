"""A small hand-built cluster for the node-agent tests, plus unit tests of the pure node helpers.

The cluster: one etcd member and one kube-apiserver on machine cp-1, and per worker a
containerd, a kubelet and a kube-proxy; a `kubectl` component sends API requests.
"""
from __future__ import annotations

from typing import Any

from cluster_sim.apiserver import kinds
from cluster_sim.apiserver.server import KubeApiServer
from cluster_sim.client import ApiComponent
from cluster_sim.engine import Component, Simulation
from cluster_sim.etcd.member import EtcdMember
from cluster_sim.network import Network
from cluster_sim.node import cni, images, podstatus
from cluster_sim.node.kubelet import Kubelet
from cluster_sim.node.proxy import KubeProxy
from cluster_sim.node.runtime import ContainerRuntime

START_EPOCH_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
BOOT_MS = 20_000


class AckingEtcdMember(EtcdMember):
    """The etcd member, answering watch creation the way the apiserver's client waits for."""

    def start_watch(self, sender: str, body: dict) -> None:
        super().start_watch(sender, body)
        self.send(sender, "etcd_response", {"id": body["id"], "ok": True, "revision": 0})


class Kubectl(ApiComponent):
    kind = "kubectl"

    def __init__(self, sim: Any, servers: list[str]):
        super().__init__(sim, "kubectl", "workstation", servers, "kubectl/v1.33.0")
        self.results: list = []

    def on_request_result(self, context: dict, code: int, body: Any) -> None:
        self.results.append([context, code, body])


class FakeControlPlaneProcess(Component):
    """Stands in for a control-plane binary run as a static pod."""

    kind = "kube-scheduler"


def worker_config(name: str, index: int, **overrides: Any) -> dict:
    config = {"name": name, "role": "worker", "internal_ip": f"192.168.56.{101 + index}",
              "allocatable": {"cpu": "2", "memory": "4Gi", "pods": "110", "ephemeral-storage": "20Gi"},
              "labels": {}, "taints": [], "zone": "zone-a", "runtime": f"containerd-{name}", "static_pods": [],
              "images": [{"names": ["registry.k8s.io/pause:3.10"], "sizeBytes": 320_000},
                         {"names": ["registry.k8s.io/e2e-test-images/agnhost:2.53"], "sizeBytes": 52_700_000}],
              "kubelet_version": "v1.33.0", "os_image": "Ubuntu 24.04.1 LTS", "kernel_version": "6.8.0-51-generic",
              "container_runtime_version": "containerd://1.7.24", "pod_cidr": f"10.244.{index + 1}.0/24"}
    config.update(overrides)
    return config


class NodeCluster:
    def __init__(self, seed: int = 1, workers: int = 1, configs: list[dict] | None = None,
                 static_components: list[str] | None = None):
        sim = Simulation(seed, START_EPOCH_MS)
        Network(sim)
        self.sim = sim
        sim.add(AckingEtcdMember(sim, "etcd-cp-1", "cp-1", ["etcd-cp-1"]))
        self.apiserver = sim.add(KubeApiServer(sim, "kube-apiserver-cp-1", "cp-1", ["etcd-cp-1"]))
        for component in static_components or []:
            sim.add(FakeControlPlaneProcess(sim, component, "cp-1"))
        configs = configs if configs is not None else [worker_config(f"worker-{i + 1}", i) for i in range(workers)]
        for config in configs:
            name = config["name"]
            sim.add(ContainerRuntime(sim, f"containerd-{name}", name))
            sim.add(Kubelet(sim, f"kubelet-{name}", name, ["kube-apiserver-cp-1"], config))
            sim.add(KubeProxy(sim, f"kube-proxy-{name}", name, ["kube-apiserver-cp-1"], config["internal_ip"]))
        self.kubectl = sim.add(Kubectl(sim, ["kube-apiserver-cp-1"]))
        self.events: list = []
        self.run_until(BOOT_MS // 2)
        self.create("serviceaccounts", {"metadata": {"name": "default"}})
        self.run_until(BOOT_MS)

    # Driving ------------------------------------------------------------------------------------
    def run_until(self, time_ms: int) -> list:
        self.sim.run_until(time_ms)
        fresh = self.sim.drain_events()
        self.events.extend(fresh)
        return fresh

    def run_for(self, duration_ms: int) -> list:
        return self.run_until(self.sim.now_ms + duration_ms)

    def request(self, verb: str, resource: str, **kwargs: Any) -> list:
        self.kubectl.api.request(verb, resource, context={}, **kwargs)
        count = len(self.kubectl.results)
        for _ in range(100):
            self.run_for(10)
            if len(self.kubectl.results) > count:
                return self.kubectl.results[-1]
        raise AssertionError(f"no answer to {verb} {resource}")

    def create(self, resource: str, body: dict, namespace: str | None = "default") -> dict:
        info = kinds.RESOURCES[resource]
        _context, code, answer = self.request("create", resource, namespace=namespace if info.namespaced else None,
                                              body=body)
        assert code == 201, answer
        return answer

    def create_pod(self, name: str, node: str, containers: list[dict], **spec: Any) -> dict:
        body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
                "spec": dict(spec, nodeName=node, containers=containers)}
        return self.create("pods", body)

    # Reading the API state -------------------------------------------------------------------------
    def get(self, resource: str, name: str, namespace: str | None = "default") -> dict | None:
        info = kinds.RESOURCES[resource]
        return self.apiserver.cached(info, namespace if info.namespaced else None, name)

    def pod(self, name: str) -> dict | None:
        return self.get("pods", name)

    def container_status(self, pod_name: str, container: str | None = None) -> dict:
        statuses = (self.pod(pod_name) or {}).get("status", {}).get("containerStatuses") or []
        for status in statuses:
            if container in (None, status["name"]):
                return status
        return {}

    def events_of(self, kind: str, since_ms: int = 0) -> list:
        return [event for event in self.events if event.kind == kind and event.time_ms >= since_ms]

    def k8s_events(self, reason: str | None = None) -> list:
        return [event.payload for event in self.events
                if event.kind == "k8s.event" and reason in (None, event.payload["reason"])]

    def wait_for(self, predicate: Any, limit_ms: int, step_ms: int = 100) -> int:
        """Run until predicate() holds; returns the time it first held."""
        for _ in range(limit_ms // step_ms + 1):
            if predicate():
                return self.sim.now_ms
            self.run_for(step_ms)
        raise AssertionError(f"condition not met within {limit_ms} ms (now {self.sim.now_ms} ms)")


def phase_of(cluster: NodeCluster, name: str) -> str | None:
    return ((cluster.pod(name) or {}).get("status") or {}).get("phase")


# --- unit tests of the pure helpers -------------------------------------------------------------------

def test_host_local_hands_out_addresses_from_dot_two_and_does_not_reuse_at_once():
    pool = cni.new_pool("10.244.1.0/24")
    assert pool["gateway"] == "10.244.1.1"
    first = cni.allocate(pool, "sandbox-a")
    second = cni.allocate(pool, "sandbox-b")
    assert [first, second] == ["10.244.1.2", "10.244.1.3"]
    assert cni.release(pool, "sandbox-a") == "10.244.1.2"
    assert cni.allocate(pool, "sandbox-c") == "10.244.1.4"


def test_host_local_range_fills_up_and_wraps_around():
    pool = cni.new_pool("10.244.9.0/29")  # usable pod addresses .2 .. .6
    handed = [cni.allocate(pool, f"sandbox-{index}") for index in range(6)]
    assert handed == ["10.244.9.2", "10.244.9.3", "10.244.9.4", "10.244.9.5", "10.244.9.6", None]
    cni.release(pool, "sandbox-1")
    assert cni.allocate(pool, "sandbox-new") == "10.244.9.3"
    assert cni.range_text(pool) == "10.244.9.1-10.244.9.6"


def test_image_names_are_normalised_like_containerd():
    assert images.normalize("nginx") == "docker.io/library/nginx:latest"
    assert images.normalize("nginx:1.27") == "docker.io/library/nginx:1.27"
    assert images.normalize("bitnami/redis:7.2") == "docker.io/bitnami/redis:7.2"
    assert images.normalize("registry.k8s.io/pause:3.10") == "registry.k8s.io/pause:3.10"
    assert images.repo_digest("nginx:1.27").startswith("docker.io/library/nginx@sha256:")
    assert images.repo_digest("nginx:1.27") == images.repo_digest("docker.io/library/nginx:1.27")


def test_bad_images_fail_with_containerd_texts():
    missing = images.pull_failure("nginx:doesnotexist")
    assert missing == ('rpc error: code = NotFound desc = failed to pull and unpack image '
                       '"docker.io/library/nginx:doesnotexist": failed to resolve reference '
                       '"docker.io/library/nginx:doesnotexist": docker.io/library/nginx:doesnotexist: not found')
    unresolvable = images.pull_failure("registry.invalid/team/app:1.0")
    assert "lookup registry.invalid" in unresolvable and unresolvable.endswith("no such host")
    assert images.pull_failure("nginx:1.27") is None


def test_pull_time_grows_with_image_size():
    assert images.pull_duration_ms(72_100_000) == 400 + 1442
    assert images.pull_duration_ms(2_000_000) < images.pull_duration_ms(400_000_000)


def test_qos_classes():
    best_effort = {"containers": [{"name": "a"}]}
    guaranteed = {"containers": [{"name": "a", "resources": {"limits": {"cpu": "1", "memory": "1Gi"},
                                                             "requests": {"cpu": "1000m", "memory": "1Gi"}}}]}
    burstable = {"containers": [{"name": "a", "resources": {"requests": {"cpu": "100m"}}}]}
    assert [podstatus.qos_class(spec) for spec in (best_effort, guaranteed, burstable)] == \
        ["BestEffort", "Guaranteed", "Burstable"]


def test_pod_phase_follows_get_phase():
    running = {"state": "running"}
    crashed_waiting = {"state": "waiting", "has_last": True, "last_exit_code": 1}
    assert podstatus.pod_phase("Always", [{"state": "waiting"}], False) == "Pending"
    assert podstatus.pod_phase("Always", [running], False) == "Running"
    assert podstatus.pod_phase("Always", [crashed_waiting], False) == "Running"
    assert podstatus.pod_phase("Never", [{"state": "terminated", "exit_code": 0}], False) == "Succeeded"
    assert podstatus.pod_phase("Never", [{"state": "terminated", "exit_code": 1}], False) == "Failed"
    assert podstatus.pod_phase("Always", [{"state": "terminated", "exit_code": 0}], True) == "Succeeded"
    assert podstatus.pod_phase("Always", [{"state": "terminated", "exit_code": 137}], True) == "Failed"
