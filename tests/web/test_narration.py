"""The narrated event log: a plain sentence for every event kind of docs/events.md, in English and Korean."""
import re
from pathlib import Path

import pytest
from django.utils import translation

from cluster_sim.cluster import Cluster
from cluster_sim.scenario import load_scenario, shipped_path
from web.narration import Narrator, component_group, format_virtual_time, is_noise

EVENTS_DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"
HANGUL = re.compile("[\uac00-\ud7a3]")

# One realistic payload per kind (field names as docs/events.md gives them).
EXAMPLES = {
    "action": ("director", "worker-2", {"action": "node.fail", "target": "worker-2"}),
    "action.result": ("kubectl", "kubectl", {"action": "scale", "target": "default/web", "ok": False,
                                             "message": "deployments.apps \"web\" not found"}),
    "machine.down": ("director", "worker-2", {"machine": "worker-2"}),
    "machine.up": ("director", "worker-2", {"machine": "worker-2"}),
    "process.stop": ("director", "kubelet-worker-3", {"process": "kubelet-worker-3"}),
    "process.start": ("director", "kubelet-worker-3", {"process": "kubelet-worker-3"}),
    "network.partition": ("director", "worker-3", {"groups": None}),
    "network.heal": ("director", "worker-3", {}),
    "apiserver.starting": ("kube-apiserver-cp-1", "etcd-cp-1", {}),
    "apiserver.ready": ("kube-apiserver-cp-1", "kube-apiserver-cp-1", {"revision": 1}),
    "api.request": ("kubectl", "kube-apiserver-cp-1", {"id": "k/1", "verb": "create", "resource": "deployments",
                                                        "namespace": "default", "name": "web", "subresource": None,
                                                        "userAgent": "kubectl/v1.33.0"}),
    "api.response": ("kube-apiserver-cp-1", "kubectl", {"id": "k/1", "verb": "create", "resource": "deployments",
                                                         "namespace": "default", "name": "web", "code": 201,
                                                         "reason": None, "message": None}),
    "etcd.request": ("kube-apiserver-cp-1", "etcd-cp-1", {"op": "put", "key": "/registry/deployments/default/web",
                                                          "requestId": "r1"}),
    "api.watch": ("kube-apiserver-cp-1", "kube-controller-manager-cp-1",
                  {"resource": "deployments", "type": "ADDED", "name": "web", "namespace": "default",
                   "resourceVersion": "118"}),
    "k8s.event": ("kubelet-worker-1", "kubelet-worker-1", {"type": "Warning", "reason": "BackOff",
                                                           "message": "Back-off pulling image", "object": "pod/web-1",
                                                           "namespace": "default"}),
    "leader.acquired": ("kube-scheduler-cp-2", "kube-scheduler-cp-2", {"lease": "kube-system/kube-scheduler",
                                                                        "holder": "cp-2_abc"}),
    "leader.lost": ("kube-scheduler-cp-2", "kube-scheduler-cp-2", {"lease": "kube-system/kube-scheduler",
                                                                    "holder": "cp-2_abc", "reason": "leaderelection lost"}),
    "etcd.election.start": ("etcd-cp-2", "etcd-cp-2", {"term": 3, "member": "etcd-cp-2", "pre_vote": True}),
    "etcd.vote": ("etcd-cp-3", "etcd-cp-2", {"term": 3, "candidate": "etcd-cp-2", "granted": True, "pre_vote": False}),
    "etcd.leader.elected": ("etcd-cp-2", "etcd-cp-2", {"term": 3, "leader": "etcd-cp-2"}),
    "etcd.leader.stepdown": ("etcd-cp-1", "etcd-cp-1", {"term": 3, "reason": "stepped down to follower since quorum is not active"}),
    "etcd.append": ("etcd-cp-1", "etcd-cp-1", {"term": 3, "index": 118, "key": "/registry/pods/default/web-1", "op": "put"}),
    "etcd.replicate": ("etcd-cp-1", "etcd-cp-2", {"term": 3, "from_index": 118, "to_index": 118}),
    "etcd.ack": ("etcd-cp-2", "etcd-cp-1", {"term": 3, "match_index": 118}),
    "etcd.commit": ("etcd-cp-1", "etcd-cp-1", {"term": 3, "index": 118}),
    "etcd.apply": ("etcd-cp-2", "etcd-cp-2", {"index": 118, "revision": 97, "key": "/registry/pods/default/web-1", "op": "put"}),
    "etcd.heartbeat": ("etcd-cp-1", "etcd-cp-3", {"term": 3}),
    "etcd.request.timeout": ("etcd-cp-1", "kube-apiserver-cp-1", {"id": 7, "op": "put", "key": "/registry/pods/default/web-1"}),
    "scheduler.decision": ("kube-scheduler-cp-1", "default/web-7d9", {
        "pod": "default/web-7d9", "selected": "worker-3", "filter": {"worker-3": {"NodeResourcesFit": "passed"}},
        "scores": {"worker-3": {"NodeResourcesFit": "87"}}, "final": {"worker-3": {"NodeResourcesFit": "87"}},
        "totals": {"worker-3": 187}, "evaluated": 1, "message": "", "nominated": None}),
    "scheduler.bound": ("kube-scheduler-cp-1", "default/web-7d9", {"pod": "default/web-7d9", "node": "worker-3"}),
    "scheduler.preempt": ("kube-scheduler-cp-1", "default/low", {"victim": "default/low", "preemptor": "default/high",
                                                                 "node": "worker-1"}),
    "scheduler.error": ("kube-scheduler-cp-1", "default/web-7d9", {"pod": "default/web-7d9", "message": "plugin failed"}),
    "controller.sync": ("kube-controller-manager-cp-1", "default/web", {"controller": "replicaset-controller",
                                                                        "key": "default/web-6d4f8b7c9",
                                                                        "action": "create pods", "count": 3}),
    "node.condition": ("kube-controller-manager-cp-1", "worker-2", {"node": "worker-2", "condition": "Ready",
                                                                    "status": "Unknown", "reason": "NodeStatusUnknown"}),
    "node.taint": ("kube-controller-manager-cp-1", "worker-2", {"node": "worker-2", "key": "node.kubernetes.io/unreachable",
                                                                "effect": "NoExecute", "added": True}),
    "pod.evict": ("kube-controller-manager-cp-1", "default/web-1", {"pod": "default/web-1", "node": "worker-2",
                                                                    "reason": "TaintManagerEviction"}),
    "zone.state": ("kube-controller-manager-cp-1", "us-east-1a", {"zone": "us-east-1a", "state": "FullDisruption"}),
    "cloud.load_balancer": ("cloud", "default/web", {"service": "default/web", "ip": "203.0.113.7",
                                                     "action": "provisioning", "ready_ms": 30000}),
    "cloud.machine": ("cloud", "worker-2", {"machine": "worker-2", "exists": False}),
    "kubelet.registered": ("kubelet-worker-1", "worker-1", {"node": "worker-1"}),
    "kubelet.lease.renew": ("kubelet-worker-1", "worker-1", {"node": "worker-1"}),
    "kubelet.lease.error": ("kubelet-worker-1", "worker-1", {"node": "worker-1", "error": "connection refused"}),
    "kubelet.status": ("kubelet-worker-1", "worker-1", {"node": "worker-1", "ready": True}),
    "kubelet.static_pod.exited": ("kubelet-cp-1", "cp-1", {"component": "kube-scheduler-cp-1",
                                                           "reason": "leaderelection lost"}),
    "pod.phase": ("kubelet-worker-1", "default/web-1", {"pod": "default/web-1", "phase": "Running", "node": "worker-1"}),
    "container.state": ("kubelet-worker-1", "default/web-1", {"pod": "default/web-1", "container": "nginx",
                                                               "state": "waiting", "reason": "ImagePullBackOff",
                                                               "restartCount": 0}),
    "image.pull": ("kubelet-worker-1", "worker-1", {"image": "nginx:1.27", "node": "worker-1", "ms": 3200, "ok": True}),
    "probe.fail": ("kubelet-worker-1", "default/web-1", {"pod": "default/web-1", "container": "nginx", "probe": "readiness"}),
    "cri.call": ("containerd-worker-1", "kubelet-worker-1", {"method": "RunPodSandbox", "pod": "default/web-1",
                                                             "container": None}),
    "proxy.sync": ("kube-proxy-worker-1", "worker-1", {"node": "worker-1", "services": 3, "endpoints": 6}),
    "proxy.route": ("kube-proxy-worker-1", "default/web", {"service": "default/web", "clusterIP": "10.96.0.20",
                                                           "port": 80, "client": "curl", "endpoint": "10.244.1.5:80",
                                                           "ip": "10.244.1.5", "pod": "default/web-1", "node": "worker-1"}),
    "proxy.reject": ("kube-proxy-worker-1", "default/web", {"service": "default/web", "clusterIP": "10.96.0.20",
                                                            "port": 80, "client": "curl",
                                                            "reason": "default/web:http has no endpoints"}),
}


def documented_kinds() -> list[str]:
    """Every kind in the first column of docs/events.md's tables."""
    kinds = []
    for line in EVENTS_DOC.read_text().splitlines():
        match = re.match(r"\|\s*((?:`[a-z0-9_.]+`(?:\s*/\s*)?)+)\s*\|", line)
        if match:
            kinds += re.findall(r"`([a-z0-9_.]+)`", match.group(1))
    return [kind for kind in kinds if kind not in ("kind", "t", "seq", "source", "target", "payload")]


def event(kind: str, seq: int = 1) -> dict:
    source, target, payload = EXAMPLES[kind]
    return {"t": 65_300, "seq": seq, "kind": kind, "source": source, "target": target, "payload": payload}


def say(kind: str, language: str, narrator: Narrator | None = None) -> str:
    with translation.override(language):
        return (narrator or Narrator(["cp-1", "worker-1", "worker-2", "worker-3"])).sentence(event(kind))


def test_the_examples_cover_every_documented_kind():
    kinds = documented_kinds()
    assert len(kinds) > 45, kinds
    assert sorted(set(kinds) - set(EXAMPLES)) == []


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_every_kind_has_its_own_sentence_in_both_languages(kind):
    english, korean = say(kind, "en"), say(kind, "ko")
    generic = f"{EXAMPLES[kind][0]}: {kind}"
    assert english and english != generic, english
    assert korean != english, f"{kind} is not translated: {english}"
    assert HANGUL.search(korean), korean
    assert "%(" not in english and "%(" not in korean


def test_sentences_name_what_a_learner_needs():
    assert say("etcd.ack", "en") == "etcd-cp-2 acknowledged entry 118 (term 3)"
    assert say("machine.down", "en") == ("Machine worker-2 went down: its kubelet stopped renewing the node's "
                                         "lease; it will be marked NotReady in 50 s")
    assert "etcdserver: request timed out" in say("etcd.request.timeout", "en")
    assert say("node.condition", "en").startswith("worker-2 is NotReady")
    korean_ack = say("etcd.ack", "ko")
    assert "etcd-cp-2" in korean_ack and "118" in korean_ack


def test_a_binding_quotes_the_score_of_the_decision_before_it():
    narrator = Narrator(["worker-3"])
    with translation.override("en"):
        narrator.sentence(event("scheduler.decision"))
        bound = narrator.sentence(event("scheduler.bound", seq=2))
        assert bound == "kube-scheduler bound default/web-7d9 to worker-3: highest score 187"
        assert Narrator().sentence(event("scheduler.bound")) == "kube-scheduler bound default/web-7d9 to worker-3"


def test_a_failed_machine_that_is_not_a_node_says_so():
    with translation.override("en"):
        sentence = Narrator(["cp-1"]).sentence({"t": 0, "seq": 1, "kind": "machine.down", "source": "director",
                                                "target": "etcd-2", "payload": {"machine": "etcd-2"}})
    assert sentence == "Machine etcd-2 went down: every process on it stopped"


def test_heartbeats_are_noise_and_the_learners_requests_are_not():
    assert is_noise(event("etcd.heartbeat")) and is_noise(event("kubelet.lease.renew"))
    assert not is_noise(event("api.request"))  # kubectl's own
    routine = dict(event("api.request"), source="kubelet-worker-1")
    assert is_noise(routine)
    assert not is_noise(event("node.taint"))


def test_filter_groups():
    assert component_group(event("etcd.ack")) == "etcd"
    assert component_group(event("etcd.request")) == "apiserver"
    assert component_group(event("machine.down")) == "actions"
    assert component_group(event("scheduler.bound")) == "scheduler"
    assert component_group(event("cri.call")) == "kubelet"
    assert component_group(event("proxy.route")) == "kube-proxy"
    assert component_group(event("node.taint")) == "controllers"


def test_virtual_time_format():
    assert format_virtual_time(65_300) == "01:05.3"
    assert format_virtual_time(3_725_000) == "1:02:05.0"


@pytest.mark.parametrize("scenario", ["worker-failure", "etcd-quorum-loss", "controlplane-failure", "rollout"])
def test_every_event_of_a_shipped_scenario_reads_in_both_languages(scenario):
    cluster = Cluster.from_scenario(load_scenario(shipped_path(scenario)))
    events = cluster.run_until(240_000)
    for language in ("en", "ko"):
        narrator = Narrator(cluster.layout["control_plane"] + cluster.layout["workers"])
        with translation.override(language):
            for item in events:
                sentence = narrator.sentence(item)
                assert sentence and "%(" not in sentence, (item, sentence)
                assert not sentence.endswith(f": {item.kind}"), f"no sentence for {item.kind}"
