"""Admission: what the real plugin chain adds to, or refuses on, a create."""
import random

import pytest

from cluster_sim.apiserver import admission
from cluster_sim.apiserver.defaults import apply_defaults

NAMESPACES = {
    "/registry/namespaces/default": {"metadata": {"name": "default"}, "status": {"phase": "Active"}},
    "/registry/namespaces/doomed": {"metadata": {"name": "doomed"}, "status": {"phase": "Terminating"}},
}
SEED = 20250101


def pod(namespace="default", **spec):
    body = {"containers": [{"name": "app", "image": "nginx:1.27"}]}
    body.update(spec)
    return apply_defaults("pods", {"apiVersion": "v1", "kind": "Pod",
                                   "metadata": {"name": "web", "namespace": namespace}, "spec": body})


def admit(obj, resource="pods", seed=SEED, **options):
    options.setdefault("namespaces", NAMESPACES)
    options.setdefault("priority_classes", {})
    return admission.admit_create(resource, obj, rng=random.Random(seed), **options)


def test_pod_gets_service_account_token_volume_priority_and_tolerations():
    admitted = admit(pod())
    spec = admitted["spec"]
    assert spec["serviceAccountName"] == "default" and spec["serviceAccount"] == "default"
    volume = spec["volumes"][-1]
    assert volume["name"].startswith("kube-api-access-")
    suffix = volume["name"][len("kube-api-access-"):]
    assert len(suffix) == 5 and set(suffix) <= set(admission.NAME_SUFFIX_ALPHABET), f"seed {SEED}"
    assert volume["projected"]["defaultMode"] == 420
    assert volume["projected"]["sources"][0] == {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}}
    assert spec["containers"][0]["volumeMounts"] == [
        {"name": volume["name"], "readOnly": True, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}]
    assert spec["priority"] == 0 and spec["preemptionPolicy"] == "PreemptLowerPriority"
    assert spec["tolerations"] == [
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
    ]


def test_admission_does_not_modify_its_input():
    original = pod()
    admit(original)
    assert "serviceAccountName" not in original["spec"] and "tolerations" not in original["spec"]


def test_token_volume_name_is_reproducible_per_seed():
    for seed in range(20):
        first = admit(pod(), seed=seed)["spec"]["volumes"][-1]["name"]
        second = admit(pod(), seed=seed)["spec"]["volumes"][-1]["name"]
        assert first == second, f"seed {seed}"
    names = {admit(pod(), seed=seed)["spec"]["volumes"][-1]["name"] for seed in range(20)}
    assert len(names) > 15


def test_no_token_when_automount_is_off_or_path_is_taken():
    off = admit(pod(automountServiceAccountToken=False))
    assert "volumes" not in off["spec"] and "volumeMounts" not in off["spec"]["containers"][0]
    taken = pod(volumes=[{"name": "own", "emptyDir": {}}])
    taken["spec"]["containers"][0]["volumeMounts"] = [
        {"name": "own", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}]
    assert [volume["name"] for volume in admit(taken)["spec"]["volumes"]] == ["own"]


def test_service_account_must_exist_when_accounts_are_known():
    accounts = {"/registry/serviceaccounts/default/default": {"metadata": {"name": "default", "namespace": "default"}}}
    assert admit(pod(), service_accounts=accounts)["kind"] == "Pod"
    refused = admit(pod(serviceAccountName="builder"), service_accounts=accounts)
    assert refused["code"] == 403 and refused["reason"] == "Forbidden"
    assert refused["message"] == ('pods "web" is forbidden: error looking up service account default/builder: '
                                  'serviceaccount "builder" not found')


def test_existing_tolerations_are_respected():
    tolerate_all = pod(tolerations=[{"operator": "Exists"}])
    assert admit(tolerate_all)["spec"]["tolerations"] == [{"operator": "Exists"}]
    one = pod(tolerations=[{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
                            "tolerationSeconds": 10}])
    keys = [(t["key"], t.get("tolerationSeconds")) for t in admit(one)["spec"]["tolerations"]]
    assert keys == [("node.kubernetes.io/unreachable", 10), ("node.kubernetes.io/not-ready", 300)]


def test_priority_class_resolution():
    classes = {"/registry/priorityclasses/high": {"metadata": {"name": "high"}, "value": 1000, "preemptionPolicy": "Never"}}
    assert admit(pod(priorityClassName="high"), priority_classes=classes)["spec"]["priority"] == 1000
    assert admit(pod(priorityClassName="high"), priority_classes=classes)["spec"]["preemptionPolicy"] == "Never"
    assert admit(pod(priorityClassName="system-node-critical"))["spec"]["priority"] == 2000001000
    assert admit(pod(priorityClassName="system-cluster-critical"))["spec"]["priority"] == 2000000000
    missing = admit(pod(priorityClassName="gold"))
    assert missing["message"] == 'pods "web" is forbidden: no PriorityClass with name gold was found'
    mismatch = admit(pod(priority=5))
    assert mismatch["message"] == ('pods "web" is forbidden: the integer value of priority (5) must not be provided '
                                   "in pod spec; priority admission controller computed 0 from the given PriorityClass name")


def test_global_default_priority_class_applies_to_pods_without_a_class():
    classes = {"x": {"metadata": {"name": "normal"}, "value": 100, "globalDefault": True,
                     "preemptionPolicy": "PreemptLowerPriority"}}
    spec = admit(pod(), priority_classes=classes)["spec"]
    assert (spec["priorityClassName"], spec["priority"]) == ("normal", 100)


def test_namespace_lifecycle():
    missing = admit(pod(namespace="nope"))
    assert (missing["code"], missing["reason"], missing["message"]) == (404, "NotFound", 'namespaces "nope" not found')
    terminating = admit(pod(namespace="doomed"))
    assert terminating["code"] == 403
    assert terminating["message"] == ('pods "web" is forbidden: unable to create new content in namespace doomed '
                                      "because it is being terminated")
    deployment = {"metadata": {"name": "api", "namespace": "doomed"}, "spec": {}}
    refused = admit(deployment, resource="deployments")
    assert refused["message"].startswith('deployments.apps "api" is forbidden: unable to create new content')
    assert refused["details"]["group"] == "apps"


def test_generate_name_is_used_in_refusals_and_cluster_scoped_resources_pass():
    body = pod(namespace="doomed")
    body["metadata"] = {"generateName": "web-", "namespace": "doomed"}
    assert admit(body)["message"].startswith('pods "web-" is forbidden')
    namespace = {"metadata": {"name": "new"}}
    assert admit(namespace, resource="namespaces") == namespace


def test_immortal_namespaces_cannot_be_deleted():
    refused = admission.admit_delete("namespaces", "kube-system")
    assert refused["message"] == 'namespaces "kube-system" is forbidden: this namespace may not be deleted'
    assert admission.admit_delete("namespaces", "team-a") is None


def test_new_nodes_are_tainted_not_ready():
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "worker-1"}, "spec": {}}
    admitted = admit(node, resource="nodes")
    assert admitted["spec"]["taints"] == [{"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}]
    assert admit(admitted, resource="nodes")["spec"]["taints"] == admitted["spec"]["taints"]


@pytest.mark.parametrize("resource", ["configmaps", "services", "secrets"])
def test_other_kinds_pass_unchanged(resource):
    body = {"metadata": {"name": "x", "namespace": "default"}}
    assert admit(body, resource=resource) == body
