"""The lesson pages through Django's test client: both languages, Check / Show me, and progress
kept server-side across requests, reloads and a lost cluster (a server restart)."""
import re

import pytest

from lessons.loader import catalogue
from lessons.models import LessonProgress
from lessons.views import render_steps_fragment
from web.runtime import registry

pytestmark = pytest.mark.django_db


def htmx_post(client, url, language="en"):
    return client.post(url, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE=language)


def test_lesson_list_in_english_and_korean(client):
    english = client.get("/lessons/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    korean = client.get("/lessons/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    for lesson in catalogue():
        assert lesson.title["en"] in english.replace("&#x27;", "'")
        assert lesson.title["ko"] in korean
        assert f'href="/lessons/{lesson.slug}/"' in english
    assert "<h1 id=\"lessons-title\">Lessons</h1>" in english
    assert "<h1 id=\"lessons-title\">강의</h1>" in korean


@pytest.mark.parametrize("language, heading, button", [("en", "Why orchestration", "Show me"),
                                                        ("ko", "왜 오케스트레이션인가", "보여 주기")])
def test_lesson_page_in_both_languages(client, language, heading, button):
    page = client.get("/lessons/why-orchestration/", HTTP_ACCEPT_LANGUAGE=language)
    assert page.status_code == 200
    html = page.content.decode()
    assert f"<h1>{heading}</h1>" in html
    assert button in html
    assert 'id="lesson-steps"' in html and 'id="lesson-goal-status"' in html
    # Markdown rendered, raw HTML never passed through.
    assert "<h2>" in html
    assert re.search(r'data-cluster-id="[0-9a-f]{16}"', html)


def test_every_lesson_page_renders(client):
    for lesson in catalogue():
        response = client.get(f"/lessons/{lesson.slug}/", HTTP_ACCEPT_LANGUAGE="ko")
        assert response.status_code == 200, lesson.slug


def test_unknown_lesson_is_404(client):
    assert client.get("/lessons/no-such-lesson/").status_code == 404


def test_show_me_then_check_completes_a_step_and_progress_survives_reload_and_restart(client):
    client.get("/lessons/why-orchestration/")
    progress = LessonProgress.objects.get(lesson_slug="why-orchestration")
    assert progress.current_step == "watch-start" and progress.completed_steps == []
    first_cluster = progress.cluster_id

    not_yet = htmx_post(client, "/lessons/why-orchestration/check").content.decode()
    assert "Not yet" in not_yet
    shown = htmx_post(client, "/lessons/why-orchestration/show-me").content.decode()
    assert 'id="lesson-steps"' in shown  # the fragment alone, for hx-swap
    assert "<html" not in shown
    done = htmx_post(client, "/lessons/why-orchestration/check").content.decode()
    assert "Step done: Watch three replicas land on three nodes" in done

    progress.refresh_from_db()
    assert progress.completed_steps == ["watch-start"] and progress.current_step == "scale-up"

    reloaded = client.get("/lessons/why-orchestration/").content.decode()
    assert "1 of 3 steps done" in reloaded
    assert 'data-step="scale-up" aria-current="step"' in reloaded
    assert LessonProgress.objects.get(pk=progress.pk).cluster_id == first_cluster  # same cluster reused

    registry.delete(first_cluster)  # what a server restart does to in-memory clusters
    after_restart = client.get("/lessons/why-orchestration/").content.decode()
    assert "1 of 3 steps done" in after_restart
    assert LessonProgress.objects.get(pk=progress.pk).cluster_id != first_cluster
    listing = client.get("/lessons/").content.decode()
    assert "1 of 3 steps" in listing


def test_progress_is_per_learner(client, django_user_model):
    from django.test import Client
    client.get("/lessons/why-orchestration/")
    htmx_post(client, "/lessons/why-orchestration/show-me")
    htmx_post(client, "/lessons/why-orchestration/check")
    other = Client()
    page = other.get("/lessons/why-orchestration/").content.decode()
    assert "0 of 3 steps done" in page
    assert LessonProgress.objects.filter(lesson_slug="why-orchestration").count() == 2


def test_check_without_htmx_redirects_to_the_page(client):
    client.get("/lessons/why-orchestration/")
    response = client.post("/lessons/why-orchestration/check")
    assert response.status_code == 302 and response["Location"] == "/lessons/why-orchestration/"
    assert client.get("/lessons/why-orchestration/check").status_code == 405


def test_reset_forgets_progress_and_the_cluster(client):
    client.get("/lessons/why-orchestration/")
    htmx_post(client, "/lessons/why-orchestration/show-me")
    htmx_post(client, "/lessons/why-orchestration/check")
    cluster_id = LessonProgress.objects.get(lesson_slug="why-orchestration").cluster_id
    client.post("/lessons/why-orchestration/reset")
    assert registry.get(cluster_id) is None
    assert "0 of 3 steps done" in client.get("/lessons/why-orchestration/").content.decode()


def test_many_lessons_do_not_hit_the_per_session_cluster_limit(client):
    for lesson in list(catalogue())[:8]:
        assert client.get(f"/lessons/{lesson.slug}/").status_code == 200
    session_key = client.session.session_key
    assert len(registry.owned_by(session_key)) <= 5
    assert LessonProgress.objects.filter(session_key=session_key).count() == 8


def test_render_steps_fragment_for_websocket_pushes(client):
    client.get("/lessons/why-orchestration/")
    session_key = client.session.session_key
    live = registry.get(LessonProgress.objects.get(session_key=session_key).cluster_id)
    live.pause()
    live.advance_by(20_000)
    english = render_steps_fragment(session_key, "why-orchestration", live, language="en")
    korean = render_steps_fragment(session_key, "why-orchestration", live, language="ko")
    assert english.startswith('<div id="lesson-goal-status"') and 'hx-swap-oob="true"' in english
    assert "met — press Check" in english
    assert "달성 — 확인을 누르세요" in korean
    assert render_steps_fragment("unknown-session", "why-orchestration", live) == ""
