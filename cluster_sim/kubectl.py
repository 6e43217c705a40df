"""The learner's kubectl inside the simulation: every API action of a scenario or of the web app
goes through it, so each one is a real request to a simulated kube-apiserver and can fail the way a
real client's request fails.

An action may take several requests (drain evicts pod after pod); the component keeps each
action's progress as plain data keyed by action id.
"""
from __future__ import annotations

import copy
from typing import Any

from .client import ApiComponent
from .apiserver import kinds

USER_AGENT = "kubectl/v1.33.0 (linux/amd64) kubernetes/8adc0f0"
BOOTSTRAP_RETRY_MS = 1_000
NODES_READY_WAIT_MS = 60_000
# client-go's transport gives up dialing a host that does not answer after 30 s.
DIAL_TIMEOUT_MS = 30_000
# No answer, apiserver not ready, namespace not there yet, etcd unavailable.
RETRIABLE_CODES = (0, 403, 404, 500, 503)


class Kubectl(ApiComponent):
    kind = "kubectl"

    def __init__(self, sim: Any, api_servers: list[str]):
        super().__init__(sim, "kubectl", "workstation", api_servers, USER_AGENT)
        self.actions: dict[str, dict] = {}
        self.next_action_id = 0
        # Raw API calls made on behalf of a person's real kubectl (web layer); answers collected here.
        self.raw_results: dict[str, dict] = {}
        # Raw watches: watch id -> {"ticket", "server"}; ticket -> notifications not yet taken.
        self.raw_watches: dict[str, dict] = {}
        self.raw_watch_events: dict[str, list] = {}

    # Raw requests (the Kubernetes API front end of the web app) ----------------------------
    def on_raw_request(self, payload: dict) -> None:
        request = payload["request"]
        self.api.request(request["verb"], request["resource"], namespace=request.get("namespace"),
                         name=request.get("name"), body=request.get("body"), subresource=request.get("subresource"),
                         params=request.get("params") or {}, context={"raw": payload["ticket"]},
                         timeout_ms=payload.get("timeout_ms", 30_000))

    def on_unclaimed_watch_event(self, body: dict) -> None:
        watch = self.raw_watches.get(body["watch_id"])
        if watch is None:
            return
        self.raw_watch_events.setdefault(watch["ticket"], []).append(
            {"type": body["type"], "object": body.get("object")})
        if body["type"] == "END":
            del self.raw_watches[body["watch_id"]]

    def on_raw_unwatch(self, payload: dict) -> None:
        """The person's kubectl hung up: stop the watch in the apiserver."""
        for watch_id, watch in list(self.raw_watches.items()):
            if watch["ticket"] == payload["ticket"]:
                self.send(watch["server"], "api_unwatch", {"watch_id": watch_id})
                del self.raw_watches[watch_id]
        self.raw_watch_events.pop(payload["ticket"], None)

    # Scenario / learner actions -----------------------------------------------------------
    def run_action(self, action: dict) -> None:
        self.next_action_id += 1
        action_id = f"action-{self.next_action_id}"
        self.actions[action_id] = {"action": action, "pending": 0, "failed": None, "done": []}
        starter = getattr(self, "start_" + action["action"].replace(".", "_"))
        starter(action_id, action)
        self.finish_if_idle(action_id)

    def call(self, action_id: str, verb: str, resource: str, *, step: str, **arguments: Any) -> None:
        self.actions[action_id]["pending"] += 1
        self.api.request(verb, resource, context={"action": action_id, "step": step},
                         timeout_ms=DIAL_TIMEOUT_MS, **arguments)

    def on_request_result(self, context: dict, code: int, body: Any) -> None:
        if "raw" in context:
            self.raw_results[context["raw"]] = {"code": code, "body": body}
            if code == 200 and isinstance(body, dict) and "watch_id" in body:
                self.raw_watches[body["watch_id"]] = {"ticket": context["raw"], "server": body["server"]}
                self.raw_watch_events[context["raw"]] = []
            return
        action_id = context.get("action")
        progress = self.actions.get(action_id or "")
        if progress is None:
            return
        progress["pending"] -= 1
        if code == 0 or code >= 400:
            if not self.tolerated(progress, context["step"], code):
                progress["failed"] = progress["failed"] or _failure_text(body)
        else:
            progress["done"].append(context["step"])
            follow_up = getattr(self, "continue_" + context["step"], None)
            if follow_up is not None:
                follow_up(action_id, progress["action"], body)
        self.finish_if_idle(action_id)

    def tolerated(self, progress: dict, step: str, code: int) -> bool:
        if step == "apply_create" and code == 409:
            self.apply_patch(progress)
            return True
        action = progress["action"]
        if code in RETRIABLE_CODES and self.sim.now_ms + BOOTSTRAP_RETRY_MS <= action.get("retry_until_ms", 0):
            # Bootstrap (kubeadm add-ons, a scenario's objects) waits for the control plane.
            if not progress.get("retrying"):
                progress["retrying"] = True
                self.after(BOOTSTRAP_RETRY_MS, "retry_action", action)
            return True
        return False

    def on_retry_action(self, action: dict) -> None:
        self.run_action(action)

    def finish_if_idle(self, action_id: str) -> None:
        progress = self.actions.get(action_id)
        if progress is None or progress["pending"] > 0:
            return
        del self.actions[action_id]
        if progress.get("retrying"):
            return
        action = progress["action"]
        ok = progress["failed"] is None
        self.emit("action.result", self.name, {"action": action["action"], "target": action.get("target"),
                                               "ok": ok, "message": progress["failed"] or "ok"})

    # apply ------------------------------------------------------------------------------
    def start_apply(self, action_id: str, action: dict) -> None:
        if action.get("wait_for_ready_nodes"):
            # `kubectl wait --for=condition=Ready nodes --all` before a scenario's own objects.
            self.call(action_id, "list", "nodes", step="nodes_ready", params={"resourceVersion": "0"})
            return
        self.create_for_apply(action_id, action)

    def continue_nodes_ready(self, action_id: str, action: dict, node_list: dict) -> None:
        ready = [node for node in node_list["items"] if _is_ready(node)]
        # A node a learner failed during the bootstrap never gets Ready: like a script's
        # `kubectl wait --timeout=60s || true`, go on without it after a minute.
        if len(ready) >= action["wait_for_ready_nodes"] or self.sim.now_ms >= NODES_READY_WAIT_MS:
            self.create_for_apply(action_id, action)
            return
        progress = self.actions[action_id]
        progress["retrying"] = True
        self.after(BOOTSTRAP_RETRY_MS, "retry_action", action)

    def create_for_apply(self, action_id: str, action: dict) -> None:
        manifest = action["object"]
        info = kinds.resource_for_kind(manifest.get("apiVersion", ""), manifest.get("kind", ""))
        if info is None:
            self.actions[action_id]["failed"] = f"no matches for kind \"{manifest.get('kind')}\" in version \"{manifest.get('apiVersion')}\""
            return
        namespace = (manifest.get("metadata") or {}).get("namespace") or ("default" if info.namespaced else None)
        self.actions[action_id]["resource"] = info.plural
        self.actions[action_id]["namespace"] = namespace
        self.call(action_id, "create", info.plural, step="apply_create", namespace=namespace, body=manifest)

    def apply_patch(self, progress: dict) -> None:
        action_id = next(key for key, value in self.actions.items() if value is progress)
        manifest = progress["action"]["object"]
        self.call(action_id, "patch", progress["resource"], step="apply_patch", namespace=progress["namespace"],
                  name=manifest["metadata"]["name"], body=manifest, params={"patchType": "merge"})

    # delete / scale / rollout -------------------------------------------------------------
    def start_delete(self, action_id: str, action: dict) -> None:
        resource, namespace, name = action["resource"], action.get("namespace"), action["name"]
        self.call(action_id, "delete", resource, step="delete", namespace=namespace, name=name)

    def start_scale(self, action_id: str, action: dict) -> None:
        self.call(action_id, "patch", action.get("resource", "deployments"), step="scale",
                  namespace=action.get("namespace", "default"), name=action["name"], subresource="scale",
                  body={"spec": {"replicas": int(action["replicas"])}}, params={"patchType": "merge"})

    def start_rollout(self, action_id: str, action: dict) -> None:
        self.call(action_id, "get", "deployments", step="rollout_read", namespace=action.get("namespace", "default"),
                  name=action["name"])

    def continue_rollout_read(self, action_id: str, action: dict, deployment: dict) -> None:
        template = copy.deepcopy(deployment["spec"]["template"])
        containers = template["spec"]["containers"]
        wanted = action.get("container")
        for container in containers:
            if wanted in (None, container["name"]):
                container["image"] = action["image"]
        self.call(action_id, "patch", "deployments", step="rollout", namespace=deployment["metadata"]["namespace"],
                  name=deployment["metadata"]["name"], body={"spec": {"template": {"spec": {"containers": containers}}}},
                  params={"patchType": "merge"})

    # cordon / uncordon / drain ------------------------------------------------------------
    def start_cordon(self, action_id: str, action: dict) -> None:
        self.call(action_id, "patch", "nodes", step="cordon", name=action["target"],
                  body={"spec": {"unschedulable": True}}, params={"patchType": "merge"})

    def start_uncordon(self, action_id: str, action: dict) -> None:
        self.call(action_id, "patch", "nodes", step="uncordon", name=action["target"],
                  body={"spec": {"unschedulable": None}}, params={"patchType": "merge"})

    def start_drain(self, action_id: str, action: dict) -> None:
        self.start_cordon(action_id, action)
        self.call(action_id, "list", "pods", step="drain_list", params={"fieldSelector": f"spec.nodeName={action['target']}"})

    def continue_drain_list(self, action_id: str, _action: dict, pod_list: dict) -> None:
        for pod in pod_list["items"]:
            metadata = pod["metadata"]
            owners = metadata.get("ownerReferences") or []
            if any(owner.get("kind") == "DaemonSet" for owner in owners):
                continue
            if (metadata.get("annotations") or {}).get("kubernetes.io/config.mirror"):
                continue
            eviction = {"apiVersion": "policy/v1", "kind": "Eviction",
                        "metadata": {"name": metadata["name"], "namespace": metadata["namespace"]}}
            self.call(action_id, "create", "pods", step="evict", namespace=metadata["namespace"],
                      name=metadata["name"], subresource="eviction", body=eviction)


def _failure_text(body: Any) -> str:
    """The line kubectl prints for a failed request."""
    if isinstance(body, dict):
        if body.get("kind") == "Status":
            reason = body.get("reason")
            prefix = f"Error from server ({reason})" if reason else "Error from server"
            return f"{prefix}: {body.get('message', '')}"
        if body.get("error") == "connection refused":
            return f"The connection to the server {body['address']} was refused - did you specify the right host or port?"
        if body.get("error") == "timeout":
            return f"Unable to connect to the server: {body['message']}"
        if "message" in body:
            return body["message"]
    return str(body)


def _is_ready(node: dict) -> bool:
    for condition in (node.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False
