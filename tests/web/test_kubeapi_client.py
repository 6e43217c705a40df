"""The official Python client (kubernetes 37) against a simulated cluster: it checks every response
against the real schema, so objects must carry the fields the real API returns."""
from __future__ import annotations

import pytest
from kubernetes import client, watch

from tests.web.kube_helpers import cluster_fixture

cluster = cluster_fixture(seed=5, speed=10)


@pytest.fixture(scope="module")
def api(cluster):
    configuration = client.Configuration()
    configuration.host = cluster.server
    with client.ApiClient(configuration) as api_client:
        yield api_client


def test_list_and_read(api):
    core = client.CoreV1Api(api)
    nodes = core.list_node()
    assert [node.metadata.name for node in nodes.items] == ["cp-1", "worker-1", "worker-2", "worker-3"]
    assert nodes.items[0].status.node_info.kubelet_version == "v1.33.0"
    pods = core.list_namespaced_pod("kube-system", label_selector="component=etcd")
    assert [pod.metadata.name for pod in pods.items] == ["etcd-cp-1"]
    deployment = client.AppsV1Api(api).read_namespaced_deployment("web", "default")
    assert deployment.spec.replicas == 3 and deployment.status.ready_replicas == 3
    for lister in (core.list_service_for_all_namespaces, core.list_endpoints_for_all_namespaces,
                   core.list_event_for_all_namespaces, core.list_namespace, core.list_service_account_for_all_namespaces,
                   client.AppsV1Api(api).list_replica_set_for_all_namespaces,
                   client.AppsV1Api(api).list_daemon_set_for_all_namespaces,
                   client.CoordinationV1Api(api).list_lease_for_all_namespaces,
                   client.DiscoveryV1Api(api).list_endpoint_slice_for_all_namespaces):
        assert lister().items, lister.__name__


def test_create_patch_delete(api):
    core = client.CoreV1Api(api)
    body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="from-python"), data={"a": "1"})
    created = core.create_namespaced_config_map("default", body)
    assert created.metadata.uid and created.metadata.resource_version
    patched = core.patch_namespaced_config_map("from-python", "default", {"data": {"b": "2"}})
    assert patched.data == {"a": "1", "b": "2"}
    with pytest.raises(client.ApiException) as conflict:
        core.create_namespaced_config_map("default", body)
    assert conflict.value.status == 409
    status = core.delete_namespaced_config_map("from-python", "default")
    assert status["status"] == "Success"  # the client declares delete answers as plain objects
    with pytest.raises(client.ApiException) as missing:
        core.read_namespaced_config_map("from-python", "default")
    assert missing.value.status == 404


def test_scale_through_the_scale_subresource(api):
    apps = client.AppsV1Api(api)
    scale = apps.patch_namespaced_deployment_scale("web", "default", {"spec": {"replicas": 4}})
    assert scale.spec.replicas == 4
    apps.patch_namespaced_deployment_scale("web", "default", {"spec": {"replicas": 3}})


def test_watch_sees_a_new_object_and_bookmarks(api):
    core = client.CoreV1Api(api)
    listed = core.list_namespaced_config_map("default")
    stream = watch.Watch()
    core.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="watched")))
    seen = []
    for event in stream.stream(core.list_namespaced_config_map, "default",
                               resource_version=listed.metadata.resource_version,
                               allow_watch_bookmarks=True, timeout_seconds=3):
        seen.append((event["type"], event["object"].metadata.name if event["type"] != "BOOKMARK" else None))
    assert ("ADDED", "watched") in seen
    assert seen[-1][0] == "BOOKMARK"
