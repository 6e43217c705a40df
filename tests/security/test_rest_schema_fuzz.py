"""The REST API fuzzed from its own OpenAPI schema (schemathesis): no answer is a 5xx, and a refused
request leaves the session's clusters as they were."""
from __future__ import annotations

import json

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.test import Client
from hypothesis import HealthCheck, note
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error

from web.runtime import registry

from .helpers import JSON, csrf_of, session_of

pytestmark = pytest.mark.django_db(transaction=True)

# The schema is read from the running app, as a client would read it.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


class Owner:
    """A session with one paused cluster; rebuilt when an accepted request deleted it."""

    def __init__(self):
        self.client = Client()
        self.cluster_id = ""
        self.ensure()

    def ensure(self) -> None:
        if self.cluster_id and registry.get(self.cluster_id) is not None:
            return
        answer = self.client.post("/api/clusters/", json.dumps({"scenario": "basic", "paused": True}),
                                  content_type=JSON)
        assert answer.status_code == 201, answer.content
        self.cluster_id = answer.json()["id"]

    def state(self) -> tuple:
        """What a refused request must not change: the session's clusters, their clocks and actions."""
        clusters = registry.owned_by(session_of(self.client))
        return tuple(sorted((live.id, live.cluster.now_ms, len(live.cluster.recorded_actions), live.clock.speed,
                             live.clock.paused) for live in clusters))


@pytest.fixture
def owner(settings):
    # Generous limits: the fuzzer sends far more than a person would, and 429s would hide the rest.
    settings.SESSION_ACTIONS_PER_SECOND, settings.SESSION_ACTIONS_BURST = 10_000, 10_000
    settings.SESSION_READS_PER_SECOND, settings.SESSION_READS_BURST = 10_000, 10_000
    owner = Owner()
    yield owner
    for live in registry.owned_by(session_of(owner.client)):
        registry.delete(live.id)


@schema.parametrize()
@hypothesis_settings(max_examples=20, deadline=None, derandomize=True,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                            HealthCheck.filter_too_much])
def test_no_input_gets_a_server_error_and_refused_input_changes_nothing(case, owner):
    owner.ensure()
    if "cluster_id" in (case.path_parameters or {}) and case.path_parameters["cluster_id"] != "x":
        case.path_parameters["cluster_id"] = owner.cluster_id  # mostly the owned cluster; sometimes garbage
    case.cookies = {"sessionid": session_of(owner.client), "csrftoken": csrf_of(owner.client)}
    case.headers = dict(case.headers or {}, **{"X-CSRFToken": csrf_of(owner.client)})
    before = owner.state()
    response = case.call()
    note(f"{case.method} {case.formatted_path} body={getattr(case, 'body', None)!r} -> {response.status_code} "
         f"{response.text[:300]}")
    case.validate_response(response, checks=[not_a_server_error])
    if response.status_code >= 400:
        assert owner.state() == before
    # Clusters created by the fuzzer in fresh sessions (no cookie) are dropped at once.
    if case.method == "POST" and case.path == "/api/clusters/" and response.status_code == 201:
        if response.json()["id"] != owner.cluster_id:
            registry.delete(response.json()["id"])
