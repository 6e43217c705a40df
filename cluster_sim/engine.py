"""The discrete-event core: virtual clock, event heap, components and the typed event stream.

Everything the simulation holds is plain data (numbers, strings, lists, dicts with string keys,
random generators and objects that follow the state protocol below), so a snapshot is a generic
walk over the components and a restore rebuilds them exactly.  No wall clock, no threads, no I/O.
"""
from __future__ import annotations

import contextlib
import gc
import hashlib
import heapq
import importlib
import random
from typing import Any, Callable, Iterator

from .jsontree import SCALAR_TYPES
from .timefmt import format_micro_time, format_time

# Heap priorities: at one instant, learner actions apply before messages, messages before timers.
PRIORITY_ACTION = 0
PRIORITY_MESSAGE = 10
PRIORITY_TIMER = 20

# A component whose epoch is checked ignores timers armed before it last crashed or restarted.
NO_EPOCH = -1

MAX_EVENTS_PER_RUN = 50_000_000


class SimulationError(Exception):
    """An invariant of the simulation was broken: always a bug in cluster_sim, never bad input."""


def derive_seed(root_seed: int, name: str) -> int:
    digest = hashlib.sha256(f"{root_seed}/{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


class Event:
    """One entry of the typed event stream (see docs/events.md)."""

    __slots__ = ("time_ms", "seq", "kind", "source", "target", "payload")

    def __init__(self, time_ms: int, seq: int, kind: str, source: str, target: str, payload: dict):
        self.time_ms = time_ms
        self.seq = seq
        self.kind = kind
        self.source = source
        self.target = target
        self.payload = payload

    def as_dict(self) -> dict:
        return {"t": self.time_ms, "seq": self.seq, "kind": self.kind, "source": self.source,
                "target": self.target, "payload": self.payload}

    def __repr__(self) -> str:
        return f"Event({self.time_ms}ms #{self.seq} {self.kind} {self.source}->{self.target} {self.payload})"


# --- state protocol -------------------------------------------------------------------------
# An object is serialisable when every attribute not named in its TRANSIENT tuple is plain data,
# a random.Random, or another object of a class that also follows this protocol.
#
# One object revision is held by many owners at once (three etcd logs and stores, every
# apiserver's watch cache, informers, messages in flight), so a snapshot that copied it at each
# place would be many times larger than the cluster's data.  When `encode_state` is given a
# `SharedDicts`, a dict met a second time is written once in the snapshot's table of shared dicts
# and referred to as {"__ref__": n} everywhere; `decode_state` rebuilds one dict for all the
# places, so the restored state shares exactly what the live one shared.

class SharedDicts:
    """The table of dicts one snapshot met more than once, and what was met so far."""

    def __init__(self):
        self.table: list[dict] = []
        # id(dict) -> (the dict (kept alive so its id is not reused), its encoding)
        self.seen: dict[int, tuple] = {}

    def share(self, encoded: dict) -> dict:
        """Move a first encoding into the table; the first place becomes a reference too."""
        if "__ref__" in encoded and len(encoded) == 1:
            return {"__ref__": encoded["__ref__"]}
        number = len(self.table)
        self.table.append(dict(encoded))
        encoded.clear()
        encoded["__ref__"] = number
        return {"__ref__": number}


def encode_state(value: Any, shared: SharedDicts | None = None) -> Any:
    kind = type(value)
    if kind in SCALAR_TYPES:
        return value
    if kind is list:
        return [item if type(item) in SCALAR_TYPES else encode_state(item, shared) for item in value]
    if kind is dict:
        return _encode_dict(value, shared)
    return _encode_other(value, shared)


def _encode_dict(value: dict, shared: SharedDicts | None) -> dict:
    if shared is not None:
        known = shared.seen.get(id(value))
        if known is not None:
            return shared.share(known[1])
    encoded = {}
    for key, item in value.items():
        if type(key) is not str:
            raise SimulationError(f"state dict key {key!r} is not a string")
        encoded[key] = item if type(item) in SCALAR_TYPES else encode_state(item, shared)
    if "__class__" in encoded or "__rng__" in encoded or "__ref__" in encoded:
        raise SimulationError("state dict uses a reserved key")
    if shared is not None:
        shared.seen[id(value)] = (value, encoded)
    return encoded


def _encode_other(value: Any, shared: SharedDicts | None) -> Any:
    if isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [encode_state(item, shared) for item in value]
    if isinstance(value, dict):
        return _encode_dict(value, shared)
    if isinstance(value, random.Random):
        version, internal, gauss = value.getstate()
        return {"__rng__": [version, list(internal), gauss]}
    if isinstance(value, tuple):
        raise SimulationError(f"tuple {value!r} in simulation state: use a list")
    if hasattr(value, "__dict__"):
        transient = getattr(type(value), "TRANSIENT", ())
        attributes = {name: encode_state(item, shared) for name, item in vars(value).items()
                      if name not in transient}
        cls = type(value)
        return {"__class__": f"{cls.__module__}:{cls.__qualname__}", "state": attributes}
    raise SimulationError(f"cannot snapshot a {type(value).__name__}")


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Encoding or decoding a snapshot allocates hundreds of thousands of containers and no
    cycles; without the pause the cyclic garbage collector rescans the whole cluster's state over
    and over meanwhile, which costs more than the encoding itself."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class SharedDictsReader:
    """Decodes a snapshot's table of shared dicts, each entry once, on first reference."""

    def __init__(self, table: list[dict]):
        self.table = table
        self.decoded: dict[int, Any] = {}

    def get(self, number: int, sim: "Simulation") -> Any:
        value = self.decoded.get(number)
        if value is None:
            value = decode_state(self.table[number], sim, self)
            self.decoded[number] = value
        return value


def decode_state(value: Any, sim: "Simulation", shared: SharedDictsReader | None = None) -> Any:
    kind = type(value)
    if kind is list:
        return [decode_state(item, sim, shared) for item in value]
    if kind is not dict:
        return value
    if "__ref__" in value:
        if shared is None:
            raise SimulationError("a shared dict reference outside a snapshot")
        return shared.get(value["__ref__"], sim)
    if "__rng__" in value:
        version, internal, gauss = value["__rng__"]
        generator = random.Random()
        generator.setstate((version, tuple(internal), gauss))
        return generator
    if "__class__" in value:
        module_name, _, qualname = value["__class__"].partition(":")
        cls: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            cls = getattr(cls, part)
        instance = cls.__new__(cls)
        for name, item in value["state"].items():
            setattr(instance, name, decode_state(item, sim, shared))
        if hasattr(instance, "attach"):
            instance.attach(sim)
        return instance
    decoded = {}
    for key, item in value.items():
        item_kind = type(item)
        if item_kind is list or item_kind is dict:
            decoded[key] = decode_state(item, sim, shared)
        else:
            decoded[key] = item
    return decoded


class Component:
    """A simulated process (etcd member, kube-apiserver, kubelet, ...), addressed by name.

    Handlers are methods named ``on_<method>``; they receive the message body (and the sender's
    name for network messages).  ``epoch`` grows on every crash and restart so that timers armed
    by an earlier incarnation are ignored.
    """

    TRANSIENT = ("sim",)
    kind = "component"

    def __init__(self, sim: "Simulation", name: str, node: str | None):
        self.sim = sim
        self.name = name
        self.node = node
        self.running = True
        self.epoch = 0
        self.rng = random.Random(derive_seed(sim.seed, name))

    def attach(self, sim: "Simulation") -> None:
        self.sim = sim

    # Timers -----------------------------------------------------------------------------
    def after(self, delay_ms: int, method: str, payload: Any = None) -> None:
        # Simulation.schedule inlined: timers are a third of all heap entries.
        if delay_ms < 0:
            raise SimulationError(f"{self.name}: timer {method} armed {delay_ms} ms in the past")
        sim = self.sim
        sim.heap_seq += 1
        heapq.heappush(sim.heap, (sim.now_ms + delay_ms, PRIORITY_TIMER, sim.heap_seq, self.name, method, payload,
                                  self.epoch))

    # Messages ---------------------------------------------------------------------------
    def send(self, target: str, method: str, body: Any) -> None:
        self.sim.network.send(self, target, method, body)

    def emit(self, kind: str, target: str, payload: dict) -> None:
        self.sim.emit(kind, self.name, target, payload)

    def now_text(self) -> str:
        """The virtual clock as a Kubernetes timestamp (metav1.Time)."""
        return format_time(self.sim.start_epoch_ms + self.sim.now_ms)

    def now_micro_text(self) -> str:
        return format_micro_time(self.sim.start_epoch_ms + self.sim.now_ms)

    # Lifecycle --------------------------------------------------------------------------
    def stop(self) -> None:
        """The process dies: volatile state is lost, timers are void."""
        if not self.running:
            return
        self.running = False
        self.epoch += 1
        self.on_stop()

    def start(self) -> None:
        if self.running:
            return
        self.running = True
        self.epoch += 1
        self.on_start()

    def on_stop(self) -> None:
        pass

    def on_start(self) -> None:
        pass


class Simulation:
    """Clock, heap and component registry. One instance per simulated cluster."""

    TRANSIENT = ("listeners", "_handlers", "network")

    def __init__(self, seed: int, start_epoch_ms: int = 0):
        self.seed = seed
        self.start_epoch_ms = start_epoch_ms
        self.now_ms = 0
        self.heap: list = []
        self.heap_seq = 0
        self.event_seq = 0
        self.components: dict[str, Component] = {}
        self.pending_events: list[Event] = []
        self.listeners: list[Callable[[Event], None]] = []
        self._handlers: dict = {}
        self.network: Any = None

    def rng_for(self, name: str) -> random.Random:
        return random.Random(derive_seed(self.seed, name))

    def add(self, component: Component) -> Component:
        if component.name in self.components:
            raise SimulationError(f"duplicate component name {component.name}")
        self.components[component.name] = component
        return component

    def schedule(self, time_ms: int, priority: int, target: str, method: str, payload: Any,
                 epoch: int = NO_EPOCH) -> None:
        if time_ms < self.now_ms:
            raise SimulationError(f"cannot schedule in the past: {time_ms} < {self.now_ms}")
        self.heap_seq += 1
        heapq.heappush(self.heap, (time_ms, priority, self.heap_seq, target, method, payload, epoch))

    def emit(self, kind: str, source: str, target: str, payload: dict) -> Event:
        self.event_seq += 1
        event = Event(self.now_ms, self.event_seq, kind, source, target, payload)
        self.pending_events.append(event)
        for listener in self.listeners:
            listener(event)
        return event

    def drain_events(self) -> list[Event]:
        events, self.pending_events = self.pending_events, []
        return events

    def next_time_ms(self) -> int | None:
        return self.heap[0][0] if self.heap else None

    def step(self) -> bool:
        """Run the earliest heap entry. Returns False when the heap is empty."""
        if not self.heap:
            return False
        self.run_entry(heapq.heappop(self.heap))
        return True

    def run_entry(self, entry: tuple) -> None:
        time_ms, _priority, _seq, target, method, payload, epoch = entry
        self.now_ms = time_ms
        component = self.components[target]
        if not component.running or (epoch != NO_EPOCH and epoch != component.epoch):
            return
        if method == "net":
            self.network.deliver(component, payload)
            return
        self.handler(component, method)(payload)

    def handler(self, component: Component, method: str) -> Callable:
        """The bound ``on_<method>`` of a component, cached: looking it up (and building its
        name) for every heap entry is a large share of an idle cluster's cost."""
        handlers = self._handlers.get(component.name)
        if handlers is None:
            handlers = self._handlers[component.name] = {}
        bound = handlers.get(method)
        if bound is None:
            bound = handlers[method] = getattr(component, "on_" + method)
        return bound

    def run_until(self, time_ms: int, max_events: int = MAX_EVENTS_PER_RUN) -> int:
        """Advance the clock to ``time_ms``, running every entry due up to and including it."""
        # This loop is the simulation's innermost one: run_entry and deliver are inlined.
        heap = self.heap
        components = self.components
        all_handlers = self._handlers
        network = self.network
        pop = heapq.heappop
        with collector_paused():
            ran = self._run_loop(time_ms, max_events, heap, components, all_handlers, network, pop)
        if time_ms > self.now_ms:
            self.now_ms = time_ms
        return ran

    def _run_loop(self, time_ms: int, max_events: int, heap: list, components: dict, all_handlers: dict,
                  network: Any, pop: Callable) -> int:
        # The simulation allocates many dicts and no reference cycles worth collecting while it
        # runs: the cyclic collector's rescans would cost about a tenth of the time.
        ran = 0
        while heap and heap[0][0] <= time_ms:
            ran += 1
            if ran > max_events:
                raise SimulationError(f"more than {max_events} heap entries before {time_ms} ms")
            entry_time_ms, _priority, _seq, target, method, payload, epoch = pop(heap)
            self.now_ms = entry_time_ms
            component = components[target]
            if not component.running or (epoch != NO_EPOCH and epoch != component.epoch):
                continue
            if method == "net":
                if network.machines_down or network.partition_group:
                    network.deliver(component, payload)
                    continue
                sender_name, _sender_machine, method, body = payload
                handlers = all_handlers.get(target)
                bound = handlers.get(method) if handlers is not None else None
                if bound is None:
                    bound = self.handler(component, method)
                bound(sender_name, body)
                continue
            handlers = all_handlers.get(target)
            bound = handlers.get(method) if handlers is not None else None
            if bound is None:
                bound = self.handler(component, method)
            bound(payload)
        return ran

    def events_until(self, time_ms: int) -> Iterator[Event]:
        self.run_until(time_ms)
        yield from self.drain_events()

    # Snapshot ---------------------------------------------------------------------------
    def snapshot(self) -> dict:
        if self.pending_events:
            raise SimulationError("drain the event stream before taking a snapshot")
        shared = SharedDicts()
        with collector_paused():
            heap = [encode_state(list(entry), shared) for entry in sorted(self.heap)]
            network = encode_state(self.network, shared)
            components = {name: encode_state(component, shared) for name, component in self.components.items()}
        return {
            "seed": self.seed,
            "start_epoch_ms": self.start_epoch_ms,
            "now_ms": self.now_ms,
            "heap_seq": self.heap_seq,
            "event_seq": self.event_seq,
            "heap": heap,
            "network": network,
            "components": components,
            "shared": shared.table,
        }

    @classmethod
    def restore(cls, snapshot: dict) -> "Simulation":
        sim = cls(snapshot["seed"], snapshot["start_epoch_ms"])
        sim.now_ms = snapshot["now_ms"]
        sim.heap_seq = snapshot["heap_seq"]
        sim.event_seq = snapshot["event_seq"]
        shared = SharedDictsReader(snapshot.get("shared") or [])
        with collector_paused():
            sim.heap = [tuple(decode_state(entry, sim, shared)) for entry in snapshot["heap"]]
            heapq.heapify(sim.heap)
            sim.network = decode_state(snapshot["network"], sim, shared)
            for name, state in snapshot["components"].items():
                sim.components[name] = decode_state(state, sim, shared)
        return sim
