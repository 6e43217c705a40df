"""The table of API resources the simulated kube-apiserver serves (Kubernetes v1.33).

``RESOURCES`` is keyed by the plural resource name as it appears in URLs (``pods``,
``deployments``).  Two resources share a plural: core ``events`` (v1) keeps the key ``events``;
the events.k8s.io/v1 view of the same objects is keyed ``events.events.k8s.io`` (the
``<resource>.<group>`` form kubectl accepts).  Both are stored under ``/registry/events/`` because
the real apiserver stores them as cohabiting resources.

Subresources (``pods/binding``, ``pods/eviction``, ``deployments/scale``...) are in
``SUBRESOURCES`` keyed ``<resource>/<subresource>``; their kind may belong to another group
(Eviction is policy/v1, Scale is autoscaling/v1), as discovery advertises.

etcd layout follows ``SpecialDefaultResourcePrefixes`` in kubernetes/kubernetes
(pkg/kubeapiserver/default_storage_factory_builder.go): nodes live under ``minions``, services
under ``services/specs``, endpoints under ``services/endpoints``; every other resource under its
plural.  These are constants, not simulation state: never mutate them.
"""
from __future__ import annotations

import functools

ETCD_ROOT = "/registry"

VERBS_ALL = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
VERBS_NO_DELETECOLLECTION = ["create", "delete", "get", "list", "patch", "update", "watch"]
VERBS_STATUS = ["get", "patch", "update"]


class SubresourceInfo:
    """One ``<resource>/<subresource>`` entry of discovery."""

    def __init__(self, *, parent: str, name: str, group: str, version: str, kind: str, verbs: list[str]):
        self.parent = parent
        self.name = name
        self.group = group
        self.version = version
        self.kind = kind
        self.verbs = verbs

    @property
    def path(self) -> str:
        return f"{self.parent}/{self.name}"

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


class ResourceInfo:
    """Everything the apiserver, discovery and kubectl need to know about one resource."""

    def __init__(self, *, group: str, version: str, kind: str, plural: str, singular: str,
                 short_names: list[str], namespaced: bool, verbs: list[str],
                 categories: list[str] | None = None, subresources: list[str] | None = None,
                 etcd_prefix: str | None = None, storage_version_hash: str | None = None,
                 key: str | None = None):
        self.group = group
        self.version = version
        self.kind = kind
        self.plural = plural
        self.singular = singular
        self.short_names = short_names
        self.namespaced = namespaced
        self.verbs = verbs
        self.categories = categories or []
        self.subresources = subresources or []
        # Path segment under /registry; None for resources that are never stored (Binding).
        self.etcd_resource_prefix = etcd_prefix
        self.storage_version_hash = storage_version_hash
        # The key of this entry in RESOURCES (differs from plural only for events.k8s.io).
        self.key = key or plural

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified_resource(self) -> str:
        """``GroupResource.String()``: ``pods``, ``deployments.apps``."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def qualified_kind(self) -> str:
        """``GroupKind.String()``: ``Pod``, ``Deployment.apps``."""
        return f"{self.kind}.{self.group}" if self.group else self.kind

    @property
    def stored(self) -> bool:
        return self.etcd_resource_prefix is not None

    def etcd_prefix(self, namespace: str | None = None) -> str:
        """Prefix of every key of this resource, or of one namespace's keys; ends with '/'."""
        if self.etcd_resource_prefix is None:
            raise ValueError(f"{self.plural} are not stored in etcd")
        prefix = f"{ETCD_ROOT}/{self.etcd_resource_prefix}/"
        if namespace is not None and self.namespaced:
            prefix += f"{namespace}/"
        return prefix

    def etcd_key(self, namespace: str | None, name: str) -> str:
        if self.namespaced:
            if not namespace:
                raise ValueError(f"{self.plural} are namespaced: a namespace is required")
            return f"{self.etcd_prefix(namespace)}{name}"
        return f"{self.etcd_prefix(None)}{name}"

    def __repr__(self) -> str:
        return f"ResourceInfo({self.key})"


def _resource(**fields) -> ResourceInfo:
    fields.setdefault("etcd_prefix", fields["plural"])
    return ResourceInfo(**fields)


RESOURCES: dict[str, ResourceInfo] = {info.key: info for info in [
    _resource(group="", version="v1", kind="Namespace", plural="namespaces", singular="namespace",
              short_names=["ns"], namespaced=False, verbs=VERBS_NO_DELETECOLLECTION,
              subresources=["finalize", "status"], storage_version_hash="Q3oi5N2YM8M="),
    _resource(group="", version="v1", kind="Node", plural="nodes", singular="node",
              short_names=["no"], namespaced=False, verbs=VERBS_ALL, subresources=["proxy", "status"],
              etcd_prefix="minions", storage_version_hash="XwShjMxG9Fs="),
    _resource(group="", version="v1", kind="Pod", plural="pods", singular="pod",
              short_names=["po"], namespaced=True, verbs=VERBS_ALL, categories=["all"],
              subresources=["attach", "binding", "ephemeralcontainers", "eviction", "exec", "log",
                            "portforward", "proxy", "resize", "status"],
              storage_version_hash="xPOwRZ+Yhw8="),
    _resource(group="", version="v1", kind="Binding", plural="bindings", singular="binding",
              short_names=[], namespaced=True, verbs=["create"], etcd_prefix=None),
    _resource(group="", version="v1", kind="Service", plural="services", singular="service",
              short_names=["svc"], namespaced=True, verbs=VERBS_ALL, categories=["all"],
              subresources=["proxy", "status"], etcd_prefix="services/specs",
              storage_version_hash="0/CO1lhkEBI="),
    _resource(group="", version="v1", kind="Endpoints", plural="endpoints", singular="endpoints",
              short_names=["ep"], namespaced=True, verbs=VERBS_ALL, etcd_prefix="services/endpoints",
              storage_version_hash="fWeeMqaN/OA="),
    _resource(group="", version="v1", kind="Event", plural="events", singular="event",
              short_names=["ev"], namespaced=True, verbs=VERBS_ALL, storage_version_hash="r2yiGXH7wu8="),
    _resource(group="", version="v1", kind="ConfigMap", plural="configmaps", singular="configmap",
              short_names=["cm"], namespaced=True, verbs=VERBS_ALL, storage_version_hash="qFsyl6wFWjQ="),
    _resource(group="", version="v1", kind="Secret", plural="secrets", singular="secret",
              short_names=[], namespaced=True, verbs=VERBS_ALL, storage_version_hash="S6u1pOWzb84="),
    _resource(group="", version="v1", kind="ServiceAccount", plural="serviceaccounts",
              singular="serviceaccount", short_names=["sa"], namespaced=True, verbs=VERBS_ALL,
              subresources=["token"], storage_version_hash="pbx9ZvyFpBE="),
    _resource(group="apps", version="v1", kind="Deployment", plural="deployments", singular="deployment",
              short_names=["deploy"], namespaced=True, verbs=VERBS_ALL, categories=["all"],
              subresources=["scale", "status"]),
    _resource(group="apps", version="v1", kind="ReplicaSet", plural="replicasets", singular="replicaset",
              short_names=["rs"], namespaced=True, verbs=VERBS_ALL, categories=["all"],
              subresources=["scale", "status"]),
    _resource(group="apps", version="v1", kind="DaemonSet", plural="daemonsets", singular="daemonset",
              short_names=["ds"], namespaced=True, verbs=VERBS_ALL, categories=["all"],
              subresources=["status"]),
    _resource(group="coordination.k8s.io", version="v1", kind="Lease", plural="leases", singular="lease",
              short_names=[], namespaced=True, verbs=VERBS_ALL),
    _resource(group="discovery.k8s.io", version="v1", kind="EndpointSlice", plural="endpointslices",
              singular="endpointslice", short_names=[], namespaced=True, verbs=VERBS_ALL),
    _resource(group="events.k8s.io", version="v1", kind="Event", plural="events", singular="event",
              short_names=["ev"], namespaced=True, verbs=VERBS_ALL, key="events.events.k8s.io"),
    _resource(group="scheduling.k8s.io", version="v1", kind="PriorityClass", plural="priorityclasses",
              singular="priorityclass", short_names=["pc"], namespaced=False, verbs=VERBS_ALL),
]}

SUBRESOURCES: dict[str, SubresourceInfo] = {sub.path: sub for sub in [
    SubresourceInfo(parent="namespaces", name="status", group="", version="v1", kind="Namespace", verbs=VERBS_STATUS),
    SubresourceInfo(parent="namespaces", name="finalize", group="", version="v1", kind="Namespace", verbs=["update"]),
    SubresourceInfo(parent="nodes", name="status", group="", version="v1", kind="Node", verbs=VERBS_STATUS),
    SubresourceInfo(parent="pods", name="status", group="", version="v1", kind="Pod", verbs=VERBS_STATUS),
    SubresourceInfo(parent="pods", name="binding", group="", version="v1", kind="Binding", verbs=["create"]),
    SubresourceInfo(parent="pods", name="eviction", group="policy", version="v1", kind="Eviction", verbs=["create"]),
    SubresourceInfo(parent="pods", name="log", group="", version="v1", kind="Pod", verbs=["get"]),
    SubresourceInfo(parent="services", name="status", group="", version="v1", kind="Service", verbs=VERBS_STATUS),
    SubresourceInfo(parent="deployments", name="status", group="apps", version="v1", kind="Deployment", verbs=VERBS_STATUS),
    SubresourceInfo(parent="deployments", name="scale", group="autoscaling", version="v1", kind="Scale", verbs=VERBS_STATUS),
    SubresourceInfo(parent="replicasets", name="status", group="apps", version="v1", kind="ReplicaSet", verbs=VERBS_STATUS),
    SubresourceInfo(parent="replicasets", name="scale", group="autoscaling", version="v1", kind="Scale", verbs=VERBS_STATUS),
    SubresourceInfo(parent="daemonsets", name="status", group="apps", version="v1", kind="DaemonSet", verbs=VERBS_STATUS),
]}

# Longest etcd path segments first, so "services/endpoints" wins over a bare "services".
_STORED_BY_PREFIX: list[tuple[str, str]] = sorted(
    ((f"{ETCD_ROOT}/{info.etcd_resource_prefix}/", info.key) for info in RESOURCES.values()
     if info.stored and info.key == info.plural),
    key=lambda entry: -len(entry[0]))

_BY_API_VERSION_KIND: dict[str, str] = {f"{info.api_version}/{info.kind}": info.key for info in RESOURCES.values()}


def resource_for_kind(api_version: str, kind: str) -> ResourceInfo | None:
    """The resource serving ``kind`` at ``api_version`` ("v1", "apps/v1"), or None."""
    key = _BY_API_VERSION_KIND.get(f"{api_version}/{kind}")
    return RESOURCES[key] if key is not None else None


# Called for every change the watch cache applies; a cluster has a few thousand keys at most.
@functools.lru_cache(maxsize=8192)
def resource_for_key(etcd_key: str) -> str | None:
    """The RESOURCES key of the resource stored at ``etcd_key`` (core ``events`` for events)."""
    for prefix, resource in _STORED_BY_PREFIX:
        if etcd_key.startswith(prefix):
            return resource
    return None


def lookup_resource(text: str) -> ResourceInfo | None:
    """Resolve what a user types (``po``, ``pod``, ``pods``, ``Pod``, ``deployments.apps``).

    Core resources win over same-named ones in other groups, as kubectl's priority does for
    ``events``.
    """
    wanted = text.strip().lower()
    if wanted in RESOURCES:
        return RESOURCES[wanted]
    for info in RESOURCES.values():
        names = [info.plural, info.singular, info.kind.lower(), *info.short_names]
        qualified = [f"{name}.{info.group}" for name in names] if info.group else []
        if wanted in names or wanted in qualified:
            return info
    return None


def subresource_info(resource: str, subresource: str) -> SubresourceInfo | None:
    return SUBRESOURCES.get(f"{resource}/{subresource}")
