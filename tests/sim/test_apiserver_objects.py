"""The object model through a whole simulated cluster: every kind the lessons use survives
create / get / list / update / patch / delete, with the defaults the real API returns."""
from __future__ import annotations

import ipaddress

import pytest

from cluster_sim.apiserver import kinds
from tests.sim.apiserver_helpers import boot, call, etcd_kv, pod_manifest, settle


@pytest.fixture(scope="module")
def cluster():
    return boot()


def labels_of(obj: dict) -> dict:
    return obj["metadata"].get("labels") or {}


def as_stored(cluster, key: str) -> dict:
    """What etcd holds at ``key``, with its mod_revision as resourceVersion."""
    kv = etcd_kv(cluster, key)
    return dict(kv["value"], metadata=dict(kv["value"]["metadata"], resourceVersion=str(kv["mod_revision"])))


def round_trip(cluster, resource: str, namespace: str | None, manifest: dict) -> dict:
    """create, then get from the watch cache, get from etcd (quorum read) and list: all show the
    object etcd holds (controllers may have changed it meanwhile); returns the created object."""
    name = manifest["metadata"]["name"]
    code, created = call(cluster, "create", resource, namespace=namespace, body=manifest)
    assert code == 201, created
    uid = created["metadata"]["uid"]
    assert created["metadata"]["name"] == name and uid and created["metadata"]["creationTimestamp"]
    code, cached = call(cluster, "get", resource, namespace=namespace, name=name, params={"resourceVersion": "0"})
    assert code == 200 and cached["metadata"]["uid"] == uid
    code, fetched = call(cluster, "get", resource, namespace=namespace, name=name)
    assert code == 200
    info = kinds.RESOURCES[resource]
    assert fetched == as_stored(cluster, info.etcd_key(namespace, name))
    assert int(fetched["metadata"]["resourceVersion"]) >= int(cached["metadata"]["resourceVersion"]) \
        >= int(created["metadata"]["resourceVersion"])
    code, listed = call(cluster, "list", resource, namespace=namespace)
    assert code == 200
    assert [item["metadata"]["uid"] for item in listed["items"] if item["metadata"]["name"] == name] == [uid]
    assert int(listed["metadata"]["resourceVersion"]) >= int(fetched["metadata"]["resourceVersion"])
    return created


def update_with_retry(cluster, resource: str, namespace: str | None, name: str, change) -> dict:
    """Read, change, write back with the read resourceVersion; retry on 409 like `kubectl edit`."""
    for _ in range(5):
        code, current = call(cluster, "get", resource, namespace=namespace, name=name)
        assert code == 200
        code, updated = call(cluster, "update", resource, namespace=namespace, name=name, body=change(current))
        if code != 409:
            assert code == 200, updated
            return updated
    raise AssertionError(f"{resource}/{name}: five conflicts in a row")


def update_patch_delete(cluster, resource: str, namespace: str | None, created: dict) -> None:
    name = created["metadata"]["name"]
    updated = update_with_retry(cluster, resource, namespace, name, lambda current: dict(
        current, metadata=dict(current["metadata"], labels=dict(labels_of(current), tier="gold"))))
    assert labels_of(updated)["tier"] == "gold"
    assert int(updated["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    assert updated["metadata"]["uid"] == created["metadata"]["uid"]
    code, patched = call(cluster, "patch", resource, namespace=namespace, name=name,
                         body={"metadata": {"labels": {"tier": None, "patched": "yes"}}},
                         params={"patchType": "merge"})
    assert code == 200, patched
    assert "tier" not in labels_of(patched) and labels_of(patched)["patched"] == "yes"
    code, _ = call(cluster, "delete", resource, namespace=namespace, name=name)
    assert code == 200
    if resource == "pods":
        settle(cluster, 5_000)  # the kubelet stops the containers, then confirms the deletion
    code, missing = call(cluster, "get", resource, namespace=namespace, name=name)
    assert code == 404
    assert missing["reason"] == "NotFound"


def test_configmap_round_trip(cluster):
    created = round_trip(cluster, "configmaps", "default",
                         {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"},
                          "data": {"mode": "fast"}})
    assert created["data"] == {"mode": "fast"} and created["apiVersion"] == "v1"
    update_patch_delete(cluster, "configmaps", "default", created)


def test_secret_defaults_to_opaque(cluster):
    created = round_trip(cluster, "secrets", "default",
                         {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "token"},
                          "data": {"password": "aHVudGVyMg=="}})
    assert created["type"] == "Opaque"
    update_patch_delete(cluster, "secrets", "default", created)


def test_service_account_round_trip(cluster):
    created = round_trip(cluster, "serviceaccounts", "default",
                         {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "robot"}})
    update_patch_delete(cluster, "serviceaccounts", "default", created)


def test_lease_round_trip(cluster):
    created = round_trip(cluster, "leases", "default", {
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "lock"},
        "spec": {"holderIdentity": "me", "leaseDurationSeconds": 15}})
    assert created["spec"] == {"holderIdentity": "me", "leaseDurationSeconds": 15}
    update_patch_delete(cluster, "leases", "default", created)


def test_pod_defaults_as_the_real_api_returns_them(cluster):
    created = round_trip(cluster, "pods", "default", pod_manifest("defaults"))
    spec = created["spec"]
    container = spec["containers"][0]
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert container["terminationMessagePath"] == "/dev/termination-log"
    assert container["terminationMessagePolicy"] == "File"
    assert container["resources"] == {}
    assert (spec["restartPolicy"], spec["dnsPolicy"], spec["schedulerName"]) == ("Always", "ClusterFirst", "default-scheduler")
    assert spec["terminationGracePeriodSeconds"] == 30 and spec["enableServiceLinks"] is True
    assert spec["securityContext"] == {}
    assert (spec["priority"], spec["preemptionPolicy"]) == (0, "PreemptLowerPriority")
    assert created["status"] == {"phase": "Pending", "qosClass": "BestEffort"}
    assert "generation" not in created["metadata"]


def test_pod_update_patch_delete(cluster):
    created = round_trip(cluster, "pods", "default", pod_manifest("lifecycle", nodeName="worker-1"))
    update_patch_delete(cluster, "pods", "default", created)


def test_service_gets_a_cluster_ip_and_defaults(cluster):
    created = round_trip(cluster, "services", "default", {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "api"},
        "spec": {"selector": {"app": "api"}, "ports": [{"port": 8080}]}})
    spec = created["spec"]
    assert ipaddress.ip_address(spec["clusterIP"]) in ipaddress.ip_network("10.96.0.0/12")
    assert spec["clusterIPs"] == [spec["clusterIP"]]
    assert spec["ports"] == [{"port": 8080, "protocol": "TCP", "targetPort": 8080}]
    assert (spec["type"], spec["sessionAffinity"], spec["internalTrafficPolicy"]) == ("ClusterIP", "None", "Cluster")
    assert (spec["ipFamilies"], spec["ipFamilyPolicy"]) == (["IPv4"], "SingleStack")
    assert created["status"] == {"loadBalancer": {}}
    update_patch_delete(cluster, "services", "default", created)


def test_endpoints_and_endpoint_slices_default_their_ports(cluster):
    endpoints = round_trip(cluster, "endpoints", "default", {
        "apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "manual"},
        "subsets": [{"addresses": [{"ip": "10.244.1.5"}], "ports": [{"port": 80}]}]})
    assert endpoints["subsets"][0]["ports"] == [{"port": 80, "protocol": "TCP"}]
    update_patch_delete(cluster, "endpoints", "default", endpoints)
    endpoint_slice = round_trip(cluster, "endpointslices", "default", {
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": {"name": "manual-abc12"},
        "addressType": "IPv4", "endpoints": [{"addresses": ["10.244.1.5"]}], "ports": [{"port": 80}]})
    assert endpoint_slice["ports"] == [{"port": 80, "protocol": "TCP", "name": ""}]
    update_patch_delete(cluster, "endpointslices", "default", endpoint_slice)


def test_core_event_round_trip(cluster):
    created = round_trip(cluster, "events", "default", {
        "apiVersion": "v1", "kind": "Event", "metadata": {"name": "web.1"},
        "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web"},
        "reason": "Testing", "message": "hello", "type": "Normal", "count": 1})
    assert created["involvedObject"]["name"] == "web"
    update_patch_delete(cluster, "events", "default", created)


def test_events_k8s_io_is_a_view_of_the_same_stored_events(cluster):
    code, created = call(cluster, "create", "events.events.k8s.io", namespace="default", body={
        "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "web.2"},
        "regarding": {"kind": "Pod", "namespace": "default", "name": "web"}, "note": "hello there",
        "reason": "Testing", "type": "Normal", "action": "Test", "reportingController": "tester",
        "reportingInstance": "tester-1", "eventTime": "2025-01-01T00:00:30.000000Z"})
    assert code == 201, created
    assert created["apiVersion"] == "events.k8s.io/v1"
    assert created["note"] == "hello there" and created["regarding"]["name"] == "web"
    assert "message" not in created and "involvedObject" not in created
    stored = etcd_kv(cluster, "/registry/events/default/web.2")["value"]
    assert (stored["apiVersion"], stored["message"], stored["reportingComponent"]) == ("v1", "hello there", "tester")
    code, core = call(cluster, "get", "events", namespace="default", name="web.2")
    assert code == 200
    assert (core["apiVersion"], core["message"], core["involvedObject"]["name"]) == ("v1", "hello there", "web")
    code, listed = call(cluster, "list", "events.events.k8s.io", namespace="default")
    assert listed["apiVersion"] == "events.k8s.io/v1"
    assert all(item["apiVersion"] == "events.k8s.io/v1" and "message" not in item for item in listed["items"])
    code, patched = call(cluster, "patch", "events.events.k8s.io", namespace="default", name="web.2",
                         body={"note": "changed"}, params={"patchType": "merge"})
    assert code == 200 and patched["note"] == "changed"
    assert etcd_kv(cluster, "/registry/events/default/web.2")["value"]["message"] == "changed"


def test_namespace_defaults_and_terminating_delete(cluster):
    created = round_trip(cluster, "namespaces", None, {"apiVersion": "v1", "kind": "Namespace",
                                                         "metadata": {"name": "team-a"}})
    assert created["spec"] == {"finalizers": ["kubernetes"]}
    assert created["status"] == {"phase": "Active"}
    assert labels_of(created) == {"kubernetes.io/metadata.name": "team-a"}
    code, terminating = call(cluster, "delete", "namespaces", name="team-a")
    assert code == 200
    assert terminating["status"]["phase"] == "Terminating" and terminating["metadata"]["deletionTimestamp"]


def test_namespace_update_cannot_drop_the_kubernetes_finalizer(cluster):
    code, created = call(cluster, "create", "namespaces", body={"metadata": {"name": "team-b"}})
    assert code == 201
    code, updated = call(cluster, "update", "namespaces", name="team-b",
                         body=dict(created, spec={"finalizers": []}))
    assert code == 200
    assert updated["spec"]["finalizers"] == ["kubernetes"]


def test_node_round_trip_is_tainted_until_ready(cluster):
    code, created = call(cluster, "create", "nodes", body={
        "apiVersion": "v1", "kind": "Node", "metadata": {"name": "extra-node"},
        "status": {"capacity": {"cpu": "2", "memory": "4Gi", "pods": "110"}}})
    assert code == 201
    # TaintNodesByCondition admission; the node lifecycle controller lifts it once it sees the
    # node's conditions (none here), as the real one does.
    assert {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"} in created["spec"]["taints"]
    assert created["status"]["allocatable"] == {"cpu": "2", "memory": "4Gi", "pods": "110"}
    code, deleted = call(cluster, "delete", "nodes", name="extra-node")
    assert code == 200 and deleted["status"] == "Success"
    assert deleted["details"] == {"name": "extra-node", "kind": "nodes", "uid": created["metadata"]["uid"]}


def template(app: str) -> dict:
    return {"metadata": {"labels": {"app": app}},
            "spec": {"containers": [{"name": app, "image": "nginx:1.27"}]}}


def test_deployment_defaults_and_generation(cluster):
    created = round_trip(cluster, "deployments", "default", {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "shop"},
        "spec": {"selector": {"matchLabels": {"app": "shop"}}, "template": template("shop")}})
    spec = created["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}
    assert (spec["revisionHistoryLimit"], spec["progressDeadlineSeconds"]) == (10, 600)
    assert spec["template"]["spec"]["restartPolicy"] == "Always"
    assert "enableServiceLinks" not in spec["template"]["spec"]  # SetDefaults_Pod is for pods only
    assert created["metadata"]["generation"] == 1 and created["status"] == {}
    code, scaled = call(cluster, "patch", "deployments", namespace="default", name="shop",
                        body={"spec": {"replicas": 2}}, params={"patchType": "merge"})
    assert code == 200 and scaled["metadata"]["generation"] == 2
    code, relabelled = call(cluster, "patch", "deployments", namespace="default", name="shop",
                            body={"metadata": {"labels": {"x": "y"}}}, params={"patchType": "merge"})
    assert relabelled["metadata"]["generation"] == 2  # metadata changes are not a new generation
    update_patch_delete(cluster, "deployments", "default", relabelled)


def test_replicaset_status_starts_with_zero_replicas(cluster):
    created = round_trip(cluster, "replicasets", "default", {
        "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "solo"},
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "solo"}}, "template": template("solo")}})
    assert created["status"] == {"replicas": 0}
    assert created["metadata"]["generation"] == 1
    update_patch_delete(cluster, "replicasets", "default", created)


def test_daemonset_defaults(cluster):
    created = round_trip(cluster, "daemonsets", "default", {
        "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
        "spec": {"selector": {"matchLabels": {"app": "agent"}}, "template": template("agent")}})
    spec = created["spec"]
    assert spec["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}
    assert spec["revisionHistoryLimit"] == 10
    assert created["metadata"]["annotations"] == {"deprecated.daemonset.template.generation": "1"}
    assert created["status"] == {"currentNumberScheduled": 0, "numberMisscheduled": 0,
                                 "desiredNumberScheduled": 0, "numberReady": 0}
    update_patch_delete(cluster, "daemonsets", "default", created)


def test_generate_name_appends_five_safe_characters(cluster):
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "cfg-"}}
    names = set()
    for _ in range(3):
        code, created = call(cluster, "create", "configmaps", namespace="default", body=body)
        assert code == 201
        name = created["metadata"]["name"]
        assert name.startswith("cfg-") and len(name) == len("cfg-") + 5
        assert set(name[4:]) <= set("bcdfghjklmnpqrstvwxz2456789")
        assert created["metadata"]["generateName"] == "cfg-"
        names.add(name)
    assert len(names) == 3


def test_update_with_the_wrong_name_is_a_bad_request(cluster):
    code, created = call(cluster, "create", "configmaps", namespace="default",
                         body={"metadata": {"name": "named"}, "data": {}})
    code, status = call(cluster, "update", "configmaps", namespace="default", name="named",
                        body=dict(created, metadata=dict(created["metadata"], name="other")))
    assert code == 400
    assert status["message"] == "the name of the object (other) does not match the name on the URL (named)"


def test_create_twice_is_already_exists(cluster):
    body = {"metadata": {"name": "twice"}, "data": {}}
    assert call(cluster, "create", "configmaps", namespace="default", body=body).code == 201
    code, status = call(cluster, "create", "configmaps", namespace="default", body=body)
    assert code == 409
    assert (status["reason"], status["message"]) == ("AlreadyExists", 'configmaps "twice" already exists')
