"""Answers for failures that can reach any view."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from cluster_sim.apiserver import validation
from web.runtime import ClusterElsewhere

RETRY_AFTER_S = "1"


class ClusterElsewhereMiddleware:
    """A cluster another server process holds and would not hand over (web/ownership.py): 503 with
    Retry-After, in the caller's protocol, instead of a 500. kubectl and browsers retry."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, ClusterElsewhere):
            return None
        message = str(exception)
        if request.path.startswith("/k8s/"):
            response = JsonResponse(validation.status_error(503, "ServiceUnavailable", message), status=503)
        elif request.path.startswith("/api/"):
            response = JsonResponse({"detail": message, "code": "cluster_busy"}, status=503)
        else:
            response = HttpResponse(_("This cluster is busy in another server process. Reload the page in a "
                                      "moment."), status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = RETRY_AFTER_S
        return response
