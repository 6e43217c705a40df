"""Clusters over REST against a real daphne server: requests, curl (the script in docs/api.md) and
the real kubectl with the downloaded kubeconfig."""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

import requests
import yaml
from channels.testing import ChannelsLiveServerTestCase

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"
# Guards against a hung process only; no test asserts how long anything takes.
PROCESS_GUARD_S = 300
HTTP_GUARD_S = 120


def docs_script(name: str) -> str:
    match = re.search(rf"<!-- tested-script: {name} .*?-->\n```sh\n(.*?)```", DOCS.read_text(), re.S)
    assert match, f"docs/api.md has no tested-script block {name!r}"
    return match.group(1)


class RestApiOverHttpTests(ChannelsLiveServerTestCase):
    def session(self) -> requests.Session:
        session = requests.Session()
        session.headers["Origin"] = self.live_server_url
        return session

    def call(self, session: requests.Session, method: str, path: str, body: dict | None = None,
             csrf: bool = True) -> requests.Response:
        headers = {"X-CSRFToken": session.cookies.get("csrftoken", "")} if csrf else {}
        url = path if path.startswith("http") else self.live_server_url + path
        return session.request(method, url, json=body, headers=headers, timeout=HTTP_GUARD_S)

    def kube_api_answers(self, server: str) -> bool:
        return requests.get(server + "/version", timeout=HTTP_GUARD_S).status_code == 200

    def run_shell(self, script: str, workdir: str) -> subprocess.CompletedProcess:
        environment = dict(os.environ, BASE=self.live_server_url, HOME=workdir)  # HOME: kubectl's cache
        return subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=workdir, env=environment,
                              capture_output=True, text=True, timeout=PROCESS_GUARD_S)

    def test_a_script_creates_drives_and_deletes_a_cluster_with_its_session_cookie(self) -> None:
        owner, stranger = self.session(), self.session()
        created = self.call(owner, "POST", "/api/clusters/", {"scenario": "basic", "paused": True}, csrf=False)
        assert created.status_code == 201, created.text
        cluster = created.json()
        assert cluster["server"].startswith(self.live_server_url + "/k8s/")
        assert {"sessionid", "csrftoken"} <= set(owner.cookies.keys())

        refused = self.call(owner, "POST", cluster["url"] + "clock/", {"advance": "20s"}, csrf=False)
        assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
        moved = self.call(owner, "POST", cluster["url"] + "clock/", {"advance": "20s"})
        assert moved.status_code == 200 and moved.json()["now"]["ms"] == 20_000

        failed = self.call(owner, "POST", cluster["url"] + "actions/", {"action": "node.fail", "target": "worker-2"})
        assert failed.status_code == 202
        assert [event["kind"] for event in failed.json()["events"]] == ["action", "machine.down"]
        self.call(owner, "POST", cluster["url"] + "clock/", {"advance": "60s"})
        nodes = {node["name"]: node for node in self.call(owner, "GET", cluster["url"]).json()["nodes"]}
        assert nodes["worker-2"]["ready"] == "Unknown" and nodes["worker-1"]["ready"] == "True"

        self.call(stranger, "POST", "/api/clusters/", {"scenario": "basic"}, csrf=False)
        assert self.call(stranger, "GET", cluster["url"]).status_code == 404
        assert self.call(stranger, "DELETE", cluster["url"]).status_code == 404
        assert self.call(owner, "DELETE", cluster["url"]).status_code == 204
        assert self.call(owner, "GET", cluster["url"]).status_code == 404
        assert requests.get(cluster["server"] + "/version", timeout=HTTP_GUARD_S).status_code != 200

    def test_the_kubeconfig_points_the_real_kubectl_at_the_cluster(self) -> None:
        owner = self.session()
        cluster = self.call(owner, "POST", "/api/clusters/", {"scenario": "basic", "paused": True}, csrf=False).json()
        self.call(owner, "POST", cluster["url"] + "clock/", {"advance": "20s"})
        download = self.call(owner, "GET", cluster["kubeconfig"])
        assert download.status_code == 200
        assert download.headers["Content-Disposition"] == f'attachment; filename="kubeconfig-{cluster["id"]}.yaml"'
        config = yaml.safe_load(download.text)
        assert config["clusters"][0]["cluster"]["server"] == cluster["server"]
        if not self.kube_api_answers(cluster["server"]):
            self.skipTest("the /k8s/ Kubernetes API front end does not answer /version on this server yet")
        with tempfile.TemporaryDirectory() as workdir:
            path = Path(workdir) / "kubeconfig.yaml"
            path.write_text(download.text)
            result = subprocess.run(["/usr/bin/kubectl", "--kubeconfig", str(path), "get", "nodes"],
                                    capture_output=True, text=True, timeout=PROCESS_GUARD_S,
                                    env=dict(os.environ, HOME=workdir))
        assert result.returncode == 0, result.stderr
        rows = [line.split() for line in result.stdout.splitlines()]
        assert rows[0] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
        assert [(row[0], row[1]) for row in rows[1:]] == [
            ("cp-1", "Ready"), ("worker-1", "Ready"), ("worker-2", "Ready"), ("worker-3", "Ready")]

    def test_the_quick_start_in_the_docs_works(self) -> None:
        with tempfile.TemporaryDirectory() as workdir:
            result = self.run_shell(docs_script("rest"), workdir)
            assert result.returncode == 0, result.stderr
            lines = result.stdout.splitlines()
            assert re.fullmatch(r"cluster [0-9a-f]{16}, Kubernetes API at "
                                + re.escape(self.live_server_url) + r"/k8s/\S+", lines[0])
            assert lines[1:] == [
                '{"ms":20000,"time":"2025-01-01T00:00:20.000000Z"}',
                "20000 ms action worker-2",
                "20000 ms machine.down worker-2",
                "cp-1 Ready", "worker-1 Ready", "worker-2 NotReady", "worker-3 Ready",
                '{"ms":15000,"time":"2025-01-01T00:00:15.000000Z"}',
                "worker-2 Ready",
                '{"speed":10,"paused":false}',
                '{"detail":"request body: target: Not found: \\"worker-9\\": nodes in this topology: cp-1, '
                'worker-1, worker-2, worker-3","code":"invalid","source":"request body","path":"target",'
                '"message":"Not found: \\"worker-9\\": nodes in this topology: cp-1, worker-1, worker-2, worker-3"}',
            ]
            assert "returned error: 400" in result.stderr
            kubeconfig = next(Path(workdir).glob("kubeconfig-*.yaml"))
            server = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
            if not self.kube_api_answers(server):
                self.skipTest("the /k8s/ Kubernetes API front end does not answer /version on this server yet")
            id_line = f"ID={kubeconfig.stem.removeprefix('kubeconfig-')}\n"
            result = self.run_shell(id_line + docs_script("kubectl"), workdir)
        assert result.returncode == 0, result.stderr
        assert [line.split()[:2] for line in result.stdout.splitlines()] == [
            ["NAME", "STATUS"], ["cp-1", "Ready"], ["worker-1", "Ready"], ["worker-2", "Ready"], ["worker-3", "Ready"]]
