"""Fixtures for the Kubernetes API tests: one real daphne server, clusters, kubeconfigs, kubectl.

The daphne server runs in a thread of the test process (Twisted's reactor can run once per
process, so there is one server for the whole session), so tests can create clusters in the same
registry the server reads and look at the simulation directly to check what a request changed.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import tempfile
import threading
from dataclasses import dataclass

import pytest
import yaml

KUBECTL = "/usr/bin/kubectl"
# A guard against a hung process only; no test asserts how long anything takes.
PROCESS_GUARD_S = 180

_server_lock = threading.Lock()
_server_url: list[str] = []


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def live_server_url() -> str:
    """Start (once per process) daphne serving web.asgi in a background thread."""
    with _server_lock:
        if _server_url:
            return _server_url[0]
        os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        from daphne.server import Server  # installs the asyncio reactor: import before twisted

        from web.asgi import application

        port = free_port()
        ready = threading.Event()
        server = Server(application, endpoints=[f"tcp:port={port}:interface=127.0.0.1"], signal_handlers=False,
                        ready_callable=ready.set, verbosity=0)
        threading.Thread(target=server.run, name="daphne", daemon=True).start()
        if not ready.wait(60):
            raise RuntimeError("daphne did not start")
        _wait_listening(port)
        _server_url.append(f"http://127.0.0.1:{port}")
        return _server_url[0]


def _wait_listening(port: int) -> None:
    for _attempt in range(600):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            threading.Event().wait(0.05)
    raise RuntimeError("daphne is not listening")


@dataclass
class KubeCluster:
    live: object
    server: str
    kubeconfig: str
    workdir: str

    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        """Run the real kubectl against this cluster with a fresh discovery cache."""
        cache = tempfile.mkdtemp(dir=self.workdir, prefix="cache-")
        command = [KUBECTL, "--kubeconfig", self.kubeconfig, "--cache-dir", cache, *args]
        result = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=PROCESS_GUARD_S,
                                env=dict(os.environ, HOME=self.workdir, KUBECONFIG=self.kubeconfig))
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def popen(self, *args: str) -> subprocess.Popen:
        cache = tempfile.mkdtemp(dir=self.workdir, prefix="cache-")
        command = [KUBECTL, "--kubeconfig", self.kubeconfig, "--cache-dir", cache, *args]
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=dict(os.environ, HOME=self.workdir, KUBECONFIG=self.kubeconfig))

    def json(self, *args: str) -> dict:
        return json.loads(self.kubectl(*args, "-o", "json").stdout)

    def stored_objects(self) -> list:
        """Everything in the simulated etcd (to check a rejected request changed nothing)."""
        with self.live.lock:
            return sorted(json.dumps(item, sort_keys=True) for item in self.live.cluster.etcd_objects())


def write_kubeconfig(path: str, server: str, token: str | None = None) -> None:
    user: dict = {"token": token} if token else {}
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "sim",
        "clusters": [{"name": "sim", "cluster": {"server": server}}],
        "users": [{"name": "learner", "user": user}],
        "contexts": [{"name": "sim", "context": {"cluster": "sim", "user": "learner", "namespace": "default"}}],
    }
    with open(path, "w") as handle:
        yaml.safe_dump(config, handle)


def make_cluster(tmp_dir: str, scenario: str = "basic", seed: int = 7, speed: float = 1.0) -> KubeCluster:
    from cluster_sim.scenario import load_scenario, shipped_path
    from web.runtime import registry

    url = live_server_url()
    live = registry.create(scenario=load_scenario(shipped_path(scenario)), owner_session="tests", seed=seed)
    live.advance_by(30_000)
    live.set_speed(speed)
    server = f"{url}/k8s/{live.secret}"
    kubeconfig = os.path.join(tmp_dir, "kubeconfig")
    write_kubeconfig(kubeconfig, server)
    return KubeCluster(live=live, server=server, kubeconfig=kubeconfig, workdir=tmp_dir)


def cluster_fixture(scenario: str = "basic", seed: int = 7, speed: float = 1.0):
    """A module-scoped fixture: one cluster shared by the tests of a module."""

    @pytest.fixture(scope="module")
    def fixture(tmp_path_factory):
        from web.runtime import registry

        cluster = make_cluster(str(tmp_path_factory.mktemp("kube")), scenario, seed, speed)
        yield cluster
        registry.delete(cluster.live.id)

    return fixture
