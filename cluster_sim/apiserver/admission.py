"""The mutating admission plugins the simulated kube-apiserver runs, as pure functions.

Order as in the real server's default chain (v1.33): NamespaceLifecycle, ServiceAccount,
TaintNodesByCondition, Priority, DefaultTolerationSeconds.  Each takes the object already
defaulted and returns a new object, or a failure ``Status`` dict (``kind == "Status"``).

After validation, ``cluster_pod_limit`` refuses pods beyond the cluster's own cap, as the
validating ResourceQuota plugin refuses them when a quota is spent.

``namespaces`` / ``priority_classes`` / ``service_accounts`` are the apiserver's caches: dicts
whose values are the objects (keys are ignored, so etcd keys or names both work).
"""
from __future__ import annotations

import random
from typing import Any

from . import kinds, validation
from ..jsontree import copy_tree

IMMORTAL_NAMESPACES = ("default", "kube-system", "kube-public")
NAME_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
NAME_SUFFIX_LENGTH = 5
SERVICE_ACCOUNT_VOLUME_PREFIX = "kube-api-access-"
SERVICE_ACCOUNT_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
# serviceaccount.WarnOnlyBoundTokenExpirationSeconds: 1 h plus 7 s, so the kubelet-side
# warning about stale tokens can recognise tokens minted for this volume.
BOUND_TOKEN_EXPIRATION_S = 3607
TOLERATION_SECONDS_DEFAULT = 300
TAINT_NOT_READY = "node.kubernetes.io/not-ready"
TAINT_UNREACHABLE = "node.kubernetes.io/unreachable"
PREEMPT_LOWER_PRIORITY = "PreemptLowerPriority"

SYSTEM_PRIORITY_CLASSES = {
    "system-node-critical": {
        "apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
        "metadata": {"name": "system-node-critical"}, "value": 2000001000,
        "description": "Used for system critical pods that must not be moved from their current node.",
        "preemptionPolicy": PREEMPT_LOWER_PRIORITY},
    "system-cluster-critical": {
        "apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
        "metadata": {"name": "system-cluster-critical"}, "value": 2000000000,
        "description": "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
        "preemptionPolicy": PREEMPT_LOWER_PRIORITY},
}


def random_name_suffix(rng: random.Random) -> str:
    """``utilrand.String(5)``: what ``generateName`` and the token volume name append."""
    return "".join(rng.choice(NAME_SUFFIX_ALPHABET) for _ in range(NAME_SUFFIX_LENGTH))


def _by_name(objects: dict | None) -> dict[str, dict]:
    indexed: dict[str, dict] = {}
    for obj in list((objects or {}).values())[:validation.MAX_LOOP_ITEMS]:
        name = ((obj or {}).get("metadata") or {}).get("name")
        if name:
            indexed[name] = obj
    return indexed


def _object_name(obj: dict) -> str:
    metadata = obj.get("metadata") or {}
    return metadata.get("name") or metadata.get("generateName") or "Unknown"


def _forbidden(resource: str, obj: dict, detail: str) -> dict:
    info = kinds.RESOURCES[resource]
    return validation.forbidden_status(info.group, info.plural, _object_name(obj), detail)


# --- NamespaceLifecycle --------------------------------------------------------------------------

def namespace_lifecycle(resource: str, obj: dict, namespaces: dict) -> dict | None:
    """The Status refusing a create into a missing or terminating namespace, or None."""
    info = kinds.RESOURCES[resource]
    if not info.namespaced:
        return None
    namespace_name = (obj.get("metadata") or {}).get("namespace") or ""
    namespace = _by_name(namespaces).get(namespace_name)
    if namespace is None:
        return validation.not_found("", "namespaces", namespace_name)
    if (namespace.get("status") or {}).get("phase") == "Terminating":
        return validation.namespace_terminating(info.group, info.plural, _object_name(obj), namespace_name)
    return None


def admit_delete(resource: str, name: str) -> dict | None:
    """NamespaceLifecycle on delete: the immortal namespaces cannot be deleted."""
    if resource == "namespaces" and name in IMMORTAL_NAMESPACES:
        return validation.forbidden_status("", "namespaces", name, "this namespace may not be deleted")
    return None


# --- ServiceAccount ------------------------------------------------------------------------------

def token_volume(name: str) -> dict:
    """The projected volume the ServiceAccount plugin mounts in every pod (``TokenVolumeSource``)."""
    return {"name": name, "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": BOUND_TOKEN_EXPIRATION_S, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace",
                                    "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
    ]}}


def _should_automount(service_account: dict | None, spec: dict) -> bool:
    if spec.get("automountServiceAccountToken") is not None:
        return bool(spec["automountServiceAccountToken"])
    if service_account is not None and service_account.get("automountServiceAccountToken") is not None:
        return bool(service_account["automountServiceAccountToken"])
    return True


def service_account(pod: dict, rng: random.Random, service_accounts: dict | None = None) -> dict:
    """Default the service account, mount the token volume; a Status if the account is missing.

    ``service_accounts`` None skips the existence check (the caller has no cache of them).
    """
    if "kubernetes.io/config.mirror" in ((pod.get("metadata") or {}).get("annotations") or {}):
        return pod
    admitted = copy_tree(pod)
    spec = admitted.setdefault("spec", {})
    if not spec.get("serviceAccountName"):
        spec["serviceAccountName"] = "default"
    # The v1 serializer mirrors the name into the deprecated field.
    spec["serviceAccount"] = spec["serviceAccountName"]
    account = None
    if service_accounts is not None:
        namespace = (admitted.get("metadata") or {}).get("namespace") or ""
        account = next((candidate for candidate in list(service_accounts.values())[:validation.MAX_LOOP_ITEMS]
                        if (candidate.get("metadata") or {}).get("name") == spec["serviceAccountName"]
                        and (candidate.get("metadata") or {}).get("namespace") == namespace), None)
        if account is None:
            return _forbidden("pods", admitted, f"error looking up service account {namespace}/{spec['serviceAccountName']}: "
                                                f"serviceaccount {validation.go_quote(spec['serviceAccountName'])} not found")
    if _should_automount(account, spec):
        _mount_token(spec, rng)
    if not spec.get("imagePullSecrets") and account is not None and account.get("imagePullSecrets"):
        spec["imagePullSecrets"] = copy_tree(account["imagePullSecrets"])
    return admitted


def _mount_token(spec: dict, rng: random.Random) -> None:
    volumes = spec.get("volumes") if isinstance(spec.get("volumes"), list) else []
    existing = next((volume.get("name") for volume in volumes[:validation.MAX_LOOP_ITEMS]
                     if isinstance(volume, dict) and str(volume.get("name", "")).startswith(SERVICE_ACCOUNT_VOLUME_PREFIX)), None)
    volume_name = existing or SERVICE_ACCOUNT_VOLUME_PREFIX + random_name_suffix(rng)
    mount = {"name": volume_name, "readOnly": True, "mountPath": SERVICE_ACCOUNT_MOUNT_PATH}
    needs_volume = False
    for group in ("initContainers", "containers"):
        for container in (spec.get(group) or [])[:validation.MAX_LOOP_ITEMS]:
            mounts = container.setdefault("volumeMounts", [])
            if not any(item.get("mountPath") == SERVICE_ACCOUNT_MOUNT_PATH for item in mounts):
                mounts.append(dict(mount))
                needs_volume = True
    if existing is None and needs_volume:
        spec["volumes"] = volumes + [token_volume(volume_name)]


# --- TaintNodesByCondition -----------------------------------------------------------------------

def taint_new_node(node: dict) -> dict:
    """New nodes start with ``node.kubernetes.io/not-ready:NoSchedule`` until the node lifecycle
    controller sees them Ready."""
    admitted = copy_tree(node)
    taints = admitted.setdefault("spec", {}).setdefault("taints", [])
    if not any(taint.get("key") == TAINT_NOT_READY and taint.get("effect") == "NoSchedule" for taint in taints):
        taints.append({"key": TAINT_NOT_READY, "effect": "NoSchedule"})
    return admitted


# --- Priority ------------------------------------------------------------------------------------

def priority(pod: dict, priority_classes: dict) -> dict:
    """Resolve ``priorityClassName`` to ``priority`` and ``preemptionPolicy``."""
    admitted = copy_tree(pod)
    spec = admitted.setdefault("spec", {})
    classes = dict(SYSTEM_PRIORITY_CLASSES)
    classes.update(_by_name(priority_classes))
    class_name = spec.get("priorityClassName") or ""
    if not class_name:
        default = next((pc for pc in classes.values() if pc.get("globalDefault")), None)
        value = default.get("value", 0) if default else 0
        policy = (default or {}).get("preemptionPolicy") or PREEMPT_LOWER_PRIORITY
        if default:
            spec["priorityClassName"] = default["metadata"]["name"]
    else:
        priority_class = classes.get(class_name)
        if priority_class is None:
            return _forbidden("pods", admitted, f"no PriorityClass with name {class_name} was found")
        value = priority_class.get("value", 0)
        policy = priority_class.get("preemptionPolicy")
    if spec.get("priority") is not None and spec["priority"] != value:
        return _forbidden("pods", admitted, f"the integer value of priority ({spec['priority']}) must not be provided in pod spec; "
                                            f"priority admission controller computed {value} from the given PriorityClass name")
    spec["priority"] = value
    if policy is not None:
        if spec.get("preemptionPolicy") is not None and spec["preemptionPolicy"] != policy:
            return _forbidden("pods", admitted, f"the string value of PreemptionPolicy ({spec['preemptionPolicy']}) must not be "
                                                f"provided in pod spec; priority admission controller computed {policy} from "
                                                "the given PriorityClass name")
        spec["preemptionPolicy"] = policy
    return admitted


# --- DefaultTolerationSeconds --------------------------------------------------------------------

def default_toleration_seconds(pod: dict) -> dict:
    admitted = copy_tree(pod)
    spec = admitted.setdefault("spec", {})
    tolerations = list(spec.get("tolerations") or [])
    tolerates = {TAINT_NOT_READY: False, TAINT_UNREACHABLE: False}
    for toleration in tolerations[:validation.MAX_LOOP_ITEMS]:
        key, effect = toleration.get("key") or "", toleration.get("effect") or ""
        for taint in tolerates:
            if key in (taint, "") and effect in ("NoExecute", ""):
                tolerates[taint] = True
    for taint, tolerated in tolerates.items():
        if not tolerated:
            tolerations.append({"key": taint, "operator": "Exists", "effect": "NoExecute",
                                "tolerationSeconds": TOLERATION_SECONDS_DEFAULT})
    spec["tolerations"] = tolerations
    return admitted


# --- this server's pods per cluster ----------------------------------------------------------------

# Not a Kubernetes default: what one simulated cluster may hold, so a learner's (or a
# controller's) runaway creates cannot take the memory and CPU of a server shared by a class.
# It refuses as the ResourceQuota plugin does when a namespace's quota is spent (a validating
# plugin: after defaulting and validation), so clients and controllers react as they would
# there (the ReplicaSet controller records FailedCreate and retries later).
DEFAULT_CLUSTER_MAX_PODS = 1000
CLUSTER_POD_QUOTA_NAME = "simulated-cluster-pods"


def cluster_pod_limit(resource: str, obj: dict, *, stored_pods: int, max_pods: int) -> dict | None:
    """The 403 Status refusing a pod beyond the cluster's ``max_pods``, or None."""
    if resource != "pods" or stored_pods < max_pods:
        return None
    return _forbidden("pods", obj, f"exceeded quota: {CLUSTER_POD_QUOTA_NAME}, requested: pods=1, "
                                   f"used: pods={stored_pods}, limited: pods={max_pods} (the most pods this "
                                   "simulated cluster may hold, a limit of this server rather than a ResourceQuota "
                                   "object; delete some pods first)")


# --- the chain ----------------------------------------------------------------------------------

def admit_create(resource: str, obj: dict, *, namespaces: dict, priority_classes: dict | None = None,
                 rng: random.Random, service_accounts: dict | None = None) -> dict:
    """Run the create admission chain; the admitted object or a failure Status dict."""
    if resource not in kinds.RESOURCES:
        return obj
    if resource != "namespaces":
        refusal = namespace_lifecycle(resource, obj, namespaces)
        if refusal is not None:
            return refusal
    if resource == "nodes":
        return taint_new_node(obj)
    if resource != "pods":
        return obj
    admitted = service_account(obj, rng, service_accounts)
    if admitted.get("kind") == "Status":
        return admitted
    admitted = priority(admitted, priority_classes or {})
    if admitted.get("kind") == "Status":
        return admitted
    return default_toleration_seconds(admitted)
