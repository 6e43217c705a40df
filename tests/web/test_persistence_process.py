"""kill -9 the real server and start it again on the same database: every acknowledged action and
the clock are still there (docs/persistence.md)."""
from __future__ import annotations

import http.cookiejar
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Guards against a hung process only; no test asserts how long anything takes.
START_ATTEMPTS = 1200
REQUEST_GUARD_S = 120
CONFIGMAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "survivor"}, "data": {"kept": "yes"}}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """One daphne process serving the app on a SQLite file of its own."""

    def __init__(self, database: Path):
        self.port = free_port()
        self.env = dict(os.environ, DATABASE_URL=f"sqlite:///{database}", DJANGO_SETTINGS_MODULE="web.settings")
        self.env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        self.process: subprocess.Popen | None = None

    def migrate(self) -> None:
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=self.env,
                       check=True, timeout=REQUEST_GUARD_S)

    def start(self) -> None:
        daphne = str(Path(sys.executable).parent / "daphne")
        self.process = subprocess.Popen([daphne, "-b", "127.0.0.1", "-p", str(self.port), "web.asgi:application"],
                                        cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _attempt in range(START_ATTEMPTS):
            if self.process.poll() is not None:
                raise AssertionError(f"daphne exited: {self.process.stderr.read().decode()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("daphne did not start listening")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=REQUEST_GUARD_S)
        self.process.stderr.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class Client:
    """A script with a cookie jar, as docs/api.md's curl helper."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def call(self, base: str, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        csrf = next((cookie.value for cookie in self.jar if cookie.name == "csrftoken"), "")
        request = urllib.request.Request(base + path, method=method,
                                         data=json.dumps(body).encode() if body is not None else None,
                                         headers={"Content-Type": "application/json", "X-CSRFToken": csrf,
                                                  "Origin": base})
        try:
            with self.opener.open(request, timeout=REQUEST_GUARD_S) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")


def kube_path(secret: str, path: str) -> str:
    return f"/k8s/{secret}{path}"


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "db.sqlite3"


def test_kill_9_and_restart_keeps_every_acknowledged_action_and_the_clock(database: Path):
    server = Server(database)
    server.migrate()
    server.start()
    client = Client()
    try:
        code, cluster = client.call(server.url, "POST", "/api/clusters/",
                                    {"scenario": "basic", "seed": 7, "paused": True, "startTime": "scenario"})
        assert code == 201, cluster
        cluster_id = cluster["id"]
        secret = cluster["server"].rsplit("/k8s/", 1)[1]
        code, clock = client.call(server.url, "POST", f"/api/clusters/{cluster_id}/clock/", {"advance": "20s"})
        assert code == 200, clock
        code, answer = client.call(server.url, "POST", f"/api/clusters/{cluster_id}/actions/",
                                   {"action": "node.fail", "target": "worker-2"})
        assert code == 202, answer
        code, created = client.call(server.url, "POST", kube_path(secret, "/api/v1/namespaces/default/configmaps"),
                                    CONFIGMAP)
        assert code == 201, created
        code, clock = client.call(server.url, "POST", f"/api/clusters/{cluster_id}/clock/", {"advance": "60s"})
        assert code == 200, clock
        code, before = client.call(server.url, "GET", f"/api/clusters/{cluster_id}/")
        assert code == 200
    finally:
        server.kill()

    server.start()
    try:
        code, after = client.call(server.url, "GET", f"/api/clusters/{cluster_id}/")
        assert code == 200, after
        assert after["now"] == before["now"]
        assert after["clock"] == before["clock"] == {"speed": 1.0, "paused": True}
        assert after["nodes"] == before["nodes"]
        assert {"name": "worker-2", "status": "NotReady"} == {
            key: value for node in after["nodes"] if node["name"] == "worker-2"
            for key, value in node.items() if key in ("name", "status")}
        code, stored = client.call(server.url, "GET", kube_path(secret, "/api/v1/namespaces/default/configmaps/survivor"))
        assert code == 200, stored
        assert stored["data"] == {"kept": "yes"}
        assert stored["metadata"]["uid"] == created["metadata"]["uid"]
        code, listed = client.call(server.url, "GET", "/api/clusters/")
        assert code == 200 and [item["id"] for item in listed] == [cluster_id]
    finally:
        server.kill()
