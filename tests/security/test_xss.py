"""Markup in anything a user can name (annotations, event messages, image names, student names,
workshop titles, answers) is escaped wherever it is shown: pages, htmx and websocket fragments,
the cluster picture, the narrated log, the terminal."""
from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from web.views_cluster import render_state_fragments, view_state
from workshops import services as workshop_services
from workshops.views import render_counts, render_tile, tiles_context

from tests.workshops.test_api import LESSON, instructor

from .helpers import JSON, owner_client

pytestmark = pytest.mark.django_db(transaction=True)

PAYLOADS = ['<script>alert("x")</script>', '"><svg onload=alert(1)>', "<img src=x onerror=alert(2)>",
            "'><iframe srcdoc=x>"]
MARKUP = " ".join(PAYLOADS)


def assert_escaped(html: str, where: str) -> None:
    for payload in PAYLOADS:
        assert payload not in html, f"{where} shows {payload!r} unescaped"
    for tag in ("<script>alert", "<svg onload", "<img src=x", "<iframe srcdoc"):
        assert tag not in html, f"{where} contains {tag!r}"


def hostile_cluster():
    """A booted cluster whose objects carry markup wherever the API lets a user write free text."""
    client, live = owner_client()
    base = f"/k8s/{live.secret}"
    patch = {"metadata": {"annotations": {"note": MARKUP, "kubernetes.io/change-cause": MARKUP}}}
    answer = client.patch(f"{base}/apis/apps/v1/namespaces/default/deployments/web", json.dumps(patch),
                          content_type="application/merge-patch+json")
    assert answer.status_code == 200, answer.content
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "hostile", "annotations": {"note": MARKUP}, "labels": {"app": "hostile"}},
           "spec": {"containers": [{"name": "c", "image": 'nginx"><img src=x onerror=alert(2)>'}]}}
    answer = client.post(f"{base}/api/v1/namespaces/default/pods", json.dumps(pod), content_type=JSON)
    assert answer.status_code == 201, answer.content
    event = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "hostile.1", "namespace": "default"},
             "involvedObject": {"kind": "Pod", "name": "hostile", "namespace": "default"},
             "reason": "Hostile", "message": MARKUP, "type": "Warning"}
    answer = client.post(f"{base}/api/v1/namespaces/default/events", json.dumps(event), content_type=JSON)
    assert answer.status_code == 201, answer.content
    live.advance_by(10_000)  # the pod is scheduled, its image pull fails or runs: events to narrate
    return client, live


def test_cluster_page_fragments_log_and_picture_escape_user_text():
    client, live = hostile_cluster()
    view_state(live)
    page = client.get(f"/clusters/{live.id}/").content.decode()
    assert_escaped(page, "cluster page")
    assert "hostile" in page  # the pod is shown: the page is about these objects
    for language in ("en", "ko"):
        for name, fragment in render_state_fragments(live, language=language).items():
            assert_escaped(fragment, f"fragment {name} ({language})")
    pushed = client.post(f"/clusters/{live.id}/clock", {"command": "step", "seconds": "10"}).content.decode()
    assert_escaped(pushed, "clock control answer")


def test_terminal_output_escapes_annotations_events_and_images():
    client, live = hostile_cluster()
    url = reverse("terminal-run", kwargs={"cluster_id": live.id})
    shown = []
    for line in ["kubectl describe pod hostile", "kubectl get events", "kubectl describe deployment web",
                 "kubectl get pod hostile -o yaml", "kubectl get pods -o wide",
                 "kubectl annotate pod hostile other='<script>alert(\"x\")</script>'"]:
        html = client.post(url, {"line": line}).content.decode()
        assert_escaped(html, f"terminal: {line}")
        shown.append(html)
    assert any("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html for html in shown)


def test_lesson_page_escapes_what_the_learner_wrote_into_their_cluster():
    client = Client()
    assert client.get(f"/lessons/{LESSON}/").status_code == 200
    live = next(iter(__import__("web.runtime", fromlist=["registry"]).registry.owned_by(
        client.cookies["sessionid"].value)))
    live.advance_by(20_000)
    answer = client.post(f"/k8s/{live.secret}/api/v1/namespaces/default/configmaps",
                         json.dumps({"metadata": {"name": "c", "annotations": {"a": MARKUP}}, "data": {"a": MARKUP}}),
                         content_type=JSON)
    assert answer.status_code == 201
    live.advance_by(1_000)
    assert_escaped(client.get(f"/lessons/{LESSON}/").content.decode(), "lesson page")
    assert_escaped(client.get(f"/lessons/{LESSON}/goal").content.decode(), "goal fragment")


def test_student_names_answers_and_titles_are_escaped_in_every_workshop_view():
    teacher_user = instructor()
    workshop = workshop_services.create_workshop(user=teacher_user, title=MARKUP, lessons=[LESSON])
    student = Client()
    joined = student.post(f"/api/workshops/{workshop.code}/join/", json.dumps({"name": MARKUP[:60]}),
                          content_type=JSON)
    assert joined.status_code == 201, joined.content
    record = workshop_services.broadcast(user=teacher_user, code=workshop.code,
                                         action={"action": "node.fail", "target": "worker-1"},
                                         question=MARKUP, ask_first=True)
    student.post(f"/api/workshops/{workshop.code}/broadcasts/{record.pk}/answer/",
                 json.dumps({"answer": MARKUP}), content_type=JSON,
                 HTTP_X_CSRFTOKEN=student.cookies["csrftoken"].value)
    teacher = Client()
    teacher.force_login(teacher_user)
    for path in ["/workshops/", f"/workshops/{workshop.pk}/", f"/workshops/{workshop.pk}/class/"]:
        assert_escaped(teacher.get(path).content.decode(), path)
    context = tiles_context(workshop, "en")
    for tile in context["tiles"]:
        assert_escaped(render_tile(tile, oob=True), "class tile")
    assert_escaped(render_counts(context, oob=True), "class counts")
    learn = student.get(f"/workshops/{workshop.pk}/learn/").content.decode()
    assert_escaped(learn, "student lesson with the workshop bar")
    assert_escaped(student.get(f"/join/{workshop.code}/").content.decode(), "join page")
