"""Workshop pages: instructor sign-in, dashboard, a workshop (code, link, QR), the live class view,
its controls, and the student's join page and lesson. Views call workshops.services only."""
from __future__ import annotations

import segno
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.translation import gettext as _

from cluster_sim.scenario import list_shipped
from lessons.loader import catalogue, get_lesson
from web import limits
from web import services as cluster_services

from . import services
from .models import Workshop

LOGIN_URL = reverse_lazy("workshops:login")


def _language() -> str:
    return "ko" if (translation.get_language() or "").startswith("ko") else "en"


def _session_key(request: HttpRequest) -> str:
    if not request.session.session_key:
        request.session.save()
    return request.session.session_key


def instructor_only(view):
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect(f"{LOGIN_URL}?next={request.get_full_path()}")
        if not services.is_instructor(request.user):
            return render(request, "workshops/refused.html", {"message": _(
                "Only instructors can run workshops. Ask an administrator to add you to the instructors group.")},
                status=403)
        return view(request, *args, **kwargs)
    wrapped.__name__ = view.__name__
    return wrapped


def _own_workshop(request: HttpRequest, workshop_id: int) -> Workshop:
    try:
        return services.workshop_by_id_for_instructor(user=request.user, workshop_id=workshop_id)
    except (cluster_services.NotFound, services.Forbidden):
        raise Http404("no such workshop of yours") from None


class LoginView(auth_views.LoginView):
    template_name = "workshops/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return reverse("workshops:dashboard")


# --- instructor pages -------------------------------------------------------------------------

@instructor_only
def dashboard(request: HttpRequest) -> HttpResponse:
    error = ""
    if request.method == "POST":
        try:
            workshop = services.create_workshop(user=request.user, title=request.POST.get("title", ""),
                                                lessons=request.POST.getlist("lessons"),
                                                scenario=request.POST.get("scenario", ""),
                                                status=request.POST.get("status") or Workshop.OPEN)
        except cluster_services.ServiceError as failure:
            error = str(failure)
        else:
            return redirect("workshops:detail", workshop_id=workshop.pk)
    language = _language()
    lessons = [{"slug": lesson.slug, "title": lesson.title[language]} for lesson in catalogue()]
    workshops = Workshop.objects.filter(instructor=request.user)
    return render(request, "workshops/dashboard.html", {
        "workshops": workshops, "lessons": lessons, "scenarios": list_shipped(), "error": error})


def qr_svg(url: str) -> str:
    """The join link as an inline SVG QR code (dark on white: projectors wash out light modules)."""
    return segno.make(url, error="m").svg_inline(scale=8, border=2, dark="#111", light="#fff",
                                                 title=_("QR code of the join link"))


@instructor_only
def detail(request: HttpRequest, workshop_id: int) -> HttpResponse:
    workshop = _own_workshop(request, workshop_id)
    join_url = request.build_absolute_uri(reverse("workshops:join-code", kwargs={"code": workshop.code}))
    language = _language()
    return render(request, "workshops/detail.html", {
        "workshop": workshop, "join_url": join_url, "qr": qr_svg(join_url),
        "lessons": [get_lesson(slug).title[language] for slug in workshop.lessons if get_lesson(slug)],
        "students": workshop.students.count()})


@instructor_only
def class_view(request: HttpRequest, workshop_id: int) -> HttpResponse:
    workshop = _own_workshop(request, workshop_id)
    language = _language()
    lesson = get_lesson(workshop.lessons[0]) if workshop.lessons else None
    context = tiles_context(workshop, language)
    context.update({
        "workshop": workshop, "oob": False,
        "steps": [{"id": step.id, "title": step.title[language]} for step in lesson.steps] if lesson else [],
        "broadcasts": workshop.broadcasts.prefetch_related("answers__student")[:5],
        "ws_path": f"/ws/workshops/{workshop.pk}/class/?lang={language}",
        "actions": ["node.fail", "node.recover", "controlplane.fail", "controlplane.recover", "etcd.fail",
                    "etcd.recover", "kubelet.stop", "kubelet.start", "network.partition", "network.heal",
                    "cordon", "uncordon", "drain"],
    })
    return render(request, "workshops/class.html", context)


def tiles_context(workshop: Workshop, language: str) -> dict:
    tiles = services.class_tiles(workshop=workshop)
    for tile in tiles:
        tile["step_label"] = tile["stepTitle"][language] if tile["stepTitle"] else (
            _("finished") if tile["finished"] else "—")
    counts = services.step_counts(workshop=workshop, tiles=tiles)
    for count in counts:
        count["label"] = count["title"][language]
    return {"tiles": tiles, "counts": counts, "total": len(tiles),
            "finished": sum(1 for tile in tiles if tile["finished"])}


def render_tile(tile: dict, *, oob: bool) -> str:
    return render_to_string("workshops/_tile.html", {"tile": tile, "oob": oob})


def render_counts(context: dict, *, oob: bool) -> str:
    return render_to_string("workshops/_counts.html", dict(context, oob=oob))


CONTROL_COMMANDS = ("pause", "resume", "step", "reset", "broadcast", "apply", "open", "close", "revoke",
                    "presenter")


@instructor_only
def control(request: HttpRequest, workshop_id: int) -> HttpResponse:
    """The class view's buttons: POST command=... ; answers with a redirect and a message."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    workshop = _own_workshop(request, workshop_id)
    command = request.POST.get("command", "")
    code, user = workshop.code, request.user
    back = request.POST.get("next") or reverse("workshops:class", kwargs={"workshop_id": workshop.pk})
    if not back.startswith("/"):
        back = reverse("workshops:class", kwargs={"workshop_id": workshop.pk})
    try:
        if command == "pause" or command == "resume":
            services.set_clocks(user=user, code=code, paused=command == "pause")
            messages.success(request, _("Every clock is paused.") if command == "pause" else _("Every clock runs again."))
        elif command == "step":
            services.move_to_step(user=user, code=code, step=request.POST.get("step", ""))
            messages.success(request, _("Everyone moved to the chosen step."))
        elif command == "reset":
            services.reset_clusters(user=user, code=code)
            messages.success(request, _("Every student's cluster was reset."))
        elif command == "broadcast":
            action = {"action": request.POST.get("action", ""), "target": request.POST.get("target", "")}
            question = request.POST.get("question", "")
            record = services.broadcast(user=user, code=code, action=action, question=question,
                                        ask_first=bool(question.strip()))
            messages.success(request, _("Question sent; apply the action when the answers are in.")
                             if record.applied_at is None else _("Sent to every student's cluster."))
        elif command == "apply":
            services.apply_broadcast(user=user, code=code, broadcast_id=int(request.POST.get("broadcast", 0)))
            messages.success(request, _("Sent to every student's cluster."))
        elif command in ("open", "close"):
            services.set_status(user=user, code=code, status="open" if command == "open" else "closed")
            back = reverse("workshops:detail", kwargs={"workshop_id": workshop.pk})
        elif command == "revoke":
            services.revoke_code(user=user, code=code)
            messages.success(request, _("The old code no longer works; give out the new one."))
            back = reverse("workshops:detail", kwargs={"workshop_id": workshop.pk})
        elif command == "presenter":
            live = services.start_presenter(user=user, code=code, session_key=_session_key(request))
            return redirect("cluster-page", cluster_id=live.id)
        else:
            messages.error(request, _("Unknown command"))
    except (cluster_services.ServiceError, ValueError) as failure:
        messages.error(request, str(failure))
    return redirect(back)


@instructor_only
def export(request: HttpRequest, workshop_id: int) -> HttpResponse:
    workshop = _own_workshop(request, workshop_id)
    text = services.export_csv(user=request.user, code=workshop.code)
    return HttpResponse(text, content_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="workshop-{workshop.code}.csv"'})


# --- students -----------------------------------------------------------------------------------

def join(request: HttpRequest, code: str = "") -> HttpResponse:
    """Type the code (or arrive with it in the link), give a name, land in the lesson."""
    code = services.normalise_code(request.POST.get("code") or code)
    error, workshop = "", None
    if code:
        try:
            workshop = services.find_workshop(code=code)
            student = services.student_for_session(workshop=workshop, session_key=request.session.session_key)
            if student is not None:
                services.join(code=code, session_key=student.session_key, name=student.name)
                return redirect("workshops:learn", workshop_id=workshop.pk)
            services._check_joinable(workshop)
        except cluster_services.ServiceError as failure:
            error, workshop = str(failure), None
    if workshop is not None and request.method == "POST" and "name" in request.POST:
        try:
            services.join(code=code, session_key=_session_key(request), name=request.POST.get("name", ""),
                          address=limits.client_address(request.META))
        except cluster_services.ServiceError as failure:
            error = str(failure)
        else:
            return redirect("workshops:learn", workshop_id=workshop.pk)
    return render(request, "workshops/join.html", {"code": code, "workshop": workshop, "error": error},
                  status=200 if not error else 400)


def learn(request: HttpRequest, workshop_id: int) -> HttpResponse:
    """The student's lesson (the lessons app's page on their own cluster) with the workshop bar."""
    workshop = Workshop.objects.filter(pk=workshop_id).first()
    student = services.student_for_session(workshop=workshop, session_key=request.session.session_key) \
        if workshop else None
    if student is None:
        return redirect("workshops:join")
    live = services.ensure_student_cluster(student=student)
    bar = render_to_string("workshops/_student_bar.html", {
        "workshop": workshop, "student": student, "ws_path": f"/ws/workshops/{workshop.pk}/student/?lang={_language()}",
        "question": workshop.broadcasts.filter(applied_at__isnull=True).exclude(question="").first(),
    }, request=request)
    if student.lesson_slug:
        from lessons.views import lesson_page
        response = lesson_page(request, student.lesson_slug)
    else:
        return render(request, "workshops/scenario_student.html", {"bar": bar, "live": live})
    return with_bar(response, bar)


def with_bar(response: HttpResponse, bar: str) -> HttpResponse:
    """The lesson page with the workshop bar at the top of <main> and its CSS and script."""
    from django.templatetags.static import static
    page = response.content.decode()
    head = f'<link rel="stylesheet" href="{static("css/workshops.css")}">'
    script = f'<script src="{static("js/workshops.js")}" defer></script>'
    page = page.replace("</head>", head + "</head>", 1).replace('<main id="main">', '<main id="main">' + bar, 1)
    page = page.replace("</body>", script + "</body>", 1)
    response.content = page.encode()
    return response
