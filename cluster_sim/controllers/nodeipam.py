"""node-ipam-controller, range allocator (pkg/controller/nodeipam/ipam/range_allocator.go).

Each node without `spec.podCIDR` gets the next free /node_cidr_mask_size block of cluster_cidr
(cidrset.AllocateNext: a rotating candidate index); a full range gives the node a
`CIDRNotAvailable` event. Allocations are remembered from the nodes themselves, so a new leader
rebuilds them from the informer.
"""
from __future__ import annotations

import ipaddress
from typing import Any

from .base import Controller


class NodeIpamController(Controller):
    name = "node-ipam-controller"
    event_source = "cidrAllocator"
    informers = ("nodes",)

    def __init__(self, config: dict | None = None) -> None:
        super().__init__(config)
        config = config or {}
        self.enabled = bool(config.get("allocate_node_cidrs", True))
        network = ipaddress.ip_network(config.get("cluster_cidr", "10.244.0.0/16"), strict=False)
        self.base_address = int(network.network_address)
        self.cluster_prefix = network.prefixlen
        self.mask_size = int(config.get("node_cidr_mask_size", 24))
        self.block_count = 2 ** max(self.mask_size - self.cluster_prefix, 0)
        # block index (as text) -> node name
        self.allocated: dict[str, str] = {}
        self.next_candidate = 0

    def cidr_of(self, index: int) -> str:
        address = self.base_address + index * (2 ** (32 - self.mask_size))
        return f"{ipaddress.ip_address(address)}/{self.mask_size}"

    def index_of(self, cidr: str) -> int | None:
        try:
            network = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            return None
        offset = int(network.network_address) - self.base_address
        size = 2 ** (32 - self.mask_size)
        if offset < 0 or offset % size or offset // size >= self.block_count:
            return None
        return offset // size

    def on_event(self, mgr: Any, informer: str, event_type: str, obj: dict, old: dict | None) -> None:
        if not self.enabled:
            return
        name = obj["metadata"]["name"]
        cidr = (obj.get("spec") or {}).get("podCIDR")
        index = self.index_of(cidr) if cidr else None
        if event_type == "DELETED":
            if index is not None and self.allocated.get(str(index)) == name:
                del self.allocated[str(index)]
            return
        if index is not None:
            self.allocated[str(index)] = name
        else:
            self.enqueue(mgr, name)

    def sync(self, mgr: Any, key: str) -> None:
        node = mgr.get("nodes", key)
        if node is None or (node.get("spec") or {}).get("podCIDR"):
            return
        mine = [index for index, owner in self.allocated.items() if owner == key]
        index = int(mine[0]) if mine else self.allocate(key)
        if index is None:
            self.record(mgr, {"apiVersion": "v1", "kind": "Node", "metadata": {"name": key, "uid": key}},
                        "Normal", "CIDRNotAvailable", f"Node {key} status is now: CIDRNotAvailable")
            return
        cidr = self.cidr_of(index)
        self.emit_sync(mgr, key, f"assign podCIDR {cidr}")
        self.request(mgr, key, "patch", "nodes", name=key, body={"spec": {"podCIDR": cidr, "podCIDRs": [cidr]}},
                     params={"patchType": "merge"})

    def allocate(self, node_name: str) -> int | None:
        for step in range(self.block_count):
            candidate = (self.next_candidate + step) % self.block_count
            if str(candidate) not in self.allocated:
                self.allocated[str(candidate)] = node_name
                self.next_candidate = (candidate + 1) % self.block_count
                return candidate
        return None
