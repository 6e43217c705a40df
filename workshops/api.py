"""REST API for workshops (/api/workshops/...): HTTP in, a workshops.services call, HTTP out.

Instructors authenticate with a token (`POST /api/auth/token/`, header `Authorization: Token <key>`)
or their signed-in session (pages; CSRF checked). Students are anonymous sessions, as with
/api/clusters/: joining creates the session when there is none.
"""
from __future__ import annotations

from django.http import HttpResponse
from rest_framework import status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.request import Request
from rest_framework.response import Response

from web import services as cluster_services
from web.api import views as cluster_api

from . import services
from .models import Workshop

STATUS_OF = {
    services.Forbidden: status.HTTP_403_FORBIDDEN,
    services.Gone: status.HTTP_410_GONE,
    services.Closed: status.HTTP_409_CONFLICT,
}


def exception_handler(error: Exception, context: dict) -> Response | None:
    response = cluster_api.api_exception_handler(error, context)
    if response is not None and type(error) in STATUS_OF:
        response.status_code = STATUS_OF[type(error)]
    return response


class WorkshopApiView(cluster_api.ApiView):
    # Token first (scripts), then a signed-in session, then the anonymous student's session cookie.
    authentication_classes = [TokenAuthentication, SessionAuthentication, cluster_api.SessionCookieAuthentication]

    def get_exception_handler(self):
        return exception_handler


def _text(value, field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise cluster_services.InvalidInput(f"{field}: Invalid value: must be a string", path=field)
    return value


class WorkshopListView(WorkshopApiView):
    def get(self, request: Request) -> Response:
        services._require_instructor(request.user)
        url = cluster_api.base_url(request)
        return Response([services.workshop_summary(workshop=workshop, base_url=url)
                         for workshop in Workshop.objects.filter(instructor=request.user)])

    def post(self, request: Request) -> Response:
        body = request.data if isinstance(request.data, dict) else {}
        lessons = body.get("lessons") or []
        if isinstance(lessons, str):
            lessons = [lessons]
        if not isinstance(lessons, list) or not all(isinstance(slug, str) for slug in lessons):
            raise cluster_services.InvalidInput("lessons: Invalid value: must be a list of lesson slugs", path="lessons")
        workshop = services.create_workshop(user=request.user, title=_text(body.get("title"), "title"),
                                            lessons=lessons, scenario=_text(body.get("scenario"), "scenario"),
                                            status=_text(body.get("status"), "status") or Workshop.OPEN)
        return Response(services.workshop_summary(workshop=workshop, base_url=cluster_api.base_url(request)),
                        status=status.HTTP_201_CREATED)


class WorkshopDetailView(WorkshopApiView):
    def get(self, request: Request, code: str) -> Response:
        workshop = services.workshop_for_instructor(user=request.user, code=code)
        return Response(services.workshop_summary(workshop=workshop, base_url=cluster_api.base_url(request)))


class JoinView(WorkshopApiView):
    def post(self, request: Request, code: str) -> Response:
        body = request.data if isinstance(request.data, dict) else {}
        name = _text(body.get("name"), "name")
        # Bad codes and closed workshops must not leave a session behind.
        workshop = services.find_workshop(code=code)
        existing = services.student_for_session(workshop=workshop, session_key=request.session.session_key)
        if existing is None:
            services._check_joinable(workshop)
        student = services.join(code=code, session_key=cluster_api.session_key(request, create=True), name=name)
        live = cluster_services.get_cluster(session_key=student.session_key, cluster_id=student.cluster_id)
        answer = cluster_services.cluster_summary(live=live, base_url=cluster_api.base_url(request))
        answer["student"] = {"id": student.pk, "name": student.name, "lesson": student.lesson_slug}
        answer["workshop"] = {"code": workshop.code, "title": workshop.title, "status": workshop.status}
        return Response(answer, status=status.HTTP_201_CREATED if existing is None else status.HTTP_200_OK)


class BroadcastView(WorkshopApiView):
    def post(self, request: Request, code: str) -> Response:
        body = request.data if isinstance(request.data, dict) else {}
        action = body.get("action")
        if isinstance(action, str):  # {"action": "node.fail", "target": "worker-2"} as the clusters API takes
            action = {key: value for key, value in body.items() if key not in ("question", "askFirst")}
        record = services.broadcast(user=request.user, code=code, action=action,
                                    question=_text(body.get("question"), "question"),
                                    ask_first=body.get("askFirst") is True)
        return Response(broadcast_body(record), status=status.HTTP_202_ACCEPTED)


class BroadcastApplyView(WorkshopApiView):
    def post(self, request: Request, code: str, broadcast_id: int) -> Response:
        record = services.apply_broadcast(user=request.user, code=code, broadcast_id=broadcast_id)
        return Response(broadcast_body(record), status=status.HTTP_202_ACCEPTED)


class AnswerView(WorkshopApiView):
    def post(self, request: Request, code: str, broadcast_id: int) -> Response:
        body = request.data if isinstance(request.data, dict) else {}
        services.answer(code=code, session_key=request.session.session_key, broadcast_id=broadcast_id,
                        text=_text(body.get("answer"), "answer"))
        return Response({"ok": True}, status=status.HTTP_201_CREATED)


def broadcast_body(record) -> dict:
    return {"id": record.pk, "action": record.action, "question": record.question,
            "applied": record.applied_at is not None, "results": record.results,
            "answers": [{"student": answer.student.name, "answer": answer.text}
                        for answer in record.answers.select_related("student")]}


class RosterView(WorkshopApiView):
    def get(self, request: Request, code: str) -> Response:
        return Response(services.roster(user=request.user, code=code))


class ExportView(WorkshopApiView):
    def get(self, request: Request, code: str) -> HttpResponse:
        text = services.export_csv(user=request.user, code=code)
        return HttpResponse(text, content_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="workshop-{code}.csv"'})


class StatusView(WorkshopApiView):
    """POST {"status": "open" | "closed" | "scheduled"}."""

    def post(self, request: Request, code: str) -> Response:
        body = request.data if isinstance(request.data, dict) else {}
        workshop = services.set_status(user=request.user, code=code, status=_text(body.get("status"), "status"))
        return Response(services.workshop_summary(workshop=workshop, base_url=cluster_api.base_url(request)))


class RevokeView(WorkshopApiView):
    def post(self, request: Request, code: str) -> Response:
        workshop = services.revoke_code(user=request.user, code=code)
        return Response(services.workshop_summary(workshop=workshop, base_url=cluster_api.base_url(request)))


class ClockView(WorkshopApiView):
    """POST {"paused": true | false}: every student's clock."""

    def post(self, request: Request, code: str) -> Response:
        body = request.data if isinstance(request.data, dict) else {}
        if not isinstance(body.get("paused"), bool):
            raise cluster_services.InvalidInput("paused: Required value: true or false", path="paused")
        workshop = services.set_clocks(user=request.user, code=code, paused=body["paused"])
        return Response(services.workshop_summary(workshop=workshop, base_url=cluster_api.base_url(request)))


class StepView(WorkshopApiView):
    """POST {"step": "<step id>", "lesson": "<slug>" (optional)}: everyone to that step."""

    def post(self, request: Request, code: str) -> Response:
        body = request.data if isinstance(request.data, dict) else {}
        workshop = services.move_to_step(user=request.user, code=code, step=_text(body.get("step"), "step"),
                                         lesson=_text(body.get("lesson"), "lesson"))
        return Response(services.workshop_summary(workshop=workshop, base_url=cluster_api.base_url(request)))


class ResetView(WorkshopApiView):
    def post(self, request: Request, code: str) -> Response:
        workshop = services.reset_clusters(user=request.user, code=code)
        return Response(services.workshop_summary(workshop=workshop, base_url=cluster_api.base_url(request)))
