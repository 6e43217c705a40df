"""Discovery documents of a simulated cluster: /version, /api, /apis, the APIResourceLists.

Built from the simulated apiserver's resource table (cluster_sim.apiserver.kinds), so discovery
advertises exactly what the simulation serves, in the shapes kube-apiserver v1.33 writes. They are
the same for every cluster and never change, so they are computed once.
"""
from __future__ import annotations

import base64
import functools
import hashlib

from cluster_sim.apiserver import kinds

VERSION_INFO = {
    "major": "1", "minor": "33",
    "emulationMajor": "1", "emulationMinor": "33",
    "minCompatibilityMajor": "1", "minCompatibilityMinor": "32",
    "gitVersion": "v1.33.0",
    "gitCommit": "60a317eadfcb839692a5551a5d1a1b9e3f3d1a2c",
    "gitTreeState": "clean",
    "buildDate": "2025-04-23T13:00:52Z",
    "goVersion": "go1.24.2",
    "compiler": "gc",
    "platform": "linux/amd64",
}

# The order kube-apiserver lists its groups in (/apis), restricted to the groups simulated here.
GROUP_ORDER = ["apps", "events.k8s.io", "scheduling.k8s.io", "coordination.k8s.io", "discovery.k8s.io"]
# Where the real storage version differs from the served one (events.k8s.io Events are stored as core v1).
STORAGE_GVK = {"events.events.k8s.io": "/v1/Event"}


def storage_version_hash(info: kinds.ResourceInfo) -> str:
    """apiserver's StorageVersionHash: the first 8 bytes of sha256("<group>/<version>/<kind>")."""
    if info.storage_version_hash:
        return info.storage_version_hash
    text = STORAGE_GVK.get(info.key, f"{info.group}/{info.version}/{info.kind}")
    return base64.b64encode(hashlib.sha256(text.encode()).digest()[:8]).decode()


def served_resources(group: str, version: str) -> list[kinds.ResourceInfo]:
    return [info for info in kinds.RESOURCES.values() if info.group == group and info.version == version]


def find_resource(group: str, version: str, plural: str) -> kinds.ResourceInfo | None:
    for info in served_resources(group, version):
        if info.plural == plural:
            return info
    return None


def group_versions() -> list[tuple[str, str]]:
    """Every (group, version) served, core first."""
    seen: list[tuple[str, str]] = [("", "v1")]
    for group in GROUP_ORDER:
        for info in kinds.RESOURCES.values():
            if info.group == group and (group, info.version) not in seen:
                seen.append((group, info.version))
    return seen


def group_version_text(group: str, version: str) -> str:
    return f"{group}/{version}" if group else version


def api_versions(server_address: str) -> dict:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def api_group(group: str) -> dict | None:
    versions = [{"groupVersion": group_version_text(group, version), "version": version}
                for served_group, version in group_versions() if served_group == group and group]
    if not versions:
        return None
    return {"name": group, "versions": versions, "preferredVersion": versions[0]}


def api_group_list() -> dict:
    groups = [api_group(group) for group in GROUP_ORDER if api_group(group) is not None]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group_document(group: str) -> dict | None:
    found = api_group(group)
    if found is None:
        return None
    return dict({"kind": "APIGroup", "apiVersion": "v1"}, **found)


def resource_entry(info: kinds.ResourceInfo) -> dict:
    entry = {"name": info.plural, "singularName": info.singular, "namespaced": info.namespaced,
             "kind": info.kind, "verbs": list(info.verbs)}
    if info.short_names:
        entry["shortNames"] = list(info.short_names)
    if info.categories:
        entry["categories"] = list(info.categories)
    if info.stored:
        entry["storageVersionHash"] = storage_version_hash(info)
    return entry


def subresource_entries(info: kinds.ResourceInfo) -> list[dict]:
    entries = []
    for sub in kinds.SUBRESOURCES.values():
        if sub.parent != info.plural or info.group != _parent_group(sub):
            continue
        entry = {"name": sub.path, "singularName": "", "namespaced": info.namespaced, "kind": sub.kind,
                 "verbs": list(sub.verbs)}
        if (sub.group, sub.version) != (info.group, info.version):
            entry["group"] = sub.group
            entry["version"] = sub.version
        entries.append(entry)
    return entries


def _parent_group(sub: kinds.SubresourceInfo) -> str:
    for info in kinds.RESOURCES.values():
        if info.plural == sub.parent and info.key == info.plural:
            return info.group
    return ""


@functools.lru_cache(maxsize=None)
def _resource_list(group: str, version: str) -> dict | None:
    served = served_resources(group, version)
    if not served:
        return None
    resources = []
    for info in sorted(served, key=lambda item: item.plural):
        resources.append(resource_entry(info))
        resources.extend(sorted(subresource_entries(info), key=lambda entry: entry["name"]))
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version_text(group, version),
            "resources": resources}


def resource_list(group: str, version: str) -> dict | None:
    return _resource_list(group, version)
