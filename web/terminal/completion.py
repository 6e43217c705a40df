"""Tab completion for the terminal: verbs, resource types and resource names (from a list request)."""
from __future__ import annotations

import shlex
from typing import Any

from cluster_sim.apiserver.kinds import RESOURCES, lookup_resource

from .kubectl import COMMANDS, UNSUPPORTED, Session
from .parsing import parse

VERBS_WITH_TYPE = {"get", "describe", "delete", "label", "annotate", "scale", "expose", "explain", "edit"}
ROLLOUT_ACTIONS = ["history", "pause", "restart", "resume", "status", "undo"]
MAX_COMPLETIONS = 200


def type_names() -> list[str]:
    names = set()
    for info in RESOURCES.values():
        if info.plural == "bindings":
            continue
        names.update([info.plural, info.singular, *info.short_names])
    return sorted(names | {"all"})


def complete(live: Any, line: str) -> list[str]:
    """Completions for the last word of ``line``."""
    ends_with_space = line.endswith(" ")
    try:
        words = shlex.split(line)
    except ValueError:
        return []
    if words[:1] in (["kubectl"], ["k"]):
        words = words[1:]
    prefix = "" if ends_with_space or not words else words[-1]
    done = words if ends_with_space else words[:-1]
    positional = [word for word in done if not word.startswith("-")]
    candidates = candidates_for(live, positional, done, prefix)
    return sorted({c for c in candidates if c.startswith(prefix)})[:MAX_COMPLETIONS]


def candidates_for(live: Any, positional: list[str], done: list[str], prefix: str) -> list[str]:
    if not positional:
        return sorted(set(COMMANDS) | set(UNSUPPORTED) | {"help"})
    verb = positional[0]
    if verb == "rollout":
        if len(positional) == 1:
            return ROLLOUT_ACTIONS
        return typed_names(live, done, "deployments", prefix, slash=True)
    if verb in ("cordon", "uncordon", "drain"):
        return names_of(live, "nodes", None)
    if verb == "logs":
        return names_of(live, "pods", namespace_in(done))
    if verb == "set":
        return ["image"] if len(positional) == 1 else typed_names(live, done, "deployments", prefix, slash=True)
    if verb not in VERBS_WITH_TYPE:
        return []
    if "/" in prefix:
        type_name = prefix.partition("/")[0]
        info = lookup_resource(type_name)
        return [f"{type_name}/{name}" for name in names_of(live, info.key, namespace_in(done))] if info else []
    if len(positional) == 1:
        return type_names()
    info = lookup_resource(positional[1].split(",")[0])
    if info is None or "," in positional[1]:
        return []
    return names_of(live, info.key, namespace_in(done))


def typed_names(live: Any, done: list[str], resource: str, prefix: str, *, slash: bool) -> list[str]:
    type_name = prefix.partition("/")[0] if "/" in prefix else "deployment"
    return [f"{type_name}/{name}" for name in names_of(live, resource, namespace_in(done))]


def namespace_in(done: list[str]) -> str | None:
    command = parse(" ".join(shlex.quote(word) for word in done)) if done else None
    if command and command.switch("all-namespaces"):
        return None
    return (command.flag("namespace") if command else None) or "default"


def names_of(live: Any, resource: str, namespace: str | None) -> list[str]:
    info = RESOURCES.get(resource)
    if info is None:
        return []
    code, answer = Session(live).call("list", resource, namespace=namespace if info.namespaced else None,
                                      params={"resourceVersion": "0"})
    if code != 200 or not isinstance(answer, dict):
        return []
    return [item["metadata"]["name"] for item in answer.get("items") or []]
