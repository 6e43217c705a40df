"""Lesson pages: the list, one lesson beside its live cluster, and the steps panel (htmx).

Views stay thin: clusters are created, read and changed through web.services; progress is the
LessonProgress row of (session, lesson). The steps panel and the goal status are fragments with
stable ids, so the same HTML serves a page load, an htmx swap and a websocket push (hx-swap-oob).
"""
from __future__ import annotations

import functools
from typing import Any

import yaml
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from markdown_it import MarkdownIt

from web import limits, services

from . import checks
from .loader import PLACEHOLDER_ETCD, PLACEHOLDER_FIELDS, PLACEHOLDER_POD, Lesson, Step, catalogue, get_lesson
from .models import LessonProgress

CLUSTER_VIEW_TEMPLATE = "web/_cluster_view.html"
STEPS_FRAGMENT_ID = "lesson-steps"
GOAL_STATUS_FRAGMENT_ID = "lesson-goal-status"


# --- helpers ---------------------------------------------------------------------------------

def language_of(code: str | None) -> str:
    return "ko" if (code or "").lower().startswith("ko") else "en"


def current_language() -> str:
    return language_of(translation.get_language())


def session_key_of(request: HttpRequest) -> str:
    if not request.session.session_key:
        request.session.save()
    return request.session.session_key


@functools.lru_cache(maxsize=128)
def render_markdown(slug: str, language: str) -> str:
    lesson = get_lesson(slug)
    # commonmark with raw HTML off: lesson text cannot inject markup.
    renderer = MarkdownIt("commonmark", {"html": False}).enable("table")
    return renderer.render(lesson.text[language])


@functools.lru_cache(maxsize=1)
def cluster_view_available() -> bool:
    try:
        get_template(CLUSTER_VIEW_TEMPLATE)
    except TemplateDoesNotExist:
        return False
    return True


def lesson_or_404(slug: str) -> Lesson:
    lesson = get_lesson(slug)
    if lesson is None:
        raise Http404(f"no lesson {slug!r}")
    return lesson


# --- progress --------------------------------------------------------------------------------

def progress_for(session_key: str, lesson: Lesson) -> LessonProgress:
    progress, _created = LessonProgress.objects.get_or_create(
        session_key=session_key, lesson_slug=lesson.slug, defaults={"current_step": lesson.steps[0].id})
    if lesson.step(progress.current_step) is None:
        # The lesson changed since this row was written: resume at the first step not done.
        progress.current_step = next_step_id(lesson, progress.completed_steps)
        progress.save(update_fields=["current_step", "updated_at"])
    return progress


def next_step_id(lesson: Lesson, completed: list[str]) -> str:
    return next((step_id for step_id in lesson.step_ids() if step_id not in completed), "")


def mark_completed(progress: LessonProgress, lesson: Lesson, step: Step) -> None:
    if step.id not in progress.completed_steps:
        progress.completed_steps = progress.completed_steps + [step.id]
    progress.current_step = next_step_id(lesson, progress.completed_steps)
    if not progress.current_step and progress.completed_at is None:
        progress.completed_at = timezone.now()
    progress.save()


# --- the live cluster ------------------------------------------------------------------------

def scenario_argument(lesson: Lesson) -> str | dict:
    """What services.create_cluster takes: a shipped name, or the lesson's own scenario document."""
    if lesson.scenario_name == "scenario.yaml":
        return yaml.safe_load((lesson.directory / "scenario.yaml").read_text(encoding="utf-8"))
    return lesson.scenario_name


def ensure_live_cluster(session_key: str, lesson: Lesson, progress: LessonProgress, *,
                        address: str | None = None) -> Any:
    """The cluster of this learner and lesson: reused while it lives, rebuilt after a restart.
    A new one counts against the client's ``address`` (limits.ClusterQuotaReached when spent)."""
    if progress.cluster_id:
        try:
            return services.get_cluster(session_key=session_key, cluster_id=progress.cluster_id)
        except services.NotFound:
            pass
    if address is not None:
        limits.charge_cluster_creation(address=address)
    try:
        live = services.create_cluster(session_key=session_key, scenario=scenario_argument(lesson))
    except services.LimitReached:
        free_a_cluster(session_key, keep=lesson.slug)
        live = services.create_cluster(session_key=session_key, scenario=scenario_argument(lesson))
    progress.cluster_id = live.id
    progress.save(update_fields=["cluster_id", "updated_at"])
    return live


def free_a_cluster(session_key: str, keep: str) -> None:
    """Drop the cluster of the lesson this learner touched least recently (its progress stays)."""
    others = LessonProgress.objects.filter(session_key=session_key).exclude(lesson_slug=keep).exclude(cluster_id="")
    for progress in others.order_by("updated_at"):
        try:
            services.delete_cluster(session_key=session_key, cluster_id=progress.cluster_id)
        except services.NotFound:
            continue
        finally:
            LessonProgress.objects.filter(pk=progress.pk).update(cluster_id="")
        return
    raise services.LimitReached("no lesson cluster to free")


def resolve_target(live: Any, target: Any, key: str = "target") -> Any:
    """Placeholders in show-me targets name things that exist only at run time."""
    if not isinstance(target, str):
        return target
    view = checks.ClusterView(live)
    if target in PLACEHOLDER_ETCD:
        leader = view.etcd_leader()
        if target == "$etcd-leader":
            chosen = leader
        elif target == "$etcd-stopped":
            chosen = next((member for member in view.etcd_members() if not member.running), None)
        else:
            chosen = next((member for member in view.etcd_members() if member.running and member is not leader), None)
        if chosen is None:
            return None
        return chosen.node if live.cluster.layout["etcd_mode"] == "stacked" else chosen.name
    if target.startswith(PLACEHOLDER_POD):
        running = [pod for pod in view.pods(target[len(PLACEHOLDER_POD):]) if checks.is_running(pod)]
        if not running:
            return None
        name = running[0]["metadata"]["name"]
        return f"default/{name}" if key == "target" else name
    return target


def perform_show_me(session_key: str, live: Any, step: Step) -> list[str]:
    """Do what the step asks, as the learner's buttons would; returns problems (none when all went)."""
    problems = []
    for document in step.show_me:
        action = dict(document)
        unresolved = False
        for key in PLACEHOLDER_FIELDS:
            if key in action:
                action[key] = resolve_target(live, action[key], key)
                unresolved = unresolved or action[key] is None
        if unresolved:
            problems.append(_("Nothing to act on right now for %(action)s; try again in a moment.") % {"action": document["action"]})
            continue
        try:
            services.apply_action(session_key=session_key, cluster_id=live.id, action=action)
        except services.ServiceError as error:
            problems.append(str(error))
    if step.clock_ms:
        services.set_clock(session_key=session_key, cluster_id=live.id, advance=f"{step.clock_ms}ms")
    return problems


# --- fragments -------------------------------------------------------------------------------

def goal_context(lesson: Lesson, progress: LessonProgress, live: Any, language: str) -> dict:
    step = lesson.step(progress.current_step)
    if step is None:
        return {"step": None, "results": [], "met": False}
    results = checks.run_goal(live, step.goal)
    return {"step": step, "met": all(result.passed for result in results),
            "results": [{"passed": result.passed, "text": result.text(language)} for result in results]}


def steps_context(lesson: Lesson, progress: LessonProgress, live: Any, language: str,
                  message: str = "", message_kind: str = "") -> dict:
    rows = []
    for index, step in enumerate(lesson.steps, start=1):
        state = "done" if step.id in progress.completed_steps else ("current" if step.id == progress.current_step else "todo")
        rows.append({"number": index, "step": step, "state": state, "title": step.title[language],
                     "task": step.task[language], "hints": step.hints[language]})
    done = len([step_id for step_id in progress.completed_steps if lesson.step(step_id)])
    return {"lesson": lesson, "rows": rows, "done": done, "total": len(lesson.steps),
            "percent": round(100 * done / len(lesson.steps)), "finished": not progress.current_step,
            "goal": goal_context(lesson, progress, live, language), "message": message,
            "message_kind": message_kind, "steps_id": STEPS_FRAGMENT_ID, "goal_id": GOAL_STATUS_FRAGMENT_ID}


def render_steps_fragment(request_or_session: Any, lesson_slug: str, live: Any, language: str | None = None) -> str:
    """The goal status of the learner's current step, as an hx-swap-oob fragment for websocket pushes.

    ``request_or_session``: an HttpRequest, a session object (``.session_key``) or a session key.
    The live view's consumer may call this after each batch of events; it never writes anything.
    """
    session_key = getattr(request_or_session, "session_key", None)
    if session_key is None and hasattr(request_or_session, "session"):
        session_key = request_or_session.session.session_key
    if session_key is None and isinstance(request_or_session, str):
        session_key = request_or_session
    lesson = get_lesson(lesson_slug)
    if lesson is None or not session_key:
        return ""
    progress = LessonProgress.objects.filter(session_key=session_key, lesson_slug=lesson_slug).first()
    if progress is None:
        return ""
    language = language_of(language or translation.get_language())
    with translation.override(language):
        context = {"goal": goal_context(lesson, progress, live, language), "goal_id": GOAL_STATUS_FRAGMENT_ID,
                   "lesson": lesson, "oob": True}
        return render_to_string("lessons/_goal_status.html", context)


def steps_response(request: HttpRequest, lesson: Lesson, progress: LessonProgress, live: Any,
                   message: str = "", message_kind: str = "") -> HttpResponse:
    context = steps_context(lesson, progress, live, current_language(), message, message_kind)
    return render(request, "lessons/_steps.html", context)


# --- views -----------------------------------------------------------------------------------

def lesson_list(request: HttpRequest) -> HttpResponse:
    language = current_language()
    session_key = request.session.session_key
    progress_by_slug = {}
    if session_key:
        progress_by_slug = {row.lesson_slug: row for row in LessonProgress.objects.filter(session_key=session_key)}
    cards = []
    for lesson in catalogue():
        progress = progress_by_slug.get(lesson.slug)
        done = len([step_id for step_id in (progress.completed_steps if progress else []) if lesson.step(step_id)])
        cards.append({"lesson": lesson, "title": lesson.title[language], "summary": lesson.summary[language],
                      "topics": lesson.topics, "done": done, "total": len(lesson.steps),
                      "percent": round(100 * done / len(lesson.steps)), "started": progress is not None})
    return render(request, "lessons/list.html", {"cards": cards})


def lesson_page(request: HttpRequest, slug: str) -> HttpResponse:
    lesson = lesson_or_404(slug)
    language = current_language()
    session_key = session_key_of(request)
    progress = progress_for(session_key, lesson)
    try:
        live = ensure_live_cluster(session_key, lesson, progress, address=limits.client_address(request.META))
    except limits.ClusterQuotaReached as error:
        return _quota_refused(request, error)
    lessons = list(catalogue())
    index = lessons.index(lesson)
    context = steps_context(lesson, progress, live, language)
    context.update({
        "title": lesson.title[language], "summary": lesson.summary[language],
        "body_html": render_markdown(lesson.slug, language), "live": live, "cluster_id": live.id,
        "cluster_view": CLUSTER_VIEW_TEMPLATE if cluster_view_available() else "",
        "fallback_nodes": fallback_nodes(live) if not cluster_view_available() else [],
        "previous": lessons[index - 1] if index > 0 else None,
        "next": lessons[index + 1] if index + 1 < len(lessons) else None,
        "language": language,
    })
    return render(request, "lessons/lesson.html", context)


def _post_only(request: HttpRequest) -> HttpResponse | None:
    return None if request.method == "POST" else HttpResponseNotAllowed(["POST"])


def _after_post(request: HttpRequest, lesson: Lesson, progress: LessonProgress, live: Any,
                message: str, kind: str) -> HttpResponse:
    if request.headers.get("HX-Request"):
        return steps_response(request, lesson, progress, live, message, kind)
    return redirect("lessons:lesson", slug=lesson.slug)


def _throttled(request: HttpRequest, lesson: Lesson, progress: LessonProgress | None, live: Any) -> HttpResponse | None:
    """The session's action rate (web/limits.py): the steps panel says so; other clients get 429."""
    wait_s = limits.session_action_wait_s(request.session.session_key)
    if wait_s is None:
        return None
    message = limits.too_many_requests_message(wait_s)
    if request.headers.get("HX-Request") and progress is not None:
        response = steps_response(request, lesson, progress, live, message, "pending")
    else:
        response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = limits.retry_after_header(wait_s)
    return response


def _quota_refused(request: HttpRequest, error: Any) -> HttpResponse:
    """No new lesson cluster for this address now (web/limits.py): a page that says so and when to
    come back; fragments and scripts get the sentence alone."""
    if request.method == "GET" and not request.headers.get("HX-Request"):
        response = render(request, "workshops/refused.html", {"message": str(error)}, status=429)
    else:
        response = HttpResponse(str(error), status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = error.retry_after
    return response


def _current_step_post(request: HttpRequest, slug: str) -> tuple:
    """What Check and Show me share: (early answer or None, lesson, session key, progress, cluster, step)."""
    refused = _post_only(request)
    if refused:
        return refused, None, None, None, None, None
    lesson = lesson_or_404(slug)
    session_key = session_key_of(request)
    progress = progress_for(session_key, lesson)
    try:
        live = ensure_live_cluster(session_key, lesson, progress, address=limits.client_address(request.META))
    except limits.ClusterQuotaReached as error:
        return _quota_refused(request, error), None, None, None, None, None
    throttled = _throttled(request, lesson, progress, live)
    if throttled:
        return throttled, lesson, session_key, progress, live, None
    step = lesson.step(progress.current_step)
    if step is None:
        finished = _after_post(request, lesson, progress, live, _("You finished this lesson."), "done")
        return finished, lesson, session_key, progress, live, None
    return None, lesson, session_key, progress, live, step


def lesson_check(request: HttpRequest, slug: str) -> HttpResponse:
    early, lesson, _session_key, progress, live, step = _current_step_post(request, slug)
    if early is not None:
        return early
    results = checks.run_goal(live, step.goal)
    if all(result.passed for result in results):
        mark_completed(progress, lesson, step)
        message = _("Step done: %(title)s") % {"title": step.title[current_language()]}
        return _after_post(request, lesson, progress, live, message, "done")
    return _after_post(request, lesson, progress, live, _("Not yet. Look at the goal below and try again."), "pending")


def lesson_show_me(request: HttpRequest, slug: str) -> HttpResponse:
    early, lesson, session_key, progress, live, step = _current_step_post(request, slug)
    if early is not None:
        return early
    problems = perform_show_me(session_key, live, step)
    if problems:
        return _after_post(request, lesson, progress, live, " ".join(problems), "pending")
    if step.show_me or step.clock_ms:
        message = _("Done. Watch the cluster, then press Check.")
    else:
        message = _("Nothing to do for this step but watch: press Check when the goal is met.")
    return _after_post(request, lesson, progress, live, message, "info")


def lesson_goal_status(request: HttpRequest, slug: str) -> HttpResponse:
    """The current goal's live status (polled by the page while no websocket pushes it)."""
    lesson = lesson_or_404(slug)
    session_key = session_key_of(request)
    progress = progress_for(session_key, lesson)
    try:
        live = ensure_live_cluster(session_key, lesson, progress, address=limits.client_address(request.META))
    except limits.ClusterQuotaReached as error:
        return _quota_refused(request, error)
    context = {"goal": goal_context(lesson, progress, live, current_language()), "goal_id": GOAL_STATUS_FRAGMENT_ID,
               "lesson": lesson, "oob": False}
    return render(request, "lessons/_goal_status.html", context)


def lesson_reset(request: HttpRequest, slug: str) -> HttpResponse:
    refused = _post_only(request)
    if refused:
        return refused
    lesson = lesson_or_404(slug)
    session_key = session_key_of(request)
    throttled = _throttled(request, lesson, None, None)
    if throttled:
        return throttled
    progress = LessonProgress.objects.filter(session_key=session_key, lesson_slug=lesson.slug).first()
    if progress is not None:
        if progress.cluster_id:
            try:
                services.delete_cluster(session_key=session_key, cluster_id=progress.cluster_id)
            except services.NotFound:
                pass
        progress.delete()
    return redirect("lessons:lesson", slug=lesson.slug)


def fallback_nodes(live: Any) -> list[dict]:
    """A plain list of nodes and their pods, shown until the graphical cluster view exists."""
    view = checks.ClusterView(live)
    pods_by_node: dict = {}
    for pod in view.objects("pods"):
        node = checks.node_name_of(pod)
        if node and pod["metadata"].get("namespace") != "kube-system":
            pods_by_node.setdefault(node, []).append(pod)
    rows = []
    for node in sorted(view.objects("nodes"), key=lambda node: node["metadata"]["name"]):
        name = node["metadata"]["name"]
        rows.append({"name": name, "ready": checks._ready_status(node) == "True",
                     "pods": [{"name": pod["metadata"]["name"], "phase": (pod.get("status") or {}).get("phase", "Pending")}
                              for pod in sorted(pods_by_node.get(name, []), key=lambda pod: pod["metadata"]["name"])]})
    return rows
