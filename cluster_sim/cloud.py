"""The cloud the cluster runs in: its machine inventory and its load balancers.

It stands for the provider's API (EC2, GCE, ...), not for a process of the cluster, so it has no
machine (`node` None) and the cloud-controller-manager calls it directly, as a cloud SDK call.
Load balancers take a provisioning delay drawn from the cloud's own generator and get addresses
from 203.0.113.0/24 (TEST-NET-3), lowest free first.
"""
from __future__ import annotations

from typing import Any

from .engine import Component

LOAD_BALANCER_NETWORK = "203.0.113."
FIRST_HOST = 1
LAST_HOST = 254
# Time for the provider to build a load balancer (seconds, uniform), as clouds commonly take.
PROVISIONING_MIN_MS = 15_000
PROVISIONING_MAX_MS = 45_000


class CloudProvider(Component):
    kind = "cloud"

    def __init__(self, sim: Any, machines: dict | list | None = None, name: str = "cloud") -> None:
        """`machines`: {name: {"exists": bool}} or a list of machine names."""
        super().__init__(sim, name, None)
        self.machines: dict[str, dict] = {}
        # service key "ns/name" -> {"ip", "ready_ms"}
        self.load_balancers: dict[str, dict] = {}
        if isinstance(machines, dict):
            for machine, entry in machines.items():
                self.machines[machine] = {"exists": bool((entry or {}).get("exists", True))}
        else:
            for machine in machines or []:
                self.add_machine(machine)

    # Machines ---------------------------------------------------------------------------------
    def add_machine(self, name: str) -> None:
        self.machines[name] = {"exists": True}

    def instance_exists(self, name: str) -> bool:
        """InstancesV2.InstanceExists. Machines the cloud never heard of do not exist either."""
        return bool(self.machines.get(name, {}).get("exists"))

    def remove_machine(self, name: str) -> None:
        """The learner deletes the VM in the provider's console."""
        if name in self.machines and self.machines[name]["exists"]:
            self.machines[name]["exists"] = False
            self.emit("cloud.machine", name, {"machine": name, "exists": False})

    # Load balancers --------------------------------------------------------------------------
    def ensure_load_balancer(self, service_key: str) -> dict:
        """EnsureLoadBalancer: the address and when it starts answering ({"ip", "ready_ms"}), or
        {"error": ...} when the address pool is exhausted."""
        existing = self.load_balancers.get(service_key)
        if existing is not None:
            return dict(existing)
        ip = self.free_address()
        if ip is None:
            return {"error": "no load balancer address available in 203.0.113.0/24"}
        delay_ms = self.rng.randint(PROVISIONING_MIN_MS, PROVISIONING_MAX_MS)
        entry = {"ip": ip, "ready_ms": self.sim.now_ms + delay_ms}
        self.load_balancers[service_key] = entry
        self.emit("cloud.load_balancer", service_key, {"service": service_key, "ip": ip, "action": "provisioning",
                                                       "ready_ms": entry["ready_ms"]})
        return dict(entry)

    def delete_load_balancer(self, service_key: str) -> None:
        entry = self.load_balancers.pop(service_key, None)
        if entry is not None:
            self.emit("cloud.load_balancer", service_key, {"service": service_key, "ip": entry["ip"],
                                                           "action": "deleted"})

    def free_address(self) -> str | None:
        used = {entry["ip"]: True for entry in self.load_balancers.values()}
        for host in range(FIRST_HOST, LAST_HOST + 1):
            ip = f"{LOAD_BALANCER_NETWORK}{host}"
            if ip not in used:
                return ip
        return None
