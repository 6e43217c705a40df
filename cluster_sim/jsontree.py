"""Copying Kubernetes objects: JSON trees of dicts, lists and scalars."""
from __future__ import annotations

import copy
from typing import Any

_SCALARS = (str, int, float, bool, type(None))


def copy_tree(value: Any) -> Any:
    """copy.deepcopy for a JSON tree, several times faster: the apiserver copies every object it
    admits, stores or patches, and deepcopy's memo bookkeeping was a sixth of a busy cluster's time.
    Anything other than a dict, list or scalar is handed to deepcopy."""
    kind = type(value)
    if kind is dict:
        return {key: copy_tree(member) for key, member in value.items()}
    if kind is list:
        return [copy_tree(member) for member in value]
    if kind in _SCALARS:
        return value
    return copy.deepcopy(value)
