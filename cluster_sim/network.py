"""The network between simulated machines: latency, machines that are down, partitions, loss.

A message leaves its sender only if the link is up when it is sent, and reaches its receiver
only if the link is still up when it arrives; otherwise it is silently lost, as on a real
network.  Processes on the same machine always reach each other (loopback).
"""
from __future__ import annotations

import random
from heapq import heappush
from typing import Any

from .engine import NO_EPOCH, PRIORITY_MESSAGE, Component, Simulation, derive_seed


class Network:
    TRANSIENT = ("sim",)

    def __init__(self, sim: Simulation, *, latency_ms: int = 1, jitter_ms: int = 1, loss: float = 0.0):
        self.sim = sim
        self.latency_ms = latency_ms
        self.jitter_ms = jitter_ms
        self.loss = loss
        self.rng = random.Random(derive_seed(sim.seed, "network"))
        self.machines_down: dict[str, bool] = {}
        # machine -> partition group; machines in different groups cannot reach each other.
        self.partition_group: dict[str, str] = {}
        self.dropped_messages = 0
        self.last_arrival_ms: dict[str, int] = {}
        sim.network = self

    def attach(self, sim: Simulation) -> None:
        self.sim = sim
        sim.network = self

    def machine_of(self, component_name: str) -> str | None:
        return self.sim.components[component_name].node

    def reachable(self, machine_a: str | None, machine_b: str | None) -> bool:
        if machine_a == machine_b:
            return not self.machines_down.get(machine_a or "", False)
        if self.machines_down.get(machine_a or "", False) or self.machines_down.get(machine_b or "", False):
            return False
        group = self.partition_group
        return group.get(machine_a or "", "") == group.get(machine_b or "", "")

    def latency_between(self, machine_a: str | None, machine_b: str | None) -> int:
        if machine_a == machine_b:
            return 0
        if self.jitter_ms:
            return self.latency_ms + int(self.rng.random() * (self.jitter_ms + 1))
        return self.latency_ms

    def faults_active(self) -> bool:
        return bool(self.machines_down or self.partition_group)

    def send(self, sender: Component, target: str, method: str, body: Any) -> bool:
        sim = self.sim
        sender_machine = sender.node
        target_machine = sim.components[target].node
        if (self.machines_down or self.partition_group) and not self.reachable(sender_machine, target_machine):
            self.dropped_messages += 1
            return False
        arrival_ms = sim.now_ms
        if sender_machine != target_machine:
            if self.loss and self.rng.random() < self.loss:
                self.dropped_messages += 1
                return False
            # Inlined latency_between: this runs for every message.
            arrival_ms += self.latency_ms
            if self.jitter_ms:
                arrival_ms += int(self.rng.random() * (self.jitter_ms + 1))
        if self.jitter_ms:
            # One connection delivers in order (TCP): never overtake an earlier message on it.
            link = sender.name + ">" + target
            last_arrival_ms = self.last_arrival_ms.get(link, 0)
            if arrival_ms < last_arrival_ms:
                arrival_ms = last_arrival_ms
            self.last_arrival_ms[link] = arrival_ms
        # Inlined Simulation.schedule (arrival is never in the past).
        sim.heap_seq += 1
        heappush(sim.heap, (arrival_ms, PRIORITY_MESSAGE, sim.heap_seq, target, "net",
                            [sender.name, sender_machine, method, body], NO_EPOCH))
        return True

    def deliver(self, receiver: Component, envelope: list) -> None:
        """Hand a message to its receiver (Simulation.run_until inlines this while no fault is active)."""
        sender_name, sender_machine, method, body = envelope
        if (self.machines_down or self.partition_group) and not self.reachable(sender_machine, receiver.node):
            self.dropped_messages += 1
            return
        self.sim.handler(receiver, method)(sender_name, body)

    # Faults ---------------------------------------------------------------------------
    def set_machine_down(self, machine: str, down: bool) -> None:
        if down:
            self.machines_down[machine] = True
        else:
            self.machines_down.pop(machine, None)

    def isolate(self, machine: str) -> None:
        """Cut ``machine`` off from every other machine (it keeps its loopback)."""
        self.partition_group[machine] = f"isolated:{machine}"

    def partition(self, groups: list[list[str]]) -> None:
        for index, machines in enumerate(groups):
            for machine in machines:
                self.partition_group[machine] = f"group:{index}"

    def heal(self, machine: str | None = None) -> None:
        if machine is None:
            self.partition_group.clear()
        else:
            self.partition_group.pop(machine, None)
