"""Limits that keep one learner (or one script) from taking a server meant for a whole class.

Every limit answers with a clear error in the caller's protocol: a Kubernetes ``Status`` on the
Kubernetes API (/k8s/), a JSON ``detail`` on the REST API, a message in the page or on the socket.

Values come from settings when present (``getattr(settings, NAME, default)``), so a deployment
can change them without code:

SESSION_ACTIONS_PER_SECOND / SESSION_ACTIONS_BURST   state-changing requests per session (20/s, 40)
SESSION_READS_PER_SECOND / SESSION_READS_BURST       reads per session (100/s, 200)
CLUSTERS_PER_ADDRESS_PER_HOUR                        new clusters per client address (60 an hour,
                                                     all of them at once at most; env variable too)
TRUST_X_FORWARDED_FOR                                the client address is X-Forwarded-For's first hop
                                                     (DJANGO_TRUST_X_FORWARDED_FOR; on in production)
REST_MAX_BODY_BYTES                                  REST request bodies (1 MiB)
WEBSOCKET_MAX_MESSAGE_BYTES                          one websocket message from a browser (64 KiB)
CLUSTER_MAX_PODS                                     pods in one cluster (1,000): the simulated
                                                     apiserver's admission refuses more
                                                     (cluster_sim/apiserver/admission.py); replicas
                                                     beyond it are refused here at once

The rates are token buckets. With a Redis cache (production: REDIS_URL) they live in Redis, one
bucket per key for all processes, taken atomically by a Lua script with the Redis server's clock;
a bucket's key expires once it would be full again, so idle ones vanish. Without one (the embedded
mode) they are kept in this process. If Redis cannot be reached the limits let requests through
and log a warning: a limiter must not take the site down.

Addresses on this machine (loopback) are not counted against the creation quota: that is a local
user, or a proxy whose clients cannot be told apart (set TRUST_X_FORWARDED_FOR behind a proxy).
IPv6 clients are counted per /64, the block one subscriber gets.
"""
from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from django.conf import settings

from cluster_sim.apiserver import validation
from web import services

logger = logging.getLogger(__name__)

DEFAULT_ACTIONS_PER_SECOND = 20.0
DEFAULT_ACTIONS_BURST = 40
DEFAULT_READS_PER_SECOND = 100.0
DEFAULT_READS_BURST = 200
# A class behind one school NAT shares an address: its joins and first lessons must fit.
DEFAULT_CLUSTERS_PER_ADDRESS_PER_HOUR = 60
DEFAULT_REST_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_WEBSOCKET_MAX_MESSAGE_BYTES = 64 * 1024
# RFC 6455 7.4.1: 1009 "message too big".
WEBSOCKET_TOO_BIG_CLOSE_CODE = 1009
# A cluster's pods, all namespaces together (kube-system's included). 110 per node is the
# kubelet's own maxPods, enforced by the scheduler through each node's allocatable "pods".
DEFAULT_CLUSTER_MAX_PODS = 1000
# Buckets of sessions not seen for this long (or, if longer, the time a bucket takes to fill) are
# dropped; the table never holds more than MAX_TRACKED_KEYS (the oldest go first), so a flood of
# fresh sessions cannot grow it forever.
IDLE_BUCKET_S = 600.0
MAX_TRACKED_KEYS = 50_000
WORKLOAD_RESOURCES = ("deployments", "replicasets", "statefulsets", "replicationcontrollers")
MAX_WALK_ITEMS = 10_000
IPV6_SUBSCRIBER_PREFIX = 64
# One warning a minute per process while Redis is unreachable, not one per request.
REDIS_WARNING_INTERVAL_S = 60.0


def setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def rest_max_body_bytes() -> int:
    return int(setting("REST_MAX_BODY_BYTES", DEFAULT_REST_MAX_BODY_BYTES))


def websocket_max_message_bytes() -> int:
    return int(setting("WEBSOCKET_MAX_MESSAGE_BYTES", DEFAULT_WEBSOCKET_MAX_MESSAGE_BYTES))


def cluster_max_pods() -> int:
    return int(setting("CLUSTER_MAX_PODS", DEFAULT_CLUSTER_MAX_PODS))


def clusters_per_address_per_hour() -> int:
    return int(setting("CLUSTERS_PER_ADDRESS_PER_HOUR", DEFAULT_CLUSTERS_PER_ADDRESS_PER_HOUR))


# --- token buckets in Redis -----------------------------------------------------------------

# KEYS[1] the bucket; ARGV rate (tokens a second), burst. Returns 0 when a token was taken, else
# the microseconds until there is one. Times come from the Redis server, so processes on hosts
# whose clocks differ share one bucket correctly; the key expires once the bucket is full again.
TOKEN_BUCKET_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = redis.call('TIME')
local saved = redis.call('HMGET', KEYS[1], 'tokens', 'seconds', 'microseconds')
local tokens = burst
if saved[1] then
  local elapsed = (tonumber(now[1]) - tonumber(saved[2])) + (tonumber(now[2]) - tonumber(saved[3])) / 1000000
  tokens = math.min(burst, tonumber(saved[1]) + math.max(0, elapsed) * rate)
end
local wait_us = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait_us = math.ceil((1 - tokens) / rate * 1000000)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'seconds', now[1], 'microseconds', now[2])
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1)
return wait_us
"""
TOKEN_BUCKET_SHA = hashlib.sha1(TOKEN_BUCKET_LUA.encode()).hexdigest()


def shared_cache() -> Any:
    """Django's cache when it is Redis (production), else None: buckets stay in this process."""
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    cache = caches["default"]
    return cache if isinstance(cache, RedisCache) else None


def redis_take(cache: Any, key: str, rate: float, burst: float) -> float | None:
    """One token from the bucket ``key`` in Redis: None when there was one, else the seconds to wait."""
    import redis

    client = cache._cache.get_client(write=True)  # the redis-py client of Django's RedisCache
    redis_key = cache.make_key(key)
    arguments = (repr(rate), repr(burst))
    try:
        wait_us = client.evalsha(TOKEN_BUCKET_SHA, 1, redis_key, *arguments)
    except redis.exceptions.NoScriptError:  # a restarted Redis forgot the script
        wait_us = client.eval(TOKEN_BUCKET_LUA, 1, redis_key, *arguments)
    return None if int(wait_us) == 0 else int(wait_us) / 1_000_000


last_redis_warning_s = [-math.inf]


def warn_redis_unreachable(error: Exception) -> None:
    now_s = time.monotonic()
    if now_s - last_redis_warning_s[0] >= REDIS_WARNING_INTERVAL_S:
        last_redis_warning_s[0] = now_s
        logger.warning("rate limits are off while Redis cannot be reached (%s: %s); requests go through",
                       type(error).__name__, error)


# --- token buckets ----------------------------------------------------------------------------

@dataclass
class Bucket:
    tokens: float
    updated_s: float


class RateLimiter:
    """One token bucket per key: ``rate_per_s`` tokens a second, at most ``burst`` saved up.

    Kept in Redis when Django's cache is Redis (shared by every process), else in ``buckets``."""

    def __init__(self, *, rate_setting: str, burst_setting: str, default_rate: float, default_burst: int,
                 clock: Callable[[], float] = time.monotonic, name: str = ""):
        self.rate_setting = rate_setting
        self.burst_setting = burst_setting
        self.default_rate = default_rate
        self.default_burst = default_burst
        self.clock = clock
        self.name = name or rate_setting
        self.buckets: dict[str, Bucket] = {}
        self.lock = threading.Lock()

    def limits(self) -> tuple[float, float]:
        rate = float(setting(self.rate_setting, self.default_rate))
        burst = float(setting(self.burst_setting, self.default_burst))
        return max(rate, 1e-6), max(burst, 1.0)

    def retry_after_s(self, key: str) -> float | None:
        """Take a token for ``key``: None when there was one, else the seconds until there is.
        Blocks on Redis in production: from async code, call it in a thread."""
        rate, burst = self.limits()
        cache = shared_cache()
        if cache is None:
            return self.take_in_process(key, rate, burst)
        import redis

        try:
            return redis_take(cache, f"limits:{self.name}:{key}", rate, burst)
        except redis.exceptions.RedisError as error:
            warn_redis_unreachable(error)
            return None

    def take_in_process(self, key: str, rate: float, burst: float) -> float | None:
        now_s = self.clock()
        with self.lock:
            bucket = self.buckets.pop(key, None) or Bucket(tokens=burst, updated_s=now_s)
            bucket.tokens = min(burst, bucket.tokens + (now_s - bucket.updated_s) * rate)
            bucket.updated_s = now_s
            self.buckets[key] = bucket  # re-inserted last: the dict stays ordered by last use
            self._forget_old(now_s, max(IDLE_BUCKET_S, burst / rate))
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            return (1.0 - bucket.tokens) / rate

    def _forget_old(self, now_s: float, idle_s: float) -> None:
        for _round in range(len(self.buckets)):
            oldest_key = next(iter(self.buckets))
            oldest = self.buckets[oldest_key]
            if len(self.buckets) <= MAX_TRACKED_KEYS and now_s - oldest.updated_s < idle_s:
                return
            del self.buckets[oldest_key]

    def reset(self) -> None:
        """Forget this process's buckets (tests); buckets in Redis expire by themselves."""
        with self.lock:
            self.buckets.clear()


class HourlyQuota(RateLimiter):
    """``per_hour`` a bucket refilled over an hour: all of them at once, then one every 3600/n s."""

    def __init__(self, *, per_hour_setting: str, default_per_hour: int, name: str,
                 clock: Callable[[], float] = time.monotonic):
        super().__init__(rate_setting=per_hour_setting, burst_setting=per_hour_setting, default_rate=default_per_hour,
                         default_burst=default_per_hour, clock=clock, name=name)

    def limits(self) -> tuple[float, float]:
        per_hour = max(float(setting(self.rate_setting, self.default_rate)), 1.0)
        return per_hour / 3600.0, per_hour


actions = RateLimiter(rate_setting="SESSION_ACTIONS_PER_SECOND", burst_setting="SESSION_ACTIONS_BURST",
                      default_rate=DEFAULT_ACTIONS_PER_SECOND, default_burst=DEFAULT_ACTIONS_BURST, name="actions")
reads = RateLimiter(rate_setting="SESSION_READS_PER_SECOND", burst_setting="SESSION_READS_BURST",
                    default_rate=DEFAULT_READS_PER_SECOND, default_burst=DEFAULT_READS_BURST, name="reads")
cluster_creations = HourlyQuota(per_hour_setting="CLUSTERS_PER_ADDRESS_PER_HOUR",
                                default_per_hour=DEFAULT_CLUSTERS_PER_ADDRESS_PER_HOUR, name="clusters")

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def limiter_for(method: str) -> RateLimiter:
    return reads if method.upper() in SAFE_METHODS else actions


def session_action_wait_s(session_key: str | None) -> float | None:
    """How long the session must wait before its next state-changing request (None: it may go)."""
    return actions.retry_after_s(caller_key(session_key=session_key, remote_addr=None))


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


# --- new clusters per client address ------------------------------------------------------------

class ClusterQuotaReached(services.LimitReached):
    """The client's address created as many clusters as it may this hour; ``wait_s`` until the next."""

    def __init__(self, text: str, *, wait_s: float):
        super().__init__(text)
        self.wait_s = wait_s

    @property
    def retry_after(self) -> str:
        return retry_after_header(self.wait_s)


def client_address(meta: Mapping[str, Any]) -> str:
    """The client's address from a request's META (or a websocket scope turned into one):
    REMOTE_ADDR, or X-Forwarded-For's first hop behind a proxy that sets it (TRUST_X_FORWARDED_FOR)."""
    remote = str(meta.get("REMOTE_ADDR") or "")
    if setting("TRUST_X_FORWARDED_FOR", False):
        first_hop = str(meta.get("HTTP_X_FORWARDED_FOR") or "").split(",")[0].strip()
        if parsed_address(first_hop) is not None:
            return first_hop
    return remote


def parsed_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def address_quota_key(address: str) -> str | None:
    """The bucket an address pays into, or None for this machine's own (loopback) addresses."""
    parsed = parsed_address(address)
    if parsed is None:
        return f"address:{address[:64] or 'unknown'}"
    if parsed.version == 6 and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    if parsed.is_loopback:
        return None
    if parsed.version == 6:
        return "address:" + str(ipaddress.ip_network(f"{parsed}/{IPV6_SUBSCRIBER_PREFIX}", strict=False))
    return f"address:{parsed}"


def cluster_quota_message(wait_s: float) -> str:
    per_hour = clusters_per_address_per_hour()
    return (f"Too many new clusters from this network address: at most {per_hour} an hour; "
            f"try again in {retry_after_header(wait_s)} s")


def charge_cluster_creation(*, address: str) -> None:
    """Count one new cluster against the client's address; ClusterQuotaReached once it has spent its hour's."""
    key = address_quota_key(address)
    if key is None:
        return
    wait_s = cluster_creations.retry_after_s(key)
    if wait_s is not None:
        raise ClusterQuotaReached(cluster_quota_message(wait_s), wait_s=wait_s)


# --- object counts ----------------------------------------------------------------------------

def stored_count(live: Any, prefix: str) -> int:
    """Objects under an etcd prefix, as the member that has applied the most holds them."""
    cluster = live.cluster
    members = [cluster.sim.components[name] for name in cluster.layout["etcd_members"]]
    best = max(members, key=lambda member: member.applied_revision())
    return len(best.mvcc.range(prefix=prefix)["kvs"])


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
