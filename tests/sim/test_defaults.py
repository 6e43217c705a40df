"""Defaulting: what `kubectl get -o yaml` shows after a create on a real v1.33 cluster."""
import copy

import pytest

from cluster_sim.apiserver.defaults import apply_defaults, default_pull_policy, pod_qos_class


def pod(**container):
    base = {"name": "app", "image": "nginx:1.27"}
    base.update(container)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "default"},
            "spec": {"containers": [base]}}


def deployment(**spec):
    body = {"selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                         "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}}
    body.update(spec)
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"}, "spec": body}


def test_pod_spec_defaults():
    result = apply_defaults("pods", pod(ports=[{"containerPort": 80}]))
    spec = result["spec"]
    assert spec["restartPolicy"] == "Always"
    assert spec["dnsPolicy"] == "ClusterFirst"
    assert spec["schedulerName"] == "default-scheduler"
    assert spec["terminationGracePeriodSeconds"] == 30
    assert spec["securityContext"] == {}
    assert spec["enableServiceLinks"] is True
    container = spec["containers"][0]
    assert container["terminationMessagePath"] == "/dev/termination-log"
    assert container["terminationMessagePolicy"] == "File"
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert container["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert container["resources"] == {}
    assert result["status"] == {"phase": "Pending", "qosClass": "BestEffort"}


def test_defaulting_returns_a_new_object():
    original = pod()
    frozen = copy.deepcopy(original)
    apply_defaults("pods", original)
    assert original == frozen


@pytest.mark.parametrize("image, policy", [
    ("nginx", "Always"), ("nginx:latest", "Always"), ("nginx:1.27", "IfNotPresent"),
    ("registry.k8s.io/pause:3.10", "IfNotPresent"), ("localhost:5000/app", "Always"),
    ("localhost:5000/app:v2", "IfNotPresent"), ("busybox@sha256:" + "a" * 64, "IfNotPresent"),
])
def test_image_pull_policy_follows_the_tag(image, policy):
    assert default_pull_policy(image) == policy


def test_explicit_values_are_kept():
    body = pod(imagePullPolicy="Never")
    body["spec"].update(restartPolicy="Never", terminationGracePeriodSeconds=0, dnsPolicy="Default")
    spec = apply_defaults("pods", body)["spec"]
    assert (spec["restartPolicy"], spec["terminationGracePeriodSeconds"], spec["dnsPolicy"]) == ("Never", 0, "Default")
    assert spec["containers"][0]["imagePullPolicy"] == "Never"


def test_limits_become_requests_and_quantities_are_canonical():
    result = apply_defaults("pods", pod(resources={"limits": {"cpu": "0.5", "memory": "1024Mi"},
                                                   "requests": {"memory": "1000"}}))
    resources = result["spec"]["containers"][0]["resources"]
    assert resources["limits"] == {"cpu": "500m", "memory": "1Gi"}
    assert resources["requests"] == {"memory": "1k", "cpu": "500m"}
    assert result["status"]["qosClass"] == "Burstable"


def test_qos_classes():
    guaranteed = {"containers": [{"resources": {"limits": {"cpu": "1", "memory": "1Gi"},
                                                "requests": {"cpu": "1000m", "memory": "1Gi"}}}]}
    assert pod_qos_class(guaranteed) == "Guaranteed"
    assert pod_qos_class({"containers": [{"resources": {"requests": {"cpu": "100m"}}}]}) == "Burstable"
    assert pod_qos_class({"containers": [{}]}) == "BestEffort"


def test_probe_defaults():
    probe = {"httpGet": {"port": 8080}}
    container = apply_defaults("pods", pod(livenessProbe=probe))["spec"]["containers"][0]
    assert container["livenessProbe"] == {"httpGet": {"port": 8080, "path": "/", "scheme": "HTTP"},
                                          "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1,
                                          "failureThreshold": 3}


def test_deployment_defaults():
    result = apply_defaults("deployments", deployment())
    spec = result["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}
    assert spec["revisionHistoryLimit"] == 10
    assert spec["progressDeadlineSeconds"] == 600
    template_spec = spec["template"]["spec"]
    assert template_spec["restartPolicy"] == "Always"
    assert template_spec["containers"][0]["imagePullPolicy"] == "Always"
    # SetDefaults_Pod applies to Pods only, not to templates.
    assert "enableServiceLinks" not in template_spec
    assert result["status"] == {}


def test_recreate_strategy_gets_no_rolling_update():
    spec = apply_defaults("deployments", deployment(strategy={"type": "Recreate"}))["spec"]
    assert spec["strategy"] == {"type": "Recreate"}


def test_replicaset_and_daemonset_defaults():
    rs = apply_defaults("replicasets", dict(deployment(), kind="ReplicaSet"))
    assert rs["spec"]["replicas"] == 1 and "strategy" not in rs["spec"]
    ds_body = deployment()
    ds_body["kind"] = "DaemonSet"
    ds = apply_defaults("daemonsets", ds_body)
    assert ds["spec"]["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}
    assert ds["spec"]["revisionHistoryLimit"] == 10
    assert ds["metadata"]["annotations"]["deprecated.daemonset.template.generation"] == "1"


def test_service_defaults():
    body = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}, {"port": 443, "targetPort": "https"}]}}
    result = apply_defaults("services", body)
    spec = result["spec"]
    assert spec["type"] == "ClusterIP"
    assert spec["sessionAffinity"] == "None"
    assert spec["ports"][0] == {"port": 80, "protocol": "TCP", "targetPort": 80}
    assert spec["ports"][1]["targetPort"] == "https"
    assert spec["internalTrafficPolicy"] == "Cluster"
    assert spec["ipFamilies"] == ["IPv4"] and spec["ipFamilyPolicy"] == "SingleStack"
    assert "externalTrafficPolicy" not in spec
    assert result["status"] == {"loadBalancer": {}}


def test_nodeport_and_loadbalancer_service_defaults():
    body = {"metadata": {"name": "web"}, "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}}
    spec = apply_defaults("services", body)["spec"]
    assert spec["externalTrafficPolicy"] == "Cluster"
    assert spec["allocateLoadBalancerNodePorts"] is True
    client_ip = apply_defaults("services", {"metadata": {"name": "x"}, "spec": {"sessionAffinity": "ClientIP"}})
    assert client_ip["spec"]["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}


def test_namespace_defaults_on_create_and_update():
    created = apply_defaults("namespaces", {"metadata": {"name": "team-a"}})
    assert created["spec"]["finalizers"] == ["kubernetes"]
    assert created["status"] == {"phase": "Active"}
    assert created["metadata"]["labels"] == {"kubernetes.io/metadata.name": "team-a"}
    updated = apply_defaults("namespaces", {"metadata": {"name": "team-a"}, "spec": {"finalizers": []},
                                            "status": {"phase": "Terminating"}}, operation="update")
    assert updated["spec"]["finalizers"] == [] and updated["status"]["phase"] == "Terminating"


def test_update_does_not_reset_pod_status():
    running = apply_defaults("pods", pod())
    running["status"] = {"phase": "Running", "qosClass": "BestEffort"}
    assert apply_defaults("pods", running, operation="update")["status"]["phase"] == "Running"


def test_secret_volume_and_priority_class_defaults():
    assert apply_defaults("secrets", {"metadata": {"name": "s"}})["type"] == "Opaque"
    assert apply_defaults("priorityclasses", {"metadata": {"name": "high"}, "value": 1000})["preemptionPolicy"] == "PreemptLowerPriority"
    body = pod()
    body["spec"]["volumes"] = [{"name": "cache"}, {"name": "cfg", "configMap": {"name": "cfg"}}]
    volumes = apply_defaults("pods", body)["spec"]["volumes"]
    assert volumes == [{"name": "cache", "emptyDir": {}}, {"name": "cfg", "configMap": {"name": "cfg", "defaultMode": 420}}]
