"""OpenAPI description of how callers are identified (imported by web/api/views.py to register it)."""
import copy

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class SessionCookieScheme(OpenApiAuthenticationExtension):
    target_class = "web.api.views.SessionCookieAuthentication"
    name = "sessionCookie"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "The browser session that owns the clusters. The first POST /api/clusters/ "
                           "without it creates a session. Unsafe requests that send it must also send "
                           "the csrftoken cookie's value as the X-CSRFToken header.",
        }

    def get_security_requirement(self, auto_schema):
        return [{self.name: []}, {}]  # optional: a request without a session simply owns nothing


STRICT_REQUEST_COMPONENTS = ("ClusterCreateRequest", "ClockChangeRequest")


def forbid_unknown_fields(result, generator, request, public):
    """A postprocessing hook: the bodies whose unknown fields the API refuses say so in the schema
    (and, registered as the one hook of ours, every operation documents the limits: document_limits)."""
    schemas = result.get("components", {}).get("schemas", {})
    for name in STRICT_REQUEST_COMPONENTS:
        if name in schemas:
            schemas[name]["additionalProperties"] = False
    return document_limits(result, generator)


# --- the limits every API view applies (web/api/views.py check_limits, web/limits.py) ------------

ERROR_SCHEMA = {"$ref": "#/components/schemas/Error"}
RETRY_AFTER_HEADER = {"Retry-After": {"description": "Seconds to wait before trying again.",
                                      "schema": {"type": "integer", "minimum": 1}}}
THROTTLED_DESCRIPTION = ("`throttled`: too many requests from this session (by default 20 changes a second "
                         "in bursts of 40, and 100 reads a second in bursts of 200); Retry-After says when "
                         "to try again. Nothing was changed.")
THROTTLED_EXAMPLE = {"summary": "too many requests", "value": {
    "detail": "Too many requests from this session: at most 20 changes a second (bursts of 40); try again in 1 s",
    "code": "throttled"}}
TOO_LARGE_RESPONSE = {
    "description": "The body is larger than the API accepts (1 MiB by default); nothing was changed.",
    "content": {"application/json": {"schema": ERROR_SCHEMA, "examples": {"RequestTooLarge": {
        "summary": "request too large",
        "value": {"detail": "Request entity too large: limit is 1048576 bytes", "code": "request_too_large"}}}}},
}


def document_limits(result: dict, generator) -> dict:
    """Add 429 (the session's request rate) to every operation of an ApiView, and 413 (body size)
    to those that take a body; an operation's own 429 (a limit of what it creates) is kept and
    gains the rate's description, example and the Retry-After header."""
    from web.api.views import ApiView

    for path, _regex, method, view in getattr(generator, "endpoints", None) or []:
        view_class = getattr(view, "cls", None)
        operation = result.get("paths", {}).get(path, {}).get(method.lower())
        if operation is None or view_class is None or not issubclass(view_class, ApiView):
            continue
        responses = operation.setdefault("responses", {})
        if "requestBody" in operation and "413" not in responses:
            responses["413"] = copy.deepcopy(TOO_LARGE_RESPONSE)
        responses["429"] = with_throttling(responses.get("429"))
    return result


def with_throttling(response: dict | None) -> dict:
    response = copy.deepcopy(response) if response else {
        "description": "", "content": {"application/json": {"schema": ERROR_SCHEMA}}}
    response["description"] = " ".join(part for part in (response.get("description"), THROTTLED_DESCRIPTION) if part)
    content = response.setdefault("content", {}).setdefault("application/json", {"schema": ERROR_SCHEMA})
    content.setdefault("examples", {})["TooManyRequests"] = dict(THROTTLED_EXAMPLE)
    response["headers"] = dict(response.get("headers") or {}, **RETRY_AFTER_HEADER)
    return response
