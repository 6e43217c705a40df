"""The kubeconfig file that points a real kubectl (or any Kubernetes client) at one live cluster.

The server URL carries the cluster's secret, which is enough on its own: kubectl sends no bearer
token over plain http. Over https it does, so there the secret is also written as the user's
token for front ends that prefer the Authorization header.
"""
from __future__ import annotations

import re

import yaml

NAMESPACE = "default"
UNSAFE_NAME_CHARACTERS = re.compile(r"[^a-z0-9.-]+")
MAX_NAME_LENGTH = 63


def entry_name(*, scenario_name: str, cluster_id: str) -> str:
    """The name of the cluster, context and user entries: `<scenario>-<cluster id>`.

    Inline scenarios may be named anything; kubeconfig names are shown and typed by people
    (`kubectl config use-context ...`), so keep them to DNS-label characters.
    """
    scenario_part = UNSAFE_NAME_CHARACTERS.sub("-", scenario_name.lower()).strip("-.")
    scenario_part = scenario_part[:MAX_NAME_LENGTH - len(cluster_id) - 1].rstrip("-.")
    return f"{scenario_part}-{cluster_id}" if scenario_part else f"cluster-{cluster_id}"


def kubeconfig_document(*, name: str, server: str, token: str | None) -> dict:
    """A kubeconfig (apiVersion v1, kind Config) with one cluster, one user and one context."""
    user: dict = {"token": token} if token else {}
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": server}}],
        "users": [{"name": name, "user": user}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name, "namespace": NAMESPACE}}],
        "current-context": name,
        "preferences": {},
    }


def kubeconfig_yaml(*, name: str, server: str, token: str | None) -> str:
    document = kubeconfig_document(name=name, server=server, token=token)
    return yaml.safe_dump(document, sort_keys=False, default_flow_style=False)
