"""Validation, admission, optimistic concurrency and deletion through a whole simulated cluster."""
from __future__ import annotations

import pytest

from cluster_sim.timefmt import parse_time_ms

from tests.sim.apiserver_helpers import boot, call, cause_fields, etcd_kv, pod_manifest, settle

MAX_WAIT_ROUNDS = 120


@pytest.fixture(scope="module")
def cluster():
    return boot()


def wait_until_gone(cluster, resource: str, namespace: str | None, name: str, step_ms: int = 1_000) -> int:
    """Virtual milliseconds until a get answers 404 (bounded)."""
    started_ms = cluster.now_ms
    for _ in range(MAX_WAIT_ROUNDS):
        if call(cluster, "get", resource, namespace=namespace, name=name).code == 404:
            return cluster.now_ms - started_ms
        settle(cluster, step_ms)
    raise AssertionError(f"{resource} {namespace}/{name} still there after {MAX_WAIT_ROUNDS} rounds")


# --- validation ---------------------------------------------------------------------------------

def test_invalid_pod_is_rejected_with_field_paths_and_nothing_is_stored(cluster):
    bad = pod_manifest("Bad_Name")
    bad["spec"]["containers"].append({"name": "app", "image": ""})
    answer = call(cluster, "create", "pods", namespace="default", body=bad)
    code, status = answer
    assert code == 422
    assert (status["kind"], status["status"], status["reason"], status["code"]) == ("Status", "Failure", "Invalid", 422)
    assert status["message"].startswith('Pod "Bad_Name" is invalid: [metadata.name: Invalid value: "Bad_Name": ')
    fields = cause_fields(status)
    assert "metadata.name" in fields and "spec.containers[1].image" in fields and "spec.containers[1].name" in fields
    assert status["details"]["name"] == "Bad_Name" and status["details"]["kind"] == "Pod"
    assert etcd_kv(cluster, "/registry/pods/default/Bad_Name") is None
    assert call(cluster, "get", "pods", namespace="default", name="Bad_Name").code == 404
    # Rejected before storage: the apiserver never asked etcd to write it.
    assert not [e for e in answer.events if e.kind == "etcd.request" and e.payload["key"].endswith("/Bad_Name")]


def test_invalid_deployment_update_leaves_the_stored_object_alone(cluster):
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "steady"},
            "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "steady"}},
                     "template": {"metadata": {"labels": {"app": "steady"}},
                                  "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}}}
    code, created = call(cluster, "create", "deployments", namespace="default", body=body)
    assert code == 201
    before = etcd_kv(cluster, "/registry/deployments/default/steady")
    code, status = call(cluster, "patch", "deployments", namespace="default", name="steady",
                        body={"spec": {"replicas": -1, "selector": {"matchLabels": {"app": "other"}}}},
                        params={"patchType": "merge"})
    assert code == 422
    assert status["message"].startswith('Deployment.apps "steady" is invalid: ')
    assert "spec.replicas" in cause_fields(status) and "spec.selector" in cause_fields(status)
    assert status["details"]["group"] == "apps"
    after = etcd_kv(cluster, "/registry/deployments/default/steady")
    assert after["value"]["spec"] == before["value"]["spec"]  # controllers may write status, never spec


def test_missing_required_field_is_field_value_required(cluster):
    code, status = call(cluster, "create", "services", namespace="default",
                        body={"metadata": {"name": "noports"}, "spec": {"selector": {"app": "x"}}})
    assert code == 422
    assert {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.ports"} in status["details"]["causes"]


# --- admission ------------------------------------------------------------------------------------

def test_default_toleration_seconds_and_service_account_admission(cluster):
    code, pod = call(cluster, "create", "pods", namespace="default", body=pod_manifest("admitted"))
    assert code == 201
    spec = pod["spec"]
    assert {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
            "tolerationSeconds": 300} in spec["tolerations"]
    assert {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
            "tolerationSeconds": 300} in spec["tolerations"]
    assert spec["serviceAccountName"] == "default" and spec["serviceAccount"] == "default"
    volume = next(v for v in spec["volumes"] if v["name"].startswith("kube-api-access-"))
    assert len(volume["name"]) == len("kube-api-access-") + 5
    sources = volume["projected"]["sources"]
    assert sources[0] == {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}}
    assert spec["containers"][0]["volumeMounts"] == [
        {"name": volume["name"], "readOnly": True, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}]


def test_own_toleration_for_a_taint_is_kept(cluster):
    own = {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 5}
    code, pod = call(cluster, "create", "pods", namespace="default", body=pod_manifest("tolerant", tolerations=[own]))
    assert code == 201
    unreachable = [t for t in pod["spec"]["tolerations"] if t["key"] == "node.kubernetes.io/unreachable"]
    assert unreachable == [own]


def test_create_in_a_missing_namespace_is_not_found(cluster):
    code, status = call(cluster, "create", "configmaps", namespace="nowhere", body={"metadata": {"name": "c"}})
    assert code == 404
    assert (status["reason"], status["message"]) == ("NotFound", 'namespaces "nowhere" not found')
    assert status["details"] == {"name": "nowhere", "kind": "namespaces"}


def test_create_in_a_terminating_namespace_is_forbidden(cluster):
    assert call(cluster, "create", "namespaces", body={"metadata": {"name": "closing"}}).code == 201
    assert call(cluster, "create", "pods", namespace="closing", body=pod_manifest("keeper", nodeName="worker-2")).code == 201
    settle(cluster, 3_000)
    code, namespace = call(cluster, "delete", "namespaces", name="closing")
    assert code == 200 and namespace["status"]["phase"] == "Terminating"
    code, status = call(cluster, "create", "configmaps", namespace="closing", body={"metadata": {"name": "late"}})
    assert code == 403
    assert status["reason"] == "Forbidden"
    assert status["message"] == ('configmaps "late" is forbidden: unable to create new content in namespace '
                                 'closing because it is being terminated')


def test_missing_service_account_is_forbidden(cluster):
    code, status = call(cluster, "create", "pods", namespace="default",
                        body=pod_manifest("orphan", serviceAccountName="ghost"))
    assert code == 403
    assert status["message"] == ('pods "orphan" is forbidden: error looking up service account default/ghost: '
                                 'serviceaccount "ghost" not found')


# --- resourceVersion and optimistic concurrency ------------------------------------------------------

def test_resource_version_is_the_etcd_mod_revision(cluster):
    code, created = call(cluster, "create", "configmaps", namespace="default",
                         body={"metadata": {"name": "versioned"}, "data": {"v": "1"}})
    kv = etcd_kv(cluster, "/registry/configmaps/default/versioned")
    assert created["metadata"]["resourceVersion"] == str(kv["mod_revision"]) == str(kv["create_revision"])
    code, patched = call(cluster, "patch", "configmaps", namespace="default", name="versioned",
                         body={"data": {"v": "2"}}, params={"patchType": "merge"})
    kv = etcd_kv(cluster, "/registry/configmaps/default/versioned")
    assert patched["metadata"]["resourceVersion"] == str(kv["mod_revision"])
    assert kv["mod_revision"] > kv["create_revision"] and kv["version"] == 2
    code, listed = call(cluster, "list", "configmaps", namespace="default")
    leader = cluster.sim.components["etcd-cp-1"]
    assert int(listed["metadata"]["resourceVersion"]) <= leader.applied_revision()


def test_update_with_a_stale_resource_version_is_a_conflict(cluster):
    code, first = call(cluster, "create", "configmaps", namespace="default",
                       body={"metadata": {"name": "contended"}, "data": {"owner": "a"}})
    code, second = call(cluster, "update", "configmaps", namespace="default", name="contended",
                        body=dict(first, data={"owner": "b"}))
    assert code == 200
    code, status = call(cluster, "update", "configmaps", namespace="default", name="contended",
                        body=dict(first, data={"owner": "c"}))
    assert code == 409
    assert status["reason"] == "Conflict"
    assert status["message"] == ('Operation cannot be fulfilled on configmaps "contended": the object has been '
                                 'modified; please apply your changes to the latest version and try again')
    assert etcd_kv(cluster, "/registry/configmaps/default/contended")["value"]["data"] == {"owner": "b"}
    # Even an update that would change nothing is refused with a stale resourceVersion.
    code, status = call(cluster, "update", "configmaps", namespace="default", name="contended",
                        body=dict(first, data={"owner": "b"}))
    assert code == 409


def test_update_without_resource_version_is_unconditional(cluster):
    code, created = call(cluster, "create", "configmaps", namespace="default",
                         body={"metadata": {"name": "blind"}, "data": {"v": "1"}})
    blind = {"metadata": {"name": "blind"}, "data": {"v": "2"}}
    code, updated = call(cluster, "update", "configmaps", namespace="default", name="blind", body=blind)
    assert code == 200 and updated["data"] == {"v": "2"}


# --- deletion ------------------------------------------------------------------------------------------

def test_unbound_pod_is_deleted_at_once(cluster):
    code, _ = call(cluster, "create", "pods", namespace="default",
                   body=pod_manifest("unbound", schedulerName="nobody"))
    assert code == 201
    code, deleted = call(cluster, "delete", "pods", namespace="default", name="unbound")
    assert code == 200 and deleted["metadata"]["name"] == "unbound"
    assert etcd_kv(cluster, "/registry/pods/default/unbound") is None


def test_bound_pod_terminates_gracefully_until_the_kubelet_confirms(cluster):
    code, _ = call(cluster, "create", "pods", namespace="default",
                   body=pod_manifest("graceful", nodeName="worker-1", terminationGracePeriodSeconds=20))
    settle(cluster, 5_000)
    code, deleted = call(cluster, "delete", "pods", namespace="default", name="graceful")
    assert code == 200
    metadata = deleted["metadata"]
    assert metadata["deletionGracePeriodSeconds"] == 20
    now_epoch_ms = cluster.sim.start_epoch_ms + cluster.now_ms
    # now + grace, in whole seconds (metav1.Time)
    assert now_epoch_ms + 19_000 <= parse_time_ms(metadata["deletionTimestamp"]) <= now_epoch_ms + 20_000
    code, terminating = call(cluster, "get", "pods", namespace="default", name="graceful")
    assert code == 200 and terminating["metadata"]["deletionTimestamp"] == metadata["deletionTimestamp"]
    # nginx stops on SIGTERM; the kubelet then deletes with grace 0 and the object goes.
    gone_after_ms = wait_until_gone(cluster, "pods", "default", "graceful", step_ms=250)
    assert gone_after_ms <= 20_000


def test_finalizers_keep_an_object_until_they_are_removed(cluster):
    code, created = call(cluster, "create", "configmaps", namespace="default",
                         body={"metadata": {"name": "held", "finalizers": ["example.com/hold"]}})
    code, deleting = call(cluster, "delete", "configmaps", namespace="default", name="held")
    assert code == 200
    assert deleting["metadata"]["deletionTimestamp"] and deleting["metadata"]["deletionGracePeriodSeconds"] == 0
    settle(cluster, 5_000)
    assert call(cluster, "get", "configmaps", namespace="default", name="held").code == 200
    code, status = call(cluster, "patch", "configmaps", namespace="default", name="held",
                        body={"metadata": {"finalizers": ["example.com/hold", "example.com/more"]}},
                        params={"patchType": "merge"})
    assert code == 422 and "metadata.finalizers" in cause_fields(status)
    code, released = call(cluster, "patch", "configmaps", namespace="default", name="held",
                          body={"metadata": {"finalizers": None}}, params={"patchType": "merge"})
    assert code == 200
    assert etcd_kv(cluster, "/registry/configmaps/default/held") is None


def test_namespace_deletion_empties_and_removes_the_namespace(cluster):
    assert call(cluster, "create", "namespaces", body={"metadata": {"name": "scratch"}}).code == 201
    for index in range(3):
        call(cluster, "create", "configmaps", namespace="scratch", body={"metadata": {"name": f"c{index}"}})
    assert call(cluster, "create", "pods", namespace="scratch", body=pod_manifest("p", nodeName="worker-3")).code == 201
    settle(cluster, 5_000)
    code, namespace = call(cluster, "delete", "namespaces", name="scratch")
    assert code == 200 and namespace["status"]["phase"] == "Terminating"
    gone_after_ms = wait_until_gone(cluster, "namespaces", None, "scratch")
    assert gone_after_ms < 60_000
    assert not [kv for kv in cluster.etcd_objects() if kv["metadata"].get("namespace") == "scratch"]


def test_immortal_namespace_cannot_be_deleted(cluster):
    code, status = call(cluster, "delete", "namespaces", name="default")
    assert code == 403
    assert status["message"] == 'namespaces "default" is forbidden: this namespace may not be deleted'
