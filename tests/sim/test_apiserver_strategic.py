"""Strategic merge patch: lists merge by the patchMergeKey of the real Go types, directives work,
and the apiserver applies it to stored objects."""
from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cluster_sim.apiserver.patch import PatchError
from cluster_sim.apiserver.strategic import strategic_merge_patch
from tests.sim.apiserver_helpers import boot, call, pod_manifest


def pod(**spec) -> dict:
    base = {"containers": [{"name": "web", "image": "nginx:1.26", "env": [{"name": "A", "value": "1"}],
                            "ports": [{"containerPort": 80, "protocol": "TCP"}],
                            "volumeMounts": [{"name": "data", "mountPath": "/data"}]},
                           {"name": "sidecar", "image": "busybox:1.36"}],
            "volumes": [{"name": "data", "emptyDir": {}}],
            "tolerations": [{"key": "a", "operator": "Exists"}]}
    base.update(spec)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "finalizers": ["x/one"],
                                                            "labels": {"app": "web", "tier": "front"}},
            "spec": base, "status": {"conditions": [{"type": "Ready", "status": "False"},
                                                    {"type": "PodScheduled", "status": "True"}]}}


def test_containers_merge_by_name_and_nested_lists_by_their_keys():
    original = pod()
    patched = strategic_merge_patch("Pod", original, {"spec": {"containers": [{
        "name": "web", "image": "nginx:1.27", "env": [{"name": "B", "value": "2"}, {"name": "A", "value": "9"}],
        "ports": [{"containerPort": 80, "name": "http"}],
        "volumeMounts": [{"mountPath": "/data", "readOnly": True}]}]}})
    web, sidecar = patched["spec"]["containers"]
    assert (web["name"], web["image"], sidecar) == ("web", "nginx:1.27", original["spec"]["containers"][1])
    assert web["env"] == [{"name": "B", "value": "2"}, {"name": "A", "value": "9"}]
    assert web["ports"] == [{"containerPort": 80, "protocol": "TCP", "name": "http"}]
    assert web["volumeMounts"] == [{"name": "data", "mountPath": "/data", "readOnly": True}]
    assert original == pod()  # never modified


def test_new_list_items_lead_without_set_element_order():
    patched = strategic_merge_patch("Pod", pod(), {"spec": {"containers": [{"name": "new", "image": "redis:7"}]}})
    assert [c["name"] for c in patched["spec"]["containers"]] == ["new", "web", "sidecar"]
    patched = strategic_merge_patch("Pod", pod(), {"spec": {"containers": [
        {"name": "sidecar", "image": "busybox:1.37"}, {"name": "new", "image": "redis:7"}]}})
    assert [c["name"] for c in patched["spec"]["containers"]] == ["web", "sidecar", "new"]


def test_patch_delete_and_replace_directives_in_lists():
    patched = strategic_merge_patch("Pod", pod(), {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}})
    assert [c["name"] for c in patched["spec"]["containers"]] == ["web"]
    patched = strategic_merge_patch("Pod", pod(), {"spec": {"containers": [
        {"name": "only", "image": "redis:7"}, {"$patch": "replace"}]}})
    assert patched["spec"]["containers"] == [{"name": "only", "image": "redis:7"}]


def test_patch_directives_in_maps_and_null_deletes():
    patched = strategic_merge_patch("Pod", pod(), {"metadata": {"labels": {"$patch": "replace", "app": "api"}}})
    assert patched["metadata"]["labels"] == {"app": "api"}
    patched = strategic_merge_patch("Pod", pod(), {"metadata": {"labels": {"tier": None}}})
    assert patched["metadata"]["labels"] == {"app": "web"}
    patched = strategic_merge_patch("Pod", pod(), {"metadata": {"labels": {"$patch": "delete"}}})
    assert patched["metadata"]["labels"] == {}


def test_lists_without_a_patch_strategy_are_replaced():
    patched = strategic_merge_patch("Pod", pod(), {"spec": {"tolerations": [{"key": "b", "operator": "Exists"}]}})
    assert patched["spec"]["tolerations"] == [{"key": "b", "operator": "Exists"}]
    node = {"kind": "Node", "metadata": {"name": "n"}, "spec": {"taints": [{"key": "a", "effect": "NoSchedule"}],
                                                                 "podCIDRs": ["10.244.1.0/24"]},
            "status": {"addresses": [{"type": "InternalIP", "address": "192.168.56.101"}]}}
    patched = strategic_merge_patch("Node", node, {"spec": {"taints": [{"key": "b", "effect": "NoExecute"}]},
                                                   "status": {"addresses": [{"type": "Hostname", "address": "n"}]}})
    assert patched["spec"]["taints"] == [{"key": "b", "effect": "NoExecute"}]
    assert [a["type"] for a in patched["status"]["addresses"]] == ["Hostname", "InternalIP"]


def test_finalizers_merge_as_a_set_and_delete_from_primitive_list():
    patched = strategic_merge_patch("Pod", pod(), {"metadata": {"finalizers": ["x/two", "x/one"]}})
    assert patched["metadata"]["finalizers"] == ["x/two", "x/one"]
    patched = strategic_merge_patch("Pod", pod(), {"metadata": {"finalizers": ["x/two"]}})
    assert sorted(patched["metadata"]["finalizers"]) == ["x/one", "x/two"]
    patched = strategic_merge_patch("Pod", pod(), {"metadata": {"$deleteFromPrimitiveList/finalizers": ["x/one"]}})
    assert patched["metadata"]["finalizers"] == []


def test_owner_references_merge_by_uid_and_conditions_by_type():
    obj = pod()
    obj["metadata"]["ownerReferences"] = [{"uid": "u1", "kind": "ReplicaSet", "name": "rs", "controller": True}]
    patched = strategic_merge_patch("Pod", obj, {
        "metadata": {"ownerReferences": [{"uid": "u1", "blockOwnerDeletion": True}]},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]}})
    assert patched["metadata"]["ownerReferences"] == [
        {"uid": "u1", "kind": "ReplicaSet", "name": "rs", "controller": True, "blockOwnerDeletion": True}]
    assert patched["status"]["conditions"] == [{"type": "Ready", "status": "True"},
                                               {"type": "PodScheduled", "status": "True"}]


def test_service_ports_merge_by_port_and_deployment_strategy_retains_keys():
    service = {"kind": "Service", "metadata": {"name": "s"},
               "spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443, "targetPort": 8443}]}}
    patched = strategic_merge_patch("Service", service, {"spec": {"ports": [{"port": 443, "targetPort": 9443}]}})
    assert patched["spec"]["ports"] == [{"port": 80, "targetPort": 8080}, {"port": 443, "targetPort": 9443}]
    deployment = {"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"strategy": {
        "type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}}}
    patched = strategic_merge_patch("Deployment", deployment,
                                    {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}})
    assert patched["spec"]["strategy"] == {"type": "Recreate"}


def test_pod_template_containers_merge_in_workloads():
    deployment = {"kind": "Deployment", "metadata": {"name": "d"},
                  "spec": {"template": {"spec": {"containers": [{"name": "a", "image": "x:1"},
                                                                {"name": "b", "image": "y:1"}]}}}}
    patched = strategic_merge_patch("Deployment", deployment,
                                    {"spec": {"template": {"spec": {"containers": [{"name": "b", "image": "y:2"}]}}}})
    assert patched["spec"]["template"]["spec"]["containers"] == [{"name": "a", "image": "x:1"},
                                                                 {"name": "b", "image": "y:2"}]


def test_malformed_patches_are_errors():
    with pytest.raises(PatchError, match="does not contain declared merge key: name"):
        strategic_merge_patch("Pod", pod(), {"spec": {"containers": [{"image": "x"}]}})
    with pytest.raises(PatchError, match="Unknown patch type"):
        strategic_merge_patch("Pod", pod(), {"metadata": {"labels": {"$patch": "explode"}}})
    with pytest.raises(PatchError):
        strategic_merge_patch("Pod", pod(), ["not", "a", "map"])


names = st.sampled_from(["a", "b", "c", "d", "e"])


@settings(max_examples=200, deadline=None)
@given(original=st.lists(names, unique=True), patched=st.lists(names, unique=True),
       deleted=st.lists(names, unique=True))
def test_merge_by_key_keeps_every_item_once(original, patched, deleted):
    """Whatever the lists, each name survives once unless deleted, with the patch's image."""
    live = {"kind": "Pod", "metadata": {}, "spec": {"containers": [{"name": n, "image": "old"} for n in original]}}
    patch_items = [{"name": n, "image": "new"} for n in patched if n not in deleted]
    patch_items += [{"name": n, "$patch": "delete"} for n in deleted]
    result = strategic_merge_patch("Pod", copy.deepcopy(live), {"spec": {"containers": patch_items}})
    containers = result["spec"]["containers"]
    result_names = [c["name"] for c in containers]
    expected = (set(original) - set(deleted)) | (set(patched) - set(deleted))
    assert sorted(result_names) == sorted(expected), (original, patched, deleted)
    for container in containers:
        assert container["image"] == ("new" if container["name"] in patched else "old")
    # Patch items keep the patch's order, the others the live list's order.
    in_patch = [n for n in result_names if n in patched]
    assert in_patch == [n for n in patched if n not in deleted]
    server_only = [n for n in result_names if n not in patched]
    assert server_only == [n for n in original if n in server_only]


@pytest.fixture(scope="module")
def cluster():
    return boot()


def test_apiserver_applies_strategic_patches(cluster):
    body = pod_manifest("smp", nodeName="worker-1", tolerations=[{"key": "k", "operator": "Exists"}])
    body["spec"]["containers"].append({"name": "helper", "image": "busybox:1.36", "command": ["sleep", "3600"]})
    code, created = call(cluster, "create", "pods", namespace="default", body=body)
    assert code == 201
    code, patched = call(cluster, "patch", "pods", namespace="default", name="smp", params={"patchType": "strategic"},
                         body={"metadata": {"labels": {"smp": "yes"}},
                               "spec": {"containers": [{"name": "helper", "image": "busybox:1.37"}]}})
    assert code == 200, patched
    images = {c["name"]: c["image"] for c in patched["spec"]["containers"]}
    assert images == {"app": "nginx:1.27", "helper": "busybox:1.37"}
    assert patched["metadata"]["labels"] == {"smp": "yes"}
    # The service account mount the admission added to every container is still there.
    assert all(c["volumeMounts"] for c in patched["spec"]["containers"])
    code, status = call(cluster, "patch", "pods", namespace="default", name="smp", params={"patchType": "strategic"},
                        body={"spec": {"containers": [{"image": "nameless"}]}})
    assert code == 400 and status["reason"] == "BadRequest"
    assert "does not contain declared merge key: name" in status["message"]


def test_strategic_patch_of_node_taints_replaces_them(cluster):
    code, node = call(cluster, "patch", "nodes", name="worker-3", params={"patchType": "strategic"},
                      body={"spec": {"taints": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]}})
    assert code == 200
    assert node["spec"]["taints"] == [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]
