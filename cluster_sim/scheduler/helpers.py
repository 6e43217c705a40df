"""Kubernetes API helpers the plugins share: label and node selectors, tolerations, pod requests,
priorities.  Pods and nodes are plain Kubernetes dicts."""
from __future__ import annotations

from .resources import quantity_of

DEFAULT_MILLI_CPU_REQUEST = 100            # schedutil.DefaultMilliCPURequest
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024  # schedutil.DefaultMemoryRequest
LABEL_HOSTNAME = "kubernetes.io/hostname"
LABEL_ZONE = "topology.kubernetes.io/zone"
LABEL_REGION = "topology.kubernetes.io/region"
TAINT_NODE_UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
OBJECT_NAME_FIELD = "metadata.name"


def pod_key(pod: dict) -> str:
    metadata = pod["metadata"]
    return f"{metadata.get('namespace', 'default')}/{metadata['name']}"


def pod_namespace(pod: dict) -> str:
    return pod["metadata"].get("namespace", "default")


def pod_labels(pod: dict) -> dict:
    return pod["metadata"].get("labels") or {}


def pod_priority(pod: dict) -> int:
    priority = pod.get("spec", {}).get("priority")
    return 0 if priority is None else priority


def is_terminating(pod: dict) -> bool:
    return pod["metadata"].get("deletionTimestamp") is not None


# --- label selectors (metav1.LabelSelector) ------------------------------------------------

def selector_matches(selector: dict | None, labels: dict) -> bool:
    """metav1.LabelSelectorAsSelector(selector).Matches(labels); a nil selector matches nothing,
    an empty one everything."""
    if selector is None:
        return False
    for key, wanted in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != wanted:
            return False
    for expression in selector.get("matchExpressions") or ():
        if not _expression_matches(expression["key"], expression["operator"], expression.get("values") or (), labels):
            return False
    return True


def selector_is_empty(selector: dict | None) -> bool:
    return selector is not None and not selector.get("matchLabels") and not selector.get("matchExpressions")


def _expression_matches(key: str, operator: str, values, labels: dict) -> bool:
    present = key in labels
    if operator == "In":
        return present and labels[key] in values
    if operator == "NotIn":
        return not present or labels[key] not in values
    if operator == "Exists":
        return present
    if operator == "DoesNotExist":
        return not present
    if operator in ("Gt", "Lt"):
        if not present or len(values) != 1:
            return False
        try:
            have, bound = int(labels[key]), int(values[0])
        except ValueError:
            return False
        return have > bound if operator == "Gt" else have < bound
    return False


# --- node selectors (v1.NodeSelector) ------------------------------------------------------

def node_selector_term_matches(term: dict, node: dict) -> bool:
    """A term matches when all its requirements match; a term with none matches no node."""
    expressions = term.get("matchExpressions") or ()
    fields = term.get("matchFields") or ()
    if not expressions and not fields:
        return False
    labels = node["metadata"].get("labels") or {}
    for expression in expressions:
        if not _expression_matches(expression["key"], expression["operator"], expression.get("values") or (), labels):
            return False
    if fields:
        field_values = {OBJECT_NAME_FIELD: node["metadata"]["name"]}
        for field in fields:
            if field["key"] != OBJECT_NAME_FIELD:
                return False
            if not _expression_matches(field["key"], field["operator"], field.get("values") or (), field_values):
                return False
    return True


def required_node_affinity_terms(pod: dict) -> list | None:
    affinity = (pod.get("spec", {}).get("affinity") or {}).get("nodeAffinity") or {}
    required = affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    if required is None:
        return None
    return required.get("nodeSelectorTerms") or []


def pod_matches_node_selector_and_affinity(pod: dict, node: dict) -> bool:
    """nodeaffinity.GetRequiredNodeAffinity(pod).Match(node)."""
    node_selector = pod.get("spec", {}).get("nodeSelector")
    if node_selector:
        labels = node["metadata"].get("labels") or {}
        for key, wanted in node_selector.items():
            if labels.get(key) != wanted:
                return False
    terms = required_node_affinity_terms(pod)
    if terms is None:
        return True
    for term in terms:
        if node_selector_term_matches(term, node):
            return True
    return False


# --- taints and tolerations ----------------------------------------------------------------

def toleration_tolerates_taint(toleration: dict, taint: dict) -> bool:
    effect = toleration.get("effect")
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key")
    if key and key != taint.get("key"):
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return True
    if operator == "Equal":
        return (toleration.get("value") or "") == (taint.get("value") or "")
    return False


def tolerations_tolerate_taint(tolerations, taint: dict) -> bool:
    for toleration in tolerations:
        if toleration_tolerates_taint(toleration, taint):
            return True
    return False


def node_taints(node: dict) -> list:
    return node.get("spec", {}).get("taints") or []


# --- resource requests ----------------------------------------------------------------------

def _add(total: dict, requests: dict) -> None:
    for name, quantity in requests.items():
        total[name] = total.get(name, 0) + quantity


def _max_into(total: dict, other: dict) -> None:
    for name, quantity in other.items():
        if quantity > total.get(name, 0):
            total[name] = quantity


def _container_requests(container: dict, non_zero: bool) -> dict:
    raw = (container.get("resources") or {}).get("requests") or {}
    requests = {name: quantity_of(name, text) for name, text in raw.items()}
    if non_zero:
        requests.setdefault("cpu", DEFAULT_MILLI_CPU_REQUEST)
        requests.setdefault("memory", DEFAULT_MEMORY_REQUEST)
    return requests


def pod_requests(pod: dict, non_zero: bool = False) -> dict:
    """resourcehelper.PodRequests: containers summed, init containers as a maximum, restartable
    (sidecar) init containers added, plus overhead.  With ``non_zero`` a container without a cpu or
    memory request counts 100m / 200Mi (only the scheduler's scoring uses that)."""
    spec = pod.get("spec", {})
    total: dict = {}
    for container in spec.get("containers") or ():
        _add(total, _container_requests(container, non_zero))
    sidecars: dict = {}
    init_maximum: dict = {}
    for container in spec.get("initContainers") or ():
        requests = _container_requests(container, non_zero)
        if container.get("restartPolicy") == "Always":
            _add(total, requests)
            _add(sidecars, requests)
            requests = dict(sidecars)
        else:
            _add(requests, sidecars)
        _max_into(init_maximum, requests)
    _max_into(total, init_maximum)
    overhead = spec.get("overhead") or {}
    _add(total, {name: quantity_of(name, text) for name, text in overhead.items()})
    return total


def host_ports(pod: dict) -> list:
    """[ip, protocol, port] of every container port with a hostPort (NodePorts' getContainerPorts)."""
    ports = []
    for container in pod.get("spec", {}).get("containers") or ():
        for port in container.get("ports") or ():
            host_port = port.get("hostPort") or 0
            if host_port <= 0:
                continue
            ports.append([port.get("hostIP") or "0.0.0.0", port.get("protocol") or "TCP", host_port])
    return ports


def pod_start_time(pod: dict) -> str:
    """RFC 3339 strings of one clock sort like times; a pod never started counts as now (latest)."""
    return pod.get("status", {}).get("startTime") or pod["metadata"].get("creationTimestamp") or "~"
