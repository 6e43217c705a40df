"""Turns a scenario's topology into machines and components, laid out as kubeadm would."""
from __future__ import annotations

from typing import Any

from .apiserver.admission import DEFAULT_CLUSTER_MAX_PODS
from .apiserver.server import KubeApiServer
from .cloud import CloudProvider
from .cluster import Director
from .controllers.cloud import CloudControllerManager
from .controllers.manager import KubeControllerManager
from .engine import PRIORITY_ACTION, Simulation
from .etcd.member import EtcdMember
from .kubectl import Kubectl
from .network import Network
from .node.kubelet import Kubelet
from .node.proxy import KubeProxy
from .node.runtime import ContainerRuntime
from .scheduler.component import KubeScheduler

KUBERNETES_VERSION = "v1.33.0"
BOOTSTRAP_DEADLINE_MS = 180_000
ETCD_IMAGE = "registry.k8s.io/etcd:3.5.21-0"
CONTROL_PLANE_IMAGES = {
    "etcd": (ETCD_IMAGE, 23_600_000),
    "kube-apiserver": (f"registry.k8s.io/kube-apiserver:{KUBERNETES_VERSION}", 30_100_000),
    "kube-controller-manager": (f"registry.k8s.io/kube-controller-manager:{KUBERNETES_VERSION}", 27_600_000),
    "kube-scheduler": (f"registry.k8s.io/kube-scheduler:{KUBERNETES_VERSION}", 21_800_000),
    "cloud-controller-manager": ("registry.k8s.io/cloud-controller-manager:v1.33.0", 25_000_000),
}
NODE_IMAGES = [
    {"names": [f"registry.k8s.io/kube-proxy:{KUBERNETES_VERSION}"], "sizeBytes": 30_800_000},
    {"names": ["registry.k8s.io/pause:3.10"], "sizeBytes": 320_000},
    {"names": ["registry.k8s.io/coredns/coredns:v1.12.0"], "sizeBytes": 20_900_000},
]
# Control-plane static pods request what kubeadm's manifests request.
STATIC_POD_REQUESTS = {
    "etcd": {"cpu": "100m", "memory": "100Mi"},
    "kube-apiserver": {"cpu": "250m"},
    "kube-controller-manager": {"cpu": "200m"},
    "kube-scheduler": {"cpu": "100m"},
    "cloud-controller-manager": {"cpu": "100m"},
}


def machine_ip(index: int, control_plane: bool) -> str:
    base = 10 if control_plane else 100
    host = base + index
    return f"192.168.{56 + host // 250}.{host % 250 + 1}"


def build_simulation(scenario: Any, seed: int, *, max_pods: int = DEFAULT_CLUSTER_MAX_PODS) -> tuple[Simulation, dict]:
    """``max_pods``: the most pods the cluster's apiservers admit (admission.cluster_pod_limit)."""
    sim = Simulation(seed, scenario.start_epoch_ms)
    network_config = scenario.network or {}
    Network(sim, latency_ms=int(network_config.get("latency_ms", 1)), jitter_ms=int(network_config.get("jitter_ms", 1)),
            loss=float(network_config.get("loss", 0.0)))
    control_plane = scenario.control_plane
    cp_nodes = list(control_plane["nodes"])
    stacked = control_plane["etcd"] == "stacked"
    etcd_members = [f"etcd-{node}" for node in cp_nodes] if stacked else list(control_plane["etcd_members"])
    worker_names = [worker["name"] for worker in scenario.workers]
    apiservers = [f"kube-apiserver-{node}" for node in cp_nodes]
    layout = {"control_plane": cp_nodes, "workers": worker_names, "etcd_members": etcd_members,
              "etcd_mode": control_plane["etcd"], "apiservers": apiservers, "stopped_by_action": {},
              "runtimes": [f"containerd-{node}" for node in cp_nodes + worker_names]}
    sim.add(Director(sim, layout))
    for member in etcd_members:
        machine = member[len("etcd-"):] if stacked else member
        sim.add(EtcdMember(sim, member, machine, etcd_members))
    machines = {}
    for index, node in enumerate(cp_nodes):
        etcd_endpoints = [f"etcd-{node}"] if stacked else etcd_members
        local = [f"kube-apiserver-{node}"]
        apiserver = sim.add(KubeApiServer(sim, f"kube-apiserver-{node}", node, etcd_endpoints, max_pods=max_pods))
        apiserver.advertise_address = machine_ip(index, True)
        sim.add(KubeScheduler(sim, f"kube-scheduler-{node}", node, local))
        sim.add(KubeControllerManager(sim, f"kube-controller-manager-{node}", node, local, {}))
        sim.add(CloudControllerManager(sim, f"cloud-controller-manager-{node}", node, local, {}))
        spec = control_plane["node_specs"][index]
        add_node_agents(sim, control_plane_node_config(spec, index, stacked), apiservers)
        machines[node] = {"exists": True}
    for index, worker in enumerate(scenario.workers):
        add_node_agents(sim, worker_node_config(worker, index), apiservers)
        machines[worker["name"]] = {"exists": True}
    sim.add(CloudProvider(sim, machines))
    sim.add(Kubectl(sim, apiservers))
    schedule_bootstrap(sim, scenario)
    return sim, layout


def add_node_agents(sim: Simulation, node_config: dict, apiservers: list[str]) -> None:
    node = node_config["name"]
    # kubeadm points control-plane kubelets at their local apiserver, workers at the endpoint.
    servers = [f"kube-apiserver-{node}"] if node_config["role"] == "control-plane" else rotate(apiservers, node)
    sim.add(ContainerRuntime(sim, f"containerd-{node}", node))
    sim.add(Kubelet(sim, f"kubelet-{node}", node, servers, node_config))
    sim.add(KubeProxy(sim, f"kube-proxy-{node}", node, servers, node_config["internal_ip"]))


def rotate(names: list[str], key: str) -> list[str]:
    """Spread clients over apiservers the way a load balancer would, deterministically."""
    offset = sum(key.encode()) % len(names)
    return names[offset:] + names[:offset]


def control_plane_node_config(spec: dict, index: int, stacked: bool) -> dict:
    node = spec["name"]
    components = (["etcd"] if stacked else []) + ["kube-apiserver", "kube-controller-manager", "kube-scheduler",
                                                   "cloud-controller-manager"]
    static_pods = []
    for component in components:
        image, _size = CONTROL_PLANE_IMAGES[component]
        static_pods.append({"component": f"{component}-{node}", "pod_name": f"{component}-{node}",
                            "image": image, "requests": STATIC_POD_REQUESTS[component], "tier": component})
    images = NODE_IMAGES + [{"names": [image], "sizeBytes": size} for image, size in
                            (CONTROL_PLANE_IMAGES[c] for c in components)]
    images += [{"names": [image["name"]], "sizeBytes": image["sizeBytes"]} for image in spec.get("images", [])]
    return base_node_config(node, "control-plane", machine_ip(index, True), spec["allocatable"], spec.get("labels", {}),
                            spec.get("taints", []), images, spec.get("zone"), static_pods)


def worker_node_config(worker: dict, index: int) -> dict:
    images = NODE_IMAGES + [{"names": [image["name"]], "sizeBytes": image["sizeBytes"]} for image in worker.get("images", [])]
    return base_node_config(worker["name"], "worker", machine_ip(index, False), worker["allocatable"],
                            worker.get("labels", {}), worker.get("taints", []), images, worker.get("zone"), [])


def base_node_config(name: str, role: str, ip: str, allocatable: dict, labels: dict, taints: list, images: list,
                     zone: str | None, static_pods: list) -> dict:
    return {"name": name, "role": role, "internal_ip": ip, "allocatable": dict(allocatable), "labels": dict(labels),
            "taints": [dict(taint) for taint in taints], "images": images, "zone": zone,
            "runtime": f"containerd-{name}", "static_pods": static_pods, "kubelet_version": KUBERNETES_VERSION,
            "os_image": "Ubuntu 24.04.1 LTS", "kernel_version": "6.8.0-51-generic",
            "container_runtime_version": "containerd://1.7.24"}


def schedule_bootstrap(sim: Simulation, scenario: Any) -> None:
    """kubeadm's add-ons, then the scenario's own objects, applied at time 0 with retries."""
    for manifest in kubeadm_addons():
        sim.schedule(0, PRIORITY_ACTION, "director", "action",
                     {"action": "apply", "object": manifest, "retry_until_ms": BOOTSTRAP_DEADLINE_MS, "source": "bootstrap"})
    node_count = len(scenario.control_plane["nodes"]) + len(scenario.workers)
    for manifest in scenario.objects:
        sim.schedule(0, PRIORITY_ACTION, "director", "action",
                     {"action": "apply", "object": manifest, "retry_until_ms": BOOTSTRAP_DEADLINE_MS, "source": "scenario",
                      "wait_for_ready_nodes": node_count})


def kubeadm_addons() -> list[dict]:
    dns_labels = {"k8s-app": "kube-dns"}
    return [
        {"apiVersion": "apps/v1", "kind": "DaemonSet",
         "metadata": {"name": "kube-proxy", "namespace": "kube-system", "labels": {"k8s-app": "kube-proxy"}},
         "spec": {"selector": {"matchLabels": {"k8s-app": "kube-proxy"}},
                  "template": {"metadata": {"labels": {"k8s-app": "kube-proxy"}},
                               "spec": {"priorityClassName": "system-node-critical", "hostNetwork": True,
                                        "tolerations": [{"operator": "Exists"}],
                                        "containers": [{"name": "kube-proxy",
                                                        "image": f"registry.k8s.io/kube-proxy:{KUBERNETES_VERSION}"}]}}}},
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": "coredns", "namespace": "kube-system", "labels": dns_labels},
         "spec": {"replicas": 2, "selector": {"matchLabels": dns_labels},
                  "template": {"metadata": {"labels": dns_labels},
                               "spec": {"priorityClassName": "system-cluster-critical",
                                        "tolerations": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}],
                                        "containers": [{"name": "coredns", "image": "registry.k8s.io/coredns/coredns:v1.12.0",
                                                        "resources": {"requests": {"cpu": "100m", "memory": "70Mi"},
                                                                      "limits": {"memory": "170Mi"}},
                                                        "ports": [{"name": "dns", "containerPort": 53, "protocol": "UDP"},
                                                                  {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"}]}]}}}},
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": "kube-dns", "namespace": "kube-system", "labels": dns_labels},
         "spec": {"clusterIP": "10.96.0.10", "selector": dns_labels,
                  "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                            {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53}]}},
    ]
