"""Requests the Kubernetes API front end must refuse: the right Status, never a 500, cluster unchanged."""
from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
import yaml

from tests.web.kube_helpers import cluster_fixture

cluster = cluster_fixture(seed=11)

PODS = "/api/v1/namespaces/default/pods"
GOOD_POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "ok"},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]}}


def send(cluster, method: str, path: str, body: bytes | None = None, content_type: str | None = None,
         server: str | None = None, headers: dict | None = None) -> tuple[int, dict | str]:
    request = urllib.request.Request((server or cluster.server) + path, data=body, method=method,
                                     headers=dict(headers or {}, **({"Content-Type": content_type} if content_type else {})))
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            code, text = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        code, text = error.code, error.read().decode()
    try:
        return code, json.loads(text)
    except ValueError:
        return code, text


@pytest.mark.parametrize("body, content_type, code, reason, message", [
    (b'{"apiVersion": "v1", "kind": "Pod", ', "application/json", 400, "BadRequest",
     "couldn't get version/kind; json parse error: unexpected end of JSON input"),
    (b'{"apiVersion": "v1" "kind": "Pod"}', "application/json", 400, "BadRequest",
     "couldn't get version/kind; json parse error: invalid character '\"' after object key:value pair"),
    (b"[1, 2]", "application/json", 400, "BadRequest", None),
    (b"metadata:\n  name: x\n - bad", "application/yaml", 400, "BadRequest", None),
    (json.dumps(GOOD_POD).encode(), "text/plain", 415, "UnsupportedMediaType", None),
    (json.dumps(dict(GOOD_POD, spec={"containers": [{"name": "c", "image": "nginx", "imagePullPolcy": "Always"}]})).encode(),
     "application/json", 400, "BadRequest",
     'Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.containers[0].imagePullPolcy"'),
    (json.dumps(dict(GOOD_POD, kind="Service")).encode(), "application/json", 400, "BadRequest", None),
    (b"\x00" * (3 * 1024 * 1024 + 1), "application/json", 413, "RequestEntityTooLarge",
     "Request entity too large: limit is 3145728"),
    (b"k8s\x00garbage", "application/vnd.kubernetes.protobuf", 400, "BadRequest", None),
])
def test_undecodable_bodies_are_refused_before_the_cluster(cluster, body, content_type, code, reason, message):
    before = cluster.stored_objects()
    status_code, status = send(cluster, "POST", PODS + "?fieldValidation=Strict", body, content_type)
    assert (status_code, status["kind"], status["reason"], status["code"]) == (code, "Status", reason, code)
    if message is not None:
        assert status["message"] == message
    assert cluster.stored_objects() == before


def test_unknown_fields_warn_without_strict_and_are_stored_without_them(cluster):
    pod = dict(GOOD_POD, metadata={"name": "warned"}, spec={"containers": [{"name": "c", "image": "nginx", "colour": "red"}]})
    request = urllib.request.Request(cluster.server + PODS, data=json.dumps(pod).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 201
        assert response.headers["Warning"] == '299 - "unknown field \\"spec.containers[0].colour\\""'


def test_invalid_fields_get_the_apiservers_invalid_status(cluster):
    pod = dict(GOOD_POD, metadata={"name": "Bad_Name"})
    code, status = send(cluster, "POST", PODS, json.dumps(pod).encode(), "application/json")
    assert code == 422 and status["reason"] == "Invalid"
    assert status["details"]["causes"][0]["field"] == "metadata.name"


def test_unknown_resources_and_paths_are_not_found(cluster):
    for path in ("/api/v1/namespaces/default/widgets", "/apis/example.com/v1/things", "/api/v2", "/nothing"):
        code, status = send(cluster, "GET", path)
        assert code == 404 and status["message"] == "the server could not find the requested resource", path


def test_unknown_kind_in_kubectl_create(cluster):
    manifest = {"apiVersion": "v1", "kind": "Widget", "metadata": {"name": "w"}}
    before = cluster.stored_objects()
    # With default validation kubectl wants /openapi/v2 (protobuf, not served) for kinds the v3
    # documents do not describe, and stops there; without validation it reports the kind itself.
    assert cluster.kubectl("create", "-f", "-", stdin=yaml.safe_dump(manifest), check=False).returncode == 1
    result = cluster.kubectl("create", "--validate=false", "-f", "-", stdin=yaml.safe_dump(manifest), check=False)
    assert result.returncode == 1
    assert 'no matches for kind "Widget" in version "v1"' in result.stderr
    assert cluster.stored_objects() == before


def test_kubectl_create_with_a_typo_fails_strict_validation(cluster):
    manifest = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "typo"},
                "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "t"}},
                         "template": {"metadata": {"labels": {"app": "t"}},
                                      "spec": {"containers": [{"name": "t", "image": "nginx", "imagePullPolcy": "Always"}]}}}}
    before = cluster.stored_objects()
    result = cluster.kubectl("create", "-f", "-", stdin=yaml.safe_dump(manifest), check=False)
    assert result.stderr.strip() == (
        'Error from server (BadRequest): error when creating "STDIN": Deployment in version "v1" cannot be handled '
        'as a Deployment: strict decoding error: unknown field "spec.template.spec.containers[0].imagePullPolcy"')
    assert cluster.stored_objects() == before


def test_wrong_patch_content_type_and_server_side_apply(cluster):
    path = "/apis/apps/v1/namespaces/default/deployments/web"
    code, status = send(cluster, "PATCH", path, b'{"spec": {}}', "application/json")
    assert (code, status["reason"]) == (415, "UnsupportedMediaType")
    code, status = send(cluster, "PATCH", path, b"spec: {}", "application/apply-patch+yaml")
    assert (code, status["reason"]) == (415, "UnsupportedMediaType")
    assert "server-side apply is not simulated" in status["message"]
    code, status = send(cluster, "PATCH", path, b'{"op": "add"}', "application/json-patch+json")
    assert (code, status["reason"]) == (400, "BadRequest")


def test_a_wrong_secret_is_unauthorized(cluster):
    server = cluster.server.rsplit("/", 1)[0] + "/not-the-secret"
    code, status = send(cluster, "GET", "/api/v1/pods", server=server)
    assert (code, status["reason"]) == (401, "Unauthorized")
    code, _status = send(cluster, "GET", "/api/v1/pods", server=server,
                         headers={"Authorization": "Bearer " + cluster.live.secret})
    assert code == 401  # a bearer token only counts over https


def test_deletecollection_deletes_what_the_selector_matches(cluster):
    for name in ("a", "b"):
        cluster.kubectl("create", "configmap", f"batch-{name}", "--from-literal=x=y")
        cluster.kubectl("label", "configmap", f"batch-{name}", "batch=yes")
    code, deleted = send(cluster, "DELETE", "/api/v1/namespaces/default/configmaps?labelSelector=batch%3Dyes")
    assert code == 200 and deleted["kind"] == "ConfigMapList"
    assert sorted(item["metadata"]["name"] for item in deleted["items"]) == ["batch-a", "batch-b"]
    assert cluster.kubectl("get", "configmaps", "-l", "batch=yes", "-o", "name").stdout == ""


def test_apiserver_down_is_a_clear_503(cluster):
    live = cluster.live
    live.apply_action({"action": "apiserver.fail", "target": "cp-1"})
    try:
        result = cluster.kubectl("get", "pods", check=False)
        assert result.returncode == 1
        assert result.stderr.strip() == (
            "Error from server (ServiceUnavailable): The connection to the server 192.168.56.11:6443 was "
            "refused - did you specify the right host or port? (simulated: kube-apiserver-cp-1 is down)")
    finally:
        live.apply_action({"action": "apiserver.recover", "target": "cp-1"})
        live.advance_by(10_000)
    assert cluster.kubectl("get", "pods", "-o", "name").stdout
