"""Small pure functions the controllers share: pods, conditions, owners, taints, selectors, hashes.

Each mirrors a helper of kubernetes/kubernetes (pkg/api/v1/pod, pkg/controller/controller_utils.go,
k8s.io/component-helpers, apimachinery's rand.SafeEncodeString).
"""
from __future__ import annotations

import functools
import json

from ..apiserver.selectors import match_label_selector_object
from ..timefmt import parse_time_ms

SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
POD_TEMPLATE_HASH_LABEL = "pod-template-hash"
TAINT_NOT_READY = "node.kubernetes.io/not-ready"
TAINT_UNREACHABLE = "node.kubernetes.io/unreachable"
TAINT_UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
TAINT_MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure"
TAINT_DISK_PRESSURE = "node.kubernetes.io/disk-pressure"
TAINT_PID_PRESSURE = "node.kubernetes.io/pid-pressure"
TAINT_NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable"
ZONE_LABEL = "topology.kubernetes.io/zone"
REGION_LABEL = "topology.kubernetes.io/region"
POD_DELETION_COST_ANNOTATION = "controller.kubernetes.io/pod-deletion-cost"


# --- objects -----------------------------------------------------------------------------------

def key_of(obj: dict) -> str:
    metadata = obj["metadata"]
    namespace = metadata.get("namespace")
    return f"{namespace}/{metadata['name']}" if namespace else metadata["name"]


def split_key(key: str) -> list:
    namespace, _, name = key.rpartition("/")
    return [namespace or None, name]


def uid_of(obj: dict) -> str:
    return obj["metadata"].get("uid", "")


def is_terminating(obj: dict) -> bool:
    return bool(obj["metadata"].get("deletionTimestamp"))


def time_ms(text: str | None, start_epoch_ms: int) -> int | None:
    """Virtual milliseconds of an API timestamp (None when absent)."""
    if not text:
        return None
    return parse_time_ms(text) - start_epoch_ms


def controller_ref(obj: dict) -> dict | None:
    for reference in obj["metadata"].get("ownerReferences") or []:
        if reference.get("controller"):
            return reference
    return None


def owner_reference(owner: dict, *, block_owner_deletion: bool = True) -> dict:
    return {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"], "controller": True, "blockOwnerDeletion": block_owner_deletion}


def selector_matches(selector: dict | None, labels: dict | None) -> bool:
    """A workload selector; an empty or missing one selects nothing (as controllers treat it)."""
    if not selector or not (selector.get("matchLabels") or selector.get("matchExpressions")):
        return False
    return match_label_selector_object(selector, labels)


# --- pods --------------------------------------------------------------------------------------

def pod_condition(pod: dict, condition_type: str) -> dict | None:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == condition_type:
            return condition
    return None


def is_pod_ready(pod: dict) -> bool:
    condition = pod_condition(pod, "Ready")
    return bool(condition) and condition.get("status") == "True"


def pod_phase(pod: dict) -> str:
    return (pod.get("status") or {}).get("phase") or "Pending"


def is_pod_active(pod: dict) -> bool:
    """controller.IsPodActive: not terminal and not being deleted."""
    return pod_phase(pod) not in ("Succeeded", "Failed") and not is_terminating(pod)


def is_pod_available(pod: dict, min_ready_seconds: int, now_ms: int, start_epoch_ms: int) -> bool:
    if not is_pod_ready(pod):
        return False
    if min_ready_seconds <= 0:
        return True
    since_ms = time_ms(pod_condition(pod, "Ready").get("lastTransitionTime"), start_epoch_ms)
    return since_ms is not None and since_ms + min_ready_seconds * 1000 < now_ms


def max_container_restarts(pod: dict) -> int:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return max([status.get("restartCount", 0) for status in statuses] or [0])


def deletion_cost(pod: dict) -> int:
    text = (pod["metadata"].get("annotations") or {}).get(POD_DELETION_COST_ANNOTATION)
    try:
        return int(text) if text is not None else 0
    except ValueError:
        return 0


# --- conditions --------------------------------------------------------------------------------

def find_condition(conditions: list, condition_type: str) -> dict | None:
    for condition in conditions:
        if condition.get("type") == condition_type:
            return condition
    return None


def set_condition(conditions: list, new: dict) -> list:
    """SetDeploymentCondition: same status and reason -> unchanged; same status -> keep the
    transition time; the condition moves to the end of the list as the real helper does."""
    current = find_condition(conditions, new["type"])
    if current is not None and current.get("status") == new["status"] and current.get("reason") == new["reason"]:
        return conditions
    if current is not None and current.get("status") == new["status"]:
        new = dict(new, lastTransitionTime=current.get("lastTransitionTime"))
    return [condition for condition in conditions if condition.get("type") != new["type"]] + [new]


# --- taints and tolerations ------------------------------------------------------------------

def toleration_tolerates(toleration: dict, taint: dict) -> bool:
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    operator = toleration.get("operator") or "Equal"
    if key and key != taint.get("key"):
        return False
    if not key and operator != "Exists":
        return False
    if operator == "Exists":
        return True
    return (toleration.get("value") or "") == (taint.get("value") or "")


def tolerated(tolerations: list, taint: dict) -> bool:
    return any(toleration_tolerates(toleration, taint) for toleration in tolerations)


def node_taints(node: dict, effects: list) -> list:
    return [taint for taint in (node.get("spec") or {}).get("taints") or [] if taint.get("effect") in effects]


# --- node affinity -----------------------------------------------------------------------------

def _requirement_matches(requirement: dict, value: str | None) -> bool:
    operator = requirement.get("operator")
    values = requirement.get("values") or []
    if operator == "In":
        return value is not None and value in values
    if operator == "NotIn":
        return value is None or value not in values
    if operator == "Exists":
        return value is not None
    if operator == "DoesNotExist":
        return value is None
    if operator in ("Gt", "Lt") and value is not None and values:
        try:
            number, limit = int(value), int(values[0])
        except ValueError:
            return False
        return number > limit if operator == "Gt" else number < limit
    return False


def node_selector_term_matches(term: dict, node: dict) -> bool:
    labels = node["metadata"].get("labels") or {}
    expressions = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not expressions and not fields:
        return False
    for requirement in expressions:
        if not _requirement_matches(requirement, labels.get(requirement.get("key"))):
            return False
    for requirement in fields:
        value = node["metadata"]["name"] if requirement.get("key") == "metadata.name" else None
        if not _requirement_matches(requirement, value):
            return False
    return True


def pod_fits_node_selection(pod_spec: dict, node: dict) -> bool:
    labels = node["metadata"].get("labels") or {}
    for key, value in (pod_spec.get("nodeSelector") or {}).items():
        if labels.get(key) != value:
            return False
    required = (((pod_spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    terms = required.get("nodeSelectorTerms")
    if terms is None:
        return True
    return any(node_selector_term_matches(term, node) for term in terms)


# --- nodes -------------------------------------------------------------------------------------

def node_condition(node: dict, condition_type: str) -> dict | None:
    for condition in (node.get("status") or {}).get("conditions") or []:
        if condition.get("type") == condition_type:
            return condition
    return None


def node_ready_status(node: dict) -> str:
    condition = node_condition(node, "Ready")
    return condition.get("status", "Unknown") if condition else "Unknown"


def zone_of(node: dict) -> str:
    """The zone a node belongs to, as the node lifecycle controller groups nodes (region/zone)."""
    labels = node["metadata"].get("labels") or {}
    region, zone = labels.get(REGION_LABEL, ""), labels.get(ZONE_LABEL, "")
    if region and zone:
        return f"{region}/{zone}"
    return zone or region


# --- hashing -----------------------------------------------------------------------------------

def fnv32a(data: bytes) -> int:
    value = 0x811C9DC5
    for byte in data:
        value ^= byte
        value = (value * 0x01000193) & 0xFFFFFFFF
    return value


def safe_encode_string(text: str) -> str:
    """apimachinery rand.SafeEncodeString: every byte mapped onto the vowel-free alphabet."""
    return "".join(SAFE_ALPHABET[ord(char) % len(SAFE_ALPHABET)] for char in text)


def template_without_hash(template: dict) -> dict:
    labels = dict(((template.get("metadata") or {}).get("labels")) or {})
    labels.pop(POD_TEMPLATE_HASH_LABEL, None)
    metadata = dict(template.get("metadata") or {})
    if labels:
        metadata["labels"] = labels
    else:
        metadata.pop("labels", None)
    return dict(template, metadata=metadata)


def compute_hash(template: dict, collision_count: int | None) -> str:
    """controller.ComputeHash: FNV-32a of the pod template (here its canonical JSON, since Go's
    spew dump of the struct cannot be reproduced), plus the collision count as 4 little-endian
    bytes in an 8-byte buffer; the decimal sum rendered with SafeEncodeString."""
    text = json.dumps(template_without_hash(template), sort_keys=True, separators=(",", ":"))
    count = collision_count or 0
    if type(count) is int:
        return _hash_of_template_text(text, count)
    return _hash_of_template_text.__wrapped__(text, count)  # fails as it always did


# Every deployment sync hashes its template, nearly always the same one: the FNV loop over the
# bytes in Python costs far more than the lookup by the template's JSON text.
@functools.lru_cache(maxsize=256)
def _hash_of_template_text(text: str, collision_count: int) -> str:
    data = text.encode()
    if collision_count:
        data += (collision_count & 0xFFFFFFFF).to_bytes(4, "little") + bytes(4)
    return safe_encode_string(str(fnv32a(data)))


def templates_equal_ignoring_hash(a: dict, b: dict) -> bool:
    return template_without_hash(a) == template_without_hash(b)
