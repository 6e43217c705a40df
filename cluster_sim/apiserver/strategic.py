"""Strategic merge patch (``application/strategic-merge-patch+json``) for the built-in kinds.

Follows k8s.io/apimachinery/pkg/util/strategicpatch (v0.33): maps merge key by key and ``null``
deletes; a list merges only where the Go type's struct tags say ``patchStrategy:"merge"``, by
its ``patchMergeKey`` (lists of scalars merge as a set); every other list is replaced.  The
directives ``$patch: replace|delete`` (in a map or as a list element), ``$retainKeys`` and
``$deleteFromPrimitiveList/<field>`` are honoured; ``$setElementOrder/<field>`` is accepted and
ignored, so merged lists take the order the library gives without it: patch items keep their
patch order and server-only items are interleaved by their order in the live object.

The merge keys below are the struct tags of k8s.io/api v0.33 (core/v1, apps/v1) and
k8s.io/apimachinery ObjectMeta.  Fields not listed (tolerations, node taints, endpoint
subsets, ...) carry no patch strategy in the real types and are replaced whole.
"""
from __future__ import annotations

from typing import Any

from .patch import PatchError
from ..jsontree import copy_tree

DIRECTIVE = "$patch"
RETAIN_KEYS = "$retainKeys"
DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList/"
SET_ELEMENT_ORDER = "$setElementOrder/"
MAX_ITEMS = 100_000


def _struct(**fields: dict) -> dict:
    return {"kind": "struct", "fields": fields}


def _merge_list(key: str | None, item: dict | None = None) -> dict:
    """A list with ``patchStrategy:"merge"``: by ``key`` for maps, as a set for scalars (key None)."""
    return {"kind": "list", "key": key, "item": item or _struct()}


CONDITIONS = _merge_list("type")
OBJECT_META = _struct(finalizers=_merge_list(None), ownerReferences=_merge_list("uid"))
CONTAINER = _struct(ports=_merge_list("containerPort"), env=_merge_list("name"),
                    volumeMounts=_merge_list("mountPath"), volumeDevices=_merge_list("devicePath"))
POD_SPEC = _struct(
    volumes=_merge_list("name"), initContainers=_merge_list("name", CONTAINER),
    containers=_merge_list("name", CONTAINER), ephemeralContainers=_merge_list("name", CONTAINER),
    imagePullSecrets=_merge_list("name"), hostAliases=_merge_list("ip"),
    topologySpreadConstraints=_merge_list("topologyKey"), schedulingGates=_merge_list("name"),
    resourceClaims=_merge_list("name"))
POD_STATUS = _struct(conditions=CONDITIONS, podIPs=_merge_list("ip"), hostIPs=_merge_list("ip"),
                     resourceClaimStatuses=_merge_list("name"))
POD_TEMPLATE = _struct(metadata=OBJECT_META, spec=POD_SPEC)
WORKLOAD_STATUS = _struct(conditions=CONDITIONS)


def _kind(spec: dict | None = None, status: dict | None = None) -> dict:
    fields = {"metadata": OBJECT_META}
    if spec is not None:
        fields["spec"] = spec
    if status is not None:
        fields["status"] = status
    return _struct(**fields)


SCHEMAS: dict[str, dict] = {
    "Pod": _kind(POD_SPEC, POD_STATUS),
    "Deployment": _kind(_struct(template=POD_TEMPLATE), WORKLOAD_STATUS),
    "ReplicaSet": _kind(_struct(template=POD_TEMPLATE), WORKLOAD_STATUS),
    "DaemonSet": _kind(_struct(template=POD_TEMPLATE), WORKLOAD_STATUS),
    "StatefulSet": _kind(_struct(template=POD_TEMPLATE), WORKLOAD_STATUS),
    "Service": _kind(_struct(ports=_merge_list("port")), _struct(conditions=CONDITIONS)),
    "Node": _kind(_struct(podCIDRs=_merge_list(None)),
                  _struct(conditions=CONDITIONS, addresses=_merge_list("type"))),
    "Namespace": _kind(None, _struct(conditions=CONDITIONS)),
    "ServiceAccount": _struct(metadata=OBJECT_META, secrets=_merge_list("name")),
    "PersistentVolumeClaim": _kind(None, _struct(conditions=CONDITIONS)),
}
METADATA_ONLY = _kind()


def strategic_merge_patch(kind: str, original: dict, patch: Any) -> dict:
    """``original`` (never modified) with the strategic merge ``patch`` applied, as a new dict."""
    if not isinstance(patch, dict):
        raise PatchError("strategic merge patch must be a JSON object")
    merged = _merge_map(copy_tree(original), patch, SCHEMAS.get(kind, METADATA_ONLY))
    if not isinstance(merged, dict):
        raise PatchError("patched document is not an object")
    return merged


def _field_schema(schema: dict, name: str) -> dict | None:
    if schema.get("kind") != "struct":
        return None
    return schema["fields"].get(name)


def _merge_map(original: Any, patch: dict, schema: dict) -> dict:
    """mergeMap: ``original`` is this function's own copy and may be changed in place."""
    directive = patch.get(DIRECTIVE)
    if directive is not None:
        return _map_directive(directive, patch)
    result = original if isinstance(original, dict) else {}
    retain = patch.get(RETAIN_KEYS)
    if retain is not None:
        if not isinstance(retain, list):
            raise PatchError(f"invalid patch: {RETAIN_KEYS} must be a list")
        for key in [key for key in result if key not in retain][:MAX_ITEMS]:
            del result[key]
    for key, value in list(patch.items())[:MAX_ITEMS]:
        if key == RETAIN_KEYS or key.startswith(SET_ELEMENT_ORDER):
            continue
        if key.startswith(DELETE_FROM_PRIMITIVE_LIST):
            _delete_from_primitive_list(result, key[len(DELETE_FROM_PRIMITIVE_LIST):], value)
            continue
        if value is None:
            result.pop(key, None)
            continue
        result[key] = _merge_value(result.get(key), value, _field_schema(schema, key))
    return result


def _map_directive(directive: Any, patch: dict) -> dict:
    if directive == "replace":
        return {key: copy_tree(value) for key, value in patch.items() if key != DIRECTIVE}
    if directive == "delete":
        return {}
    raise PatchError(f"Unknown patch type: {directive} in map: {patch}")


def _delete_from_primitive_list(result: dict, field: str, values: Any) -> None:
    if not isinstance(values, list):
        raise PatchError(f"invalid patch: {DELETE_FROM_PRIMITIVE_LIST}{field} must be a list")
    current = result.get(field)
    if isinstance(current, list):
        result[field] = [item for item in current if item not in values]


def _merge_value(original: Any, patch: Any, schema: dict | None) -> Any:
    if isinstance(patch, dict):
        nested = schema if schema is not None and schema.get("kind") == "struct" else _struct()
        return _merge_map(original, patch, nested)
    if isinstance(patch, list) and schema is not None and schema.get("kind") == "list" and isinstance(original, list):
        return _merge_list_values(original, patch, schema)
    if isinstance(patch, list) and schema is not None and schema.get("kind") == "list":
        # Nothing to merge with, but the directives still have to go.
        return _merge_list_values([], patch, schema)
    return copy_tree(patch)


def _merge_list_values(original: list, patch: list, schema: dict) -> list:
    key = schema["key"]
    if key is None:
        merged = _deduplicate(original + [copy_tree(item) for item in patch])
        patch_items = _deduplicate(patch)
        server_only = [item for item in merged if item not in patch]
        return _interleave(server_only, patch_items, original, None)
    for item in patch[:MAX_ITEMS]:
        if not isinstance(item, dict):
            raise PatchError(f"invalid patch: list items of a list merged by {key} must be objects")
    original, patch = _special_elements(original, patch, key)
    live_order = list(original)
    for item in patch[:MAX_ITEMS]:
        if key not in item:
            raise PatchError(f"map: {item} does not contain declared merge key: {key}")
        position = _position(original, item[key], key)
        if position >= 0:
            original[position] = _merge_map(original[position], item, schema["item"])
        else:
            original.append(_merge_map({}, item, schema["item"]))
    patch_keys = [item[key] for item in patch]
    patch_items = [item for item in original if isinstance(item, dict) and item.get(key) in patch_keys]
    patch_items.sort(key=lambda item: patch_keys.index(item.get(key)))
    server_only = [item for item in original if not (isinstance(item, dict) and item.get(key) in patch_keys)]
    return _interleave(server_only, patch_items, live_order, key)


def _special_elements(original: list, patch: list, key: str) -> list:
    """mergeSliceWithSpecialElements: ``$patch: delete`` items remove their match from the live
    list, ``$patch: replace`` makes the rest of the patch the whole list."""
    remaining = []
    replace = False
    for item in patch:
        directive = item.get(DIRECTIVE)
        if directive is None:
            remaining.append(item)
        elif directive == "delete":
            if key in item:
                original = [entry for entry in original if not (isinstance(entry, dict) and entry.get(key) == item[key])]
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            raise PatchError("merging lists cannot yet be specified in the patch")
        else:
            raise PatchError(f"Unknown patch type: {directive} in map: {item}")
    if replace:
        return [[_merge_map({}, item, _struct()) for item in remaining], []]
    return [original, remaining]


def _position(items: list, value: Any, key: str) -> int:
    for index, item in enumerate(items[:MAX_ITEMS]):
        if isinstance(item, dict) and item.get(key) == value:
            return index
    return -1


def _deduplicate(items: list) -> list:
    unique: list = []
    for item in items[:MAX_ITEMS]:
        if item not in unique:
            unique.append(item)
    return unique


def _interleave(server_only: list, patch_items: list, live_order: list, key: str | None) -> list:
    """mergeSortedSlice: a server-only item goes first only when both it and the next patch item
    are in the live list and it comes earlier there; so items new to the list lead."""
    def live_index(item: Any) -> int:
        for index, live in enumerate(live_order[:MAX_ITEMS]):
            if (key is None and live == item) or (key is not None and isinstance(live, dict)
                                                  and isinstance(item, dict) and live.get(key) == item.get(key)):
                return index
        return -1

    result = []
    left = right = 0
    for _ in range(len(server_only) + len(patch_items)):
        if left >= len(server_only):
            result.append(patch_items[right])
            right += 1
        elif right >= len(patch_items):
            result.append(server_only[left])
            left += 1
        else:
            left_index, right_index = live_index(server_only[left]), live_index(patch_items[right])
            if left_index >= 0 and right_index >= 0 and left_index < right_index:
                result.append(server_only[left])
                left += 1
            else:
                result.append(patch_items[right])
                right += 1
    return result
