"""Conversion between the stored form of an object and the API version a request names.

Only Events need it: the real apiserver stores core v1 Events and serves the same objects as
events.k8s.io/v1 Events, renaming fields on the way (pkg/apis/events/v1/conversion.go and the
generated conversions): ``regarding`` is ``involvedObject``, ``note`` is ``message``,
``reportingController`` is ``reportingComponent`` and the ``deprecated*`` fields are the core
``source``, ``firstTimestamp``, ``lastTimestamp`` and ``count``.
"""
from __future__ import annotations

from typing import Any

EVENTS_VIEW = "events.events.k8s.io"
EVENTS_API_VERSION = "events.k8s.io/v1"
# events.k8s.io/v1 field -> core v1 field
EVENT_FIELDS = {
    "regarding": "involvedObject",
    "note": "message",
    "reportingController": "reportingComponent",
    "deprecatedSource": "source",
    "deprecatedFirstTimestamp": "firstTimestamp",
    "deprecatedLastTimestamp": "lastTimestamp",
    "deprecatedCount": "count",
}
CORE_EVENT_FIELDS = {core: view for view, core in EVENT_FIELDS.items()}


def _renamed(obj: dict, names: dict, api_version: str) -> dict:
    converted = {}
    for field, value in obj.items():
        converted[names.get(field, field)] = value
    converted["apiVersion"] = api_version
    converted["kind"] = "Event"
    return converted


def to_storage(resource_key: str, obj: Any) -> Any:
    """A request body in the request's version -> the stored (core) form."""
    if resource_key != EVENTS_VIEW or not isinstance(obj, dict):
        return obj
    if obj.get("apiVersion") not in (None, EVENTS_API_VERSION):
        return obj
    return _renamed(obj, EVENT_FIELDS, "v1")


def to_view(resource_key: str, obj: Any) -> Any:
    """A stored object -> the form of the version the request named."""
    if resource_key != EVENTS_VIEW or not isinstance(obj, dict) or obj.get("apiVersion") == EVENTS_API_VERSION:
        return obj
    return _renamed(obj, CORE_EVENT_FIELDS, EVENTS_API_VERSION)
