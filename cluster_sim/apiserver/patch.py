"""Patch formats the API server accepts: JSON merge patch (RFC 7386) and JSON patch (RFC 6902).

Strategic merge patch lives in strategic.py; it falls back to merge semantics for unknown fields.
"""
from __future__ import annotations
from ..jsontree import copy_tree



class PatchError(ValueError):
    pass


def merge_patch(target: object, patch: object) -> object:
    if not isinstance(patch, dict):
        return copy_tree(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _parent(document: object, pointer: str) -> tuple:
    if not pointer.startswith("/"):
        raise PatchError(f"invalid JSON pointer {pointer!r}")
    tokens = [_unescape(token) for token in pointer[1:].split("/")]
    current = document
    for token in tokens[:-1]:
        if isinstance(current, list):
            current = current[_index(current, token, existing=True)]
        elif isinstance(current, dict) and token in current:
            current = current[token]
        else:
            raise PatchError(f"doc is missing path: {pointer!r}")
    return current, tokens[-1]


def _index(container: list, token: str, *, existing: bool) -> int:
    if token == "-" and not existing:
        return len(container)
    if not token.isdigit():
        raise PatchError(f"invalid array index {token!r}")
    index = int(token)
    limit = len(container) if existing else len(container) + 1
    if index >= limit:
        raise PatchError(f"array index {index} out of bounds")
    return index


def _get(document: object, pointer: str) -> object:
    parent, token = _parent(document, pointer)
    if isinstance(parent, list):
        return parent[_index(parent, token, existing=True)]
    if isinstance(parent, dict) and token in parent:
        return parent[token]
    raise PatchError(f"doc is missing path: {pointer!r}")


def _remove(document: object, pointer: str) -> object:
    parent, token = _parent(document, pointer)
    if isinstance(parent, list):
        return parent.pop(_index(parent, token, existing=True))
    if isinstance(parent, dict) and token in parent:
        return parent.pop(token)
    raise PatchError(f"doc is missing path: {pointer!r}")


def _add(document: object, pointer: str, value: object) -> object:
    if pointer == "":
        return value
    parent, token = _parent(document, pointer)
    if isinstance(parent, list):
        parent.insert(_index(parent, token, existing=False), value)
    elif isinstance(parent, dict):
        parent[token] = value
    else:
        raise PatchError(f"doc is missing path: {pointer!r}")
    return document


def json_patch(target: dict, operations: object) -> dict:
    if not isinstance(operations, list):
        raise PatchError("json patch must be a list of operations")
    document: object = copy_tree(target)
    for operation in operations[:10_000]:
        if not isinstance(operation, dict) or "op" not in operation or "path" not in operation:
            raise PatchError("each json patch operation needs 'op' and 'path'")
        kind, path = operation["op"], operation["path"]
        if kind == "add":
            document = _add(document, path, copy_tree(operation.get("value")))
        elif kind == "remove":
            _remove(document, path)
        elif kind == "replace":
            _remove(document, path)
            document = _add(document, path, copy_tree(operation.get("value")))
        elif kind == "move":
            value = _remove(document, operation["from"])
            document = _add(document, path, value)
        elif kind == "copy":
            document = _add(document, path, copy_tree(_get(document, operation["from"])))
        elif kind == "test":
            if _get(document, path) != operation.get("value"):
                raise PatchError(f"testing value {path} failed")
        else:
            raise PatchError(f"Unexpected kind: {kind}")
    if not isinstance(document, dict):
        raise PatchError("patched document is not an object")
    return document
