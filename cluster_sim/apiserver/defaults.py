"""Defaulting: the fields the real kube-apiserver fills in (Kubernetes v1.33).

Two layers, as in the real server:
- scheme defaults (``SetDefaults_*`` in pkg/apis/*/v1/defaults.go plus the generated
  ``zz_generated.defaults.go``), applied to every decoded body, on create and on update;
- the create strategy (``PrepareForCreate`` in pkg/registry/*/strategy.go), applied on create only:
  a new pod's ``status`` becomes ``{phase: Pending, qosClass}``, a namespace gets the
  ``kubernetes`` finalizer, workloads get an empty status.

``apply_defaults(resource, obj)`` does both (operation "create"); call it with
``operation="update"`` on updates and patches so only scheme defaults apply.  The priority and
preemption policy of a pod are set by the Priority admission plugin (``admission.py``), the
service account by the ServiceAccount plugin, as in the real server.
"""
from __future__ import annotations

from typing import Any, Callable

from .validation import MAX_LOOP_ITEMS, QuantityError, canonical_quantity, parse_quantity
from ..jsontree import copy_tree

DEFAULT_TERMINATION_GRACE_PERIOD_S = 30
DEFAULT_SCHEDULER_NAME = "default-scheduler"
TERMINATION_MESSAGE_PATH = "/dev/termination-log"
DEFAULT_CLIENT_IP_AFFINITY_S = 10800
REVISION_HISTORY_LIMIT = 10
PROGRESS_DEADLINE_S = 600
DEFAULT_MODE_FILES = 420  # 0644, for secret/configMap/downwardAPI/projected volumes
SERVICE_ACCOUNT_TOKEN_EXPIRATION_S = 3600
DAEMONSET_TEMPLATE_GENERATION_ANNOTATION = "deprecated.daemonset.template.generation"


def _dict(parent: dict, key: str) -> dict:
    value = parent.get(key)
    if not isinstance(value, dict):
        value = {}
        parent[key] = value
    return value


def _list(value: Any) -> list:
    return value[:MAX_LOOP_ITEMS] if isinstance(value, list) else []


# --- images and containers ----------------------------------------------------------------------

def image_tag(image: str) -> str:
    """The tag of an image reference as ``parsers.ParseImageName`` sees it: ``latest`` when the
    reference has neither tag nor digest, ``""`` when it is pinned by digest only."""
    reference = image.split("@", 1)
    name = reference[0]
    last_segment = name.rsplit("/", 1)[-1]
    if ":" in last_segment:
        return last_segment.rsplit(":", 1)[1]
    return "" if len(reference) == 2 else "latest"


def default_pull_policy(image: str) -> str:
    return "Always" if image_tag(image) == "latest" else "IfNotPresent"


def _default_probe(probe: Any) -> None:
    if not isinstance(probe, dict):
        return
    for field, value in (("timeoutSeconds", 1), ("periodSeconds", 10), ("successThreshold", 1), ("failureThreshold", 3)):
        if not probe.get(field):
            probe[field] = value
    http_get = probe.get("httpGet")
    if isinstance(http_get, dict):
        http_get.setdefault("path", "/")
        http_get.setdefault("scheme", "HTTP")


def _canonical_resource_list(resources: dict, kind: str) -> None:
    quantities = resources.get(kind)
    if not isinstance(quantities, dict):
        return
    for name in list(quantities)[:MAX_LOOP_ITEMS]:
        try:
            quantities[name] = canonical_quantity(quantities[name], milli_round_up=True)
        except QuantityError:
            pass  # left as is: validation.decode_error reports it


def _default_container(container: Any) -> None:
    if not isinstance(container, dict):
        return
    if not container.get("imagePullPolicy"):
        container["imagePullPolicy"] = default_pull_policy(str(container.get("image") or ""))
    if not container.get("terminationMessagePath"):
        container["terminationMessagePath"] = TERMINATION_MESSAGE_PATH
    if not container.get("terminationMessagePolicy"):
        container["terminationMessagePolicy"] = "File"
    for port in _list(container.get("ports")):
        if isinstance(port, dict) and not port.get("protocol"):
            port["protocol"] = "TCP"
    for variable in _list(container.get("env")):
        field_ref = ((variable or {}).get("valueFrom") or {}).get("fieldRef") if isinstance(variable, dict) else None
        if isinstance(field_ref, dict):
            field_ref.setdefault("apiVersion", "v1")
    resources = _dict(container, "resources")
    _canonical_resource_list(resources, "limits")
    _canonical_resource_list(resources, "requests")
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        _default_probe(container.get(probe))


def _default_volume(volume: Any) -> None:
    if not isinstance(volume, dict):
        return
    if len([key for key in volume if key != "name"]) == 0:
        volume["emptyDir"] = {}
    for source in ("secret", "configMap", "downwardAPI", "projected"):
        if isinstance(volume.get(source), dict):
            volume[source].setdefault("defaultMode", DEFAULT_MODE_FILES)
    if isinstance(volume.get("hostPath"), dict):
        volume["hostPath"].setdefault("type", "")
    for projection in _list((volume.get("projected") or {}).get("sources") if isinstance(volume.get("projected"), dict) else None):
        token = projection.get("serviceAccountToken") if isinstance(projection, dict) else None
        if isinstance(token, dict):
            token.setdefault("expirationSeconds", SERVICE_ACCOUNT_TOKEN_EXPIRATION_S)


def default_pod_spec(spec: dict) -> None:
    """SetDefaults_PodSpec and the per-field defaults of every pod spec (pods and templates)."""
    if not spec.get("dnsPolicy"):
        spec["dnsPolicy"] = "ClusterFirst"
    if not spec.get("restartPolicy"):
        spec["restartPolicy"] = "Always"
    if spec.get("securityContext") is None:
        spec["securityContext"] = {}
    if spec.get("terminationGracePeriodSeconds") is None:
        spec["terminationGracePeriodSeconds"] = DEFAULT_TERMINATION_GRACE_PERIOD_S
    if not spec.get("schedulerName"):
        spec["schedulerName"] = DEFAULT_SCHEDULER_NAME
    for volume in _list(spec.get("volumes")):
        _default_volume(volume)
    for group in ("initContainers", "containers", "ephemeralContainers"):
        for container in _list(spec.get(group)):
            _default_container(container)


def _default_pod_only(spec: dict) -> None:
    """SetDefaults_Pod: only for Pod objects, not for pod templates."""
    for group in ("containers", "initContainers"):
        for container in _list(spec.get(group)):
            if not isinstance(container, dict):
                continue
            resources = _dict(container, "resources")
            limits = resources.get("limits")
            if isinstance(limits, dict) and limits:
                requests = _dict(resources, "requests")
                for name, value in limits.items():
                    requests.setdefault(name, value)
    if spec.get("enableServiceLinks") is None:
        spec["enableServiceLinks"] = True
    if spec.get("hostNetwork"):
        for group in ("containers", "initContainers"):
            for container in _list(spec.get(group)):
                for port in _list((container or {}).get("ports")):
                    if isinstance(port, dict) and not port.get("hostPort"):
                        port["hostPort"] = port.get("containerPort")


# --- per resource -------------------------------------------------------------------------------

def _pod(obj: dict) -> None:
    spec = _dict(obj, "spec")
    default_pod_spec(spec)
    _default_pod_only(spec)


def _template_spec(obj: dict) -> dict:
    template = _dict(_dict(obj, "spec"), "template")
    _dict(template, "metadata")
    spec = _dict(template, "spec")
    default_pod_spec(spec)
    return spec


def _deployment(obj: dict) -> None:
    spec = _dict(obj, "spec")
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    strategy = _dict(spec, "strategy")
    if not strategy.get("type"):
        strategy["type"] = "RollingUpdate"
    if strategy["type"] == "RollingUpdate":
        rolling = _dict(strategy, "rollingUpdate")
        rolling.setdefault("maxUnavailable", "25%")
        rolling.setdefault("maxSurge", "25%")
    if spec.get("revisionHistoryLimit") is None:
        spec["revisionHistoryLimit"] = REVISION_HISTORY_LIMIT
    if spec.get("progressDeadlineSeconds") is None:
        spec["progressDeadlineSeconds"] = PROGRESS_DEADLINE_S
    _template_spec(obj)


def _replicaset(obj: dict) -> None:
    spec = _dict(obj, "spec")
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    _template_spec(obj)


def _daemonset(obj: dict) -> None:
    spec = _dict(obj, "spec")
    strategy = _dict(spec, "updateStrategy")
    if not strategy.get("type"):
        strategy["type"] = "RollingUpdate"
    if strategy["type"] == "RollingUpdate":
        rolling = _dict(strategy, "rollingUpdate")
        rolling.setdefault("maxUnavailable", 1)
        rolling.setdefault("maxSurge", 0)
    if spec.get("revisionHistoryLimit") is None:
        spec["revisionHistoryLimit"] = REVISION_HISTORY_LIMIT
    _template_spec(obj)


def _service(obj: dict) -> None:
    spec = _dict(obj, "spec")
    if not spec.get("sessionAffinity"):
        spec["sessionAffinity"] = "None"
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec["sessionAffinity"] == "ClientIP":
        client_ip = _dict(_dict(spec, "sessionAffinityConfig"), "clientIP")
        client_ip.setdefault("timeoutSeconds", DEFAULT_CLIENT_IP_AFFINITY_S)
    if not spec.get("type"):
        spec["type"] = "ClusterIP"
    for port in _list(spec.get("ports")):
        if not isinstance(port, dict):
            continue
        if not port.get("protocol"):
            port["protocol"] = "TCP"
        if port.get("targetPort") in (None, 0, ""):
            port["targetPort"] = port.get("port")
    externally_accessible = spec["type"] in ("NodePort", "LoadBalancer") or bool(spec.get("externalIPs"))
    if externally_accessible and not spec.get("externalTrafficPolicy"):
        spec["externalTrafficPolicy"] = "Cluster"
    if spec.get("internalTrafficPolicy") is None and spec["type"] in ("ClusterIP", "NodePort", "LoadBalancer"):
        spec["internalTrafficPolicy"] = "Cluster"
    if spec["type"] == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is None:
        spec["allocateLoadBalancerNodePorts"] = True


def _namespace(obj: dict) -> None:
    name = (obj.get("metadata") or {}).get("name")
    if name:
        labels = _dict(_dict(obj, "metadata"), "labels")
        labels["kubernetes.io/metadata.name"] = name
    status = _dict(obj, "status")
    if not status.get("phase"):
        status["phase"] = "Active"


def _secret(obj: dict) -> None:
    if not obj.get("type"):
        obj["type"] = "Opaque"


def _endpoints(obj: dict) -> None:
    for subset in _list(obj.get("subsets")):
        for port in _list((subset or {}).get("ports")):
            if isinstance(port, dict) and not port.get("protocol"):
                port["protocol"] = "TCP"


def _endpoint_slice(obj: dict) -> None:
    for port in _list(obj.get("ports")):
        if isinstance(port, dict) and not port.get("protocol"):
            port["protocol"] = "TCP"
        if isinstance(port, dict) and port.get("name") is None:
            # discovery/v1 SetDefaults_EndpointPort: name is a pointer defaulted to "".
            port["name"] = ""


def _node(obj: dict) -> None:
    status = obj.get("status")
    if isinstance(status, dict) and status.get("allocatable") is None and isinstance(status.get("capacity"), dict):
        status["allocatable"] = dict(status["capacity"])


def _priority_class(obj: dict) -> None:
    if obj.get("preemptionPolicy") is None:
        obj["preemptionPolicy"] = "PreemptLowerPriority"


_SCHEME_DEFAULTS: dict[str, Callable[[dict], None]] = {
    "pods": _pod,
    "deployments": _deployment,
    "replicasets": _replicaset,
    "daemonsets": _daemonset,
    "services": _service,
    "namespaces": _namespace,
    "secrets": _secret,
    "endpoints": _endpoints,
    "endpointslices": _endpoint_slice,
    "nodes": _node,
    "priorityclasses": _priority_class,
}


# --- create strategy ----------------------------------------------------------------------------

def pod_qos_class(spec: dict) -> str:
    """``qos.GetPodQOS``: Guaranteed, Burstable or BestEffort from cpu and memory only."""
    requests_seen = limits_seen = False
    guaranteed = True
    for group in ("initContainers", "containers"):
        for container in _list(spec.get(group)):
            resources = (container or {}).get("resources") or {}
            requests = {name: value for name, value in (resources.get("requests") or {}).items() if name in ("cpu", "memory")}
            limits = {name: value for name, value in (resources.get("limits") or {}).items() if name in ("cpu", "memory")}
            requests_seen = requests_seen or any(_positive(value) for value in requests.values())
            limits_seen = limits_seen or any(_positive(value) for value in limits.values())
            if set(limits) != {"cpu", "memory"}:
                guaranteed = False
            for name, value in requests.items():
                if _quantity_or_none(value) != _quantity_or_none(limits.get(name)):
                    guaranteed = False
    if not requests_seen and not limits_seen:
        return "BestEffort"
    return "Guaranteed" if guaranteed and limits_seen else "Burstable"


def _quantity_or_none(value: Any) -> Any:
    try:
        return parse_quantity(value)[0] if value is not None else None
    except QuantityError:
        return None


def _positive(value: Any) -> bool:
    quantity = _quantity_or_none(value)
    return quantity is not None and quantity > 0


def _prepare_pod(obj: dict) -> None:
    obj["status"] = {"phase": "Pending", "qosClass": pod_qos_class(obj.get("spec") or {})}


def _prepare_workload(obj: dict) -> None:
    obj["status"] = {}


def _prepare_replicaset(obj: dict) -> None:
    # ReplicaSetStatus.replicas has no omitempty: an empty status still shows it.
    obj["status"] = {"replicas": 0}


def _prepare_daemonset(obj: dict) -> None:
    # The four counters of DaemonSetStatus without omitempty.
    obj["status"] = {"currentNumberScheduled": 0, "numberMisscheduled": 0, "desiredNumberScheduled": 0,
                     "numberReady": 0}
    annotations = _dict(_dict(obj, "metadata"), "annotations")
    annotations.setdefault(DAEMONSET_TEMPLATE_GENERATION_ANNOTATION, "1")


def _prepare_service(obj: dict) -> None:
    obj["status"] = {"loadBalancer": {}}
    spec = _dict(obj, "spec")
    if spec.get("type") != "ExternalName":
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("ipFamilies", ["IPv4"])


def _prepare_namespace(obj: dict) -> None:
    obj["status"] = {"phase": "Active"}
    finalizers = _dict(obj, "spec").get("finalizers")
    finalizers = list(finalizers) if isinstance(finalizers, list) else []
    if "kubernetes" not in finalizers:
        finalizers.append("kubernetes")
    obj["spec"]["finalizers"] = finalizers


_CREATE_STRATEGY: dict[str, Callable[[dict], None]] = {
    "pods": _prepare_pod,
    "deployments": _prepare_workload,
    "replicasets": _prepare_replicaset,
    "daemonsets": _prepare_daemonset,
    "services": _prepare_service,
    "namespaces": _prepare_namespace,
}


def apply_defaults(resource: str, obj: dict, operation: str = "create") -> dict:
    """A new dict: ``obj`` with the scheme defaults and, for ``operation="create"``, the create
    strategy of ``resource`` applied.  ``obj`` itself is never modified; a kind with nothing to
    default on this operation (a Lease update, say) gets ``obj`` back as it is."""
    scheme_default = _SCHEME_DEFAULTS.get(resource)
    if scheme_default is None and (operation != "create" or resource not in _CREATE_STRATEGY):
        return obj
    result = copy_tree(obj)
    if scheme_default is not None:
        scheme_default(result)
    if operation == "create":
        prepare = _CREATE_STRATEGY.get(resource)
        if prepare is not None:
            prepare(result)
    return result
