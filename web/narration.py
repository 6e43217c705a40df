"""Plain-language sentences (ko/en) for the event stream of docs/events.md.

`Narrator.sentence(event)` speaks in the active Django language. A narrator remembers a little
(the last score per scheduled pod, which machines are nodes) so that one sentence can say what a
learner would otherwise piece together from two events.
"""
from __future__ import annotations

import collections
from typing import Any

from django.utils.translation import gettext as _

# The node lifecycle controller's --node-monitor-grace-period (cluster_sim controllers/manager.py).
NODE_MONITOR_GRACE_PERIOD_S = 50
REMEMBERED_SCORES = 200

# Filter chips: which part of the cluster an event belongs to.
COMPONENT_GROUPS = ["actions", "kubectl", "apiserver", "etcd", "scheduler", "controllers", "kubelet", "kube-proxy"]

# Frequent messages that repeat without news: hidden by default and counted instead.
NOISE_KINDS = {"etcd.heartbeat", "kubelet.lease.renew", "etcd.replicate", "etcd.ack", "etcd.apply",
               "etcd.append", "etcd.commit", "etcd.request", "api.watch", "proxy.sync"}


def as_event_dict(event: Any) -> dict:
    if isinstance(event, dict):
        return event
    return {"t": event.time_ms, "seq": event.seq, "kind": event.kind, "source": event.source,
            "target": event.target, "payload": event.payload}


def is_noise(event: dict) -> bool:
    kind = event["kind"]
    if kind in NOISE_KINDS:
        return True
    if kind in ("api.request", "api.response"):
        # Components talk to the apiserver all the time; the learner's own requests are the story.
        return "kubectl" not in (event["source"], event["target"])
    return False


def component_group(event: dict) -> str:
    kind, source = event["kind"], event["source"] or ""
    if kind in ("action", "action.result", "machine.down", "machine.up", "process.stop", "process.start",
                "network.partition", "network.heal") or source == "director":
        return "actions"
    if source == "kubectl":
        return "kubectl"
    if kind.startswith("etcd.") and not source.startswith("kube-apiserver"):
        return "etcd"
    if source.startswith("kube-apiserver") or kind.startswith("api"):
        return "apiserver"
    if source.startswith("kube-scheduler"):
        return "scheduler"
    if source.startswith(("kube-controller-manager", "cloud-controller-manager", "cloud")):
        return "controllers"
    if source.startswith("kube-proxy"):
        return "kube-proxy"
    if source.startswith(("kubelet", "containerd")):
        return "kubelet"
    return "controllers"


def group_label(group: str) -> str:
    return {
        "actions": _("Actions and faults"),
        "kubectl": "kubectl",
        "apiserver": "kube-apiserver",
        "etcd": "etcd",
        "scheduler": "kube-scheduler",
        "controllers": _("Controllers"),
        "kubelet": _("kubelet and runtime"),
        "kube-proxy": "kube-proxy",
    }[group]


def format_virtual_time(time_ms: int) -> str:
    """`12:05.3` (minutes:seconds.tenths) or `1:02:05.3` past an hour."""
    tenths = max(0, int(time_ms)) // 100
    hours, rest = divmod(tenths, 36_000)
    minutes, rest = divmod(rest, 600)
    seconds, tenth = divmod(rest, 10)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}.{tenth}"
    return f"{minutes:02d}:{seconds:02d}.{tenth}"


def object_name(payload: dict) -> str:
    name = payload.get("name") or ""
    namespace = payload.get("namespace")
    return f"{namespace}/{name}" if namespace and name else name


class Narrator:
    """Turns events into sentences; one per cluster view (it remembers scheduler scores)."""

    def __init__(self, nodes: list[str] | None = None):
        self.nodes = list(nodes or [])
        self.scores: collections.OrderedDict = collections.OrderedDict()

    def remember(self, event: dict) -> None:
        if event["kind"] == "scheduler.decision" and event["payload"].get("selected"):
            payload = event["payload"]
            self.scores[payload["pod"]] = (payload.get("totals") or {}).get(payload["selected"])
            while len(self.scores) > REMEMBERED_SCORES:
                self.scores.popitem(last=False)

    def sentence(self, event: Any) -> str:
        event = as_event_dict(event)
        self.remember(event)
        method = getattr(self, "say_" + event["kind"].replace(".", "_"), None)
        payload = event.get("payload") or {}
        if method is None:
            return _("%(source)s: %(kind)s") % {"source": event["source"], "kind": event["kind"]}
        return method(event, payload)

    # Actions and faults ----------------------------------------------------------------------
    def say_action(self, event: dict, payload: dict) -> str:
        action, target = payload.get("action"), payload.get("target") or ""
        values = {"target": target, "replicas": payload.get("replicas"), "image": payload.get("image")}
        sentences = {
            "node.fail": _("Fail node %(target)s: the machine loses power"),
            "node.recover": _("Recover node %(target)s: the machine boots again"),
            "node.delete": _("Delete node %(target)s: the cloud provider removes the machine"),
            "kubelet.stop": _("Stop the kubelet on %(target)s (its containers keep running)"),
            "kubelet.start": _("Start the kubelet on %(target)s again"),
            "network.partition": _("Partition %(target)s: cut it off from the network"),
            "network.heal": _("Heal the network of %(target)s"),
            "controlplane.fail": _("Stop control-plane node %(target)s"),
            "controlplane.recover": _("Recover control-plane node %(target)s"),
            "apiserver.fail": _("Stop kube-apiserver on %(target)s"),
            "apiserver.recover": _("Start kube-apiserver on %(target)s again"),
            "etcd.fail": _("Stop etcd member %(target)s"),
            "etcd.recover": _("Start etcd member %(target)s again"),
            "container.crash": _("Crash a container of pod %(target)s"),
            "scale": _("kubectl scale deployment %(target)s --replicas=%(replicas)s"),
            "rollout": _("kubectl set image deployment %(target)s to %(image)s"),
            "cordon": _("kubectl cordon %(target)s"),
            "uncordon": _("kubectl uncordon %(target)s"),
            "drain": _("kubectl drain %(target)s --ignore-daemonsets"),
            "service.request": _("A client connects to Service %(target)s"),
        }
        if action == "network.partition" and not target:
            return _("Split the network into groups: %(groups)s") % {"groups": format_groups(payload.get("groups"))}
        if action == "network.heal" and not target:
            return _("Heal every network partition")
        if action == "apply":
            manifest = payload.get("object") or {}
            return _("kubectl apply %(kind)s %(name)s") % {
                "kind": manifest.get("kind", "?"), "name": (manifest.get("metadata") or {}).get("name", "?")}
        if action == "delete":
            what = payload.get("resource") or payload.get("kind") or ""
            return _("kubectl delete %(what)s %(name)s") % {"what": str(what).lower(), "name": payload.get("name") or ""}
        template = sentences.get(action)
        if template is None:
            return _("Action %(action)s %(target)s") % {"action": action, "target": target}
        return template % values

    def say_action_result(self, event: dict, payload: dict) -> str:
        values = {"action": payload.get("action"), "target": payload.get("target") or "",
                  "message": payload.get("message") or ""}
        if payload.get("ok"):
            return _("kubectl finished %(action)s %(target)s: %(message)s") % values
        return _("kubectl failed %(action)s %(target)s: %(message)s") % values

    def say_machine_down(self, event: dict, payload: dict) -> str:
        machine = payload.get("machine") or event["target"]
        if machine in self.nodes:
            return _("Machine %(machine)s went down: its kubelet stopped renewing the node's lease; "
                     "it will be marked NotReady in %(seconds)s s") % {
                "machine": machine, "seconds": NODE_MONITOR_GRACE_PERIOD_S}
        return _("Machine %(machine)s went down: every process on it stopped") % {"machine": machine}

    def say_machine_up(self, event: dict, payload: dict) -> str:
        return _("Machine %(machine)s is up again; its processes start") % {"machine": payload.get("machine")}

    def say_process_stop(self, event: dict, payload: dict) -> str:
        process = payload.get("process") or event["target"]
        if process.startswith("kubelet-") and process[len("kubelet-"):] in self.nodes:
            return _("%(process)s stopped: %(node)s stops renewing its lease; it will be marked "
                     "NotReady in %(seconds)s s") % {"process": process, "node": process[len("kubelet-"):],
                                                      "seconds": NODE_MONITOR_GRACE_PERIOD_S}
        return _("%(process)s stopped") % {"process": process}

    def say_process_start(self, event: dict, payload: dict) -> str:
        return _("%(process)s started") % {"process": payload.get("process") or event["target"]}

    def say_network_partition(self, event: dict, payload: dict) -> str:
        if event["target"]:
            return _("%(machine)s is cut off: no message reaches it or leaves it") % {"machine": event["target"]}
        return _("The network is split into groups that cannot reach each other: %(groups)s") % {
            "groups": format_groups(payload.get("groups"))}

    def say_network_heal(self, event: dict, payload: dict) -> str:
        if event["target"]:
            return _("%(machine)s is reachable again") % {"machine": event["target"]}
        return _("Every network partition is healed")

    # kube-apiserver -------------------------------------------------------------------------------
    def say_apiserver_starting(self, event: dict, payload: dict) -> str:
        return _("%(apiserver)s is starting: it lists etcd to fill its watch cache") % {"apiserver": event["source"]}

    def say_apiserver_ready(self, event: dict, payload: dict) -> str:
        return _("%(apiserver)s is ready: its watch cache holds revision %(revision)s") % {
            "apiserver": event["source"], "revision": payload.get("revision")}

    def say_api_request(self, event: dict, payload: dict) -> str:
        values = {"client": event["source"], "apiserver": event["target"], "verb": payload.get("verb"),
                  "resource": payload.get("resource"), "name": object_name(payload)}
        if values["name"]:
            return _("%(client)s asks %(apiserver)s to %(verb)s %(resource)s %(name)s") % values
        return _("%(client)s asks %(apiserver)s to %(verb)s %(resource)s") % values

    def say_api_response(self, event: dict, payload: dict) -> str:
        code = payload.get("code") or 0
        values = {"client": event["target"], "apiserver": event["source"], "code": code,
                  "verb": payload.get("verb"), "resource": payload.get("resource"), "name": object_name(payload),
                  "reason": payload.get("reason") or "", "message": payload.get("message") or ""}
        if 200 <= int(code) < 300:
            return _("%(apiserver)s answers %(client)s: %(code)s for %(verb)s %(resource)s %(name)s") % values
        return _("%(apiserver)s answers %(client)s: %(code)s %(reason)s: %(message)s") % values

    def say_etcd_request(self, event: dict, payload: dict) -> str:
        values = {"apiserver": event["source"], "member": event["target"], "key": payload.get("key")}
        if payload.get("op") == "delete":
            return _("%(apiserver)s asks etcd member %(member)s to delete %(key)s") % values
        return _("%(apiserver)s asks etcd member %(member)s to store %(key)s") % values

    def say_api_watch(self, event: dict, payload: dict) -> str:
        values = {"apiserver": event["source"], "component": event["target"], "resource": payload.get("resource"),
                  "name": object_name(payload)}
        change = payload.get("type")
        if change == "ADDED":
            return _("%(apiserver)s tells %(component)s (watch): %(resource)s %(name)s was added") % values
        if change == "DELETED":
            return _("%(apiserver)s tells %(component)s (watch): %(resource)s %(name)s was deleted") % values
        return _("%(apiserver)s tells %(component)s (watch): %(resource)s %(name)s changed") % values

    def say_k8s_event(self, event: dict, payload: dict) -> str:
        values = {"reason": payload.get("reason"), "object": payload.get("object"), "message": payload.get("message")}
        if payload.get("type") == "Warning":
            return _("Warning %(reason)s on %(object)s: %(message)s") % values
        return _("Event %(reason)s on %(object)s: %(message)s") % values

    # Leader election ------------------------------------------------------------------------------
    def say_leader_acquired(self, event: dict, payload: dict) -> str:
        return _("%(component)s became the leader (Lease %(lease)s)") % {
            "component": event["source"], "lease": payload.get("lease")}

    def say_leader_lost(self, event: dict, payload: dict) -> str:
        return _("%(component)s lost its leadership (Lease %(lease)s): %(reason)s; it exits and the "
                 "kubelet restarts it") % {"component": event["source"], "lease": payload.get("lease"),
                                           "reason": payload.get("reason")}

    # etcd -------------------------------------------------------------------------------------------
    def say_etcd_election_start(self, event: dict, payload: dict) -> str:
        values = {"member": payload.get("member") or event["source"], "term": payload.get("term")}
        if payload.get("pre_vote"):
            return _("%(member)s heard no leader for an election timeout: it asks the others for "
                     "pre-votes (term %(term)s)") % values
        return _("%(member)s starts an election for term %(term)s") % values

    def say_etcd_vote(self, event: dict, payload: dict) -> str:
        values = {"member": event["source"], "candidate": payload.get("candidate") or event["target"],
                  "term": payload.get("term")}
        if payload.get("pre_vote"):
            if payload.get("granted"):
                return _("%(member)s grants its pre-vote to %(candidate)s (term %(term)s)") % values
            return _("%(member)s refuses its pre-vote to %(candidate)s (term %(term)s)") % values
        if payload.get("granted"):
            return _("%(member)s votes for %(candidate)s in term %(term)s") % values
        return _("%(member)s refuses its vote to %(candidate)s in term %(term)s") % values

    def say_etcd_leader_elected(self, event: dict, payload: dict) -> str:
        return _("%(leader)s won a quorum of votes: it leads term %(term)s") % {
            "leader": payload.get("leader") or event["source"], "term": payload.get("term")}

    def say_etcd_leader_stepdown(self, event: dict, payload: dict) -> str:
        return _("%(member)s stepped down as leader (term %(term)s): %(reason)s") % {
            "member": event["source"], "term": payload.get("term"), "reason": payload.get("reason")}

    def say_etcd_append(self, event: dict, payload: dict) -> str:
        values = {"member": event["source"], "index": payload.get("index"), "term": payload.get("term"),
                  "op": payload.get("op"), "key": payload.get("key") or ""}
        if payload.get("op") == "noop":
            return _("Leader %(member)s appended an empty entry %(index)s to start term %(term)s") % values
        return _("Leader %(member)s appended entry %(index)s (term %(term)s): %(op)s %(key)s") % values

    def say_etcd_replicate(self, event: dict, payload: dict) -> str:
        values = {"leader": event["source"], "follower": event["target"], "first": payload.get("from_index"),
                  "last": payload.get("to_index"), "term": payload.get("term")}
        if values["first"] == values["last"]:
            return _("%(leader)s sends entry %(first)s to %(follower)s (term %(term)s)") % values
        return _("%(leader)s sends entries %(first)s to %(last)s to %(follower)s (term %(term)s)") % values

    def say_etcd_ack(self, event: dict, payload: dict) -> str:
        return _("%(member)s acknowledged entry %(index)s (term %(term)s)") % {
            "member": event["source"], "index": payload.get("match_index"), "term": payload.get("term")}

    def say_etcd_commit(self, event: dict, payload: dict) -> str:
        return _("Entry %(index)s is committed: a quorum of members holds it (term %(term)s)") % {
            "index": payload.get("index"), "term": payload.get("term")}

    def say_etcd_apply(self, event: dict, payload: dict) -> str:
        return _("%(member)s applied entry %(index)s: revision %(revision)s (%(op)s %(key)s)") % {
            "member": event["source"], "index": payload.get("index"), "revision": payload.get("revision"),
            "op": payload.get("op"), "key": payload.get("key") or ""}

    def say_etcd_heartbeat(self, event: dict, payload: dict) -> str:
        return _("%(leader)s sends a heartbeat to %(follower)s (term %(term)s)") % {
            "leader": event["source"], "follower": event["target"], "term": payload.get("term")}

    def say_etcd_request_timeout(self, event: dict, payload: dict) -> str:
        return _("%(member)s gave up on %(client)s's %(op)s of %(key)s after 7 s: "
                 "\"etcdserver: request timed out\"") % {
            "member": event["source"], "client": event["target"], "op": payload.get("op"),
            "key": payload.get("key") or ""}

    # kube-scheduler ---------------------------------------------------------------------------------
    def say_scheduler_decision(self, event: dict, payload: dict) -> str:
        selected = payload.get("selected")
        if selected:
            return _("kube-scheduler chose %(node)s for %(pod)s: highest score %(score)s among %(count)s "
                     "feasible nodes") % {"node": selected, "pod": payload.get("pod"),
                                          "score": (payload.get("totals") or {}).get(selected),
                                          "count": len(payload.get("totals") or {})}
        return _("kube-scheduler found no node for %(pod)s: %(message)s") % {
            "pod": payload.get("pod"), "message": payload.get("message") or ""}

    def say_scheduler_bound(self, event: dict, payload: dict) -> str:
        score = self.scores.get(payload.get("pod"))
        values = {"pod": payload.get("pod"), "node": payload.get("node"), "score": score}
        if score is None:
            return _("kube-scheduler bound %(pod)s to %(node)s") % values
        return _("kube-scheduler bound %(pod)s to %(node)s: highest score %(score)s") % values

    def say_scheduler_preempt(self, event: dict, payload: dict) -> str:
        return _("kube-scheduler preempts %(victim)s on %(node)s to make room for %(preemptor)s") % fields(payload)

    def say_scheduler_error(self, event: dict, payload: dict) -> str:
        return _("kube-scheduler hit an error for %(pod)s: %(message)s") % fields(payload)

    # Controllers and the cloud ----------------------------------------------------------------------
    def say_controller_sync(self, event: dict, payload: dict) -> str:
        return _("%(controller)s: %(action)s (%(key)s)") % {
            "controller": payload.get("controller"), "action": payload.get("action"), "key": payload.get("key")}

    def say_node_condition(self, event: dict, payload: dict) -> str:
        values = {"node": payload.get("node"), "condition": payload.get("condition"),
                  "status": payload.get("status"), "reason": payload.get("reason"),
                  "seconds": NODE_MONITOR_GRACE_PERIOD_S}
        if payload.get("condition") == "Ready":
            return _("%(node)s is NotReady: no heartbeat for %(seconds)s s, so the node lifecycle "
                     "controller set Ready=%(status)s (%(reason)s)") % values
        return _("The node lifecycle controller set %(condition)s=%(status)s on %(node)s (%(reason)s)") % values

    def say_node_taint(self, event: dict, payload: dict) -> str:
        values = {"node": payload.get("node"), "taint": f"{payload.get('key')}:{payload.get('effect')}"}
        if payload.get("added"):
            if payload.get("effect") == "NoExecute":
                return _("%(node)s tainted %(taint)s: its pods are evicted when their toleration "
                         "(300 s by default) runs out") % values
            return _("%(node)s tainted %(taint)s: no new pods are scheduled there") % values
        return _("Taint %(taint)s removed from %(node)s") % values

    def say_pod_evict(self, event: dict, payload: dict) -> str:
        values = {"pod": payload.get("pod"), "node": payload.get("node")}
        if payload.get("reason") == "TaintManagerEviction":
            return _("taint-eviction-controller deletes %(pod)s from %(node)s: its toleration of the "
                     "NoExecute taint ran out") % values
        return _("The pod garbage collector deletes %(pod)s (node %(node)s)") % values

    def say_zone_state(self, event: dict, payload: dict) -> str:
        return _("Zone %(zone)s is now %(state)s") % {"zone": payload.get("zone") or event["target"],
                                                       "state": payload.get("state")}

    def say_cloud_load_balancer(self, event: dict, payload: dict) -> str:
        values = {"service": payload.get("service"), "ip": payload.get("ip")}
        if payload.get("action") == "deleted":
            return _("The cloud provider released load balancer %(ip)s of %(service)s") % values
        return _("The cloud provider is provisioning load balancer %(ip)s for %(service)s") % values

    def say_cloud_machine(self, event: dict, payload: dict) -> str:
        return _("The cloud provider deleted machine %(machine)s") % {"machine": payload.get("machine")}

    # Node agents ------------------------------------------------------------------------------------
    def say_kubelet_registered(self, event: dict, payload: dict) -> str:
        return _("The kubelet on %(node)s registered its Node") % {"node": payload.get("node")}

    def say_kubelet_lease_renew(self, event: dict, payload: dict) -> str:
        return _("The kubelet on %(node)s renewed its Lease (heartbeat)") % {"node": payload.get("node")}

    def say_kubelet_lease_error(self, event: dict, payload: dict) -> str:
        return _("The kubelet on %(node)s could not renew its Lease: %(error)s") % {
            "node": payload.get("node"), "error": payload.get("error")}

    def say_kubelet_status(self, event: dict, payload: dict) -> str:
        if payload.get("ready"):
            return _("The kubelet on %(node)s reports the node Ready") % {"node": payload.get("node")}
        return _("The kubelet on %(node)s reports the node not ready") % {"node": payload.get("node")}

    def say_kubelet_static_pod_exited(self, event: dict, payload: dict) -> str:
        return _("%(component)s exited (%(reason)s); the kubelet restarts it") % fields(payload)

    def say_pod_phase(self, event: dict, payload: dict) -> str:
        return _("%(pod)s is %(phase)s on %(node)s") % fields(payload)

    def say_container_state(self, event: dict, payload: dict) -> str:
        values = {"container": payload.get("container"), "pod": payload.get("pod"), "state": payload.get("state"),
                  "reason": payload.get("reason") or "", "restarts": payload.get("restartCount") or 0}
        if values["reason"]:
            return _("Container %(container)s of %(pod)s is %(state)s (%(reason)s, restarts %(restarts)s)") % values
        return _("Container %(container)s of %(pod)s is %(state)s (restarts %(restarts)s)") % values

    def say_image_pull(self, event: dict, payload: dict) -> str:
        values = {"node": payload.get("node"), "image": payload.get("image"),
                  "seconds": f"{(payload.get('ms') or 0) / 1000:.1f}"}
        if payload.get("ok"):
            return _("%(node)s pulled image %(image)s in %(seconds)s s") % values
        return _("%(node)s could not pull image %(image)s") % values

    def say_probe_fail(self, event: dict, payload: dict) -> str:
        return _("The %(probe)s probe of %(pod)s (container %(container)s) failed") % fields(payload)

    def say_cri_call(self, event: dict, payload: dict) -> str:
        return _("The kubelet calls %(method)s on %(runtime)s for %(pod)s") % {
            "method": payload.get("method"), "runtime": event["source"], "pod": payload.get("pod")}

    def say_proxy_sync(self, event: dict, payload: dict) -> str:
        return _("kube-proxy on %(node)s rewrote its iptables rules: %(services)s service ports, "
                 "%(endpoints)s endpoints") % fields(payload)

    def say_proxy_route(self, event: dict, payload: dict) -> str:
        return _("kube-proxy sends %(client)s's connection for %(service)s to pod %(pod)s on %(node)s "
                 "(%(endpoint)s)") % fields(payload)

    def say_proxy_reject(self, event: dict, payload: dict) -> str:
        return _("kube-proxy refuses %(client)s's connection to %(service)s: %(reason)s") % fields(payload)


def fields(payload: dict) -> collections.defaultdict:
    """The payload for %-formatting: a field an older event lacks prints as empty, not KeyError."""
    return collections.defaultdict(str, payload)


def format_groups(groups: Any) -> str:
    if not groups:
        return ""
    return " | ".join(", ".join(group) for group in groups)
