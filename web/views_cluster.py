"""The live cluster view: what the page shows of one cluster, as server-rendered fragments.

Each fragment has a stable id and serves both the page load and the websocket push (with
hx-swap-oob). State is read from the simulation itself (etcd's store, the components' own
state), never through API requests, so looking does not change what happens.

Pages: /sandbox/ (choose a topology, create a cluster), /clusters/<id>/ (the live view).
Controls POST to /clusters/<id>/action and /clusters/<id>/clock and answer with fragments.
"""
from __future__ import annotations

import collections
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from cluster_sim.controllers.helpers import time_ms
from cluster_sim.timefmt import format_micro_time
from web import graph, limits, services
from web.narration import (COMPONENT_GROUPS, Narrator, as_event_dict, component_group, format_virtual_time,
                           group_label, is_noise)
from web.persistence import outside_event_loop
from web.runtime import LiveCluster, registry

SPEEDS = [1, 2, 5, 10, 25, 50, 100]
STEP_SECONDS = [1, 10]
# "Skip to the next thing that happens": advance in 1 s steps until something a learner would
# notice happens, at most 10 minutes of virtual time.
SKIP_STEP_MS = 1_000
SKIP_LIMIT_MS = 600_000
INTERESTING_KINDS = {
    "action", "action.result", "machine.down", "machine.up", "process.stop", "process.start",
    "network.partition", "network.heal", "apiserver.starting", "apiserver.ready", "leader.acquired",
    "leader.lost", "etcd.election.start", "etcd.leader.elected", "etcd.leader.stepdown",
    "etcd.request.timeout", "scheduler.decision", "scheduler.bound", "scheduler.preempt", "scheduler.error",
    "node.condition", "node.taint", "pod.evict", "zone.state", "cloud.load_balancer", "cloud.machine",
    "kubelet.registered", "kubelet.status", "kubelet.static_pod.exited", "pod.phase", "container.state",
    "image.pull", "probe.fail", "proxy.reject",
}
LOG_STORY_KEPT = 120
LOG_NOISE_KEPT = 40
LOG_NOISE_PER_PUSH = 10
RAW_SHOWN_CHARS = 400
DECISIONS_KEPT = 8
ANIMATION_BUFFER = 6_000
# Countdowns show once a node has missed two heartbeats (renewals come every 10 s and the
# controller looks every 5 s, so 15 s of silence is normal), or at once when the machine or its
# kubelet is known to be gone.
COUNTDOWN_SHOWN_BELOW_MS = 25_000
DEFAULT_TOLERATION_SECONDS = 300
NO_EXECUTE_TAINTS = ("node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready")
POD_CHIPS_PER_WORKER = 12
POD_CHIPS_PER_CONTROL_PLANE = 4
SANDBOX_LIMITS = {"control_plane": [1, 3], "etcd": [1, 3, 5], "workers_min": 1, "workers_max": 10}
SAMPLE_IMAGE = {"name": "nginx:1.27", "sizeBytes": 72955450}


# --- who may watch --------------------------------------------------------------------------

def can_view(live: LiveCluster | None, session_key: str | None) -> bool:
    """The one access rule for the live view (pages and websocket): the owner's session, and
    read-only viewers: a workshop's instructor (their students' clusters) and its students (the
    presenter's cluster). Viewers cannot act: every control goes through web.services, which
    answers "not found" to any session but the owner's."""
    if live is None or not session_key:
        return False
    if live.owner_session == session_key:
        return True
    from workshops.services import may_watch
    # From a consumer's connect the database may not be used on the event loop's thread.
    return outside_event_loop(may_watch)(cluster_id=live.id, session_key=session_key)


# --- per-cluster view memory ------------------------------------------------------------------

@dataclass
class ViewState:
    """What the view remembers about a cluster between renders: fed by a LiveCluster listener
    (under the cluster's lock), drained by the websocket ticker."""

    narrator: Narrator
    lock: threading.Lock = field(default_factory=threading.Lock)
    animation: collections.deque = field(default_factory=lambda: collections.deque(maxlen=ANIMATION_BUFFER))
    # Separate bounds: at 100x hundreds of heartbeats arrive between two renders and must not
    # push the few story events out.
    log_story: collections.deque = field(default_factory=lambda: collections.deque(maxlen=LOG_STORY_KEPT))
    log_noise: collections.deque = field(default_factory=lambda: collections.deque(maxlen=LOG_NOISE_PER_PUSH))
    decisions: collections.deque = field(default_factory=lambda: collections.deque(maxlen=DECISIONS_KEPT))
    noise_counts: collections.Counter = field(default_factory=collections.Counter)
    dropped_animation: int = 0
    last_seq: int = 0
    # etcd applies (by any member) of keys the picture is read from: see scene_fingerprint.
    scene_writes: int = 0
    changed: bool = True
    reset: bool = False

    def on_events(self, events: list) -> None:
        with self.lock:
            for event in events:
                if event.seq <= self.last_seq:
                    self.forget()  # a rewind restored an earlier counter
                self.last_seq = event.seq
                if len(self.animation) == self.animation.maxlen:
                    self.dropped_animation += 1
                self.animation.append(event)
                if event.kind == "scheduler.decision":
                    self.decisions.append(event)
                elif event.kind == "etcd.apply" and writes_scene(event.payload.get("key")):
                    self.scene_writes += 1
                if is_noise_event(event):
                    self.noise_counts[event.kind] += 1
                    self.log_noise.append(event)
                else:
                    self.log_story.append(event)
            self.changed = True

    def forget(self) -> None:
        self.animation.clear()
        self.log_story.clear()
        self.log_noise.clear()
        self.decisions.clear()
        self.noise_counts.clear()
        self.reset = True

    def take_animation(self) -> list:
        with self.lock:
            events, dropped = list(self.animation), self.dropped_animation
            self.animation.clear()
            self.dropped_animation = 0
        return [events, dropped]

    def take_log(self) -> list:
        with self.lock:
            events = sorted(list(self.log_story) + list(self.log_noise), key=lambda event: event.seq)
            self.log_story.clear()
            self.log_noise.clear()
            reset, self.reset = self.reset, False
        return [events, reset]

    def take_changed(self) -> bool:
        with self.lock:
            changed, self.changed = self.changed, False
        return changed


def is_noise_event(event: Any) -> bool:
    return is_noise(as_event_dict(event))


# What cluster_state reads from etcd (read_nodes, the deployments).
SCENE_KEY_PREFIXES = ("/registry/minions/", "/registry/pods/", "/registry/deployments/")


def writes_scene(key: Any) -> bool:
    """A key-less apply (a compaction) counts too: when unsure, read again."""
    return not isinstance(key, str) or key.startswith(SCENE_KEY_PREFIXES)


def scene_version(live: LiveCluster, view: ViewState) -> tuple:
    """Changes whenever what cluster_state reads from etcd may have: the count of applies to its
    keys, when the view has seen every event the simulation emitted; else the freshest member's
    revision (any write at all changes it)."""
    member = freshest_member(live)
    with view.lock:
        seen_seq, writes = view.last_seq, view.scene_writes
    if seen_seq == live.cluster.sim.event_seq:
        return ("writes", member.name, writes)
    return ("revision", member.name, member.applied_revision())


_view_states: dict[str, ViewState] = {}
_view_states_lock = threading.Lock()


def view_state(live: LiveCluster) -> ViewState:
    """The cluster's ViewState, created (and subscribed to its events) on first use.
    Lock order: the cluster's lock, then _view_states_lock."""
    with _view_states_lock:
        state = _view_states.get(live.id)
    if state is not None:
        return state
    layout = live.cluster.layout
    created = ViewState(narrator=Narrator(list(layout["control_plane"]) + list(layout["workers"])))
    with live.lock:
        with _view_states_lock:
            state = _view_states.get(live.id)
            if state is not None:
                return state
            _view_states[live.id] = created
        for event in live.recent_events:
            if event.kind == "scheduler.decision":
                created.decisions.append(event)
            created.last_seq = event.seq
        live.listeners.append(created.on_events)
    return created


def drop_view_state(cluster_id: str) -> None:
    with _view_states_lock:
        _view_states.pop(cluster_id, None)


registry.deletion_hooks.append(drop_view_state)


# --- reading the cluster ----------------------------------------------------------------------

def freshest_member(live: LiveCluster) -> Any:
    sim = live.cluster.sim
    members = [sim.components[name] for name in live.cluster.layout["etcd_members"]]
    return max(members, key=lambda member: member.applied_revision())


def stored(member: Any, prefix: str) -> list[dict]:
    return [kv["value"] for kv in member.mvcc.range(prefix=prefix)["kvs"]]


def leading_controller_manager(live: LiveCluster) -> Any:
    sim = live.cluster.sim
    for node in live.cluster.layout["control_plane"]:
        manager = sim.components.get(f"kube-controller-manager-{node}")
        if manager is not None and manager.running and getattr(manager, "elector", None) is not None \
                and manager.elector.is_leader and "node-lifecycle-controller" in manager.controllers:
            return manager
    return None


def machine_is_down(live: LiveCluster, machine: str) -> bool:
    return bool(live.cluster.sim.network.machines_down.get(machine, False))


def machine_is_cut_off(live: LiveCluster, machine: str) -> bool:
    return bool(live.cluster.sim.network.partition_group.get(machine))


def component_running(live: LiveCluster, name: str) -> bool:
    component = live.cluster.sim.components.get(name)
    return component is not None and component.running and not machine_is_down(live, component.node or "")


def condition_status(node: dict, condition_type: str) -> str | None:
    for condition in (node.get("status") or {}).get("conditions") or []:
        if condition.get("type") == condition_type:
            return condition.get("status")
    return None


def pod_summary(pod: dict) -> dict:
    metadata, status = pod["metadata"], pod.get("status") or {}
    phase = status.get("phase") or "Pending"
    terminating = bool(metadata.get("deletionTimestamp"))
    ready = condition_status(pod, "Ready") == "True"
    waiting = [((container.get("state") or {}).get("waiting") or {}).get("reason")
               for container in status.get("containerStatuses") or []]
    reason = next((text for text in waiting if text), "")
    state = "terminating" if terminating else {
        "Running": "running" if ready else "running notready", "Pending": "pending", "Succeeded": "succeeded",
        "Failed": "failed"}.get(phase, "unknown")
    label = _("Terminating") if terminating else (reason or phase)
    namespace, name = metadata.get("namespace", "default"), metadata["name"]
    return {"id": f"pod-{namespace}-{name}", "namespace": namespace, "name": name, "short": short_pod_name(pod),
            "phase": phase, "state": state, "label": label, "ready": ready, "terminating": terminating,
            "node": (pod.get("spec") or {}).get("nodeName") or "", "tolerations": (pod.get("spec") or {}).get("tolerations") or []}


def short_pod_name(pod: dict) -> str:
    """`web-…-jcx7h` for a Deployment's pod: the template hash says little on a chip."""
    name = pod["metadata"]["name"]
    for reference in pod["metadata"].get("ownerReferences") or []:
        if reference.get("kind") == "ReplicaSet" and name.startswith(reference.get("name", "") + "-"):
            owner = reference["name"]
            deployment = owner.rsplit("-", 1)[0]
            return f"{deployment}-…-{name[len(owner) + 1:]}"
    return name


def shown_in_picture(pod: dict) -> bool:
    """Mirror pods of control-plane processes and kube-proxy are drawn as components already."""
    references = pod["metadata"].get("ownerReferences") or []
    if any(reference.get("kind") == "Node" for reference in references):
        return False
    return (pod["metadata"].get("labels") or {}).get("k8s-app") != "kube-proxy"


def eviction_deadline_ms(pod: dict, taints: list, start_epoch_ms: int) -> int | None:
    """When the taint eviction controller deletes this pod: NoExecute taint time + toleration."""
    deadlines = []
    for taint in taints:
        if taint.get("effect") != "NoExecute" or taint.get("key") not in NO_EXECUTE_TAINTS:
            continue
        added_ms = time_ms(taint.get("timeAdded"), start_epoch_ms)
        if added_ms is None:
            continue
        seconds = None
        tolerated = False
        for toleration in pod["tolerations"]:
            if toleration.get("effect") not in (None, "", "NoExecute"):
                continue
            if toleration.get("operator") == "Exists" and not toleration.get("key") or toleration.get("key") == taint["key"]:
                tolerated = True
                if toleration.get("tolerationSeconds") is not None:
                    seconds = int(toleration["tolerationSeconds"]) if seconds is None else min(seconds, int(toleration["tolerationSeconds"]))
        if not tolerated:
            deadlines.append(added_ms)
        elif seconds is not None:
            deadlines.append(added_ms + seconds * 1000)
    return min(deadlines) if deadlines else None


def read_nodes(live: LiveCluster, member: Any) -> dict:
    """Per node (control plane and workers): status, taints, countdowns and its pods."""
    cluster = live.cluster
    now_ms, start_epoch_ms = cluster.now_ms, cluster.sim.start_epoch_ms
    stored_nodes = {node["metadata"]["name"]: node for node in stored(member, "/registry/minions/")}
    pods = [pod_summary(pod) for pod in stored(member, "/registry/pods/") if shown_in_picture(pod)]
    manager = leading_controller_manager(live)
    health = manager.controllers["node-lifecycle-controller"].health if manager is not None else {}
    grace_ms = manager.controllers["node-lifecycle-controller"].config.get("node_monitor_grace_period_ms", 50_000) \
        if manager is not None else 50_000
    nodes = {}
    for name in list(cluster.layout["control_plane"]) + list(cluster.layout["workers"]):
        node = stored_nodes.get(name)
        ready = condition_status(node, "Ready") if node else None
        taints = ((node or {}).get("spec") or {}).get("taints") or []
        node_pods = [pod for pod in pods if pod["node"] == name]
        heartbeat_gone = machine_is_down(live, name) or machine_is_cut_off(live, name) \
            or not component_running(live, f"kubelet-{name}")
        notready_in_ms = None
        if ready == "True" and name in health:
            remaining = health[name]["probe_ms"] + grace_ms - now_ms
            if heartbeat_gone or remaining < COUNTDOWN_SHOWN_BELOW_MS:
                notready_in_ms = max(0, remaining)
        evictions = [deadline for deadline in (eviction_deadline_ms(pod, taints, start_epoch_ms)
                                               for pod in node_pods if not pod["terminating"])
                     if deadline is not None]
        nodes[name] = {
            "name": name, "registered": node is not None, "ready": ready,
            "unschedulable": bool(((node or {}).get("spec") or {}).get("unschedulable")),
            "taints": [{"key": taint.get("key", ""), "effect": taint.get("effect", ""),
                        "short": taint.get("key", "").rsplit("/", 1)[-1]} for taint in taints],
            "notready_in_ms": notready_in_ms,
            "evict_in_ms": max(0, min(evictions) - now_ms) if evictions else None,
            "pods": node_pods, "heartbeat_gone": heartbeat_gone,
        }
    unscheduled = [pod for pod in pods if not pod["node"]]
    return {"nodes": nodes, "unscheduled": unscheduled}


def read_etcd(live: LiveCluster) -> dict:
    sim = live.cluster.sim
    members = []
    for name in live.cluster.layout["etcd_members"]:
        member = sim.components[name]
        running = component_running(live, name)
        raft = member.raft
        members.append({
            "name": name, "machine": member.node, "running": running,
            "role": raft.state if running else "down", "term": raft.term, "last_index": raft.last_index(),
            "commit": raft.commit, "applied": raft.applied, "leader": raft.lead if running else None,
            "waiting": len(member.pending) if running else 0, "revision": member.applied_revision(),
            "cut_off": machine_is_cut_off(live, member.node or ""),
        })
    size = len(members)
    quorum = size // 2 + 1
    up = sum(1 for member in members if member["running"])
    leaders = [member for member in members if member["role"] == "leader"]
    leader = max(leaders, key=lambda member: member["term"]) if leaders else None
    return {"members": members, "size": size, "quorum": quorum, "up": up, "leader": leader,
            "has_quorum": up >= quorum, "tolerates": size - quorum,
            "waiting": sum(member["waiting"] for member in members)}


def leader_of(live: LiveCluster, kind: str) -> str | None:
    for node in live.cluster.layout["control_plane"]:
        component = live.cluster.sim.components.get(f"{kind}-{node}")
        elector = getattr(component, "elector", None)
        if component is not None and component.running and elector is not None and elector.is_leader:
            return component.name
    return None


def component_classes(live: LiveCluster, etcd: dict) -> dict[str, str]:
    """SVG state classes: machines (up/down/cut-off/ready/notready) and processes (running/stopped/leader)."""
    layout = live.cluster.layout
    classes: dict[str, str] = {}
    for component in live.cluster.sim.components.values():
        if component.node is None and component.name != "kubectl":
            continue
        state = "running" if component_running(live, component.name) else "stopped"
        classes[f"comp-{component.name}"] = state
    for member in etcd["members"]:
        if member["role"] == "leader":
            classes[f"comp-{member['name']}"] += " leader"
    for kind in ("kube-scheduler", "kube-controller-manager", "cloud-controller-manager"):
        leader = leader_of(live, kind)
        if leader:
            classes[f"comp-{leader}"] += " leader"
    machines = list(layout["control_plane"]) + list(layout["workers"])
    if layout["etcd_mode"] == "external":
        machines += list(layout["etcd_members"])
    for machine in machines:
        state = "down" if machine_is_down(live, machine) else "up"
        if machine_is_cut_off(live, machine):
            state += " cut-off"
        classes[f"node-{machine}"] = state
    return classes


def clock_fields(live: LiveCluster) -> dict:
    """The clock's part of cluster_state: what changes with time alone."""
    now_ms = live.cluster.now_ms
    return {"now_ms": now_ms, "now_text": format_virtual_time(now_ms),
            "wall_time": format_micro_time(live.cluster.sim.start_epoch_ms + now_ms)[:19] + "Z",
            "start_epoch_ms": live.cluster.sim.start_epoch_ms, "rewinds": live.rewinds,
            "speed": live.clock.speed, "paused": live.clock.paused,
            "earliest_ms": min((entry[0] for entry in live.cluster.snapshots), default=0)}


def cluster_state(live: LiveCluster) -> dict:
    """Everything the fragments show, read at one instant under the cluster's lock."""
    with live.lock:
        member = freshest_member(live)
        etcd = read_etcd(live)
        nodes = read_nodes(live, member)
        classes = component_classes(live, etcd)
        for name, node in nodes["nodes"].items():
            if node["registered"]:
                classes[f"node-{name}"] += " ready" if node["ready"] == "True" else " notready"
        deployments = [{"namespace": item["metadata"].get("namespace", "default"), "name": item["metadata"]["name"],
                        "replicas": (item.get("spec") or {}).get("replicas", 1),
                        "image": ((((item.get("spec") or {}).get("template") or {}).get("spec") or {})
                                  .get("containers") or [{}])[0].get("image", "")}
                       for item in stored(member, "/registry/deployments/")]
        return {
            **clock_fields(live),
            "etcd": etcd, "classes": classes, "deployments": deployments,
            "scheduler_leader": leader_of(live, "kube-scheduler"),
            "controller_manager_leader": leader_of(live, "kube-controller-manager"),
            "apiservers_up": [name for name in live.cluster.layout["apiservers"] if component_running(live, name)],
            **nodes,
        }


# --- fragments ------------------------------------------------------------------------------

def overlay_context(live: LiveCluster, state: dict) -> dict:
    skeleton = graph.skeleton_for(live.cluster.layout)
    layout = live.cluster.layout
    machines = []
    for name in list(layout["control_plane"]) + list(layout["workers"]):
        node = state["nodes"][name]
        limit = POD_CHIPS_PER_CONTROL_PLANE if name in layout["control_plane"] else POD_CHIPS_PER_WORKER
        pods = sorted(node["pods"], key=lambda pod: (pod["terminating"], pod["name"]))
        machines.append({
            "name": name, "role": "control-plane" if name in layout["control_plane"] else "worker",
            "node": node, "down": machine_is_down(live, name), "cut_off": machine_is_cut_off(live, name),
            "slot_style": skeleton.slots[name].style(), "box": skeleton.machines[name],
            "badge_style": badge_style(skeleton.machines[name]),
            "pods": pods[:limit], "more": max(0, len(pods) - limit),
            "notready_in": seconds_text(node["notready_in_ms"]), "evict_in": seconds_text(node["evict_in_ms"]),
        })
    if layout["etcd_mode"] == "external":
        for name in layout["etcd_members"]:
            machines.append({"name": name, "role": "etcd-machine", "node": None, "down": machine_is_down(live, name),
                             "cut_off": machine_is_cut_off(live, name), "slot_style": "",
                             "badge_style": badge_style(skeleton.machines[name]), "pods": [], "more": 0})
    markers = []
    for element_id, classes in state["classes"].items():
        name = element_id[len("comp-"):]
        if not element_id.startswith("comp-") or name not in skeleton.components:
            continue
        box = skeleton.components[name]
        style = f"left:{box.left + box.width:.3f}%;top:{box.top:.3f}%"
        if "stopped" in classes.split():
            markers.append({"name": name, "kind": "stopped", "style": style, "label": _("stopped")})
        elif "leader" in classes.split():
            markers.append({"name": name, "kind": "leader", "style": style, "label": _("leader")})
    return {"machines": machines, "markers": markers, "titles": machine_titles(layout, skeleton),
            "title_size": f"{graph.TITLE_FONT_PT / skeleton.width_pt * 100:.3f}cqw",
            "svg_classes": json.dumps(graph.full_classes(skeleton, state["classes"]),
                                                               separators=(",", ":"))}


def machine_titles(layout: dict, skeleton: graph.Skeleton) -> list[dict]:
    """Each machine's title in the page's language, laid over the space dot keeps for it (the
    cached SVG's own English title is hidden by CSS)."""
    titles = []
    for name, box in skeleton.machines.items():
        if name in layout["control_plane"]:
            text = f"{name} · {_('control plane')}"
        elif name == "workstation":
            text = _("workstation")
        else:
            text = name
        titles.append({"text": text, "style": f"left:{box.left:.3f}%;top:{box.top:.3f}%;max-width:{box.width:.3f}%"})
    return titles


def badge_style(box: graph.Box) -> str:
    return f"left:{box.left + box.width:.3f}%;top:{box.top:.3f}%"


def seconds_text(duration_ms: int | None) -> str:
    if duration_ms is None:
        return ""
    seconds = (duration_ms + 999) // 1000
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes}:{seconds:02d}" if minutes else f"{seconds} s"


def scheduler_context(view: ViewState) -> dict:
    with view.lock:
        decisions = [as_event_dict(event) for event in view.decisions]
    latest = decisions[-1] if decisions else None
    table = decision_table(latest["payload"]) if latest else None
    earlier = [{"t": format_virtual_time(event["t"]), "pod": event["payload"].get("pod"),
                "selected": event["payload"].get("selected"),
                "score": (event["payload"].get("totals") or {}).get(event["payload"].get("selected") or "")}
               for event in reversed(decisions[:-1])]
    return {"decision": latest, "table": table, "earlier": earlier,
            "decision_time": format_virtual_time(latest["t"]) if latest else ""}


def decision_table(payload: dict) -> dict:
    """Rows per node: filter outcome (first failing plugin), final score per plugin, total."""
    plugins: list[str] = []
    for per_plugin in (payload.get("final") or {}).values():
        for plugin in per_plugin:
            if plugin not in plugins:
                plugins.append(plugin)
    rows = []
    totals = payload.get("totals") or {}
    for node, results in (payload.get("filter") or {}).items():
        failed = [[plugin, reason] for plugin, reason in results.items() if reason != "passed"]
        final = (payload.get("final") or {}).get(node) or {}
        rows.append({"node": node, "passed": not failed, "failed_plugin": failed[0][0] if failed else "",
                     "reason": failed[0][1] if failed else "", "scores": [final.get(plugin, "") for plugin in plugins],
                     "total": totals.get(node), "selected": node == payload.get("selected")})
    rows.sort(key=lambda row: (not row["selected"], not row["passed"], -(row["total"] or 0), row["node"]))
    return {"plugins": plugins, "rows": rows, "pod": payload.get("pod"), "selected": payload.get("selected"),
            "message": payload.get("message") or "", "short_plugins": [short_plugin(name) for name in plugins]}


def short_plugin(name: str) -> str:
    return {"NodeResourcesFit": "ResourcesFit", "NodeResourcesBalancedAllocation": "Balanced",
            "PodTopologySpread": "TopologySpread", "TaintToleration": "Taints", "ImageLocality": "Images",
            "InterPodAffinity": "PodAffinity", "NodeAffinity": "NodeAffinity"}.get(name, name)


WARNING_KINDS = ("etcd.request.timeout", "node.condition", "pod.evict", "machine.down", "leader.lost",
                 "etcd.leader.stepdown", "scheduler.error", "proxy.reject")


def log_entries(view: ViewState, events: list) -> list[SafeString]:
    """The log's lines for ``events``, newest first (narrated oldest first: the narrator keeps state)."""
    lines = [log_entry_html(view, as_event_dict(event)) for event in events]
    lines.reverse()
    return lines


def log_entry_html(view: ViewState, event: dict) -> SafeString:
    """One log line, built here rather than by a template include: a push carries up to a dozen,
    hundreds of times a second across the live views, and an include costs ten times as much.
    Escaped as the template did ({{ }} is conditional_escape)."""
    warning = event["kind"] in WARNING_KINDS or (
        event["kind"] == "api.response" and int(event["payload"].get("code") or 0) >= 400)
    classes = f"log-entry g-{component_group(event)}" + (" noise" if is_noise(event) else "") \
        + (" warning" if warning else "")
    return mark_safe(
        f'<li id="log-{event["seq"]}" class="{conditional_escape(classes)}" data-seq="{event["seq"]}">'
        f'<span class="log-time">{conditional_escape(format_virtual_time(event["t"]))}</span><details>'
        f'<summary>{conditional_escape(view.narrator.sentence(event))}</summary>'
        f'<code class="log-raw">{conditional_escape(raw_text(event))}</code></details></li>')


def raw_text(event: dict) -> str:
    """The event as JSON, cut short: a decision's tables or a manifest would weigh kilobytes per line."""
    text = json.dumps(event, ensure_ascii=False, separators=(", ", ": "), default=str)
    return text if len(text) <= RAW_SHOWN_CHARS else text[:RAW_SHOWN_CHARS] + " …"


def newest_for_log(events: list) -> list:
    """At most LOG_STORY_KEPT story events and LOG_NOISE_KEPT noise events, oldest first."""
    story, noise = [], []
    for event in reversed(events):
        bucket = noise if is_noise_event(event) else story
        if len(bucket) < (LOG_NOISE_KEPT if bucket is noise else LOG_STORY_KEPT):
            bucket.append(event)
        if len(story) >= LOG_STORY_KEPT and len(noise) >= LOG_NOISE_KEPT:
            break
    return sorted(story + noise, key=lambda event: event.seq)


def noise_summary(view: ViewState) -> list[dict]:
    with view.lock:
        counts = dict(view.noise_counts)
    return [{"kind": kind, "count": count} for kind, count in sorted(counts.items(), key=lambda item: -item[1])]


def render_fragment(name: str, context: dict, *, oob: bool) -> str:
    return render_to_string(f"web/cluster_{name}.html", dict(context, oob=oob))


def fragment_context(live: LiveCluster, state: dict, view: ViewState, names: list[str] | None = None) -> dict:
    """What the fragments ``names`` (default: all) need; the overlay's and the scheduler's parts
    are the costly ones, so they are only built when those fragments are rendered."""
    context = {"live": live, "cluster_id": live.id, "state": state, "etcd": state["etcd"],
               "speeds": SPEEDS, "step_seconds": STEP_SECONDS}
    if names is None or "overlay" in names:
        context.update(overlay_context(live, state))
    if names is None or "scheduler" in names:
        context.update(scheduler_context(view))
    context["noise"] = noise_summary(view)
    return context


STATE_FRAGMENTS = ["overlay", "etcd", "scheduler", "clock", "workloads"]
# What the page advances itself between renders of the etcd panel (etcd_inputs; the revision is
# not shown at all), and how often in virtual time the server's values replace its own.
ETCD_COUNTERS = ("last_index", "commit", "applied", "revision")
ETCD_COUNTERS_RESYNC_MS = 5_000


def render_state_fragments(live: LiveCluster, *, language: str, names: list[str] | None = None) -> dict[str, str]:
    """Each named fragment as an hx-swap-oob element, in `language`."""
    view = view_state(live)
    state = cluster_state(live)
    with translation.override(language):
        context = fragment_context(live, state, view)
        return {name: render_fragment(name, context, oob=True) for name in (names or STATE_FRAGMENTS)}


def fragment_inputs(state: dict, view: ViewState) -> dict[str, Any]:
    """Per state fragment, everything its HTML is made of besides the language and the cluster's
    fixed layout (read off its template and context builder): equal inputs render equal HTML."""
    with view.lock:
        decisions = list(view.decisions)
    return {
        "overlay": [state["nodes"], state["classes"]],
        "etcd": etcd_inputs(state),
        "scheduler": [decisions, state["unscheduled"], state["scheduler_leader"]],
        # The time itself is not an input: static/js/cluster.js runs the clock between renders,
        # from the clock's data-* and every events push; a rewind starts a new timeline.
        "clock": [state["speed"], state["paused"], state["earliest_ms"], state["rewinds"]],
        "workloads": [state["deployments"], state["nodes"]],
    }


def etcd_inputs(state: dict) -> list:
    """The etcd panel's inputs. Its index counters are left out: static/js/cluster.js advances
    them from the etcd.append/commit/apply events of every push, and they change with every write
    (a lease renewal every 2 s at least), so the panel would be rendered at nearly every tick. The
    server's own counters are sent again every ETCD_COUNTERS_RESYNC_MS of virtual time, after a
    rewind (the page never lowers a counter itself) and whenever anything else on the panel changes."""
    # The rest of the panel (members up, quorum, leader) is derived from the members' rows.
    members = [{name: value for name, value in member.items() if name not in ETCD_COUNTERS}
               for member in state["etcd"]["members"]]
    return [members, state["rewinds"], state["now_ms"] // ETCD_COUNTERS_RESYNC_MS]


@dataclass
class FragmentMemory:
    """What one cluster's websocket viewers were last sent, per "language/fragment": the inputs it
    was rendered from and its HTML; and the last cluster_state with the scene fingerprint it was
    read at. A fresh memory makes the next render send everything."""

    inputs: dict = field(default_factory=dict)
    html: dict = field(default_factory=dict)
    fingerprint: list | None = None
    state: dict | None = None


def scene_fingerprint(live: LiveCluster, etcd: dict) -> list:
    """Everything cluster_state reads besides the clock and etcd's Raft counters, cheaply: the
    simulation itself (a rewind replaces it), the version of the etcd keys the view reads
    (scene_version: leases, events and endpoints are written all the time and are not shown),
    machines, processes, leaders, and the node lifecycle controller's view of heartbeats (its
    countdowns). Equal fingerprints: equal nodes, pods, deployments and classes,
    unless a countdown is running, which depends on the time itself (see countdown_shown)."""
    sim = live.cluster.sim
    manager = leading_controller_manager(live)
    controller = manager.controllers["node-lifecycle-controller"] if manager is not None else None
    grace_ms = controller.config.get("node_monitor_grace_period_ms", 50_000) if controller is not None else 50_000
    near = {name: (entry["probe_ms"], entry["probe_ms"] + grace_ms - live.cluster.now_ms < COUNTDOWN_SHOWN_BELOW_MS)
            for name, entry in (controller.health.items() if controller is not None else ())}
    return [sim, scene_version(live, view_state(live)), dict(sim.network.machines_down),
            dict(sim.network.partition_group), [(name, component.running) for name, component in sim.components.items()],
            [(member["name"], member["role"]) for member in etcd["members"]],
            [leader_of(live, kind) for kind in ("kube-scheduler", "kube-controller-manager", "cloud-controller-manager")],
            manager.name if manager is not None else None, near]


def countdown_shown(state: dict) -> bool:
    return any(node["notready_in_ms"] is not None or node["evict_in_ms"] is not None
               for node in state["nodes"].values())


def fresh_state(live: LiveCluster, memory: FragmentMemory) -> dict:
    """cluster_state, read again only when the scene fingerprint changed or a countdown runs;
    the clock and etcd parts are always read (cheap, and they change all the time)."""
    with live.lock:
        clock = clock_fields(live)
        etcd = read_etcd(live)
        fingerprint = scene_fingerprint(live, etcd)
        if memory.state is None or fingerprint != memory.fingerprint or countdown_shown(memory.state):
            memory.state, memory.fingerprint = cluster_state(live), fingerprint
            return memory.state
    return dict(memory.state, etcd=etcd, **clock)


def render_changed_fragments(live: LiveCluster, *, languages: list[str], memory: FragmentMemory) -> dict[str, list[str]]:
    """Per language, the state fragments (hx-swap-oob) whose HTML differs from what ``memory``
    says was sent, which it then records. A fragment whose inputs did not change is not rendered
    at all (the clock's change at every render, and it is cheap)."""
    view = view_state(live)
    state = fresh_state(live, memory)
    inputs = fragment_inputs(state, view)
    pushed: dict[str, list[str]] = {}
    for language in languages:
        names = [name for name in STATE_FRAGMENTS if memory.inputs.get(f"{language}/{name}", memory) != inputs[name]]
        if not names:
            continue
        with translation.override(language):
            context = fragment_context(live, state, view, names)
            rendered = {name: render_fragment(name, context, oob=True) for name in names}
        for name, html in rendered.items():
            key = f"{language}/{name}"
            memory.inputs[key] = inputs[name]
            if memory.html.get(key) != html:
                memory.html[key] = html
                pushed.setdefault(language, []).append(html)
    return pushed


def render_log_push(view: ViewState, events: list, reset: bool, *, language: str) -> str:
    """New log entries to prepend (or the whole list after a rewind) and the noise summary."""
    with translation.override(language):
        context = {"entries": log_entries(view, newest_for_log(events)), "noise": noise_summary(view),
                   "reset": reset}
        return render_to_string("web/cluster_log_push.html", context)


# --- the page's context (also used by the lessons page through the cluster_view tag) ----------

def watcher_context(request: HttpRequest, live: LiveCluster) -> dict:
    """A session other than the owner's only watches (can_view let it in): no controls, no
    terminal, and a banner naming whose cluster it is."""
    if live.owner_session == request.session.session_key:
        return {"read_only": False, "owner_name": ""}
    from workshops.services import cluster_owner_name
    return {"read_only": True, "owner_name": cluster_owner_name(cluster_id=live.id)}


def cluster_view_context(request: HttpRequest, live: LiveCluster) -> dict:
    view = view_state(live)
    live.advance()
    state = cluster_state(live)
    context = fragment_context(live, state, view)
    skeleton = graph.skeleton_for(live.cluster.layout)
    with live.lock:
        recent = list(live.recent_events)
    view.take_log()  # the page shows these; the socket's first push need not repeat them
    context.update({
        "svg": graph.svg_with_classes(skeleton, state["classes"]),
        # Never wider than 1.2 px per point, nor taller than the screen under the clock bar.
        "picture_style": f"max-width:min({int(skeleton.width_pt * 1.2)}px, calc((100vh - 15rem) * "
                         f"{skeleton.width_pt / skeleton.height_pt:.3f}))",
        "entries": log_entries(view, newest_for_log(recent)),
        "groups": [[group, group_label(group)] for group in COMPONENT_GROUPS],
        "controls": machine_controls(live),
        "ws_path": f"/ws/clusters/{live.id}/?lang={translation.get_language() or 'en'}",
        "action_url": reverse("cluster-action", kwargs={"cluster_id": live.id}),
        "clock_url": reverse("cluster-clock", kwargs={"cluster_id": live.id}),
        "has_terminal": template_exists("web/_terminal.html"),
        "terminal_css": static_exists("css/terminal.css"),
        "terminal_js": static_exists("js/terminal.js"),
        "oob": False,
    })
    context.update(watcher_context(request, live))
    return context


def template_exists(name: str) -> bool:
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return False
    return True


def static_exists(path: str) -> bool:
    from django.contrib.staticfiles import finders
    return finders.find(path) is not None


def machine_controls(live: LiveCluster) -> list[dict]:
    """Every failure/recovery action of the ACTIONS table that fits this topology, per machine."""
    layout = live.cluster.layout
    groups = []
    for node in layout["control_plane"]:
        actions = [
            ["controlplane.fail", node, _("Stop control-plane node %(target)s")],
            ["controlplane.recover", node, _("Recover control-plane node %(target)s")],
            ["apiserver.fail", node, _("Stop kube-apiserver on %(target)s")],
            ["apiserver.recover", node, _("Recover kube-apiserver on %(target)s")],
        ]
        if layout["etcd_mode"] == "stacked":
            actions += [["etcd.fail", node, _("Stop etcd member %(target)s")],
                        ["etcd.recover", node, _("Recover etcd member %(target)s")]]
        actions += node_actions(node)
        groups.append({"machine": node, "role": _("control plane"), "actions": actions})
    for worker in layout["workers"]:
        groups.append({"machine": worker, "role": _("worker"),
                       "actions": [["node.fail", worker, _("Fail node %(target)s")],
                                   ["node.recover", worker, _("Recover node %(target)s")]] + node_actions(worker)})
    if layout["etcd_mode"] == "external":
        for member in layout["etcd_members"]:
            groups.append({"machine": member, "role": _("etcd machine"),
                           "actions": [["etcd.fail", member, _("Stop etcd member %(target)s")],
                                       ["etcd.recover", member, _("Recover etcd member %(target)s")],
                                       ["network.partition", member, _("Partition %(target)s")],
                                       ["network.heal", member, _("Heal the network of %(target)s")]]})
    for group in groups:
        group["actions"] = [{"action": action, "target": target, "label": label % {"target": target},
                             "danger": not action.endswith(("recover", "start", "heal", "uncordon"))}
                            for action, target, label in group["actions"]]
    return groups


def node_actions(node: str) -> list[list]:
    return [
        ["kubelet.stop", node, _("Stop the kubelet on %(target)s")],
        ["kubelet.start", node, _("Start the kubelet on %(target)s")],
        ["network.partition", node, _("Partition %(target)s")],
        ["network.heal", node, _("Heal the network of %(target)s")],
        ["cordon", node, _("Cordon %(target)s")],
        ["uncordon", node, _("Uncordon %(target)s")],
        ["drain", node, _("Drain %(target)s")],
    ]


# --- views ----------------------------------------------------------------------------------

def session_key_of(request: HttpRequest) -> str:
    if not request.session.session_key:
        request.session.save()
    return request.session.session_key


def viewable_cluster(request: HttpRequest, cluster_id: str) -> LiveCluster | None:
    live = registry.get(cluster_id)
    return live if can_view(live, request.session.session_key) else None


def not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "web/cluster_missing.html", status=404)


def cluster_page(request: HttpRequest, cluster_id: str) -> HttpResponse:
    live = viewable_cluster(request, cluster_id)
    if live is None:
        return not_found(request)
    return render(request, "web/cluster_page.html", {"live": live})


def sandbox_document(*, control_plane_nodes: int, etcd_members: int, workers: int, sample_app: bool) -> dict:
    """An inline scenario (docs/scenarios.md) for the chosen topology."""
    stacked = etcd_members == control_plane_nodes
    control_plane: dict[str, Any] = {"nodes": control_plane_nodes, "etcd": "stacked" if stacked else "external"}
    if not stacked:
        control_plane["etcdMembers"] = etcd_members
    document: dict[str, Any] = {
        "name": "sandbox",
        "description": "Free play: a cluster of the chosen size.",
        "topology": {"controlPlane": control_plane,
                     "workers": {"count": workers, "allocatable": {"cpu": "2", "memory": "4Gi", "pods": "110"},
                                 "images": [dict(SAMPLE_IMAGE)]}},
        "objects": [],
    }
    if sample_app:
        labels = {"app": "web"}
        document["objects"] = [
            {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": labels},
             "spec": {"replicas": 3, "selector": {"matchLabels": labels},
                      "template": {"metadata": {"labels": labels},
                                   "spec": {"containers": [{"name": "nginx", "image": SAMPLE_IMAGE["name"],
                                                            "ports": [{"containerPort": 80}],
                                                            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}}}},
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
             "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": 80}]}},
        ]
    return document


def int_choice(value: Any, allowed: list[int], default: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if number in allowed else default


def sandbox(request: HttpRequest) -> HttpResponse:
    session_key = session_key_of(request)
    error, retry_after = "", ""
    wait_s = limits.session_action_wait_s(session_key) if request.method == "POST" else None
    if wait_s is not None:  # the session's action rate (web/limits.py)
        error, retry_after = limits.too_many_requests_message(wait_s), limits.retry_after_header(wait_s)
    elif request.method == "POST":
        document = sandbox_document(
            control_plane_nodes=int_choice(request.POST.get("control_plane"), SANDBOX_LIMITS["control_plane"], 1),
            etcd_members=int_choice(request.POST.get("etcd"), SANDBOX_LIMITS["etcd"], 1),
            workers=int_choice(request.POST.get("workers"),
                               list(range(SANDBOX_LIMITS["workers_min"], SANDBOX_LIMITS["workers_max"] + 1)), 3),
            sample_app=request.POST.get("sample_app") == "on")
        try:
            limits.charge_cluster_creation(address=limits.client_address(request.META))
            live = services.create_cluster(session_key=session_key, scenario=document, seed=1)
        except limits.ClusterQuotaReached as failure:
            error, retry_after = str(failure), failure.retry_after
        except services.ServiceError as failure:
            error = str(failure)
        else:
            return redirect("cluster-page", cluster_id=live.id)
    clusters = [{"id": live.id, "scenario": live.scenario_name, "now": format_virtual_time(live.now_ms),
                 "nodes": len(live.cluster.layout["control_plane"]) + len(live.cluster.layout["workers"])}
                for live in registry.owned_by(session_key)]
    page = render(request, "web/sandbox.html", {
        "error": error, "clusters": clusters, "workers_range": list(range(1, SANDBOX_LIMITS["workers_max"] + 1)),
        "control_plane_choices": SANDBOX_LIMITS["control_plane"], "etcd_choices": SANDBOX_LIMITS["etcd"]},
        status=429 if retry_after else 200)
    if retry_after:
        page["Retry-After"] = retry_after
    return page


def fragments_response(live: LiveCluster, *, message: str = "", ok: bool = True,
                       names: list[str] | None = None) -> HttpResponse:
    language = translation.get_language() or "en"
    fragments = render_state_fragments(live, language=language, names=names)
    status = render_to_string("web/cluster_status.html", {"message": message, "ok": ok, "oob": True})
    return HttpResponse("".join(fragments.values()) + status)


def post_only(request: HttpRequest) -> HttpResponse | None:
    return None if request.method == "POST" else HttpResponseNotAllowed(["POST"])


ACTION_FIELDS = ("action", "target", "replicas", "image", "kind", "name", "namespace")


def throttled_response(request: HttpRequest, live: LiveCluster) -> HttpResponse | None:
    """Over the session's action rate (web/limits.py): say so in the status line."""
    wait_s = limits.session_action_wait_s(request.session.session_key)
    if wait_s is None:
        return None
    throttled = fragments_response(live, message=limits.too_many_requests_message(wait_s), ok=False, names=["clock"])
    throttled.status_code = 200 if request.headers.get("HX-Request") else 429  # htmx swaps 2xx only
    throttled["Retry-After"] = limits.retry_after_header(wait_s)
    return throttled


def checked_control(request: HttpRequest, cluster_id: str) -> tuple[LiveCluster | None, HttpResponse | None]:
    """What every control checks first: a POST, a cluster this session may see, the action rate."""
    refused = post_only(request)
    if refused:
        return None, refused
    live = viewable_cluster(request, cluster_id)
    if live is None:
        return None, not_found(request)
    return live, throttled_response(request, live)


def cluster_action(request: HttpRequest, cluster_id: str) -> HttpResponse:
    """A control: POST action=<ACTIONS name>, target, and the action's fields."""
    live, refused = checked_control(request, cluster_id)
    if refused is not None:
        return refused
    action = {key: request.POST[key] for key in ACTION_FIELDS if request.POST.get(key)}
    if "replicas" in action:
        action["replicas"] = int_or_text(action["replicas"])
    try:
        services.apply_action(session_key=request.session.session_key, cluster_id=live.id, action=action)
    except services.ServiceError as failure:
        return fragments_response(live, message=str(failure), ok=False, names=["clock"])
    return fragments_response(live, message=_("Done: %(action)s %(target)s") % {
        "action": action.get("action", ""), "target": action.get("target", "")})


def int_or_text(value: str) -> Any:
    try:
        return int(value)
    except ValueError:
        return value


def cluster_clock(request: HttpRequest, cluster_id: str) -> HttpResponse:
    """Clock controls: POST command=pause|play|step|speed|skip|rewind (+ seconds, speed, time_ms)."""
    live, refused = checked_control(request, cluster_id)
    if refused is not None:
        return refused
    command = request.POST.get("command", "")
    session_key = request.session.session_key
    message = ""
    try:
        if command == "pause":
            services.set_clock(session_key=session_key, cluster_id=live.id, paused=True)
        elif command == "play":
            services.set_clock(session_key=session_key, cluster_id=live.id, paused=False)
        elif command == "step":
            seconds = int_choice(request.POST.get("seconds"), STEP_SECONDS, 1)
            services.set_clock(session_key=session_key, cluster_id=live.id, advance=f"{seconds}s")
        elif command == "speed":
            speed = int_choice(request.POST.get("speed"), SPEEDS, 1)
            services.set_clock(session_key=session_key, cluster_id=live.id, speed=speed)
        elif command == "skip":
            message = skip_to_next(live)
        elif command == "rewind":
            services.set_clock(session_key=session_key, cluster_id=live.id,
                               rewind_to=int_or_text(request.POST.get("time_ms", "")))
            message = _("Rewound to %(time)s: what you do now branches from there") % {
                "time": format_virtual_time(live.now_ms)}
        else:
            return fragments_response(live, message=_("Unknown clock command"), ok=False, names=["clock"])
    except services.ServiceError as failure:
        return fragments_response(live, message=str(failure), ok=False, names=["clock"])
    return fragments_response(live, message=message)


def skip_to_next(live: LiveCluster) -> str:
    """Advance in bounded steps until an event a learner would notice; at most SKIP_LIMIT_MS."""
    view = view_state(live)
    with live.lock:
        live.advance()
        started_ms = live.now_ms
        for _step in range(SKIP_LIMIT_MS // SKIP_STEP_MS):
            events = live.advance_by(SKIP_STEP_MS)
            interesting = [event for event in events if event.kind in INTERESTING_KINDS]
            if interesting:
                return _("Skipped %(seconds)s s to: %(what)s") % {
                    "seconds": (live.now_ms - started_ms) // 1000,
                    "what": view.narrator.sentence(interesting[0])}
        return _("Nothing happened in the next %(minutes)s minutes") % {"minutes": SKIP_LIMIT_MS // 60_000}
