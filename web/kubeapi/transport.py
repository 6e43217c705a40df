"""HTTP <-> simulated API: decoding request bodies, media types, query parameters, Status errors.

Everything here is pure (no Django, no cluster): it turns what arrived over HTTP into the request
dict the simulated apiserver understands, or into the Status the real kube-apiserver answers
when a request cannot even be decoded.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import yaml

from cluster_sim.apiserver import kinds, validation

# kube-apiserver's limit on request bodies (MaxRequestBodyBytes).
MAX_BODY_BYTES = 3 * 1024 * 1024

JSON = "application/json"
YAML = "application/yaml"
PROTOBUF = "application/vnd.kubernetes.protobuf"
PATCH_TYPES = {
    "application/json-patch+json": "json",
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
}
APPLY_PATCH = "application/apply-patch+yaml"
BODY_MEDIA_TYPES = (JSON, YAML, PROTOBUF)


class RequestError(Exception):
    """A request that is answered with ``status`` before it reaches the cluster."""

    def __init__(self, status: dict):
        super().__init__(status.get("message"))
        self.status = status

    @property
    def code(self) -> int:
        return self.status["code"]


def not_found_route() -> RequestError:
    return RequestError(validation.status_error(404, "NotFound", "the server could not find the requested resource",
                                                {}))


def method_not_allowed() -> RequestError:
    return RequestError(validation.status_error(405, "MethodNotAllowed",
                                                "the server does not allow this method on the requested resource", {}))


# --- paths --------------------------------------------------------------------------------------

@dataclass
class Target:
    """The resource a request names: /api/v1/namespaces/{ns}/{plural}/{name}/{subresource}."""

    info: kinds.ResourceInfo
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None
    extra: list[str] = field(default_factory=list)


def parse_resource_path(segments: list[str], find_resource) -> Target:
    """``segments`` come after the group-version prefix; ``find_resource(plural)`` resolves names."""
    namespace = None
    if len(segments) >= 3 and segments[0] == "namespaces" and not (len(segments) == 3 and segments[2] in ("status", "finalize")):
        namespace = segments[1]
        segments = segments[2:]
    if not segments or len(segments) > 3 or any(not segment for segment in segments):
        raise not_found_route()
    info = find_resource(segments[0])
    if info is None or (namespace is not None and not info.namespaced):
        raise not_found_route()
    name = segments[1] if len(segments) > 1 else None
    subresource = segments[2] if len(segments) > 2 else None
    if subresource is not None and subresource not in info.subresources:
        raise not_found_route()
    return Target(info=info, namespace=namespace, name=name, subresource=subresource)


# --- media types --------------------------------------------------------------------------------

def media_type(header: str | None) -> tuple[str, dict]:
    """``application/json;as=Table;v=v1`` -> ("application/json", {"as": "Table", "v": "v1"})."""
    parts = [part.strip() for part in (header or "").split(";")]
    parameters = {}
    for part in parts[1:]:
        key, _, value = part.partition("=")
        if key:
            parameters[key.strip().lower()] = value.strip().strip('"')
    return parts[0].lower(), parameters


def table_version(accept: str | None) -> str | None:
    """The meta.k8s.io Table version the client asks for first (v1 preferred), or None."""
    offered = []
    for entry in (accept or "").split(","):
        kind, parameters = media_type(entry)
        if kind in (JSON, "*/*") and parameters.get("as") == "Table" and parameters.get("g") == "meta.k8s.io":
            offered.append(parameters.get("v", "v1"))
    if not offered:
        return None
    return "v1" if "v1" in offered else offered[0]


def accepts_json(accept: str | None) -> bool:
    """False only when the client names media types and none of them is JSON (protobuf only...)."""
    if not accept or not accept.strip():
        return True
    for entry in accept.split(","):
        kind, parameters = media_type(entry)
        if kind in (JSON, "application/*", "*/*", YAML) and parameters.get("as") in (None, "Table"):
            return True
    return False


def not_acceptable() -> RequestError:
    return RequestError(validation.status_error(
        406, "NotAcceptable", "only the following media types are accepted: application/json, application/yaml", {}))


# --- bodies -------------------------------------------------------------------------------------

def read_limit_error() -> RequestError:
    return RequestError(validation.status_error(413, "RequestEntityTooLarge",
                                                f"Request entity too large: limit is {MAX_BODY_BYTES}", {}))


def unsupported_media_type(content_type: str, accepted: list[str]) -> RequestError:
    del content_type
    return RequestError(validation.status_error(
        415, "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: " + ", ".join(accepted), {}))


def decode_object_body(raw: bytes, content_type: str | None) -> Any:
    """A create/update body: JSON, YAML or protobuf, as kube-apiserver accepts them (JSON when unnamed)."""
    kind, _ = media_type(content_type)
    kind = kind or JSON
    if kind not in BODY_MEDIA_TYPES:
        raise unsupported_media_type(kind, list(BODY_MEDIA_TYPES))
    if kind == PROTOBUF:
        from . import protobuf

        try:
            return protobuf.decode_object(raw)
        except (protobuf.ProtobufError, UnicodeDecodeError, ValueError) as error:
            raise RequestError(validation.bad_request(f"failed to decode protobuf body: {error}"))
    document = _parse(raw, kind, "couldn't get version/kind; json parse error: ")
    if not isinstance(document, dict):
        raise RequestError(validation.bad_request(
            "couldn't get version/kind; json parse error: json: cannot unmarshal "
            f"{_go_json_type(document)} into Go value of type struct {{ APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; "
            "Kind string \"json:\\\"kind,omitempty\\\"\" }"))
    return document


def decode_patch_body(raw: bytes, content_type: str | None) -> tuple[str, Any]:
    """(sim patch type, patch document) for a PATCH request."""
    kind, _ = media_type(content_type)
    if kind == APPLY_PATCH:
        raise RequestError(validation.status_error(
            415, "UnsupportedMediaType",
            "the body of the request was in an unknown format - accepted media types include: "
            + ", ".join(PATCH_TYPES) + " (server-side apply is not simulated: use kubectl apply without --server-side)",
            {}))
    patch_type = PATCH_TYPES.get(kind)
    if patch_type is None:
        raise unsupported_media_type(kind, list(PATCH_TYPES) + [APPLY_PATCH])
    document = _parse(raw, JSON, "")
    if patch_type == "json" and not isinstance(document, list):
        raise RequestError(validation.bad_request(
            f"json: cannot unmarshal {_go_json_type(document)} into Go value of type jsonpatch.Patch"))
    if patch_type == "json":
        problem = json_patch_problem(document)
        if problem is not None:
            raise RequestError(validation.bad_request(problem))
    if patch_type != "json" and not isinstance(document, dict):
        raise RequestError(validation.bad_request(
            f"json: cannot unmarshal {_go_json_type(document)} into Go value of type map[string]interface {{}}"))
    return patch_type, document


JSON_PATCH_OPERATIONS = ("add", "remove", "replace", "move", "copy", "test")
MAX_PATCH_OPERATIONS = 10_000


def json_patch_problem(operations: list) -> str | None:
    """What jsonpatch.DecodePatch / Apply would refuse in the shape of the operations (RFC 6902)."""
    for operation in operations[:MAX_PATCH_OPERATIONS]:
        if not isinstance(operation, dict):
            return (f"json: cannot unmarshal {_go_json_type(operation)} into Go value of type "
                    "jsonpatch.Operation")
        kind = operation.get("op")
        if kind not in JSON_PATCH_OPERATIONS:
            return f"Unexpected kind: {kind if isinstance(kind, str) else 'unknown'}"
        for name in ("path", "from") if kind in ("move", "copy") else ("path",):
            if not isinstance(operation.get(name), str):
                return f"{kind} operation does not apply: {name} must be a JSON pointer string"
    return None


def json_patch_as_object(operation: dict) -> dict | None:
    """An add/replace/test operation as the sparse object it writes ("/spec/replicas", 3 ->
    {"spec": {"replicas": 3}}), so its value can be type-checked like a merge patch."""
    if operation.get("op") not in ("add", "replace", "test") or not operation.get("path", "").startswith("/"):
        return None
    tokens = [token.replace("~1", "/").replace("~0", "~") for token in operation["path"][1:].split("/")]
    value: Any = operation.get("value")
    for token in reversed(tokens[:MAX_DECODE_DEPTH]):
        value = [value] if token.isdigit() or token == "-" else {token: value}
    return value if isinstance(value, dict) else None


def decode_optional_json(raw: bytes, content_type: str | None) -> dict | None:
    """DeleteOptions and similar: an optional JSON/YAML object."""
    if not raw.strip():
        return None
    return decode_object_body(raw, content_type or JSON)


def _parse(raw: bytes, kind: str, prefix: str) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestError(validation.bad_request(prefix + "invalid character looking for beginning of value"))
    if kind == YAML:
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise RequestError(validation.bad_request("error converting YAML to JSON: " + _yaml_message(error)))
        except RecursionError:  # PyYAML's composer recurses once per nesting level
            raise RequestError(validation.bad_request("error converting YAML to JSON: yaml: exceeded max depth"))
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise RequestError(validation.bad_request(prefix + go_json_error(text, error)))
    except RecursionError:
        raise RequestError(validation.bad_request(prefix + "exceeded max depth"))


def _yaml_message(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    if mark is not None:
        return f"yaml: line {mark.line + 1}: {problem}"
    return f"yaml: {problem}"


_EXPECTATIONS = [
    ("Expecting value", "looking for beginning of value"),
    ("Expecting property name enclosed in double quotes", "looking for beginning of object key string"),
    ("Expecting ':' delimiter", "after object key"),
    ("Expecting ',' delimiter", "after object key:value pair"),
    ("Extra data", "after top-level value"),
]


def go_json_error(text: str, error: json.JSONDecodeError) -> str:
    """Go encoding/json's wording for the syntax error Python found."""
    if error.pos >= len(text.rstrip()):
        return "unexpected end of JSON input"
    character = text[error.pos]
    for python_message, go_context in _EXPECTATIONS:
        if error.msg.startswith(python_message):
            if go_context == "after object key:value pair" and _inside_array(text, error.pos):
                go_context = "after array element"
            return f"invalid character {_go_quote_char(character)} {go_context}"
    return f"invalid character {_go_quote_char(character)} in string literal"


def _inside_array(text: str, position: int) -> bool:
    depth_marks = [character for character in text[:position] if character in "[]{}"]
    stack: list[str] = []
    for mark in depth_marks[:1_000_000]:
        if mark in "[{":
            stack.append(mark)
        elif stack:
            stack.pop()
    return bool(stack) and stack[-1] == "["


def _go_quote_char(character: str) -> str:
    if character == "'":
        return "'\\''"
    if character == "\n":
        return "'\\n'"
    return f"'{character}'"


def _go_json_type(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "null"
    return "object"


# --- typed decoding -------------------------------------------------------------------------------
# kube-apiserver decodes a body into Go structs before anything else looks at it: a known field
# of the wrong JSON type is a 400 there, so the simulated apiserver never sees it.

INT64_FIELDS = ("terminationGracePeriodSeconds", "activeDeadlineSeconds", "deletionGracePeriodSeconds",
                "generation", "tolerationSeconds", "value")
GO_INT_BOUNDS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
MAX_DECODE_DEPTH = 64
MAX_DECODE_ITEMS = 100_000


@dataclass
class _Decoding:
    """Where the walk is: the Go struct holding the field and the field's path without indexes."""

    struct: str
    path: str
    budget: list = field(default_factory=lambda: [MAX_DECODE_ITEMS])


def type_error(resource_key: str, body: Any) -> str | None:
    """Go encoding/json's error for the first known field of ``body`` with the wrong JSON type."""
    from . import openapi

    fields = openapi.KIND_FIELDS.get(resource_key)
    if fields is None or not isinstance(body, dict):
        return None
    kind = kinds.RESOURCES[resource_key].kind if resource_key in kinds.RESOURCES else resource_key
    return _struct_error(dict(openapi._TOP, **fields), body, _Decoding(kind, ""), 0)


def _struct_error(fields: dict, value: dict, where: _Decoding, depth: int) -> str | None:
    if depth > MAX_DECODE_DEPTH:
        return None
    for key, item in list(value.items())[:MAX_DECODE_ITEMS]:
        type_name = fields.get(key) if isinstance(key, str) else None
        if type_name is None or item is None:
            continue
        path = f"{where.path}.{key}" if where.path else key
        problem = _value_error(type_name, item, _Decoding(where.struct, path, where.budget), key, depth + 1)
        if problem is not None:
            return problem
    return None


def _value_error(type_name: str, item: Any, where: _Decoding, key: str, depth: int) -> str | None:
    from . import openapi

    where.budget[0] -= 1
    if where.budget[0] < 0 or item is None:
        return None
    go_type, ok = _go_type_check(type_name, item, key)
    if not ok and isinstance(item, dict) and go_type in ("map[string]string", "v1.ResourceList"):
        # A map with a value of the wrong type: Go names the value's type.
        item = next((value for value in item.values() if value is not None and not isinstance(value, str)), item)
        go_type = "string"
    if not ok:
        return (f"json: cannot unmarshal {_go_json_value(item, go_type)} into Go struct field "
                f"{where.struct}.{where.path} of type {go_type}")
    if type_name.startswith("[]") and isinstance(item, list):
        for element in item[:MAX_DECODE_ITEMS]:
            problem = _value_error(type_name[2:], element, where, key, depth + 1)
            if problem is not None:
                return problem
    nested = openapi.TYPES.get(type_name)
    if nested is not None:
        return _struct_error(nested, item, _Decoding(type_name, where.path, where.budget), depth)
    return None


def _go_type_check(type_name: str, item: Any, key: str) -> tuple[str, bool]:
    """(the Go type named in the error, whether ``item`` decodes into it)."""
    from . import openapi

    is_number = isinstance(item, (int, float)) and not isinstance(item, bool)
    if type_name.startswith("[]"):
        element = type_name[2:]
        return f"[]{_go_name(element)}", isinstance(item, list)
    if type_name == openapi._STR:
        return "string", isinstance(item, str)
    if type_name == openapi._BOOL:
        return "bool", isinstance(item, bool)
    if type_name == openapi._INT:
        go_type = "int64" if key in INT64_FIELDS else "int32"
        low, high = GO_INT_BOUNDS[go_type]
        whole = is_number and float(item).is_integer() if isinstance(item, float) else is_number
        return go_type, bool(whole) and low <= int(item) <= high
    if type_name in (openapi._MAP, openapi._QUANTITIES):
        values_ok = isinstance(item, dict) and all(
            value is None or isinstance(value, str) or (type_name == openapi._QUANTITIES and isinstance(value, (int, float))
                                                         and not isinstance(value, bool))
            for value in list(item.values())[:MAX_DECODE_ITEMS])
        return ("map[string]string" if type_name == openapi._MAP else "v1.ResourceList"), values_ok
    if type_name in ("Time", "MicroTime"):
        return f"v1.{type_name}", isinstance(item, str)
    if type_name == "IntOrString":
        return "intstr.IntOrString", isinstance(item, str) or (is_number and float(item).is_integer())
    if type_name == "Quantity":
        return "resource.Quantity", isinstance(item, str) or is_number
    return _go_name(type_name), isinstance(item, dict)  # a struct, or a free-form object


def _go_name(type_name: str) -> str:
    from . import openapi

    if type_name == openapi._STR:
        return "string"
    if type_name == openapi._OBJ:
        return "map[string]interface {}"
    return f"v1.{type_name}" if type_name[:1].isupper() else type_name


def _go_json_value(item: Any, go_type: str) -> str:
    """Go names numbers with their value when the type is numeric ("number 1.5"), else the JSON type."""
    json_type = _go_json_type(item)
    if json_type == "number" and go_type.startswith("int"):
        return f"number {json.dumps(item)}"
    return json_type


# --- query parameters -----------------------------------------------------------------------------

LIST_PARAMETERS = ("labelSelector", "fieldSelector", "limit", "continue", "resourceVersion")
INTEGER_PARAMETERS = ("limit", "gracePeriodSeconds", "timeoutSeconds")


def simulated_params(query: dict[str, str], names: tuple[str, ...]) -> dict:
    """The query parameters the simulated apiserver understands, typed as it expects."""
    params: dict = {}
    for name in names:
        value = query.get(name)
        if value is None or value == "":
            continue
        if name in INTEGER_PARAMETERS:
            if not re.fullmatch(r"-?\d{1,12}", value):
                raise RequestError(validation.bad_request(
                    f"strconv.ParseInt: parsing {json.dumps(value)}: invalid syntax"))
            params[name] = int(value)
        else:
            params[name] = value
    return params


def dry_run_value(query_values: list[str]) -> str | None:
    values = [value for value in query_values if value]
    for value in values:
        if value != "All":
            raise RequestError(validation.status_error(
                400, "BadRequest", f"Invalid dryRun value: {json.dumps(value)}, only \"All\" is supported", {}))
    return "All" if values else None


def unknown_field_error(info_kind: str, version: str, paths: list[str]) -> RequestError:
    listed = ", ".join(f'unknown field "{path}"' for path in paths)
    return RequestError(validation.bad_request(
        f"{info_kind} in version \"{version}\" cannot be handled as a {info_kind}: strict decoding error: {listed}"))


def unknown_field_warning(paths: list[str]) -> list[str]:
    return [f'unknown field "{path}"' for path in paths]


# --- the simulated apiserver cannot be reached ------------------------------------------------------

SERVER_PATTERN = re.compile(r"dial tcp ([^:\s]+):\d+")


def unreachable_status(error_body: Any, explain: Callable[[str], str]) -> dict:
    """What a client learns when the simulated kube-apiserver is down or cut off.

    Real kubectl would not get an HTTP answer at all ("The connection to the server ... was
    refused"); over HTTP the closest honest answer is 503 ServiceUnavailable for a refused
    connection and 504 Timeout for one that timed out, with the simulated cause in the message
    (``explain(server)`` describes it from the simulation's state).
    """
    body = error_body if isinstance(error_body, dict) else {}
    detail = body.get("message") or "no answer"
    match = SERVER_PATTERN.search(detail)
    server = match.group(1) if match else "kube-apiserver"
    cause = explain(server)
    if body.get("error") == "connection refused":
        message = (f"The connection to the server {server}:6443 was refused - did you specify the right host or port? "
                   f"(simulated: {cause})")
        return validation.status_error(503, "ServiceUnavailable", message, {})
    message = f"Unable to connect to the server: {detail} (simulated: {cause})"
    return validation.status_error(504, "Timeout", message, {})


def no_answer_status() -> dict:
    return validation.status_error(
        504, "Timeout", "The simulated kube-apiserver sent no answer within 60 s of simulated time", {})
