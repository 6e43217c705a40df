"""Every limit gives a clear error in the caller's protocol and changes nothing."""
from __future__ import annotations

import json

import pytest
from channels.testing import WebsocketCommunicator

from web import limits, services
from web.asgi import application
from web.runtime import registry

from .helpers import JSON, csrf_of, etcd_objects, owner_client, session_of

pytestmark = pytest.mark.django_db(transaction=True)
RECEIVE_TIMEOUT_S = 10  # a bound for a broken test, not a performance assertion


# --- the token bucket itself ----------------------------------------------------------------

class FakeClock:
    def __init__(self):
        self.now_s = 100.0

    def __call__(self) -> float:
        return self.now_s


def test_bucket_allows_the_burst_then_refills_at_the_rate(settings):
    settings.TEST_RATE, settings.TEST_BURST = 20, 40
    clock = FakeClock()
    bucket = limits.RateLimiter(rate_setting="TEST_RATE", burst_setting="TEST_BURST", default_rate=1,
                                default_burst=1, clock=clock)
    assert [bucket.retry_after_s("a") for _ in range(40)] == [None] * 40
    wait_s = bucket.retry_after_s("a")
    assert wait_s == pytest.approx(1 / 20)
    assert bucket.retry_after_s("b") is None  # another session has its own bucket
    clock.now_s += 0.5  # ten tokens back, no more
    assert [bucket.retry_after_s("a") for _ in range(11)][-2:] == [None, pytest.approx(1 / 20)]


def test_bucket_table_forgets_idle_sessions():
    clock = FakeClock()
    bucket = limits.RateLimiter(rate_setting="UNSET", burst_setting="UNSET", default_rate=1, default_burst=1,
                                clock=clock)
    for number in range(100):
        bucket.retry_after_s(f"session-{number}")
    clock.now_s += limits.IDLE_BUCKET_S + 1
    bucket.retry_after_s("new")
    assert list(bucket.buckets) == ["new"]


# --- actions per second per session -----------------------------------------------------------

def test_rest_changes_beyond_the_burst_get_429_with_retry_after_and_change_nothing(settings):
    settings.SESSION_ACTIONS_PER_SECOND, settings.SESSION_ACTIONS_BURST = 0.01, 3
    client, live = owner_client()
    limits.actions.reset()
    url = f"/api/clusters/{live.id}/clock/"
    answers = [client.post(url, json.dumps({"speed": 2}), content_type=JSON) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    refused = client.post(url, json.dumps({"speed": 50}), content_type=JSON)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert refused.json()["code"] == "throttled" and "Too many requests" in refused.json()["detail"]
    assert live.clock.speed == 2.0


def test_kubernetes_api_changes_beyond_the_burst_get_a_too_many_requests_status(settings):
    settings.SESSION_ACTIONS_PER_SECOND, settings.SESSION_ACTIONS_BURST = 0.01, 2
    client, live = owner_client()
    limits.actions.reset()
    url = f"/k8s/{live.secret}/api/v1/namespaces/default/configmaps"
    for number in range(2):
        created = client.post(url, json.dumps({"metadata": {"name": f"c{number}"}}), content_type=JSON)
        assert created.status_code == 201, created.content
    before = etcd_objects(live)
    refused = client.post(url, json.dumps({"metadata": {"name": "c9"}}), content_type=JSON)
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    status = refused.json()
    assert status["kind"] == "Status" and status["reason"] == "TooManyRequests"
    assert status["details"]["retryAfterSeconds"] >= 1
    assert etcd_objects(live) == before
    # Reads have their own, larger bucket: looking still works.
    assert client.get(url).status_code == 200


def test_terminal_beyond_the_burst_shows_kubectls_error_line(settings):
    settings.SESSION_ACTIONS_PER_SECOND, settings.SESSION_ACTIONS_BURST = 0.01, 1
    client, live = owner_client()
    limits.actions.reset()
    from django.urls import reverse
    url = reverse("terminal-run", kwargs={"cluster_id": live.id})
    assert "Too many" not in client.post(url, {"line": "kubectl get nodes"}).content.decode()
    page = client.post(url, {"line": "kubectl get nodes"}).content.decode()
    assert "Error from server (TooManyRequests)" in page
    as_json = client.post(url, {"line": "kubectl get nodes"}, HTTP_ACCEPT="application/json")
    assert as_json.status_code == 429 and "Too many requests" in as_json.json()["error"]


def test_lesson_buttons_beyond_the_burst_say_so_in_the_steps_panel(settings):
    settings.SESSION_ACTIONS_PER_SECOND, settings.SESSION_ACTIONS_BURST = 0.01, 1
    from django.test import Client
    client = Client()
    assert client.get("/lessons/worker-node-failure/").status_code == 200
    limits.actions.reset()
    assert client.post("/lessons/worker-node-failure/check", HTTP_HX_REQUEST="true").status_code == 200
    refused = client.post("/lessons/worker-node-failure/check", HTTP_HX_REQUEST="true")
    assert "Too many requests" in refused.content.decode() and "Retry-After" in refused
    plain = client.post("/lessons/worker-node-failure/reset")
    assert plain.status_code == 429


# --- body sizes -----------------------------------------------------------------------------

def test_rest_bodies_over_the_limit_get_413_and_create_nothing(settings):
    settings.REST_MAX_BODY_BYTES = 10_000
    client, _live = owner_client(boot=False)
    owned = registry.count_owned_by(session_of(client))
    body = json.dumps({"scenario": {"name": "big", "description": "x" * 20_000}})
    refused = client.post("/api/clusters/", body, content_type=JSON)
    assert refused.status_code == 413
    assert refused.json() == {"detail": "Request entity too large: limit is 10000 bytes", "code": "request_too_large"}
    assert registry.count_owned_by(session_of(client)) == owned


def test_rest_default_body_limit_is_smaller_than_the_kubernetes_apis():
    assert limits.rest_max_body_bytes() == 1024 * 1024
    from web.kubeapi import transport
    assert transport.MAX_BODY_BYTES == 3 * 1024 * 1024


def test_kubernetes_api_bodies_over_3_mib_get_a_request_entity_too_large_status():
    client, live = owner_client()
    before = etcd_objects(live)
    body = json.dumps({"metadata": {"name": "big"}, "data": {"a": "x" * (3 * 1024 * 1024)}})
    refused = client.post(f"/k8s/{live.secret}/api/v1/namespaces/default/configmaps", body, content_type=JSON)
    assert refused.status_code == 413
    assert refused.json()["reason"] == "RequestEntityTooLarge"
    assert etcd_objects(live) == before


# --- pods, replicas and nodes per cluster ------------------------------------------------------

def pod(name: str) -> str:
    return json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                       "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}})


def set_pod_cap(live, cap: int) -> None:
    """What building the cluster with ``Cluster.from_scenario(..., max_pods=cap)`` sets: the cap of
    each of its apiservers (part of the simulation's plain-data state)."""
    with live.lock:
        for name in live.cluster.layout["apiservers"]:
            live.cluster.sim.components[name].max_pods = cap


def test_a_pod_beyond_the_clusters_cap_is_forbidden_with_an_explanation():
    client, live = owner_client()
    pods_now = limits.stored_count(live, "/registry/pods/")
    set_pod_cap(live, pods_now + 1)
    url = f"/k8s/{live.secret}/api/v1/namespaces/default/pods"
    assert client.post(url, pod("first"), content_type=JSON).status_code == 201
    live.advance_by(1_000)
    before = etcd_objects(live)
    refused = client.post(url, pod("second"), content_type=JSON)
    assert refused.status_code == 403
    status = refused.json()
    assert status["reason"] == "Forbidden" and status["kind"] == "Status"
    assert status["message"].startswith('pods "second" is forbidden: exceeded quota: simulated-cluster-pods')
    assert f"limited: pods={pods_now + 1}" in status["message"] and "a limit of this server" in status["message"]
    assert etcd_objects(live) == before


def test_the_terminal_meets_the_pod_cap_as_kubectl_shows_it():
    from django.urls import reverse
    client, live = owner_client()
    set_pod_cap(live, limits.stored_count(live, "/registry/pods/"))
    page = client.post(reverse("terminal-run", kwargs={"cluster_id": live.id}),
                       {"line": "kubectl run extra --image=nginx:1.27"}).content.decode()
    assert "Error from server (Forbidden): pods &quot;extra&quot; is forbidden: exceeded quota" in page
    assert limits.stored_count(live, "/registry/pods/") == live.cluster.sim.components[
        live.cluster.layout["apiservers"][0]].max_pods


def test_a_deployment_scaled_past_the_cap_stops_there_with_failed_create_events():
    """Under the web boundary's early refusal (more replicas than the cap) but past the pods left."""
    client, live = owner_client()
    cap = limits.stored_count(live, "/registry/pods/") + 2
    set_pod_cap(live, cap)
    scaled = client.patch(f"/k8s/{live.secret}/apis/apps/v1/namespaces/default/deployments/web/scale",
                          json.dumps({"spec": {"replicas": 10}}), content_type="application/merge-patch+json")
    assert scaled.status_code == 200, scaled.content
    live.advance_by(30_000)
    assert limits.stored_count(live, "/registry/pods/") == cap
    listed = client.get(f"/k8s/{live.secret}/api/v1/namespaces/default/events")
    messages = [event["message"] for event in listed.json()["items"] if event["reason"] == "FailedCreate"]
    assert messages and all(message.startswith('Error creating: pods "web-') for message in messages)
    assert f"exceeded quota: simulated-cluster-pods, requested: pods=1, used: pods={cap}, limited: pods={cap}" \
        in messages[0]


def test_the_default_pod_cap_is_a_thousand():
    assert limits.cluster_max_pods() == 1000


@pytest.mark.parametrize("method,path,content_type,body", [
    ("post", "/apis/apps/v1/namespaces/default/deployments", JSON,
     {"metadata": {"name": "huge"}, "spec": {"replicas": 5000, "selector": {"matchLabels": {"a": "b"}},
                                             "template": {"metadata": {"labels": {"a": "b"}},
                                                          "spec": {"containers": [{"name": "c", "image": "i"}]}}}}),
    ("patch", "/apis/apps/v1/namespaces/default/deployments/web", "application/merge-patch+json",
     {"spec": {"replicas": 2_000_000_000}}),
    ("patch", "/apis/apps/v1/namespaces/default/deployments/web/scale", "application/json-patch+json",
     [{"op": "replace", "path": "/spec/replicas", "value": 1001}]),
    ("put", "/apis/apps/v1/namespaces/default/deployments/web/scale", JSON,
     {"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": {"name": "web", "namespace": "default"},
      "spec": {"replicas": 100000}}),
])
def test_workloads_asking_for_more_pods_than_the_cap_are_forbidden(method, path, content_type, body):
    client, live = owner_client()
    before = etcd_objects(live)
    refused = getattr(client, method)(f"/k8s/{live.secret}{path}", json.dumps(body), content_type=content_type)
    assert refused.status_code == 403, refused.content
    assert refused.json()["reason"] == "Forbidden"
    assert "exceed this simulated cluster's limit of 1000 pods" in refused.json()["message"]
    assert etcd_objects(live) == before


def test_rest_scale_action_beyond_the_cap_is_forbidden():
    client, live = owner_client()
    actions_before = len(live.cluster.recorded_actions)
    refused = client.post(f"/api/clusters/{live.id}/actions/",
                          json.dumps({"action": "scale", "target": "default/web", "replicas": 1_000_000}),
                          content_type=JSON)
    assert refused.status_code == 403
    assert refused.json()["code"] == "limit_reached" and "1000 pods" in refused.json()["detail"]
    assert len(live.cluster.recorded_actions) == actions_before


def test_a_node_beyond_the_node_cap_is_forbidden(monkeypatch):
    client, live = owner_client()
    nodes_now = limits.stored_count(live, "/registry/minions/")
    monkeypatch.setattr(services, "MAX_NODES_PER_CLUSTER", nodes_now)
    before = etcd_objects(live)
    refused = client.post(f"/k8s/{live.secret}/api/v1/nodes", json.dumps({"metadata": {"name": "extra"}}),
                          content_type=JSON)
    assert refused.status_code == 403
    assert refused.json()["message"] == (f'nodes "extra" is forbidden: this simulated cluster has {nodes_now} nodes, '
                                         f"the most it may have ({nodes_now})")
    assert etcd_objects(live) == before


def test_clusters_per_session_stop_at_five_with_a_clear_message():
    client, _live = owner_client(boot=False)
    for _more in range(services.MAX_CLUSTERS_PER_SESSION - 1):
        assert client.post("/api/clusters/", json.dumps({"scenario": "basic", "paused": True}),
                           content_type=JSON).status_code == 201
    refused = client.post("/api/clusters/", json.dumps({"scenario": "basic", "paused": True}), content_type=JSON)
    assert refused.status_code == 429
    assert refused.json()["detail"] == "this session already has 5 clusters, the most it may have; delete one first"
    assert registry.count_owned_by(session_of(client)) == 5


# --- websocket messages -------------------------------------------------------------------------

async def cluster_socket(client, live) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/ws/clusters/{live.id}/", headers=[
        (b"origin", b"http://localhost"), (b"host", b"localhost"),
        (b"cookie", f"sessionid={session_of(client)}; csrftoken={csrf_of(client)}".encode())])
    connected, _code = await communicator.connect(timeout=RECEIVE_TIMEOUT_S)
    assert connected
    return communicator


async def next_output(communicator, predicate, limit: int = 200) -> dict:
    for _message in range(limit):
        output = await communicator.receive_output(timeout=RECEIVE_TIMEOUT_S)
        if predicate(output):
            return output
    raise AssertionError("expected message never came")


async def test_a_websocket_message_over_64_kib_closes_the_socket_with_1009():
    from asgiref.sync import sync_to_async
    client, live = await sync_to_async(owner_client)()
    communicator = await cluster_socket(client, live)
    actions_before = len(live.cluster.recorded_actions)
    await communicator.send_to(text_data=json.dumps(
        {"command": "action", "action": {"action": "node.fail", "target": "worker-1", "pad": "x" * 70_000}}))
    closed = await next_output(communicator, lambda output: output["type"] == "websocket.close")
    assert closed["code"] == limits.WEBSOCKET_TOO_BIG_CLOSE_CODE == 1009
    assert len(live.cluster.recorded_actions) == actions_before
    await communicator.disconnect()


async def test_websocket_commands_beyond_the_burst_are_refused_with_a_message(settings):
    from asgiref.sync import sync_to_async
    settings.SESSION_ACTIONS_PER_SECOND, settings.SESSION_ACTIONS_BURST = 0.01, 1
    client, live = await sync_to_async(owner_client)()
    limits.actions.reset()
    communicator = await cluster_socket(client, live)

    def is_result(output):
        return output.get("type") == "websocket.send" and '"type": "result"' in (output.get("text") or "")

    await communicator.send_to(text_data=json.dumps({"command": "clock", "speed": 2}))
    assert json.loads((await next_output(communicator, is_result))["text"])["ok"] is True
    await communicator.send_to(text_data=json.dumps({"command": "clock", "speed": 50}))
    refused = json.loads((await next_output(communicator, is_result))["text"])
    assert refused["ok"] is False and "Too many requests" in refused["message"]
    assert live.clock.speed == 2.0
    await communicator.disconnect()


# --- the live cluster page's controls and the sandbox ------------------------------------------

@pytest.mark.parametrize("path,form", [("action", {"action": "node.fail", "target": "worker-1"}),
                                       ("clock", {"command": "speed", "speed": "50"})])
def test_cluster_page_controls_beyond_the_burst_say_so_in_the_status_line(settings, path, form):
    settings.SESSION_ACTIONS_PER_SECOND, settings.SESSION_ACTIONS_BURST = 0.01, 1
    client, live = owner_client()
    limits.actions.reset()
    url = f"/clusters/{live.id}/{path}"
    assert "Too many requests" not in client.post(url, {"command": "pause"}, HTTP_HX_REQUEST="true").content.decode()
    actions_before, speed_before = len(live.cluster.recorded_actions), live.clock.speed
    refused = client.post(url, form, HTTP_HX_REQUEST="true")
    assert refused.status_code == 200 and int(refused["Retry-After"]) >= 1  # htmx swaps 2xx answers only
    assert 'role="status"' in refused.content.decode() or "cv-status" in refused.content.decode()
    assert "Too many requests from this session" in refused.content.decode()
    assert (len(live.cluster.recorded_actions), live.clock.speed) == (actions_before, speed_before)
    assert client.post(url, form).status_code == 429  # not from htmx: the status says it


def test_sandbox_creations_beyond_the_burst_say_so_on_the_page(settings):
    settings.SESSION_ACTIONS_PER_SECOND, settings.SESSION_ACTIONS_BURST = 0.01, 1
    from django.test import Client
    client = Client()
    assert client.get("/sandbox/").status_code == 200
    limits.actions.reset()
    assert client.post("/sandbox/", {"workers": "1"}).status_code == 302
    refused = client.post("/sandbox/", {"workers": "1"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert "Too many requests from this session" in refused.content.decode()
    assert registry.count_owned_by(session_of(client)) == 1


# --- new clusters per client address --------------------------------------------------------------

ADDRESS = "203.0.113.7"


def create_from(address: str, **headers):
    from django.test import Client
    return Client(REMOTE_ADDR=address, **headers).post(
        "/api/clusters/", json.dumps({"scenario": "basic", "paused": True}), content_type=JSON)


def test_fresh_sessions_from_one_address_get_429_once_its_hourly_clusters_are_spent(settings):
    settings.CLUSTERS_PER_ADDRESS_PER_HOUR = 2
    assert [create_from(ADDRESS).status_code for _ in range(2)] == [201, 201]
    clusters_before = set(registry.clusters)
    refused = create_from(ADDRESS)
    assert refused.status_code == 429
    assert refused.json() == {"detail": "Too many new clusters from this network address: at most 2 an hour; "
                                        "try again in 1800 s", "code": "limit_reached"}
    assert refused["Retry-After"] == "1800"
    assert set(registry.clusters) == clusters_before
    assert create_from("198.51.100.20").status_code == 201  # another address has its own
    assert create_from("127.0.0.1").status_code == 201  # this machine (make run, a local proxy): not counted


def test_bad_input_does_not_spend_the_addresses_clusters(settings):
    settings.CLUSTERS_PER_ADDRESS_PER_HOUR = 1
    from django.test import Client
    bad = Client(REMOTE_ADDR=ADDRESS).post("/api/clusters/", json.dumps({"scenario": "nope"}), content_type=JSON)
    assert bad.status_code == 400
    assert create_from(ADDRESS).status_code == 201


def test_ipv6_clients_are_counted_per_64(settings):
    settings.CLUSTERS_PER_ADDRESS_PER_HOUR = 1
    assert create_from("2001:db8:1:2::10").status_code == 201
    assert create_from("2001:db8:1:2:ffff::99").status_code == 429
    assert create_from("2001:db8:1:3::10").status_code == 201


def test_x_forwarded_for_names_the_client_only_when_trusted(settings):
    settings.CLUSTERS_PER_ADDRESS_PER_HOUR = 1
    settings.TRUST_X_FORWARDED_FOR = True
    proxy = "10.0.0.2"
    assert create_from(proxy, HTTP_X_FORWARDED_FOR=ADDRESS).status_code == 201
    assert create_from(proxy, HTTP_X_FORWARDED_FOR=f"{ADDRESS}, 10.9.9.9").status_code == 429
    assert create_from(proxy, HTTP_X_FORWARDED_FOR="198.51.100.20").status_code == 201
    assert create_from(proxy, HTTP_X_FORWARDED_FOR="not an address").status_code == 201  # the proxy's own
    settings.TRUST_X_FORWARDED_FOR = False
    # Untrusted, a forged header changes nothing: the proxy's address has spent its one.
    assert create_from(proxy, HTTP_X_FORWARDED_FOR="192.0.2.55").status_code == 429


def test_the_sandbox_says_when_the_addresses_clusters_are_spent(settings):
    settings.CLUSTERS_PER_ADDRESS_PER_HOUR = 1
    from django.test import Client
    assert create_from(ADDRESS).status_code == 201
    client = Client(REMOTE_ADDR=ADDRESS)
    refused = client.post("/sandbox/", {"workers": "1"})
    assert refused.status_code == 429 and refused["Retry-After"] == "3600"
    assert "Too many new clusters from this network address: at most 1 an hour" in refused.content.decode()
    assert registry.count_owned_by(session_of(client)) == 0


def test_a_lesson_page_says_when_the_addresses_clusters_are_spent(settings):
    settings.CLUSTERS_PER_ADDRESS_PER_HOUR = 1
    from django.test import Client
    assert create_from(ADDRESS).status_code == 201
    client = Client(REMOTE_ADDR=ADDRESS)
    refused = client.get("/lessons/worker-node-failure/")
    assert refused.status_code == 429 and refused["Retry-After"] == "3600"
    assert "Too many new clusters from this network address" in refused.content.decode()
    assert registry.count_owned_by(session_of(client)) == 0
    checked = client.post("/lessons/worker-node-failure/check", HTTP_HX_REQUEST="true")
    assert checked.status_code == 429 and "Too many new clusters" in checked.content.decode()


def test_joining_a_workshop_is_refused_with_the_reason_and_leaves_no_student(settings):
    settings.CLUSTERS_PER_ADDRESS_PER_HOUR = 1
    from tests.workshops.test_api import LESSON, instructor
    from workshops import services as workshop_services
    from workshops.models import Student

    workshop = workshop_services.create_workshop(user=instructor(), title="Limits", lessons=[LESSON])
    workshop_services.join(code=workshop.code, session_key="s" * 32, name="Ada", address=ADDRESS)
    with pytest.raises(limits.ClusterQuotaReached, match="at most 1 an hour"):
        workshop_services.join(code=workshop.code, session_key="t" * 32, name="Grace", address=ADDRESS)
    assert list(Student.objects.values_list("name", flat=True)) == ["Ada"]
    # The instructor's reset rebuilds every student's cluster without spending the students' address.
    first_cluster = Student.objects.get().cluster_id
    workshop_services.reset_clusters(user=workshop.instructor, code=workshop.code)
    assert Student.objects.get().cluster_id != first_cluster
