"""Validation: bad manifests produce the field paths and messages a real v1.33 apiserver returns."""
import copy

import pytest

from cluster_sim.apiserver import validation as v
from cluster_sim.apiserver.defaults import apply_defaults

SUBDOMAIN_MESSAGE = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                     "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                     "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")


def pod(name="web", **container):
    base = {"name": "app", "image": "nginx:1.27"}
    base.update(container)
    return apply_defaults("pods", {"apiVersion": "v1", "kind": "Pod",
                                   "metadata": {"name": name, "namespace": "default", "labels": {"app": "web"}},
                                   "spec": {"containers": [base]}})


def deployment(labels=None, selector=None, **spec):
    body = {"replicas": 3, "selector": selector if selector is not None else {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": labels if labels is not None else {"app": "web"}},
                         "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}}
    body.update(spec)
    return apply_defaults("deployments", {"apiVersion": "apps/v1", "kind": "Deployment",
                                          "metadata": {"name": "web", "namespace": "default"}, "spec": body})


def service(**spec):
    body = {"selector": {"app": "web"}, "ports": [{"port": 80}]}
    body.update(spec)
    return apply_defaults("services", {"apiVersion": "v1", "kind": "Service",
                                       "metadata": {"name": "web", "namespace": "default"}, "spec": body})


def stored(obj, resource_version="41"):
    result = copy.deepcopy(obj)
    result["metadata"].update(resourceVersion=resource_version, uid="u-1", creationTimestamp="2025-01-01T00:00:00Z")
    return result


def messages(causes):
    return [f"{cause['field']}: {cause['message']}" for cause in causes]


def test_valid_objects_pass():
    assert v.validate_create("pods", pod()) == []
    assert v.validate_create("deployments", deployment()) == []
    assert v.validate_create("services", service()) == []
    assert v.validate_create("namespaces", apply_defaults("namespaces", {"metadata": {"name": "team-a"}})) == []


def test_pod_name_must_be_a_dns_subdomain():
    causes = v.validate_create("pods", pod(name="Web_1"))
    assert causes == [{"reason": "FieldValueInvalid", "field": "metadata.name",
                       "message": f'Invalid value: "Web_1": {SUBDOMAIN_MESSAGE}'}]


def test_missing_name_and_image():
    body = pod(image="")
    body["metadata"]["name"] = ""
    body["spec"]["containers"][0]["name"] = ""
    assert messages(v.validate_create("pods", body)) == [
        "metadata.name: Required value: name or generateName is required",
        "spec.containers[0].name: Required value",
        "spec.containers[0].image: Required value",
    ]


def test_pod_without_containers():
    body = pod()
    body["spec"]["containers"] = []
    assert messages(v.validate_create("pods", body)) == ["spec.containers: Required value"]


def test_container_checks_in_real_order():
    body = pod(name="web", ports=[{"containerPort": 70000}, {"containerPort": 0, "name": "web_port"}],
               resources={"limits": {"cpu": "1"}, "requests": {"cpu": "1500m"}})
    body["spec"]["containers"].append(copy.deepcopy(body["spec"]["containers"][0]))
    body["spec"]["containers"][1]["resources"] = {}
    body["spec"]["containers"][1]["ports"] = []
    assert messages(v.validate_create("pods", body)) == [
        "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
        'spec.containers[0].ports[1].name: Invalid value: "web_port": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
        "spec.containers[0].ports[1].containerPort: Required value",
        'spec.containers[0].resources.requests: Invalid value: "1500m": must be less than or equal to cpu limit of 1',
        'spec.containers[1].name: Duplicate value: "app"',
    ]


def test_negative_and_unknown_resources():
    body = pod(resources={"requests": {"memory": "-1Gi", "gpu": "1"}})
    assert messages(v.validate_create("pods", body)) == [
        'spec.containers[0].resources.requests[memory]: Invalid value: "-1Gi": must be greater than or equal to 0',
        'spec.containers[0].resources.requests[gpu]: Invalid value: "gpu": must be a standard resource for containers',
    ]


def test_enumerations_report_supported_values():
    body = pod(imagePullPolicy="Sometimes")
    body["spec"]["restartPolicy"] = "Sometimes"
    assert messages(v.validate_create("pods", body)) == [
        'spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"',
        'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
    ]


def test_label_syntax():
    body = pod()
    body["metadata"]["labels"] = {"app": "web!", "-bad": "ok"}
    found = messages(v.validate_create("pods", body))
    assert found[0].startswith('metadata.labels: Invalid value: "web!": a valid label must be an empty string or consist of')
    assert found[1].startswith('metadata.labels: Invalid value: "-bad": name part must consist of alphanumeric characters')
    assert len(found) == 2


def test_volume_mount_must_name_a_volume():
    body = pod(volumeMounts=[{"name": "data", "mountPath": "/data"}])
    assert messages(v.validate_create("pods", body)) == ['spec.containers[0].volumeMounts[0].name: Not found: "data"']


def test_tolerations():
    body = pod()
    body["spec"]["tolerations"] = [{"operator": "Equal", "value": "x"},
                                   {"key": "k", "operator": "Exists", "effect": "NoSchedule", "tolerationSeconds": 5}]
    assert messages(v.validate_create("pods", body)) == [
        'spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, which means "match all values and all keys"',
        "spec.tolerations[1].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set",
    ]


def test_deployment_selector_must_match_template():
    causes = v.validate_create("deployments", deployment(labels={"app": "nginx"}))
    assert causes == [{"reason": "FieldValueInvalid", "field": "spec.template.metadata.labels",
                       "message": 'Invalid value: map[string]string{"app":"nginx"}: `selector` does not match template `labels`'}]
    status = v.invalid_status("apps", "Deployment", "web", causes)
    assert status["message"] == ('Deployment.apps "web" is invalid: spec.template.metadata.labels: Invalid value: '
                                 'map[string]string{"app":"nginx"}: `selector` does not match template `labels`')
    assert status["code"] == 422 and status["reason"] == "Invalid"
    assert status["details"] == {"name": "web", "group": "apps", "kind": "Deployment", "causes": causes}


def test_deployment_spec_errors():
    body = deployment(selector={}, replicas=-1)
    body["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    assert messages(v.validate_create("deployments", body)) == [
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
        "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment",
        'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
    ]


def test_deployment_selector_expressions():
    selector = {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "api"]}]}
    assert v.validate_create("deployments", deployment(selector=selector, labels={"tier": "api"})) == []
    wrong = v.validate_create("deployments", deployment(selector=selector, labels={"tier": "db"}))
    assert [cause["field"] for cause in wrong] == ["spec.template.metadata.labels"]


def test_rolling_update_cannot_be_all_zero():
    body = deployment(strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}})
    assert messages(v.validate_create("deployments", body)) == [
        "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}: "
        "may not be 0 when `maxSurge` is 0"]


def test_deployment_selector_is_immutable():
    old = stored(deployment())
    new = stored(deployment(selector={"matchLabels": {"app": "web2"}}, labels={"app": "web2"}))
    assert messages(v.validate_update("deployments", new, old)) == [
        'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web2"}, '
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"]
    scaled = stored(deployment(replicas=5))
    assert v.validate_update("deployments", scaled, old) == []


def test_pod_spec_is_mostly_immutable():
    old = stored(pod())
    new_image = copy.deepcopy(old)
    new_image["spec"]["containers"][0]["image"] = "nginx:1.28"
    assert v.validate_update("pods", new_image, old) == []
    new_port = copy.deepcopy(old)
    new_port["spec"]["containers"][0]["ports"] = [{"containerPort": 8080, "protocol": "TCP"}]
    causes = v.validate_update("pods", new_port, old)
    assert len(causes) == 1
    assert causes[0]["field"] == "spec" and causes[0]["reason"] == "FieldValueForbidden"
    assert causes[0]["message"].startswith(
        "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
        "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to "
        "existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n")


def test_pod_containers_cannot_be_added_and_tolerations_only_added():
    old = stored(pod())
    old["spec"]["tolerations"] = [{"key": "k", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]
    more = copy.deepcopy(old)
    more["spec"]["containers"].append(dict(more["spec"]["containers"][0], name="sidecar"))
    assert messages(v.validate_update("pods", more, old)) == ["spec.containers: Forbidden: pod updates may not add or remove containers"]
    changed_seconds = copy.deepcopy(old)
    changed_seconds["spec"]["tolerations"][0]["tolerationSeconds"] = 10
    assert v.validate_update("pods", changed_seconds, old) == []
    removed = copy.deepcopy(old)
    removed["spec"]["tolerations"] = []
    assert messages(v.validate_update("pods", removed, old)) == [
        "spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds"]


def test_update_keeps_identity_fields():
    old = stored(pod())
    new = copy.deepcopy(old)
    new["metadata"]["name"] = "other"
    new["metadata"]["uid"] = "u-2"
    assert messages(v.validate_update("pods", new, old)) == [
        'metadata.name: Invalid value: "other": field is immutable',
        'metadata.uid: Invalid value: "u-2": field is immutable',
    ]


def test_service_validation():
    body = service(type="Foo", ports=[{"port": 80}, {"port": 80}])
    body["metadata"]["name"] = "1web"
    assert messages(v.validate_create("services", body)) == [
        "metadata.name: Invalid value: \"1web\": a DNS-1035 label must consist of lower case alphanumeric characters "
        "or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
        "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
        "spec.ports[0].name: Required value",
        "spec.ports[1].name: Required value",
        'spec.type: Unsupported value: "Foo": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
        'spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), '
        'Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
    ]


def test_service_ports_and_types():
    assert messages(v.validate_create("services", service(ports=[]))) == ["spec.ports: Required value"]
    assert v.validate_create("services", service(ports=[], clusterIP="None")) == []
    assert messages(v.validate_create("services", service(ports=[{"port": 0}]))) == [
        "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
        # targetPort was defaulted from port, so the real validator reports it too.
        "spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive"]
    assert messages(v.validate_create("services", service(ports=[{"port": 80, "nodePort": 30080}]))) == [
        "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]


def test_service_cluster_ip_cannot_change():
    old = stored(service(clusterIP="10.96.0.10", clusterIPs=["10.96.0.10"]))
    new = copy.deepcopy(old)
    new["spec"]["clusterIP"], new["spec"]["clusterIPs"] = "10.96.0.11", ["10.96.0.11"]
    assert messages(v.validate_update("services", new, old)) == [
        'spec.clusterIPs[0]: Invalid value: []string{"10.96.0.11"}: may not change once set']


def test_namespace_name_is_a_dns_label():
    causes = v.validate_create("namespaces", apply_defaults("namespaces", {"metadata": {"name": "team.a"}}))
    assert messages(causes) == ['metadata.name: Invalid value: "team.a": must not contain dots']


def test_configmap_keys_and_secret_type_immutable():
    config_map = {"metadata": {"name": "cfg", "namespace": "default"}, "data": {"bad key": "x", "ok.key": "y"}}
    assert messages(v.validate_create("configmaps", config_map)) == [
        "data[bad key]: Invalid value: \"bad key\": a valid config key must consist of alphanumeric characters, '-', "
        "'_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"]
    old = stored(apply_defaults("secrets", {"metadata": {"name": "s", "namespace": "default"}}))
    new = dict(copy.deepcopy(old), type="kubernetes.io/basic-auth")
    assert messages(v.validate_update("secrets", new, old)) == ['type: Invalid value: "kubernetes.io/basic-auth": field is immutable']


def test_priority_class_rules():
    user = {"metadata": {"name": "huge"}, "value": 2000000000, "preemptionPolicy": "PreemptLowerPriority"}
    assert messages(v.validate_create("priorityclasses", user)) == [
        "value: Forbidden: maximum allowed value of a user defined priority is 1000000000"]
    reserved = {"metadata": {"name": "system-mine"}, "value": 10}
    assert messages(v.validate_create("priorityclasses", reserved)) == [
        "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. "
        "error: system-mine is not a known system priority class"]


def test_lease_duration_must_be_positive():
    lease = {"metadata": {"name": "worker-1", "namespace": "kube-node-lease"}, "spec": {"leaseDurationSeconds": 0}}
    assert messages(v.validate_create("leases", lease)) == ["spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"]


def test_invalid_status_aggregates_and_deduplicates():
    causes = [v.required("spec.containers"), v.required("spec.containers"), v.invalid("spec.replicas", -1, "x")]
    status = v.invalid_status("", "Pod", "web", causes)
    assert status["message"] == 'Pod "web" is invalid: [spec.containers: Required value, spec.replicas: Invalid value: -1: x]'
    assert status["details"] == {"name": "web", "kind": "Pod", "causes": causes}
    assert list(status) == ["kind", "apiVersion", "metadata", "status", "message", "reason", "details", "code"]


def test_status_helpers_word_errors_like_apimachinery():
    assert v.not_found("", "pods", "web") == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'pods "web" not found', "reason": "NotFound",
        "details": {"name": "web", "kind": "pods"}, "code": 404}
    assert v.not_found("apps", "deployments", "web")["message"] == 'deployments.apps "web" not found'
    assert v.not_found("apps", "deployments", "web")["details"] == {"name": "web", "group": "apps", "kind": "deployments"}
    assert v.already_exists("", "pods", "web")["message"] == 'pods "web" already exists'
    assert v.already_exists("", "pods", "web")["code"] == 409
    conflict = v.conflict("", "pods", "web")
    assert conflict["message"] == ('Operation cannot be fulfilled on pods "web": the object has been modified; '
                                   "please apply your changes to the latest version and try again")
    assert (conflict["code"], conflict["reason"]) == (409, "Conflict")
    terminating = v.namespace_terminating("", "pods", "x", "foo")
    assert terminating["message"] == ('pods "x" is forbidden: unable to create new content in namespace foo '
                                      "because it is being terminated")
    assert terminating["details"]["causes"] == [{"reason": "NamespaceTerminating",
                                                 "message": "namespace foo is being terminated",
                                                 "field": "metadata.namespace"}]
    assert v.method_not_supported("", "bindings", "get")["message"] == 'get is not supported on resources of kind "bindings"'
    assert v.bad_request("bad")["code"] == 400
    assert "reason" not in v.unknown_error("etcdserver: request timed out")


def test_decode_errors_for_malformed_manifests():
    body = {"spec": {"containers": [{"name": "a", "image": "b", "resources": {"requests": {"cpu": "1 core"}}}]}}
    assert v.decode_error("pods", body)["message"] == (
        "Pod in version \"v1\" cannot be handled as a Pod: quantities must match the regular expression "
        "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
    assert v.decode_error("deployments", {"spec": {"replicas": "3"}})["message"] == (
        'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go '
        "struct field DeploymentSpec.spec.replicas of type int32")
    assert v.decode_error("pods", pod()) is None


@pytest.mark.parametrize("text, canonical", [
    ("0.5", "500m"), ("1000m", "1"), ("1000", "1k"), ("1500m", "1500m"), ("1024Mi", "1Gi"), ("1536Mi", "1536Mi"),
    ("0.5Gi", "512Mi"), ("128974848", "128974848"), ("129e6", "129e6"), ("1e3", "1e3"), ("100Ki", "100Ki"),
    ("0", "0"), ("-1Gi", "-1Gi"), (2, "2"), (0.25, "250m"), ("1.5Ki", "1536"),
])
def test_quantity_canonical_form(text, canonical):
    assert v.canonical_quantity(text) == canonical


@pytest.mark.parametrize("text, error", [
    ("1 core", v.QUANTITY_FORMAT_ERROR), ("", v.QUANTITY_FORMAT_ERROR), ("1Kb", v.QUANTITY_FORMAT_ERROR), ("1iK", v.QUANTITY_SUFFIX_ERROR),
    ("1.2.3", v.QUANTITY_FORMAT_ERROR), ("abc", v.QUANTITY_FORMAT_ERROR),
])
def test_quantity_syntax_errors(text, error):
    with pytest.raises(v.QuantityError) as raised:
        v.parse_quantity(text)
    assert str(raised.value) == error


def test_cpu_rounds_up_to_millicores():
    assert v.canonical_quantity("0.0001", milli_round_up=True) == "1m"
