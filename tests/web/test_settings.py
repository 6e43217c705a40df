"""web/settings.py read from the environment by a fresh process, as a server reads it at start."""
from __future__ import annotations

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
