"""Who may reach what: another session's cluster id or secret, foreign websocket origins, CSRF on
every state-changing page request, and students at instructor endpoints."""
from __future__ import annotations

import json

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.test import Client
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve, reverse

from web.asgi import application
from workshops import services as workshop_services

from tests.workshops.test_api import LESSON, instructor

from .helpers import JSON, csrf_of, owner_client, session_of

pytestmark = pytest.mark.django_db(transaction=True)
RECEIVE_TIMEOUT_S = 10  # a bound for a broken test, not a performance assertion


# --- another session's cluster -----------------------------------------------------------------

def terminal_url(live) -> str:
    return reverse("terminal-run", kwargs={"cluster_id": live.id})


def test_another_sessions_cluster_id_is_not_found_anywhere_and_leaks_nothing():
    _owner, live = owner_client()
    intruder, _own = owner_client(boot=False)
    for method, path in [("get", f"/api/clusters/{live.id}/"), ("delete", f"/api/clusters/{live.id}/"),
                         ("get", f"/api/clusters/{live.id}/clock/"), ("get", f"/api/clusters/{live.id}/kubeconfig"),
                         ("post", f"/api/clusters/{live.id}/actions/"), ("post", f"/api/clusters/{live.id}/clock/"),
                         ("get", f"/clusters/{live.id}/"), ("post", f"/clusters/{live.id}/action"),
                         ("post", f"/clusters/{live.id}/clock"), ("post", terminal_url(live)),
                         ("get", reverse("terminal-complete", kwargs={"cluster_id": live.id}) + "?line=kubectl+get+")]:
        api_body = {"paused": True} if path.endswith("/clock/") else {"action": "node.fail", "target": "worker-1"}
        body = json.dumps(api_body) if "/api/" in path else \
            {"action": "node.fail", "target": "worker-1", "command": "pause", "line": "kubectl get secrets"}
        kwargs = {"content_type": JSON} if "/api/" in path and method == "post" else {}
        answer = getattr(intruder, method)(path, body, **kwargs) if method == "post" else getattr(intruder, method)(path)
        # (A 404 on a slash-less page path may first redirect to the slashed one: still nothing leaks.)
        assert answer.status_code == 404 or answer.get("Location") == path + "/", (method, path, answer.status_code)
        assert live.secret.encode() not in answer.content and b"worker-1" not in answer.content, (method, path)
    assert all(action.get("action") != "node.fail" for action in live.cluster.recorded_actions)
    assert live.clock.paused is True and live.clock.speed == 1.0
    assert intruder.get("/api/clusters/").json() != [] and all(
        entry["id"] != live.id for entry in intruder.get("/api/clusters/").json())


def test_a_guessed_or_revoked_secret_is_401_with_no_data():
    client, live = owner_client()
    secret = live.secret
    guesses = [secret[:-1] + ("A" if secret[-1] != "A" else "B"), "x" * 32, live.id, "", "..%2f"]
    for guess in guesses:
        answer = Client().get(f"/k8s/{guess}/api/v1/namespaces/default/pods")
        assert answer.status_code in (401, 404), guess
        assert b"web-" not in answer.content
    assert Client().get(f"/k8s/{live.id}/api/v1/pods").json()["reason"] == "Unauthorized"
    # Over https a bearer token may name the cluster by id, but only with its own secret.
    other_client, other = owner_client(boot=False)
    answer = Client().get(f"/k8s/{live.id}/api/v1/pods", secure=True, HTTP_AUTHORIZATION=f"Bearer {other.secret}")
    assert answer.status_code == 401
    # A deleted cluster's secret stops working at once.
    assert client.delete(f"/api/clusters/{live.id}/").status_code == 204
    assert Client().get(f"/k8s/{secret}/api/v1/pods").status_code == 401


async def test_websocket_from_a_foreign_origin_or_without_one_is_refused():
    from asgiref.sync import sync_to_async
    client, live = await sync_to_async(owner_client)(boot=False)
    cookie = f"sessionid={session_of(client)}".encode()
    for origin in [b"http://evil.example", b"http://localhost.evil.example", b"null", None]:
        headers = [(b"host", b"localhost"), (b"cookie", cookie)] + ([(b"origin", origin)] if origin else [])
        communicator = WebsocketCommunicator(application, f"/ws/clusters/{live.id}/", headers=headers)
        connected, _code = await communicator.connect(timeout=RECEIVE_TIMEOUT_S)
        assert not connected, origin
        await communicator.disconnect()
    communicator = WebsocketCommunicator(application, f"/ws/clusters/{live.id}/",
                                         headers=[(b"host", b"localhost"), (b"cookie", cookie),
                                                  (b"origin", b"http://localhost")])
    connected, _code = await communicator.connect(timeout=RECEIVE_TIMEOUT_S)
    assert connected  # the same request from our own origin is accepted: the test above can fail
    await communicator.disconnect()


async def test_websocket_for_another_sessions_cluster_is_closed_with_4403():
    from asgiref.sync import sync_to_async
    _owner, live = await sync_to_async(owner_client)(boot=False)
    intruder, _own = await sync_to_async(owner_client)(boot=False)
    communicator = WebsocketCommunicator(application, f"/ws/clusters/{live.id}/", headers=[
        (b"host", b"localhost"), (b"origin", b"http://localhost"),
        (b"cookie", f"sessionid={session_of(intruder)}".encode())])
    connected, code = await communicator.connect(timeout=RECEIVE_TIMEOUT_S)
    assert not connected and code == 4403


# --- CSRF on every state-changing request ------------------------------------------------------

# Not protected by CSRF on purpose: the Kubernetes API authenticates by the secret in its URL (no
# cookie, nothing for a forged request to ride on), and the token endpoint takes a password.
CSRF_EXEMPT_PREFIXES = ("/k8s/", "/api/auth/token/")


def every_route(resolver: URLResolver = None, prefix: str = "") -> list[str]:
    """Every URL pattern of the site as a path template ("clusters/<str:cluster_id>/action")."""
    resolver = resolver or get_resolver()
    routes = []
    for pattern in resolver.url_patterns:
        text = str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            routes += every_route(pattern, prefix + text)
        elif isinstance(pattern, URLPattern):
            routes.append(prefix + text)
    return routes


def concrete(route: str, values: dict) -> str | None:
    path = "/" + route.lstrip("^").rstrip("$")
    for name, value in values.items():
        for converter in ("str", "int", "slug", ""):
            token = f"<{converter}:{name}>" if converter else f"<{name}>"
            path = path.replace(token, str(value))
    if "<" in path or "(" in path or "\\" in path or path.startswith("/admin/"):
        return None
    for candidate in (path, path.rstrip("/"), path.replace("//", "/")):
        try:
            resolve(candidate)
        except Resolver404:
            continue
        return candidate
    return None


def test_every_state_changing_page_request_needs_the_csrf_token():
    teacher = instructor()
    workshop = workshop_services.create_workshop(user=teacher, title="T", lessons=[LESSON])
    client, live = owner_client(enforce_csrf=True, boot=False)
    client.force_login(teacher)  # signed in and owning a cluster: every page is reachable
    values = {"cluster_id": live.id, "workshop_id": workshop.pk, "code": workshop.code, "slug": LESSON,
              "broadcast_id": 1}
    checked = []
    for route in every_route():
        path = concrete(route, values)
        if path is None or path.startswith(CSRF_EXEMPT_PREFIXES):
            continue
        for method in ("post", "put", "patch", "delete"):
            as_json = {"content_type": JSON} if path.startswith("/api/") else {}
            body = "{}" if as_json else ({} if method == "post" else "")
            answer = getattr(client, method)(path, body, HTTP_ORIGIN="http://testserver", **as_json)
            if answer.status_code in (404, 405):
                continue  # the route takes no such method
            assert answer.status_code == 403, (method, path, answer.status_code)
            assert b"CSRF" in answer.content or path.startswith("/api/"), (method, path)
            checked.append((method, path))
    checked_paths = {path for _method, path in checked}
    for required in [f"/lessons/{LESSON}/check", f"/lessons/{LESSON}/show-me", f"/lessons/{LESSON}/reset",
                     "/sandbox/", terminal_url(live), f"/clusters/{live.id}/action",
                     f"/clusters/{live.id}/clock", f"/workshops/{workshop.pk}/control", "/workshops/",
                     f"/join/{workshop.code}/", "/api/clusters/", f"/api/clusters/{live.id}/clock/",
                     f"/api/workshops/{workshop.code}/broadcast/", "/i18n/setlang/"]:
        assert required in checked_paths, required
    # With the token the same request gets through (the 403s above were the CSRF check, not a rule).
    # (Signing in gave `client` a new session key, so its cluster is another session's now.)
    owner, own = owner_client(enforce_csrf=True, boot=False)
    without = owner.post(f"/clusters/{own.id}/clock", {"command": "play"})
    assert without.status_code == 403 and own.clock.paused
    answer = owner.post(f"/clusters/{own.id}/clock", {"command": "play"}, HTTP_X_CSRFTOKEN=csrf_of(owner))
    assert answer.status_code == 200 and not own.clock.paused


# --- students at instructor endpoints ----------------------------------------------------------

INSTRUCTOR_API = ["/api/workshops/", "/api/workshops/{code}/", "/api/workshops/{code}/broadcast/",
                  "/api/workshops/{code}/broadcasts/1/apply/", "/api/workshops/{code}/roster/",
                  "/api/workshops/{code}/export.csv", "/api/workshops/{code}/status/",
                  "/api/workshops/{code}/revoke/", "/api/workshops/{code}/clock/", "/api/workshops/{code}/step/",
                  "/api/workshops/{code}/reset/"]
INSTRUCTOR_PAGES = ["/workshops/", "/workshops/{id}/", "/workshops/{id}/class/", "/workshops/{id}/control",
                    "/workshops/{id}/export.csv"]


def test_a_student_calling_instructor_endpoints_gets_403_and_changes_nothing():
    workshop = workshop_services.create_workshop(user=instructor(), title="T", lessons=[LESSON])
    student = Client()
    assert student.post(f"/api/workshops/{workshop.code}/join/", json.dumps({"name": "Ada"}),
                        content_type=JSON).status_code == 201
    signed_in_student = Client()
    signed_in_student.force_login(User.objects.create_user("mallory", password="pw"))
    code_before = workshop.code
    for client in (student, signed_in_student):
        for template in INSTRUCTOR_API:
            path = template.format(code=workshop.code)
            token = client.cookies["csrftoken"].value if "csrftoken" in client.cookies else ""
            body = json.dumps({"status": "closed", "paused": True, "action": "node.fail", "target": "worker-1"})
            for answer in (client.get(path), client.post(path, body, content_type=JSON, HTTP_X_CSRFTOKEN=token)):
                method = answer.request["REQUEST_METHOD"].lower()
                if answer.status_code == 405:
                    continue
                assert answer.status_code == 403, (method, path, answer.status_code, answer.content[:200])
                assert b"Ada" not in answer.content
    for template in INSTRUCTOR_PAGES:
        path = template.format(id=workshop.pk)
        assert signed_in_student.get(path).status_code == 403, path
        assert student.get(path).status_code == 302, path  # anonymous: to the sign-in page
    workshop.refresh_from_db()
    assert workshop.code == code_before and workshop.status == "open"
