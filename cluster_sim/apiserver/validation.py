"""Validation of API objects and the Status objects the apiserver answers errors with.

Mirrors k8s.io/apimachinery field errors and the validators of kubernetes/kubernetes v1.33
(pkg/apis/core/validation, pkg/apis/apps/validation, ...): the same field paths, the same
``ErrorBody`` wording (``Invalid value: "x": detail``), the same order of checks, so that what
the learner sees in ``kubectl`` matches a real cluster.  Objects are v1 JSON dicts that have
already been through ``defaults.apply_defaults`` (as real validation runs on defaulted objects).

A cause is ``{"reason": "FieldValueInvalid", "message": <ErrorBody>, "field": "spec.replicas"}``.
"""
from __future__ import annotations

import functools
import json
import re
from fractions import Fraction
from typing import Any, Callable

from . import kinds
from .selectors import match_label_selector_object

Cause = dict
MAX_LOOP_ITEMS = 100_000  # bound for every loop over user-supplied lists

# --- Go value printing (field.Error.ErrorBody) ------------------------------------------------


class GoValue:
    """A value already rendered the way Go's ``%#v`` prints it (structs, typed maps)."""

    def __init__(self, text: str):
        self.text = text


def go_quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def go_string_map(mapping: dict | None) -> GoValue:
    """``map[string]string{"a":"b"}``; Go's fmt prints map keys sorted."""
    if mapping is None:
        return GoValue("map[string]string(nil)")
    items = ", ".join(f"{go_quote(str(key))}:{go_quote(str(mapping[key]))}" for key in sorted(mapping))
    return GoValue("map[string]string{" + items + "}")


def go_string_slice(values: list | None) -> GoValue:
    if values is None:
        return GoValue("[]string(nil)")
    return GoValue("[]string{" + ", ".join(go_quote(str(value)) for value in values) + "}")


def go_label_selector(selector: dict | None) -> GoValue:
    selector = selector or {}
    match_labels = selector.get("matchLabels")
    expressions = selector.get("matchExpressions")
    if expressions:
        rendered = ", ".join(
            "v1.LabelSelectorRequirement{Key:" + go_quote(str(item.get("key", ""))) + ", Operator:"
            + go_quote(str(item.get("operator", ""))) + ", Values:" + go_string_slice(item.get("values")).text + "}"
            for item in expressions[:MAX_LOOP_ITEMS])
        expressions_text = "[]v1.LabelSelectorRequirement{" + rendered + "}"
    else:
        expressions_text = "[]v1.LabelSelectorRequirement(nil)" if expressions is None else "[]v1.LabelSelectorRequirement{}"
    labels_text = go_string_map(match_labels).text
    return GoValue(f"v1.LabelSelector{{MatchLabels:{labels_text}, MatchExpressions:{expressions_text}}}")


def _format_value(value: Any) -> str:
    if isinstance(value, GoValue):
        return value.text
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, dict):
        return go_string_map(value).text
    if isinstance(value, list):
        return go_string_slice(value).text
    return str(value)


# --- field errors -------------------------------------------------------------------------------

def required(field: str, detail: str = "") -> Cause:
    return _cause("FieldValueRequired", "Required value", field, detail)


def forbidden(field: str, detail: str) -> Cause:
    return _cause("FieldValueForbidden", "Forbidden", field, detail)


def invalid(field: str, value: Any, detail: str) -> Cause:
    return _cause("FieldValueInvalid", f"Invalid value: {_format_value(value)}", field, detail)


def duplicate(field: str, value: Any) -> Cause:
    return _cause("FieldValueDuplicate", f"Duplicate value: {_format_value(value)}", field, "")


def not_found_value(field: str, value: Any) -> Cause:
    return _cause("FieldValueNotFound", f"Not found: {_format_value(value)}", field, "")


def not_supported(field: str, value: Any, valid_values: list[str]) -> Cause:
    detail = "supported values: " + ", ".join(go_quote(str(valid)) for valid in valid_values) if valid_values else ""
    return _cause("FieldValueNotSupported", f"Unsupported value: {_format_value(value)}", field, detail)


def too_long(field: str, max_length: int) -> Cause:
    return _cause("FieldValueTooLong", "Too long", field, f"may not be more than {max_length} bytes")


def _cause(reason: str, body: str, field: str, detail: str) -> Cause:
    message = f"{body}: {detail}" if detail else body
    return {"reason": reason, "message": message, "field": field}


# --- Status objects -----------------------------------------------------------------------------

def status_error(code: int, reason: str, message: str, details: dict | None = None) -> dict:
    """A ``meta/v1 Status`` of failure, with the fields in the order the real server writes them."""
    status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
              "message": message, "reason": reason}
    if details is not None:
        status["details"] = details
    status["code"] = code
    return status


def _details(name: str | None, group: str, kind: str, causes: list | None = None) -> dict:
    details: dict = {}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    if kind:
        details["kind"] = kind
    if causes:
        details["causes"] = causes
    return details


def _qualified(group: str, name: str) -> str:
    return f"{name}.{group}" if group else name


def invalid_status(group: str, kind: str, name: str, causes: list[Cause]) -> dict:
    """The 422 Status of ``errors.NewInvalid``: ``Deployment.apps "web" is invalid: <errors>``."""
    qualified_kind = _qualified(group, kind)
    seen: list[str] = []
    for cause in causes:
        text = f"{cause['field']}: {cause['message']}" if cause.get("field") else cause["message"]
        if text not in seen:
            seen.append(text)
    if not seen:
        message = f"{qualified_kind} {go_quote(name)} is invalid"
    elif len(seen) == 1:
        message = f"{qualified_kind} {go_quote(name)} is invalid: {seen[0]}"
    else:
        message = f"{qualified_kind} {go_quote(name)} is invalid: [{', '.join(seen)}]"
    return status_error(422, "Invalid", message, _details(name, group, kind, list(causes)))


def not_found(group: str, resource: str, name: str) -> dict:
    message = f"{_qualified(group, resource)} {go_quote(name)} not found"
    return status_error(404, "NotFound", message, _details(name, group, resource))


def already_exists(group: str, resource: str, name: str) -> dict:
    message = f"{_qualified(group, resource)} {go_quote(name)} already exists"
    return status_error(409, "AlreadyExists", message, _details(name, group, resource))


CONFLICT_MODIFIED = "the object has been modified; please apply your changes to the latest version and try again"


def conflict(group: str, resource: str, name: str, detail: str = CONFLICT_MODIFIED) -> dict:
    message = f"Operation cannot be fulfilled on {_qualified(group, resource)} {go_quote(name)}: {detail}"
    return status_error(409, "Conflict", message, _details(name, group, resource))


def forbidden_status(group: str, resource: str, name: str, detail: str) -> dict:
    qualified = _qualified(group, resource)
    if not resource:
        message = f"forbidden: {detail}"
    elif not name:
        message = f"{qualified} is forbidden: {detail}"
    else:
        message = f"{qualified} {go_quote(name)} is forbidden: {detail}"
    return status_error(403, "Forbidden", message, _details(name, group, resource))


def namespace_terminating(group: str, resource: str, name: str, namespace: str) -> dict:
    """NamespaceLifecycle's refusal to create content in a namespace being deleted."""
    status = forbidden_status(group, resource, name,
                              f"unable to create new content in namespace {namespace} because it is being terminated")
    status["details"]["causes"] = [{"reason": "NamespaceTerminating",
                                    "message": f"namespace {namespace} is being terminated",
                                    "field": "metadata.namespace"}]
    return status


def bad_request(message: str) -> dict:
    return status_error(400, "BadRequest", message)


def method_not_supported(group: str, resource: str, action: str) -> dict:
    message = f"{action} is not supported on resources of kind {go_quote(_qualified(group, resource))}"
    return status_error(405, "MethodNotAllowed", message, _details(None, group, resource))


def internal_error(detail: str) -> dict:
    status = status_error(500, "InternalError", f"Internal error occurred: {detail}",
                          {"causes": [{"message": detail}]})
    return status


def unknown_error(message: str, code: int = 500) -> dict:
    """What the apiserver answers for an error that is not an API status (``etcdserver: ...``):
    no reason, so kubectl prints ``Error from server: <message>``."""
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "code": code}


# --- names and labels (k8s.io/apimachinery/pkg/util/validation) ----------------------------------

_DNS1123_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN = _DNS1123_LABEL + "(\\." + _DNS1123_LABEL + ")*"
_DNS1035_LABEL = "[a-z]([-a-z0-9]*[a-z0-9])?"
_QUALIFIED_NAME = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_VALUE = "(" + _QUALIFIED_NAME + ")?"
_PERCENT = "[0-9]+%"
_CONFIG_MAP_KEY = "[-._a-zA-Z0-9]+"


def _full(pattern: str) -> re.Pattern:
    return re.compile("^" + pattern + "$")


_DNS1123_LABEL_RE = _full(_DNS1123_LABEL)
_DNS1123_SUBDOMAIN_RE = _full(_DNS1123_SUBDOMAIN)
_DNS1035_LABEL_RE = _full(_DNS1035_LABEL)
_QUALIFIED_NAME_RE = _full(_QUALIFIED_NAME)
_LABEL_VALUE_RE = _full(_LABEL_VALUE)
_PERCENT_RE = _full(_PERCENT)
_CONFIG_MAP_KEY_RE = _full(_CONFIG_MAP_KEY)


def regex_error(message: str, pattern: str, *examples: str) -> str:
    if not examples:
        return f"{message} (regex used for validation is '{pattern}')"
    text = message + " (e.g. "
    for index, example in enumerate(examples):
        if index > 0:
            text += " or "
        text += f"'{example}', "
    return text + f"regex used for validation is '{pattern}')"


def max_len_error(length: int) -> str:
    return f"must be no more than {length} characters"


def dns1123_label_errors(value: str) -> list[str]:
    errors = []
    if len(value) > 63:
        errors.append(max_len_error(63))
    if not _DNS1123_LABEL_RE.match(value):
        if _DNS1123_SUBDOMAIN_RE.match(value):
            errors.append("must not contain dots")
        else:
            errors.append(regex_error(
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
                "and must start and end with an alphanumeric character", _DNS1123_LABEL, "my-name", "123-abc"))
    return errors


def dns1123_subdomain_errors(value: str) -> list[str]:
    errors = []
    if len(value) > 253:
        errors.append(max_len_error(253))
    if not _DNS1123_SUBDOMAIN_RE.match(value):
        errors.append(regex_error(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
            "and must start and end with an alphanumeric character", _DNS1123_SUBDOMAIN, "example.com"))
    return errors


def dns1035_label_errors(value: str) -> list[str]:
    errors = []
    if len(value) > 63:
        errors.append(max_len_error(63))
    if not _DNS1035_LABEL_RE.match(value):
        errors.append(regex_error(
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
            "alphabetic character, and end with an alphanumeric character", _DNS1035_LABEL, "my-name", "abc-123"))
    return errors


_QUALIFIED_NAME_MESSAGE = ("must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
                           "with an alphanumeric character")


def qualified_name_errors(value: str) -> list[str]:
    parts = value.split("/")
    errors: list[str] = []
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errors.append("prefix part must be non-empty")
        else:
            errors.extend("prefix part " + message for message in dns1123_subdomain_errors(prefix))
    else:
        return ["a qualified name " + regex_error(_QUALIFIED_NAME_MESSAGE, _QUALIFIED_NAME, "MyName", "my.name", "123-abc")
                + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
    if not name:
        errors.append("name part must be non-empty")
    elif len(name) > 63:
        errors.append("name part " + max_len_error(63))
    if not _QUALIFIED_NAME_RE.match(name):
        errors.append("name part " + regex_error(_QUALIFIED_NAME_MESSAGE, _QUALIFIED_NAME, "MyName", "my.name", "123-abc"))
    return errors


def label_value_errors(value: str) -> list[str]:
    errors = []
    if len(value) > 63:
        errors.append(max_len_error(63))
    if not _LABEL_VALUE_RE.match(value):
        errors.append(regex_error(
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
            "and must start and end with an alphanumeric character", _LABEL_VALUE, "MyValue", "my_value", "12345"))
    return errors


def port_name_errors(port: str) -> list[str]:
    errors = []
    if len(port) > 15:
        errors.append(max_len_error(15))
    if not re.match("^[-a-z0-9]+$", port):
        errors.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search("[a-z]", port):
        errors.append("must contain at least one letter (a-z)")
    if "--" in port:
        errors.append("must not contain consecutive hyphens")
    if port and (port[0] == "-" or port[-1] == "-"):
        errors.append("must not begin or end with a hyphen")
    return errors


def config_map_key_errors(value: str) -> list[str]:
    errors = []
    if len(value) > 253:
        errors.append(max_len_error(253))
    if not _CONFIG_MAP_KEY_RE.match(value):
        errors.append(regex_error("a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                                  _CONFIG_MAP_KEY, "key.name", "KEY_NAME", "key-name"))
    if value == ".":
        errors.append("must not be '.'")
    elif value == "..":
        errors.append("must not be '..'")
    elif value.startswith(".."):
        errors.append("must not start with '..'")
    return errors


def inclusive_range_error(low: int, high: int) -> str:
    return f"must be between {low} and {high}, inclusive"


def _mask_trailing_dash(name: str) -> str:
    if len(name) > 1 and name.endswith("-"):
        return name[:-2] + "a"
    return name


def _name_checker(check: Callable[[str], list[str]]) -> Callable[[str, bool], list[str]]:
    def name_errors(name: str, prefix: bool) -> list[str]:
        return check(_mask_trailing_dash(name) if prefix else name)
    return name_errors


NAME_IS_DNS_SUBDOMAIN = _name_checker(dns1123_subdomain_errors)
NAME_IS_DNS_LABEL = _name_checker(dns1123_label_errors)
NAME_IS_DNS1035_LABEL = _name_checker(dns1035_label_errors)

# --- quantities (k8s.io/apimachinery/pkg/api/resource) -------------------------------------------

QUANTITY_REGEX = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
QUANTITY_FORMAT_ERROR = f"quantities must match the regular expression '{QUANTITY_REGEX}'"
QUANTITY_NUMERIC_ERROR = "unable to parse numeric part of quantity"
QUANTITY_SUFFIX_ERROR = "unable to parse quantity's suffix"
_DECIMAL_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL_SUFFIX_FOR = {exponent: suffix for suffix, exponent in _DECIMAL_SUFFIXES.items()}
_BINARY_SUFFIX_FOR = {exponent // 10: suffix for suffix, exponent in _BINARY_SUFFIXES.items()}


class QuantityError(ValueError):
    pass


def _scan_quantity(text: str) -> tuple[str, str]:
    """Split into (number, suffix) as ``parseQuantityString`` does, raising its errors."""
    match = re.match(r"^([+-]?)([0-9]*)(\.[0-9]*)?", text)
    number = match.group(0) if match else ""
    rest = text[len(number):]
    suffix_match = re.match(r"^[eEinumkKMGTP]*[-+]?[0-9]*$", rest)
    if suffix_match is None:
        raise QuantityError(QUANTITY_FORMAT_ERROR)
    return number, rest


def parse_quantity(text: Any) -> tuple[Fraction, str]:
    """(exact value, format) with format ``DecimalSI``, ``BinarySI`` or ``DecimalExponent``."""
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise QuantityError(QUANTITY_FORMAT_ERROR)
    # Only text is cached: 1, 1.0 and True are equal keys, and they are not the same quantity.
    return _parse_quantity_text(str(text) if not isinstance(text, float) else repr(text))


@functools.lru_cache(maxsize=4096)
def _parse_quantity_text(text: str) -> tuple[Fraction, str]:
    """A cluster's objects repeat the same few quantities ("100m", "128Mi") thousands of times,
    and exact parsing with Fractions is costly; the answer is immutable, so it is cached."""
    if not text:
        raise QuantityError(QUANTITY_FORMAT_ERROR)
    number, suffix = _scan_quantity(text)
    if suffix in _DECIMAL_SUFFIXES:
        base, exponent, format_name = 10, _DECIMAL_SUFFIXES[suffix], "DecimalSI"
    elif suffix in _BINARY_SUFFIXES:
        base, exponent, format_name = 2, _BINARY_SUFFIXES[suffix], "BinarySI"
    elif re.match(r"^[eE][-+]?[0-9]+$", suffix):
        base, exponent, format_name = 10, int(suffix[1:]), "DecimalExponent"
    else:
        raise QuantityError(QUANTITY_SUFFIX_ERROR)
    digits = number.lstrip("+-")
    if digits in ("", "."):
        if digits == "." or not number:
            raise QuantityError(QUANTITY_NUMERIC_ERROR)
        digits = "0"
    value = Fraction(digits if not digits.endswith(".") else digits[:-1] or "0")
    if number.startswith("-"):
        value = -value
    value *= Fraction(base) ** exponent
    value = _round_up(value, 9)
    if format_name == "BinarySI" and 0 < abs(value) < 1:
        format_name = "DecimalSI"
    return value, format_name


def _round_up(value: Fraction, digits: int) -> Fraction:
    """Round away from zero to ``digits`` decimal places (inf.RoundUp)."""
    scaled = value * 10 ** digits
    magnitude = -(-abs(scaled.numerator) // scaled.denominator)
    return Fraction(magnitude if value >= 0 else -magnitude, 10 ** digits)


def quantity_string(value: Fraction, format_name: str) -> str:
    """``Quantity.String()``: the canonical form (``0.5`` -> ``500m``, ``1024Mi`` -> ``1Gi``)."""
    if value == 0:
        return "0"
    if format_name == "BinarySI":
        if -1024 < value < 1024 or value.denominator != 1:
            format_name = "DecimalSI"
        else:
            return _binary_string(int(value))
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    exponent = 0
    while magnitude.denominator != 1:
        magnitude *= 10
        exponent -= 1
    mantissa = int(magnitude)
    while mantissa % 10 == 0:
        mantissa //= 10
        exponent += 1
    shift = exponent % 3
    mantissa *= 10 ** shift
    exponent -= shift
    if format_name == "DecimalExponent":
        suffix = f"e{exponent}" if exponent != 0 else ""
    elif exponent in _DECIMAL_SUFFIX_FOR:
        suffix = _DECIMAL_SUFFIX_FOR[exponent]
    else:
        suffix = f"e{exponent}"
    return f"{sign}{mantissa}{suffix}"


def _binary_string(value: int) -> str:
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    power = 0
    while magnitude % 1024 == 0 and power < 6:
        magnitude //= 1024
        power += 1
    return f"{sign}{magnitude}{_BINARY_SUFFIX_FOR.get(power, '')}"


def canonical_quantity(text: Any, milli_round_up: bool = False) -> str:
    """The canonical text of a quantity; ``milli_round_up`` applies SetDefaults_ResourceList."""
    if type(text) is str and type(milli_round_up) is bool:
        return _canonical_quantity_text(text, milli_round_up)
    return _canonical_quantity(text, milli_round_up)


# Defaulting canonicalises every quantity of every pod spec written, the same few texts
# ("100m", "64Mi") again and again, and Fraction arithmetic is slow.
@functools.lru_cache(maxsize=4096)
def _canonical_quantity_text(text: str, milli_round_up: bool) -> str:
    return _canonical_quantity(text, milli_round_up)


def _canonical_quantity(text: Any, milli_round_up: bool) -> str:
    value, format_name = parse_quantity(text)
    if milli_round_up:
        value = _round_up(value, 3)
    return quantity_string(value, format_name)


# --- decoding -----------------------------------------------------------------------------------

def _resource_lists(resource: str, obj: dict) -> list[tuple[str, dict]]:
    """(JSON path, resource list) of every quantity map in the object."""
    found: list[tuple[str, dict]] = []
    spec_path, spec = _pod_spec_of(resource, obj)
    if spec is None:
        return found
    for group in ("initContainers", "containers"):
        containers = spec.get(group)
        if not isinstance(containers, list):
            continue
        for container in containers[:MAX_LOOP_ITEMS]:
            resources = container.get("resources") if isinstance(container, dict) else None
            if not isinstance(resources, dict):
                continue
            for kind in ("limits", "requests"):
                if isinstance(resources.get(kind), dict):
                    found.append((f"{spec_path}.{group}.resources.{kind}", resources[kind]))
    return found


def _pod_spec_of(resource: str, obj: dict) -> tuple[str, dict | None]:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return "spec", None
    if resource == "pods":
        return "spec", spec
    if resource in ("deployments", "replicasets", "daemonsets"):
        template = spec.get("template")
        if isinstance(template, dict) and isinstance(template.get("spec"), dict):
            return "spec.template.spec", template["spec"]
    return "spec", None


_TYPED_FIELDS = {
    ("deployments", "spec.replicas"): ("DeploymentSpec", "int32"),
    ("replicasets", "spec.replicas"): ("ReplicaSetSpec", "int32"),
}


def decode_error(resource: str, obj: dict) -> dict | None:
    """The 400 Status the real server gives for a body it cannot decode, or None.

    Covers the mistakes a learner makes in YAML: malformed quantities, ``replicas: "3"``, a
    container list written as a map.
    """
    info = kinds.RESOURCES.get(resource)
    if info is None:
        return None
    problem = _decode_problem(resource, obj)
    if problem is None:
        return None
    return bad_request(f"{info.kind} in version {go_quote(info.version)} cannot be handled as a {info.kind}: {problem}")


def _decode_problem(resource: str, obj: dict) -> str | None:
    for (typed_resource, path), (struct, go_type) in _TYPED_FIELDS.items():
        if typed_resource != resource:
            continue
        value = (obj.get("spec") or {}).get(path.split(".")[-1]) if isinstance(obj.get("spec"), dict) else None
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            return (f"json: cannot unmarshal {_json_type(value)} into Go struct field {struct}.{path} "
                    f"of type {go_type}")
    spec_path, spec = _pod_spec_of(resource, obj)
    if spec is not None and spec.get("containers") is not None and not isinstance(spec["containers"], list):
        return (f"json: cannot unmarshal {_json_type(spec['containers'])} into Go struct field "
                f"PodSpec.{spec_path}.containers of type []v1.Container")
    for _path, quantities in _resource_lists(resource, obj):
        for value in list(quantities.values())[:MAX_LOOP_ITEMS]:
            try:
                parse_quantity(value)
            except QuantityError as error:
                return str(error)
    return None


def _json_type(value: Any) -> str:
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, list):
        return "array"
    return "object"


# --- object metadata ----------------------------------------------------------------------------

def _as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _as_list(value: Any) -> list:
    return value[:MAX_LOOP_ITEMS] if isinstance(value, list) else []


class _MemoizedByRepr:
    """A pure validator whose causes are remembered by the repr of its arguments.

    A cluster validates the same labels and pod specs again on every update of an object (a pod's
    spec does not change when its status does). repr tells apart what == does not (1, 1.0, True
    and "1" give different messages). Bounded: arguments with a long repr are not remembered, and
    of the rest only those used since the table before last was set aside (two generations, so
    an entry in use survives; no lock needed). Each call gets its own copies of the causes."""

    ENTRIES_PER_GENERATION = 4096
    MAX_KEY_CHARS = 4096

    def __init__(self, validator: Callable[..., list[Cause]]):
        functools.update_wrapper(self, validator)
        self.validator = validator
        self.recent: dict[str, list[Cause]] = {}
        self.older: dict[str, list[Cause]] = {}

    def __call__(self, *arguments: Any) -> list[Cause]:
        if not arguments[0]:
            return self.validator(*arguments)  # nothing to check is quicker than a lookup
        try:
            key = repr(arguments)
        except RecursionError:  # absurdly deep input: validated as it comes
            return self.validator(*arguments)
        if len(key) > self.MAX_KEY_CHARS:
            return self.validator(*arguments)
        causes = self.recent.get(key)
        if causes is None:
            causes = self.older.get(key)
            if causes is None:
                causes = self.validator(*arguments)
            if len(self.recent) >= self.ENTRIES_PER_GENERATION:
                self.older, self.recent = self.recent, {}
            self.recent[key] = causes
        return [dict(cause) for cause in causes]


@_MemoizedByRepr
def validate_labels(labels: Any, path: str) -> list[Cause]:
    causes = []
    for key, value in list(_as_dict(labels).items())[:MAX_LOOP_ITEMS]:
        causes += [invalid(path, key, message) for message in qualified_name_errors(str(key))]
        causes += [invalid(path, value, message) for message in label_value_errors(str(value))]
    return causes


@_MemoizedByRepr
def validate_annotations(annotations: Any, path: str) -> list[Cause]:
    causes = []
    total = 0
    for key, value in list(_as_dict(annotations).items())[:MAX_LOOP_ITEMS]:
        causes += [invalid(path, key, message) for message in qualified_name_errors(str(key).lower())]
        total += len(str(key)) + len(str(value))
    if total > 256 * 1024:
        causes.append(too_long(path, 256 * 1024))
    return causes


def validate_object_meta(metadata: Any, namespaced: bool, name_errors: Callable[[str, bool], list[str]]) -> list[Cause]:
    metadata = _as_dict(metadata)
    causes: list[Cause] = []
    generate_name = metadata.get("generateName") or ""
    if generate_name:
        causes += [invalid("metadata.generateName", generate_name, message) for message in name_errors(generate_name, True)]
    name = metadata.get("name") or ""
    if not name:
        causes.append(required("metadata.name", "name or generateName is required"))
    else:
        causes += [invalid("metadata.name", name, message) for message in name_errors(name, False)]
    namespace = metadata.get("namespace") or ""
    if namespaced:
        if not namespace:
            causes.append(required("metadata.namespace"))
        else:
            causes += [invalid("metadata.namespace", namespace, message) for message in NAME_IS_DNS_LABEL(namespace, False)]
    elif namespace:
        causes.append(forbidden("metadata.namespace", "not allowed on this type"))
    generation = metadata.get("generation")
    if isinstance(generation, int) and generation < 0:
        causes.append(invalid("metadata.generation", generation, "must be greater than or equal to 0"))
    causes += validate_labels(metadata.get("labels"), "metadata.labels")
    causes += validate_annotations(metadata.get("annotations"), "metadata.annotations")
    for finalizer in _as_list(metadata.get("finalizers")):
        causes += [invalid("metadata.finalizers", finalizer, message) for message in qualified_name_errors(str(finalizer))]
    return causes


_IMMUTABLE = "field is immutable"


def validate_object_meta_update(new: dict, old: dict) -> list[Cause]:
    """``ValidateObjectMetaUpdate`` minus the resourceVersion check: for every resource here the
    real store allows unconditional updates and fills in the stored resourceVersion first."""
    new_meta, old_meta = _as_dict(new.get("metadata")), _as_dict(old.get("metadata"))
    causes: list[Cause] = []
    if old_meta.get("deletionTimestamp"):
        added = sorted(set(_as_list(new_meta.get("finalizers"))) - set(_as_list(old_meta.get("finalizers"))))
        if added:
            causes.append(forbidden("metadata.finalizers",
                                    "no new finalizers can be added if the object is being deleted, found new finalizers "
                                    + go_string_slice(added).text))
    if (new_meta.get("generation") or 0) < (old_meta.get("generation") or 0):
        causes.append(invalid("metadata.generation", new_meta.get("generation") or 0, "must not be decremented"))
    for field in ("name", "namespace", "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"):
        if new_meta.get(field) != old_meta.get(field):
            causes.append(invalid(f"metadata.{field}", new_meta.get(field), _IMMUTABLE))
    causes += validate_labels(new_meta.get("labels"), "metadata.labels")
    causes += validate_annotations(new_meta.get("annotations"), "metadata.annotations")
    return causes


# --- pods ---------------------------------------------------------------------------------------

SUPPORTED_PROTOCOLS = ["SCTP", "TCP", "UDP"]
STANDARD_CONTAINER_RESOURCES = ("cpu", "memory", "ephemeral-storage")
_PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")


def _validate_container_ports(ports: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    names: list[str] = []
    for index, port in enumerate(_as_list(ports)):
        port = _as_dict(port)
        item = f"{path}[{index}]"
        name = port.get("name") or ""
        if name:
            messages = port_name_errors(name)
            if messages:
                causes += [invalid(f"{item}.name", name, message) for message in messages]
            elif name in names:
                causes.append(duplicate(f"{item}.name", name))
            else:
                names.append(name)
        container_port = port.get("containerPort") or 0
        if container_port == 0:
            causes.append(required(f"{item}.containerPort"))
        elif not 1 <= container_port <= 65535:
            causes.append(invalid(f"{item}.containerPort", container_port, inclusive_range_error(1, 65535)))
        host_port = port.get("hostPort") or 0
        if host_port and not 1 <= host_port <= 65535:
            causes.append(invalid(f"{item}.hostPort", host_port, inclusive_range_error(1, 65535)))
        causes += _validate_protocol(port.get("protocol"), f"{item}.protocol")
    return causes


def _validate_protocol(protocol: Any, path: str) -> list[Cause]:
    if not protocol:
        return [required(path)]
    if protocol not in SUPPORTED_PROTOCOLS:
        return [not_supported(path, protocol, SUPPORTED_PROTOCOLS)]
    return []


def _validate_env(env: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for index, variable in enumerate(_as_list(env)):
        variable = _as_dict(variable)
        name = variable.get("name") or ""
        item = f"{path}[{index}]"
        if not name:
            causes.append(required(f"{item}.name"))
        elif any(ord(char) > 126 or ord(char) < 32 or char == "=" for char in name):
            # RelaxedEnvironmentVariableValidation is on by default since v1.32.
            causes.append(invalid(f"{item}.name", name,
                                  "a valid environment variable name must consist only of printable ASCII characters other than '='"))
    return causes


def _validate_resource_requirements(resources: Any, path: str) -> list[Cause]:
    resources = _as_dict(resources)
    causes: list[Cause] = []
    limits = _parsed_quantities(resources.get("limits"))
    for name, (text, value, format_name) in limits.items():
        item = f"{path}.limits[{name}]"
        causes += _validate_container_resource_name(name, item)
        if value < 0:
            causes.append(invalid(item, quantity_string(value, format_name), "must be greater than or equal to 0"))
    for name, (text, value, format_name) in _parsed_quantities(resources.get("requests")).items():
        item = f"{path}.requests[{name}]"
        causes += _validate_container_resource_name(name, item)
        if value < 0:
            causes.append(invalid(item, quantity_string(value, format_name), "must be greater than or equal to 0"))
        if name in limits:
            _limit_text, limit_value, limit_format = limits[name]
            if value > limit_value:
                causes.append(invalid(f"{path}.requests", quantity_string(value, format_name),
                                      f"must be less than or equal to {name} limit of {quantity_string(limit_value, limit_format)}"))
    return causes


def _parsed_quantities(quantities: Any) -> dict[str, tuple[Any, Fraction, str]]:
    parsed = {}
    for name, text in list(_as_dict(quantities).items())[:MAX_LOOP_ITEMS]:
        try:
            value, format_name = parse_quantity(text)
        except QuantityError:
            continue  # decode_error reports it as the real decoder would
        parsed[name] = (text, value, format_name)
    return parsed


def _validate_container_resource_name(name: str, path: str) -> list[Cause]:
    causes = [invalid(path, name, message) for message in qualified_name_errors(name)]
    if "/" not in name:
        if name not in STANDARD_CONTAINER_RESOURCES and not name.startswith("hugepages-"):
            causes.append(invalid(path, name, "must be a standard resource for containers"))
    return causes


def _validate_probe(probe: Any, path: str, liveness_or_startup: bool) -> list[Cause]:
    if probe is None:
        return []
    probe = _as_dict(probe)
    handlers = [handler for handler in _PROBE_HANDLERS if probe.get(handler) is not None]
    causes: list[Cause] = []
    if not handlers:
        causes.append(required(path, "must specify a handler type"))
    elif len(handlers) > 1:
        causes.append(forbidden(f"{path}.{handlers[1]}", "may not specify more than 1 handler type"))
    for field in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"):
        value = probe.get(field)
        if isinstance(value, int) and value < 0:
            causes.append(invalid(f"{path}.{field}", value, "must be greater than or equal to 0"))
    if liveness_or_startup and probe.get("successThreshold", 1) != 1:
        causes.append(invalid(f"{path}.successThreshold", probe.get("successThreshold"), "must be 1"))
    return causes


def _validate_container_common(container: dict, path: str, volume_names: list[str]) -> list[Cause]:
    causes: list[Cause] = []
    name = container.get("name") or ""
    if not name:
        causes.append(required(f"{path}.name"))
    else:
        causes += [invalid(f"{path}.name", name, message) for message in dns1123_label_errors(name)]
    if not container.get("image"):
        causes.append(required(f"{path}.image"))
    policy = container.get("terminationMessagePolicy")
    if not policy:
        causes.append(required(f"{path}.terminationMessagePolicy"))
    elif policy not in ("File", "FallbackToLogsOnError"):
        causes.append(not_supported(f"{path}.terminationMessagePolicy", policy, ["File", "FallbackToLogsOnError"]))
    causes += _validate_container_ports(container.get("ports"), f"{path}.ports")
    causes += _validate_env(container.get("env"), f"{path}.env")
    causes += _validate_volume_mounts(container.get("volumeMounts"), f"{path}.volumeMounts", volume_names)
    pull_policy = container.get("imagePullPolicy")
    if not pull_policy:
        causes.append(required(f"{path}.imagePullPolicy"))
    elif pull_policy not in ("Always", "IfNotPresent", "Never"):
        causes.append(not_supported(f"{path}.imagePullPolicy", pull_policy, ["Always", "IfNotPresent", "Never"]))
    causes += _validate_resource_requirements(container.get("resources"), f"{path}.resources")
    return causes


def _validate_volume_mounts(mounts: Any, path: str, volume_names: list[str]) -> list[Cause]:
    causes: list[Cause] = []
    mount_paths: list[str] = []
    for index, mount in enumerate(_as_list(mounts)):
        mount = _as_dict(mount)
        item = f"{path}[{index}]"
        name = mount.get("name") or ""
        if not name:
            causes.append(required(f"{item}.name"))
        if name not in volume_names:
            causes.append(not_found_value(f"{item}.name", name))
        mount_path = mount.get("mountPath") or ""
        if not mount_path:
            causes.append(required(f"{item}.mountPath"))
        if mount_path in mount_paths:
            causes.append(invalid(f"{item}.mountPath", mount_path, "must be unique"))
        mount_paths.append(mount_path)
    return causes


def _validate_volumes(volumes: Any, path: str) -> tuple[list[str], list[Cause]]:
    causes: list[Cause] = []
    names: list[str] = []
    for index, volume in enumerate(_as_list(volumes)):
        volume = _as_dict(volume)
        item = f"{path}[{index}]"
        name = volume.get("name") or ""
        sources = [key for key in volume if key != "name"]
        if len(sources) == 0:
            causes.append(required(item, "must specify a volume type"))
        elif len(sources) > 1:
            causes.append(forbidden(f"{item}.{sources[1]}", "may not specify more than 1 volume type"))
        if not name:
            causes.append(required(f"{item}.name"))
        else:
            causes += [invalid(f"{item}.name", name, message) for message in dns1123_label_errors(name)]
        if name and name in names:
            causes.append(duplicate(f"{item}.name", name))
        elif name:
            names.append(name)
    return names, causes


def _validate_containers(containers: Any, path: str, volume_names: list[str]) -> list[Cause]:
    if not _as_list(containers):
        return [required(path)]
    causes: list[Cause] = []
    names: list[str] = []
    for index, container in enumerate(_as_list(containers)):
        container = _as_dict(container)
        item = f"{path}[{index}]"
        causes += _validate_container_common(container, item, volume_names)
        name = container.get("name") or ""
        if name in names:
            causes.append(duplicate(f"{item}.name", name))
        else:
            names.append(name)
        causes += _validate_probe(container.get("livenessProbe"), f"{item}.livenessProbe", True)
        causes += _validate_probe(container.get("readinessProbe"), f"{item}.readinessProbe", False)
        causes += _validate_probe(container.get("startupProbe"), f"{item}.startupProbe", True)
        if container.get("restartPolicy") is not None:
            causes.append(forbidden(f"{item}.restartPolicy", "may not be set for non-init containers"))
    return causes


def _validate_init_containers(init_containers: Any, containers: Any, path: str, volume_names: list[str]) -> list[Cause]:
    causes: list[Cause] = []
    names = [_as_dict(container).get("name") for container in _as_list(containers)]
    for index, container in enumerate(_as_list(init_containers)):
        container = _as_dict(container)
        item = f"{path}[{index}]"
        causes += _validate_container_common(container, item, volume_names)
        restart_policy = container.get("restartPolicy")
        if restart_policy is not None and restart_policy != "Always":
            causes.append(not_supported(f"{item}.restartPolicy", restart_policy, ["Always"]))
        name = container.get("name") or ""
        if name in names:
            causes.append(duplicate(f"{item}.name", name))
        elif name:
            names.append(name)
        if restart_policy != "Always":
            for probe in ("lifecycle", "livenessProbe", "readinessProbe", "startupProbe"):
                if container.get(probe) is not None:
                    causes.append(forbidden(f"{item}.{probe}", "may not be set for init containers without restartPolicy=Always"))
    return causes


def validate_tolerations(tolerations: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for index, toleration in enumerate(_as_list(tolerations)):
        toleration = _as_dict(toleration)
        item = f"{path}[{index}]"
        key = toleration.get("key") or ""
        operator = toleration.get("operator") or ""
        effect = toleration.get("effect") or ""
        value = toleration.get("value") or ""
        if key:
            causes += [invalid(f"{item}.key", key, message) for message in qualified_name_errors(key)]
        if not key and operator != "Exists":
            causes.append(invalid(f"{item}.operator", operator,
                                  "operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
        if toleration.get("tolerationSeconds") is not None and effect != "NoExecute":
            causes.append(invalid(f"{item}.effect", effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"))
        if operator in ("Equal", ""):
            messages = label_value_errors(value)
            if messages:
                causes.append(invalid(f"{item}.operator", value, ";".join(messages)))
        elif operator == "Exists":
            if value:
                causes.append(invalid(f"{item}.operator", value, "value must be empty when `operator` is 'Exists'"))
        else:
            causes.append(not_supported(f"{item}.operator", operator, ["Equal", "Exists"]))
        if effect and effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
            causes.append(not_supported(f"{item}.effect", effect, ["NoSchedule", "PreferNoSchedule", "NoExecute"]))
    return causes


@_MemoizedByRepr
def validate_pod_spec(spec: Any, path: str) -> list[Cause]:
    """``ValidatePodSpec``: checks in the order the real validator makes them."""
    spec = _as_dict(spec)
    causes: list[Cause] = []
    if spec.get("terminationGracePeriodSeconds") is None:
        causes.append(required(f"{path}.terminationGracePeriodSeconds"))
    volume_names, volume_causes = _validate_volumes(spec.get("volumes"), f"{path}.volumes")
    causes += volume_causes
    causes += _validate_containers(spec.get("containers"), f"{path}.containers", volume_names)
    causes += _validate_init_containers(spec.get("initContainers"), spec.get("containers"), f"{path}.initContainers", volume_names)
    causes += _validate_enum(spec.get("restartPolicy"), f"{path}.restartPolicy", ["Always", "OnFailure", "Never"])
    causes += _validate_enum(spec.get("dnsPolicy"), f"{path}.dnsPolicy",
                             ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"])
    causes += validate_labels(spec.get("nodeSelector"), f"{path}.nodeSelector")
    for field, checker in (("serviceAccountName", NAME_IS_DNS_SUBDOMAIN), ("nodeName", NAME_IS_DNS_SUBDOMAIN)):
        value = spec.get(field) or ""
        if value:
            causes += [invalid(f"{path}.{field}", value, message) for message in checker(value, False)]
    deadline = spec.get("activeDeadlineSeconds")
    if isinstance(deadline, int) and not 1 <= deadline <= 2**31 - 1:
        causes.append(invalid(f"{path}.activeDeadlineSeconds", deadline, inclusive_range_error(1, 2**31 - 1)))
    for field in ("hostname", "subdomain"):
        value = spec.get(field) or ""
        if value:
            causes += [invalid(f"{path}.{field}", value, message) for message in dns1123_label_errors(value)]
    causes += validate_tolerations(spec.get("tolerations"), f"{path}.tolerations")
    priority_class = spec.get("priorityClassName") or ""
    if priority_class:
        causes += [invalid(f"{path}.priorityClassName", priority_class, message)
                   for message in dns1123_subdomain_errors(priority_class)]
    if spec.get("preemptionPolicy") is not None:
        causes += _validate_enum(spec.get("preemptionPolicy"), f"{path}.preemptionPolicy", ["PreemptLowerPriority", "Never"])
    return causes


def _validate_enum(value: Any, path: str, valid_values: list[str]) -> list[Cause]:
    if not value:
        return [required(path)]
    if value not in valid_values:
        return [not_supported(path, value, valid_values)]
    return []


@_MemoizedByRepr
def validate_pod_template(template: Any, path: str) -> list[Cause]:
    template = _as_dict(template)
    metadata = _as_dict(template.get("metadata"))
    causes = validate_labels(metadata.get("labels"), f"{path}.labels")
    causes += validate_annotations(metadata.get("annotations"), f"{path}.annotations")
    causes += validate_pod_spec(template.get("spec"), f"{path}.spec")
    if _as_dict(template.get("spec")).get("ephemeralContainers"):
        causes.append(forbidden(f"{path}.spec.ephemeralContainers", "ephemeral containers not allowed in pod template"))
    return causes


def _validate_pod(obj: dict) -> list[Cause]:
    causes = validate_object_meta(obj.get("metadata"), True, NAME_IS_DNS_SUBDOMAIN)
    spec = _as_dict(obj.get("spec"))
    causes += validate_pod_spec(spec, "spec")
    for group in ("containers", "initContainers"):
        for index, container in enumerate(_as_list(spec.get(group))):
            image = _as_dict(container).get("image") or ""
            if image != image.strip():
                causes.append(invalid(f"spec.{group}[{index}].image", image, "must not have leading or trailing whitespace"))
    return causes


def _validate_pod_create(obj: dict) -> list[Cause]:
    causes = _validate_pod(obj)
    spec = _as_dict(obj.get("spec"))
    if spec.get("ephemeralContainers"):
        causes.append(forbidden("spec.ephemeralContainers", "cannot be set on create"))
    if spec.get("nodeName") and spec.get("schedulingGates"):
        causes.append(forbidden("spec.nodeName", "cannot be set until all schedulingGates have been cleared"))
    return causes


UPDATABLE_POD_SPEC_FIELDS = [
    "`spec.containers[*].image`",
    "`spec.initContainers[*].image`",
    "`spec.activeDeadlineSeconds`",
    "`spec.tolerations` (only additions to existing tolerations)",
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
]


def _validate_pod_update(new: dict, old: dict) -> list[Cause]:
    causes = validate_object_meta_update(new, old) + _validate_pod(new)
    new_spec, old_spec = _as_dict(new.get("spec")), _as_dict(old.get("spec"))
    for group in ("containers", "initContainers"):
        new_containers, old_containers = _as_list(new_spec.get(group)), _as_list(old_spec.get(group))
        if len(new_containers) != len(old_containers):
            causes.append(forbidden(f"spec.{group}", "pod updates may not add or remove containers"))
            return causes
    causes += _validate_active_deadline_update(new_spec, old_spec)
    causes += _validate_added_tolerations(new_spec.get("tolerations"), old_spec.get("tolerations"))
    munged = _munged_pod_spec(new_spec, old_spec)
    if munged != old_spec:
        causes.append(forbidden("spec", "pod updates may not change fields other than "
                                + ",".join(UPDATABLE_POD_SPEC_FIELDS) + "\n" + _spec_diff(old_spec, munged)))
    return causes


def _validate_active_deadline_update(new_spec: dict, old_spec: dict) -> list[Cause]:
    new_deadline, old_deadline = new_spec.get("activeDeadlineSeconds"), old_spec.get("activeDeadlineSeconds")
    if new_deadline is not None:
        if not 0 <= new_deadline <= 2**31 - 1:
            return [invalid("spec.activeDeadlineSeconds", new_deadline, inclusive_range_error(0, 2**31 - 1))]
        if old_deadline is not None and old_deadline < new_deadline:
            return [invalid("spec.activeDeadlineSeconds", new_deadline, "must be less than or equal to previous value")]
    elif old_deadline is not None:
        return [invalid("spec.activeDeadlineSeconds", None, "must not update from a positive integer to nil value")]
    return []


def _validate_added_tolerations(new: Any, old: Any) -> list[Cause]:
    new_list = _as_list(new)
    for previous in _as_list(old):
        ignoring_seconds = {key: value for key, value in _as_dict(previous).items() if key != "tolerationSeconds"}
        if not any({key: value for key, value in _as_dict(candidate).items() if key != "tolerationSeconds"} == ignoring_seconds
                   for candidate in new_list):
            return [forbidden("spec.tolerations", "existing toleration can not be modified except its tolerationSeconds")]
    return validate_tolerations(new_list, "spec.tolerations")


def _munged_pod_spec(new_spec: dict, old_spec: dict) -> dict:
    """The new spec with every field an update may change copied from the old one."""
    munged = dict(new_spec)
    for group in ("containers", "initContainers"):
        if group in new_spec:
            old_containers = _as_list(old_spec.get(group))
            munged[group] = [dict(_as_dict(container), image=_as_dict(old_containers[index]).get("image"))
                             if index < len(old_containers) else container
                             for index, container in enumerate(_as_list(new_spec.get(group)))]
            for container, previous in zip(munged[group], old_containers):
                if "image" not in _as_dict(previous):
                    container.pop("image", None)
    for field in ("activeDeadlineSeconds", "tolerations", "schedulingGates"):
        if field in old_spec:
            munged[field] = old_spec[field]
        else:
            munged.pop(field, None)
    old_grace = old_spec.get("terminationGracePeriodSeconds")
    if isinstance(old_grace, int) and old_grace < 0 and munged.get("terminationGracePeriodSeconds") == 1:
        munged["terminationGracePeriodSeconds"] = old_grace
    return munged


def _spec_diff(old: dict, new: dict) -> str:
    """A short rendering in the spirit of go-cmp's diff (not byte-identical to it)."""
    lines = ["  core.PodSpec{"]
    for key in list(dict.fromkeys([*old, *new]))[:MAX_LOOP_ITEMS]:
        if old.get(key) == new.get(key):
            continue
        field = key[0].upper() + key[1:]
        if key in old:
            lines.append(f"- \t{field}: {json.dumps(old[key], sort_keys=True)},")
        if key in new:
            lines.append(f"+ \t{field}: {json.dumps(new[key], sort_keys=True)},")
    lines.append("  }")
    return "\n".join(lines) + "\n"


# --- workloads (apps/v1) ------------------------------------------------------------------------

def _selector_matches(selector: dict, labels: dict) -> bool:
    return match_label_selector_object(selector, labels)


def validate_label_selector(selector: Any, path: str) -> list[Cause]:
    selector = _as_dict(selector)
    causes = validate_labels(selector.get("matchLabels"), f"{path}.matchLabels")
    for index, expression in enumerate(_as_list(selector.get("matchExpressions"))):
        expression = _as_dict(expression)
        item = f"{path}.matchExpressions[{index}]"
        operator = expression.get("operator")
        values = _as_list(expression.get("values"))
        if operator in ("In", "NotIn"):
            if not values:
                causes.append(required(f"{item}.values", "must be specified when `operator` is 'In' or 'NotIn'"))
        elif operator in ("Exists", "DoesNotExist"):
            if values:
                causes.append(forbidden(f"{item}.values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
        else:
            causes.append(invalid(f"{item}.operator", operator or "", "not a valid selector operator"))
        key = str(expression.get("key") or "")
        causes += [invalid(f"{item}.key", key, message) for message in qualified_name_errors(key)]
        for value_index, value in enumerate(values):
            causes += [invalid(f"{item}.values[{value_index}]", value, message) for message in label_value_errors(str(value))]
    return causes


def _nonnegative(value: Any, path: str) -> list[Cause]:
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        return [invalid(path, value, "must be greater than or equal to 0")]
    return []


def _validate_selector_and_template(spec: dict, owner: str, template_owner: str) -> list[Cause]:
    causes: list[Cause] = []
    selector = spec.get("selector")
    if selector is None:
        causes.append(required("spec.selector"))
    else:
        causes += validate_label_selector(selector, "spec.selector")
        if not _as_dict(selector).get("matchLabels") and not _as_dict(selector).get("matchExpressions"):
            causes.append(invalid("spec.selector", go_label_selector(selector), f"empty selector is invalid for {owner}"))
    template = _as_dict(spec.get("template"))
    labels = _as_dict(template.get("metadata")).get("labels")
    has_selector = selector is not None and (_as_dict(selector).get("matchLabels") or _as_dict(selector).get("matchExpressions"))
    if has_selector and not _selector_matches(_as_dict(selector), _as_dict(labels)):
        causes.append(invalid("spec.template.metadata.labels", go_string_map(labels), "`selector` does not match template `labels`"))
    causes += validate_pod_template(template, "spec.template")
    restart_policy = _as_dict(template.get("spec")).get("restartPolicy")
    if restart_policy != "Always":
        causes.append(not_supported("spec.template.spec.restartPolicy", restart_policy or "", ["Always"]))
    if _as_dict(template.get("spec")).get("activeDeadlineSeconds") is not None:
        causes.append(forbidden("spec.template.spec.activeDeadlineSeconds",
                                f"activeDeadlineSeconds in {template_owner} is not Supported"))
    return causes


def _int_or_percent_value(value: Any) -> int:
    if isinstance(value, str) and _PERCENT_RE.match(value):
        return int(value[:-1])
    return value if isinstance(value, int) else 0


def _int_or_string(value: Any) -> GoValue:
    if isinstance(value, str):
        return GoValue(f"intstr.IntOrString{{Type:1, IntVal:0, StrVal:{go_quote(value)}}}")
    return GoValue(f"intstr.IntOrString{{Type:0, IntVal:{value}, StrVal:\"\"}}")


def _validate_positive_int_or_percent(value: Any, path: str) -> list[Cause]:
    if isinstance(value, str):
        if not _PERCENT_RE.match(value):
            return [invalid(path, _int_or_string(value), regex_error(
                "a valid percent string must be a numeric string followed by an ending '%'", _PERCENT, "1%", "93%"))]
        return []
    return _nonnegative(value, path)


def _validate_deployment_strategy(strategy: Any) -> list[Cause]:
    strategy = _as_dict(strategy)
    kind = strategy.get("type")
    if kind == "Recreate":
        if strategy.get("rollingUpdate") is not None:
            return [forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'")]
        return []
    if kind != "RollingUpdate":
        return [not_supported("spec.strategy", GoValue(json.dumps(strategy)), ["Recreate", "RollingUpdate"])]
    rolling = strategy.get("rollingUpdate")
    if rolling is None:
        return [required("spec.strategy.rollingUpdate", "this should be defaulted and never be nil")]
    rolling = _as_dict(rolling)
    path = "spec.strategy.rollingUpdate"
    causes = _validate_positive_int_or_percent(rolling.get("maxUnavailable"), f"{path}.maxUnavailable")
    causes += _validate_positive_int_or_percent(rolling.get("maxSurge"), f"{path}.maxSurge")
    if _int_or_percent_value(rolling.get("maxUnavailable")) == 0 and _int_or_percent_value(rolling.get("maxSurge")) == 0:
        causes.append(invalid(f"{path}.maxUnavailable", _int_or_string(rolling.get("maxUnavailable")),
                              "may not be 0 when `maxSurge` is 0"))
    unavailable = rolling.get("maxUnavailable")
    if isinstance(unavailable, str) and _PERCENT_RE.match(unavailable) and int(unavailable[:-1]) > 100:
        causes.append(invalid(f"{path}.maxUnavailable", _int_or_string(unavailable), "must not be greater than 100%"))
    return causes


def _validate_deployment(obj: dict) -> list[Cause]:
    causes = validate_object_meta(obj.get("metadata"), True, NAME_IS_DNS_SUBDOMAIN)
    spec = _as_dict(obj.get("spec"))
    causes += _nonnegative(spec.get("replicas"), "spec.replicas")
    causes += _validate_selector_and_template(spec, "deployment", "ReplicaSet")
    causes += _validate_deployment_strategy(spec.get("strategy"))
    causes += _nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds")
    causes += _nonnegative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit")
    deadline = spec.get("progressDeadlineSeconds")
    if deadline is not None:
        causes += _nonnegative(deadline, "spec.progressDeadlineSeconds")
        if isinstance(deadline, int) and deadline <= (spec.get("minReadySeconds") or 0):
            causes.append(invalid("spec.progressDeadlineSeconds", deadline, "must be greater than minReadySeconds"))
    return causes


def _validate_replicaset(obj: dict) -> list[Cause]:
    causes = validate_object_meta(obj.get("metadata"), True, NAME_IS_DNS_SUBDOMAIN)
    spec = _as_dict(obj.get("spec"))
    causes += _nonnegative(spec.get("replicas"), "spec.replicas")
    causes += _nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds")
    # The real ReplicaSet validator reuses the Deployment wording for an empty selector.
    causes += _validate_selector_and_template(spec, "deployment", "ReplicaSet")
    return causes


def _validate_daemonset(obj: dict) -> list[Cause]:
    causes = validate_object_meta(obj.get("metadata"), True, NAME_IS_DNS_SUBDOMAIN)
    spec = _as_dict(obj.get("spec"))
    selector = spec.get("selector")
    causes += validate_label_selector(selector, "spec.selector")
    template = _as_dict(spec.get("template"))
    labels = _as_dict(template.get("metadata")).get("labels")
    if selector is not None and not _selector_matches(_as_dict(selector), _as_dict(labels)):
        causes.append(invalid("spec.template.metadata.labels", go_string_map(labels), "`selector` does not match template `labels`"))
    if selector is not None and not _as_dict(selector).get("matchLabels") and not _as_dict(selector).get("matchExpressions"):
        causes.append(invalid("spec.selector", go_label_selector(selector), "empty selector is invalid for daemonset"))
    causes += validate_pod_template(template, "spec.template")
    restart_policy = _as_dict(template.get("spec")).get("restartPolicy")
    if restart_policy != "Always":
        causes.append(not_supported("spec.template.spec.restartPolicy", restart_policy or "", ["Always"]))
    if _as_dict(template.get("spec")).get("activeDeadlineSeconds") is not None:
        causes.append(forbidden("spec.template.spec.activeDeadlineSeconds", "activeDeadlineSeconds in DaemonSet is not Supported"))
    causes += _nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds")
    causes += _validate_daemonset_strategy(spec.get("updateStrategy"))
    causes += _nonnegative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit")
    return causes


def _validate_daemonset_strategy(strategy: Any) -> list[Cause]:
    strategy = _as_dict(strategy)
    kind = strategy.get("type")
    if kind == "OnDelete":
        return []
    if kind != "RollingUpdate":
        return [not_supported("spec.updateStrategy", GoValue(json.dumps(strategy)), ["RollingUpdate", "OnDelete"])]
    if strategy.get("rollingUpdate") is None:
        return [required("spec.updateStrategy.rollingUpdate")]
    rolling = _as_dict(strategy.get("rollingUpdate"))
    path = "spec.updateStrategy.rollingUpdate"
    causes = _validate_positive_int_or_percent(rolling.get("maxUnavailable"), f"{path}.maxUnavailable")
    causes += _validate_positive_int_or_percent(rolling.get("maxSurge"), f"{path}.maxSurge")
    has_unavailable = _int_or_percent_value(rolling.get("maxUnavailable")) != 0
    has_surge = _int_or_percent_value(rolling.get("maxSurge")) != 0
    if has_unavailable and has_surge:
        causes.append(invalid(f"{path}.maxSurge", _int_or_string(rolling.get("maxSurge")), "may not be set when maxUnavailable is non-zero"))
    elif not has_unavailable and not has_surge:
        causes.append(required(f"{path}.maxUnavailable", "cannot be 0 when maxSurge is 0"))
    return causes


def _selector_immutable(new: dict, old: dict) -> list[Cause]:
    new_selector = _as_dict(new.get("spec")).get("selector")
    old_selector = _as_dict(old.get("spec")).get("selector")
    if new_selector != old_selector:
        value = go_label_selector(new_selector) if new_selector is not None else None
        return [invalid("spec.selector", value, _IMMUTABLE)]
    return []


# --- services and networking --------------------------------------------------------------------

SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]


def _is_headless(spec: dict) -> bool:
    return spec.get("clusterIP") == "None"


def _go_service_port_key(protocol: str, port: Any) -> GoValue:
    return GoValue(f"core.ServicePort{{Name:\"\", Protocol:{go_quote(protocol)}, AppProtocol:(*string)(nil), "
                   f"Port:{port}, TargetPort:intstr.IntOrString{{Type:0, IntVal:0, StrVal:\"\"}}, NodePort:0}}")


def _validate_service_ports(spec: dict) -> list[Cause]:
    causes: list[Cause] = []
    ports = _as_list(spec.get("ports"))
    names: list[str] = []
    for index, port in enumerate(ports):
        port = _as_dict(port)
        item = f"spec.ports[{index}]"
        name = port.get("name") or ""
        if len(ports) > 1 and not name:
            causes.append(required(f"{item}.name"))
        elif name:
            causes += [invalid(f"{item}.name", name, message) for message in dns1123_label_errors(name)]
            if name in names:
                causes.append(duplicate(f"{item}.name", name))
            else:
                names.append(name)
        number = port.get("port") or 0
        if not 1 <= number <= 65535:
            causes.append(invalid(f"{item}.port", number, inclusive_range_error(1, 65535)))
        causes += _validate_protocol(port.get("protocol"), f"{item}.protocol")
        causes += _validate_port_num_or_name(port.get("targetPort"), f"{item}.targetPort")
    return causes


def _validate_port_num_or_name(value: Any, path: str) -> list[Cause]:
    if isinstance(value, int):
        if not 1 <= value <= 65535:
            return [invalid(path, value, inclusive_range_error(1, 65535))]
        return []
    if isinstance(value, str):
        return [invalid(path, value, message) for message in port_name_errors(value)]
    return []


def _validate_service(obj: dict) -> list[Cause]:
    causes = validate_object_meta(obj.get("metadata"), True, NAME_IS_DNS1035_LABEL)
    spec = _as_dict(obj.get("spec"))
    service_type = spec.get("type")
    if not _as_list(spec.get("ports")) and not _is_headless(spec) and service_type != "ExternalName":
        causes.append(required("spec.ports"))
    if service_type in ("LoadBalancer", "NodePort") and _is_headless(spec):
        causes.append(invalid("spec.clusterIPs[0]", "None", f"may not be set to 'None' for {service_type} services"))
    if service_type == "ExternalName":
        cname = (spec.get("externalName") or "").rstrip(".")
        if cname:
            causes += [invalid("spec.externalName", cname, message) for message in dns1123_subdomain_errors(cname)]
        else:
            causes.append(required("spec.externalName"))
    causes += _validate_service_ports(spec)
    if spec.get("selector") is not None:
        causes += validate_labels(spec.get("selector"), "spec.selector")
    affinity = spec.get("sessionAffinity")
    if not affinity:
        causes.append(required("spec.sessionAffinity"))
    elif affinity not in ("ClientIP", "None"):
        causes.append(not_supported("spec.sessionAffinity", affinity, ["ClientIP", "None"]))
    if not service_type:
        causes.append(required("spec.type"))
    elif service_type not in SERVICE_TYPES:
        causes.append(not_supported("spec.type", service_type, SERVICE_TYPES))
    if service_type == "ClusterIP":
        for index, port in enumerate(_as_list(spec.get("ports"))):
            if _as_dict(port).get("nodePort"):
                causes.append(forbidden(f"spec.ports[{index}].nodePort", "may not be used when `type` is 'ClusterIP'"))
    causes += _duplicate_service_ports(spec)
    policy = spec.get("internalTrafficPolicy")
    if policy is None and service_type in ("NodePort", "LoadBalancer", "ClusterIP"):
        causes.append(required("spec.internalTrafficPolicy"))
    elif policy is not None and policy not in ("Cluster", "Local"):
        causes.append(not_supported("spec.internalTrafficPolicy", policy, ["Cluster", "Local"]))
    return causes


def _duplicate_service_ports(spec: dict) -> list[Cause]:
    causes: list[Cause] = []
    seen_node_ports: list[str] = []
    seen_ports: list[str] = []
    for index, port in enumerate(_as_list(spec.get("ports"))):
        port = _as_dict(port)
        node_port = port.get("nodePort") or 0
        if node_port:
            key = f"{port.get('protocol')}/{node_port}"
            if key in seen_node_ports:
                causes.append(duplicate(f"spec.ports[{index}].nodePort", node_port))
            seen_node_ports.append(key)
    for index, port in enumerate(_as_list(spec.get("ports"))):
        port = _as_dict(port)
        key = f"{port.get('protocol')}/{port.get('port')}"
        if key in seen_ports:
            causes.append(duplicate(f"spec.ports[{index}]", _go_service_port_key(str(port.get("protocol") or ""), port.get("port"))))
        seen_ports.append(key)
    return causes


def _validate_service_update(new: dict, old: dict) -> list[Cause]:
    causes = validate_object_meta_update(new, old)
    new_ips = _as_list(_as_dict(new.get("spec")).get("clusterIPs"))
    old_ips = _as_list(_as_dict(old.get("spec")).get("clusterIPs"))
    new_type = _as_dict(new.get("spec")).get("type")
    old_type = _as_dict(old.get("spec")).get("type")
    if "ExternalName" not in (new_type, old_type) and old_ips and new_ips and new_ips[0] != old_ips[0]:
        causes.append(invalid("spec.clusterIPs[0]", go_string_slice(new_ips), "may not change once set"))
    return causes + _validate_service(new)


def _validate_endpoints(obj: dict) -> list[Cause]:
    causes = validate_object_meta(obj.get("metadata"), True, NAME_IS_DNS_SUBDOMAIN)
    for index, subset in enumerate(_as_list(obj.get("subsets"))):
        subset = _as_dict(subset)
        if not subset.get("addresses") and not subset.get("notReadyAddresses"):
            causes.append(required(f"subsets[{index}]", "must specify `addresses` or `notReadyAddresses`"))
        for port_index, port in enumerate(_as_list(subset.get("ports"))):
            port = _as_dict(port)
            number = port.get("port") or 0
            if not 1 <= number <= 65535:
                causes.append(invalid(f"subsets[{index}].ports[{port_index}].port", number, inclusive_range_error(1, 65535)))
            causes += _validate_protocol(port.get("protocol"), f"subsets[{index}].ports[{port_index}].protocol")
    return causes


def _validate_endpoint_slice(obj: dict) -> list[Cause]:
    causes = validate_object_meta(obj.get("metadata"), True, NAME_IS_DNS_SUBDOMAIN)
    address_type = obj.get("addressType")
    if not address_type:
        causes.append(required("addressType"))
    elif address_type not in ("IPv4", "IPv6", "FQDN"):
        causes.append(not_supported("addressType", address_type, ["IPv4", "IPv6", "FQDN"]))
    for index, endpoint in enumerate(_as_list(obj.get("endpoints"))):
        addresses = _as_list(_as_dict(endpoint).get("addresses"))
        if not addresses:
            causes.append(required(f"endpoints[{index}].addresses", "must contain at least 1 address"))
    for index, port in enumerate(_as_list(obj.get("ports"))):
        port = _as_dict(port)
        causes += _validate_protocol(port.get("protocol"), f"ports[{index}].protocol")
    return causes


# --- the other kinds ----------------------------------------------------------------------------

def _validate_namespace(obj: dict) -> list[Cause]:
    causes = validate_object_meta(obj.get("metadata"), False, NAME_IS_DNS_LABEL)
    for finalizer in _as_list(_as_dict(obj.get("spec")).get("finalizers")):
        finalizer = str(finalizer)
        causes += [invalid("spec.finalizers", finalizer, message) for message in qualified_name_errors(finalizer)]
        if "/" not in finalizer and finalizer != "kubernetes":
            causes.append(invalid("spec.finalizers", finalizer, "name is neither a standard finalizer name nor is it fully qualified"))
    return causes


def _validate_node(obj: dict) -> list[Cause]:
    causes = validate_object_meta(obj.get("metadata"), False, NAME_IS_DNS_SUBDOMAIN)
    seen: list[str] = []
    for index, taint in enumerate(_as_list(_as_dict(obj.get("spec")).get("taints"))):
        taint = _as_dict(taint)
        item = f"metadata.taints[{index}]"
        key = str(taint.get("key") or "")
        causes += [invalid(f"{item}.key", key, message) for message in qualified_name_errors(key)]
        messages = label_value_errors(str(taint.get("value") or ""))
        if messages:
            causes.append(invalid(f"{item}.value", taint.get("value") or "", ";".join(messages)))
        causes += _validate_enum(taint.get("effect"), f"{item}.effect", ["NoSchedule", "PreferNoSchedule", "NoExecute"])
        identity = f"{key}:{taint.get('effect')}"
        if identity in seen:
            cause = duplicate(item, GoValue(json.dumps(taint)))
            cause["message"] += ": taints must be unique by key and effect pair"
            causes.append(cause)
        seen.append(identity)
    return causes


def _validate_config_map(obj: dict) -> list[Cause]:
    causes = validate_object_meta(obj.get("metadata"), True, NAME_IS_DNS_SUBDOMAIN)
    binary = _as_dict(obj.get("binaryData"))
    total = 0
    for key, value in list(_as_dict(obj.get("data")).items())[:MAX_LOOP_ITEMS]:
        causes += [invalid(f"data[{key}]", key, message) for message in config_map_key_errors(key)]
        if key in binary:
            causes.append(invalid(f"data[{key}]", key, "duplicate of key present in binaryData"))
        total += len(str(value))
    for key, value in list(binary.items())[:MAX_LOOP_ITEMS]:
        causes += [invalid(f"binaryData[{key}]", key, message) for message in config_map_key_errors(key)]
        total += len(str(value)) * 3 // 4
    if total > 1024 * 1024:
        causes.append(too_long("", 1024 * 1024))
    return causes


def _validate_secret(obj: dict) -> list[Cause]:
    causes = validate_object_meta(obj.get("metadata"), True, NAME_IS_DNS_SUBDOMAIN)
    data = _as_dict(obj.get("data"))
    for key in list(data)[:MAX_LOOP_ITEMS]:
        causes += [invalid(f"data[{key}]", key, message) for message in config_map_key_errors(key)]
    secret_type = obj.get("type")
    annotations = _as_dict(_as_dict(obj.get("metadata")).get("annotations"))
    if secret_type == "kubernetes.io/service-account-token" and not annotations.get("kubernetes.io/service-account.name"):
        causes.append(required("metadata.annotations[kubernetes.io/service-account.name]"))
    if secret_type == "kubernetes.io/tls":
        for key in ("tls.crt", "tls.key"):
            if key not in data:
                causes.append(required(f"data[{key}]"))
    return causes


def _validate_secret_update(new: dict, old: dict) -> list[Cause]:
    causes = validate_object_meta_update(new, old)
    if new.get("type") != old.get("type"):
        causes.append(invalid("type", new.get("type") or "", _IMMUTABLE))
    causes += _immutable_data(new, old, ("data",))
    return causes + _validate_secret(new)


def _immutable_data(new: dict, old: dict, fields: tuple[str, ...]) -> list[Cause]:
    if not old.get("immutable"):
        return []
    causes = []
    if not new.get("immutable"):
        causes.append(forbidden("immutable", "field is immutable when `immutable` is set"))
    for field in fields:
        if new.get(field) != old.get(field):
            causes.append(forbidden(field, "field is immutable when `immutable` is set"))
    return causes


def _validate_lease(obj: dict) -> list[Cause]:
    causes = validate_object_meta(obj.get("metadata"), True, NAME_IS_DNS_SUBDOMAIN)
    spec = _as_dict(obj.get("spec"))
    duration = spec.get("leaseDurationSeconds")
    if isinstance(duration, int) and duration <= 0:
        causes.append(invalid("spec.leaseDurationSeconds", duration, "must be greater than 0"))
    transitions = spec.get("leaseTransitions")
    if isinstance(transitions, int) and transitions < 0:
        causes.append(invalid("spec.leaseTransitions", transitions, "must be greater than or equal to 0"))
    return causes


def _validate_event(obj: dict) -> list[Cause]:
    causes = validate_object_meta(obj.get("metadata"), True, NAME_IS_DNS_SUBDOMAIN)
    involved = _as_dict(obj.get("involvedObject") or obj.get("regarding"))
    field = "involvedObject" if "involvedObject" in obj else "regarding"
    namespace = _as_dict(obj.get("metadata")).get("namespace")
    if involved.get("namespace") and namespace and involved["namespace"] != namespace:
        causes.append(invalid(f"{field}.namespace", involved["namespace"], "does not match event.namespace"))
    return causes


SYSTEM_PRIORITY_CLASS_VALUES = {"system-node-critical": 2000001000, "system-cluster-critical": 2000000000}
HIGHEST_USER_DEFINABLE_PRIORITY = 1000000000


def _validate_priority_class(obj: dict) -> list[Cause]:
    causes = validate_object_meta(obj.get("metadata"), False, NAME_IS_DNS_SUBDOMAIN)
    name = _as_dict(obj.get("metadata")).get("name") or ""
    value = obj.get("value") or 0
    if name.startswith("system-"):
        known = SYSTEM_PRIORITY_CLASS_VALUES.get(name)
        if known is None:
            error = f"{name} is not a known system priority class"
        elif known != value:
            error = f"value of {name} PriorityClass must be {known}"
        else:
            error = ""
        if error:
            causes.append(forbidden("metadata.name", "priority class names with 'system-' prefix are reserved for "
                                                     f"system use only. error: {error}"))
    elif value > HIGHEST_USER_DEFINABLE_PRIORITY:
        causes.append(forbidden("value", f"maximum allowed value of a user defined priority is {HIGHEST_USER_DEFINABLE_PRIORITY}"))
    if obj.get("preemptionPolicy") is not None:
        causes += _validate_enum(obj.get("preemptionPolicy"), "preemptionPolicy", ["PreemptLowerPriority", "Never"])
    return causes


def _validate_priority_class_update(new: dict, old: dict) -> list[Cause]:
    causes = validate_object_meta_update(new, old)
    if new.get("value") != old.get("value"):
        causes.append(forbidden("value", "may not be changed in an update."))
    if new.get("preemptionPolicy") != old.get("preemptionPolicy"):
        causes.append(invalid("preemptionPolicy", new.get("preemptionPolicy"), _IMMUTABLE))
    return causes


def _validate_binding(obj: dict) -> list[Cause]:
    target = _as_dict(obj.get("target"))
    causes = []
    if target.get("kind") and target["kind"] != "Node":
        causes.append(not_supported("target.kind", target["kind"], ["Node", "<empty>"]))
    if not target.get("name"):
        causes.append(required("target.name"))
    return causes


def _meta_only(namespaced: bool, name_errors: Callable[[str, bool], list[str]]) -> Callable[[dict], list[Cause]]:
    def validate(obj: dict) -> list[Cause]:
        return validate_object_meta(obj.get("metadata"), namespaced, name_errors)
    return validate


_CREATE_VALIDATORS: dict[str, Callable[[dict], list[Cause]]] = {
    "pods": _validate_pod_create,
    "deployments": _validate_deployment,
    "replicasets": _validate_replicaset,
    "daemonsets": _validate_daemonset,
    "services": _validate_service,
    "endpoints": _validate_endpoints,
    "endpointslices": _validate_endpoint_slice,
    "namespaces": _validate_namespace,
    "nodes": _validate_node,
    "configmaps": _validate_config_map,
    "secrets": _validate_secret,
    "serviceaccounts": _meta_only(True, NAME_IS_DNS_SUBDOMAIN),
    "leases": _validate_lease,
    "events": _validate_event,
    "events.events.k8s.io": _validate_event,
    "priorityclasses": _validate_priority_class,
    "bindings": _validate_binding,
}

_UPDATE_VALIDATORS: dict[str, Callable[[dict, dict], list[Cause]]] = {
    "pods": _validate_pod_update,
    "deployments": lambda new, old: validate_object_meta_update(new, old) + _validate_deployment(new) + _selector_immutable(new, old),
    "replicasets": lambda new, old: validate_object_meta_update(new, old) + _validate_replicaset(new) + _selector_immutable(new, old),
    "daemonsets": lambda new, old: validate_object_meta_update(new, old) + _validate_daemonset(new) + _selector_immutable(new, old),
    "services": _validate_service_update,
    "secrets": _validate_secret_update,
    "configmaps": lambda new, old: (validate_object_meta_update(new, old) + _immutable_data(new, old, ("data", "binaryData"))
                                    + _validate_config_map(new)),
    "namespaces": validate_object_meta_update,
    "priorityclasses": _validate_priority_class_update,
}


def validate_create(resource: str, obj: dict) -> list[Cause]:
    """StatusCauses for creating ``obj`` (already defaulted and admitted) as ``resource``."""
    validator = _CREATE_VALIDATORS.get(resource)
    return validator(obj) if validator is not None else []


def validate_update(resource: str, new: dict, old: dict) -> list[Cause]:
    """StatusCauses for replacing ``old`` with ``new``; immutable fields included."""
    validator = _UPDATE_VALIDATORS.get(resource)
    if validator is not None:
        return validator(new, old)
    create_validator = _CREATE_VALIDATORS.get(resource)
    causes = validate_object_meta_update(new, old)
    if create_validator is not None:
        causes += [cause for cause in create_validator(new) if not cause["field"].startswith("metadata.")]
    return causes
