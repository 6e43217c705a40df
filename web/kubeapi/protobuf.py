"""Decoding Kubernetes protobuf request bodies (application/vnd.kubernetes.protobuf) into JSON dicts.

kubectl's typed clients (create deployment/namespace/configmap..., expose, run, drain's evictions,
delete options) send protobuf. The envelope is the 4 magic bytes ``k8s\\0`` and a runtime.Unknown
{typeMeta, raw}; ``raw`` is the object's message, decoded with the wire schema in
protobuf_schema.json (built by protobuf_schema_build.py).

Go always writes non-pointer fields, so empty strings and zero timestamps are dropped here, as the
JSON encoder's ``omitempty`` would; numbers, booleans and empty messages are kept (a pointer that
was set to 0, false or {} means something).
"""
from __future__ import annotations

import base64
import datetime
import functools
import json
import os
import struct
from typing import Any

MAGIC = b"k8s\x00"
MAX_DEPTH = 64
MAX_FIELDS = 1_000_000
# Go's zero time.Time, as a Unix time.
GO_ZERO_TIME_S = -62135596800

UNKNOWN = "k8s.io.apimachinery.pkg.runtime.Unknown"
TIME_TYPES = ("k8s.io.apimachinery.pkg.apis.meta.v1.Time", "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime")
QUANTITY = "k8s.io.apimachinery.pkg.api.resource.Quantity"
INT_OR_STRING = "k8s.io.apimachinery.pkg.util.intstr.IntOrString"
RAW_TYPES = ("k8s.io.apimachinery.pkg.runtime.RawExtension", "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1")
DURATION = "k8s.io.apimachinery.pkg.apis.meta.v1.Duration"

GROUP_PACKAGES = {"": "k8s.io.api.core.v1", "apps": "k8s.io.api.apps.v1", "policy": "k8s.io.api.policy.v1",
                  "autoscaling": "k8s.io.api.autoscaling.v1", "coordination.k8s.io": "k8s.io.api.coordination.v1",
                  "discovery.k8s.io": "k8s.io.api.discovery.v1", "events.k8s.io": "k8s.io.api.events.v1",
                  "scheduling.k8s.io": "k8s.io.api.scheduling.v1"}
META_KINDS = ("DeleteOptions", "Status", "ListOptions", "GetOptions", "CreateOptions", "PatchOptions", "UpdateOptions")


class ProtobufError(ValueError):
    """The body is not a protobuf encoding of a known Kubernetes object."""


@functools.lru_cache(maxsize=1)
def schema() -> dict[str, dict[str, list]]:
    with open(os.path.join(os.path.dirname(__file__), "protobuf_schema.json"), encoding="utf-8") as handle:
        return json.load(handle)


def decode_object(data: bytes) -> dict:
    """The JSON form of a protobuf-encoded object (with its apiVersion and kind)."""
    if not data.startswith(MAGIC):
        raise ProtobufError("provided object is not a protobuf message (missing the k8s magic prefix)")
    envelope = decode_message(data[len(MAGIC):], UNKNOWN, 0)
    type_meta = envelope.get("typeMeta") or {}
    api_version, kind = type_meta.get("apiVersion", ""), type_meta.get("kind", "")
    message_type = message_for(api_version, kind)
    if message_type is None:
        raise ProtobufError(f"no kind \"{kind}\" is registered for version \"{api_version}\"")
    raw = base64.b64decode(envelope.get("raw") or "")
    obj = decode_message(raw, message_type, 0)
    return dict({"kind": kind, "apiVersion": api_version}, **obj)


def message_for(api_version: str, kind: str) -> str | None:
    group, _, version = api_version.rpartition("/")
    if kind in META_KINDS:
        candidate = f"k8s.io.apimachinery.pkg.apis.meta.v1.{kind}"
    else:
        package = GROUP_PACKAGES.get(group)
        if package is None or version != "v1":
            return None
        candidate = f"{package}.{kind}"
    return candidate if candidate in schema() else None


def _varint(data: bytes, position: int) -> tuple[int, int]:
    result = 0
    for shift in range(0, 70, 7):
        if position >= len(data):
            raise ProtobufError("truncated varint")
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, position
    raise ProtobufError("varint too long")


def _fields(data: bytes):
    """(field number, wire type, value) of each field; value is an int or bytes."""
    position = 0
    for _index in range(MAX_FIELDS):
        if position >= len(data):
            return
        key, position = _varint(data, position)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, position = _varint(data, position)
        elif wire_type == 1:
            value, position = data[position:position + 8], position + 8
        elif wire_type == 2:
            length, position = _varint(data, position)
            if position + length > len(data):
                raise ProtobufError("truncated length-delimited field")
            value, position = data[position:position + length], position + length
        elif wire_type == 5:
            value, position = data[position:position + 4], position + 4
        else:
            raise ProtobufError(f"unsupported wire type {wire_type}")
        yield number, wire_type, value
    raise ProtobufError("too many fields")


def decode_message(data: bytes, message_type: str, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ProtobufError("message nested too deeply")
    fields = schema().get(message_type)
    if fields is None:
        raise ProtobufError(f"unknown message type {message_type}")
    result: dict = {}
    for number, wire_type, value in _fields(data):
        spec = fields.get(str(number))
        if spec is None:
            continue  # a field newer than our schema: the real decoder skips it too
        name, field_type, label = spec
        if label == "map":
            key, item = _map_entry(value, field_type, depth)
            result.setdefault(name, {})[key] = item
        elif label == "repeated":
            result.setdefault(name, []).extend(_repeated(wire_type, value, field_type, depth))
        else:
            result[name] = _scalar_or_message(wire_type, value, field_type, depth)
    return _special(message_type, result)


def _map_entry(data: bytes, value_type: str, depth: int) -> tuple[str, Any]:
    key, item = "", None
    for number, wire_type, value in _fields(data):
        if number == 1:
            key = value.decode("utf-8") if isinstance(value, bytes) else str(value)
        elif number == 2:
            item = _scalar_or_message(wire_type, value, value_type, depth)
    if item is None:
        item = "" if value_type in ("string", "bytes", QUANTITY) else None
    return key, item


def _repeated(wire_type: int, value: Any, field_type: str, depth: int) -> list:
    if wire_type == 2 and field_type in ("int32", "int64", "bool"):
        # A packed repeated scalar.
        items, position = [], 0
        for _index in range(MAX_FIELDS):
            if position >= len(value):
                return items
            number, position = _varint(value, position)
            items.append(_integer(number, field_type))
        raise ProtobufError("too many packed values")
    return [_scalar_or_message(wire_type, value, field_type, depth)]


def _integer(value: int, field_type: str) -> Any:
    if field_type == "bool":
        return bool(value)
    if value >= 1 << 63:
        value -= 1 << 64
    if field_type == "int32" and value >= 1 << 31:
        value -= 1 << 32
    return value


def _scalar_or_message(wire_type: int, value: Any, field_type: str, depth: int) -> Any:
    if field_type == "string":
        return value.decode("utf-8")
    if field_type == "bytes":
        return base64.b64encode(value).decode()
    if field_type in ("int32", "int64", "bool", "uint32", "uint64"):
        return _integer(value, field_type)
    if field_type == "double":
        return struct.unpack("<d", value)[0]
    if field_type == "float":
        return struct.unpack("<f", value)[0]
    return decode_message(value, field_type, depth + 1)


def _special(message_type: str, fields: dict) -> Any:
    """Types whose JSON form is not an object of their fields; and Go's omitempty on strings."""
    if message_type in TIME_TYPES:
        seconds = fields.get("seconds", 0)
        if seconds in (0, GO_ZERO_TIME_S) and not fields.get("nanos"):
            return None
        moment = datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc)
        if message_type.endswith("MicroTime"):
            moment += datetime.timedelta(microseconds=fields.get("nanos", 0) // 1000)
            return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if message_type == QUANTITY:
        return fields.get("string", "")
    if message_type == INT_OR_STRING:
        return fields.get("strVal", "") if fields.get("type") == 1 else fields.get("intVal", 0)
    if message_type in RAW_TYPES:
        raw = fields.get("raw") or fields.get("Raw")
        return json.loads(base64.b64decode(raw)) if raw else None
    if message_type == DURATION:
        return f"{fields.get('duration', 0) / 1e9}s"
    return {name: value for name, value in fields.items() if value != "" and value is not None}
