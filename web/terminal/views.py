"""HTTP endpoints of the terminal: run a command line, complete a word.  The session must own the
cluster; anybody else gets 404 (it does not even learn that the cluster exists)."""
from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_POST

from web import limits
from web.runtime import LiveCluster, registry

from .completion import complete
from .kubectl import run_command

MAX_LINE_CHARACTERS = 64_000


def owned_cluster(request: HttpRequest, cluster_id: str) -> LiveCluster:
    live = registry.get(cluster_id)
    session_key = request.session.session_key
    if live is None or not session_key or live.owner_session != session_key:
        raise Http404("No such cluster in this browser session")
    return live


@require_POST
def terminal_run(request: HttpRequest, cluster_id: str) -> HttpResponse:
    live = owned_cluster(request, cluster_id)
    line = request.POST.get("line", "")
    if len(line) > MAX_LINE_CHARACTERS:
        return JsonResponse({"error": f"command too long (more than {MAX_LINE_CHARACTERS} characters)"}, status=400)
    throttled = rate_limited(request, line)
    if throttled is not None:
        return throttled
    server_url = request.build_absolute_uri(f"/k8s/{live.secret}")
    result = run_command(live, line, server_url=server_url)
    if wants_json(request):
        return JsonResponse({"output": result.text, "exitCode": result.exit_code})
    return HttpResponse(entry_html(line, result.text, result.exit_code))


@require_GET
def terminal_complete(request: HttpRequest, cluster_id: str) -> JsonResponse:
    live = owned_cluster(request, cluster_id)
    line = request.GET.get("line", "")[:MAX_LINE_CHARACTERS]
    return JsonResponse({"completions": complete(live, line)})


def rate_limited(request: HttpRequest, line: str) -> HttpResponse | None:
    """The session's action rate (web/limits.py): the page shows kubectl's own error line; JSON
    clients get 429 with Retry-After."""
    wait_s = limits.session_action_wait_s(request.session.session_key)
    if wait_s is None:
        return None
    message = limits.too_many_requests_message(wait_s)
    if wants_json(request):
        response = JsonResponse({"error": message}, status=429)
    else:
        response = HttpResponse(entry_html(line, f"Error from server (TooManyRequests): {message}", 1))
    response["Retry-After"] = limits.retry_after_header(wait_s)
    return response


def wants_json(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept and not request.headers.get("HX-Request")


def entry_html(line: str, output: str, exit_code: int) -> str:
    """One command and its output, as the panel's log shows it (htmx appends it)."""
    command = line.split("\n", 1)[0]
    status = "ok" if exit_code == 0 else "failed"
    return format_html('<div class="terminal-entry terminal-{}" data-exit-code="{}">'
                       '<div class="terminal-command"><span class="terminal-prompt" aria-hidden="true">$ </span>{}</div>'
                       '<pre class="terminal-output">{}</pre></div>', status, exit_code, command, output)
