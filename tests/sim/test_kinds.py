"""The resource table: etcd layout, discovery names and kind lookups as a real v1.33 cluster has them."""
import pytest

from cluster_sim.apiserver import kinds


@pytest.mark.parametrize("resource, namespace, name, key", [
    ("pods", "default", "web", "/registry/pods/default/web"),
    ("services", "default", "web", "/registry/services/specs/default/web"),
    ("endpoints", "default", "web", "/registry/services/endpoints/default/web"),
    ("nodes", None, "worker-1", "/registry/minions/worker-1"),
    ("leases", "kube-node-lease", "worker-1", "/registry/leases/kube-node-lease/worker-1"),
    ("deployments", "default", "web", "/registry/deployments/default/web"),
    ("replicasets", "default", "web-5d4f", "/registry/replicasets/default/web-5d4f"),
    ("daemonsets", "kube-system", "kube-proxy", "/registry/daemonsets/kube-system/kube-proxy"),
    ("endpointslices", "default", "web-abcde", "/registry/endpointslices/default/web-abcde"),
    ("events", "default", "web.17f", "/registry/events/default/web.17f"),
    ("events.events.k8s.io", "default", "web.17f", "/registry/events/default/web.17f"),
    ("configmaps", "default", "cfg", "/registry/configmaps/default/cfg"),
    ("secrets", "default", "s", "/registry/secrets/default/s"),
    ("serviceaccounts", "default", "default", "/registry/serviceaccounts/default/default"),
    ("namespaces", None, "default", "/registry/namespaces/default"),
    ("priorityclasses", None, "system-node-critical", "/registry/priorityclasses/system-node-critical"),
])
def test_etcd_keys_follow_the_real_layout(resource, namespace, name, key):
    info = kinds.RESOURCES[resource]
    assert info.etcd_key(namespace, name) == key
    assert kinds.resource_for_key(key) == ("events" if resource.startswith("events") else resource)


def test_prefixes_list_one_namespace_or_all():
    pods = kinds.RESOURCES["pods"]
    assert pods.etcd_prefix("kube-system") == "/registry/pods/kube-system/"
    assert pods.etcd_prefix(None) == "/registry/pods/"
    assert kinds.RESOURCES["nodes"].etcd_prefix("ignored") == "/registry/minions/"


def test_services_and_endpoints_keys_do_not_shadow_each_other():
    assert kinds.resource_for_key("/registry/services/endpoints/default/kubernetes") == "endpoints"
    assert kinds.resource_for_key("/registry/services/specs/default/kubernetes") == "services"
    assert kinds.resource_for_key("/registry/apiregistration.k8s.io/apiservices/v1.") is None


def test_namespaced_key_requires_namespace_and_bindings_are_not_stored():
    with pytest.raises(ValueError):
        kinds.RESOURCES["pods"].etcd_key(None, "web")
    with pytest.raises(ValueError):
        kinds.RESOURCES["bindings"].etcd_prefix()


def test_discovery_names_match_the_real_api():
    expected_short_names = {"pods": ["po"], "services": ["svc"], "deployments": ["deploy"], "replicasets": ["rs"],
                            "daemonsets": ["ds"], "namespaces": ["ns"], "nodes": ["no"], "endpoints": ["ep"],
                            "configmaps": ["cm"], "serviceaccounts": ["sa"], "events": ["ev"], "priorityclasses": ["pc"],
                            "secrets": [], "leases": [], "endpointslices": []}
    for resource, short_names in expected_short_names.items():
        assert kinds.RESOURCES[resource].short_names == short_names, resource
    in_all = sorted(key for key, info in kinds.RESOURCES.items() if "all" in info.categories)
    assert in_all == ["daemonsets", "deployments", "pods", "replicasets", "services"]
    assert "deletecollection" not in kinds.RESOURCES["namespaces"].verbs
    assert kinds.RESOURCES["bindings"].verbs == ["create"]


def test_qualified_names_used_in_error_messages():
    assert kinds.RESOURCES["deployments"].qualified_resource == "deployments.apps"
    assert kinds.RESOURCES["deployments"].qualified_kind == "Deployment.apps"
    assert kinds.RESOURCES["pods"].qualified_resource == "pods"
    assert kinds.RESOURCES["leases"].api_version == "coordination.k8s.io/v1"


def test_resource_for_kind_distinguishes_groups():
    assert kinds.resource_for_kind("v1", "Event").key == "events"
    assert kinds.resource_for_kind("events.k8s.io/v1", "Event").key == "events.events.k8s.io"
    assert kinds.resource_for_kind("apps/v1", "Deployment").plural == "deployments"
    assert kinds.resource_for_kind("extensions/v1beta1", "Deployment") is None
    assert kinds.resource_for_kind("v1", "Binding").plural == "bindings"


def test_subresources_carry_their_own_group():
    eviction = kinds.subresource_info("pods", "eviction")
    assert (eviction.api_version, eviction.kind) == ("policy/v1", "Eviction")
    scale = kinds.subresource_info("deployments", "scale")
    assert (scale.api_version, scale.kind, scale.verbs) == ("autoscaling/v1", "Scale", ["get", "patch", "update"])
    assert kinds.subresource_info("pods", "binding").kind == "Binding"


@pytest.mark.parametrize("typed, expected", [
    ("po", "pods"), ("pod", "pods"), ("Pods", "pods"), ("deploy", "deployments"),
    ("deployments.apps", "deployments"), ("ev", "events"), ("events.events.k8s.io", "events.events.k8s.io"),
    ("svc", "services"), ("no", "nodes"), ("pc", "priorityclasses"),
])
def test_lookup_resource_resolves_what_users_type(typed, expected):
    assert kinds.lookup_resource(typed).key == expected


def test_lookup_unknown_resource():
    assert kinds.lookup_resource("statefulsets") is None
