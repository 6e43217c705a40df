"""Goals of lesson steps, checked live against a learner's simulated cluster.

A check is a named function ``(view, params) -> Result`` registered with ``@check(name,
required=..., optional=...)``. ``view`` reads the cluster the way a controller would: objects
from a ready kube-apiserver's watch cache (no API request enters the simulation, so checking
never changes what the learner sees), falling back to etcd's own store while no apiserver is
ready. Each result carries a detail text in Korean and English for the steps panel.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from cluster_sim import durations
from cluster_sim.apiserver import kinds
from cluster_sim.apiserver.selectors import SelectorError, labels_match, parse_label_selector

WAITING_PULL_REASONS = ["ErrImagePull", "ImagePullBackOff"]
DEFAULT_RECENT_MS = 2 * 60_000


@dataclass
class Result:
    passed: bool
    ko: str
    en: str

    def text(self, language: str) -> str:
        return self.ko if language == "ko" else self.en


@dataclass
class CheckSpec:
    name: str
    function: Callable[["ClusterView", dict], Result]
    required: tuple = ()
    optional: tuple = ()
    alternatives: tuple = ()  # groups of which exactly one must be given

    def param_names(self) -> list[str]:
        names = list(self.required) + list(self.optional)
        for group in self.alternatives:
            names.extend(group)
        return names


CHECKS: dict[str, CheckSpec] = {}


def check(name: str, *, required: tuple = (), optional: tuple = (), alternatives: tuple = ()):
    def register(function: Callable) -> Callable:
        CHECKS[name] = CheckSpec(name, function, required, optional, alternatives)
        return function
    return register


def validate_goal(goal: dict) -> str | None:
    """Why one goal entry ({"check": name, **params}) is malformed, or None."""
    name = goal.get("check")
    if name not in CHECKS:
        return f"unknown check {name!r}; known checks: {', '.join(sorted(CHECKS))}"
    spec = CHECKS[name]
    params = {key: value for key, value in goal.items() if key != "check"}
    for key in spec.required:
        if key not in params:
            return f"check {name}: missing parameter {key!r}"
    unknown = sorted(set(params) - set(spec.param_names()))
    if unknown:
        return f"check {name}: unknown parameter(s) {', '.join(unknown)}; allowed: {', '.join(spec.param_names())}"
    for group in spec.alternatives:
        given = [key for key in group if key in params]
        if len(given) != 1:
            return f"check {name}: give exactly one of {', '.join(group)}"
    if "selector" in params:
        try:
            parse_label_selector(params["selector"])
        except SelectorError as error:
            return f"check {name}: selector: {error}"
    for key in ("within",):
        if key in params:
            try:
                durations.parse_duration_ms(params[key])
            except ValueError as error:
                return f"check {name}: {key}: {error}"
    return None


def run_goal(live: Any, goal: list[dict]) -> list[Result]:
    """Every check of a step's goal, in order (the step is met when all pass)."""
    view = ClusterView(live)
    results = []
    for entry in goal:
        params = {key: value for key, value in entry.items() if key != "check"}
        results.append(CHECKS[entry["check"]].function(view, params))
    return results


# --- reading the cluster ------------------------------------------------------------------------

@dataclass
class ClusterView:
    """Read-only access to one live cluster's objects and recent history."""

    live: Any
    _objects: dict | None = field(default=None, repr=False)

    @property
    def cluster(self) -> Any:
        return self.live.cluster

    @property
    def components(self) -> dict:
        return self.cluster.sim.components

    def ready_apiserver(self) -> Any | None:
        for name in self.cluster.layout["apiservers"]:
            server = self.components[name]
            if server.running and server.ready:
                return server
        return None

    def objects(self, resource: str) -> list[dict]:
        if self._objects is None:
            self._objects = self._load_objects()
        return list(self._objects.get(resource, {}).values())

    def _load_objects(self) -> dict:
        server = self.ready_apiserver()
        if server is not None:
            return server.cache
        # No apiserver serves: read the member with the most applied state, as etcdctl would.
        members = [self.components[name] for name in self.cluster.layout["etcd_members"]]
        best = max(members, key=lambda member: member.applied_revision())
        by_resource: dict = {}
        for kv in best.mvcc.range(prefix="/registry/")["kvs"]:
            resource = kinds.resource_for_key(kv["key"])
            if resource is not None:
                by_resource.setdefault(resource, {})[kv["key"]] = kv["value"]
        return by_resource

    def get(self, resource: str, name: str, namespace: str | None = None) -> dict | None:
        for obj in self.objects(resource):
            metadata = obj.get("metadata") or {}
            if metadata.get("name") == name and (namespace is None or metadata.get("namespace") == namespace):
                return obj
        return None

    def pods(self, selector: str | None = None, namespace: str = "default", name: str | None = None) -> list[dict]:
        requirements = parse_label_selector(selector) if selector else []
        found = []
        for pod in self.objects("pods"):
            metadata = pod.get("metadata") or {}
            if metadata.get("namespace") != namespace:
                continue
            if name is not None and metadata.get("name") != name:
                continue
            if labels_match(requirements, metadata.get("labels")):
                found.append(pod)
        return sorted(found, key=lambda pod: pod["metadata"]["name"])

    def etcd_members(self) -> list[Any]:
        return [self.components[name] for name in self.cluster.layout["etcd_members"]]

    def etcd_leader(self) -> Any | None:
        for member in self.etcd_members():
            if member.is_leader():
                return member
        return None

    def recent_events(self, within_ms: int) -> list:
        since = self.cluster.now_ms - within_ms
        return [event for event in self.live.recent_events if event.time_ms >= since]


def is_running(pod: dict) -> bool:
    return ((pod.get("status") or {}).get("phase") == "Running"
            and not (pod.get("metadata") or {}).get("deletionTimestamp"))


def node_name_of(pod: dict) -> str | None:
    return (pod.get("spec") or {}).get("nodeName")


def condition(obj: dict, kind: str) -> dict | None:
    for entry in (obj.get("status") or {}).get("conditions") or []:
        if entry.get("type") == kind:
            return entry
    return None


def namespace_of(params: dict) -> str:
    return params.get("namespace") or "default"


def split_target(target: str) -> tuple[str, str]:
    namespace, _, name = target.rpartition("/")
    return namespace or "default", name


# --- workloads ---------------------------------------------------------------------------------

@check("deployment_ready", required=("name", "replicas"), optional=("namespace",))
def deployment_ready(view: ClusterView, params: dict) -> Result:
    name, wanted = params["name"], int(params["replicas"])
    deployment = view.get("deployments", name, namespace_of(params))
    if deployment is None:
        return Result(False, f"디플로이먼트 {name}이(가) 아직 없습니다.", f"There is no Deployment {name} yet.")
    spec_replicas = (deployment.get("spec") or {}).get("replicas", 1)
    status = deployment.get("status") or {}
    ready = status.get("readyReplicas", 0)
    total = status.get("replicas", 0)
    passed = spec_replicas == wanted and ready == wanted and total == wanted
    return Result(passed,
                  f"{name}: 원하는 레플리카 {spec_replicas}개, 준비됨 {ready}개, 전체 {total}개 (목표 {wanted}개).",
                  f"{name}: {spec_replicas} desired, {ready} ready, {total} in total (goal: {wanted}).")


@check("pods_running", required=("selector",), optional=("count", "min_count", "distinct_nodes", "namespace", "not_on"))
def pods_running(view: ClusterView, params: dict) -> Result:
    selector = params["selector"]
    running = [pod for pod in view.pods(selector, namespace_of(params)) if is_running(pod)]
    nodes = sorted({node_name_of(pod) for pod in running if node_name_of(pod)})
    problems_en, problems_ko = [], []
    if "count" in params and len(running) != int(params["count"]):
        problems_en.append(f"want exactly {params['count']}")
        problems_ko.append(f"정확히 {params['count']}개가 필요")
    if "min_count" in params and len(running) < int(params["min_count"]):
        problems_en.append(f"want at least {params['min_count']}")
        problems_ko.append(f"최소 {params['min_count']}개가 필요")
    if "distinct_nodes" in params and len(nodes) < int(params["distinct_nodes"]):
        problems_en.append(f"want {params['distinct_nodes']} different nodes")
        problems_ko.append(f"서로 다른 노드 {params['distinct_nodes']}개가 필요")
    forbidden = [node for node in nodes if node in (params.get("not_on") or [])]
    if forbidden:
        problems_en.append(f"none may run on {', '.join(forbidden)}")
        problems_ko.append(f"{', '.join(forbidden)}에서는 실행되면 안 됨")
    where = ", ".join(nodes) or "-"
    return Result(not problems_en,
                  f"{selector}: Running 파드 {len(running)}개, 노드: {where}" + (f" ({'; '.join(problems_ko)})" if problems_ko else ""),
                  f"{selector}: {len(running)} pod(s) Running, on nodes: {where}" + (f" ({'; '.join(problems_en)})" if problems_en else ""))


@check("pod_scheduled", required=("name",), optional=("node", "namespace"))
def pod_scheduled(view: ClusterView, params: dict) -> Result:
    name = params["name"]
    pods = view.pods(namespace=namespace_of(params), name=name)
    if not pods:
        return Result(False, f"파드 {name}이(가) 없습니다.", f"There is no pod {name}.")
    node = node_name_of(pods[0])
    wanted = params.get("node")
    passed = node is not None and (wanted is None or node == wanted) and is_running(pods[0])
    phase = (pods[0].get("status") or {}).get("phase", "Pending")
    return Result(passed, f"{name}: 노드 {node or '(없음)'}, 단계 {phase}.", f"{name}: node {node or '(none)'}, phase {phase}.")


@check("pod_unschedulable", alternatives=(("name", "selector"),), optional=("namespace",))
def pod_unschedulable(view: ClusterView, params: dict) -> Result:
    pods = view.pods(params.get("selector"), namespace_of(params), name=params.get("name"))
    label = params.get("name") or params.get("selector")
    stuck = []
    for pod in pods:
        scheduled = condition(pod, "PodScheduled") or {}
        if node_name_of(pod) is None and scheduled.get("reason") == "Unschedulable":
            stuck.append(pod)
    if not stuck:
        return Result(False, f"{label}: 스케줄할 수 없다고 표시된 Pending 파드가 없습니다.",
                      f"{label}: no Pending pod is marked Unschedulable.")
    message = (condition(stuck[0], "PodScheduled") or {}).get("message", "")
    return Result(True, f"{stuck[0]['metadata']['name']}: Unschedulable — {message}",
                  f"{stuck[0]['metadata']['name']}: Unschedulable — {message}")


@check("pods_waiting", required=("selector",), optional=("reason", "namespace"))
def pods_waiting(view: ClusterView, params: dict) -> Result:
    reasons = params.get("reason") or WAITING_PULL_REASONS
    reasons = [reasons] if isinstance(reasons, str) else list(reasons)
    for pod in view.pods(params["selector"], namespace_of(params)):
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            waiting = (status.get("state") or {}).get("waiting") or {}
            if waiting.get("reason") in reasons:
                name = pod["metadata"]["name"]
                return Result(True, f"{name}: 컨테이너가 {waiting['reason']} 상태로 기다립니다.",
                              f"{name}: a container is waiting in {waiting['reason']}.")
    return Result(False, f"{params['selector']}: {' / '.join(reasons)} 상태로 기다리는 컨테이너가 없습니다.",
                  f"{params['selector']}: no container is waiting in {' / '.join(reasons)}.")


@check("container_restarted", required=("selector",), optional=("min_restarts", "namespace"))
def container_restarted(view: ClusterView, params: dict) -> Result:
    wanted = int(params.get("min_restarts", 1))
    best = 0
    for pod in view.pods(params["selector"], namespace_of(params)):
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            best = max(best, int(status.get("restartCount") or 0))
    return Result(best >= wanted, f"{params['selector']}: 가장 많은 재시작 횟수 {best}회 (목표 {wanted}회 이상).",
                  f"{params['selector']}: highest restart count {best} (goal: at least {wanted}).")


@check("rollout_complete", required=("deployment", "image"), optional=("namespace",))
def rollout_complete(view: ClusterView, params: dict) -> Result:
    name, image = params["deployment"], params["image"]
    deployment = view.get("deployments", name, namespace_of(params))
    if deployment is None:
        return Result(False, f"디플로이먼트 {name}이(가) 없습니다.", f"There is no Deployment {name}.")
    images = [container.get("image") for container in deployment["spec"]["template"]["spec"].get("containers") or []]
    wanted = deployment["spec"].get("replicas", 1)
    status = deployment.get("status") or {}
    updated, ready, total = status.get("updatedReplicas", 0), status.get("readyReplicas", 0), status.get("replicas", 0)
    passed = image in images and updated == wanted and ready == wanted and total == wanted \
        and status.get("observedGeneration", 0) >= deployment["metadata"].get("generation", 0)
    return Result(passed,
                  f"{name}: 이미지 {', '.join(images)}; 새 버전 {updated}/{wanted}, 준비됨 {ready}, 전체 {total} (목표 이미지 {image}).",
                  f"{name}: image {', '.join(images)}; updated {updated}/{wanted}, ready {ready}, total {total} (goal image {image}).")


# --- nodes -----------------------------------------------------------------------------------

def _node(view: ClusterView, name: str) -> dict | None:
    return view.get("nodes", name)


def _ready_status(node: dict) -> str:
    return (condition(node, "Ready") or {}).get("status", "Unknown")


@check("node_registered", required=("node",))
def node_registered(view: ClusterView, params: dict) -> Result:
    name = params["node"]
    node = _node(view, name)
    return Result(node is not None, f"노드 {name}: " + ("등록됨." if node else "아직 Node 오브젝트가 없습니다."),
                  f"Node {name}: " + ("registered." if node else "no Node object yet."))


@check("node_ready", required=("node",))
def node_ready(view: ClusterView, params: dict) -> Result:
    name = params["node"]
    node = _node(view, name)
    if node is None:
        return Result(False, f"노드 {name}이(가) 아직 등록되지 않았습니다.", f"Node {name} is not registered yet.")
    status = _ready_status(node)
    cidr = (node.get("spec") or {}).get("podCIDR") or "-"
    return Result(status == "True", f"노드 {name}: Ready={status}, podCIDR {cidr}.",
                  f"Node {name}: Ready={status}, podCIDR {cidr}.")


@check("nodes_ready", required=("count",))
def nodes_ready(view: ClusterView, params: dict) -> Result:
    ready = sorted(node["metadata"]["name"] for node in view.objects("nodes") if _ready_status(node) == "True")
    wanted = int(params["count"])
    return Result(len(ready) >= wanted, f"Ready 노드 {len(ready)}개: {', '.join(ready) or '-'} (목표 {wanted}개).",
                  f"{len(ready)} node(s) Ready: {', '.join(ready) or '-'} (goal: {wanted}).")


@check("node_pod_cidr", required=("node",))
def node_pod_cidr(view: ClusterView, params: dict) -> Result:
    name = params["node"]
    node = _node(view, name)
    cidr = ((node or {}).get("spec") or {}).get("podCIDR")
    return Result(bool(cidr), f"노드 {name}: podCIDR {cidr or '(아직 없음)'}.", f"Node {name}: podCIDR {cidr or '(not yet)'}.")


@check("node_not_ready", required=("node",))
def node_not_ready(view: ClusterView, params: dict) -> Result:
    name = params["node"]
    node = _node(view, name)
    if node is None:
        return Result(False, f"노드 {name}이(가) 없습니다.", f"There is no node {name}.")
    ready = condition(node, "Ready") or {}
    status = ready.get("status", "Unknown")
    reason = ready.get("reason", "")
    return Result(status != "True", f"노드 {name}: Ready={status} {reason}".strip() + ".",
                  f"Node {name}: Ready={status} {reason}".strip() + ".")


@check("node_absent", required=("node",))
def node_absent(view: ClusterView, params: dict) -> Result:
    name = params["node"]
    gone = _node(view, name) is None
    return Result(gone, f"노드 {name}: " + ("Node 오브젝트가 삭제되었습니다." if gone else "Node 오브젝트가 아직 있습니다."),
                  f"Node {name}: " + ("the Node object is deleted." if gone else "the Node object still exists."))


@check("node_tainted", required=("node", "key", "effect"))
def node_tainted(view: ClusterView, params: dict) -> Result:
    name = params["node"]
    taints = ((_node(view, name) or {}).get("spec") or {}).get("taints") or []
    shown = ", ".join(f"{taint['key']}:{taint['effect']}" for taint in taints) or "-"
    passed = any(taint.get("key") == params["key"] and taint.get("effect") == params["effect"] for taint in taints)
    return Result(passed, f"노드 {name}의 테인트: {shown}.", f"Taints on node {name}: {shown}.")


@check("node_unschedulable", required=("node",))
def node_unschedulable(view: ClusterView, params: dict) -> Result:
    name = params["node"]
    cordoned = bool(((_node(view, name) or {}).get("spec") or {}).get("unschedulable"))
    return Result(cordoned, f"노드 {name}: spec.unschedulable={str(cordoned).lower()}.",
                  f"Node {name}: spec.unschedulable={str(cordoned).lower()}.")


@check("pods_replaced_from", required=("node", "selector", "count"), optional=("namespace",))
def pods_replaced_from(view: ClusterView, params: dict) -> Result:
    """The node's pods are gone or Terminating, and `count` Running pods exist on other nodes."""
    node = params["node"]
    pods = view.pods(params["selector"], namespace_of(params))
    left_on_node = [pod for pod in pods if node_name_of(pod) == node and not pod["metadata"].get("deletionTimestamp")]
    elsewhere = [pod for pod in pods if is_running(pod) and node_name_of(pod) != node]
    wanted = int(params["count"])
    passed = not left_on_node and len(elsewhere) >= wanted
    return Result(passed,
                  f"{node}에 남은(종료 중이 아닌) 파드 {len(left_on_node)}개, 다른 노드에서 Running {len(elsewhere)}개 (목표 {wanted}개).",
                  f"{len(left_on_node)} pod(s) still on {node} (not Terminating), {len(elsewhere)} Running elsewhere (goal: {wanted}).")


# --- services --------------------------------------------------------------------------------

@check("service_has_endpoints", required=("service", "count"), optional=("namespace",))
def service_has_endpoints(view: ClusterView, params: dict) -> Result:
    service, namespace = params["service"], namespace_of(params)
    addresses = []
    for endpoint_slice in view.objects("endpointslices"):
        metadata = endpoint_slice.get("metadata") or {}
        if metadata.get("namespace") != namespace or (metadata.get("labels") or {}).get("kubernetes.io/service-name") != service:
            continue
        for endpoint in endpoint_slice.get("endpoints") or []:
            if (endpoint.get("conditions") or {}).get("ready"):
                addresses.extend(endpoint.get("addresses") or [])
    wanted = int(params["count"])
    shown = ", ".join(sorted(addresses)) or "-"
    return Result(len(addresses) == wanted, f"서비스 {service}의 준비된 엔드포인트 {len(addresses)}개: {shown} (목표 {wanted}개).",
                  f"Service {service} has {len(addresses)} ready endpoint(s): {shown} (goal: {wanted}).")


@check("service_has_load_balancer", required=("service",), optional=("namespace",))
def service_has_load_balancer(view: ClusterView, params: dict) -> Result:
    service = view.get("services", params["service"], namespace_of(params))
    ingress = (((service or {}).get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    ips = ", ".join(entry.get("ip", "") for entry in ingress)
    return Result(bool(ingress), f"서비스 {params['service']}: EXTERNAL-IP {ips or '<pending>'}.",
                  f"Service {params['service']}: EXTERNAL-IP {ips or '<pending>'}.")


@check("service_routed", required=("service",), optional=("within", "namespace"))
def service_routed(view: ClusterView, params: dict) -> Result:
    key = f"{namespace_of(params)}/{params['service']}"
    within = durations.parse_duration_ms(params.get("within", "2m"))
    routes = [event for event in view.recent_events(within) if event.kind == "proxy.route" and event.target == key]
    if not routes:
        return Result(False, f"최근 {durations.format_duration(within)} 동안 {key}로 간 연결이 없습니다.",
                      f"No connection to {key} in the last {durations.format_duration(within)}.")
    payload = routes[-1].payload
    return Result(True, f"kube-proxy가 {payload.get('clusterIP')}:{payload.get('port')} 연결을 {payload.get('node')}의 {payload.get('pod')}({payload.get('endpoint')})로 보냈습니다.",
                  f"kube-proxy sent {payload.get('clusterIP')}:{payload.get('port')} to {payload.get('pod')} ({payload.get('endpoint')}) on {payload.get('node')}.")


@check("object_exists", required=("resource", "name"), optional=("namespace",))
def object_exists(view: ClusterView, params: dict) -> Result:
    namespace = params.get("namespace")
    found = view.get(params["resource"], params["name"], namespace) is not None
    where = f"{namespace}/" if namespace else ""
    label = f"{params['resource']} {where}{params['name']}"
    return Result(found, f"{label}: " + ("있습니다." if found else "아직 없습니다."),
                  f"{label}: " + ("exists." if found else "not there yet."))


# --- control plane and etcd ------------------------------------------------------------------

@check("apiserver_ready", optional=("count",))
def apiserver_ready(view: ClusterView, params: dict) -> Result:
    ready = [name for name in view.cluster.layout["apiservers"]
             if view.components[name].running and view.components[name].ready]
    wanted = int(params.get("count", 1))
    return Result(len(ready) >= wanted, f"요청을 받는 kube-apiserver: {', '.join(ready) or '없음'}.",
                  f"kube-apiserver serving: {', '.join(ready) or 'none'}.")


@check("apiserver_unavailable")
def apiserver_unavailable(view: ClusterView, params: dict) -> Result:
    down = view.ready_apiserver() is None
    return Result(down, "요청을 받는 kube-apiserver가 없습니다." if down else "아직 kube-apiserver가 요청을 받고 있습니다.",
                  "No kube-apiserver is serving." if down else "A kube-apiserver is still serving.")


def _member_line(member: Any) -> str:
    role = member.raft.state if member.running else "stopped"
    return f"{member.name} {role} (term {member.raft.term})"


@check("etcd_has_leader", optional=("members",))
def etcd_has_leader(view: ClusterView, params: dict) -> Result:
    leader = view.etcd_leader()
    running = [member for member in view.etcd_members() if member.running]
    wanted = int(params.get("members", 0))
    passed = leader is not None and len(running) >= wanted
    summary = "; ".join(_member_line(member) for member in view.etcd_members())
    return Result(passed, ("리더: " + leader.name if leader else "리더 없음") + f". {summary}",
                  ("Leader: " + leader.name if leader else "No leader") + f". {summary}")


@check("etcd_leader_changed")
def etcd_leader_changed(view: ClusterView, params: dict) -> Result:
    """A leader elected in a later term than the cluster's first one (entry 1 of the Raft log)."""
    leader = view.etcd_leader()
    summary = "; ".join(_member_line(member) for member in view.etcd_members())
    if leader is None:
        return Result(False, f"지금은 리더가 없습니다. {summary}", f"There is no leader right now. {summary}")
    terms = leader.raft.storage.entries.terms
    first_term = terms[1] if len(terms) > 1 else leader.raft.term
    passed = leader.raft.term > first_term
    return Result(passed, f"리더 {leader.name}, term {leader.raft.term} (첫 리더의 term {first_term}). {summary}",
                  f"Leader {leader.name}, term {leader.raft.term} (the first leader's term was {first_term}). {summary}")


@check("etcd_no_quorum")
def etcd_no_quorum(view: ClusterView, params: dict) -> Result:
    members = view.etcd_members()
    running = [member for member in members if member.running]
    quorum = len(members) // 2 + 1
    passed = len(running) < quorum and view.etcd_leader() is None
    return Result(passed, f"멤버 {len(members)}개 중 {len(running)}개 실행 중, 쿼럼은 {quorum}개.",
                  f"{len(running)} of {len(members)} members running; quorum is {quorum}.")


WRITE_VERBS = ("create", "update", "patch", "delete")


@check("write_failed_recently", optional=("within",))
def write_failed_recently(view: ClusterView, params: dict) -> Result:
    """A write the learner made (a button, show-me or their kubectl) failed in the last `within`.

    Only failures after the learner's first action count: the bootstrap's own retries (503 while
    the apiserver fills its cache) are nobody's mistake.
    """
    within = durations.parse_duration_ms(params.get("within", "2m"))
    learner_actions = view.cluster.recorded_actions
    if learner_actions:
        since = max(view.cluster.now_ms - within, min(action["at_ms"] for action in learner_actions))
        for event in reversed(view.recent_events(view.cluster.now_ms - since)):
            failed_action = event.kind == "action.result" and not event.payload.get("ok")
            failed_write = (event.kind == "api.response" and event.target == "kubectl"
                            and event.payload.get("verb") in WRITE_VERBS and int(event.payload.get("code") or 0) >= 400)
            if failed_action or failed_write or event.kind == "etcd.request.timeout":
                message = event.payload.get("message") or "etcdserver: request timed out"
                return Result(True, f"쓰기 실패: {message}", f"A write failed: {message}")
    return Result(False, f"최근 {durations.format_duration(within)} 동안 실패한 쓰기가 없습니다.",
                  f"No failed write in the last {durations.format_duration(within)}.")


# --- the learner's own actions ------------------------------------------------------------------

def _same_target(recorded: str | None, wanted: str | None) -> bool:
    if wanted is None:
        return True
    if recorded is None:
        return False
    return recorded == wanted or split_target(recorded) == split_target(wanted)


@check("action_done", required=("action",), optional=("target",))
def action_done(view: ClusterView, params: dict) -> Result:
    for recorded in view.cluster.recorded_actions:
        if recorded.get("action") == params["action"] and _same_target(recorded.get("target"), params.get("target")):
            return Result(True, f"{params['action']} 실행됨.", f"{params['action']} done.")
    label = params["action"] + (f" {params['target']}" if params.get("target") else "")
    return Result(False, f"아직 {label}을(를) 실행하지 않았습니다.", f"{label} has not been done yet.")
