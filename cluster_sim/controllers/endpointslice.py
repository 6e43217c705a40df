"""endpointslice-controller (pkg/controller/endpointslice): EndpointSlices for Services with a selector.

Endpoints are grouped by their resolved port list, at most 100 per slice; existing slices keep
their endpoints where possible and new ones are named `<service>-<5 random chars>` by the
apiserver (generateName). Terminating pods stay listed with `terminating: true` (and
`serving` as their readiness). A Service with no endpoints keeps one empty placeholder slice.
A tracker of the slices this controller wrote stops it acting on a stale informer.
"""
from __future__ import annotations

from typing import Any

from .endpoints import (LAST_CHANGE_ANNOTATION, ServicePodsController, endpoint_ports, is_pod_ready,
                        pod_target_ref, should_pod_be_in_endpoints)
from .helpers import ZONE_LABEL, is_terminating, owner_reference, split_key

MAX_ENDPOINTS_PER_SLICE = 100
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MANAGED_BY = "endpointslice-controller.k8s.io"
STALE_RETRY_MS = 1_000


def slice_key(ports: list) -> str:
    return repr(sorted([p.get("name", ""), p["port"], p.get("protocol", "TCP")] for p in ports))


class EndpointSliceController(ServicePodsController):
    name = "endpointslice-controller"
    event_source = "endpoint-slice-controller"
    informers = ("services", "pods", "endpointslices", "nodes")
    own_informer = "endpointslices"

    def __init__(self, config: dict | None = None) -> None:
        super().__init__(config)
        # service key -> {slice name: resourceVersion this controller wrote, or "deleted"}
        self.tracker: dict[str, dict[str, str]] = {}

    def on_event(self, mgr: Any, informer: str, event_type: str, obj: dict, old: dict | None) -> None:
        if informer == "nodes":
            return
        super().on_event(mgr, informer, event_type, obj, old)

    def on_own_event(self, mgr: Any, event_type: str, obj: dict) -> None:
        service_name = (obj["metadata"].get("labels") or {}).get(SERVICE_NAME_LABEL)
        if service_name and (obj["metadata"].get("labels") or {}).get(MANAGED_BY_LABEL) == MANAGED_BY:
            self.enqueue(mgr, f"{obj['metadata']['namespace']}/{service_name}")

    def owned_slices(self, mgr: Any, service_key: str) -> list:
        namespace, name = split_key(service_key)
        found = []
        for key, item in mgr.store("endpointslices").items():
            labels = item["metadata"].get("labels") or {}
            if key.startswith(namespace + "/") and labels.get(SERVICE_NAME_LABEL) == name \
                    and labels.get(MANAGED_BY_LABEL) == MANAGED_BY:
                found.append(item)
        return sorted(found, key=lambda item: item["metadata"]["name"])

    def stale(self, mgr: Any, key: str, slices: list) -> bool:
        """endpointSliceTracker.StaleSlices: our own last writes are not in the informer yet."""
        tracked = self.tracker.get(key)
        if not tracked:
            return False
        seen = {item["metadata"]["name"]: int(item["metadata"].get("resourceVersion", "0")) for item in slices}
        for name, version in list(tracked.items()):
            if version == "deleted" and name not in seen:
                del tracked[name]
            elif version != "deleted" and seen.get(name, -1) >= int(version):
                del tracked[name]
        return bool(tracked)

    def sync(self, mgr: Any, key: str) -> None:
        namespace, name = split_key(key)
        service = mgr.get("services", key)
        slices = self.owned_slices(mgr, key)
        if self.stale(mgr, key, slices):
            self.enqueue_after(mgr, key, STALE_RETRY_MS)
            return
        if service is None or not (service.get("spec") or {}).get("selector"):
            # The garbage collector removes the slices of a deleted Service (owner references).
            return
        desired = self.desired_groups(mgr, service)
        self.reconcile(mgr, key, service, slices, desired)

    def desired_groups(self, mgr: Any, service: dict) -> dict:
        """Port-list key -> {"ports", "endpoints": {address: endpoint}}."""
        publish = bool((service.get("spec") or {}).get("publishNotReadyAddresses"))
        groups: dict[str, dict] = {}
        for pod in self.selected_pods(mgr, service):
            if not should_pod_be_in_endpoints(pod, True):
                continue
            ports = endpoint_ports(service, pod)
            group = groups.setdefault(slice_key(ports), {"ports": ports, "endpoints": {}})
            endpoint = self.endpoint_for(mgr, pod, publish)
            group["endpoints"][endpoint["addresses"][0]] = endpoint
        return groups

    def endpoint_for(self, mgr: Any, pod: dict, publish: bool) -> dict:
        terminating = is_terminating(pod)
        serving = publish or is_pod_ready(pod)
        endpoint = {"addresses": [pod["status"]["podIP"]],
                    "conditions": {"ready": serving and not terminating, "serving": serving,
                                   "terminating": terminating},
                    "targetRef": pod_target_ref(pod)}
        node_name = pod["spec"].get("nodeName")
        if node_name:
            endpoint["nodeName"] = node_name
            node = mgr.get("nodes", node_name)
            zone = ((node or {}).get("metadata", {}).get("labels") or {}).get(ZONE_LABEL)
            if zone:
                endpoint["zone"] = zone
        return endpoint

    def reconcile(self, mgr: Any, key: str, service: dict, slices: list, desired: dict) -> None:
        writes: list = []
        kept_names: dict[str, bool] = {}
        for group_key, group in desired.items():
            existing = [s for s in slices if slice_key(s.get("ports") or []) == group_key]
            writes.extend(self.fill(service, existing, group, kept_names))
        leftover = [s for s in slices if s["metadata"]["name"] not in kept_names]
        if not desired and slices:
            # Keep one (emptied) placeholder slice.
            placeholder = leftover.pop(0) if leftover else None
            if placeholder is not None and placeholder.get("endpoints"):
                writes.append(["update", dict(placeholder, endpoints=[])])
        elif not desired:
            writes.append(["create", self.new_slice(service, [], [])])
        for item in leftover:
            writes.append(["delete", item])
        self.write(mgr, key, service, writes)

    def fill(self, service: dict, existing: list, group: dict, kept_names: dict) -> list:
        """Keep endpoints in the slice holding them, add the rest where there is room."""
        remaining = dict(group["endpoints"])
        writes, contents = [], []
        for item in existing:
            endpoints = []
            for endpoint in item.get("endpoints") or []:
                address = endpoint["addresses"][0]
                if address in remaining:
                    endpoints.append(remaining.pop(address))
            contents.append([item, endpoints])
        for item, endpoints in contents:
            for address in list(remaining)[: max(MAX_ENDPOINTS_PER_SLICE - len(endpoints), 0)]:
                endpoints.append(remaining.pop(address))
        for item, endpoints in contents:
            if not endpoints:
                continue
            kept_names[item["metadata"]["name"]] = True
            if endpoints != (item.get("endpoints") or []) or item.get("ports") != group["ports"]:
                writes.append(["update", dict(item, endpoints=endpoints, ports=group["ports"])])
        addresses = list(remaining)
        for start in range(0, len(addresses), MAX_ENDPOINTS_PER_SLICE):
            chunk = [remaining[address] for address in addresses[start:start + MAX_ENDPOINTS_PER_SLICE]]
            writes.append(["create", self.new_slice(service, group["ports"], chunk)])
        return writes

    def new_slice(self, service: dict, ports: list, endpoints: list) -> dict:
        name = service["metadata"]["name"]
        labels = dict(service["metadata"].get("labels") or {})
        labels.update({SERVICE_NAME_LABEL: name, MANAGED_BY_LABEL: MANAGED_BY})
        return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": {"generateName": f"{name}-", "namespace": service["metadata"]["namespace"],
                             "labels": labels, "ownerReferences": [owner_reference(service)]},
                "addressType": "IPv4", "endpoints": endpoints, "ports": ports}

    def write(self, mgr: Any, key: str, service: dict, writes: list) -> None:
        namespace = service["metadata"]["namespace"]
        if writes:
            self.emit_sync(mgr, key, "update endpoint slices", len(writes))
        for verb, item in writes:
            if verb == "delete":
                self.tracker.setdefault(key, {})[item["metadata"]["name"]] = "deleted"
                self.request(mgr, key, "delete", "endpointslices", namespace=namespace, name=item["metadata"]["name"])
                continue
            body = dict(item, metadata=dict(item["metadata"], annotations=dict(
                item["metadata"].get("annotations") or {}, **{LAST_CHANGE_ANNOTATION: mgr.now_text()})))
            name = None if verb == "create" else item["metadata"]["name"]
            self.request(mgr, key, verb, "endpointslices", namespace=namespace, name=name, body=body, tag="written")

    def result_written(self, mgr: Any, context: dict, code: int, body: Any) -> bool | None:
        if 200 <= code < 300 and isinstance(body, dict):
            self.tracker.setdefault(context["key"], {})[body["metadata"]["name"]] = body["metadata"]["resourceVersion"]
        return None

