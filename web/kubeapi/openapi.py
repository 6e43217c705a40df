"""OpenAPI v3 documents for the simulated cluster, and the field table behind them.

kubectl reads /openapi/v3 for three things: `create`/`apply` with default flags check that the PATCH
operation of the kind takes a `fieldValidation` query parameter (then they leave validation to the
server, `?fieldValidation=Strict`); `apply` looks at whether that PATCH operation accepts
strategic-merge-patch+json (it does not here, so kubectl computes the patch from its own compiled-in
types, which is exact for every built-in kind); `explain` walks `components.schemas`.

The field table (``TYPES``) also drives strict field validation: an unknown field in a request body
is reported the way the real decoder reports it (``unknown field "spec.template.spec.foo"``).
Types whose inside is not modelled are ``object``: anything goes below them.
"""
from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

from cluster_sim.apiserver import kinds

from . import discovery

MAX_UNKNOWN_FIELDS_REPORTED = 100
MAX_DEPTH = 32

_INT = "integer"
_STR = "string"
_BOOL = "boolean"
_MAP = "map[string]string"
_QUANTITIES = "map[string]Quantity"
_OBJ = "object"

# type name -> field -> type; a type is a scalar, "object" (free-form), "Time", "Quantity",
# "IntOrString", a map, "[]<type>" or another entry of this table.
TYPES: dict[str, dict[str, str]] = {
    "ObjectMeta": {"name": _STR, "generateName": _STR, "namespace": _STR, "selfLink": _STR, "uid": _STR,
                   "resourceVersion": _STR, "generation": _INT, "creationTimestamp": "Time",
                   "deletionTimestamp": "Time", "deletionGracePeriodSeconds": _INT, "labels": _MAP,
                   "annotations": _MAP, "ownerReferences": "[]OwnerReference", "finalizers": "[]string",
                   "managedFields": "[]object"},
    "OwnerReference": {"apiVersion": _STR, "kind": _STR, "name": _STR, "uid": _STR, "controller": _BOOL,
                       "blockOwnerDeletion": _BOOL},
    "LabelSelector": {"matchLabels": _MAP, "matchExpressions": "[]object"},
    "PodTemplateSpec": {"metadata": "ObjectMeta", "spec": "PodSpec"},
    "PodSpec": {"volumes": "[]Volume", "initContainers": "[]Container", "containers": "[]Container",
                "ephemeralContainers": "[]object", "restartPolicy": _STR, "terminationGracePeriodSeconds": _INT,
                "activeDeadlineSeconds": _INT, "dnsPolicy": _STR, "nodeSelector": _MAP,
                "serviceAccountName": _STR, "serviceAccount": _STR, "automountServiceAccountToken": _BOOL,
                "nodeName": _STR, "hostNetwork": _BOOL, "hostPID": _BOOL, "hostIPC": _BOOL,
                "shareProcessNamespace": _BOOL, "securityContext": _OBJ, "imagePullSecrets": "[]object",
                "hostname": _STR, "subdomain": _STR, "affinity": _OBJ, "schedulerName": _STR,
                "tolerations": "[]Toleration", "hostAliases": "[]object", "priorityClassName": _STR,
                "priority": _INT, "dnsConfig": _OBJ, "readinessGates": "[]object", "runtimeClassName": _STR,
                "enableServiceLinks": _BOOL, "preemptionPolicy": _STR, "overhead": _QUANTITIES,
                "topologySpreadConstraints": "[]object", "setHostnameAsFQDN": _BOOL, "os": _OBJ,
                "hostUsers": _BOOL, "schedulingGates": "[]object", "resourceClaims": "[]object",
                "resources": _OBJ},
    "Container": {"name": _STR, "image": _STR, "command": "[]string", "args": "[]string", "workingDir": _STR,
                  "ports": "[]ContainerPort", "envFrom": "[]object", "env": "[]EnvVar",
                  "resources": "ResourceRequirements", "resizePolicy": "[]object", "restartPolicy": _STR,
                  "volumeMounts": "[]VolumeMount", "volumeDevices": "[]object", "livenessProbe": "Probe",
                  "readinessProbe": "Probe", "startupProbe": "Probe", "lifecycle": _OBJ,
                  "terminationMessagePath": _STR, "terminationMessagePolicy": _STR, "imagePullPolicy": _STR,
                  "securityContext": _OBJ, "stdin": _BOOL, "stdinOnce": _BOOL, "tty": _BOOL},
    "ContainerPort": {"name": _STR, "hostPort": _INT, "containerPort": _INT, "protocol": _STR, "hostIP": _STR},
    "EnvVar": {"name": _STR, "value": _STR, "valueFrom": _OBJ},
    "ResourceRequirements": {"limits": _QUANTITIES, "requests": _QUANTITIES, "claims": "[]object"},
    "VolumeMount": {"name": _STR, "readOnly": _BOOL, "recursiveReadOnly": _STR, "mountPath": _STR,
                    "subPath": _STR, "mountPropagation": _STR, "subPathExpr": _STR},
    "Volume": dict({"name": _STR}, **{source: _OBJ for source in (
        "hostPath", "emptyDir", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "secret", "nfs",
        "iscsi", "glusterfs", "persistentVolumeClaim", "rbd", "flexVolume", "cinder", "cephfs", "flocker",
        "downwardAPI", "fc", "azureFile", "configMap", "vsphereVolume", "quobyte", "azureDisk",
        "photonPersistentDisk", "projected", "portworxVolume", "scaleIO", "storageos", "csi", "ephemeral",
        "image")}),
    "Probe": {"exec": _OBJ, "httpGet": _OBJ, "tcpSocket": _OBJ, "grpc": _OBJ, "initialDelaySeconds": _INT,
              "timeoutSeconds": _INT, "periodSeconds": _INT, "successThreshold": _INT, "failureThreshold": _INT,
              "terminationGracePeriodSeconds": _INT},
    "Toleration": {"key": _STR, "operator": _STR, "value": _STR, "effect": _STR, "tolerationSeconds": _INT},
    "DeploymentSpec": {"replicas": _INT, "selector": "LabelSelector", "template": "PodTemplateSpec",
                       "strategy": "DeploymentStrategy", "minReadySeconds": _INT, "revisionHistoryLimit": _INT,
                       "paused": _BOOL, "progressDeadlineSeconds": _INT},
    "DeploymentStrategy": {"type": _STR, "rollingUpdate": _OBJ},
    "ReplicaSetSpec": {"replicas": _INT, "minReadySeconds": _INT, "selector": "LabelSelector",
                       "template": "PodTemplateSpec"},
    "DaemonSetSpec": {"selector": "LabelSelector", "template": "PodTemplateSpec", "updateStrategy": _OBJ,
                      "minReadySeconds": _INT, "revisionHistoryLimit": _INT},
    "ServiceSpec": {"ports": "[]ServicePort", "selector": _MAP, "clusterIP": _STR, "clusterIPs": "[]string",
                    "type": _STR, "externalIPs": "[]string", "sessionAffinity": _STR, "loadBalancerIP": _STR,
                    "loadBalancerSourceRanges": "[]string", "externalName": _STR, "externalTrafficPolicy": _STR,
                    "healthCheckNodePort": _INT, "publishNotReadyAddresses": _BOOL,
                    "sessionAffinityConfig": _OBJ, "ipFamilies": "[]string", "ipFamilyPolicy": _STR,
                    "allocateLoadBalancerNodePorts": _BOOL, "loadBalancerClass": _STR,
                    "internalTrafficPolicy": _STR, "trafficDistribution": _STR},
    "ServicePort": {"name": _STR, "protocol": _STR, "appProtocol": _STR, "port": _INT,
                    "targetPort": "IntOrString", "nodePort": _INT},
    "LeaseSpec": {"holderIdentity": _STR, "leaseDurationSeconds": _INT, "acquireTime": "MicroTime",
                  "renewTime": "MicroTime", "leaseTransitions": _INT, "strategy": _STR, "preferredHolder": _STR},
    "ScaleSpec": {"replicas": _INT},
}

_TOP = {"apiVersion": _STR, "kind": _STR, "metadata": "ObjectMeta"}

# RESOURCES key (or Kind of a subresource body) -> top-level fields besides apiVersion/kind/metadata.
KIND_FIELDS: dict[str, dict[str, str]] = {
    "namespaces": {"spec": _OBJ, "status": _OBJ},
    "nodes": {"spec": _OBJ, "status": _OBJ},
    "pods": {"spec": "PodSpec", "status": _OBJ},
    "bindings": {"target": _OBJ},
    "services": {"spec": "ServiceSpec", "status": _OBJ},
    "endpoints": {"subsets": "[]object"},
    "events": {"involvedObject": _OBJ, "reason": _STR, "message": _STR, "source": _OBJ, "firstTimestamp": "Time",
               "lastTimestamp": "Time", "count": _INT, "type": _STR, "eventTime": "MicroTime", "series": _OBJ,
               "action": _STR, "related": _OBJ, "reportingComponent": _STR, "reportingInstance": _STR},
    "configmaps": {"data": _MAP, "binaryData": _MAP, "immutable": _BOOL},
    "secrets": {"data": _MAP, "stringData": _MAP, "type": _STR, "immutable": _BOOL},
    "serviceaccounts": {"secrets": "[]object", "imagePullSecrets": "[]object", "automountServiceAccountToken": _BOOL},
    "deployments": {"spec": "DeploymentSpec", "status": _OBJ},
    "replicasets": {"spec": "ReplicaSetSpec", "status": _OBJ},
    "daemonsets": {"spec": "DaemonSetSpec", "status": _OBJ},
    "leases": {"spec": "LeaseSpec"},
    "endpointslices": {"addressType": _STR, "endpoints": "[]object", "ports": "[]object"},
    "events.events.k8s.io": {"eventTime": "MicroTime", "series": _OBJ, "reportingController": _STR,
                             "reportingInstance": _STR, "action": _STR, "reason": _STR, "regarding": _OBJ,
                             "related": _OBJ, "note": _STR, "type": _STR, "deprecatedSource": _OBJ,
                             "deprecatedFirstTimestamp": "Time", "deprecatedLastTimestamp": "Time",
                             "deprecatedCount": _INT},
    "priorityclasses": {"value": _INT, "globalDefault": _BOOL, "description": _STR, "preemptionPolicy": _STR},
    "Scale": {"spec": "ScaleSpec", "status": _OBJ},
    "Eviction": {"deleteOptions": _OBJ},
    "Binding": {"target": _OBJ},
}

KIND_DESCRIPTIONS = {
    "Namespace": "Namespace gives names a scope: most objects live in exactly one namespace.",
    "Node": "Node is a machine of the cluster; its kubelet registers it and reports its status.",
    "Pod": "Pod is a group of containers scheduled together onto one node, sharing its network and volumes.",
    "Binding": "Binding assigns a pod to a node; the scheduler creates it.",
    "Service": "Service gives a set of pods, chosen by a label selector, one stable virtual address and ports.",
    "Endpoints": "Endpoints lists the ready and not-ready addresses behind a Service (legacy form of EndpointSlice).",
    "Event": "Event records something that happened to an object, as reported by a component.",
    "ConfigMap": "ConfigMap holds configuration data (text or binary) for pods to consume.",
    "Secret": "Secret holds sensitive data such as passwords or keys, base64-encoded in `data`.",
    "ServiceAccount": "ServiceAccount is the identity processes in pods use to talk to the API server.",
    "Deployment": "Deployment keeps a number of identical pods running and rolls out template changes through ReplicaSets.",
    "ReplicaSet": "ReplicaSet keeps the given number of pods matching its selector running.",
    "DaemonSet": "DaemonSet runs one pod on every node that matches it.",
    "Lease": "Lease is a lightweight lock and heartbeat: node heartbeats and leader election use it.",
    "EndpointSlice": "EndpointSlice lists a subset of the network endpoints behind a Service.",
    "PriorityClass": "PriorityClass maps a priority class name to an integer priority used for scheduling and preemption.",
}

FIELD_DESCRIPTIONS = {
    "apiVersion": "The versioned schema of this representation of the object (group/version).",
    "kind": "The REST resource this object represents, in CamelCase.",
    "metadata": "Standard object metadata: name, namespace, labels, annotations, owners...",
    "spec": "The desired state of the object, written by its user.",
    "status": "The observed state of the object, written by the system. Read-only.",
}

_CORE_TYPES = ("PodSpec", "Container", "ContainerPort", "EnvVar", "ResourceRequirements", "VolumeMount", "Volume",
               "Probe", "Toleration", "PodTemplateSpec", "ServiceSpec", "ServicePort")
_APPS_TYPES = ("DeploymentSpec", "DeploymentStrategy", "ReplicaSetSpec", "DaemonSetSpec")


def schema_name(type_name: str) -> str:
    if type_name in ("ObjectMeta", "OwnerReference", "LabelSelector"):
        return f"io.k8s.apimachinery.pkg.apis.meta.v1.{type_name}"
    if type_name in _CORE_TYPES:
        return f"io.k8s.api.core.v1.{type_name}"
    if type_name in _APPS_TYPES:
        return f"io.k8s.api.apps.v1.{type_name}"
    if type_name == "LeaseSpec":
        return "io.k8s.api.coordination.v1.LeaseSpec"
    if type_name == "ScaleSpec":
        return "io.k8s.api.autoscaling.v1.ScaleSpec"
    return f"io.k8s.simulated.{type_name}"


def kind_schema_name(info: kinds.ResourceInfo) -> str:
    package = {"": "core", "coordination.k8s.io": "coordination", "discovery.k8s.io": "discovery",
               "events.k8s.io": "events", "scheduling.k8s.io": "scheduling"}.get(info.group, info.group)
    return f"io.k8s.api.{package}.{info.version}.{info.kind}"


# --- strict field validation ----------------------------------------------------------------

def unknown_fields(resource_key: str, body: Any) -> list[str]:
    """Paths of the fields of ``body`` the real decoder would not know, in document order."""
    fields = KIND_FIELDS.get(resource_key)
    if fields is None or not isinstance(body, dict):
        return []
    found: list[str] = []
    _walk_fields(dict(_TOP, **fields), body, "", found, 0)
    return found


def _walk_fields(fields: dict[str, str], value: dict, path: str, found: list[str], depth: int) -> None:
    if depth > MAX_DEPTH:
        return
    for key, item in list(value.items())[:10_000]:
        if len(found) >= MAX_UNKNOWN_FIELDS_REPORTED:
            return
        if isinstance(key, str) and key.startswith("$"):
            continue  # strategic merge patch directives ($setElementOrder/..., $patch, $retainKeys)
        child = f"{path}.{key}" if path else key
        type_name = fields.get(key)
        if type_name is None:
            found.append(child)
            continue
        _walk_value(type_name, item, child, found, depth + 1)


def _walk_value(type_name: str, item: Any, path: str, found: list[str], depth: int) -> None:
    if type_name.startswith("[]"):
        if isinstance(item, list):
            for index, element in enumerate(item[:10_000]):
                _walk_value(type_name[2:], element, f"{path}[{index}]", found, depth + 1)
        return
    nested = TYPES.get(type_name)
    if nested is not None and isinstance(item, dict):
        _walk_fields(nested, item, path, found, depth)


# --- OpenAPI documents ------------------------------------------------------------------------

def _property(type_name: str, description: str | None = None) -> dict:
    schema: dict
    if type_name.startswith("[]"):
        schema = {"type": "array", "items": _property(type_name[2:])}
    elif type_name in (_STR, _INT, _BOOL):
        schema = {"type": type_name}
        if type_name == _INT:
            schema["format"] = "int64"
    elif type_name in ("Time", "MicroTime"):
        schema = {"type": "string", "format": "date-time"}
    elif type_name == "Quantity":
        schema = {"type": "string"}
    elif type_name == "IntOrString":
        schema = {"type": "string", "format": "int-or-string", "x-kubernetes-int-or-string": True}
    elif type_name == _MAP:
        schema = {"type": "object", "additionalProperties": {"type": "string", "default": ""}}
    elif type_name == _QUANTITIES:
        schema = {"type": "object", "additionalProperties": {"type": "string"}}
    elif type_name == _OBJ:
        schema = {"type": "object"}
    else:
        schema = {"allOf": [{"$ref": f"#/components/schemas/{schema_name(type_name)}"}], "default": {}}
    if description:
        schema["description"] = description
    return schema


def _object_schema(fields: dict[str, str], description: str) -> dict:
    properties = {name: _property(type_name, FIELD_DESCRIPTIONS.get(name)) for name, type_name in fields.items()}
    return {"description": description, "type": "object", "properties": properties}


def _referenced_types(fields: dict[str, str], seen: list[str]) -> None:
    for type_name in fields.values():
        bare = type_name[2:] if type_name.startswith("[]") else type_name
        if bare in TYPES and bare not in seen:
            seen.append(bare)
            _referenced_types(TYPES[bare], seen)


def _gvk(info: kinds.ResourceInfo) -> dict:
    return {"group": info.group, "version": info.version, "kind": info.kind}


def _query(name: str, description: str, type_name: str = "string") -> dict:
    return {"name": name, "in": "query", "description": description, "schema": {"type": type_name, "uniqueItems": True}}


_MUTATION_PARAMETERS = [
    _query("dryRun", "When present, the change is checked but not persisted. Valid value: All."),
    _query("fieldManager", "The name of the actor making the change."),
    _query("fieldValidation", "How to treat unknown or duplicate fields in the request body: Ignore, Warn or Strict."),
]
_PATCH_CONTENT_TYPES = ("application/json-patch+json", "application/merge-patch+json")


def _operation(info: kinds.ResourceInfo, action: str, operation_id: str, *, parameters: list | None = None,
               body_types: tuple = (), code: str = "200") -> dict:
    reference = {"$ref": f"#/components/schemas/{kind_schema_name(info)}"}
    operation: dict = {"tags": [info.group or "core"], "operationId": operation_id,
                       "parameters": list(parameters or []),
                       "responses": {code: {"description": "OK", "content": {"application/json": {"schema": reference}}}},
                       "x-kubernetes-action": action, "x-kubernetes-group-version-kind": _gvk(info)}
    if body_types:
        operation["requestBody"] = {"content": {media: {"schema": reference} for media in body_types},
                                    "required": True}
    return operation


def _paths_for(info: kinds.ResourceInfo) -> dict:
    prefix = "/api/v1" if not info.group else f"/apis/{info.group}/{info.version}"
    scope = "/namespaces/{namespace}" if info.namespaced else ""
    collection = f"{prefix}{scope}/{info.plural}"
    name = info.kind
    paths = {
        collection: {
            "get": _operation(info, "list", f"list{name}", parameters=[
                _query("labelSelector", "Select objects by their labels."),
                _query("fieldSelector", "Select objects by their fields."),
                _query("limit", "The most objects to return in one page.", "integer"),
                _query("continue", "The continue token of the previous page."),
                _query("watch", "Stream changes instead of listing.", "boolean")]),
            "post": _operation(info, "post", f"create{name}", parameters=_MUTATION_PARAMETERS,
                               body_types=("application/json", "application/yaml"), code="201"),
        },
        f"{collection}/{{name}}": {
            "get": _operation(info, "get", f"read{name}"),
            "put": _operation(info, "put", f"replace{name}", parameters=_MUTATION_PARAMETERS,
                              body_types=("application/json", "application/yaml")),
            "patch": _operation(info, "patch", f"patch{name}", parameters=_MUTATION_PARAMETERS + [
                _query("force", "Server-side apply only: take ownership of conflicting fields.", "boolean")],
                body_types=_PATCH_CONTENT_TYPES),
            "delete": _operation(info, "delete", f"delete{name}", parameters=[
                _query("gracePeriodSeconds", "Seconds before the object is deleted.", "integer"),
                _query("propagationPolicy", "Orphan, Background or Foreground."),
                _query("dryRun", "When present, nothing is deleted. Valid value: All.")]),
        },
    }
    return paths


@functools.lru_cache(maxsize=None)
def _document_text(group: str, version: str) -> str | None:
    served = discovery.served_resources(group, version)
    if not served:
        return None
    paths: dict = {}
    schemas: dict = {}
    used_types: list[str] = []
    for info in served:
        paths.update(_paths_for(info))
        fields = dict(_TOP, **KIND_FIELDS.get(info.key, {}))
        schema = _object_schema(fields, KIND_DESCRIPTIONS.get(info.kind, info.kind))
        schema["x-kubernetes-group-version-kind"] = [_gvk(info)]
        schemas[kind_schema_name(info)] = schema
        _referenced_types(fields, used_types)
    for type_name in used_types:
        schemas[schema_name(type_name)] = _object_schema(TYPES[type_name], type_name)
    document = {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.33.0"},
                "paths": paths, "components": {"schemas": schemas}}
    return json.dumps(document, separators=(",", ":"))


def document_text(group: str, version: str) -> str | None:
    return _document_text(group, version)


def document_path(group: str, version: str) -> str:
    return "api/v1" if not group else f"apis/{group}/{version}"


def index(base_path: str) -> dict:
    """The /openapi/v3 discovery document; URLs carry the cluster's path prefix (client-go uses
    them as absolute paths on the server)."""
    paths = {}
    for group, version in discovery.group_versions():
        text = document_text(group, version) or ""
        digest = hashlib.sha512(text.encode()).hexdigest()[:128].upper()
        relative = document_path(group, version)
        paths[relative] = {"serverRelativeURL": f"{base_path}/openapi/v3/{relative}?hash={digest}"}
    return {"paths": paths}
