"""Kubernetes Event objects, written the way client-go's event recorder writes them.

An Event is named `<object name>.<unix nanoseconds in hex>` of the moment it was first seen; a
repeat of the same (object, reason, message, source) within 10 minutes patches `count` and
`lastTimestamp` instead of creating a new object, as the recorder's correlator does.
"""
from __future__ import annotations

from typing import Any

AGGREGATION_WINDOW_MS = 10 * 60_000
MAX_REMEMBERED = 4_096
CONTEXT_KEY = "event_recorder"


class EventRecorder:
    def __init__(self, source_component: str, host: str | None = None):
        self.source_component = source_component
        self.host = host
        # correlation key -> {"name", "namespace", "count", "first_ms", "last_ms"}
        self.seen: dict[str, dict] = {}

    def record(self, owner: Any, involved: dict, event_type: str, reason: str, message: str,
               field_path: str | None = None) -> None:
        metadata = involved.get("metadata") or {}
        namespace = metadata.get("namespace") or "default"
        now_ms = owner.sim.now_ms
        key = "|".join([metadata.get("uid", ""), metadata.get("name", ""), reason, message, field_path or ""])
        previous = self.seen.get(key)
        owner.emit("k8s.event", owner.name, {"type": event_type, "reason": reason, "message": message,
                                             "object": _reference_text(involved), "namespace": namespace})
        if previous is not None and now_ms - previous["last_ms"] <= AGGREGATION_WINDOW_MS:
            previous["count"] += 1
            previous["last_ms"] = now_ms
            owner.api.request("patch", "events", namespace=previous["namespace"], name=previous["name"],
                              body={"count": previous["count"], "lastTimestamp": owner.now_text()},
                              params={"patchType": "merge"}, context={CONTEXT_KEY: True})
            return
        epoch_ns = (owner.sim.start_epoch_ms + now_ms) * 1_000_000
        name = f"{metadata.get('name', 'unknown')}.{epoch_ns:x}"
        self.remember(key, {"name": name, "namespace": namespace, "count": 1, "first_ms": now_ms, "last_ms": now_ms})
        owner.api.request("create", "events", namespace=namespace, body=self.event_body(
            owner, involved, namespace, name, event_type, reason, message, field_path), context={CONTEXT_KEY: True})

    def remember(self, key: str, entry: dict) -> None:
        if len(self.seen) >= MAX_REMEMBERED:
            oldest = next(iter(self.seen))
            del self.seen[oldest]
        self.seen[key] = entry

    def event_body(self, owner: Any, involved: dict, namespace: str, name: str, event_type: str,
                   reason: str, message: str, field_path: str | None) -> dict:
        metadata = involved.get("metadata") or {}
        reference = {"kind": involved.get("kind"), "namespace": metadata.get("namespace"),
                     "name": metadata.get("name"), "uid": metadata.get("uid"),
                     "apiVersion": involved.get("apiVersion"), "resourceVersion": metadata.get("resourceVersion")}
        if field_path:
            reference["fieldPath"] = field_path
        reference = {k: v for k, v in reference.items() if v is not None}
        source = {"component": self.source_component}
        if self.host:
            source["host"] = self.host
        now_text = owner.now_text()
        return {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": reference, "reason": reason, "message": message, "source": source,
            "firstTimestamp": now_text, "lastTimestamp": now_text, "count": 1, "type": event_type,
            "eventTime": None, "reportingComponent": self.source_component,
            "reportingInstance": self.host or "",
        }


def _reference_text(involved: dict) -> str:
    metadata = involved.get("metadata") or {}
    kind = (involved.get("kind") or "").lower()
    return f"{kind}/{metadata.get('name', '')}"
