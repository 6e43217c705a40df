"""Host-local IPAM: how the CNI `host-local` plugin hands out pod addresses on one node.

The pool covers the node's `spec.podCIDR`. The bridge (`cni0`) takes the first host address
(`.1`, the gateway); pods get addresses from `.2` up to the last one before the broadcast
address. Like host-local, allocation continues after the last address it reserved and wraps
around, so a freed address is not handed out again at once. A pool is plain data (a dict) that
lives in the container runtime's state, as host-local's files live on the node's disk.
"""
from __future__ import annotations

import ipaddress

RANGE_EXHAUSTED = "no IP addresses available in range set"


def new_pool(pod_cidr: str) -> dict:
    network = ipaddress.ip_network(pod_cidr, strict=False)
    return {"subnet": str(network), "gateway": str(network.network_address + 1),
            "allocated": {}, "last_reserved": ""}


def _usable_range(pool: dict) -> list[int]:
    network = ipaddress.ip_network(pool["subnet"])
    first = int(network.network_address) + 2
    last = int(network.broadcast_address) - 1
    return [first, last]


def range_text(pool: dict) -> str:
    """The range as host-local prints it in errors: gateway excluded, `10.244.1.1-10.244.1.254`."""
    network = ipaddress.ip_network(pool["subnet"])
    first = network.network_address + 1
    last = network.broadcast_address - 1
    return f"{first}-{last}"


def allocate(pool: dict, owner: str) -> str | None:
    """Reserve the next free address for `owner` (a sandbox id); None when the range is full."""
    for address, holder in pool["allocated"].items():
        if holder == owner:
            return address
    first, last = _usable_range(pool)
    size = last - first + 1
    if size <= 0:
        return None
    start = first
    if pool["last_reserved"]:
        previous = int(ipaddress.ip_address(pool["last_reserved"]))
        if first <= previous <= last:
            start = previous + 1
    for offset in range(size):
        candidate = first + (start - first + offset) % size
        text = str(ipaddress.ip_address(candidate))
        if text not in pool["allocated"]:
            pool["allocated"][text] = owner
            pool["last_reserved"] = text
            return text
    return None


def release(pool: dict, owner: str) -> str | None:
    """Free the address held by `owner`; returns it (None if it held none)."""
    for address, holder in list(pool["allocated"].items()):
        if holder == owner:
            del pool["allocated"][address]
            return address
    return None


def contains(pool: dict, address: str) -> bool:
    return ipaddress.ip_address(address) in ipaddress.ip_network(pool["subnet"])
