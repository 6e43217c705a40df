"""Workshop service functions: the only place that decides who may do what to a room of clusters.

Views, the API and consumers call these with keyword-only arguments. Students' clusters are owned
by the students' sessions (web.services checks that on every call), so the instructor acts on them
by naming the owner's session: only functions here, after checking the instructor, do that.
Failures are web.services.ServiceError subclasses; each interface maps them once.
"""
from __future__ import annotations

import csv
import io
import secrets
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cluster_sim.scenario import list_shipped
from lessons import checks
from lessons.loader import get_lesson
from lessons.models import LessonProgress
from web import limits, services
from web.runtime import LiveCluster, registry

from .models import CODE_ALPHABET, CODE_LENGTH, Answer, Broadcast, RevokedCode, Student, Workshop

MAX_STUDENTS = 300
MAX_NAME_CHARS = 60
CODE_ATTEMPTS = 50


class Forbidden(services.ServiceError):
    code = "forbidden"


class Gone(services.ServiceError):
    """A revoked join code."""

    code = "revoked"


class Closed(services.ServiceError):
    """The workshop is closed (read-only) or not open yet."""

    code = "closed"


# --- who is who ---------------------------------------------------------------------------------

def is_instructor(user: Any) -> bool:
    """Superusers and members of the "instructors" group (permission workshops.run_workshop)."""
    return bool(user and user.is_authenticated and (user.is_superuser or user.has_perm("workshops.run_workshop")))


def _require_instructor(user: Any) -> None:
    if not is_instructor(user):
        raise Forbidden(_("only instructors may run workshops; ask an administrator to add you to the "
                          "\"instructors\" group"))


def workshop_for_instructor(*, user: Any, code: str) -> Workshop:
    """The workshop with this (current) code, when ``user`` is its instructor."""
    workshop = find_workshop(code=code)
    if workshop.instructor_id != getattr(user, "id", None):
        raise Forbidden(_("only the instructor of workshop %(code)s may do this") % {"code": workshop.code})
    return workshop


def workshop_by_id_for_instructor(*, user: Any, workshop_id: int) -> Workshop:
    workshop = Workshop.objects.filter(pk=workshop_id).first()
    if workshop is None:
        raise services.NotFound(f"workshop {workshop_id} not found")
    if workshop.instructor_id != getattr(user, "id", None):
        raise Forbidden(_("only the instructor of workshop %(code)s may do this") % {"code": workshop.code})
    return workshop


def find_workshop(*, code: str) -> Workshop:
    """By join code: the open or scheduled one, else the latest closed one; revoked codes say so."""
    code = normalise_code(code)
    workshop = Workshop.objects.filter(code=code).exclude(status=Workshop.CLOSED).first() \
        or Workshop.objects.filter(code=code).order_by("-created_at").first()
    if workshop is not None:
        return workshop
    if RevokedCode.objects.filter(code=code).exists():
        raise Gone(_("the join code %(code)s was revoked by the instructor; ask for the new code") % {"code": code})
    raise services.NotFound(_("no workshop has the join code %(code)s") % {"code": repr(code)})


def normalise_code(code: Any) -> str:
    """Codes are typed by hand: case and spaces do not matter, and O/I read as 0/1 never occur."""
    return "".join(str(code or "").split()).upper()[:20]


def _new_code() -> str:
    for _attempt in range(CODE_ATTEMPTS):
        code = "".join(secrets.choice(CODE_ALPHABET) for _position in range(CODE_LENGTH))
        taken = Workshop.objects.filter(code=code).exclude(status=Workshop.CLOSED).exists() \
            or RevokedCode.objects.filter(code=code).exists()
        if not taken:
            return code
    raise services.LimitReached("could not find a free join code; try again")


# --- instructors: creating and opening workshops ------------------------------------------------

def create_workshop(*, user: Any, title: str, lessons: list[str] | None = None, scenario: str = "",
                    status: str = Workshop.OPEN, starts_at: Any = None, ends_at: Any = None) -> Workshop:
    _require_instructor(user)
    lessons = list(lessons or [])
    title = (title or "").strip()
    if not title:
        raise services.InvalidInput("title: Required value", path="title")
    unknown = [slug for slug in lessons if get_lesson(slug) is None]
    if unknown:
        raise services.InvalidInput(f"lessons: Not found: {', '.join(unknown)}", path="lessons")
    if not lessons and scenario not in list_shipped():
        raise services.InvalidInput("Required value: one or more lessons, or a shipped scenario "
                                    f"({', '.join(list_shipped())})", path="lessons")
    if status not in (Workshop.SCHEDULED, Workshop.OPEN):
        raise services.InvalidInput(f"status: Unsupported value: {status!r}: scheduled or open", path="status")
    for _attempt in range(CODE_ATTEMPTS):
        try:
            with transaction.atomic():
                return Workshop.objects.create(instructor=user, title=title[:200], lessons=lessons,
                                               scenario=scenario if not lessons else "", code=_new_code(),
                                               status=status, starts_at=starts_at, ends_at=ends_at)
        except IntegrityError:  # two workshops drew the same code at once
            continue
    raise services.LimitReached("could not find a free join code; try again")


def set_status(*, user: Any, code: str, status: str) -> Workshop:
    """Open or close. Closing pauses every student's clock: a closed workshop is read-only."""
    workshop = workshop_for_instructor(user=user, code=code)
    if status not in (Workshop.OPEN, Workshop.CLOSED, Workshop.SCHEDULED):
        raise services.InvalidInput(f"status: Unsupported value: {status!r}", path="status")
    if status != Workshop.CLOSED and workshop.is_closed and \
            Workshop.objects.filter(code=workshop.code).exclude(status=Workshop.CLOSED).exists():
        workshop.code = _new_code()  # its code went to another workshop meanwhile
    workshop.status = status
    if status == Workshop.CLOSED:
        workshop.ends_at = timezone.now()
        _each_student_clock(workshop, paused=True)
        workshop.clocks_paused = True
    elif status == Workshop.OPEN and workshop.starts_at is None:
        workshop.starts_at = timezone.now()
    workshop.save()
    notify(workshop, "status", status=status)
    return workshop


def revoke_code(*, user: Any, code: str) -> Workshop:
    """A new join code; the old one then answers "revoked". Students already in stay in."""
    workshop = workshop_for_instructor(user=user, code=code)
    RevokedCode.objects.create(workshop=workshop, code=workshop.code)
    workshop.code = _new_code()
    workshop.save(update_fields=["code"])
    notify(workshop, "code")
    return workshop


def workshop_summary(*, workshop: Workshop, base_url: str = "") -> dict:
    from django.urls import reverse
    return {
        "id": workshop.pk, "code": workshop.code, "title": workshop.title, "lessons": workshop.lessons,
        "scenario": workshop.scenario, "status": workshop.status, "clocksPaused": workshop.clocks_paused,
        "startsAt": workshop.starts_at.isoformat() if workshop.starts_at else None,
        "endsAt": workshop.ends_at.isoformat() if workshop.ends_at else None,
        "joinUrl": base_url.rstrip("/") + reverse("workshops:join-code", kwargs={"code": workshop.code}),
        "students": workshop.students.count(),
    }


# --- students ----------------------------------------------------------------------------------

def _check_joinable(workshop: Workshop) -> None:
    if workshop.status == Workshop.CLOSED:
        raise Closed(_("workshop %(code)s is closed: it no longer takes students") % {"code": workshop.code})
    if workshop.status == Workshop.SCHEDULED:
        if workshop.starts_at:
            raise Closed(_("workshop %(code)s is not open yet (it starts %(time)s UTC); the instructor opens it")
                         % {"code": workshop.code, "time": f"{workshop.starts_at:%Y-%m-%d %H:%M}"})
        raise Closed(_("workshop %(code)s is not open yet; the instructor opens it") % {"code": workshop.code})


def join(*, code: str, session_key: str, name: str, address: str | None = None) -> Student:
    """Join (or rejoin from the same session: the same student and cluster). A new cluster counts
    against the client's ``address`` (web/limits.py: ClusterQuotaReached, nothing joined)."""
    workshop = find_workshop(code=code)
    existing = Student.objects.filter(workshop=workshop, session_key=session_key).first() if session_key else None
    if existing is not None:
        ensure_student_cluster(student=existing, address=address)
        return existing
    _check_joinable(workshop)
    name = " ".join(str(name or "").split())[:MAX_NAME_CHARS]
    if not name:
        raise services.InvalidInput(_("name: Required value: the name the instructor sees"), path="name")
    if not session_key:
        raise services.InvalidInput("a session is needed to join")
    if workshop.students.count() >= MAX_STUDENTS:
        raise services.LimitReached(_("workshop %(code)s is full (%(count)d students)")
                                    % {"code": workshop.code, "count": MAX_STUDENTS})
    if address is not None:  # before the student exists: a refused join leaves nothing behind
        limits.charge_cluster_creation(address=address)
    try:
        with transaction.atomic():
            student = Student.objects.create(workshop=workshop, name=name, session_key=session_key,
                                             lesson_slug=workshop.lessons[0] if workshop.lessons else "")
    except IntegrityError:  # the same session joined twice at once
        student = Student.objects.get(workshop=workshop, session_key=session_key)
    ensure_student_cluster(student=student)  # charged above
    notify(workshop, "joined", student=student.pk)
    return student


def student_for_session(*, workshop: Workshop, session_key: str | None) -> Student | None:
    if not session_key:
        return None
    return Student.objects.filter(workshop=workshop, session_key=session_key).first()


def _scenario_argument(workshop: Workshop, lesson_slug: str) -> str | dict:
    from lessons.views import scenario_argument
    lesson = get_lesson(lesson_slug) if lesson_slug else None
    return scenario_argument(lesson) if lesson is not None else workshop.scenario


def ensure_student_cluster(*, student: Student, fresh: bool = False, address: str | None = None) -> LiveCluster:
    """The student's live cluster: reused while it lives, built (paused like the class) otherwise.

    For a lesson, the LessonProgress row points at it too, so the lesson page shows this cluster.
    A cluster built at the student's own request counts against their ``address`` (web/limits.py);
    the instructor's resets do not.
    """
    live = registry.get(student.cluster_id) if student.cluster_id and not fresh else None
    if live is not None and live.owner_session == student.session_key:
        return live
    if address is not None:
        limits.charge_cluster_creation(address=address)
    if fresh and student.cluster_id:
        try:
            services.delete_cluster(session_key=student.session_key, cluster_id=student.cluster_id)
        except services.NotFound:
            pass
    workshop = student.workshop
    scenario = _scenario_argument(workshop, student.lesson_slug)
    try:
        live = services.create_cluster(session_key=student.session_key, scenario=scenario,
                                       paused=workshop.clocks_paused)
    except services.LimitReached:
        _free_a_cluster(student)
        live = services.create_cluster(session_key=student.session_key, scenario=scenario,
                                       paused=workshop.clocks_paused)
    student.cluster_id = live.id
    student.save(update_fields=["cluster_id"])
    if student.lesson_slug:
        lesson = get_lesson(student.lesson_slug)
        progress, _created = LessonProgress.objects.get_or_create(
            session_key=student.session_key, lesson_slug=lesson.slug, defaults={"current_step": lesson.steps[0].id})
        progress.cluster_id = live.id
        progress.save(update_fields=["cluster_id", "updated_at"])
    return live


def _free_a_cluster(student: Student) -> None:
    """The session's oldest other cluster goes: the workshop's cluster matters now."""
    for live in registry.owned_by(student.session_key)[:1]:
        registry.delete(live.id)


def record_action(*, student: Student, text: str) -> None:
    Student.objects.filter(pk=student.pk).update(last_action=text[:200], last_action_at=timezone.now())


# --- conducting the class -----------------------------------------------------------------------

def _require_open(workshop: Workshop) -> None:
    if workshop.is_closed:
        raise Closed(_("workshop %(code)s is closed: it is read-only now") % {"code": workshop.code})


def _student_clusters(workshop: Workshop) -> list[tuple[Student, LiveCluster | None]]:
    return [(student, registry.get(student.cluster_id) if student.cluster_id else None)
            for student in workshop.students.all()]


def action_text(action: dict) -> str:
    return " ".join(str(action[key]) for key in ("action", "target", "replicas", "image", "name") if action.get(key))


def broadcast(*, user: Any, code: str, action: dict, question: str = "", ask_first: bool = False) -> Broadcast:
    """The action, checked against every student's cluster first (a bad one changes nothing), then
    applied to each at its own present. With ``ask_first`` the question is shown and the action
    waits for apply_broadcast."""
    workshop = workshop_for_instructor(user=user, code=code)
    _require_open(workshop)
    pairs = _student_clusters(workshop)
    for _student, live in pairs:
        if live is not None:
            services.check_action(live=live, action=action)
    question = (question or "").strip()[:300]
    record = Broadcast.objects.create(workshop=workshop, action=action, issued_by=user, question=question)
    if ask_first and question:
        notify(workshop, "question", broadcast=record.pk, question=question)
        return record
    return _apply(record, pairs)


def apply_broadcast(*, user: Any, code: str, broadcast_id: int) -> Broadcast:
    workshop = workshop_for_instructor(user=user, code=code)
    _require_open(workshop)
    record = Broadcast.objects.filter(workshop=workshop, pk=broadcast_id).first()
    if record is None:
        raise services.NotFound(f"broadcast {broadcast_id} not found")
    if record.applied_at is not None:
        raise services.InvalidInput(_("broadcast %(id)s was already applied") % {"id": broadcast_id})
    return _apply(record, _student_clusters(workshop))


def _apply(record: Broadcast, pairs: list) -> Broadcast:
    results = {}
    for student, live in pairs:
        try:
            if live is None:
                raise services.NotFound("the student's cluster is gone")
            services.apply_action(session_key=student.session_key, cluster_id=live.id, action=record.action)
            results[str(student.pk)] = {"ok": True, "atMs": live.now_ms}
        except services.ServiceError as error:
            results[str(student.pk)] = {"ok": False, "error": str(error)}
    record.results = results
    record.applied_at = timezone.now()
    record.save(update_fields=["results", "applied_at"])
    notify(record.workshop, "broadcast", broadcast=record.pk, action=action_text(record.action))
    return record


def answer(*, code: str, session_key: str | None, broadcast_id: int, text: str) -> Answer:
    workshop = find_workshop(code=code)
    student = student_for_session(workshop=workshop, session_key=session_key)
    if student is None:
        raise Forbidden(_("only students of this workshop may answer"))
    record = Broadcast.objects.filter(workshop=workshop, pk=broadcast_id).first()
    if record is None or not record.question:
        raise services.NotFound(f"question {broadcast_id} not found")
    text = " ".join(str(text or "").split())[:500]
    if not text:
        raise services.InvalidInput("answer: Required value", path="answer")
    saved, _created = Answer.objects.update_or_create(broadcast=record, student=student, defaults={"text": text})
    notify(workshop, "answer", broadcast=record.pk)
    return saved


def _each_student_clock(workshop: Workshop, *, paused: bool) -> int:
    changed = 0
    for student, live in _student_clusters(workshop):
        if live is None:
            continue
        services.set_clock(session_key=student.session_key, cluster_id=live.id, paused=paused)
        changed += 1
    return changed


def set_clocks(*, user: Any, code: str, paused: bool) -> Workshop:
    workshop = workshop_for_instructor(user=user, code=code)
    _require_open(workshop)
    _each_student_clock(workshop, paused=paused)
    workshop.clocks_paused = paused
    workshop.save(update_fields=["clocks_paused"])
    notify(workshop, "paused" if paused else "resumed")
    return workshop


def move_to_step(*, user: Any, code: str, step: str, lesson: str = "") -> Workshop:
    """Everyone's current step (in the workshop's lesson, or ``lesson`` when given)."""
    workshop = workshop_for_instructor(user=user, code=code)
    _require_open(workshop)
    slug = lesson or (workshop.lessons[0] if workshop.lessons else "")
    target = get_lesson(slug) if slug in workshop.lessons else None
    if target is None or target.step(step) is None:
        raise services.InvalidInput(_("step: Not found: %(step)s in the workshop's lesson %(lesson)s")
                                    % {"step": repr(step), "lesson": repr(slug)}, path="step")
    for student in workshop.students.all():
        if student.lesson_slug != slug:
            student.lesson_slug = slug
            student.save(update_fields=["lesson_slug"])
            ensure_student_cluster(student=student, fresh=True)
        progress, _created = LessonProgress.objects.get_or_create(
            session_key=student.session_key, lesson_slug=slug, defaults={"cluster_id": student.cluster_id})
        progress.current_step = step
        progress.save(update_fields=["current_step", "updated_at"])
    notify(workshop, "moved", step=target.step(step).title, lesson=slug)
    return workshop


def reset_clusters(*, user: Any, code: str) -> Workshop:
    workshop = workshop_for_instructor(user=user, code=code)
    _require_open(workshop)
    for student in workshop.students.all():
        ensure_student_cluster(student=student, fresh=True)
    notify(workshop, "reset")
    return workshop


def start_presenter(*, user: Any, code: str, session_key: str) -> LiveCluster:
    """The instructor's own demo cluster (in their session), which students may watch read-only."""
    workshop = workshop_for_instructor(user=user, code=code)
    live = registry.get(workshop.presenter_cluster_id) if workshop.presenter_cluster_id else None
    if live is not None and live.owner_session == session_key:
        return live
    scenario = _scenario_argument(workshop, workshop.lessons[0] if workshop.lessons else "")
    live = services.create_cluster(session_key=session_key, scenario=scenario)
    workshop.presenter_cluster_id = live.id
    workshop.save(update_fields=["presenter_cluster_id"])
    notify(workshop, "presenter", cluster=live.id)
    return live


# --- reading the class ------------------------------------------------------------------------

def roster(*, user: Any, code: str) -> list[dict]:
    workshop = workshop_for_instructor(user=user, code=code)
    return [student_row(student=student, progress=progress) for student, progress in _with_progress(workshop)]


def _with_progress(workshop: Workshop) -> list[tuple[Student, LessonProgress | None]]:
    students = list(workshop.students.all())
    rows = LessonProgress.objects.filter(session_key__in=[student.session_key for student in students],
                                         lesson_slug__in=workshop.lessons or ["-"])
    by_key = {(row.session_key, row.lesson_slug): row for row in rows}
    return [(student, by_key.get((student.session_key, student.lesson_slug))) for student in students]


def student_row(*, student: Student, progress: LessonProgress | None) -> dict:
    lesson = get_lesson(student.lesson_slug) if student.lesson_slug else None
    done = [step for step in (progress.completed_steps if progress else []) if lesson and lesson.step(step)]
    return {
        "id": student.pk, "name": student.name, "clusterId": student.cluster_id, "lesson": student.lesson_slug,
        "currentStep": progress.current_step if progress else "", "stepsDone": done,
        "joinedAt": student.joined_at.isoformat(),
        "completedAt": progress.completed_at.isoformat() if progress and progress.completed_at else None,
        "lastAction": student.last_action,
        "lastActionAt": student.last_action_at.isoformat() if student.last_action_at else None,
    }


def export_csv(*, user: Any, code: str) -> str:
    rows = roster(user=user, code=code)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["student", "lesson", "steps_done", "steps", "current_step", "joined_at", "completed_at",
                     "last_action", "last_action_at"])
    for row in rows:
        writer.writerow([spreadsheet_safe(cell) for cell in (
            row["name"], row["lesson"], len(row["stepsDone"]), " ".join(row["stepsDone"]), row["currentStep"],
            row["joinedAt"], row["completedAt"] or "", row["lastAction"], row["lastActionAt"] or "")])
    return out.getvalue()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: Any) -> Any:
    """A display name like `=HYPERLINK(...)` must not become a formula in the instructor's spreadsheet."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


# --- tiles: a cheap per-cluster summary --------------------------------------------------------

_health_cache: dict[str, tuple[tuple, dict]] = {}
# The class view looks at every student's cluster each refresh; like the live view's ticker it
# brings a running clock up to date, in slices that stop after this much wall time.
HEALTH_ADVANCE_BUDGET_S = 0.02
SYSTEM_NAMESPACE = "kube-system"


def _forget_health(cluster_id: str) -> None:
    _health_cache.pop(cluster_id, None)


registry.deletion_hooks.append(_forget_health)


def cluster_health(*, live: LiveCluster | None, goal: list | None = None) -> dict:
    """Nodes ready, pods running, etcd quorum and whether the step's goal passes, as of the
    cluster's present. A student whose page is closed (a phone's screen locked, a script) has no
    ticker advancing their cluster, so the class view advances it: looking is what moves a clock.
    Recomputed only when the cluster changed (the class view asks every second for 300 clusters)."""
    if live is None:
        return {"missing": True}
    live.advance(budget_s=HEALTH_ADVANCE_BUDGET_S)
    with live.lock:
        # An action applied while the clock is paused changes the cluster at the same instant.
        last_seq = live.recent_events[-1].seq if live.recent_events else -1
        key = (live.cluster.now_ms, last_seq, live.clock.paused, id(goal))
        cached = _health_cache.get(live.id)
        if cached is not None and cached[0] == key:
            return cached[1]
        health = _read_health(live, goal)
        _health_cache[live.id] = (key, health)
        return health


def _read_health(live: LiveCluster, goal: list | None) -> dict:
    view = checks.ClusterView(live)
    stored = {node["metadata"]["name"]: node for node in view.objects("nodes")}
    machines_down = live.cluster.sim.network.machines_down
    nodes = []
    # Every machine of the topology: one that never registered is as not-ready as a failed one.
    for name in list(live.cluster.layout["control_plane"]) + list(live.cluster.layout["workers"]):
        conditions = ((stored.get(name) or {}).get("status") or {}).get("conditions") or []
        ready = next((c.get("status") for c in conditions if c.get("type") == "Ready"), "Unknown")
        nodes.append({"name": name, "ready": ready == "True", "registered": name in stored,
                      "down": bool(machines_down.get(name, False))})
    # The learner's workloads in every namespace; kube-system's add-ons and static pods apart.
    pods = view.objects("pods")
    workload = [pod for pod in pods if (pod.get("metadata") or {}).get("namespace") != SYSTEM_NAMESPACE]
    system = [pod for pod in pods if (pod.get("metadata") or {}).get("namespace") == SYSTEM_NAMESPACE]
    members = view.etcd_members()
    running = sum(1 for member in members if member.running)
    passes = None
    if goal:
        passes = all(result.passed for result in checks.run_goal(live, goal))
    return {"missing": False, "nodes": nodes,
            "podsRunning": sum(1 for pod in workload if checks.is_running(pod)), "pods": len(workload),
            "systemPodsRunning": sum(1 for pod in system if checks.is_running(pod)), "systemPods": len(system),
            "etcdUp": running, "etcdSize": len(members), "quorum": running >= len(members) // 2 + 1,
            "nowMs": live.cluster.now_ms, "paused": live.clock.paused, "goalPasses": passes}


def class_tiles(*, workshop: Workshop) -> list[dict]:
    tiles = []
    for student, progress in _with_progress(workshop):
        lesson = get_lesson(student.lesson_slug) if student.lesson_slug else None
        step = lesson.step(progress.current_step) if lesson and progress else None
        row = student_row(student=student, progress=progress)
        row["stepTitle"] = step.title if step else None
        row["stepIndex"] = lesson.step_ids().index(step.id) + 1 if step else (len(lesson.steps) + 1 if lesson else 0)
        row["finished"] = bool(lesson and progress and not progress.current_step)
        row["health"] = cluster_health(live=registry.get(student.cluster_id) if student.cluster_id else None,
                                       goal=step.goal if step else None)
        tiles.append(row)
    return tiles


def step_counts(*, workshop: Workshop, tiles: list[dict]) -> list[dict]:
    """Per step of the first lesson: how many students have it done."""
    lesson = get_lesson(workshop.lessons[0]) if workshop.lessons else None
    if lesson is None:
        return []
    return [{"id": step.id, "title": step.title,
             "done": sum(1 for tile in tiles if step.id in tile["stepsDone"]),
             "here": sum(1 for tile in tiles if tile["currentStep"] == step.id)} for step in lesson.steps]


# --- who may watch a cluster (read-only) ----------------------------------------------------------

def may_watch(*, cluster_id: str, session_key: str) -> bool:
    """The workshop's instructor may watch a student's cluster; a student may watch the presenter's."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import SESSION_KEY
    if Student.objects.filter(session_key=session_key, workshop__presenter_cluster_id=cluster_id).exists():
        return True
    user_id = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key).get(SESSION_KEY)
    return bool(user_id) and Student.objects.filter(cluster_id=cluster_id, workshop__instructor_id=user_id).exists()


def cluster_owner_name(*, cluster_id: str) -> str:
    """Whose cluster a watcher sees: the student's display name, or the presenter's (instructor's)."""
    student = Student.objects.filter(cluster_id=cluster_id).only("name").first()
    if student is not None:
        return student.name
    workshop = Workshop.objects.filter(presenter_cluster_id=cluster_id).select_related("instructor").first()
    if workshop is not None:
        return workshop.instructor.get_full_name() or workshop.instructor.get_username()
    return ""


# --- telling pages -------------------------------------------------------------------------------

def group_name(workshop: Workshop) -> str:
    """The class view's group. By id, not code: a revoked code changes the code, not the room."""
    return f"workshop.{workshop.pk}"


def students_group_name(workshop: Workshop) -> str:
    return f"workshop.{workshop.pk}.students"


def notify(workshop: Workshop, kind: str, **details: Any) -> None:
    """Tell the class view (refresh now) and the students (a banner) what just happened."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "workshop.event", "kind": kind, "details": details}
    async_to_sync(layer.group_send)(group_name(workshop), message)
    async_to_sync(layer.group_send)(students_group_name(workshop), message)
