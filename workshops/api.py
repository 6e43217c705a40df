"""REST API for workshops (/api/workshops/...): HTTP in, a workshops.services call, HTTP out.

Instructors authenticate with a token (`POST /api/auth/token/`, header `Authorization: Token <key>`)
or their signed-in session (pages; CSRF checked). Students are anonymous sessions, as with
/api/clusters/: joining creates the session when there is none.
"""
from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.request import Request
from rest_framework.response import Response

from web import limits
from web import services as cluster_services
from web.api import views as cluster_api

from . import serializers as bodies
from . import services
from .models import Workshop
from .serializers import errors

TAGS = ["workshops"]
WORKSHOP_EXAMPLE = {
    "id": 7, "code": "K7WQ3M", "title": "Tuesday: node failure", "lessons": ["worker-node-failure"],
    "scenario": "", "status": "open", "clocksPaused": False, "startsAt": "2025-01-01T09:00:00+00:00",
    "endsAt": None, "joinUrl": "http://127.0.0.1:8000/join/K7WQ3M/", "students": 0,
}

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
    @extend_schema(operation_id="workshops_list", summary="The signed-in instructor's workshops",
                   responses={200: bodies.WorkshopSerializer(many=True), **errors(403)}, tags=TAGS)
    def get(self, request: Request) -> Response:
        services._require_instructor(request.user)
        url = cluster_api.base_url(request)
        return Response([services.workshop_summary(workshop=workshop, base_url=url)
                         for workshop in Workshop.objects.filter(instructor=request.user)])

    @extend_schema(operation_id="workshops_create", summary="Create a workshop (instructors)",
                   description="Answers the join code, the join link and the workshop's state.",
                   request=bodies.WorkshopCreateSerializer,
                   responses={201: bodies.WorkshopSerializer, **errors(400, 403, 429)},
                   examples=[OpenApiExample("a lesson", request_only=True,
                                            value={"title": "Tuesday: node failure", "lessons": ["worker-node-failure"]}),
                             OpenApiExample("created", response_only=True, status_codes=["201"], value=WORKSHOP_EXAMPLE)],
                   tags=TAGS)
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
    @extend_schema(operation_id="workshops_retrieve", summary="One workshop (its instructor)",
                   responses={200: bodies.WorkshopSerializer, **errors(403, 404, 410)}, tags=TAGS)
    def get(self, request: Request, code: str) -> Response:
        workshop = services.workshop_for_instructor(user=request.user, code=code)
        return Response(services.workshop_summary(workshop=workshop, base_url=cluster_api.base_url(request)))


class JoinView(WorkshopApiView):
    @extend_schema(operation_id="workshops_join", summary="Join as a student (no account)",
                   description="Creates the session when there is none (keep its cookies) and the student's own "
                               "cluster. Joining again from the same session answers the same student and cluster "
                               "(200).",
                   request=bodies.JoinSerializer,
                   responses={201: bodies.JoinAnswerSerializer,
                              200: OpenApiResponse(bodies.JoinAnswerSerializer, description="Already joined."),
                              **errors(400, 404, 409, 410, 429)},
                   tags=TAGS)
    def post(self, request: Request, code: str) -> Response:
        body = request.data if isinstance(request.data, dict) else {}
        name = _text(body.get("name"), "name")
        # Bad codes and closed workshops must not leave a session behind.
        workshop = services.find_workshop(code=code)
        existing = services.student_for_session(workshop=workshop, session_key=request.session.session_key)
        if existing is None:
            services._check_joinable(workshop)
        student = services.join(code=code, session_key=cluster_api.session_key(request, create=True), name=name,
                                address=limits.client_address(request.META))
        live = cluster_services.get_cluster(session_key=student.session_key, cluster_id=student.cluster_id)
        answer = cluster_services.cluster_summary(live=live, base_url=cluster_api.base_url(request))
        answer["student"] = {"id": student.pk, "name": student.name, "lesson": student.lesson_slug}
        answer["workshop"] = {"code": workshop.code, "title": workshop.title, "status": workshop.status}
        return Response(answer, status=status.HTTP_201_CREATED if existing is None else status.HTTP_200_OK)


class BroadcastView(WorkshopApiView):
    @extend_schema(operation_id="workshops_broadcast", summary="Apply an action to every student's cluster",
                   description="Checked against every cluster first: a bad action changes none. Each cluster "
                               "applies it at its own present; offline students find it in their cluster's history.",
                   request=bodies.BroadcastRequestSerializer,
                   responses={202: bodies.BroadcastSerializer, **errors(400, 403, 404, 409, 410)},
                   examples=[OpenApiExample("fail a worker", request_only=True,
                                            value={"action": "node.fail", "target": "worker-2"}),
                             OpenApiExample("ask first", request_only=True, value={
                                 "action": "node.fail", "target": "worker-2",
                                 "question": "Which pods move, and when?", "askFirst": True})],
                   tags=TAGS)
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
    @extend_schema(operation_id="workshops_broadcast_apply", summary="Apply a broadcast that asked first",
                   request=None, responses={202: bodies.BroadcastSerializer, **errors(400, 403, 404, 409, 410)},
                   tags=TAGS)
    def post(self, request: Request, code: str, broadcast_id: int) -> Response:
        record = services.apply_broadcast(user=request.user, code=code, broadcast_id=broadcast_id)
        return Response(broadcast_body(record), status=status.HTTP_202_ACCEPTED)


class AnswerView(WorkshopApiView):
    @extend_schema(operation_id="workshops_answer", summary="A student's answer to a prediction question",
                   request=bodies.AnswerSerializer,
                   responses={201: bodies.AnswerAcceptedSerializer, **errors(400, 403, 404, 410)}, tags=TAGS)
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
    @extend_schema(operation_id="workshops_roster", summary="Every student: step, steps done, last action",
                   responses={200: bodies.RosterRowSerializer(many=True), **errors(403, 404, 410)}, tags=TAGS)
    def get(self, request: Request, code: str) -> Response:
        return Response(services.roster(user=request.user, code=code))


class ExportView(WorkshopApiView):
    @extend_schema(operation_id="workshops_export", summary="Results as CSV",
                   responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description=(
                       "student, lesson, steps_done, steps, current_step, joined_at, completed_at, last_action, "
                       "last_action_at")), **errors(403, 404, 410)}, tags=TAGS)
    def get(self, request: Request, code: str) -> HttpResponse:
        text = services.export_csv(user=request.user, code=code)
        return HttpResponse(text, content_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="workshop-{code}.csv"'})


class StatusView(WorkshopApiView):
    """POST {"status": "open" | "closed" | "scheduled"}."""

    @extend_schema(operation_id="workshops_status", summary="Open, schedule or close (read-only)",
                   request=bodies.StatusSerializer,
                   responses={200: bodies.WorkshopSerializer, **errors(400, 403, 404, 410)}, tags=TAGS)
    def post(self, request: Request, code: str) -> Response:
        body = request.data if isinstance(request.data, dict) else {}
        workshop = services.set_status(user=request.user, code=code, status=_text(body.get("status"), "status"))
        return Response(services.workshop_summary(workshop=workshop, base_url=cluster_api.base_url(request)))


class RevokeView(WorkshopApiView):
    @extend_schema(operation_id="workshops_revoke", summary="Replace the join code (the old one answers 410)",
                   request=None, responses={200: bodies.WorkshopSerializer, **errors(403, 404, 410, 429)}, tags=TAGS)
    def post(self, request: Request, code: str) -> Response:
        workshop = services.revoke_code(user=request.user, code=code)
        return Response(services.workshop_summary(workshop=workshop, base_url=cluster_api.base_url(request)))


class ClockView(WorkshopApiView):
    """POST {"paused": true | false}: every student's clock."""

    @extend_schema(operation_id="workshops_clock", summary="Pause or resume every student's clock",
                   request=bodies.ClockSerializer,
                   responses={200: bodies.WorkshopSerializer, **errors(400, 403, 404, 409, 410)}, tags=TAGS)
    def post(self, request: Request, code: str) -> Response:
        body = request.data if isinstance(request.data, dict) else {}
        if not isinstance(body.get("paused"), bool):
            raise cluster_services.InvalidInput("paused: Required value: true or false", path="paused")
        workshop = services.set_clocks(user=request.user, code=code, paused=body["paused"])
        return Response(services.workshop_summary(workshop=workshop, base_url=cluster_api.base_url(request)))


class StepView(WorkshopApiView):
    """POST {"step": "<step id>", "lesson": "<slug>" (optional)}: everyone to that step."""

    @extend_schema(operation_id="workshops_step", summary="Move every student to a step",
                   request=bodies.StepSerializer,
                   responses={200: bodies.WorkshopSerializer, **errors(400, 403, 404, 409, 410)}, tags=TAGS)
    def post(self, request: Request, code: str) -> Response:
        body = request.data if isinstance(request.data, dict) else {}
        workshop = services.move_to_step(user=request.user, code=code, step=_text(body.get("step"), "step"),
                                         lesson=_text(body.get("lesson"), "lesson"))
        return Response(services.workshop_summary(workshop=workshop, base_url=cluster_api.base_url(request)))


class ResetView(WorkshopApiView):
    @extend_schema(operation_id="workshops_reset", summary="Give every student a fresh cluster",
                   request=None, responses={200: bodies.WorkshopSerializer, **errors(403, 404, 409, 410)}, tags=TAGS)
    def post(self, request: Request, code: str) -> Response:
        workshop = services.reset_clusters(user=request.user, code=code)
        return Response(services.workshop_summary(workshop=workshop, base_url=cluster_api.base_url(request)))
