"""Limits that keep one learner (or one script) from taking a server meant for a whole class.

Every limit answers with a clear error in the caller's protocol: a Kubernetes ``Status`` on the
Kubernetes API (/k8s/), a JSON ``detail`` on the REST API, a message in the page or on the socket.

Values come from settings when present (``getattr(settings, NAME, default)``), so a deployment
can change them without code:

SESSION_ACTIONS_PER_SECOND / SESSION_ACTIONS_BURST   state-changing requests per session (20/s, 40)
SESSION_READS_PER_SECOND / SESSION_READS_BURST       reads per session (100/s, 200)
REST_MAX_BODY_BYTES                                  REST request bodies (1 MiB)
WEBSOCKET_MAX_MESSAGE_BYTES                          one websocket message from a browser (64 KiB)
CLUSTER_MAX_PODS                                     pods in one cluster (1,000)

The rate limits are token buckets kept per process: behind several processes a session gets
the rate once per process it lands on.
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from django.conf import settings

from cluster_sim.apiserver import validation

DEFAULT_ACTIONS_PER_SECOND = 20.0
DEFAULT_ACTIONS_BURST = 40
DEFAULT_READS_PER_SECOND = 100.0
DEFAULT_READS_BURST = 200
DEFAULT_REST_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_WEBSOCKET_MAX_MESSAGE_BYTES = 64 * 1024
# RFC 6455 7.4.1: 1009 "message too big".
WEBSOCKET_TOO_BIG_CLOSE_CODE = 1009
# A cluster's pods, all namespaces together (kube-system's included). 110 per node is the
# kubelet's own maxPods, enforced by the scheduler through each node's allocatable "pods".
DEFAULT_CLUSTER_MAX_PODS = 1000
# Buckets of sessions not seen for this long are dropped; the table never holds more than
# MAX_TRACKED_KEYS (the oldest go first), so a flood of fresh sessions cannot grow it forever.
IDLE_BUCKET_S = 600.0
MAX_TRACKED_KEYS = 50_000
WORKLOAD_RESOURCES = ("deployments", "replicasets", "statefulsets", "replicationcontrollers")
MAX_WALK_ITEMS = 10_000


def setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def rest_max_body_bytes() -> int:
    return int(setting("REST_MAX_BODY_BYTES", DEFAULT_REST_MAX_BODY_BYTES))


def websocket_max_message_bytes() -> int:
    return int(setting("WEBSOCKET_MAX_MESSAGE_BYTES", DEFAULT_WEBSOCKET_MAX_MESSAGE_BYTES))


def cluster_max_pods() -> int:
    return int(setting("CLUSTER_MAX_PODS", DEFAULT_CLUSTER_MAX_PODS))


# --- token buckets --------------------------------------------------------------------------

@dataclass
class Bucket:
    tokens: float
    updated_s: float


class RateLimiter:
    """One token bucket per key: ``rate_per_s`` tokens a second, at most ``burst`` saved up."""

    def __init__(self, *, rate_setting: str, burst_setting: str, default_rate: float, default_burst: int,
                 clock: Callable[[], float] = time.monotonic):
        self.rate_setting = rate_setting
        self.burst_setting = burst_setting
        self.default_rate = default_rate
        self.default_burst = default_burst
        self.clock = clock
        self.buckets: dict[str, Bucket] = {}
        self.lock = threading.Lock()

    def limits(self) -> tuple[float, float]:
        rate = float(setting(self.rate_setting, self.default_rate))
        burst = float(setting(self.burst_setting, self.default_burst))
        return max(rate, 1e-6), max(burst, 1.0)

    def retry_after_s(self, key: str) -> float | None:
        """Take a token for ``key``: None when there was one, else the seconds until there is."""
        rate, burst = self.limits()
        now_s = self.clock()
        with self.lock:
            bucket = self.buckets.pop(key, None) or Bucket(tokens=burst, updated_s=now_s)
            bucket.tokens = min(burst, bucket.tokens + (now_s - bucket.updated_s) * rate)
            bucket.updated_s = now_s
            self.buckets[key] = bucket  # re-inserted last: the dict stays ordered by last use
            self._forget_old(now_s)
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            return (1.0 - bucket.tokens) / rate

    def _forget_old(self, now_s: float) -> None:
        for _round in range(len(self.buckets)):
            oldest_key = next(iter(self.buckets))
            oldest = self.buckets[oldest_key]
            if len(self.buckets) <= MAX_TRACKED_KEYS and now_s - oldest.updated_s < IDLE_BUCKET_S:
                return
            del self.buckets[oldest_key]

    def reset(self) -> None:
        with self.lock:
            self.buckets.clear()


actions = RateLimiter(rate_setting="SESSION_ACTIONS_PER_SECOND", burst_setting="SESSION_ACTIONS_BURST",
                      default_rate=DEFAULT_ACTIONS_PER_SECOND, default_burst=DEFAULT_ACTIONS_BURST)
reads = RateLimiter(rate_setting="SESSION_READS_PER_SECOND", burst_setting="SESSION_READS_BURST",
                    default_rate=DEFAULT_READS_PER_SECOND, default_burst=DEFAULT_READS_BURST)

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def limiter_for(method: str) -> RateLimiter:
    return reads if method.upper() in SAFE_METHODS else actions


def caller_key(*, session_key: str | None, remote_addr: str | None) -> str:
    """Who pays for a request: the session, else (no session yet) the client's address."""
    if session_key:
        return f"session:{session_key}"
    return f"address:{remote_addr or 'unknown'}"


def retry_after_header(wait_s: float) -> str:
    return str(max(1, math.ceil(wait_s)))


def too_many_requests_message(wait_s: float, method: str = "POST") -> str:
    rate, burst = limiter_for(method).limits()
    what = "reads" if method.upper() in SAFE_METHODS else "changes"
    return (f"Too many requests from this session: at most {rate:g} {what} a second (bursts of {burst:g}); "
            f"try again in {retry_after_header(wait_s)} s")


def too_many_requests_status(wait_s: float, method: str = "POST") -> dict:
    """What client-go's errors.NewTooManyRequests builds: kubectl waits Retry-After and retries."""
    return validation.status_error(429, "TooManyRequests", too_many_requests_message(wait_s, method),
                                   {"retryAfterSeconds": int(retry_after_header(wait_s))})


def request_too_large_message(limit_bytes: int) -> str:
    return f"Request entity too large: limit is {limit_bytes} bytes"


# --- object counts ----------------------------------------------------------------------------

def stored_count(live: Any, prefix: str) -> int:
    """Objects under an etcd prefix, as the member that has applied the most holds them."""
    cluster = live.cluster
    members = [cluster.sim.components[name] for name in cluster.layout["etcd_members"]]
    best = max(members, key=lambda member: member.applied_revision())
    return len(best.mvcc.range(prefix=prefix)["kvs"])


def pod_cap_refusal(live: Any, *, resource: str, name: str) -> dict | None:
    """A 403 Status when a new pod would exceed the cluster's cap, like a ResourceQuota refusal."""
    if resource != "pods":
        return None
    limit = cluster_max_pods()
    used = stored_count(live, "/registry/pods/")
    if used < limit:
        return None
    return validation.forbidden_status(
        "", "pods", name,
        f"exceeded quota: simulated-cluster-pods, requested: pods=1, used: pods={used}, limited: pods={limit} "
        "(this simulated cluster runs at most that many pods; delete some first)")


def node_cap_refusal(live: Any, *, resource: str, name: str, max_nodes: int) -> dict | None:
    if resource != "nodes":
        return None
    used = stored_count(live, "/registry/minions/")
    if used < max_nodes:
        return None
    return validation.forbidden_status(
        "", "nodes", name, f"this simulated cluster has {used} nodes, the most it may have ({max_nodes})")


def largest_replicas(document: Any) -> int:
    """The largest replica count a document asks for: ``replicas`` fields anywhere (objects, merge
    patches, Scale bodies, scenario actions) and JSON patch operations on a ``.../replicas`` path."""
    largest = 0
    pending = [document]
    for _item in range(MAX_WALK_ITEMS):
        if not pending:
            break
        current = pending.pop()
        if isinstance(current, dict):
            for key, value in current.items():
                if key == "replicas" and isinstance(value, int) and not isinstance(value, bool):
                    largest = max(largest, value)
                elif isinstance(value, (dict, list)):
                    pending.append(value)
            path, value = current.get("path"), current.get("value")
            if isinstance(path, str) and path.endswith("/replicas") and isinstance(value, int) \
                    and not isinstance(value, bool):
                largest = max(largest, value)
        elif isinstance(current, list):
            pending.extend(current[:MAX_WALK_ITEMS])
    return largest


def replicas_over_cap_message(document: Any) -> str | None:
    """Why a document asking for more replicas than the cluster may run pods is refused, or None."""
    wanted, limit = largest_replicas(document), cluster_max_pods()
    if wanted <= limit:
        return None
    return (f"replicas: Forbidden: {wanted} replicas would exceed this simulated cluster's limit of "
            f"{limit} pods")


def workload_refusal(*, resource: str, subresource: str | None, name: str, body: Any) -> dict | None:
    """A 403 Status for a workload write (or a scale) asking for more pods than the cluster may run."""
    if resource not in WORKLOAD_RESOURCES:
        return None
    message = replicas_over_cap_message(body)
    if message is None:
        return None
    del subresource  # a scale is refused as its workload is: "deployments.apps "web" is forbidden"
    info_group = "" if resource == "replicationcontrollers" else "apps"
    return validation.forbidden_status(info_group, resource, name, message)
