"""Shared by the security tests: sessions that own clusters, and a look at what etcd holds."""
from __future__ import annotations

import json

from django.test import Client

from web import limits
from web.runtime import LiveCluster, registry

JSON = "application/json"
BOOT_MS = 20_000


def owner_client(*, scenario: str = "basic", boot: bool = True, enforce_csrf: bool = False) -> tuple[Client, LiveCluster]:
    """A browser session that created one paused cluster through the REST API (booted unless told)."""
    client = Client(enforce_csrf_checks=enforce_csrf)
    answer = client.post("/api/clusters/", json.dumps({"scenario": scenario, "paused": True, "seed": 1}),
                         content_type=JSON)
    assert answer.status_code == 201, answer.content
    live = registry.get(answer.json()["id"])
    if boot:
        live.advance_by(BOOT_MS)
    return client, live


def session_of(client: Client) -> str:
    return client.cookies["sessionid"].value


def csrf_of(client: Client) -> str:
    return client.cookies["csrftoken"].value


def freshest_member(live: LiveCluster):
    members = [live.cluster.sim.components[name] for name in live.cluster.layout["etcd_members"]]
    return max(members, key=lambda member: member.applied_revision())


# Written by the cluster itself while time passes (heartbeats, leader leases, events).
CHANGING_ON_THEIR_OWN = ("/registry/leases/", "/registry/events/", "/registry/minions/")


def etcd_objects(live: LiveCluster) -> dict[str, int]:
    """Every stored key with its mod_revision, but for those the cluster rewrites by itself."""
    with live.lock:
        kvs = freshest_member(live).mvcc.range(prefix="/registry/")["kvs"]
    return {kv["key"]: kv["mod_revision"] for kv in kvs if not kv["key"].startswith(CHANGING_ON_THEIR_OWN)}


def etcd_keys(live: LiveCluster) -> set[str]:
    """Every stored key but the ones the cluster writes by itself (leases, events)."""
    with live.lock:
        kvs = freshest_member(live).mvcc.range(prefix="/registry/")["kvs"]
    return {kv["key"] for kv in kvs if not kv["key"].startswith(("/registry/leases/", "/registry/events/"))}


def written_content(live: LiveCluster, key: str) -> dict | None:
    """What a client writes in a stored object (its spec, data, labels, annotations, generation), not the
    status the controllers keep rewriting while time passes."""
    with live.lock:
        kvs = freshest_member(live).mvcc.range(key=key)["kvs"]
    if not kvs:
        return None
    value = kvs[0]["value"]
    metadata = value.get("metadata") or {}
    return {"spec": value.get("spec"), "data": value.get("data"), "labels": metadata.get("labels"),
            "annotations": metadata.get("annotations"), "generation": metadata.get("generation")}
