"""Production mode (docs/deploy.md): PostgreSQL, the Redis channel layer, collected static files,
HTTPS settings; each against real servers."""
from __future__ import annotations

import gzip
import json
import re
import urllib.request
from pathlib import Path

import pytest
import websocket

from tests.prod.servers import GUARD_S, Client, Daphne, NoRedirect, manage, production_environment

CONFIGMAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "survivor"}, "data": {"kept": "yes"}}
MAX_WEBSOCKET_MESSAGES = 50


def reported_check_ids(output: str) -> set[str]:
    return set(re.findall(r"\(([a-z_]+\.[WE]\d+)\)", output))


def test_check_deploy_passes_with_production_environment():
    env = production_environment(DJANGO_ALLOWED_HOSTS="k8s.example.org",
                                 DJANGO_CSRF_TRUSTED_ORIGINS="https://k8s.example.org", DJANGO_HTTPS="1",
                                 DATABASE_URL="postgres://app:secret@db.example.org:5432/app",
                                 REDIS_URL="redis://redis.example.org:6379/0")
    done = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    output = done.stdout + done.stderr
    # Nothing at all: no security warning, and no drf-spectacular schema warning (W001/W002) either.
    assert reported_check_ids(output) == set(), output
    assert done.returncode == 0, output


def test_development_defaults_are_what_check_deploy_warns_about():
    """The control: the same check on `make run`'s settings reports DEBUG, cookies, HSTS, redirect."""
    done = manage(production_environment(DJANGO_DEBUG="1"), "check", "--deploy")
    reported = reported_check_ids(done.stdout + done.stderr)
    assert {"security.W004", "security.W008", "security.W012", "security.W016", "security.W018"} <= reported


def test_production_refuses_to_start_without_a_secret_key():
    env = production_environment()
    del env["DJANGO_SECRET_KEY"]
    done = manage(env, "check")
    assert done.returncode != 0
    assert "DJANGO_DEBUG=0 needs DJANGO_SECRET_KEY" in done.stderr


def test_kill_9_and_restart_on_postgresql_keeps_every_acknowledged_action(production_env: dict, tmp_path: Path):
    server = Daphne(production_env, tmp_path / "daphne.log").start()
    client = Client()
    try:
        code, cluster, _ = client.call(server.url, "POST", "/api/clusters/",
                                       {"scenario": "basic", "seed": 7, "paused": True, "startTime": "scenario"})
        assert code == 201, cluster
        cluster_id, secret = cluster["id"], cluster["server"].rsplit("/k8s/", 1)[1]
        code, clock, _ = client.call(server.url, "POST", f"/api/clusters/{cluster_id}/clock/", {"advance": "20s"})
        assert code == 200, clock
        code, answer, _ = client.call(server.url, "POST", f"/api/clusters/{cluster_id}/actions/",
                                      {"action": "node.fail", "target": "worker-2"})
        assert code == 202, answer
        code, created, _ = client.call(server.url, "POST", f"/k8s/{secret}/api/v1/namespaces/default/configmaps",
                                       CONFIGMAP)
        assert code == 201, created
        code, clock, _ = client.call(server.url, "POST", f"/api/clusters/{cluster_id}/clock/", {"advance": "60s"})
        assert code == 200, clock
        code, before, _ = client.call(server.url, "GET", f"/api/clusters/{cluster_id}/")
        assert code == 200, before
    finally:
        server.kill()

    server.start()
    try:
        code, after, _ = client.call(server.url, "GET", f"/api/clusters/{cluster_id}/")
        assert code == 200, f"{after}\n{server.log_tail()}"
        assert after["now"] == before["now"]
        assert after["clock"] == before["clock"] == {"speed": 1.0, "paused": True}
        assert after["nodes"] == before["nodes"]
        assert [node["status"] for node in after["nodes"] if node["name"] == "worker-2"] == ["NotReady"]
        code, stored, _ = client.call(server.url, "GET", f"/k8s/{secret}/api/v1/namespaces/default/configmaps/survivor")
        assert code == 200, stored
        assert stored["data"] == {"kept": "yes"}
        assert stored["metadata"]["uid"] == created["metadata"]["uid"]
    finally:
        server.kill()


def test_https_behind_a_proxy_pages_and_compressed_static_files(production_env: dict, tmp_path: Path):
    env = dict(production_env, DJANGO_HTTPS="1")
    server = Daphne(env, tmp_path / "daphne.log").start()
    over_https = {"X-Forwarded-Proto": "https"}
    try:
        plain = urllib.request.build_opener(NoRedirect)
        with pytest.raises(urllib.error.HTTPError) as redirected:
            plain.open(server.url + "/", timeout=GUARD_S)
        assert redirected.value.code == 301
        assert redirected.value.headers["Location"] == f"https://127.0.0.1:{server.port}/"

        code, page, headers = Client().call(server.url, "GET", "/", headers=over_https)
        assert code == 200, page
        assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
        assert "Secure" in headers["Set-Cookie"]  # the csrftoken cookie
        stylesheet = re.search(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', page)
        assert stylesheet, "pages link the content-hashed static file names in production"

        request = urllib.request.Request(server.url + stylesheet.group(1),
                                         headers={"Accept-Encoding": "gzip", **over_https})
        with urllib.request.urlopen(request, timeout=GUARD_S) as response:
            assert response.headers["Content-Encoding"] == "gzip"
            assert "immutable" in response.headers["Cache-Control"]
            assert "max-age=315360000" in response.headers["Cache-Control"]
            css = gzip.decompress(response.read()).decode()
        assert css.startswith("/*") or "{" in css
    finally:
        server.kill()


def test_redis_carries_an_instructors_message_to_a_student_on_another_process(production_env: dict,
                                                                              tmp_path: Path):
    """The instructor on process A, the student's websocket on process B: only a channel layer
    shared between processes can bring the banner across."""
    done = manage(dict(production_env, DJANGO_SUPERUSER_PASSWORD="correct horse battery"),
                  "createsuperuser", "--noinput", "--username", "teacher-redis", "--email", "t@example.org")
    assert done.returncode == 0, done.stderr
    instructor_side = Daphne(production_env, tmp_path / "daphne-a.log").start()
    student_side = Daphne(production_env, tmp_path / "daphne-b.log").start()
    socket_to_student = None
    try:
        code, token, _ = Client().call(instructor_side.url, "POST", "/api/auth/token/",
                                       {"username": "teacher-redis", "password": "correct horse battery"})
        assert code == 200, token
        instructor = Client(token=token["token"])
        code, workshop, _ = instructor.call(instructor_side.url, "POST", "/api/workshops/",
                                            {"title": "Two processes", "scenario": "basic"})
        assert code == 201, workshop

        student = Client()
        code, joined, _ = student.call(student_side.url, "POST", f"/api/workshops/{workshop['code']}/join/",
                                       {"name": "Ada"})
        assert code == 201, joined
        socket_to_student = websocket.create_connection(
            f"ws://127.0.0.1:{student_side.port}/ws/workshops/{workshop['id']}/student/",
            cookie=f"sessionid={student.cookie('sessionid')}", origin=student_side.url, timeout=GUARD_S)

        code, answer, _ = instructor.call(instructor_side.url, "POST", f"/api/workshops/{workshop['code']}/status/",
                                          {"status": "open"})
        assert code == 200, answer
        banners = []
        for _message in range(MAX_WEBSOCKET_MESSAGES):
            try:
                banners.append(json.loads(socket_to_student.recv()))
            except websocket.WebSocketTimeoutException:
                raise AssertionError(f"the student's websocket on process B got no status banner (got {banners}): "
                                     "is the channel layer shared between processes (REDIS_URL)?") from None
            if banners[-1].get("kind") == "status":
                break
        assert banners[-1] == {"type": "banner", "kind": "status", "text": "The workshop is open."}, banners
    finally:
        if socket_to_student is not None:
            socket_to_student.close()
        instructor_side.kill()
        student_side.kill()
