"""Two daphne processes on one PostgreSQL and one Redis: a cluster behaves the same whichever
process a request or websocket lands on (web/ownership.py, web/tunnel.py).

Each cluster is held by one process; the other forwards requests about it there. The tests check
what a learner, a real kubectl and an instructor see, and which process holds the lease."""
from __future__ import annotations

import json
import subprocess
import threading
import urllib.request
from pathlib import Path

import pytest
import websocket

from tests.prod.servers import GUARD_S, Client, Daphne, manage

KUBECTL = "/usr/bin/kubectl"
MAX_WEBSOCKET_MESSAGES = 2_000
SERVICE_UNAVAILABLE_RETRIES = 200
OK_RESULT = {"type": "result", "ok": True, "message": ""}


@pytest.fixture()
def two_processes(production_env: dict, tmp_path: Path):
    first = Daphne(production_env, tmp_path / "daphne-a.log").start()
    second = Daphne(production_env, tmp_path / "daphne-b.log").start()
    try:
        yield first, second
    finally:
        first.kill()
        second.kill()


def lease_holder(env: dict, cluster_id: str) -> str:
    done = manage(env, "shell", "-c", "from web.models import ClusterLease; "
                  f"print(ClusterLease.objects.filter(cluster_id='{cluster_id}').values_list('holder', flat=True).first())")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def process_name(server: Daphne) -> str:
    return server.env["APP_PROCESS_NAME"]


def new_cluster(client: Client, server: Daphne, **options) -> tuple[str, str]:
    code, cluster, _ = client.call(server.url, "POST", "/api/clusters/",
                                   {"scenario": "basic", "seed": 11, "startTime": "scenario", **options})
    assert code == 201, cluster
    return cluster["id"], cluster["server"].rsplit("/k8s/", 1)[1]


def advance(client: Client, server: Daphne, cluster_id: str, duration: str) -> dict:
    code, clock, _ = client.call(server.url, "POST", f"/api/clusters/{cluster_id}/clock/", {"advance": duration})
    assert code == 200, clock
    return clock


def kubectl(kubeconfig: Path, *arguments: str) -> str:
    done = subprocess.run([KUBECTL, "--kubeconfig", str(kubeconfig), *arguments], capture_output=True, text=True,
                          timeout=GUARD_S)
    assert done.returncode == 0, f"kubectl {' '.join(arguments)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def kubeconfig_for(client: Client, server: Daphne, cluster_id: str, other: Daphne, path: Path) -> Path:
    """The cluster's kubeconfig, pointed at ``other`` (another process than the one that made it)."""
    code, text, _ = client.call(server.url, "GET", f"/api/clusters/{cluster_id}/kubeconfig")
    assert code == 200, text
    path.write_text(text.replace(server.url, other.url))
    assert other.url in path.read_text()
    return path


def open_live_view(server: Daphne, client: Client, cluster_id: str) -> websocket.WebSocket:
    return websocket.create_connection(f"ws://127.0.0.1:{server.port}/ws/clusters/{cluster_id}/?lang=en",
                                       cookie=f"sessionid={client.cookie('sessionid')}", origin=server.url,
                                       timeout=GUARD_S)


def read_until(socket: websocket.WebSocket, found, what: str) -> list:
    """Messages (JSON or HTML text) until ``found(message)``; fails naming ``what`` if the socket ends."""
    seen = []
    for _message in range(MAX_WEBSOCKET_MESSAGES):
        # Frames, not messages: the library would answer a close itself, into a connection the
        # server has already shut. The server sends every message in one frame.
        frame = socket.recv_frame()
        opcode, data = frame.opcode, frame.data
        if opcode in (websocket.ABNF.OPCODE_PING, websocket.ABNF.OPCODE_PONG):
            continue
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            code = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
            raise ConnectionAbortedError(code)
        text = data.decode()
        message = json.loads(text) if text.startswith("{") else text
        seen.append(message)
        if found(message):
            return seen
    raise AssertionError(f"no {what} in {len(seen)} messages")


def first_picture(message) -> bool:
    return isinstance(message, str) and 'id="clock-status"' in message


def is_action_event(action: str, target: str):
    def found(message) -> bool:
        return isinstance(message, dict) and message.get("type") == "events" and any(
            event[2] == "action" and event[5].get("action") == action and event[5].get("target") == target
            for event in message["events"])
    return found


def test_rest_kubectl_and_watch_on_the_other_process_reach_the_one_cluster(two_processes, production_env, tmp_path):
    first, second = two_processes
    learner = Client()
    cluster_id, secret = new_cluster(learner, first)
    advance(learner, first, cluster_id, "20s")

    # The REST API on the second process answers about the first process's cluster...
    code, seen_from_second, _ = learner.call(second.url, "GET", f"/api/clusters/{cluster_id}/")
    assert code == 200, seen_from_second
    assert {node["name"] for node in seen_from_second["nodes"]} >= {"worker-1", "worker-2"}
    # ...by forwarding, not by taking the cluster over: the first process still holds it.
    assert lease_holder(production_env, cluster_id) == process_name(first)

    # The real kubectl, pointed at the second process.
    kubeconfig = kubeconfig_for(learner, first, cluster_id, second, tmp_path / "kubeconfig")
    assert "worker-2" in kubectl(kubeconfig, "get", "nodes")
    kubectl(kubeconfig, "create", "configmap", "made-via-second", "--from-literal=where=second")
    code, stored, _ = learner.call(first.url, "GET", f"/k8s/{secret}/api/v1/namespaces/default/configmaps/made-via-second")
    assert code == 200, stored
    assert stored["data"] == {"where": "second"}

    # A watch streams through the second process while a write goes through the first.
    lines: list[dict] = []
    watch_url = (f"{second.url}/k8s/{secret}/api/v1/namespaces/default/configmaps?watch=1"
                 f"&resourceVersion={stored['metadata']['resourceVersion']}&timeoutSeconds=60")
    watching = threading.Thread(target=read_watch, args=(watch_url, "made-via-first", lines), daemon=True)
    watching.start()
    code, created, _ = learner.call(first.url, "POST", f"/k8s/{secret}/api/v1/namespaces/default/configmaps",
                                    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "made-via-first"}})
    assert code == 201, created
    watching.join(GUARD_S)
    assert [(line["type"], line["object"]["metadata"]["name"]) for line in lines][-1:] == [("ADDED", "made-via-first")]
    assert lease_holder(production_env, cluster_id) == process_name(first)


def read_watch(url: str, name: str, lines: list) -> None:
    with urllib.request.urlopen(url, timeout=GUARD_S) as stream:
        for raw in stream:
            lines.append(json.loads(raw))
            if lines[-1]["object"].get("metadata", {}).get("name") == name:
                return


def test_live_view_websocket_on_the_other_process_acts_and_animates(two_processes, production_env):
    first, second = two_processes
    learner = Client()
    cluster_id, _secret = new_cluster(learner, first)
    advance(learner, first, cluster_id, "20s")
    socket = open_live_view(second, learner, cluster_id)
    try:
        read_until(socket, first_picture, "first picture of the cluster")
        socket.send(json.dumps({"command": "action", "action": {"action": "node.fail", "target": "worker-2"}}))
        seen = read_until(socket, is_action_event("node.fail", "worker-2"), "node.fail event")
        # The result comes through the tunnel, the events from the cluster's group: either may be first.
        if OK_RESULT not in seen:
            read_until(socket, lambda message: message == OK_RESULT, "the action's result")
    finally:
        socket.close()
    assert lease_holder(production_env, cluster_id) == process_name(first)


def events_pushes(messages: list) -> list[dict]:
    return [message for message in messages if isinstance(message, dict) and message.get("type") == "events"]


def test_a_forwarded_live_view_gets_each_push_once_as_the_holders_own_socket_does(two_processes, production_env):
    """The forwarding process relays the cluster group's pushes itself (web/tunnel.GroupRelay), and
    the holder leaves the forwarded socket out of the group: both paths at once would double them."""
    first, second = two_processes
    learner = Client()
    cluster_id, _secret = new_cluster(learner, first)
    advance(learner, first, cluster_id, "20s")
    direct, forwarded = open_live_view(first, learner, cluster_id), open_live_view(second, learner, cluster_id)
    try:
        read_until(direct, first_picture, "first picture on the holder")
        read_until(forwarded, first_picture, "first picture through the other process")
        forwarded.send(json.dumps({"command": "action", "action": {"action": "scale", "target": "web", "replicas": 4}}))
        through_relay = read_until(forwarded, is_action_event("scale", "default/web"), "scale event through the other process")
        on_holder = read_until(direct, is_action_event("scale", "default/web"), "scale event on the holder")
        for _push in range(3):  # and the pushes after it
            through_relay += read_until(forwarded, lambda message: message in events_pushes([message]), "events push")
        seqs = [event[1] for push in events_pushes(through_relay) for event in push["events"]]
        assert seqs == sorted(set(seqs)), "a forwarded live view must get every event once, in order"
        action_seq = next(event[1] for push in events_pushes(on_holder) for event in push["events"]
                          if event[2] == "action")
        assert action_seq in seqs, "both sockets must be shown the same action event"
        if OK_RESULT not in through_relay:
            read_until(forwarded, lambda message: message == OK_RESULT, "the action's result")
    finally:
        direct.close()
        forwarded.close()


def test_another_sessions_forwarded_live_view_is_refused_while_the_cluster_streams(two_processes, production_env):
    first, second = two_processes
    owner, intruder = Client(), Client()
    cluster_id, _secret = new_cluster(owner, first)
    new_cluster(intruder, second)  # a session of its own
    watching = open_live_view(first, owner, cluster_id)
    try:
        read_until(watching, first_picture, "first picture on the holder")
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            open_live_view(second, intruder, cluster_id)
        assert refused.value.status_code == 403
    finally:
        watching.close()


def test_instructor_on_one_process_student_on_the_other(two_processes, production_env):
    first, second = two_processes
    done = manage(dict(production_env, DJANGO_SUPERUSER_PASSWORD="correct horse battery"),
                  "createsuperuser", "--noinput", "--username", "teacher-two", "--email", "t2@example.org")
    assert done.returncode == 0, done.stderr
    code, token, _ = Client().call(second.url, "POST", "/api/auth/token/",
                                   {"username": "teacher-two", "password": "correct horse battery"})
    assert code == 200, token
    instructor = Client(token=token["token"])
    code, workshop, _ = instructor.call(second.url, "POST", "/api/workshops/", {"title": "Split", "scenario": "basic"})
    assert code == 201, workshop

    student = Client()
    code, joined, _ = student.call(first.url, "POST", f"/api/workshops/{workshop['code']}/join/", {"name": "Ada"})
    assert code == 201, joined
    cluster_id = joined["id"]
    advance(student, first, cluster_id, "20s")
    assert lease_holder(production_env, cluster_id) == process_name(first)
    socket = open_live_view(first, student, cluster_id)
    try:
        read_until(socket, first_picture, "first picture of the cluster")
        code, broadcast, _ = instructor.call(second.url, "POST", f"/api/workshops/{workshop['code']}/broadcast/",
                                             {"action": "node.fail", "target": "worker-2"})
        assert code in (200, 201, 202), broadcast
        # The instructor's process took the student's cluster to apply the broadcast there...
        assert lease_holder(production_env, cluster_id) == process_name(second)
        # ...so the student's socket on the first process is told to reconnect (4012), as static/js/cluster.js does,
        with pytest.raises(ConnectionAbortedError) as closed:
            read_until(socket, lambda message: False, "close")
        assert closed.value.args[0] == 4012
    finally:
        socket.close()
    # ...and the new socket, on the same first process, reaches the cluster on the second one.
    socket = open_live_view(first, student, cluster_id)
    try:
        read_until(socket, first_picture, "first picture of the cluster")
        socket.send(json.dumps({"command": "action", "action": {"action": "node.recover", "target": "worker-2"}}))
        read_until(socket, is_action_event("node.recover", "worker-2"), "node.recover event")
    finally:
        socket.close()
    assert lease_holder(production_env, cluster_id) == process_name(second)


def test_kill_9_of_the_holder_the_other_process_takes_over_with_every_action(two_processes, production_env,
                                                                               tmp_path):
    first, second = two_processes
    learner = Client()
    cluster_id, secret = new_cluster(learner, first, paused=True)
    advance(learner, first, cluster_id, "20s")
    kubeconfig = kubeconfig_for(learner, first, cluster_id, first, tmp_path / "kubeconfig")
    kubectl(kubeconfig, "create", "deployment", "shop", "--image=nginx:1.27", "--replicas=2")
    code, before, _ = learner.call(first.url, "GET", f"/api/clusters/{cluster_id}/")
    assert code == 200, before
    first.kill()

    # Until the lease lapses the second process says to try again; then it serves the cluster.
    for _attempt in range(SERVICE_UNAVAILABLE_RETRIES):
        code, after, headers = learner.call(second.url, "GET", f"/api/clusters/{cluster_id}/")
        if code != 503:
            break
        assert headers.get("Retry-After") == "1"
    assert code == 200, f"{after}\n{second.log_tail()}"
    assert after["now"] == before["now"]
    code, deployment, _ = learner.call(second.url, "GET", f"/k8s/{secret}/apis/apps/v1/namespaces/default/deployments/shop")
    assert code == 200, deployment
    assert deployment["spec"]["replicas"] == 2
    assert lease_holder(production_env, cluster_id) == process_name(second)
