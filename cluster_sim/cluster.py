"""A whole simulated cluster built from a scenario: machines, components, faults, time travel.

`Cluster` is the one entry point the CLI and the web app use. Actions (from the scenario's
timeline, a learner or an instructor) enter the heap as entries for the `director` component, so
they are part of the simulation's own history and replay exactly.
"""
from __future__ import annotations

import copy
import json
import zlib
from typing import Any

from .apiserver.admission import DEFAULT_CLUSTER_MAX_PODS
from .apiserver.server import KubeApiServer
from .engine import PRIORITY_ACTION, Component, Event, Simulation, SimulationError
from .kubectl import Kubectl
from .network import Network

# Time-travel checkpoints: at most one per run, once this much virtual time has passed since the
# last, so a long fast-forward pays for one snapshot and a rewind replays at most a few minutes.
SNAPSHOT_INTERVAL_MS = 300_000
# Kept checkpoints are compressed; past this many bytes the older ones are thinned out.
MAX_KEPT_SNAPSHOT_BYTES = 64 * 1024 * 1024
SNAPSHOT_COMPRESSION_LEVEL = 1
DEFAULT_SEED = 1


class Director(Component):
    """Applies actions: faults to machines and processes directly, API actions through kubectl."""

    kind = "director"

    def __init__(self, sim: Simulation, layout: dict):
        super().__init__(sim, "director", None)
        self.layout = layout

    def on_action(self, action: dict) -> None:
        name = action["action"]
        if name == "api.request":
            # A person's own kubectl (through the web app's Kubernetes API): one request, no narration here;
            # api.request / api.response events tell its story.
            self.sim.components["kubectl"].on_raw_request(action)
            return
        if name == "api.unwatch":
            self.sim.components["kubectl"].on_raw_unwatch(action)
            return
        self.emit("action", action.get("target") or "", dict(action))
        if name in API_ACTIONS:
            self.sim.components["kubectl"].run_action(action)
            return
        getattr(self, "do_" + name.replace(".", "_"))(action)

    # Machines -----------------------------------------------------------------------------
    def components_on(self, machine: str) -> list[Component]:
        return [component for component in self.sim.components.values() if component.node == machine]

    def machine_down(self, machine: str) -> None:
        self.sim.network.set_machine_down(machine, True)
        for component in self.components_on(machine):
            component.stop()
        self.emit("machine.down", machine, {"machine": machine})

    def machine_up(self, machine: str) -> None:
        self.sim.network.set_machine_down(machine, False)
        for component in self.components_on(machine):
            if component.name not in self.layout["stopped_by_action"]:
                component.start()
        self.emit("machine.up", machine, {"machine": machine})

    def do_node_fail(self, action: dict) -> None:
        self.machine_down(action["target"])

    def do_node_recover(self, action: dict) -> None:
        self.machine_up(action["target"])

    do_controlplane_fail = do_node_fail
    do_controlplane_recover = do_node_recover

    def do_node_delete(self, action: dict) -> None:
        self.machine_down(action["target"])
        cloud = self.sim.components.get("cloud")
        if cloud is not None:
            cloud.remove_machine(action["target"])

    # Processes ------------------------------------------------------------------------------
    def stop_process(self, name: str) -> None:
        self.layout["stopped_by_action"][name] = True
        self.sim.components[name].stop()
        self.emit("process.stop", name, {"process": name})

    def start_process(self, name: str) -> None:
        self.layout["stopped_by_action"].pop(name, None)
        component = self.sim.components[name]
        if not self.sim.network.machines_down.get(component.node or "", False):
            component.start()
            self.emit("process.start", name, {"process": name})

    def do_kubelet_stop(self, action: dict) -> None:
        self.stop_process(f"kubelet-{action['target']}")

    def do_kubelet_start(self, action: dict) -> None:
        self.start_process(f"kubelet-{action['target']}")

    def do_apiserver_fail(self, action: dict) -> None:
        self.stop_process(f"kube-apiserver-{action['target']}")

    def do_apiserver_recover(self, action: dict) -> None:
        self.start_process(f"kube-apiserver-{action['target']}")

    def etcd_member(self, target: str) -> str:
        return target if target in self.layout["etcd_members"] else f"etcd-{target}"

    def do_etcd_fail(self, action: dict) -> None:
        self.stop_process(self.etcd_member(action["target"]))

    def do_etcd_recover(self, action: dict) -> None:
        self.start_process(self.etcd_member(action["target"]))

    def do_container_crash(self, action: dict) -> None:
        target = action["target"]
        namespace, _, pod_name = target.rpartition("/")
        for runtime_name in self.layout["runtimes"]:
            runtime = self.sim.components[runtime_name]
            if runtime.running and runtime.crash_container(namespace or "default", pod_name, action.get("container")):
                return
        self.emit("action.result", "", {"action": "container.crash", "target": target, "ok": False,
                                        "message": f"no running container of pod {target}"})

    # Network --------------------------------------------------------------------------------
    def do_network_partition(self, action: dict) -> None:
        if action.get("groups"):
            self.sim.network.partition(action["groups"])
        else:
            self.sim.network.isolate(action["target"])
        self.emit("network.partition", action.get("target") or "", {"groups": action.get("groups")})

    def do_network_heal(self, action: dict) -> None:
        self.sim.network.heal(action.get("target"))
        self.emit("network.heal", action.get("target") or "", {})

    # Traffic --------------------------------------------------------------------------------
    def do_service_request(self, action: dict) -> None:
        node = action.get("from") or self.layout["workers"][0]
        proxy = self.sim.components.get(f"kube-proxy-{node}")
        # The node's iptables rules route traffic even while the kube-proxy process is down.
        if proxy is not None and not self.sim.network.machines_down.get(node, False):
            proxy.on_service_request({"service": action["target"], "client": action.get("client") or "curl"})


API_ACTIONS = ("apply", "delete", "scale", "cordon", "uncordon", "drain", "rollout")



# json.dumps(value, separators=(",", ":")) builds a new encoder at every call: this one is reused
# (it keeps no state between calls).
_COMPACT_ENCODER = json.JSONEncoder(separators=(",", ":"))
_encode_key = json.encoder.encode_basestring_ascii  # json.dumps(key) for a str key
# Levels a checkpoint is split at: a Simulation.snapshot() is split into its heap entries,
# components and shared dicts, each written by one call (the largest, an etcd member, is a few
# hundred kB); one more level made five times as many calls for no smaller largest part.
CHECKPOINT_JSON_DEPTH = 2


def compact_json_in_parts(value: Any, depth: int = 3) -> str:
    """json.dumps(value, separators=(",", ":")), the same text, built from one call per member
    down to ``depth`` levels: a checkpoint is megabytes of JSON and one call to the C encoder would
    hold the interpreter's lock throughout, stalling every other thread of a server for tens of ms."""
    if depth > 0 and isinstance(value, dict) and value and all(isinstance(key, str) for key in value):
        return "{" + ",".join(_encode_key(key) + ":" + compact_json_in_parts(member, depth - 1)
                              for key, member in value.items()) + "}"
    if depth > 0 and isinstance(value, list) and value:
        return "[" + ",".join(compact_json_in_parts(member, depth - 1) for member in value) + "]"
    return _COMPACT_ENCODER.encode(value)


class Cluster:
    """A simulated cluster plus its history (recorded actions and periodic snapshots)."""

    def __init__(self, sim: Simulation, scenario: Any, layout: dict):
        self.sim = sim
        self.scenario = scenario
        self.layout = layout
        self.recorded_actions: list[dict] = []
        # [virtual ms, zlib-compressed JSON of Simulation.snapshot()], oldest first.
        self.snapshots: list[list] = []
        self.next_snapshot_ms = 0

    # Building -------------------------------------------------------------------------------
    @classmethod
    def from_scenario(cls, scenario: Any, seed: int | None = None, *,
                      max_pods: int = DEFAULT_CLUSTER_MAX_PODS) -> "Cluster":
        """``max_pods``: the most pods the cluster holds; its apiservers refuse more (403, as an
        exceeded ResourceQuota). Part of the simulation's state, so snapshots keep it."""
        from .builder import build_simulation

        root_seed = seed if seed is not None else (scenario.seed if scenario.seed is not None else DEFAULT_SEED)
        sim, layout = build_simulation(scenario, root_seed, max_pods=max_pods)
        cluster = cls(sim, scenario, layout)
        for entry in scenario.timeline:
            cluster.schedule_action(entry, record=False)
        return cluster

    @classmethod
    def from_file(cls, path: str, seed: int | None = None) -> "Cluster":
        from .scenario import load_scenario

        return cls.from_scenario(load_scenario(path), seed)

    # Actions --------------------------------------------------------------------------------
    def schedule_action(self, action: dict, *, record: bool = True) -> None:
        at_ms = max(int(action.get("at_ms", self.sim.now_ms)), self.sim.now_ms)
        entry = {key: value for key, value in action.items() if key != "at_ms"}
        self.sim.schedule(at_ms, PRIORITY_ACTION, "director", "action", entry)
        if record:
            self.recorded_actions.append(dict(entry, at_ms=at_ms, heap_seq=self.sim.heap_seq))

    def apply_action(self, action: dict) -> None:
        """Apply an action now (the learner pressed a button)."""
        self.schedule_action(dict(action, at_ms=self.sim.now_ms))

    def submit_api_request(self, ticket: str, request: dict, timeout_ms: int = 60_000) -> None:
        """Queue one Kubernetes API request from outside (recorded, so it replays exactly)."""
        self.apply_action({"action": "api.request", "ticket": ticket, "request": request, "timeout_ms": timeout_ms})

    def take_api_result(self, ticket: str) -> dict | None:
        return self.sim.components["kubectl"].raw_results.pop(ticket, None)

    def take_watch_events(self, ticket: str) -> list[dict]:
        """Notifications of a raw watch started with submit_api_request(verb "watch") since last taken;
        a final {"type": "END"} means the apiserver closed the watch."""
        pending = self.sim.components["kubectl"].raw_watch_events
        events = pending.get(ticket) or []
        if events:
            pending[ticket] = []
        return events

    def stop_watch(self, ticket: str) -> None:
        self.apply_action({"action": "api.unwatch", "ticket": ticket})

    # Running --------------------------------------------------------------------------------
    def run_until(self, time_ms: int) -> list[Event]:
        """Advance to time_ms; returns the events emitted. Takes a time-travel checkpoint at the
        end when one is due (and always one at time 0, before anything ran)."""
        if not self.snapshots:
            self.take_snapshot()
        self.sim.run_until(time_ms)
        events = self.sim.drain_events()
        if self.sim.now_ms >= self.next_snapshot_ms:
            self.take_snapshot()
        return events

    def run_for(self, duration_ms: int) -> list[Event]:
        return self.run_until(self.sim.now_ms + duration_ms)

    def take_snapshot(self) -> None:
        """A checkpoint for rewind (call with the event stream drained)."""
        text = compact_json_in_parts(self.sim.snapshot(), CHECKPOINT_JSON_DEPTH).encode()
        self.snapshots.append([self.sim.now_ms, zlib.compress(text, SNAPSHOT_COMPRESSION_LEVEL)])
        for _thinning in range(len(self.snapshots)):
            if sum(len(entry[1]) for entry in self.snapshots) <= MAX_KEPT_SNAPSHOT_BYTES or len(self.snapshots) <= 2:
                break
            # Keep the first (time 0) and the newest; drop every other one in between.
            middle = self.snapshots[1:-1]
            self.snapshots = self.snapshots[:1] + middle[1::2] + self.snapshots[-1:]
        self.next_snapshot_ms = self.sim.now_ms + SNAPSHOT_INTERVAL_MS

    @property
    def now_ms(self) -> int:
        return self.sim.now_ms

    # Time travel ------------------------------------------------------------------------------
    def rewind(self, time_ms: int) -> list[Event]:
        """Go back to time_ms and branch from there: later learner actions are forgotten."""
        if time_ms > self.sim.now_ms:
            raise ValueError("cannot rewind into the future")
        usable = [entry for entry in self.snapshots if entry[0] <= time_ms]
        if not usable:
            raise ValueError("no snapshot that early")
        snapshot_ms, snapshot_bytes = usable[-1]
        state = json.loads(zlib.decompress(snapshot_bytes))
        self.sim = Simulation.restore(state)
        self.layout = self.sim.components["director"].layout
        self.snapshots = [entry for entry in self.snapshots if entry[0] <= snapshot_ms]
        self.next_snapshot_ms = snapshot_ms + SNAPSHOT_INTERVAL_MS
        # Recorded actions scheduled after the snapshot was taken are not in its heap: replay each
        # the way it first happened (the clock had reached its time, then it was scheduled), so
        # the replayed history is the same to the heap sequence number.
        replay = [action for action in self.recorded_actions
                  if action["heap_seq"] > state["heap_seq"] and action["at_ms"] <= time_ms]
        self.recorded_actions = [action for action in self.recorded_actions if action["at_ms"] <= time_ms]
        for action in replay:
            self.sim.run_until(action["at_ms"])
            entry = {key: value for key, value in action.items() if key not in ("at_ms", "heap_seq")}
            self.sim.schedule(action["at_ms"], PRIORITY_ACTION, "director", "action", entry)
            action["heap_seq"] = self.sim.heap_seq
        self.sim.run_until(time_ms)
        return self.sim.drain_events()

    # State export -------------------------------------------------------------------------------
    def snapshot(self) -> dict:
        self.sim.drain_events()
        return {"simulation": self.sim.snapshot(), "recorded_actions": copy.deepcopy(self.recorded_actions)}

    def etcd_objects(self) -> list[dict]:
        """Every object in the simulated etcd, read from the member with the most applied state."""
        members = [self.sim.components[name] for name in self.layout["etcd_members"]]
        best = max(members, key=lambda member: member.applied_revision())
        return [item for item in best.all_objects()]

    def dump_list(self) -> dict:
        return {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
                "items": self.etcd_objects()}

    def component(self, name: str) -> Component:
        component = self.sim.components.get(name)
        if component is None:
            raise SimulationError(f"no component {name}")
        return component
