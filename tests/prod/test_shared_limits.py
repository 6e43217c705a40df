"""Rate limits and the per-address cluster quota kept in Redis (web/limits.py), so every process of
a production deployment counts against one budget; against a real Redis and real daphne processes."""
from __future__ import annotations

import logging
import math
import time
import uuid
from pathlib import Path

import pytest
import redis

from tests.prod.servers import POLL_ATTEMPTS, Client, Daphne, free_port
from web import limits

REDIS_CACHE = "django.core.cache.backends.redis.RedisCache"


@pytest.fixture
def redis_cache(settings, redis_url: str) -> redis.Redis:
    """Django's cache in Redis, as settings.py configures it when REDIS_URL is set."""
    settings.CACHES = {"default": {"BACKEND": REDIS_CACHE, "LOCATION": redis_url, "KEY_PREFIX": "app"}}
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def limiter(rate: float, burst: int) -> limits.RateLimiter:
    """As each process builds its own: module-level objects, one per process."""
    return limits.RateLimiter(rate_setting="UNSET_RATE", burst_setting="UNSET_BURST", default_rate=rate,
                              default_burst=burst, name=f"test-{uuid.uuid4().hex}")


def twin(one: limits.RateLimiter) -> limits.RateLimiter:
    return limits.RateLimiter(rate_setting=one.rate_setting, burst_setting=one.burst_setting,
                              default_rate=one.default_rate, default_burst=one.default_burst, name=one.name)


def redis_keys(client: redis.Redis, one: limits.RateLimiter) -> list[bytes]:
    return list(client.scan_iter(match=f"app:*limits:{one.name}:*", count=1000))


def test_two_limiters_share_one_budget_in_redis(redis_cache: redis.Redis):
    first = limiter(rate=0.001, burst=4)
    second = twin(first)  # another process's limiter
    taken = [first.retry_after_s("session:a"), second.retry_after_s("session:a"),
             first.retry_after_s("session:a"), second.retry_after_s("session:a")]
    assert taken == [None] * 4
    wait_s = second.retry_after_s("session:a")
    assert wait_s is not None and 900 < wait_s <= 1000  # one token a thousand seconds
    assert first.retry_after_s("session:a") is not None
    assert first.retry_after_s("session:b") is None  # another session has its own bucket
    assert first.buckets == {} and second.buckets == {}  # nothing counted in the process
    assert len(redis_keys(redis_cache, first)) == 2


def test_idle_buckets_vanish_from_redis_once_they_would_be_full(redis_cache: redis.Redis):
    one = limiter(rate=20, burst=2)  # full again 100 ms after the last token is taken
    assert [one.retry_after_s("session:idle") for _ in range(3)][:2] == [None, None]
    [key] = redis_keys(redis_cache, one)
    assert 0 < redis_cache.pttl(key) <= 101
    for _attempt in range(POLL_ATTEMPTS):  # a guard against a hang, not a timing assertion
        if not redis_cache.exists(key):
            break
        time.sleep(0.05)
    assert not redis_cache.exists(key)
    assert [one.retry_after_s("session:idle") for _ in range(2)] == [None, None]  # a full bucket again


def test_an_addresses_hourly_bucket_lives_until_it_has_refilled(redis_cache: redis.Redis, settings):
    settings.CLUSTERS_PER_ADDRESS_PER_HOUR = 3
    address = f"198.51.100.{uuid.uuid4().int % 250 + 1}"
    limits.charge_cluster_creation(address=address)
    [key] = list(redis_cache.scan_iter(match=f"app:*limits:clusters:address:{address}", count=1000))
    # One of three used: refilled (and forgotten) 20 minutes later.
    assert 1_199_000 < redis_cache.pttl(key) <= 1_200_002
    redis_cache.delete(key)


def test_without_redis_the_limits_let_requests_through_and_warn(settings, caplog):
    settings.CACHES = {"default": {"BACKEND": REDIS_CACHE, "LOCATION": f"redis://127.0.0.1:{free_port()}/0"}}
    one = limiter(rate=0.001, burst=1)
    limits.last_redis_warning_s[0] = -math.inf  # no warning yet in this process
    with caplog.at_level(logging.WARNING, logger="web.limits"):
        assert [one.retry_after_s("session:x") for _ in range(3)] == [None] * 3
    warnings = [record.getMessage() for record in caplog.records if record.name == "web.limits"]
    assert len(warnings) == 1  # one a minute, not one per request
    assert warnings[0].startswith("rate limits are off while Redis cannot be reached (ConnectionError")


def test_two_daphne_processes_share_an_addresses_cluster_quota(production_env: dict, tmp_path: Path):
    env = dict(production_env, CLUSTERS_PER_ADDRESS_PER_HOUR="3", DJANGO_TRUST_X_FORWARDED_FOR="1")
    first = Daphne(env, tmp_path / "daphne-a.log").start()
    second = Daphne(env, tmp_path / "daphne-b.log").start()
    # As nginx sends it: the client's address, set by the proxy.
    proxied = {"X-Forwarded-For": f"203.0.113.{uuid.uuid4().int % 250 + 1}"}
    body = {"scenario": "basic", "paused": True}
    try:
        answers = [Client().call(server.url, "POST", "/api/clusters/", body, headers=proxied)
                   for server in (first, second, first)]
        assert [code for code, _body, _headers in answers] == [201, 201, 201], answers
        for server in (second, first):  # each fresh session, either process: the address is spent
            code, refused, headers = Client().call(server.url, "POST", "/api/clusters/", body, headers=proxied)
            assert code == 429, refused
            assert refused["code"] == "limit_reached"
            assert refused["detail"].startswith("Too many new clusters from this network address: at most 3 an hour")
            assert 1100 <= int(headers["Retry-After"]) <= 1200
        other = {"X-Forwarded-For": "192.0.2.200"}
        assert Client().call(second.url, "POST", "/api/clusters/", body, headers=other)[0] == 201
    finally:
        first.kill()
        second.kill()
