"""REST views: HTTP in, a service call, HTTP out. Nothing here decides anything about clusters.

Ownership is the caller's session: the first `POST /api/clusters/` without a session cookie
creates one. CSRF is checked on every unsafe request that carries the session cookie (see
`SessionCookieAuthentication`); docs/api.md explains the rules for scripts.
"""
from __future__ import annotations

import yaml
from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.parsers import JSONParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from cluster_sim.scenario import list_shipped
from web import limits, services
from web.api import schema  # noqa: F401  (registers the session cookie's OpenAPI description)
from web.api import serializers as bodies

SERVICE_ERROR_STATUS = {
    services.NotFound: status.HTTP_404_NOT_FOUND,
    services.InvalidInput: status.HTTP_400_BAD_REQUEST,
    services.LimitReached: status.HTTP_429_TOO_MANY_REQUESTS,
}
SESSION_MARKER = "api"  # a value stored in a session the API created, so it is saved


# --- errors: the one place where failures become HTTP ---------------------------------------

def _flatten_field_errors(detail, prefix: str = "") -> dict:
    """DRF's nested {field: [messages]} as {"a.b": [messages]}."""
    if isinstance(detail, dict):
        flat: dict = {}
        for key, value in detail.items():
            name = "(root)" if key == api_settings.NON_FIELD_ERRORS_KEY else str(key)
            flat.update(_flatten_field_errors(value, f"{prefix}.{name}" if prefix else name))
        return flat
    if isinstance(detail, list) and detail and all(isinstance(item, str) for item in detail):
        return {prefix or "(root)": [str(item) for item in detail]}
    if isinstance(detail, list):
        flat = {}
        for index, item in enumerate(detail):
            flat.update(_flatten_field_errors(item, f"{prefix}[{index}]"))
        return flat
    return {prefix or "(root)": [str(detail)]}


def error_body(error: Exception) -> tuple[int, dict]:
    if isinstance(error, services.ServiceError):
        body = {"detail": str(error), "code": error.code}
        for name in ("source", "path", "message"):
            if getattr(error, name, None) is not None:
                body[name] = getattr(error, name)
        code = next((code for kind, code in SERVICE_ERROR_STATUS.items() if isinstance(error, kind)),
                    status.HTTP_400_BAD_REQUEST)
        return code, body
    if isinstance(error, exceptions.ValidationError):
        fields = _flatten_field_errors(error.detail)
        detail = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in fields.items())
        return error.status_code, {"detail": detail, "code": "invalid", "fields": fields}
    assert isinstance(error, exceptions.APIException)
    codes = error.get_codes()
    return error.status_code, {"detail": str(error.detail), "code": codes if isinstance(codes, str) else "error"}


def api_exception_handler(error: Exception, context: dict) -> Response | None:
    """Every failure a caller can cause, as JSON; anything else is a bug and stays a 500."""
    if isinstance(error, Http404):
        error = exceptions.NotFound()
    elif isinstance(error, DjangoPermissionDenied):
        error = exceptions.PermissionDenied()
    if not isinstance(error, (services.ServiceError, exceptions.APIException)):
        return None
    code, body = error_body(error)
    response = Response(body, status=code)
    if isinstance(error, exceptions.Throttled) and error.wait is not None:
        response["Retry-After"] = limits.retry_after_header(error.wait)
    if isinstance(error, limits.ClusterQuotaReached):
        response["Retry-After"] = error.retry_after
    return response


# --- sessions and CSRF ------------------------------------------------------------------------

class SessionCookieAuthentication(SessionAuthentication):
    """Callers are anonymous sessions, so DRF's SessionAuthentication would never check CSRF.

    This one checks it on every unsafe request that carries the session cookie: that cookie is
    what gives access to clusters, so a request using it must prove it comes from our pages or
    from a script that read the csrftoken cookie. Without the cookie there is nothing to forge:
    the request can only create a cluster in a brand-new session.
    """

    def authenticate(self, request: Request):
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            self.enforce_csrf(request)
        return None


def session_key(request: Request, *, create: bool = False) -> str | None:
    session = request.session
    session.get(SESSION_MARKER)  # loads it: a stale cookie's key turns into None
    if session.session_key is None and create:
        session[SESSION_MARKER] = True
        session.save()
    return session.session_key


def base_url(request: Request) -> str:
    return f"{request.scheme}://{request.get_host()}"


# --- limits (web/limits.py) ---------------------------------------------------------------------

class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"


class OverLimit(exceptions.APIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "limit_reached"


def check_limits(request: Request) -> None:
    """Body size, the session's request rate, and replicas beyond the pods a cluster may run."""
    length = request.META.get("CONTENT_LENGTH") or "0"
    limit_bytes = limits.rest_max_body_bytes()
    if length.isdigit() and int(length) > limit_bytes:
        raise RequestTooLarge(limits.request_too_large_message(limit_bytes))
    key = limits.caller_key(session_key=request.session.session_key, remote_addr=limits.client_address(request.META))
    wait_s = limits.limiter_for(request.method).retry_after_s(key)
    if wait_s is not None:
        raise exceptions.Throttled(wait=wait_s, detail=limits.too_many_requests_message(wait_s, request.method))
    if request.method not in limits.SAFE_METHODS:
        message = limits.replicas_over_cap_message(request.data)
        if message is not None:
            raise OverLimit(message)


class ApiView(APIView):
    authentication_classes = [SessionCookieAuthentication]
    permission_classes: list = []
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]

    def get_exception_handler(self):
        return api_exception_handler

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)  # authentication first: CSRF before anything else
        check_limits(request)

    def finalize_response(self, request, response, *args, **kwargs):
        # Scripts learn the CSRF token from the csrftoken cookie set on every API answer.
        get_token(request)
        return super().finalize_response(request, response, *args, **kwargs)


def validated(serializer_class, request: Request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- documentation helpers --------------------------------------------------------------------

def errors(*codes: int) -> dict:
    """Error answers of an operation. 413 and 429 (body size, request rate) are added to every
    operation by web.api.schema.document_limits; 429 here is an operation's own limit."""
    descriptions = {
        400: "Bad input: the body is not valid JSON or a field is wrong; nothing was changed.",
        403: "CSRF check failed: a request that sends the session cookie must send X-CSRFToken "
             "(`permission_denied`); or the body asks for more replicas than a cluster may run pods "
             "(`limit_reached`). Nothing was changed.",
        404: "No such cluster in this session (other sessions' clusters are not found either).",
        415: "The body is not application/json.",
        429: "`limit_reached`: the session has as many clusters as it may have (delete one first), or "
             "this network address created as many clusters this hour as it may (Retry-After says when "
             "the next one may be created).",
    }
    return {code: OpenApiResponse(bodies.ErrorSerializer, description=descriptions[code]) for code in codes}


CLUSTER_EXAMPLE = {
    "id": "9f86d081884c7d65",
    "url": "http://127.0.0.1:8000/api/clusters/9f86d081884c7d65/",
    "scenario": "basic",
    "seed": 1,
    "server": "http://127.0.0.1:8000/k8s/3q2-7wEvn0Vx0mI9xZ1y2u3v4w5x6y7z",
    "kubeconfig": "http://127.0.0.1:8000/api/clusters/9f86d081884c7d65/kubeconfig",
    "now": {"ms": 20000, "time": "2025-01-01T00:00:20.000000Z"},
    "clock": {"speed": 1.0, "paused": False},
    "nodes": [{"name": "cp-1", "status": "Ready", "ready": "True", "roles": ["control-plane"]},
              {"name": "worker-1", "status": "Ready", "ready": "True", "roles": []}],
}
SHIPPED_NAMES = ", ".join(f'"{name}"' for name in list_shipped())
SCENARIO_ERROR_EXAMPLE = OpenApiExample(
    "unknown scenario", response_only=True, status_codes=["400"], value={
        "detail": f'request body: scenario: Unsupported value: "nope": supported values: {SHIPPED_NAMES}',
        "code": "invalid", "source": "request body", "path": "scenario",
        "message": f'Unsupported value: "nope": supported values: {SHIPPED_NAMES}'})
INLINE_ERROR_EXAMPLE = OpenApiExample(
    "invalid inline scenario", response_only=True, status_codes=["400"], value={
        "detail": "request body: scenario: topology.workers.count: Invalid value: -1: must be between 0 and "
                  "5000, inclusive",
        "code": "invalid", "source": "request body: scenario", "path": "topology.workers.count",
        "message": "Invalid value: -1: must be between 0 and 5000, inclusive"})
NOT_FOUND_EXAMPLE = OpenApiExample(
    "not found", response_only=True, status_codes=["404"],
    value={"detail": "cluster '0123456789abcdef' not found", "code": "not_found"})
SESSION_CLUSTERS_EXAMPLE = OpenApiExample(
    "clusters per session", response_only=True, status_codes=["429"],
    value={"detail": "this session already has 5 clusters, the most it may have; delete one first",
           "code": "limit_reached"})
ADDRESS_CLUSTERS_EXAMPLE = OpenApiExample(
    "clusters per address an hour", response_only=True, status_codes=["429"],
    value={"detail": "Too many new clusters from this network address: at most 60 an hour; try again in 60 s",
           "code": "limit_reached"})
REPLICAS_EXAMPLE = OpenApiExample(
    "more replicas than a cluster may run pods", response_only=True, status_codes=["403"],
    value={"detail": "replicas: Forbidden: 5000 replicas would exceed this simulated cluster's limit of 1000 pods",
           "code": "limit_reached"})


# --- views ------------------------------------------------------------------------------------

class ClusterListView(ApiView):
    @extend_schema(operation_id="clusters_list", summary="List this session's clusters",
                   responses={200: bodies.ClusterSerializer(many=True)}, tags=["clusters"])
    def get(self, request: Request) -> Response:
        clusters = services.list_clusters(session_key=session_key(request))
        url = base_url(request)
        return Response([services.cluster_summary(live=live, base_url=url) for live in clusters])

    @extend_schema(
        operation_id="clusters_create", summary="Create a cluster owned by this session",
        description="Without a session cookie a new session is created: keep the `sessionid` and "
                    "`csrftoken` cookies of the answer for later requests.",
        request=bodies.ClusterCreateSerializer,
        responses={201: bodies.ClusterSerializer, **errors(400, 403, 415, 429)},
        examples=[
            OpenApiExample("shipped scenario", request_only=True, value={"scenario": "basic"}),
            OpenApiExample("inline scenario", request_only=True, value={
                "scenario": {"name": "tiny", "topology": {"workers": {"count": 1}}}, "seed": 7}),
            OpenApiExample("paused at 0 ms", request_only=True, value={"scenario": "basic", "paused": True}),
            OpenApiExample("created", response_only=True, status_codes=["201"], value=CLUSTER_EXAMPLE),
            SCENARIO_ERROR_EXAMPLE,
            INLINE_ERROR_EXAMPLE,
            SESSION_CLUSTERS_EXAMPLE,
            ADDRESS_CLUSTERS_EXAMPLE,
        ],
        tags=["clusters"])
    def post(self, request: Request) -> Response:
        body = validated(bodies.ClusterCreateSerializer, request)
        # Bad input must not leave a session behind: check before the session is created.
        services.checked_cluster_request(scenario=body["scenario"], seed=body.get("seed"), paused=body["paused"],
                                         start_time=body["startTime"])
        limits.charge_cluster_creation(address=limits.client_address(request.META))
        live = services.create_cluster(session_key=session_key(request, create=True),
                                       scenario=body["scenario"], seed=body.get("seed"), paused=body["paused"],
                                       start_time=body["startTime"])
        summary = services.cluster_summary(live=live, base_url=base_url(request))
        return Response(summary, status=status.HTTP_201_CREATED, headers={"Location": summary["url"]})


class ClusterDetailView(ApiView):
    @extend_schema(operation_id="clusters_retrieve", summary="One cluster of this session",
                   responses={200: bodies.ClusterSerializer, **errors(404)},
                   examples=[OpenApiExample("cluster", response_only=True, value=CLUSTER_EXAMPLE),
                             NOT_FOUND_EXAMPLE],
                   tags=["clusters"])
    def get(self, request: Request, cluster_id: str) -> Response:
        live = services.get_cluster(session_key=session_key(request), cluster_id=cluster_id)
        return Response(services.cluster_summary(live=live, base_url=base_url(request)))

    @extend_schema(operation_id="clusters_destroy", summary="Delete a cluster",
                   responses={204: OpenApiResponse(description="Deleted."), **errors(403, 404)},
                   tags=["clusters"])
    def delete(self, request: Request, cluster_id: str) -> Response:
        services.delete_cluster(session_key=session_key(request), cluster_id=cluster_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ClusterActionView(ApiView):
    @extend_schema(
        operation_id="clusters_actions_create", summary="Apply a scenario action now",
        description="The same actions as a scenario timeline (docs/scenarios.md), without `at`: they "
                    "apply at the cluster's present. The answer lists the events the action produced "
                    "at once; what follows (a node going NotReady, pods being replaced) unfolds as the "
                    "clock runs.",
        request=bodies.ActionSerializer,
        responses={202: bodies.ActionResultSerializer, **errors(400, 403, 404, 415)},
        examples=[
            OpenApiExample("fail a worker", request_only=True, value={"action": "node.fail", "target": "worker-2"}),
            OpenApiExample("scale", request_only=True,
                           value={"action": "scale", "target": "default/web", "replicas": 5}),
            OpenApiExample("applied", response_only=True, status_codes=["202"], value={
                "action": {"action": "node.fail", "target": "worker-2"},
                "events": [{"t": 20000, "seq": 5210, "kind": "action", "source": "director", "target": "worker-2"},
                           {"t": 20000, "seq": 5211, "kind": "machine.down", "source": "director",
                            "target": "worker-2"}]}),
            OpenApiExample("unknown node", response_only=True, status_codes=["400"], value={
                "detail": 'request body: target: Not found: "worker-9": nodes in this topology: cp-1, '
                          'worker-1, worker-2, worker-3',
                "code": "invalid", "source": "request body", "path": "target",
                "message": 'Not found: "worker-9": nodes in this topology: cp-1, worker-1, worker-2, worker-3'}),
            REPLICAS_EXAMPLE,
        ],
        tags=["clusters"])
    def post(self, request: Request, cluster_id: str) -> Response:
        result = services.apply_action(session_key=session_key(request), cluster_id=cluster_id,
                                       action=request.data)
        return Response(result, status=status.HTTP_202_ACCEPTED)


class ClusterClockView(ApiView):
    @extend_schema(operation_id="clusters_clock_retrieve", summary="The cluster's clock",
                   responses={200: bodies.ClockSerializer, **errors(404)}, tags=["clusters"])
    def get(self, request: Request, cluster_id: str) -> Response:
        live = services.get_cluster(session_key=session_key(request), cluster_id=cluster_id)
        return Response(services.clock_state(live=live))

    @extend_schema(
        operation_id="clusters_clock_create", summary="Set speed, pause/resume, advance or rewind",
        description="Give any of the fields; they apply in the order rewind (or rewindTo), advance, "
                    "speed, paused. Everything is checked first: a bad field changes nothing.",
        request=bodies.ClockChangeSerializer,
        responses={200: bodies.ClockSerializer, **errors(400, 403, 404, 415)},
        examples=[
            OpenApiExample("ten times faster", request_only=True, value={"speed": 10}),
            OpenApiExample("pause", request_only=True, value={"paused": True}),
            OpenApiExample("advance a minute", request_only=True, value={"advance": "60s"}),
            OpenApiExample("go back five minutes", request_only=True, value={"rewind": "5m"}),
            OpenApiExample("go back to 2 minutes after the start", request_only=True, value={"rewindTo": "2m"}),
            OpenApiExample("clock", response_only=True, status_codes=["200"], value={
                "now": {"ms": 80000, "time": "2025-01-01T00:01:20.000000Z"},
                "clock": {"speed": 10.0, "paused": False}}),
        ],
        tags=["clusters"])
    def post(self, request: Request, cluster_id: str) -> Response:
        body = validated(bodies.ClockChangeSerializer, request)
        live = services.set_clock(session_key=session_key(request), cluster_id=cluster_id,
                                  speed=body.get("speed"), paused=body.get("paused"), advance=body.get("advance"),
                                  rewind=body.get("rewind"), rewind_to=body.get("rewindTo"))
        return Response(services.clock_state(live=live))


class YamlRenderer(BaseRenderer):
    """Error bodies as YAML for clients that ask the kubeconfig URL for YAML only."""

    media_type = "application/yaml"
    format = "yaml"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return yaml.safe_dump(data, sort_keys=False).encode()


class KubeconfigView(ApiView):
    renderer_classes = [YamlRenderer, JSONRenderer]

    @extend_schema(
        operation_id="clusters_kubeconfig_retrieve", summary="Download a kubeconfig for the cluster",
        description="Over http the server URL alone carries the secret (kubectl sends no token over "
                    "plain http); over https the secret is also the user's bearer token.",
        responses={(200, "application/yaml"): OpenApiResponse(OpenApiTypes.STR, description="kubeconfig"),
                   **errors(404)},
        tags=["clusters"])
    def get(self, request: Request, cluster_id: str) -> HttpResponse:
        live = services.get_cluster(session_key=session_key(request), cluster_id=cluster_id)
        text = services.kubeconfig_text(live=live, base_url=base_url(request))
        filename = services.kubeconfig_filename(live=live)
        # A plain Django response: the file is YAML whatever the client's Accept header prefers.
        return HttpResponse(text, content_type="application/yaml; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{filename}"'})
