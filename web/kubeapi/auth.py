"""Who may reach a cluster's Kubernetes API: whoever holds its secret.

The API base URL is ``/k8s/<secret>``: over plain http kubectl sends no token, so the URL itself is
the credential (at least 128 bits, ``LiveCluster.secret``). Over https a bearer token equal to the
secret works too; the path then may name the cluster by its id instead.
"""
from __future__ import annotations

import secrets

from cluster_sim.apiserver import validation
from web.runtime import LiveCluster, registry


def cluster_for(*, path_key: str, authorization: str | None, secure: bool) -> LiveCluster | None:
    live = registry.by_secret(path_key)
    if live is not None:
        return live
    if not secure or not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    live = registry.by_secret(token.strip())
    if live is not None and secrets.compare_digest(live.id, path_key):
        return live
    return None


def unauthorized_status() -> dict:
    """kube-apiserver's answer to a request no authenticator accepts (kubectl: "You must be logged in")."""
    return validation.status_error(401, "Unauthorized", "Unauthorized")
