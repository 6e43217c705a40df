"""kube-proxy: service traffic goes only to ready endpoints, uniformly; rules outlive the API."""
from __future__ import annotations

from collections import Counter

from tests.sim.test_node_helpers import NodeCluster


def service(name: str, cluster_ip: str, **spec: object) -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "default"},
            "spec": dict({"clusterIP": cluster_ip, "selector": {"app": name},
                          "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]}, **spec)}


def endpoint_slice(name: str, endpoints: list[list]) -> dict:
    """endpoints: [ip, pod, ready, terminating]."""
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": f"{name}-abcde", "namespace": "default",
                         "labels": {"kubernetes.io/service-name": name}},
            "addressType": "IPv4", "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
            "endpoints": [{"addresses": [ip], "nodeName": "worker-1",
                           "targetRef": {"kind": "Pod", "namespace": "default", "name": pod},
                           "conditions": {"ready": ready, "serving": ready or terminating, "terminating": terminating}}
                          for ip, pod, ready, terminating in endpoints]}


def routes(cluster: NodeCluster, since_ms: int) -> list:
    return [event.payload for event in cluster.events_of("proxy.route", since_ms)]


def send(cluster: NodeCluster, count: int, **payload: object) -> None:
    proxy = cluster.sim.components["kube-proxy-worker-1"]
    for _ in range(count):
        proxy.on_service_request(dict({"service": "default/web", "client": "curl"}, **payload))
    cluster.run_for(10)


def test_requests_are_spread_over_ready_endpoints_only():
    cluster = NodeCluster(seed=21)
    cluster.create("services", service("web", "10.96.0.50"))
    cluster.create("endpointslices", endpoint_slice("web", [["10.244.1.5", "web-a", True, False],
                                                            ["10.244.1.6", "web-b", True, False],
                                                            ["10.244.1.7", "web-c", False, False]]))
    cluster.run_for(2_000)
    start = cluster.sim.now_ms
    send(cluster, 600)
    hits = Counter(route["pod"] for route in routes(cluster, start))
    assert set(hits) == {"web-a", "web-b"}
    assert all(250 <= count <= 350 for count in hits.values()), hits
    first = routes(cluster, start)[0]
    assert first["clusterIP"] == "10.96.0.50" and first["endpoint"].endswith(":8080") and first["node"] == "worker-1"


def test_service_without_ready_endpoints_is_rejected():
    cluster = NodeCluster(seed=22)
    cluster.create("services", service("web", "10.96.0.51"))
    cluster.run_for(2_000)
    start = cluster.sim.now_ms
    send(cluster, 1)
    rejects = [event.payload for event in cluster.events_of("proxy.reject", start)]
    assert rejects and rejects[0]["reason"] == "default/web:http has no endpoints"


def test_terminating_endpoints_serve_only_when_none_is_ready():
    cluster = NodeCluster(seed=23)
    cluster.create("services", service("web", "10.96.0.52"))
    cluster.create("endpointslices", endpoint_slice("web", [["10.244.1.8", "web-old", False, True]]))
    cluster.run_for(2_000)
    start = cluster.sim.now_ms
    send(cluster, 5)
    assert {route["pod"] for route in routes(cluster, start)} == {"web-old"}


def test_rules_keep_working_while_the_apiserver_is_down():
    cluster = NodeCluster(seed=24)
    cluster.create("services", service("web", "10.96.0.53"))
    cluster.create("endpointslices", endpoint_slice("web", [["10.244.1.9", "web-a", True, False]]))
    cluster.run_for(2_000)
    cluster.sim.components["kube-apiserver-cp-1"].stop()
    cluster.run_for(120_000)
    start = cluster.sim.now_ms
    send(cluster, 3)
    assert [route["pod"] for route in routes(cluster, start)] == ["web-a", "web-a", "web-a"]


def test_client_ip_affinity_sticks_to_one_endpoint():
    cluster = NodeCluster(seed=25)
    cluster.create("services", service("web", "10.96.0.54", sessionAffinity="ClientIP"))
    cluster.create("endpointslices", endpoint_slice("web", [[f"10.244.1.{i}", f"web-{i}", True, False]
                                                            for i in range(10, 15)]))
    cluster.run_for(2_000)
    start = cluster.sim.now_ms
    send(cluster, 50, client="10.0.0.7")
    assert len({route["pod"] for route in routes(cluster, start)}) == 1


def test_rules_are_reprogrammed_at_most_once_per_second():
    cluster = NodeCluster(seed=26)
    start = cluster.sim.now_ms
    for index in range(5):
        cluster.create("services", service(f"svc-{index}", f"10.96.1.{index + 1}"))
    cluster.run_for(3_000)
    syncs = [event.time_ms for event in cluster.events_of("proxy.sync", start)]
    assert syncs and all(later - earlier >= 1_000 for earlier, later in zip(syncs, syncs[1:]))
    assert cluster.events_of("proxy.sync", start)[-1].payload["services"] >= 5
