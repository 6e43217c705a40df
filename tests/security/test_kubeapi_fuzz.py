"""Malformed bodies at the Kubernetes API (/k8s/): the answer is always a Kubernetes Status (or the
object, when the input happened to be valid), never a 500; a refused request changes nothing in etcd."""
from __future__ import annotations

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from web.runtime import registry

from .helpers import JSON, etcd_keys, owner_client, written_content

pytestmark = pytest.mark.django_db(transaction=True)

SETTLE_AFTER_ACCEPTED_MS = 30_000
VALID_DEPLOYMENT = {
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "fuzzed", "labels": {"app": "f"}},
    "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "f"}},
             "template": {"metadata": {"labels": {"app": "f"}},
                          "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}},
}
VALID_POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "fuzzed"},
             "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}
VALID_CONFIGMAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "fuzzed"}, "data": {"a": "b"}}

# (method, path under /k8s/<secret>, content type, a valid body to spoil)
TARGETS = [
    ("post", "/api/v1/namespaces/default/pods", JSON, VALID_POD),
    ("post", "/api/v1/namespaces/default/configmaps", JSON, VALID_CONFIGMAP),
    ("post", "/api/v1/namespaces/default/configmaps", "application/yaml", VALID_CONFIGMAP),
    ("post", "/apis/apps/v1/namespaces/default/deployments", JSON, VALID_DEPLOYMENT),
    ("put", "/apis/apps/v1/namespaces/default/deployments/web", JSON, VALID_DEPLOYMENT),
    ("patch", "/apis/apps/v1/namespaces/default/deployments/web", "application/merge-patch+json",
     {"spec": {"replicas": 2}}),
    ("patch", "/apis/apps/v1/namespaces/default/deployments/web", "application/strategic-merge-patch+json",
     {"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.28"}]}}}}),
    ("patch", "/apis/apps/v1/namespaces/default/deployments/web", "application/json-patch+json",
     [{"op": "replace", "path": "/spec/replicas", "value": 2}]),
    ("put", "/apis/apps/v1/namespaces/default/deployments/web/scale", JSON,
     {"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": {"name": "web", "namespace": "default"},
      "spec": {"replicas": 2}}),
    ("delete", "/api/v1/namespaces/default/configmaps/missing", JSON, {"propagationPolicy": "Background"}),
    ("post", "/api/v1/namespaces/default/pods/web-0/eviction", JSON,
     {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "web-0"}}),
]

odd_scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
               | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
               | st.sampled_from(["", "\u0000", "\ud7ff\ue000", "🙂" * 5, "<script>", "1e309", "-0", "0x10",
                                  "a" * 300, "default", "Always", "IfNotPresent", "nginx:1.27"]))
json_values = st.recursive(odd_scalars, lambda children: st.lists(children, max_size=4)
                           | st.dictionaries(st.text(max_size=8) | st.sampled_from(
                               ["metadata", "spec", "name", "replicas", "containers", "image", "labels",
                                "selector", "template", "data", "op", "path", "value", "kind", "apiVersion"]),
                               children, max_size=5), max_leaves=30)


def deeply_nested(depth: int) -> str:
    return '{"metadata":{"name":"deep"},"data":' + '{"a":' * depth + '"x"' + "}" * depth + "}"


def replace_at(document, path: list, value):
    """A copy of ``document`` with the value at ``path`` (keys or indexes) replaced."""
    if not path:
        return value
    if isinstance(document, dict):
        copy = dict(document)
        copy[path[0]] = replace_at(document.get(path[0]), path[1:], value)
        return copy
    if isinstance(document, list) and isinstance(path[0], int) and path[0] < len(document):
        copy = list(document)
        copy[path[0]] = replace_at(document[path[0]], path[1:], value)
        return copy
    return document


def paths_of(document, prefix=()) -> list[list]:
    found = [list(prefix)]
    if isinstance(document, dict):
        for key, value in document.items():
            found += paths_of(value, prefix + (key,))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found += paths_of(value, prefix + (index,))
    return found


@st.composite
def spoiled_bodies(draw, valid) -> bytes:
    """One way of breaking a valid body: random bytes, a truncation, a wrong type in a known field,
    a huge number, deep nesting, odd unicode, or a random JSON document."""
    text = json.dumps(valid)
    way = draw(st.sampled_from(["bytes", "truncated", "wrong type", "huge", "deep", "unicode", "random"]))
    if way == "bytes":
        return draw(st.binary(max_size=200))
    if way == "truncated":
        return text[:draw(st.integers(0, max(0, len(text) - 1)))].encode()
    if way == "deep":
        return deeply_nested(draw(st.sampled_from([50, 500, 5_000, 100_000]))).encode()
    if way == "random":
        return json.dumps(draw(json_values)).encode()
    path = draw(st.sampled_from(paths_of(valid)))
    if way == "wrong type":
        value = draw(json_values)
    elif way == "huge":
        value = draw(st.sampled_from([2**63, -(2**63) - 1, 10**400, 1e308, 2**31, -1]))
    else:
        value = draw(st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=40))
    return json.dumps(replace_at(valid, path, value)).encode()


@pytest.fixture
def fuzzed_cluster():
    """One booted cluster for all the examples of a test (hypothesis reuses it on purpose)."""
    client, live = owner_client()
    yield client, live
    registry.delete(live.id)


def is_status(body) -> bool:
    return isinstance(body, dict) and body.get("kind") == "Status" and body.get("apiVersion") == "v1" \
        and isinstance(body.get("code"), int)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                    HealthCheck.too_slow])
@given(target=st.sampled_from(TARGETS), data=st.data())
def test_malformed_bodies_get_a_status_and_change_nothing(fuzzed_cluster, target, data):
    client, live = fuzzed_cluster
    method, path, content_type, valid = target
    body = data.draw(spoiled_bodies(valid))
    note(f"{method.upper()} {path} ({content_type}): {body[:300]!r} ({len(body)} bytes)")
    watched = "/registry/deployments/default/web"
    before = (etcd_keys(live), written_content(live, watched))
    answer = getattr(Client(), method)(f"/k8s/{live.secret}{path}", body, content_type=content_type)
    assert answer.status_code < 500, answer.content[:500]
    decoded = json.loads(answer.content)
    if answer.status_code >= 400:
        assert is_status(decoded) and decoded["code"] == answer.status_code, decoded
        assert decoded["status"] == "Failure" and decoded["message"]
        assert (etcd_keys(live), written_content(live, watched)) == before
        return
    if method == "post" and answer.status_code == 201:  # valid after all: undo it for the next example
        created = decoded.get("metadata") or {}
        if created.get("name") and path.endswith(("pods", "configmaps", "deployments")):
            Client().delete(f"/k8s/{live.secret}{path}/{created['name']}?gracePeriodSeconds=0")
    # An accepted change (web scaled, say) sets the controllers working: let them finish, so the
    # pods they make while the next example is served are not taken for that example's doing.
    live.advance_by(SETTLE_AFTER_ACCEPTED_MS)


def test_a_body_nested_100000_deep_is_a_bad_request_in_json_and_yaml(fuzzed_cluster):
    client, live = fuzzed_cluster
    before = etcd_keys(live)
    for content_type in (JSON, "application/yaml"):
        answer = client.post(f"/k8s/{live.secret}/api/v1/namespaces/default/configmaps",
                             deeply_nested(100_000), content_type=content_type)
        assert answer.status_code == 400 and answer.json()["reason"] == "BadRequest"
    assert etcd_keys(live) == before
