"""Clusters over REST, through Django's test client: what a script or a page sees.

Every answer is also checked against the OpenAPI schema the server publishes, so the schema
stays true to the API.
"""
from __future__ import annotations

import datetime

import json
import re

import jsonschema
import pytest
import yaml
from django.test import Client

from cluster_sim.scenario import list_shipped
from web import services
from web.runtime import registry

pytestmark = pytest.mark.django_db
JSON = "application/json"
BOOT_MS = 20_000


# --- helpers ----------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def forget_clusters_created_here():
    before = set(registry.clusters)
    yield
    for cluster_id in set(registry.clusters) - before:
        registry.delete(cluster_id)


@pytest.fixture(scope="module")
def openapi(django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return json.loads(response.content)


class Api:
    """A client that checks every JSON answer against the published schema."""

    def __init__(self, client: Client, openapi: dict):
        self.client = client
        self.openapi = openapi

    def call(self, method: str, path: str, body=None, *, raw: str | None = None, content_type: str = JSON, **extra):
        path = path.removeprefix("http://testserver")  # the API's own absolute URLs work too
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        kwargs = {"content_type": content_type} if data is not None else {}
        response = getattr(self.client, method)(path, data, **kwargs, **extra) if data is not None else \
            getattr(self.client, method)(path, **extra)
        assert response.status_code < 500, response.content
        self.check_schema(method, path, response)
        return response

    def check_schema(self, method: str, path: str, response) -> None:
        template = re.sub(r"^/api/clusters/[^/]+/", "/api/clusters/{cluster_id}/", path)
        template = re.sub(r"^/api/clusters/[^/]+/kubeconfig$", "/api/clusters/{cluster_id}/kubeconfig", template)
        operation = self.openapi["paths"][template][method]
        documented = operation["responses"].get(str(response.status_code))
        assert documented is not None, f"{method.upper()} {template} answered {response.status_code}, undocumented"
        if response.status_code == 204 or response["Content-Type"] != JSON:
            return
        schema = documented["content"][JSON]["schema"]
        jsonschema.validate(response.json(), {**schema, "components": self.openapi["components"]})

    def get(self, path, **extra):
        return self.call("get", path, **extra)

    def post(self, path, body=None, **options):
        return self.call("post", path, body, **options)

    def delete(self, path, **extra):
        return self.call("delete", path, **extra)

    def create(self, scenario="basic", **fields) -> dict:
        response = self.post("/api/clusters/", {"scenario": scenario, **fields})
        assert response.status_code == 201, response.content
        return response.json()

    def clock(self, cluster_id: str, body: dict) -> dict:
        response = self.post(f"/api/clusters/{cluster_id}/clock/", body)
        assert response.status_code == 200, response.content
        return response.json()

    def booted(self, scenario="basic") -> dict:
        """A cluster with its clock paused after the bootstrap, so tests see exact virtual times."""
        cluster = self.create(scenario, paused=True, startTime="scenario")
        assert cluster["now"]["ms"] == 0 and cluster["clock"]["paused"] is True
        self.clock(cluster["id"], {"advance": f"{BOOT_MS}ms"})
        return self.get(cluster["url"]).json()


@pytest.fixture
def api(openapi) -> Api:
    return Api(Client(), openapi)


@pytest.fixture
def stranger(openapi) -> Api:
    return Api(Client(), openapi)


def etcd_object(cluster_id: str, kind: str, name: str) -> dict:
    live = registry.get(cluster_id)
    return next(item for item in live.cluster.etcd_objects()
                if item["kind"] == kind and item["metadata"]["name"] == name)


def ready_status(cluster_id: str, node: str) -> str:
    conditions = etcd_object(cluster_id, "Node", node)["status"]["conditions"]
    return next(condition["status"] for condition in conditions if condition["type"] == "Ready")


def node_row(cluster: dict, name: str) -> dict:
    return next(node for node in cluster["nodes"] if node["name"] == name)


# --- create, get, list, delete ----------------------------------------------------------------

def test_create_answers_201_with_api_urls_and_a_fresh_session(api: Api) -> None:
    response = api.post("/api/clusters/", {"scenario": "basic"})
    assert response.status_code == 201
    cluster = response.json()
    assert re.fullmatch(r"[0-9a-f]{16}", cluster["id"])
    assert response["Location"] == f"http://testserver/api/clusters/{cluster['id']}/"
    secret = re.fullmatch(r"http://testserver/k8s/([A-Za-z0-9_-]+)", cluster["server"]).group(1)
    assert secret == registry.get(cluster["id"]).secret
    assert len(secret) * 6 >= 128  # url-safe base64: 6 bits a character
    assert cluster["kubeconfig"] == f"http://testserver/api/clusters/{cluster['id']}/kubeconfig"
    assert cluster["scenario"] == "basic" and cluster["seed"] == 1
    assert cluster["clock"] == {"speed": 1.0, "paused": False}
    # A web cluster's clock starts when it is created (describe's client-side ages then agree).
    started = datetime.datetime.fromisoformat(cluster["now"]["time"].replace("Z", "+00:00"))
    assert abs((datetime.datetime.now(datetime.timezone.utc) - started).total_seconds()) < 60
    assert "sessionid" in response.cookies and "csrftoken" in response.cookies
    assert registry.get(cluster["id"]).owner_session == response.cookies["sessionid"].value


def test_a_booted_cluster_lists_its_ready_nodes(api: Api) -> None:
    cluster = api.booted()
    assert cluster["now"] == {"ms": BOOT_MS, "time": "2025-01-01T00:00:20.000000Z"}
    assert [node["name"] for node in cluster["nodes"]] == ["cp-1", "worker-1", "worker-2", "worker-3"]
    assert node_row(cluster, "cp-1") == {"name": "cp-1", "status": "Ready", "ready": "True",
                                         "roles": ["control-plane"]}
    assert node_row(cluster, "worker-3")["status"] == "Ready"


def test_inline_scenario_with_a_seed(api: Api) -> None:
    document = {"name": "Tiny Lab", "topology": {"workers": {"count": 1}}}
    cluster = api.create(document, seed=42)
    assert cluster["scenario"] == "Tiny Lab" and cluster["seed"] == 42
    api.clock(cluster["id"], {"paused": True, "advance": "20s"})
    nodes = api.get(f"/api/clusters/{cluster['id']}/").json()["nodes"]
    assert [node["name"] for node in nodes] == ["cp-1", "worker-1"]


def test_every_shipped_scenario_can_be_created(api: Api) -> None:
    for name in list_shipped():
        cluster = api.create(name)
        assert cluster["scenario"] == name
        assert api.delete(f"/api/clusters/{cluster['id']}/").status_code == 204


def test_get_list_and_delete(api: Api) -> None:
    first, second = api.create("basic"), api.create("ha")
    listed = api.get("/api/clusters/").json()
    assert sorted(item["id"] for item in listed) == sorted([first["id"], second["id"]])
    assert api.get(f"/api/clusters/{second['id']}/").json()["scenario"] == "ha"
    response = api.delete(f"/api/clusters/{first['id']}/")
    assert response.status_code == 204 and response.content == b""
    assert registry.get(first["id"]) is None
    assert api.get(f"/api/clusters/{first['id']}/").status_code == 404
    assert api.delete(f"/api/clusters/{first['id']}/").status_code == 404
    assert [item["id"] for item in api.get("/api/clusters/").json()] == [second["id"]]


def test_a_caller_without_a_session_has_no_clusters(api: Api) -> None:
    response = api.get("/api/clusters/")
    assert response.status_code == 200 and response.json() == []


def test_another_session_cannot_see_or_touch_the_cluster(api: Api, stranger: Api) -> None:
    cluster = api.booted()
    stranger.create("basic")  # the stranger has a session of its own
    base = f"/api/clusters/{cluster['id']}/"
    answers = [
        stranger.get(base),
        stranger.get(base + "clock/"),
        stranger.get(base + "kubeconfig"),
        stranger.post(base + "actions/", {"action": "node.fail", "target": "worker-1"}),
        stranger.post(base + "clock/", {"speed": 50}),
        stranger.delete(base),
    ]
    assert [answer.status_code for answer in answers] == [404] * len(answers)
    # Exactly what a missing id answers: nothing tells the stranger the cluster exists.
    missing = stranger.get("/api/clusters/0000000000000000/").json()
    assert answers[0].json()["detail"] == missing["detail"].replace("0000000000000000", cluster["id"])
    assert [item["id"] for item in stranger.get("/api/clusters/").json()] != [cluster["id"]]
    after = api.get(base).json()
    assert after["clock"] == {"speed": 1.0, "paused": True} and after["now"]["ms"] == BOOT_MS
    assert node_row(after, "worker-1")["status"] == "Ready"


def test_a_session_may_hold_only_a_few_clusters(api: Api) -> None:
    for _ in range(services.MAX_CLUSTERS_PER_SESSION):
        api.create("basic")
    response = api.post("/api/clusters/", {"scenario": "basic"})
    assert response.status_code == 429
    assert "delete one first" in response.json()["detail"]
    assert len(api.get("/api/clusters/").json()) == services.MAX_CLUSTERS_PER_SESSION


# --- bad input when creating ------------------------------------------------------------------

@pytest.mark.parametrize(("body", "path", "message"), [
    ({"scenario": "nope"}, "scenario", 'Unsupported value: "nope": supported values: "basic"'),
    ({"scenario": {"name": "x", "topology": {"workers": {"count": -1}}}}, "topology.workers.count",
     "Invalid value: -1: must be between 0 and 5000, inclusive"),
    ({"scenario": {"topology": {}}}, "name", "Required value"),
    ({"scenario": {"name": "x", "timeline": [{"at": "1m", "action": "node.fail", "target": "worker-9"}]}},
     "timeline[0].target", 'Not found: "worker-9"'),
    ({"scenario": {"name": "x", "colour": "blue"}}, "colour", 'unknown field "colour"'),
])
def test_a_bad_scenario_is_400_with_the_scenario_error(api: Api, body, path, message) -> None:
    response = api.post("/api/clusters/", body)
    assert response.status_code == 400
    error = response.json()
    assert error["path"] == path and message in error["message"]
    assert error["detail"] == f"{error['source']}: {path}: {error['message']}"
    assert registry.owned_by(api.client.session.session_key or "-") == []
    assert "sessionid" not in response.cookies  # no session was created for a failed request


def test_a_too_big_inline_scenario_is_refused(api: Api) -> None:
    body = {"scenario": {"name": "big", "topology": {"workers": {"count": services.MAX_NODES_PER_CLUSTER}}}}
    response = api.post("/api/clusters/", body)
    assert response.status_code == 400
    assert f"at most {services.MAX_NODES_PER_CLUSTER}" in response.json()["detail"]
    assert "sessionid" not in response.cookies


@pytest.mark.parametrize(("raw", "content_type", "status", "says"), [
    ("{not json", JSON, 400, "JSON parse error"),
    ('["basic"]', JSON, 400, "(root): Invalid data. Expected a dictionary, but got list."),
    ('{"scenario": 7}', JSON, 400, "scenario: must be the name of a shipped scenario or a scenario document"),
    ('{"scenario": "basic", "seed": -1}', JSON, 400, "seed: Ensure this value is greater than or equal to 0"),
    ('{"scenario": "basic", "seed": "abc"}', JSON, 400, "seed: A valid integer is required"),
    ('{"scenario": "basic", "sede": 3}', JSON, 400, "sede: unknown field; known fields: scenario, seed, paused"),
    ('{"scenario": "basic", "paused": "perhaps"}', JSON, 400, "paused: Must be a valid boolean"),
    ("{}", JSON, 400, "scenario: This field is required"),
    ("scenario=basic", "application/x-www-form-urlencoded", 415, "Unsupported media type"),
])
def test_malformed_create_bodies_are_refused(api: Api, raw, content_type, status, says) -> None:
    response = api.post("/api/clusters/", raw=raw, content_type=content_type)
    assert response.status_code == status
    assert says in response.json()["detail"]
    assert api.get("/api/clusters/").json() == []


# --- CSRF -------------------------------------------------------------------------------------

def test_csrf_is_required_once_the_session_cookie_is_sent(openapi) -> None:
    browser = Api(Client(enforce_csrf_checks=True), openapi)
    first = browser.post("/api/clusters/", {"scenario": "basic"})
    assert first.status_code == 201  # no session yet: nothing to forge
    token = first.cookies["csrftoken"].value
    refused = browser.post(first.json()["url"] + "clock/", {"speed": 10})
    assert refused.status_code == 403
    assert refused.json() == {"detail": "CSRF Failed: CSRF token missing.", "code": "permission_denied"}
    assert browser.delete(first.json()["url"]).status_code == 403
    assert browser.get(first.json()["url"]).status_code == 200  # reads need no token
    accepted = browser.post(first.json()["url"] + "clock/", {"speed": 10}, HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 200 and accepted.json()["clock"]["speed"] == 10.0


# --- actions ----------------------------------------------------------------------------------

def test_a_failed_node_stops_renewing_its_lease_and_turns_unknown(api: Api) -> None:
    cluster = api.booted()
    lease_before = etcd_object(cluster["id"], "Lease", "worker-2")["spec"]["renewTime"]
    response = api.post(f"/api/clusters/{cluster['id']}/actions/", {"action": "node.fail", "target": "worker-2"})
    assert response.status_code == 202
    result = response.json()
    assert result["action"] == {"action": "node.fail", "target": "worker-2"}
    assert [(event["kind"], event["target"]) for event in result["events"]] == [
        ("action", "worker-2"), ("machine.down", "worker-2")]
    assert {event["t"] for event in result["events"]} == {BOOT_MS}

    api.clock(cluster["id"], {"advance": "60s"})
    assert etcd_object(cluster["id"], "Lease", "worker-2")["spec"]["renewTime"] == lease_before
    assert etcd_object(cluster["id"], "Lease", "worker-1")["spec"]["renewTime"] > lease_before
    assert ready_status(cluster["id"], "worker-2") == "Unknown"
    after = api.get(f"/api/clusters/{cluster['id']}/").json()
    assert node_row(after, "worker-2")["status"] == "NotReady"
    assert node_row(after, "worker-1")["status"] == "Ready"


def test_an_api_action_is_normalised(api: Api) -> None:
    cluster = api.booted()
    response = api.post(f"/api/clusters/{cluster['id']}/actions/",
                        {"action": "scale", "target": "web", "replicas": 5})
    assert response.status_code == 202
    assert response.json()["action"] == {"action": "scale", "target": "default/web", "namespace": "default",
                                         "name": "web", "replicas": 5}
    api.clock(cluster["id"], {"advance": "30s"})
    assert etcd_object(cluster["id"], "Deployment", "web")["spec"]["replicas"] == 5


@pytest.mark.parametrize(("body", "says"), [
    ({"action": "node.explode", "target": "worker-1"}, 'action: Unsupported value: "node.explode"'),
    ({"action": "node.fail", "target": "worker-9"}, 'target: Not found: "worker-9": nodes in this topology'),
    ({"action": "node.fail"}, "target: Required value"),
    ({"action": "node.fail", "target": "worker-1", "at": "10s"}, "at: Forbidden"),
    ({"action": "node.fail", "target": "worker-1", "colour": 1}, 'colour: unknown field "colour"'),
    ({"action": "scale", "target": "web", "replicas": -1}, "replicas: Invalid value: -1"),
    ({"action": ["node.fail"]}, "action: Invalid value: must be a string"),
    ({"target": "worker-1"}, "action: Required value"),
    (["node.fail"], "(root): Invalid value: must be a mapping"),
    ("node.fail", "(root): Invalid value: must be a mapping"),
])
def test_a_bad_action_is_400_and_changes_nothing(api: Api, body, says) -> None:
    cluster = api.booted()
    live = registry.get(cluster["id"])
    recorded = len(live.cluster.recorded_actions)
    response = api.post(f"/api/clusters/{cluster['id']}/actions/", body)
    assert response.status_code == 400
    assert says in response.json()["detail"]
    assert len(live.cluster.recorded_actions) == recorded
    assert live.now_ms == BOOT_MS


def test_an_action_body_must_be_json(api: Api) -> None:
    cluster = api.booted()
    response = api.post(f"/api/clusters/{cluster['id']}/actions/", raw="{", content_type=JSON)
    assert response.status_code == 400 and response.json()["code"] == "parse_error"


# --- the clock --------------------------------------------------------------------------------

def test_speed_pause_and_resume(api: Api) -> None:
    cluster = api.create()
    assert api.clock(cluster["id"], {"speed": 10})["clock"] == {"speed": 10.0, "paused": False}
    paused = api.clock(cluster["id"], {"paused": True})
    assert paused["clock"] == {"speed": 10.0, "paused": True}
    again = api.get(f"/api/clusters/{cluster['id']}/clock/").json()
    assert again["now"] == paused["now"]  # a paused clock does not move
    assert api.clock(cluster["id"], {"paused": False, "speed": 100})["clock"] == {"speed": 100.0, "paused": False}


def test_advance_moves_the_virtual_clock_exactly(api: Api) -> None:
    cluster = api.booted()
    state = api.clock(cluster["id"], {"advance": "1m30s"})
    assert state["now"] == {"ms": BOOT_MS + 90_000, "time": "2025-01-01T00:01:50.000000Z"}
    assert api.clock(cluster["id"], {"advance": 2.5})["now"]["ms"] == BOOT_MS + 92_500  # a number is seconds


def test_rewind_forgets_later_actions(api: Api) -> None:
    cluster = api.booted()
    api.post(f"/api/clusters/{cluster['id']}/actions/", {"action": "node.fail", "target": "worker-2"})
    api.clock(cluster["id"], {"advance": "60s"})
    assert ready_status(cluster["id"], "worker-2") == "Unknown"

    state = api.clock(cluster["id"], {"rewind": "65s"})  # to 15 s, before the failure
    assert state["now"]["ms"] == BOOT_MS + 60_000 - 65_000
    api.clock(cluster["id"], {"advance": "65s"})
    assert ready_status(cluster["id"], "worker-2") == "True"

    assert api.clock(cluster["id"], {"rewindTo": 30_000})["now"]["ms"] == 30_000
    assert api.clock(cluster["id"], {"rewindTo": "20s"})["now"]["ms"] == 20_000
    assert api.clock(cluster["id"], {"rewindTo": "2025-01-01T00:00:10Z"})["now"]["ms"] == 10_000


@pytest.mark.parametrize(("body", "says"), [
    ({}, "Required value: one of speed, paused, advance, rewind or rewindTo"),
    ({"speed": 0}, "speed: Ensure this value is greater than or equal to 0.1"),
    ({"speed": 101}, "speed: Ensure this value is less than or equal to 100"),
    ({"speed": "fast"}, "speed: A valid number is required"),
    ({"paused": "maybe"}, "paused: Must be a valid boolean"),
    ({"advance": "soon"}, 'advance: time: invalid duration "soon"'),
    ({"advance": "0s"}, "advance: Invalid value: '0s': must be more than 0s and at most 15m0s"),
    ({"advance": "16m"}, "at most 15m0s"),
    ({"advance": "1.5ms"}, "is not a whole number of milliseconds"),
    ({"advance": True}, 'advance: must be a duration such as "60s"'),
    ({"rewind": "1h"}, "rewind: Invalid value"),
    ({"rewindTo": 999_999}, "rewindTo: Invalid value: the cluster's clock is at 20s (20000 ms)"),
    ({"rewindTo": -5}, "rewindTo: Invalid value"),
    ({"rewindTo": [1]}, "rewindTo: must be virtual milliseconds"),
    ({"rewindTo": "2025-13-01T00:00:00Z"}, "rewindTo: Invalid value: '2025-13-01T00:00:00Z': month must be in 1..12"),
    ({"rewind": "5s", "rewindTo": 0}, "give rewind or rewindTo, not both"),
    ({"speed": 5, "advance": "soon"}, "advance: time: invalid duration"),
    ({"fast": True}, "fast: unknown field"),
])
def test_a_bad_clock_request_is_400_and_changes_nothing(api: Api, body, says) -> None:
    cluster = api.booted()
    response = api.post(f"/api/clusters/{cluster['id']}/clock/", body)
    assert response.status_code == 400
    assert says in response.json()["detail"]
    state = api.get(f"/api/clusters/{cluster['id']}/clock/").json()
    assert state == {"now": {"ms": BOOT_MS, "time": "2025-01-01T00:00:20.000000Z"},
                     "clock": {"speed": 1.0, "paused": True}}


# --- kubeconfig -------------------------------------------------------------------------------

def test_kubeconfig_over_http_points_at_the_cluster_without_a_token(api: Api) -> None:
    cluster = api.create()
    response = api.get(f"/api/clusters/{cluster['id']}/kubeconfig")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/yaml; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="kubeconfig-{cluster["id"]}.yaml"'
    config = yaml.safe_load(response.content)
    name = f"basic-{cluster['id']}"
    assert config["apiVersion"] == "v1" and config["kind"] == "Config"
    assert config["clusters"] == [{"name": name, "cluster": {"server": cluster["server"]}}]
    assert config["contexts"] == [{"name": name, "context": {"cluster": name, "user": name, "namespace": "default"}}]
    assert config["current-context"] == name
    assert config["users"] == [{"name": name, "user": {}}]


def test_kubeconfig_over_https_carries_the_secret_as_bearer_token(api: Api) -> None:
    cluster = api.create()
    response = api.get(f"/api/clusters/{cluster['id']}/kubeconfig", secure=True)
    config = yaml.safe_load(response.content)
    secret = registry.get(cluster["id"]).secret
    assert config["clusters"][0]["cluster"]["server"] == f"https://testserver/k8s/{secret}"
    assert config["users"][0]["user"] == {"token": secret}


def test_kubeconfig_names_are_safe_for_any_scenario_name(api: Api) -> None:
    cluster = api.create({"name": "My Lab: étape #1!"})
    config = yaml.safe_load(api.get(f"/api/clusters/{cluster['id']}/kubeconfig").content)
    assert config["current-context"] == f"my-lab-tape-1-{cluster['id']}"


def test_kubeconfig_is_yaml_whatever_the_client_prefers(api: Api) -> None:
    cluster = api.create()
    for accept in ("application/json", "application/yaml", "text/html,*/*;q=0.8"):
        response = api.get(f"/api/clusters/{cluster['id']}/kubeconfig", HTTP_ACCEPT=accept)
        assert response["Content-Type"] == "application/yaml; charset=utf-8"
        assert yaml.safe_load(response.content)["kind"] == "Config"


def test_kubeconfig_of_an_unknown_cluster_is_404(api: Api) -> None:
    response = api.get("/api/clusters/ffffffffffffffff/kubeconfig", HTTP_ACCEPT=JSON)
    assert response.status_code == 404 and response.json()["code"] == "not_found"


# --- schema and docs pages --------------------------------------------------------------------

def test_schema_documents_every_endpoint_and_its_errors(openapi: dict) -> None:
    assert openapi["openapi"].startswith("3.")
    # The clusters API (the workshops API has its own tests).
    operations = {(path, method): operation for path, item in openapi["paths"].items()
                  for method, operation in item.items() if path.startswith("/api/clusters/")}
    assert set(operations) == {
        ("/api/clusters/", "get"), ("/api/clusters/", "post"),
        ("/api/clusters/{cluster_id}/", "get"), ("/api/clusters/{cluster_id}/", "delete"),
        ("/api/clusters/{cluster_id}/actions/", "post"),
        ("/api/clusters/{cluster_id}/clock/", "get"), ("/api/clusters/{cluster_id}/clock/", "post"),
        ("/api/clusters/{cluster_id}/kubeconfig", "get"),
    }
    for (path, _method), operation in operations.items():
        if "{cluster_id}" in path:
            assert "404" in operation["responses"]
        if "requestBody" in operation:
            assert {"400", "403", "415"} <= set(operation["responses"])
            assert operation["requestBody"]["content"][JSON].get("examples")
    create_schema = openapi["components"]["schemas"]["ClusterCreateRequest"]["properties"]["scenario"]
    assert create_schema["oneOf"][0]["enum"] == list_shipped()
    for strict in ("ClusterCreateRequest", "ClockChangeRequest"):
        assert openapi["components"]["schemas"][strict]["additionalProperties"] is False


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_load_their_scripts_from_this_server(page: str) -> None:
    client = Client()
    html = client.get(page).content.decode()
    assert "/api/schema/" in html
    assert "cdn.jsdelivr.net" not in html and "unpkg.com" not in html
    scripts = re.findall(r'src="([^"]+\.js)"', html)
    assert scripts, html
    for script in scripts:
        assert script.startswith("/static/drf_spectacular_sidecar/"), script
        assert client.get(script).status_code == 200


def test_over_https_csrf_also_needs_the_origin(openapi) -> None:
    browser = Api(Client(enforce_csrf_checks=True), openapi)
    cluster = browser.post("/api/clusters/", {"scenario": "basic"}, secure=True).json()
    token = browser.client.cookies["csrftoken"].value
    clock = cluster["url"].removeprefix("https://testserver") + "clock/"
    refused = browser.post(clock, {"speed": 5}, secure=True, HTTP_X_CSRFTOKEN=token)
    assert refused.status_code == 403 and "Referer checking failed" in refused.json()["detail"]
    accepted = browser.post(clock, {"speed": 5}, secure=True, HTTP_X_CSRFTOKEN=token,
                            HTTP_ORIGIN="https://testserver")
    assert accepted.status_code == 200
