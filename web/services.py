"""Service functions: the one place where views and websocket consumers change or read state.

Views (HTTP, htmx, REST) and Channels consumers stay thin and call the functions in this module;
each takes keyword-only, type-annotated arguments (`def start_cluster(*, learner: str, seed: int)`),
so every caller names what it passes and the same behaviour is reachable from every interface.

Failures are `ServiceError`s (`NotFound`, `InvalidInput`, `LimitReached`); each interface maps
them to its own protocol in one place (the REST API: web/api/views.py). A failing call changes
nothing: every input is checked before anything is created or changed.
"""
from __future__ import annotations

import dataclasses
import datetime

import json
from typing import Any

from django.urls import reverse

from cluster_sim import durations
from cluster_sim.engine import Event
from cluster_sim.scenario import (
    MAX_SEED, RFC3339, Scenario, ScenarioError, list_shipped, load_scenario, parse_action, parse_scenario,
    shipped_path,
)
from cluster_sim.timefmt import format_micro_time, parse_time_ms
from web import kubeconfig, ownership, persistence
from web.runtime import MAX_ADVANCE_PER_CALL_MS, MAX_SPEED, MIN_SPEED, LiveCluster, registry

# A session is one learner's browser (or script): a handful of clusters is plenty, and each
# costs memory and CPU in this process.
MAX_CLUSTERS_PER_SESSION = 5
# Bigger clusters cannot keep up with the wall clock in one web process (about 2 s of CPU per
# simulated minute at 200 nodes); scenario files themselves allow Kubernetes' 5,000.
MAX_NODES_PER_CLUSTER = 100
KUBE_API_PREFIX = "/k8s/"
# Where request-supplied documents come from, as ScenarioError messages name their file.
REQUEST_SOURCE = "request body"
INLINE_SCENARIO_SOURCE = "request body: scenario"
ROLE_LABEL_PREFIX = "node-role.kubernetes.io/"


class ServiceError(Exception):
    """A request that cannot be carried out; ``str()`` says why in words meant for the caller."""

    code = "error"


class NotFound(ServiceError):
    """No such cluster for this session (also when it exists but belongs to someone else)."""

    code = "not_found"


class InvalidInput(ServiceError):
    """Bad input. ``source``, ``path`` and ``message`` carry a ScenarioError's parts when there is one."""

    code = "invalid"

    def __init__(self, text: str, *, source: str | None = None, path: str | None = None,
                 message: str | None = None):
        super().__init__(text)
        self.source = source
        self.path = path
        self.message = message

    @classmethod
    def from_scenario_error(cls, error: ScenarioError) -> "InvalidInput":
        return cls(str(error), source=error.source, path=error.path, message=error.message)


class LimitReached(ServiceError):
    code = "limit_reached"


# --- finding clusters -----------------------------------------------------------------------

def _owned_cluster(*, session_key: str | None, cluster_id: str) -> LiveCluster:
    live = registry.get(cluster_id) if isinstance(cluster_id, str) else None
    # Another session's cluster answers exactly like a missing one, so ids cannot be probed.
    if live is None or not session_key or live.owner_session != session_key:
        raise NotFound(f"cluster {cluster_id!r} not found")
    return live


def get_cluster(*, session_key: str | None, cluster_id: str) -> LiveCluster:
    """The session's cluster, its simulation brought up to the clock's present."""
    live = _owned_cluster(session_key=session_key, cluster_id=cluster_id)
    live.advance()
    return live


def list_clusters(*, session_key: str | None) -> list[LiveCluster]:
    if not session_key:
        return []
    clusters = registry.owned_by(session_key)
    for live in clusters:
        live.advance()
    return clusters


def delete_cluster(*, session_key: str | None, cluster_id: str) -> None:
    live = _owned_cluster(session_key=session_key, cluster_id=cluster_id)
    registry.delete(live.id)


# --- creating clusters ----------------------------------------------------------------------

def resolve_scenario(scenario: Any) -> Scenario:
    """A shipped scenario by name, or an inline scenario document, checked completely."""
    if isinstance(scenario, str):
        if scenario not in list_shipped():
            supported = ", ".join(f'"{name}"' for name in list_shipped())
            error = ScenarioError(REQUEST_SOURCE, "scenario",
                                  f"Unsupported value: {json.dumps(scenario)}: supported values: {supported}")
            raise InvalidInput.from_scenario_error(error)
        return load_scenario(shipped_path(scenario))
    if isinstance(scenario, dict):
        try:
            return parse_scenario(scenario, INLINE_SCENARIO_SOURCE)
        except ScenarioError as error:
            raise InvalidInput.from_scenario_error(error) from None
    error = ScenarioError(REQUEST_SOURCE, "scenario",
                          "Invalid value: must be the name of a shipped scenario or a scenario document")
    raise InvalidInput.from_scenario_error(error)


def _check_seed(seed: Any) -> None:
    if seed is None:
        return
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise InvalidInput(f"seed: Invalid value: {seed!r}: must be an integer between 0 and {MAX_SEED}",
                           path="seed")


def _check_paused(paused: Any) -> None:
    if not isinstance(paused, bool):
        raise InvalidInput(f"paused: Invalid value: {paused!r}: must be true or false", path="paused")


def checked_cluster_request(*, scenario: Any, seed: Any = None, paused: Any = False,
                            start_time: str = "now") -> Scenario:
    """Every check create_cluster makes of its input, without creating anything."""
    _check_seed(seed)
    _check_paused(paused)
    checked = with_start_time(resolve_scenario(scenario), start_time)
    machines = len(checked.machine_names())
    if machines > MAX_NODES_PER_CLUSTER:
        raise InvalidInput(f"scenario {checked.name!r} has {machines} machines; clusters run here have at "
                           f"most {MAX_NODES_PER_CLUSTER}", path="scenario")
    return checked


def create_cluster(*, session_key: str, scenario: str | dict, seed: int | None = None,
                   paused: bool = False, start_time: str = "now") -> LiveCluster:
    """Build a cluster from a shipped scenario name or an inline document, owned by the session.

    ``paused`` stops its clock at 0 ms, before anything has run: a script that then advances it
    sees exactly the same virtual times on every run.
    """
    if not session_key:
        raise InvalidInput("a session is needed to own the cluster")
    checked = checked_cluster_request(scenario=scenario, seed=seed, paused=paused, start_time=start_time)
    if registry.count_owned_by(session_key) >= MAX_CLUSTERS_PER_SESSION:
        raise LimitReached(f"this session already has {MAX_CLUSTERS_PER_SESSION} clusters, the most it "
                           "may have; delete one first")
    # Durable (web/persistence.py): it survives a restart and idles out of memory.
    return registry.create(scenario=checked, owner_session=session_key, seed=seed, paused=paused,
                           durable=registry.store is not None)


def with_start_time(scenario: Scenario, start_time: Any) -> Scenario:
    """Where virtual 0 ms falls on the calendar. By default a web cluster starts at the moment it is
    created, so that what a real kubectl computes from the machine's clock (describe's ages)
    agrees with the simulated timestamps; "scenario" keeps the scenario's own startTime."""
    if start_time == "scenario":
        return scenario
    if start_time == "now":
        moment = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    else:
        try:
            moment = datetime.datetime.fromisoformat(str(start_time).replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput(f'startTime: Invalid value: {start_time!r}: "now", "scenario" or an RFC 3339 time',
                               path="startTime") from None
        if moment.tzinfo is None:
            raise InvalidInput(f"startTime: Invalid value: {start_time!r}: needs a time zone (Z or +hh:mm)",
                               path="startTime")
        moment = moment.astimezone(datetime.timezone.utc).replace(microsecond=0)
    return dataclasses.replace(scenario, start_time=moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                               start_epoch_ms=int(moment.timestamp()) * 1000)


# --- actions --------------------------------------------------------------------------------

def apply_action(*, session_key: str | None, cluster_id: str, action: dict) -> dict:
    """Check an action as a scenario timeline entry would be checked and apply it now.

    Returns ``{"action": <normalised action>, "events": [<events it produced at once>]}``.
    """
    live = _owned_cluster(session_key=session_key, cluster_id=cluster_id)
    with live.lock:
        checked = check_action(live=live, action=action)
        events = live.apply_action(checked)
    shown = {key: value for key, value in checked.items() if key != "at_ms" and value is not None}
    return {"action": shown, "events": [event_summary(event) for event in events]}


def check_action(*, live: LiveCluster, action: Any) -> dict:
    """The action checked against the cluster's topology and normalised, as parse_action does."""
    _check_action_shape(action)
    try:
        return parse_action(action, live.cluster.scenario, REQUEST_SOURCE, "")
    except ScenarioError as error:
        raise InvalidInput.from_scenario_error(error) from None


def _check_action_shape(action: Any) -> None:
    """What parse_action assumes before it checks the rest."""
    if not isinstance(action, dict):
        raise InvalidInput(f"{REQUEST_SOURCE}: (root): Invalid value: must be a mapping",
                           source=REQUEST_SOURCE, path="(root)", message="Invalid value: must be a mapping")
    if "action" in action and not isinstance(action["action"], str):
        message = "Invalid value: must be a string"
        raise InvalidInput(f"{REQUEST_SOURCE}: action: {message}", source=REQUEST_SOURCE, path="action",
                           message=message)
    if "at" in action:
        raise InvalidInput(f"{REQUEST_SOURCE}: at: Forbidden: actions sent here apply now; "
                           "schedule later actions in a scenario's timeline",
                           source=REQUEST_SOURCE, path="at", message="Forbidden: actions sent here apply now")


def event_summary(event: Event) -> dict:
    return {"t": event.time_ms, "seq": event.seq, "kind": event.kind, "source": event.source,
            "target": event.target}


# --- the clock ------------------------------------------------------------------------------

def _duration_ms(value: Any, field: str) -> int:
    try:
        return durations.parse_duration_ms(value)
    except ValueError as error:
        raise InvalidInput(f"{field}: {error}", path=field) from None


def _positive_duration_ms(value: Any, field: str, *, at_most_ms: int) -> int:
    duration_ms = _duration_ms(value, field)
    if not 0 < duration_ms <= at_most_ms:
        raise InvalidInput(f"{field}: Invalid value: {value!r}: must be more than 0s and at most "
                           f"{durations.format_duration(at_most_ms)}", path=field)
    return duration_ms


def _instant_ms(live: LiveCluster, value: Any) -> int:
    """rewindTo: virtual milliseconds (a number), a duration since the start, or an RFC 3339 time."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and RFC3339.fullmatch(value.strip()):
        try:
            return parse_time_ms(value.strip()) - live.cluster.sim.start_epoch_ms
        except ValueError as error:  # shaped like a time, but not one (month 13...)
            raise InvalidInput(f"rewindTo: Invalid value: {value!r}: {error}", path="rewindTo") from None
    if isinstance(value, str):
        return _duration_ms(value, "rewindTo")
    raise InvalidInput(f"rewindTo: Invalid value: {value!r}: must be virtual milliseconds (an integer), "
                       "a duration since the start such as \"5m\", or an RFC 3339 time", path="rewindTo")


def _check_speed(speed: Any) -> float:
    if isinstance(speed, bool) or not isinstance(speed, (int, float)) or not MIN_SPEED <= speed <= MAX_SPEED:
        raise InvalidInput(f"speed: Invalid value: {speed!r}: must be a number from {MIN_SPEED:g} to "
                           f"{MAX_SPEED:g} (times the wall clock)", path="speed")
    return float(speed)


def _rewind_target_ms(live: LiveCluster, *, rewind: Any, rewind_to: Any) -> int | None:
    if rewind is not None and rewind_to is not None:
        raise InvalidInput("Forbidden: give rewind or rewindTo, not both", path="rewind")
    if rewind is None and rewind_to is None:
        return None
    now_ms = live.cluster.now_ms
    if rewind is not None:
        target_ms = now_ms - _positive_duration_ms(rewind, "rewind", at_most_ms=max(now_ms, 1))
        field = "rewind"
    else:
        target_ms = _instant_ms(live, rewind_to)
        field = "rewindTo"
    if not 0 <= target_ms <= now_ms:
        raise InvalidInput(f"{field}: Invalid value: the cluster's clock is at "
                           f"{durations.format_duration(now_ms)} ({now_ms} ms); a rewind goes back to a time "
                           f"from 0 to then, not {target_ms} ms", path=field)
    return target_ms


def set_clock(*, session_key: str | None, cluster_id: str, speed: float | None = None,
              paused: bool | None = None, advance: str | int | float | None = None,
              rewind: str | int | float | None = None, rewind_to: str | int | None = None) -> LiveCluster:
    """Pause, rewind, advance, set the speed, resume: whichever are given, in that order.

    Pausing comes first so that `paused=True, advance="60s"` lands exactly 60 s after the
    moment of the request. Everything is checked first, so a bad field changes nothing.
    """
    live = _owned_cluster(session_key=session_key, cluster_id=cluster_id)
    if all(value is None for value in (speed, paused, advance, rewind, rewind_to)):
        raise InvalidInput("Required value: one of speed, paused, advance, rewind or rewindTo")
    if paused is not None:
        _check_paused(paused)
    checked_speed = _check_speed(speed) if speed is not None else None
    advance_ms = (_positive_duration_ms(advance, "advance", at_most_ms=MAX_ADVANCE_PER_CALL_MS)
                  if advance is not None else None)
    with live.lock:
        live.advance()
        rewind_target_ms = _rewind_target_ms(live, rewind=rewind, rewind_to=rewind_to)
        if rewind_target_ms is not None and not _has_snapshot_at_or_before(live, rewind_target_ms):
            raise InvalidInput(f"rewind: no snapshot at or before {rewind_target_ms} ms", path="rewind")
        if paused is True:
            live.pause()
        if rewind_target_ms is not None:
            live.rewind(rewind_target_ms)
        if advance_ms is not None:
            live.advance_by(advance_ms)
        if checked_speed is not None:
            live.set_speed(checked_speed)
        if paused is False:
            live.resume()
    return live


def _has_snapshot_at_or_before(live: LiveCluster, time_ms: int) -> bool:
    """Cluster.rewind's own precondition, checked before anything else changes."""
    return any(entry[0] <= time_ms for entry in live.cluster.snapshots)


# --- what callers show ----------------------------------------------------------------------

def kube_api_url(*, live: LiveCluster, base_url: str) -> str:
    """The cluster's Kubernetes API base URL (`--server` for kubectl): it carries the secret."""
    return f"{base_url.rstrip('/')}{KUBE_API_PREFIX}{live.secret}"


def kubeconfig_text(*, live: LiveCluster, base_url: str) -> str:
    """A kubeconfig for this cluster; over https it also carries the secret as bearer token."""
    secure = base_url.startswith("https://")
    name = kubeconfig.entry_name(scenario_name=live.scenario_name, cluster_id=live.id)
    return kubeconfig.kubeconfig_yaml(name=name, server=kube_api_url(live=live, base_url=base_url),
                                      token=live.secret if secure else None)


def kubeconfig_filename(*, live: LiveCluster) -> str:
    return f"kubeconfig-{live.id}.yaml"


def clock_state(*, live: LiveCluster) -> dict:
    with live.lock:
        now_ms = live.cluster.now_ms
        start_epoch_ms = live.cluster.sim.start_epoch_ms
        return {
            "now": {"ms": now_ms, "time": format_micro_time(start_epoch_ms + now_ms)},
            "clock": {"speed": live.clock.speed, "paused": live.clock.paused},
        }


def cluster_summary(*, live: LiveCluster, base_url: str) -> dict:
    base_url = base_url.rstrip("/")
    with live.lock:
        summary = {
            "id": live.id,
            "url": base_url + reverse("api-cluster", kwargs={"cluster_id": live.id}),
            "scenario": live.scenario_name,
            "seed": live.cluster.sim.seed,
            "server": kube_api_url(live=live, base_url=base_url),
            "kubeconfig": base_url + reverse("api-cluster-kubeconfig", kwargs={"cluster_id": live.id}),
        }
        summary.update(clock_state(live=live))
        summary["nodes"] = [node_summary(node) for node in _etcd_nodes(live)]
    return summary


def _etcd_nodes(live: LiveCluster) -> list[dict]:
    """The Node objects as stored in etcd (the member that has applied the most)."""
    cluster = live.cluster
    members = [cluster.sim.components[name] for name in cluster.layout["etcd_members"]]
    best = max(members, key=lambda member: member.applied_revision())
    return [kv["value"] for kv in best.mvcc.range(prefix="/registry/minions/")["kvs"]]


def node_summary(node: dict) -> dict:
    """Name, kubectl's STATUS column, the Ready condition's status and the roles."""
    conditions = (node.get("status") or {}).get("conditions") or []
    ready = next((condition.get("status") for condition in conditions if condition.get("type") == "Ready"),
                 "Unknown")
    status = "Ready" if ready == "True" else "NotReady"
    if (node.get("spec") or {}).get("unschedulable"):
        status += ",SchedulingDisabled"
    labels = (node.get("metadata") or {}).get("labels") or {}
    roles = sorted(key[len(ROLE_LABEL_PREFIX):] for key in labels
                   if key.startswith(ROLE_LABEL_PREFIX) and key[len(ROLE_LABEL_PREFIX):])
    return {"name": node["metadata"]["name"], "status": status, "ready": ready, "roles": roles}


# Clusters created here are durable: journaled and snapshotted in the database (docs/persistence.md).
persistence.install(registry)
# Several processes on one Redis and database share clusters through leases (web/ownership.py).
ownership.install(registry)
