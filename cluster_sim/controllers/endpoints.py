"""endpoint-controller (pkg/controller/endpoint): one Endpoints object per Service with a selector.

Ready pods go to `addresses`, the others to `notReadyAddresses` (all of them ready when the Service
publishes not-ready addresses); pods without an IP, finished or being deleted are left out.
"""
from __future__ import annotations

from typing import Any

from .base import Controller
from .helpers import is_pod_ready, is_terminating, key_of, pod_phase, split_key

LAST_CHANGE_ANNOTATION = "endpoints.kubernetes.io/last-change-trigger-time"
SKIP_MIRROR_LABEL = "endpointslice.kubernetes.io/skip-mirror"
HEADLESS_LABEL = "service.kubernetes.io/headless"


def service_selects(service: dict, pod: dict) -> bool:
    selector = (service.get("spec") or {}).get("selector") or {}
    if not selector or pod["metadata"].get("namespace") != service["metadata"].get("namespace"):
        return False
    labels = pod["metadata"].get("labels") or {}
    return all(labels.get(k) == v for k, v in selector.items())


def should_pod_be_in_endpoints(pod: dict, include_terminating: bool) -> bool:
    """endpointsliceutil.ShouldPodBeInEndpoints."""
    if not (pod.get("status") or {}).get("podIP"):
        return False
    if not include_terminating and is_terminating(pod):
        return False
    phase = pod_phase(pod)
    restart_policy = pod["spec"].get("restartPolicy", "Always")
    if phase == "Failed" or (phase == "Succeeded" and restart_policy != "Always"):
        return False
    return True


def resolve_target_port(service_port: dict, pod: dict) -> int | None:
    """podutil.FindPort: a number, or a named container port of the pod."""
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    for container in pod["spec"].get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == target and port.get("protocol", "TCP") == service_port.get("protocol", "TCP"):
                return port.get("containerPort")
    return None


def endpoint_ports(service: dict, pod: dict) -> list:
    ports = []
    for service_port in (service.get("spec") or {}).get("ports") or []:
        number = resolve_target_port(service_port, pod)
        if number is None:
            continue
        port = {"port": number, "protocol": service_port.get("protocol", "TCP")}
        if service_port.get("name"):
            port["name"] = service_port["name"]
        if service_port.get("appProtocol"):
            port["appProtocol"] = service_port["appProtocol"]
        ports.append(port)
    return ports


def pod_target_ref(pod: dict) -> dict:
    return {"kind": "Pod", "namespace": pod["metadata"]["namespace"], "name": pod["metadata"]["name"],
            "uid": pod["metadata"].get("uid")}


class ServicePodsController(Controller):
    """Shared event routing of the Endpoints and EndpointSlice controllers: a change to a Service
    or to a pod it selects queues the Service."""

    own_informer = ""

    def on_event(self, mgr: Any, informer: str, event_type: str, obj: dict, old: dict | None) -> None:
        if informer == "services":
            self.enqueue(mgr, key_of(obj))
        elif informer == "pods":
            self.enqueue_services_of(mgr, obj, old)
        elif informer == self.own_informer:
            self.on_own_event(mgr, event_type, obj)

    def on_own_event(self, mgr: Any, event_type: str, obj: dict) -> None:
        pass

    def enqueue_services_of(self, mgr: Any, pod: dict, old: dict | None) -> None:
        namespace = pod["metadata"]["namespace"]
        prefix = namespace + "/"
        for key, service in mgr.store("services").items():
            if key.startswith(prefix) and (service_selects(service, pod) or (old is not None and service_selects(service, old))):
                self.enqueue(mgr, key)

    def selected_pods(self, mgr: Any, service: dict) -> list:
        pods = [pod for pod in mgr.pods_in_namespace(service["metadata"]["namespace"]) if service_selects(service, pod)]
        return sorted(pods, key=lambda pod: pod["metadata"]["name"])


class EndpointsController(ServicePodsController):
    name = "endpoints-controller"
    event_source = "endpoint-controller"
    informers = ("services", "pods", "endpoints")
    own_informer = "endpoints"

    def on_own_event(self, mgr: Any, event_type: str, obj: dict) -> None:
        if event_type == "DELETED" and mgr.get("services", key_of(obj)) is not None:
            self.enqueue(mgr, key_of(obj))

    def sync(self, mgr: Any, key: str) -> None:
        namespace, name = split_key(key)
        service = mgr.get("services", key)
        current = mgr.get("endpoints", key)
        if service is None:
            if current is not None and (current["metadata"].get("labels") or {}).get(SKIP_MIRROR_LABEL) == "true":
                self.request(mgr, key, "delete", "endpoints", namespace=namespace, name=name)
            return
        if not (service.get("spec") or {}).get("selector"):
            return
        subsets = self.subsets(mgr, service)
        labels = dict(service["metadata"].get("labels") or {}, **{SKIP_MIRROR_LABEL: "true"})
        if (service.get("spec") or {}).get("clusterIP") == "None":
            labels[HEADLESS_LABEL] = ""
        if current is not None and (current.get("subsets") or []) == subsets and \
                (current["metadata"].get("labels") or {}) == labels:
            return
        metadata = {"name": name, "namespace": namespace, "labels": labels,
                    "annotations": {LAST_CHANGE_ANNOTATION: mgr.now_text()}}
        self.emit_sync(mgr, key, "update endpoints", sum(len(s.get("addresses", [])) for s in subsets))
        if current is None:
            self.request(mgr, key, "create", "endpoints", namespace=namespace,
                         body={"apiVersion": "v1", "kind": "Endpoints", "metadata": metadata, "subsets": subsets})
            return
        body = dict(current, subsets=subsets,
                    metadata=dict(current["metadata"], labels=labels,
                                  annotations=dict(current["metadata"].get("annotations") or {}, **metadata["annotations"])))
        self.request(mgr, key, "update", "endpoints", namespace=namespace, name=name, body=body)

    def subsets(self, mgr: Any, service: dict) -> list:
        """Addresses grouped by their port list (one subset per distinct list), sorted by IP."""
        publish = bool((service.get("spec") or {}).get("publishNotReadyAddresses"))
        headless = (service.get("spec") or {}).get("clusterIP") == "None"
        groups: dict[str, dict] = {}
        for pod in self.selected_pods(mgr, service):
            if not should_pod_be_in_endpoints(pod, publish):
                continue
            ports = endpoint_ports(service, pod)
            if not ports and not headless:
                continue
            address = {"ip": pod["status"]["podIP"], "targetRef": pod_target_ref(pod)}
            if pod["spec"].get("nodeName"):
                address["nodeName"] = pod["spec"]["nodeName"]
            if headless and pod["spec"].get("hostname"):
                address["hostname"] = pod["spec"]["hostname"]
            group = groups.setdefault(repr(ports), {"ports": ports, "addresses": [], "notReadyAddresses": []})
            field = "addresses" if publish or is_pod_ready(pod) else "notReadyAddresses"
            group[field].append(address)
        subsets = []
        for group in groups.values():
            subset = {}
            for field in ("addresses", "notReadyAddresses"):
                if group[field]:
                    subset[field] = sorted(group[field], key=lambda a: _ip_sort_key(a["ip"]))
            if group["ports"]:
                subset["ports"] = group["ports"]
            subsets.append(subset)
        return subsets


def _ip_sort_key(ip: str) -> list:
    parts = ip.split(".")
    if len(parts) == 4 and all(part.isdigit() for part in parts):
        return [0] + [int(part) for part in parts]
    return [1, ip]
