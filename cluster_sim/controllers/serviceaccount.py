"""serviceaccount-controller and root-ca-cert-publisher.

Every active namespace gets a `default` ServiceAccount and a `kube-root-ca.crt` ConfigMap holding
the cluster CA, recreated if someone deletes them (pkg/controller/serviceaccount,
pkg/controller/certificates/rootcacertpublisher).
"""
from __future__ import annotations

import hashlib
from typing import Any

from .base import Controller
from .helpers import is_terminating

ROOT_CA_CONFIGMAP = "kube-root-ca.crt"
ROOT_CA_DESCRIPTION = ("Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
                       "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "
                       "guaranteed across distributions of Kubernetes clusters.")
DESCRIPTION_ANNOTATION = "kubernetes.io/description"


def placeholder_ca(cluster_cidr: str) -> str:
    """A stable stand-in for the cluster CA certificate (no cryptography in the simulation)."""
    digest = hashlib.sha256(("simulated-kubernetes-ca/" + cluster_cidr).encode()).hexdigest() * 8
    lines = [digest[index:index + 64] for index in range(0, 256, 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


class NamespaceScopedCreator(Controller):
    """Keeps one named object in every active namespace."""

    informers = ("namespaces",)
    object_informer = ""
    object_name = ""

    def on_event(self, mgr: Any, informer: str, event_type: str, obj: dict, old: dict | None) -> None:
        if informer == "namespaces":
            if event_type != "DELETED":
                self.enqueue(mgr, obj["metadata"]["name"])
        elif obj["metadata"]["name"] == self.object_name and (event_type == "DELETED" or self.drifted(obj)):
            self.enqueue(mgr, obj["metadata"]["namespace"])

    def drifted(self, obj: dict) -> bool:
        return False

    def sync(self, mgr: Any, key: str) -> None:
        namespace = mgr.get("namespaces", key)
        if namespace is None or is_terminating(namespace):
            return
        current = mgr.get(self.object_informer, f"{key}/{self.object_name}")
        if current is None:
            self.request(mgr, key, "create", self.object_informer, namespace=key, body=self.desired(mgr, key),
                         tag="created")
        elif self.drifted(current):
            self.request(mgr, key, "update", self.object_informer, namespace=key, name=self.object_name,
                         body=dict(self.desired(mgr, key), metadata=dict(current["metadata"])))

    def result_created(self, mgr: Any, context: dict, code: int, body: Any) -> bool:
        # AlreadyExists (informer lag) and a namespace being deleted are both fine.
        return 200 <= code < 300 or code in (403, 409)

    def desired(self, mgr: Any, namespace: str) -> dict:
        raise NotImplementedError


class ServiceAccountController(NamespaceScopedCreator):
    name = "serviceaccount-controller"
    event_source = "serviceaccount-controller"
    informers = ("namespaces", "serviceaccounts")
    object_informer = "serviceaccounts"
    object_name = "default"

    def desired(self, mgr: Any, namespace: str) -> dict:
        return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": namespace}}


class RootCACertPublisher(NamespaceScopedCreator):
    name = "root-ca-cert-publisher"
    event_source = "root-ca-cert-publisher"
    informers = ("namespaces", "configmaps")
    object_informer = "configmaps"
    object_name = ROOT_CA_CONFIGMAP

    def __init__(self, config: dict | None = None) -> None:
        super().__init__(config)
        self.ca_pem = (config or {}).get("root_ca_pem") or placeholder_ca((config or {}).get("cluster_cidr", ""))

    def drifted(self, obj: dict) -> bool:
        return (obj.get("data") or {}).get("ca.crt") != self.ca_pem

    def desired(self, mgr: Any, namespace: str) -> dict:
        return {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": ROOT_CA_CONFIGMAP, "namespace": namespace,
                             "annotations": {DESCRIPTION_ANNOTATION: ROOT_CA_DESCRIPTION}},
                "data": {"ca.crt": self.ca_pem}}

