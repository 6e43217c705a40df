"""kube-proxy in iptables mode: Services and EndpointSlices in, a table of forwarding rules out.

It watches Services and EndpointSlices and "programs" plain-data rules: for every service port
`clusterIP:port` (and its nodePort), the endpoints traffic may go to. Like kube-proxy v1.33 it
uses the ready endpoints, falls back to serving-but-terminating ones when none is ready, keeps
only this node's endpoints for `internalTrafficPolicy: Local`, and reprograms at most once per
second (`minSyncPeriod` 1 s). A request picks an endpoint uniformly at random (iptables'
`statistic --mode random` chain), honours `sessionAffinity: ClientIP`, and is rejected with
"<service port> has no endpoints" when there is none.

The rules live in the kernel: they keep working when the API is unreachable or kube-proxy itself
stops, and vanish only when the machine goes down.
"""
from __future__ import annotations

from typing import Any

from ..client import ApiComponent

MIN_SYNC_MS = 1_000
DEFAULT_AFFINITY_TIMEOUT_S = 10_800
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MAX_AFFINITY_ENTRIES = 10_000


class KubeProxy(ApiComponent):
    kind = "kube-proxy"

    def __init__(self, sim: Any, name: str, node: str, api_servers: list[str], node_ip: str):
        super().__init__(sim, name, node, api_servers, "kube-proxy/v1.33.0 (linux/amd64) kubernetes/8adc0f0")
        self.node_ip = node_ip
        # The programmed iptables rules: "ns/name:port" -> rule; nodePort -> "ns/name:port".
        self.rules: dict[str, dict] = {}
        self.node_ports: dict[str, str] = {}
        # The `recent` module's memory for ClientIP affinity: "client|rule" -> {"endpoint", "last_ms"}.
        self.affinity: dict[str, dict] = {}
        self.last_sync_ms = -MIN_SYNC_MS
        self.sync_armed = False
        self.after(0, "boot", None)

    def on_boot(self, _payload: Any) -> None:
        self.api.add_informer("services", "services")
        self.api.add_informer("endpointslices", "endpointslices")
        self.api.start_informers()

    def on_start(self) -> None:
        self.after(0, "boot", None)

    def on_stop(self) -> None:
        super().on_stop()
        self.sync_armed = False
        if self.sim.network.machines_down.get(self.node or "", False):
            self.rules = {}
            self.node_ports = {}
            self.affinity = {}

    # Watching -----------------------------------------------------------------------------------
    def on_informer_event(self, _informer: str, _event_type: str, _obj: dict, _old: dict | None) -> None:
        if self.api.all_synced():
            self.request_sync()

    def on_informers_synced(self) -> None:
        self.request_sync()

    def request_sync(self) -> None:
        """BoundedFrequencyRunner: run soon, but not more often than minSyncPeriod."""
        if self.sync_armed:
            return
        self.sync_armed = True
        self.after(max(0, self.last_sync_ms + MIN_SYNC_MS - self.sim.now_ms), "sync_rules", None)

    def on_sync_rules(self, _payload: Any) -> None:
        self.sync_armed = False
        self.last_sync_ms = self.sim.now_ms
        rules, node_ports = self.compile_rules()
        if rules == self.rules and node_ports == self.node_ports:
            return
        self.rules = rules
        self.node_ports = node_ports
        endpoints = sum(len(rule["endpoints"]) for rule in rules.values())
        self.emit("proxy.sync", self.node or "", {"node": self.node, "services": len(rules), "endpoints": endpoints})

    # Rules --------------------------------------------------------------------------------------
    def compile_rules(self) -> list:
        services = self.api.informers["services"].store
        slices_by_service: dict[str, list] = {}
        for endpoint_slice in self.api.informers["endpointslices"].store.values():
            metadata = endpoint_slice["metadata"]
            service = (metadata.get("labels") or {}).get(SERVICE_NAME_LABEL)
            if service:
                slices_by_service.setdefault(f"{metadata.get('namespace')}/{service}", []).append(endpoint_slice)
        rules: dict[str, dict] = {}
        node_ports: dict[str, str] = {}
        for key, service in services.items():
            spec = service.get("spec") or {}
            cluster_ip = spec.get("clusterIP")
            if not cluster_ip or cluster_ip == "None" or spec.get("type") == "ExternalName":
                continue
            for port in spec.get("ports") or []:
                rule_key = f"{key}:{port['name']}" if port.get("name") else key
                rule = self.compile_rule(key, spec, port, slices_by_service.get(key, []))
                rules[rule_key] = rule
                if port.get("nodePort"):
                    node_ports[str(port["nodePort"])] = rule_key
        return [rules, node_ports]

    def compile_rule(self, key: str, spec: dict, port: dict, slices: list) -> dict:
        ready, terminating = [], []
        for endpoint_slice in slices:
            target_port = self.slice_port(endpoint_slice, port.get("name") or "")
            if target_port is None:
                continue
            for endpoint in endpoint_slice.get("endpoints") or []:
                entry = self.endpoint_entry(endpoint, target_port)
                if entry is None:
                    continue
                conditions = endpoint.get("conditions") or {}
                if conditions.get("ready") is not False and not conditions.get("terminating"):
                    ready.append(entry)
                elif conditions.get("serving") and conditions.get("terminating"):
                    terminating.append(entry)
        endpoints = ready or terminating
        if spec.get("internalTrafficPolicy") == "Local":
            endpoints = [entry for entry in endpoints if entry["node"] == self.node]
        affinity = spec.get("sessionAffinity") == "ClientIP"
        timeout_s = (((spec.get("sessionAffinityConfig") or {}).get("clientIP") or {}).get("timeoutSeconds")
                     or DEFAULT_AFFINITY_TIMEOUT_S)
        return {"service": key, "port_name": port.get("name") or "", "cluster_ip": spec.get("clusterIP"),
                "port": port.get("port"), "protocol": port.get("protocol", "TCP"), "node_port": port.get("nodePort"),
                "endpoints": endpoints, "session_affinity_s": timeout_s if affinity else 0}

    def slice_port(self, endpoint_slice: dict, port_name: str) -> int | None:
        for slice_port in endpoint_slice.get("ports") or []:
            if (slice_port.get("name") or "") == port_name:
                return slice_port.get("port")
        return None

    def endpoint_entry(self, endpoint: dict, target_port: Any) -> dict | None:
        addresses = endpoint.get("addresses") or []
        if not addresses:
            return None
        return {"ip": addresses[0], "port": target_port, "pod": (endpoint.get("targetRef") or {}).get("name"),
                "node": endpoint.get("nodeName")}

    # Traffic ------------------------------------------------------------------------------------
    def on_service_request(self, payload: dict) -> None:
        """A client on this node connects to a Service (by name, optional port) or a nodePort."""
        client = payload.get("client") or "client"
        rule_key = self.find_rule(payload)
        if rule_key is None:
            self.emit("proxy.reject", payload.get("service") or "", {
                "service": payload.get("service"), "clusterIP": None, "port": payload.get("port"),
                "client": client, "reason": "no such service"})
            return
        rule = self.rules[rule_key]
        if not rule["endpoints"]:
            self.emit("proxy.reject", rule["service"], {
                "service": rule["service"], "clusterIP": rule["cluster_ip"], "port": rule["port"], "client": client,
                "reason": f"{rule_key} has no endpoints"})
            return
        endpoint = self.pick_endpoint(rule_key, rule, client)
        self.emit("proxy.route", rule["service"], {
            "service": rule["service"], "clusterIP": rule["cluster_ip"], "port": rule["port"], "client": client,
            "endpoint": f"{endpoint['ip']}:{endpoint['port']}", "ip": endpoint["ip"], "pod": endpoint["pod"],
            "node": endpoint["node"]})

    def find_rule(self, payload: dict) -> str | None:
        if payload.get("node_port") is not None:
            return self.node_ports.get(str(payload["node_port"]))
        service = payload.get("service") or ""
        if "/" not in service:
            service = f"default/{service}"
        wanted = payload.get("port")
        for rule_key, rule in self.rules.items():
            if rule["service"] != service:
                continue
            if wanted is None or wanted in (rule["port"], rule["port_name"]) or str(wanted) == str(rule["port"]):
                return rule_key
        return None

    def pick_endpoint(self, rule_key: str, rule: dict, client: str) -> dict:
        endpoints = rule["endpoints"]
        if rule["session_affinity_s"]:
            remembered = self.affinity.get(f"{client}|{rule_key}")
            if remembered is not None and self.sim.now_ms - remembered["last_ms"] <= rule["session_affinity_s"] * 1000:
                for endpoint in endpoints:
                    if endpoint["ip"] == remembered["endpoint"]:
                        remembered["last_ms"] = self.sim.now_ms
                        return endpoint
        endpoint = endpoints[self.rng.randrange(len(endpoints))]
        if rule["session_affinity_s"] and len(self.affinity) < MAX_AFFINITY_ENTRIES:
            self.affinity[f"{client}|{rule_key}"] = {"endpoint": endpoint["ip"], "last_ms": self.sim.now_ms}
        return endpoint
