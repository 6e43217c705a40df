"""Leader election on a coordination.k8s.io Lease, as client-go's leaderelection package does it.

Candidates try to acquire every retry period (with jitter); the holder renews every retry period
and gives up ("leaderelection lost") when it could not renew within the renew deadline. Others
take over once the lease has not been renewed for its duration, measured on their own clock from
when they last saw it change.
"""
from __future__ import annotations

from typing import Any

LEASE_DURATION_S = 15
RENEW_DEADLINE_MS = 10_000
RETRY_PERIOD_MS = 2_000
JITTER_FACTOR = 1.2
CONTEXT_KEY = "leader_election"


class LeaderElector:
    """Held by an ApiComponent; drive it with `tick()` from a timer and feed it its results."""

    def __init__(self, lease_name: str, identity: str, namespace: str = "kube-system"):
        self.lease_name = lease_name
        self.namespace = namespace
        self.identity = identity
        self.is_leader = False
        self.observed_holder = ""
        self.observed_renew_time = ""
        self.observed_at_ms = -1
        self.last_renew_ms = -1
        self.request_in_flight = False

    def next_delay_ms(self, owner: Any) -> int:
        if self.is_leader:
            return RETRY_PERIOD_MS
        return RETRY_PERIOD_MS + int(owner.rng.random() * JITTER_FACTOR * RETRY_PERIOD_MS)

    def tick(self, owner: Any) -> None:
        now_ms = owner.sim.now_ms
        if self.is_leader and now_ms - self.last_renew_ms > RENEW_DEADLINE_MS:
            self.lose(owner, "failed to renew lease within the renew deadline")
            return
        if self.request_in_flight:
            return
        self.request_in_flight = True
        owner.api.request("get", "leases", namespace=self.namespace, name=self.lease_name,
                          context={CONTEXT_KEY: "get"}, timeout_ms=RETRY_PERIOD_MS * 2)

    def handle_result(self, owner: Any, context: dict, code: int, body: Any) -> None:
        step = context[CONTEXT_KEY]
        self.request_in_flight = False
        if step == "get":
            self.after_get(owner, code, body)
        elif code in (200, 201):
            self.after_write(owner, body)
        elif self.is_leader and code == 409:
            self.lose(owner, "lease was taken by another candidate")

    def after_get(self, owner: Any, code: int, body: Any) -> None:
        now_ms = owner.sim.now_ms
        if code == 404:
            self.write(owner, "create", self.lease_body(owner, None, transitions=0))
            return
        if code != 200:
            return
        spec = body.get("spec") or {}
        holder = spec.get("holderIdentity") or ""
        renew_time = spec.get("renewTime") or ""
        if holder != self.observed_holder or renew_time != self.observed_renew_time:
            self.observed_holder = holder
            self.observed_renew_time = renew_time
            self.observed_at_ms = now_ms
        expired = now_ms >= self.observed_at_ms + LEASE_DURATION_S * 1000
        if holder and holder != self.identity and not expired:
            if self.is_leader:
                self.lose(owner, f"lease is held by {holder}")
            return
        transitions = spec.get("leaseTransitions", 0) + (0 if holder == self.identity else 1)
        self.write(owner, "update", self.lease_body(owner, body, transitions=transitions))

    def lease_body(self, owner: Any, current: dict | None, *, transitions: int) -> dict:
        now_text = owner.now_micro_text()
        previous = (current or {}).get("spec") or {}
        acquire_time = previous.get("acquireTime") if previous.get("holderIdentity") == self.identity else now_text
        metadata = {"name": self.lease_name, "namespace": self.namespace}
        if current is not None:
            metadata["resourceVersion"] = current["metadata"]["resourceVersion"]
        return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": metadata,
                "spec": {"holderIdentity": self.identity, "leaseDurationSeconds": LEASE_DURATION_S,
                         "acquireTime": acquire_time or now_text, "renewTime": now_text,
                         "leaseTransitions": transitions}}

    def write(self, owner: Any, verb: str, lease: dict) -> None:
        self.request_in_flight = True
        name = None if verb == "create" else self.lease_name
        owner.api.request(verb, "leases", namespace=self.namespace, name=name, body=lease,
                          context={CONTEXT_KEY: verb}, timeout_ms=RETRY_PERIOD_MS * 2)

    def after_write(self, owner: Any, lease: dict) -> None:
        now_ms = owner.sim.now_ms
        spec = lease["spec"]
        self.observed_holder = spec["holderIdentity"]
        self.observed_renew_time = spec["renewTime"]
        self.observed_at_ms = now_ms
        self.last_renew_ms = now_ms
        if not self.is_leader:
            self.is_leader = True
            owner.emit("leader.acquired", owner.name, {"lease": f"{self.namespace}/{self.lease_name}",
                                                       "holder": self.identity})
            owner.on_started_leading()

    def lose(self, owner: Any, reason: str) -> None:
        self.is_leader = False
        owner.emit("leader.lost", owner.name, {"lease": f"{self.namespace}/{self.lease_name}",
                                               "holder": self.identity, "reason": reason})
        owner.on_stopped_leading()
