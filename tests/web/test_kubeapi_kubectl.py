"""The real kubectl against a simulated cluster served by a live daphne server (/k8s/<secret>)."""
from __future__ import annotations

import json
import re

import pytest
import yaml

from tests.web.kube_helpers import cluster_fixture

# 10x: rollouts, evictions and deletions complete in a few wall-clock seconds.
cluster = cluster_fixture(seed=7, speed=10)

RESOURCES = ["namespaces", "nodes", "pods", "services", "endpoints", "endpointslices", "events", "configmaps",
             "secrets", "serviceaccounts", "leases", "deployments", "replicasets", "daemonsets"]


def test_version_reports_v1_33(cluster):
    server = json.loads(cluster.kubectl("version", "-o", "json").stdout)["serverVersion"]
    assert (server["major"], server["minor"], server["gitVersion"]) == ("1", "33", "v1.33.0")
    assert server["platform"] == "linux/amd64"


def test_api_resources_lists_what_the_simulation_serves(cluster):
    output = cluster.kubectl("api-resources").stdout
    lines = output.splitlines()
    assert lines[0].split() == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    assert re.search(r"^deployments\s+deploy\s+apps/v1\s+true\s+Deployment$", output, re.M)
    assert re.search(r"^nodes\s+no\s+v1\s+false\s+Node$", output, re.M)
    assert re.search(r"^events\s+ev\s+events.k8s.io/v1\s+true\s+Event$", output, re.M)


@pytest.mark.parametrize("resource", RESOURCES)
def test_get_and_describe_every_resource(cluster, resource):
    if resource == "secrets":
        # The simulated cluster starts with none: make one (kubectl sends it as protobuf).
        cluster.kubectl("create", "secret", "generic", "creds", "--from-literal=password=s3cret", check=False)
    listed = cluster.kubectl("get", resource, "-A").stdout
    assert listed.splitlines()[0].startswith("NAMESPACE") or resource in ("namespaces", "nodes")
    names = cluster.kubectl("get", resource, "-A", "-o", "name").stdout.split()
    assert names, f"no {resource} in the cluster"
    first = cluster.json("get", resource, "-A")["items"][0]["metadata"]
    namespace_args = ["-n", first["namespace"]] if "namespace" in first else []
    described = cluster.kubectl("describe", resource, first["name"], *namespace_args).stdout
    assert first["name"] in described
    if resource == "secrets":
        secret = cluster.json("get", "secret", "creds")
        assert secret["data"] == {"password": "czNjcmV0"} and secret["type"] == "Opaque"


def test_get_pods_prints_server_side_columns(cluster):
    output = cluster.kubectl("get", "pods", "-n", "kube-system").stdout
    assert output.splitlines()[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert re.search(r"^etcd-cp-1\s+1/1\s+Running\s+0\s+\d+[smhd][0-9smh]*$", output, re.M)
    wide = cluster.kubectl("get", "pods", "-n", "kube-system", "-o", "wide").stdout
    assert wide.splitlines()[0].split()[5:] == ["IP", "NODE", "NOMINATED", "NODE", "READINESS", "GATES"]


def test_output_formats(cluster):
    node = yaml.safe_load(cluster.kubectl("get", "node", "cp-1", "-o", "yaml").stdout)
    assert node["kind"] == "Node" and node["metadata"]["name"] == "cp-1"
    assert cluster.kubectl("get", "nodes", "-o", "name").stdout.split() == [
        "node/cp-1", "node/worker-1", "node/worker-2", "node/worker-3"]
    path = cluster.kubectl("get", "nodes", "-o", "jsonpath={.items[*].metadata.name}").stdout
    assert path == "cp-1 worker-1 worker-2 worker-3"
    assert cluster.json("get", "deployment", "web")["spec"]["replicas"] == 3


def test_deployment_lifecycle(cluster):
    assert cluster.kubectl("create", "deployment", "shop", "--image=nginx:1.25", "--replicas=2").stdout == \
        "deployment.apps/shop created\n"
    assert cluster.kubectl("expose", "deployment", "shop", "--port=80").stdout == "service/shop exposed\n"
    assert cluster.kubectl("scale", "deployment", "shop", "--replicas=3").stdout == "deployment.apps/shop scaled\n"
    assert cluster.kubectl("set", "image", "deployment/shop", "nginx=nginx:1.26").stdout == \
        "deployment.apps/shop image updated\n"
    status = cluster.kubectl("rollout", "status", "deployment/shop", "--timeout=10m").stdout
    assert status.endswith('deployment "shop" successfully rolled out\n')
    history = cluster.kubectl("rollout", "history", "deployment/shop").stdout
    assert re.search(r"^1\s+<none>$", history, re.M) and re.search(r"^2\s+<none>$", history, re.M)
    assert cluster.kubectl("rollout", "undo", "deployment/shop").stdout == "deployment.apps/shop rolled back\n"
    cluster.kubectl("rollout", "status", "deployment/shop", "--timeout=10m")
    image = cluster.kubectl("get", "deployment", "shop", "-o", "jsonpath={.spec.template.spec.containers[0].image}").stdout
    assert image == "nginx:1.25"
    endpoints = cluster.kubectl("get", "endpoints", "shop").stdout
    assert len(re.findall(r"10\.244\.\d+\.\d+:80", endpoints)) == 3
    assert cluster.kubectl("delete", "deployment", "shop").stdout == 'deployment.apps "shop" deleted\n'
    assert "NotFound" in cluster.kubectl("get", "deployment", "shop", check=False).stderr


def test_apply_creates_then_patches(cluster):
    manifest = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "labels": {"app": "web"}},
                "data": {"mode": "fast"}}
    assert cluster.kubectl("apply", "-f", "-", stdin=yaml.safe_dump(manifest)).stdout == "configmap/settings created\n"
    manifest["data"]["mode"] = "safe"
    assert cluster.kubectl("apply", "-f", "-", stdin=yaml.safe_dump(manifest)).stdout == "configmap/settings configured\n"
    assert cluster.kubectl("apply", "-f", "-", stdin=yaml.safe_dump(manifest)).stdout == "configmap/settings unchanged\n"
    stored = cluster.json("get", "configmap", "settings")
    assert stored["data"] == {"mode": "safe"}
    assert "kubectl.kubernetes.io/last-applied-configuration" in stored["metadata"]["annotations"]


def test_apply_deployment_change_rolls_out(cluster):
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "api"}},
                 "template": {"metadata": {"labels": {"app": "api"}},
                              "spec": {"containers": [{"name": "api", "image": "nginx:1.25"}]}}}}
    assert cluster.kubectl("apply", "-f", "-", stdin=yaml.safe_dump(deployment)).stdout == "deployment.apps/api created\n"
    deployment["spec"]["replicas"] = 2
    deployment["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.26"
    assert cluster.kubectl("apply", "-f", "-", stdin=yaml.safe_dump(deployment)).stdout == \
        "deployment.apps/api configured\n"
    cluster.kubectl("rollout", "status", "deployment/api", "--timeout=10m")
    ready = cluster.kubectl("get", "deployment", "api", "-o", "jsonpath={.status.readyReplicas}").stdout
    assert ready == "2"


def test_label_annotate_and_selectors(cluster):
    assert cluster.kubectl("label", "node", "worker-3", "disk=ssd").stdout == "node/worker-3 labeled\n"
    assert cluster.kubectl("get", "nodes", "-l", "disk=ssd", "-o", "name").stdout == "node/worker-3\n"
    assert cluster.kubectl("annotate", "deployment", "web", "owner=team-a").stdout == "deployment.apps/web annotated\n"
    annotations = cluster.json("get", "deployment", "web")["metadata"]["annotations"]
    assert annotations["owner"] == "team-a"
    running = cluster.kubectl("get", "pods", "-A", "--field-selector", "spec.nodeName=cp-1", "-o", "name").stdout
    assert "pod/etcd-cp-1" in running.split()


def test_cordon_uncordon_and_drain(cluster):
    assert cluster.kubectl("cordon", "worker-1").stdout == "node/worker-1 cordoned\n"
    assert re.search(r"^worker-1\s+Ready,SchedulingDisabled", cluster.kubectl("get", "nodes").stdout, re.M)
    assert cluster.kubectl("uncordon", "worker-1").stdout == "node/worker-1 uncordoned\n"
    drained = cluster.kubectl("drain", "worker-2", "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=10m")
    assert drained.stdout.startswith("node/worker-2 cordoned\n")
    assert drained.stdout.endswith("node/worker-2 drained\n")
    assert "ignoring DaemonSet-managed Pods" in drained.stderr
    left = cluster.kubectl("get", "pods", "-A", "--field-selector", "spec.nodeName=worker-2", "-o", "name").stdout.split()
    assert all(name.startswith("pod/kube-proxy-") for name in left)
    cluster.kubectl("uncordon", "worker-2")


def test_logs_of_a_running_container_are_empty(cluster):
    pod = cluster.kubectl("get", "pods", "-l", "app=web", "-o", "jsonpath={.items[0].metadata.name}").stdout
    result = cluster.kubectl("logs", pod)
    assert result.stdout == ""


def test_get_events_prints_the_event_table(cluster):
    output = cluster.kubectl("get", "events", "-n", "default").stdout
    assert output.splitlines()[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert "ScalingReplicaSet" in output


def test_explain_uses_the_openapi_schemas(cluster):
    output = cluster.kubectl("explain", "deployment.spec.template.spec.containers").stdout
    assert "KIND:       Deployment" in output
    assert re.search(r"^\s+image\s+<string>", output, re.M)


def test_watch_streams_changes(cluster):
    watcher = cluster.popen("get", "pods", "-n", "default", "-l", "app=web", "-w")
    try:
        header = watcher.stdout.readline()
        assert header.split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
        initial = [watcher.stdout.readline() for _ in range(3)]
        assert all(line.startswith("web-") for line in initial)
        cluster.kubectl("scale", "deployment", "web", "--replicas=4")
        seen = set()
        for _line in range(50):
            line = watcher.stdout.readline()
            seen.add(line.split()[0])
            if len(seen - {row.split()[0] for row in initial}) >= 1 and "Running" in line:
                break
        assert seen - {row.split()[0] for row in initial}, "no new pod seen in the watch"
    finally:
        watcher.kill()
        watcher.communicate()
    cluster.kubectl("scale", "deployment", "web", "--replicas=3")


def test_requests_show_in_the_event_stream(cluster):
    seen = []
    listener = seen.extend
    cluster.live.listeners.append(listener)
    try:
        result = cluster.kubectl("get", "configmap", "nothing-here", check=False)
    finally:
        cluster.live.listeners.remove(listener)
    assert result.stderr.strip() == 'Error from server (NotFound): configmaps "nothing-here" not found'
    requests = [event for event in seen if event.kind == "api.request"
                and event.payload.get("resource") == "configmaps" and event.payload.get("name") == "nothing-here"]
    responses = [event for event in seen if event.kind == "api.response" and event.payload.get("code") == 404]
    assert requests and responses
