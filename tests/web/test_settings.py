"""web/settings.py read from the environment by a fresh process, as a server reads it at start."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Guards against a hung process only; no test asserts how long anything takes.
GUARD_S = 120
PRINT_CHANNEL_LAYER = "from django.conf import settings; print(settings.CHANNEL_LAYERS['default']['BACKEND'])"
# Nothing listens there: reading the settings must not connect to Redis.
REDIS_URL = "redis://127.0.0.1:1/0"


def read_settings(**variables: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="web.settings", REDIS_URL=REDIS_URL, **variables)
    if "CHANNEL_LAYER" not in variables:
        env.pop("CHANNEL_LAYER", None)
    return subprocess.run([sys.executable, "-c", PRINT_CHANNEL_LAYER], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=GUARD_S)


@pytest.mark.parametrize(("variables", "backend"), [
    ({}, "channels_redis.pubsub.RedisPubSubChannelLayer"),
    ({"CHANNEL_LAYER": ""}, "channels_redis.pubsub.RedisPubSubChannelLayer"),
    ({"CHANNEL_LAYER": "pubsub"}, "channels_redis.pubsub.RedisPubSubChannelLayer"),
    ({"CHANNEL_LAYER": "core"}, "channels_redis.core.RedisChannelLayer"),
])
def test_channel_layer_selects_a_channels_redis_layer(variables, backend):
    done = read_settings(**variables)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == backend


@pytest.mark.parametrize("value", ["bogus", "Core", " pubsub"])
def test_any_other_channel_layer_stops_the_process_naming_the_value_and_the_accepted_ones(value):
    done = read_settings(CHANNEL_LAYER=value)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1] == (
        f"django.core.exceptions.ImproperlyConfigured: CHANNEL_LAYER={value!r} is not one of pubsub, core"
        " (see docs/deploy.md)")
    assert done.stdout == ""


# --- the PostgreSQL connection pool (DATABASE_POOL) ------------------------------------------------
# Nothing listens there either: reading the settings must not connect to PostgreSQL.
POSTGRES_URL = "postgres://app:secret@127.0.0.1:1/app"
PRINT_DATABASE = ("import json; from django.conf import settings; d = settings.DATABASES['default'];"
                  " print(json.dumps({'pool': d.get('OPTIONS', {}).get('pool'), 'conn_max_age': d['CONN_MAX_AGE'],"
                  " 'health_checks': d['CONN_HEALTH_CHECKS']}))")
DATABASE_VARIABLES = ("DATABASE_URL", "DATABASE_POOL", "DATABASE_POOL_MAX_SIZE", "DATABASE_CONN_MAX_AGE")


def read_database_settings(**variables: str) -> subprocess.CompletedProcess:
    env = {name: value for name, value in os.environ.items() if name not in DATABASE_VARIABLES}
    env.update(DJANGO_SETTINGS_MODULE="web.settings", **variables)
    return subprocess.run([sys.executable, "-c", PRINT_DATABASE], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=GUARD_S)


def database_settings(**variables: str) -> dict:
    done = read_database_settings(**variables)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_postgresql_borrows_connections_from_a_pool_by_default():
    assert database_settings(DATABASE_URL=POSTGRES_URL) == {
        "pool": {"min_size": 2, "max_size": 40, "timeout": 10}, "conn_max_age": 0, "health_checks": True}


def test_the_pool_s_size_and_switching_it_off():
    assert database_settings(DATABASE_URL=POSTGRES_URL, DATABASE_POOL_MAX_SIZE="12")["pool"] == {
        "min_size": 2, "max_size": 12, "timeout": 10}
    assert database_settings(DATABASE_URL=POSTGRES_URL, DATABASE_POOL="0", DATABASE_CONN_MAX_AGE="60") == {
        "pool": None, "conn_max_age": 60, "health_checks": True}


def test_the_pool_with_kept_connections_stops_the_process_naming_both_variables():
    done = read_database_settings(DATABASE_URL=POSTGRES_URL, DATABASE_CONN_MAX_AGE="60")
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("django.core.exceptions.ImproperlyConfigured: DATABASE_CONN_MAX_AGE='60' "), last
    assert "DATABASE_POOL" in last, last
    assert done.stdout == ""


@pytest.mark.parametrize("value", ["0", "-3", "many", "4.5"])
def test_a_pool_size_that_is_not_a_positive_whole_number_stops_the_process(value):
    done = read_database_settings(DATABASE_URL=POSTGRES_URL, DATABASE_POOL_MAX_SIZE=value)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1] == (
        f"django.core.exceptions.ImproperlyConfigured: DATABASE_POOL_MAX_SIZE={value!r} is not a positive whole"
        " number (see docs/deploy.md)")


@pytest.mark.parametrize("variables", [{}, {"DATABASE_POOL": "1", "DATABASE_POOL_MAX_SIZE": "12"},
                                       {"DATABASE_POOL": "1", "DATABASE_CONN_MAX_AGE": "60"}])
def test_sqlite_has_no_pool_whatever_the_pool_variables_say(variables):
    read = database_settings(**variables)  # no DATABASE_URL: SQLite in var/
    assert read["pool"] is None
    assert read["conn_max_age"] == int(variables.get("DATABASE_CONN_MAX_AGE", "0"))
