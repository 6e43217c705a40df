"""The Kubernetes API of each simulated cluster, under /k8s/<secret>/.

Discovery and OpenAPI documents are answered here (they describe the simulated apiserver and never
change); every resource request becomes one request of the simulated kubectl component to the
simulated kube-apiserver (`LiveCluster.api_request`), so it shows in the cluster's event stream,
and its answer goes back as the real apiserver would send it. Requests that cannot be decoded
are answered here, before they touch the cluster.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from cluster_sim.apiserver import validation
from web import limits
from web.runtime import LiveCluster

from . import auth, discovery, openapi, transport, watch
from .transport import RequestError, Target

logger = logging.getLogger(__name__)

JSON_CONTENT_TYPE = "application/json"
NOT_SIMULATED_SUBRESOURCES = ("exec", "attach", "portforward", "proxy", "ephemeralcontainers", "resize", "token")
MAX_COLLECTION_DELETES = 10_000


@dataclass
class Answer:
    code: int
    body: Any
    content_type: str = JSON_CONTENT_TYPE
    warnings: list[str] = field(default_factory=list)


@dataclass
class Incoming:
    """What the sync part needs of the HTTP request (read in the async view)."""

    method: str
    query: dict[str, str]
    query_lists: dict[str, list[str]]
    body: bytes
    content_type: str | None
    accept: str | None


# --- entry point ------------------------------------------------------------------------------

@csrf_exempt
async def kube_api(request: HttpRequest, key: str, rest: str = "") -> HttpResponse:
    live = auth.cluster_for(path_key=key, authorization=request.headers.get("Authorization"),
                            secure=request.is_secure())
    if live is None:
        return respond(Answer(401, auth.unauthorized_status()))
    segments = [segment for segment in rest.strip("/").split("/")] if rest.strip("/") else []
    try:
        document = documents(request, segments, f"/k8s/{key}")
        if document is not None:
            return respond(document)
        group, version, resource_segments = group_version_of(segments)
        target = transport.parse_resource_path(
            resource_segments, lambda plural: discovery.find_resource(group, version, plural))
        incoming = await read_incoming(request)
        if limits.shared_cache() is None:
            refused = rate_limited(live, request.method or "GET")
        else:  # the buckets are in Redis: not on the event loop's thread
            refused = await sync_to_async(rate_limited, thread_sensitive=False)(live, request.method or "GET")
        if refused is not None:
            return refused
        if request.method == "GET" and target.name is None and is_true(incoming.query.get("watch")):
            return await start_watch(live, target, incoming)
        answer = await sync_to_async(serve, thread_sensitive=False)(live, target, incoming)
    except RequestError as error:
        answer = Answer(error.code, error.status)
    return respond(answer)


# --- limits (web/limits.py) -------------------------------------------------------------------

def rate_limited(live: LiveCluster, method: str) -> HttpResponse | None:
    """429 TooManyRequests with Retry-After once the owner's session spends its bucket."""
    key = limits.caller_key(session_key=live.owner_session, remote_addr=None)
    wait_s = limits.limiter_for(method).retry_after_s(key)
    if wait_s is None:
        return None
    response = respond(Answer(429, limits.too_many_requests_status(wait_s, method)))
    response["Retry-After"] = limits.retry_after_header(wait_s)
    return response


def check_object_limits(live: LiveCluster, target: Target, body: Any, *, creating: bool = False) -> None:
    """Nodes per cluster, replicas per workload: a 403 Status before the cluster sees it. (Pods per
    cluster are the simulated apiserver's own admission: the terminal and controllers meet it too.)"""
    from web.services import MAX_NODES_PER_CLUSTER

    metadata = body.get("metadata") if isinstance(body, dict) else None
    name = target.name or (metadata.get("name") if isinstance(metadata, dict) else "") or ""
    name = name if isinstance(name, str) else ""
    resource = target.info.plural
    refusal = limits.workload_refusal(resource=resource, subresource=target.subresource, name=name, body=body)
    if refusal is None and creating and target.subresource is None:
        with live.lock:
            refusal = limits.node_cap_refusal(live, resource=resource, name=name, max_nodes=MAX_NODES_PER_CLUSTER)
    if refusal is not None:
        raise RequestError(refusal)


def respond(answer: Answer) -> HttpResponse:
    if isinstance(answer.body, (bytes, str)):
        response = HttpResponse(answer.body, status=answer.code, content_type=answer.content_type)
    else:
        text = json.dumps(answer.body, separators=(",", ":")) + "\n"
        response = HttpResponse(text, status=answer.code, content_type=answer.content_type)
    if answer.warnings:
        response["Warning"] = ", ".join(f'299 - {json.dumps(warning)}' for warning in answer.warnings)
    response["Cache-Control"] = "no-cache, private"
    return response


def is_true(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true")


async def read_incoming(request: HttpRequest) -> Incoming:
    length = request.META.get("CONTENT_LENGTH") or "0"
    if length.isdigit() and int(length) > transport.MAX_BODY_BYTES:
        raise transport.read_limit_error()
    body = request.read(transport.MAX_BODY_BYTES + 1) if request.method in ("POST", "PUT", "PATCH", "DELETE") else b""
    if len(body) > transport.MAX_BODY_BYTES:
        raise transport.read_limit_error()
    return Incoming(method=request.method or "GET", query=dict(request.GET.items()),
                    query_lists={name: request.GET.getlist(name) for name in request.GET},
                    body=body, content_type=request.META.get("CONTENT_TYPE"),
                    accept=request.headers.get("Accept"))


# --- discovery and OpenAPI --------------------------------------------------------------------------

def documents(request: HttpRequest, segments: list[str], base_path: str) -> Answer | None:
    """The answer for a discovery/OpenAPI path, or None for a resource path."""
    found = discovery_document(request, segments, base_path)
    if found is None:
        return None
    if request.method != "GET":
        raise transport.method_not_allowed()
    return found


def discovery_document(request: HttpRequest, segments: list[str], base_path: str) -> Answer | None:
    if segments == ["version"]:
        return Answer(200, discovery.VERSION_INFO)
    if segments == ["api"]:
        return Answer(200, discovery.api_versions(request.get_host()))
    if segments == ["apis"]:
        return Answer(200, discovery.api_group_list())
    if len(segments) == 2 and segments[0] == "apis":
        return Answer(200, found_or_404(discovery.api_group_document(segments[1])))
    if segments == ["api", "v1"]:
        return Answer(200, discovery.resource_list("", "v1"))
    if len(segments) == 3 and segments[0] == "apis":
        return Answer(200, found_or_404(discovery.resource_list(segments[1], segments[2])))
    if segments[:2] == ["openapi", "v3"]:
        return openapi_document(segments[2:], base_path)
    if segments and segments[0] not in ("api", "apis"):
        raise transport.not_found_route()
    return None


def openapi_document(segments: list[str], base_path: str) -> Answer:
    if not segments:
        return Answer(200, openapi.index(base_path))
    if segments == ["api", "v1"]:
        text = openapi.document_text("", "v1")
    elif len(segments) == 3 and segments[0] == "apis":
        text = openapi.document_text(segments[1], segments[2])
    else:
        text = None
    return Answer(200, found_or_404(text))


def found_or_404(document: Any) -> Any:
    if document is None:
        raise transport.not_found_route()
    return document


def group_version_of(segments: list[str]) -> tuple[str, str, list[str]]:
    if segments[:2] == ["api", "v1"]:
        return "", "v1", segments[2:]
    if len(segments) >= 3 and segments[0] == "apis":
        return segments[1], segments[2], segments[3:]
    raise transport.not_found_route()


# --- resource requests ------------------------------------------------------------------------------

def serve(live: LiveCluster, target: Target, incoming: Incoming) -> Answer:
    if not transport.accepts_json(incoming.accept):
        raise transport.not_acceptable()
    method = incoming.method
    if target.info.namespaced and target.namespace is None and (target.name is not None or method != "GET"):
        # Namespaced resources are listed and watched across namespaces; everything else needs one.
        if target.name is None:
            raise transport.method_not_allowed()
        raise transport.not_found_route()
    if target.subresource in NOT_SIMULATED_SUBRESOURCES:
        raise RequestError(validation.bad_request(
            f"{target.info.plural}/{target.subresource} is not simulated: the containers of this cluster run no processes"))
    handler = {"GET": serve_get, "POST": serve_create, "PUT": serve_update, "PATCH": serve_patch,
               "DELETE": serve_delete}.get(method)
    if handler is None:
        raise transport.method_not_allowed()
    return handler(live, target, incoming)


def request_for(target: Target, verb: str, *, body: Any = None, params: dict | None = None,
                name: str | None = None, subresource: str | None = None) -> dict:
    return {"verb": verb, "resource": target.info.key, "namespace": target.namespace,
            "name": name if name is not None else target.name,
            "subresource": subresource if subresource is not None else target.subresource,
            "body": body, "params": params or {}}


def call(live: LiveCluster, request: dict) -> Answer:
    """One request through the simulated kubectl; connection failures become HTTP-level Statuses."""
    code, body, _events = live.api_request(request)
    if code == 0:
        return Answer(*_unreachable(live, body))
    if body is None:
        status = transport.no_answer_status()
        return Answer(status["code"], status)
    return Answer(code, body)


def _unreachable(live: LiveCluster, body: Any) -> tuple[int, dict]:
    status = transport.unreachable_status(body, lambda server: describe_unreachable(live, server))
    return status["code"], status


def describe_unreachable(live: LiveCluster, server_address: str) -> str:
    """Why the simulated kubectl cannot reach the apiserver at ``server_address``, read from the
    simulation (the address is an IP or a component name)."""
    sim = live.cluster.sim
    names = [server_address] if server_address in sim.components else list(live.cluster.layout.get("apiservers") or [])
    kubectl = sim.components.get("kubectl")
    reasons = []
    for name in names:
        server = sim.components.get(name)
        if server is None:
            continue
        machine = server.node or ""
        if sim.network.machines_down.get(machine):
            reasons.append(f"the machine {machine} running {name} is down")
        elif not server.running:
            reasons.append(f"{name} is down")
        elif kubectl is not None and not sim.network.reachable(kubectl.node, machine):
            reasons.append(f"the network between {kubectl.node} and {machine} is cut")
    return "; ".join(reasons) or "the kube-apiserver did not answer"


# GET ------------------------------------------------------------------------------------------------

def serve_get(live: LiveCluster, target: Target, incoming: Incoming) -> Answer:
    if target.subresource in ("binding", "eviction", "finalize"):
        raise transport.method_not_allowed()
    if target.subresource == "log":
        return serve_log(live, target, incoming)
    if target.name is None:
        params = transport.simulated_params(incoming.query, transport.LIST_PARAMETERS)
        answer = call(live, request_for(target, "list", params=params))
    else:
        params = transport.simulated_params(incoming.query, ("resourceVersion",))
        answer = call(live, request_for(target, "get", params=params))
    version = transport.table_version(incoming.accept)
    if version and answer.code == 200 and target.subresource is None and isinstance(answer.body, dict):
        answer.body = as_table(live, target, answer.body, version, incoming.query.get("includeObject"))
    return answer


def as_table(live: LiveCluster, target: Target, body: dict, version: str, include_object: str | None) -> dict:
    listing = target.name is None
    objects = list(body.get("items") or []) if listing else [body]
    now_ms = live.cluster.sim.start_epoch_ms + live.cluster.now_ms
    table = table_for(target.info.plural, objects, now_ms)
    table["kind"] = "Table"
    table["apiVersion"] = f"meta.k8s.io/{version}"
    metadata = dict(table.get("metadata") or {})
    source_metadata = body.get("metadata") or {}
    for key in ("resourceVersion", "continue", "remainingItemCount"):
        if key in source_metadata and listing:
            metadata[key] = source_metadata[key]
    if not listing:
        metadata.setdefault("resourceVersion", source_metadata.get("resourceVersion", ""))
    table["metadata"] = metadata
    attach_row_objects(table, objects, include_object)
    return table


def table_for(resource: str, objects: list[dict], now_ms: int) -> dict:
    """The other engineer's server-side printers when present; NAME/AGE otherwise."""
    try:
        from . import printers  # noqa: PLC0415  (written separately; may not exist yet)
    except ImportError:
        printers = None
    if printers is not None and hasattr(printers, "table_for"):
        try:
            return dict(printers.table_for(resource, objects, now_ms))
        except Exception:  # a printer bug must not turn `kubectl get` into a 500
            logger.exception("printers.table_for failed for %s; answering NAME/AGE", resource)
    return name_age_table(objects, now_ms)


def name_age_table(objects: list[dict], now_ms: int) -> dict:
    from web.kubeapi.printers import age_since

    rows = []
    for obj in objects:
        metadata = obj.get("metadata") or {}
        rows.append({"cells": [metadata.get("name", ""), age_since(metadata.get("creationTimestamp"), now_ms)]})
    columns = [
        {"name": "Name", "type": "string", "format": "name", "description": "Name of the object, unique in its namespace.", "priority": 0},
        {"name": "Age", "type": "string", "format": "", "description": "Time since the object was created.", "priority": 0},
    ]
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {}, "columnDefinitions": columns, "rows": rows}


def attach_row_objects(table: dict, objects: list[dict], include_object: str | None) -> None:
    rows = table.get("rows") or []
    if len(rows) != len(objects):
        return
    for row, obj in zip(rows, objects):
        if include_object == "None":
            row.pop("object", None)
        elif include_object == "Object":
            row["object"] = obj
        else:
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                             "metadata": obj.get("metadata") or {}}


def serve_log(live: LiveCluster, target: Target, incoming: Incoming) -> Answer:
    """pods/log: the simulated containers print nothing, so a running container's log is empty;
    the errors for containers that never started are the kubelet's."""
    answer = call(live, request_for(target, "get"))
    if answer.code != 200:
        return answer
    if isinstance(answer.body, str):
        return Answer(200, answer.body, content_type="text/plain")
    pod = answer.body if isinstance(answer.body, dict) else {}
    problem = log_problem(pod, target.name or "", incoming.query)
    if problem is not None:
        return Answer(400, validation.bad_request(problem))
    return Answer(200, "", content_type="text/plain")


def log_problem(pod: dict, name: str, query: dict[str, str]) -> str | None:
    spec = pod.get("spec") or {}
    containers = [container.get("name") for container in spec.get("containers") or []]
    init_containers = [container.get("name") for container in spec.get("initContainers") or []]
    wanted = query.get("container")
    if not wanted:
        if len(containers) != 1:
            text = f"a container name must be specified for pod {name}, choose one of: [{' '.join(containers)}]"
            if init_containers:
                text += f" or one of the init containers: [{' '.join(init_containers)}]"
            return text
        wanted = containers[0]
    if wanted not in containers + init_containers:
        return f"container {wanted} is not valid for pod {name}"
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    statuses += (pod.get("status") or {}).get("initContainerStatuses") or []
    status = next((item for item in statuses if item.get("name") == wanted), None)
    if is_true(query.get("previous")):
        if status is None or not (status.get("lastState") or {}).get("terminated"):
            return f'previous terminated container "{wanted}" in pod "{name}" not found'
        return None
    waiting = ((status or {}).get("state") or {}).get("waiting")
    if status is None or waiting is not None:
        reason = (waiting or {}).get("reason") or "ContainerCreating"
        return f'container "{wanted}" in pod "{name}" is waiting to start: {reason}'
    return None


# POST / PUT / PATCH -----------------------------------------------------------------------------------

def body_resource_key(target: Target) -> str:
    return {"scale": "Scale", "eviction": "Eviction", "binding": "Binding"}.get(target.subresource or "", target.info.key)


def expected_kind(target: Target) -> tuple[str, str]:
    """(apiVersion, kind) a body sent to this target must carry if it names them."""
    from cluster_sim.apiserver import kinds

    if target.subresource:
        sub = kinds.subresource_info(target.info.plural, target.subresource)
        if sub is not None:
            return sub.api_version, sub.kind
    return target.info.api_version, target.info.kind


def check_body(target: Target, body: dict, incoming: Incoming, *, patch: bool = False) -> list[str]:
    """Kind/version mismatch and unknown fields, as the real decoder reports them; returns warnings."""
    api_version, kind = expected_kind(target)
    if not patch:
        if body.get("apiVersion") not in (None, api_version) and target.subresource != "eviction":
            raise RequestError(validation.bad_request(
                f"the API version in the data ({body.get('apiVersion')}) does not match the expected API version ({api_version})"))
        if body.get("kind") not in (None, kind):
            raise RequestError(validation.bad_request(
                f"the kind of the provided object ({body.get('kind')}) does not match {kind}"))
    typed = transport.type_error(body_resource_key(target), body)
    if typed is not None:
        raise RequestError(validation.bad_request(f"{kind} in version {json.dumps(target.info.version)} "
                                                  f"cannot be handled as a {kind}: {typed}"))
    mode = incoming.query.get("fieldValidation") or "Warn"
    if mode not in ("Ignore", "Warn", "Strict"):
        raise RequestError(validation.bad_request(
            f"fieldValidation parameter unsupported: {mode}. Valid values: Ignore, Warn, Strict"))
    if mode == "Ignore":
        return []
    unknown = openapi.unknown_fields(body_resource_key(target), body)
    if unknown and mode == "Strict":
        raise transport.unknown_field_error(kind, target.info.version, unknown)
    return transport.unknown_field_warning(unknown)


def check_json_patch_values(target: Target, operations: list) -> None:
    """Each written value against the field it lands in: the patched object must still decode."""
    _api_version, kind = expected_kind(target)
    for operation in operations[:transport.MAX_PATCH_OPERATIONS]:
        sparse = transport.json_patch_as_object(operation)
        typed = transport.type_error(body_resource_key(target), sparse) if sparse is not None else None
        if typed is not None:
            raise RequestError(validation.bad_request(f"{kind} in version {json.dumps(target.info.version)} "
                                                      f"cannot be handled as a {kind}: {typed}"))


def mutation_params(incoming: Incoming) -> dict:
    params: dict = {}
    dry_run = transport.dry_run_value(incoming.query_lists.get("dryRun", []))
    if dry_run:
        params["dryRun"] = dry_run
    if incoming.query.get("fieldValidation"):
        params["fieldValidation"] = incoming.query["fieldValidation"]
    return params


def serve_create(live: LiveCluster, target: Target, incoming: Incoming) -> Answer:
    if target.name is not None and target.subresource not in ("eviction", "binding"):
        raise transport.method_not_allowed()
    body = transport.decode_object_body(incoming.body, incoming.content_type)
    warnings = check_body(target, body, incoming)
    check_object_limits(live, target, body, creating=True)
    params = mutation_params(incoming)
    if target.info.key == "bindings":
        pod_name = (body.get("metadata") or {}).get("name") or ""
        answer = call(live, {"verb": "create", "resource": "pods", "namespace": target.namespace, "name": pod_name,
                             "subresource": "binding", "body": body, "params": params})
    else:
        answer = call(live, request_for(target, "create", body=body, params=params))
    if target.subresource == "eviction" and 200 <= answer.code < 300:
        # kube-apiserver answers a granted eviction with 201 and a Success Status.
        answer = Answer(201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201})
    answer.warnings = warnings
    return answer


def serve_update(live: LiveCluster, target: Target, incoming: Incoming) -> Answer:
    if target.name is None or target.subresource in ("eviction", "binding", "log"):
        raise transport.method_not_allowed()
    body = transport.decode_object_body(incoming.body, incoming.content_type)
    warnings = check_body(target, body, incoming)
    check_object_limits(live, target, body)
    answer = call(live, request_for(target, "update", body=body, params=mutation_params(incoming)))
    answer.warnings = warnings
    return answer


def serve_patch(live: LiveCluster, target: Target, incoming: Incoming) -> Answer:
    if target.name is None or target.subresource in ("eviction", "binding", "log", "finalize"):
        raise transport.method_not_allowed()
    patch_type, patch = transport.decode_patch_body(incoming.body, incoming.content_type)
    warnings = check_body(target, patch, incoming, patch=True) if patch_type != "json" else []
    if patch_type == "json":
        check_json_patch_values(target, patch)
    check_object_limits(live, target, patch)
    params = dict(mutation_params(incoming), patchType=patch_type)
    answer = call(live, request_for(target, "patch", body=patch, params=params))
    answer.warnings = warnings
    return answer


# DELETE -----------------------------------------------------------------------------------------------

def delete_params(incoming: Incoming) -> tuple[dict, dict | None]:
    options = transport.decode_optional_json(incoming.body, incoming.content_type)
    params = transport.simulated_params(incoming.query, ("gracePeriodSeconds", "propagationPolicy"))
    dry_run = transport.dry_run_value(incoming.query_lists.get("dryRun", []) + list((options or {}).get("dryRun") or []))
    if dry_run:
        params["dryRun"] = dry_run
    if is_true(incoming.query.get("orphanDependents")) or (options or {}).get("orphanDependents") is True:
        params.setdefault("propagationPolicy", "Orphan")
    policy = params.get("propagationPolicy") or (options or {}).get("propagationPolicy")
    if policy is not None and policy not in ("Orphan", "Background", "Foreground"):
        raise RequestError(validation.invalid_status("", "DeleteOptions", "", [validation.not_supported(
            "propagationPolicy", policy, ["Foreground", "Background", "Orphan", "nil"])]))
    return params, options


def serve_delete(live: LiveCluster, target: Target, incoming: Incoming) -> Answer:
    if target.subresource is not None:
        raise transport.method_not_allowed()
    params, options = delete_params(incoming)
    if target.name is not None:
        return call(live, request_for(target, "delete", body=options, params=params))
    if "deletecollection" not in target.info.verbs:
        raise transport.method_not_allowed()
    return delete_collection(live, target, incoming, params, options)


def delete_collection(live: LiveCluster, target: Target, incoming: Incoming, params: dict,
                      options: dict | None) -> Answer:
    """deletecollection as the real registry does it: list what the selectors match, delete each."""
    selectors = transport.simulated_params(incoming.query, ("labelSelector", "fieldSelector"))
    listed = call(live, request_for(target, "list", params=selectors))
    if listed.code != 200:
        return listed
    deleted = []
    for item in (listed.body.get("items") or [])[:MAX_COLLECTION_DELETES]:
        metadata = item.get("metadata") or {}
        request = request_for(target, "delete", body=options, params=params, name=metadata.get("name"))
        request["namespace"] = metadata.get("namespace") if target.info.namespaced else None
        answer = call(live, request)
        if answer.code == 404:
            continue
        if answer.code >= 300:
            return answer
        deleted.append(answer.body if (answer.body or {}).get("kind") != "Status" else item)
    list_body = {"kind": target.info.kind + "List", "apiVersion": target.info.api_version,
                 "metadata": {"resourceVersion": (listed.body.get("metadata") or {}).get("resourceVersion", "")},
                 "items": deleted}
    return Answer(200, list_body)


# watch ------------------------------------------------------------------------------------------------

async def start_watch(live: LiveCluster, target: Target, incoming: Incoming) -> HttpResponse:
    if not transport.accepts_json(incoming.accept):
        raise transport.not_acceptable()
    params = transport.simulated_params(incoming.query, ("labelSelector", "fieldSelector", "resourceVersion",
                                                         "timeoutSeconds"))
    timeout_s = params.pop("timeoutSeconds", None)
    params["watch"] = "true"
    request = request_for(target, "watch", params=params)
    code, body, opened = await sync_to_async(watch.open_watch, thread_sensitive=False)(
        live, request, str(params.get("resourceVersion", "0")))
    if opened is None:
        if code == 410 and isinstance(body, dict):
            # The watch cache answers a too-old resourceVersion inside the stream, as an ERROR event.
            line = json.dumps({"type": "ERROR", "object": body}, separators=(",", ":")) + "\n"
            return HttpResponse(line, status=200, content_type=JSON_CONTENT_TYPE)
        answer = Answer(*_unreachable(live, body)) if code == 0 else (
            Answer(code, body) if body is not None else Answer(504, transport.no_answer_status()))
        return respond(answer)
    version = transport.table_version(incoming.accept)
    include_object = incoming.query.get("includeObject")

    def convert(event: dict) -> dict:
        obj = event.get("object")
        if version and isinstance(obj, dict):
            single = Target(info=target.info, namespace=target.namespace, name=(obj.get("metadata") or {}).get("name"))
            obj = as_table(live, single, obj, version, include_object)
        return {"type": event["type"], "object": obj}

    def bookmark(resource_version: str) -> dict:
        return {"kind": target.info.kind, "apiVersion": target.info.api_version,
                "metadata": {"resourceVersion": resource_version, "creationTimestamp": None}}

    body_stream = watch.stream(opened, timeout_s=timeout_s, bookmarks=is_true(incoming.query.get("allowWatchBookmarks")),
                               convert=convert, bookmark_object=bookmark)
    response = StreamingHttpResponse(body_stream, status=200, content_type=JSON_CONTENT_TYPE)
    response["Cache-Control"] = "no-cache, private"
    return response
