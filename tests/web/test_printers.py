"""Server-side printing: each printer against hand-written rows in the formats of the real
kube-apiserver (pkg/printers/internalversion/printers.go, v1.33)."""
from __future__ import annotations

import pytest

from cluster_sim.timefmt import parse_time_ms
from web.kubeapi.printers import COLUMNS, table_for, table_for_response

NOW = parse_time_ms("2025-01-01T01:00:00Z")
CREATED = "2025-01-01T00:00:00Z"  # one hour before NOW: AGE 60m


def cells(resource: str, obj: dict, wide: bool = True) -> list:
    table = table_for(resource, [obj], NOW)
    row = table["rows"][0]["cells"]
    if wide:
        return row
    return [cell for cell, column in zip(row, table["columnDefinitions"]) if column["priority"] == 0]


def pod(phase="Running", statuses=None, init_statuses=None, init_containers=None, deletion=None, reason=None,
        conditions=None, containers=1, readiness_gates=None):
    metadata = {"name": "web-1", "namespace": "default", "creationTimestamp": CREATED, "resourceVersion": "7"}
    if deletion:
        metadata["deletionTimestamp"] = deletion
    status = {"phase": phase, "conditions": conditions or [], "containerStatuses": statuses or [],
              "podIPs": [{"ip": "10.244.1.5"}]}
    if init_statuses is not None:
        status["initContainerStatuses"] = init_statuses
    if reason:
        status["reason"] = reason
    spec = {"nodeName": "worker-1", "containers": [{"name": f"c{i}", "image": "nginx"} for i in range(containers)]}
    if init_containers:
        spec["initContainers"] = init_containers
    if readiness_gates:
        spec["readinessGates"] = readiness_gates
    return {"metadata": metadata, "spec": spec, "status": status}


def running(ready=True, restarts=0, last_finished=None, name="c0"):
    status = {"name": name, "ready": ready, "restartCount": restarts, "state": {"running": {"startedAt": CREATED}},
              "lastState": {}}
    if last_finished:
        status["lastState"] = {"terminated": {"exitCode": 1, "finishedAt": last_finished}}
    return status


def waiting(reason, restarts=0, last_finished=None, name="c0"):
    status = {"name": name, "ready": False, "restartCount": restarts, "state": {"waiting": {"reason": reason}},
              "lastState": {}}
    if last_finished:
        status["lastState"] = {"terminated": {"exitCode": 1, "finishedAt": last_finished, "reason": "Error"}}
    return status


def test_table_envelope_and_pod_columns_match_the_real_server() -> None:
    table = table_for("pods", [pod(statuses=[running()])], NOW)
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert table["metadata"] == {"resourceVersion": "7"}
    names = [(c["name"], c["type"], c["format"], c["priority"]) for c in table["columnDefinitions"]]
    assert names == [("Name", "string", "name", 0), ("Ready", "string", "", 0), ("Status", "string", "", 0),
                     ("Restarts", "string", "", 0), ("Age", "string", "", 0), ("IP", "string", "", 1),
                     ("Node", "string", "", 1), ("Nominated Node", "string", "", 1), ("Readiness Gates", "string", "", 1)]
    assert table["columnDefinitions"][0]["description"].startswith("Name must be unique within a namespace.")
    assert table["rows"][0]["cells"] == ["web-1", "1/1", "Running", "0", "60m", "10.244.1.5", "worker-1", "<none>", "<none>"]
    assert table["rows"][0]["object"] == {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                          "metadata": pod()["metadata"]}


def test_include_object_modes_and_list_metadata() -> None:
    obj = pod(statuses=[running()])
    assert table_for("pods", [obj], NOW, include_object="Object")["rows"][0]["object"] is obj
    assert table_for("pods", [obj], NOW, include_object="None")["rows"][0]["object"] is None
    listed = table_for_response("pods", {"items": [obj, obj], "metadata": {"resourceVersion": "99", "continue": "abc",
                                                                           "remainingItemCount": 3}}, NOW)
    assert listed["metadata"] == {"resourceVersion": "99", "continue": "abc", "remainingItemCount": 3}
    assert len(listed["rows"]) == 2
    with pytest.raises(ValueError):
        table_for("pods", [obj], NOW, include_object="Everything")


@pytest.mark.parametrize("obj, expected", [
    (pod(statuses=[running()]), ["1/1", "Running", "0"]),
    (pod(statuses=[running(ready=False)]), ["0/1", "Running", "0"]),
    (pod(phase="Pending", statuses=[waiting("ContainerCreating")]), ["0/1", "ContainerCreating", "0"]),
    (pod(statuses=[waiting("CrashLoopBackOff", restarts=4, last_finished="2025-01-01T00:59:30Z")]),
     ["0/1", "CrashLoopBackOff", "4 (30s ago)"]),
    (pod(phase="Pending", statuses=[waiting("ImagePullBackOff")]), ["0/1", "ImagePullBackOff", "0"]),
    (pod(phase="Succeeded", statuses=[{"name": "c0", "ready": False, "restartCount": 0,
                                       "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]),
     ["0/1", "Completed", "0"]),
    (pod(phase="Failed", statuses=[{"name": "c0", "ready": False, "restartCount": 0,
                                    "state": {"terminated": {"exitCode": 137}}}]), ["0/1", "ExitCode:137", "0"]),
    (pod(statuses=[{"name": "c0", "ready": False, "restartCount": 0, "state": {"terminated": {"exitCode": 0, "signal": 9}}}]),
     ["0/1", "Signal:9", "0"]),
    (pod(statuses=[running()], deletion="2025-01-01T01:00:30Z"), ["1/1", "Terminating", "0"]),
    (pod(statuses=[running()], deletion="2025-01-01T01:00:30Z", reason="NodeLost"), ["1/1", "Unknown", "0"]),
    (pod(phase="Running", statuses=[running()], reason="NodeLost"), ["1/1", "NodeLost", "0"]),
    (pod(phase="Succeeded", statuses=[], deletion="2025-01-01T01:00:30Z"), ["0/1", "Succeeded", "0"]),
    (pod(phase="Pending", conditions=[{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]),
     ["0/1", "SchedulingGated", "0"]),
    (pod(phase="Pending", reason="Evicted"), ["0/1", "Evicted", "0"]),
])
def test_pod_ready_status_and_restarts(obj: dict, expected: list) -> None:
    assert cells("pods", obj)[1:4] == expected


def test_pod_status_during_init_containers() -> None:
    init = [{"name": "setup", "image": "busybox"}, {"name": "migrate", "image": "busybox"}]
    done = {"name": "setup", "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}
    started = {"name": "migrate", "restartCount": 0, "state": {"running": {"startedAt": CREATED}}}
    assert cells("pods", pod(phase="Pending", init_containers=init, init_statuses=[done, started]))[2] == "Init:1/2"
    failed = {"name": "migrate", "restartCount": 2, "state": {"terminated": {"exitCode": 3, "reason": "Error"}},
              "lastState": {"terminated": {"exitCode": 3, "finishedAt": "2025-01-01T00:58:00Z"}}}
    row = cells("pods", pod(phase="Pending", init_containers=init, init_statuses=[done, failed]))
    assert row[2:4] == ["Init:Error", "2 (2m ago)"]
    crash = {"name": "migrate", "restartCount": 1, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}
    assert cells("pods", pod(phase="Pending", init_containers=init, init_statuses=[done, crash]))[2] == "Init:CrashLoopBackOff"
    no_reason = {"name": "migrate", "restartCount": 0, "state": {"terminated": {"exitCode": 2}}}
    assert cells("pods", pod(phase="Pending", init_containers=init, init_statuses=[done, no_reason]))[2] == "Init:ExitCode:2"


def test_sidecar_init_container_counts_in_ready_and_restarts() -> None:
    init = [{"name": "proxy", "image": "envoy", "restartPolicy": "Always"}]
    sidecar = {"name": "proxy", "restartCount": 2, "started": True, "ready": True,
               "state": {"running": {"startedAt": CREATED}},
               "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2025-01-01T00:59:00Z"}}}
    obj = pod(init_containers=init, init_statuses=[sidecar], statuses=[running(restarts=1, last_finished="2025-01-01T00:50:00Z")],
              conditions=[{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}])
    assert cells("pods", obj)[1:4] == ["2/2", "Running", "3 (60s ago)"]


def test_completed_container_next_to_a_running_one_prints_running_or_not_ready() -> None:
    completed = {"name": "c0", "ready": False, "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}
    statuses = [completed, running(name="c1")]
    ready = pod(statuses=statuses, containers=2, conditions=[{"type": "Ready", "status": "True"}])
    assert cells("pods", ready)[1:3] == ["1/2", "Running"]
    assert cells("pods", pod(statuses=statuses, containers=2))[1:3] == ["1/2", "NotReady"]


def test_pod_wide_columns_and_readiness_gates_and_succeeded_condition() -> None:
    obj = pod(statuses=[running()], readiness_gates=[{"conditionType": "www.example.com/feature-1"},
                                                     {"conditionType": "www.example.com/feature-2"}],
              conditions=[{"type": "www.example.com/feature-1", "status": "True"}])
    obj["status"]["nominatedNodeName"] = "worker-2"
    assert cells("pods", obj)[5:] == ["10.244.1.5", "worker-1", "worker-2", "1/2"]
    pending = pod(phase="Pending")
    pending["spec"].pop("nodeName")
    pending["status"]["podIPs"] = []
    assert cells("pods", pending)[5:] == ["<none>", "<none>", "<none>", "<none>"]
    row = table_for("pods", [pod(phase="Succeeded")], NOW)["rows"][0]
    assert row["conditions"] == [{"type": "Completed", "status": "True", "reason": "Succeeded",
                                  "message": "The pod has completed successfully."}]


def node(ready="True", unschedulable=False, labels=None, external_ip=None):
    addresses = [{"type": "InternalIP", "address": "192.168.56.101"}, {"type": "Hostname", "address": "worker-1"}]
    if external_ip:
        addresses.append({"type": "ExternalIP", "address": external_ip})
    conditions = [{"type": "MemoryPressure", "status": "False"}]
    if ready is not None:
        conditions.append({"type": "Ready", "status": ready})
    return {"metadata": {"name": "worker-1", "creationTimestamp": "2024-12-30T01:00:00Z", "labels": labels or {}},
            "spec": {"unschedulable": unschedulable} if unschedulable else {},
            "status": {"conditions": conditions, "addresses": addresses,
                       "nodeInfo": {"kubeletVersion": "v1.33.0", "osImage": "Ubuntu 24.04.1 LTS",
                                    "kernelVersion": "6.8.0-51-generic", "containerRuntimeVersion": "containerd://1.7.24"}}}


@pytest.mark.parametrize("ready, unschedulable, status", [
    ("True", False, "Ready"), ("False", False, "NotReady"), ("Unknown", False, "NotReady"),
    (None, False, "Unknown"), ("True", True, "Ready,SchedulingDisabled"), ("Unknown", True, "NotReady,SchedulingDisabled"),
])
def test_node_status(ready, unschedulable, status) -> None:
    assert cells("nodes", node(ready, unschedulable))[1] == status


def test_node_roles_age_version_and_wide_columns() -> None:
    labels = {"node-role.kubernetes.io/control-plane": "", "node-role.kubernetes.io/etcd": "", "kubernetes.io/role": "edge",
              "node-role.kubernetes.io/": ""}
    assert cells("nodes", node(labels=labels)) == [
        "worker-1", "Ready", "control-plane,edge,etcd", "2d", "v1.33.0", "192.168.56.101", "<none>",
        "Ubuntu 24.04.1 LTS", "6.8.0-51-generic", "containerd://1.7.24"]
    assert cells("nodes", node(external_ip="203.0.113.9"))[2] == "<none>"
    assert cells("nodes", node(external_ip="203.0.113.9"))[6] == "203.0.113.9"


def workload_template(images=("nginx:1.27",)):
    return {"metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": f"c{i}", "image": image} for i, image in enumerate(images)]}}


def test_deployment_replicaset_daemonset_rows() -> None:
    deployment = {"metadata": {"name": "web", "creationTimestamp": CREATED},
                  "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web", "tier": "front"},
                                                       "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "dev"]}]},
                           "template": workload_template(("nginx:1.27", "envoy:1"))},
                  "status": {"readyReplicas": 2, "updatedReplicas": 1, "availableReplicas": 2}}
    assert cells("deployments", deployment) == ["web", "2/3", 1, 2, "60m", "c0,c1", "nginx:1.27,envoy:1",
                                                "app=web,env in (dev,prod),tier=front"]
    assert cells("deployments", {"metadata": {"name": "d"}, "spec": {}, "status": {}})[1:5] == ["0/1", 0, 0, "<unknown>"]
    replicaset = {"metadata": {"name": "web-abc", "creationTimestamp": CREATED},
                  "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": workload_template()},
                  "status": {"replicas": 3, "readyReplicas": 1}}
    assert cells("replicasets", replicaset) == ["web-abc", 3, 3, 1, "60m", "c0", "nginx:1.27", "app=web"]
    daemonset = {"metadata": {"name": "kube-proxy", "creationTimestamp": CREATED},
                 "spec": {"selector": {"matchLabels": {"k8s-app": "kube-proxy"}},
                          "template": {"spec": {"nodeSelector": {"kubernetes.io/os": "linux"},
                                                "containers": [{"name": "kube-proxy", "image": "kp:v1.33.0"}]}}},
                 "status": {"desiredNumberScheduled": 4, "currentNumberScheduled": 4, "numberReady": 3,
                            "updatedNumberScheduled": 4, "numberAvailable": 3}}
    assert cells("daemonsets", daemonset) == ["kube-proxy", 4, 4, 3, 4, 3, "kubernetes.io/os=linux", "60m",
                                              "kube-proxy", "kp:v1.33.0", "k8s-app=kube-proxy"]
    assert [c["name"] for c in COLUMNS["daemonsets"] if c["priority"] == 0] == [
        "Name", "Desired", "Current", "Ready", "Up-to-date", "Available", "Node Selector", "Age"]


def service(service_type="ClusterIP", ports=None, **spec):
    return {"metadata": {"name": "web", "creationTimestamp": CREATED},
            "spec": dict({"type": service_type, "clusterIPs": ["10.96.12.34"], "ports": ports or [
                {"port": 80, "protocol": "TCP"}], "selector": {"app": "web"}}, **spec), "status": {"loadBalancer": {}}}


def test_service_rows() -> None:
    assert cells("services", service()) == ["web", "ClusterIP", "10.96.12.34", "<none>", "80/TCP", "60m", "app=web"]
    node_port = service("NodePort", [{"port": 80, "nodePort": 30080, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}])
    assert cells("services", node_port)[3:5] == ["<none>", "80:30080/TCP,53/UDP"]
    assert cells("services", service("LoadBalancer"))[3] == "<pending>"
    balanced = service("LoadBalancer")
    balanced["status"]["loadBalancer"]["ingress"] = [{"ip": "203.0.113.10"}]
    assert cells("services", balanced)[3] == "203.0.113.10"
    assert cells("services", service(externalIPs=["198.51.100.1"]))[3] == "198.51.100.1"
    external = service("ExternalName", externalName="db.example.com", clusterIPs=[], ports=[])
    external["spec"]["ports"] = []
    assert cells("services", external)[2:5] == ["<none>", "db.example.com", "<none>"]
    headless = service(selector={})
    assert cells("services", headless)[6] == "<none>"


def test_endpoints_and_endpointslices() -> None:
    endpoints = {"metadata": {"name": "web", "creationTimestamp": CREATED}, "subsets": [
        {"addresses": [{"ip": f"10.244.1.{i}"} for i in range(1, 6)], "ports": [{"port": 80, "name": "http"}]}]}
    assert cells("endpoints", endpoints)[1] == "10.244.1.1:80,10.244.1.2:80,10.244.1.3:80 + 2 more..."
    assert cells("endpoints", {"metadata": {"name": "x", "creationTimestamp": CREATED}})[1] == "<none>"
    v6 = {"metadata": {"name": "v6"}, "subsets": [{"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 443}]}]}
    assert cells("endpoints", v6)[1] == "[fd00::1]:443"
    endpoint_slice = {"metadata": {"name": "web-abcde", "creationTimestamp": CREATED}, "addressType": "IPv4",
                      "ports": [{"port": 80, "name": "http"}, {"name": "metrics"}, {}],
                      "endpoints": [{"addresses": ["10.244.1.2"]}, {"addresses": ["10.244.2.3"]}]}
    assert cells("endpointslices", endpoint_slice) == ["web-abcde", "IPv4", "80,metrics,*", "10.244.1.2,10.244.2.3", "60m"]
    empty = {"metadata": {"name": "e"}, "addressType": "IPv4"}
    assert cells("endpointslices", empty)[2:4] == ["<unset>", "<unset>"]


def test_event_row_and_wide_columns() -> None:
    event = {"metadata": {"name": "web-1.181a", "namespace": "default"},
             "involvedObject": {"kind": "Pod", "name": "web-1", "fieldPath": "spec.containers{nginx}"},
             "reason": "BackOff", "message": "Back-off restarting failed container\n", "type": "Warning",
             "source": {"component": "kubelet", "host": "worker-1"},
             "firstTimestamp": "2025-01-01T00:50:00Z", "lastTimestamp": "2025-01-01T00:59:55Z", "count": 7}
    assert cells("events", event) == ["5s", "Warning", "BackOff", "pod/web-1", "spec.containers{nginx}",
                                      "kubelet, worker-1", "Back-off restarting failed container", "10m", 7, "web-1.181a"]
    assert cells("events", event, wide=False) == ["5s", "Warning", "BackOff", "pod/web-1",
                                                  "Back-off restarting failed container"]
    new_style = {"metadata": {"name": "n"}, "involvedObject": {"kind": "Node"}, "reason": "R", "type": "Normal",
                 "eventTime": "2025-01-01T00:59:00.123456Z", "reportingComponent": "node-controller",
                 "series": {"count": 3, "lastObservedTime": "2025-01-01T00:59:50.000000Z"}}
    assert cells("events", new_style) == ["10s", "Normal", "R", "node", "", "node-controller", "", "59s", 3, "n"]


def test_remaining_kinds() -> None:
    meta = {"name": "x", "creationTimestamp": CREATED}
    assert cells("namespaces", {"metadata": meta, "status": {"phase": "Terminating"}}) == ["x", "Terminating", "60m"]
    assert cells("configmaps", {"metadata": meta, "data": {"a": "1", "b": "2"}, "binaryData": {"c": ""}}) == ["x", 3, "60m"]
    assert cells("secrets", {"metadata": meta, "type": "Opaque", "data": {"a": "MQ=="}}) == ["x", "Opaque", 1, "60m"]
    assert cells("serviceaccounts", {"metadata": meta}) == ["x", 0, "60m"]
    assert cells("leases", {"metadata": meta, "spec": {"holderIdentity": "cp-1_abc"}}) == ["x", "cp-1_abc", "60m"]
    assert cells("leases", {"metadata": meta, "spec": {}}) == ["x", "", "60m"]
    assert cells("priorityclasses", {"metadata": meta, "value": 1000, "preemptionPolicy": "Never"}) == [
        "x", 1000, False, "60m", "Never"]
    assert [c["type"] for c in COLUMNS["priorityclasses"]] == ["string", "integer", "boolean", "string", "string"]
    assert cells("bindings", {"metadata": meta}) == ["x", "60m"]


def test_ages_follow_kubectl_human_duration() -> None:
    ages = []
    for created in ("2025-01-01T00:59:58Z", "2025-01-01T00:58:01Z", "2025-01-01T00:55:00Z", "2024-12-31T22:30:00Z",
                    "2024-12-31T00:00:00Z", "2024-12-25T00:00:00Z"):
        ages.append(cells("namespaces", {"metadata": {"name": "n", "creationTimestamp": created}, "status": {}})[2])
    assert ages == ["2s", "119s", "5m", "150m", "25h", "7d1h"]
