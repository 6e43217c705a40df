"""The terminal in the page: command parsing and output on a live simulated cluster, the HTTP
endpoints (ownership, HTML and JSON answers, completion) and the alignment rules it prints with."""
from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from cluster_sim.scenario import load_scenario, shipped_path
from web.runtime import registry
from web.terminal.kubectl import run_command
from web.terminal.render import jsonpath, to_yaml
from web.terminal.tabwriter import describe_text, kubectl_table


@pytest.fixture(scope="module")
def live():
    cluster = registry.create(scenario=load_scenario(shipped_path("basic")), owner_session="terminal-tests", seed=3)
    cluster.advance_by(30_000)
    cluster.pause()
    yield cluster
    registry.delete(cluster.id)


def run(live, line: str) -> tuple[str, int]:
    result = run_command(live, line)
    return result.text, result.exit_code


def test_get_pods_prints_kubectl_columns(live) -> None:
    text, code = run(live, "kubectl get pods")
    lines = text.splitlines()
    assert code == 0
    assert lines[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert len(lines) == 4 and all(" Running " in line for line in lines[1:])
    # Columns start where the header's do: alignment by padding 3.
    assert lines[1].index("1/1") == lines[0].index("READY")


def test_prefix_k_and_no_prefix_work_too(live) -> None:
    assert run(live, "k get ns")[0] == run(live, "get ns")[0] == run(live, "kubectl get namespaces")[0]


def test_no_resources_found_and_not_found(live) -> None:
    assert run(live, "kubectl get pods -n empty") == ("No resources found in empty namespace.\n", 0)
    assert run(live, "kubectl get pods -A -l app=nothing") == ("No resources found\n", 0)
    assert run(live, "kubectl get pod ghost") == ('Error from server (NotFound): pods "ghost" not found\n', 1)
    assert run(live, "kubectl get nothings") == ('error: the server doesn\'t have a resource type "nothings"\n', 1)


def test_found_and_missing_names_print_both(live) -> None:
    text, code = run(live, "kubectl get ns default ghost")
    assert code == 1
    assert text.splitlines()[0].split() == ["NAME", "STATUS", "AGE"]
    assert text.splitlines()[1].startswith("default ")
    assert text.endswith('Error from server (NotFound): namespaces "ghost" not found\n')


def test_unsupported_commands_get_hints_not_silence(live) -> None:
    text, code = run(live, "kubectl exec -it web -- sh")
    assert code == 1 and "containers have no shell here" in text and "kubectl logs POD" in text
    text, code = run(live, "kubectl get pods -w")
    assert code == 1 and "not available in the page terminal" in text
    text, code = run(live, "kubectl frobnicate")
    assert code == 1 and 'unknown command "frobnicate"' in text
    assert "apply -f -" in run(live, "kubectl help")[0]
    assert "EOF" in run(live, "kubectl --help")[0]


def test_create_scale_set_image_rollout_and_delete(live) -> None:
    assert run(live, "kubectl create deployment shop --image=nginx:1.27 --replicas=2") == (
        "deployment.apps/shop created\n", 0)
    assert run(live, "kubectl scale deployment shop --replicas=3") == ("deployment.apps/shop scaled\n", 0)
    assert run(live, "kubectl get deploy shop -o jsonpath={.spec.replicas}") == ("3", 0)
    assert run(live, "kubectl set image deployment/shop nginx=nginx:1.28") == ("deployment.apps/shop image updated\n", 0)
    assert run(live, "kubectl get deploy shop -o jsonpath={.spec.template.spec.containers[0].image}") == ("nginx:1.28", 0)
    live.advance_by(20_000)
    history, _ = run(live, "kubectl rollout history deployment/shop")
    assert history.splitlines()[1:4] == ["REVISION  CHANGE-CAUSE", "1         <none>", "2         <none>"]
    assert run(live, "kubectl rollout undo deployment/shop") == ("deployment.apps/shop rolled back\n", 0)
    assert run(live, "kubectl get deploy shop -o jsonpath={.spec.template.spec.containers[0].image}") == ("nginx:1.27", 0)
    assert run(live, "kubectl rollout restart deploy/shop") == ("deployment.apps/shop restarted\n", 0)
    live.advance_by(30_000)
    assert run(live, "kubectl rollout status deployment/shop") == ('deployment "shop" successfully rolled out\n', 0)
    assert run(live, "kubectl delete deploy shop") == ('deployment.apps "shop" deleted\n', 0)
    assert run(live, "kubectl delete deploy shop")[1] == 1


def test_expose_makes_a_service_with_the_deployment_selector(live) -> None:
    assert run(live, "kubectl create deployment api --image=nginx --port=80")[1] == 0
    assert run(live, "kubectl expose deployment api --port=8080 --target-port=80 --type=NodePort") == (
        "service/api exposed\n", 0)
    service = json.loads(run(live, "kubectl get svc api -o json")[0])
    assert service["spec"]["selector"] == {"app": "api"}
    assert service["spec"]["ports"][0]["port"] == 8080 and service["spec"]["ports"][0]["targetPort"] == 80
    row = run(live, "kubectl get svc api")[0].splitlines()[1].split()
    assert row[1] == "NodePort" and row[4].startswith("8080:") and row[4].endswith("/TCP")
    run(live, "kubectl delete svc api")
    run(live, "kubectl delete deployment api")


def test_apply_from_pasted_lines_creates_then_configures(live) -> None:
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: paste\ndata:\n  a: \"1\"\n"
    assert run(live, "kubectl apply -f -\n" + manifest + "EOF") == ("configmap/paste created\n", 0)
    assert run(live, "kubectl apply -f -\n" + manifest + "EOF") == ("configmap/paste unchanged\n", 0)
    changed = manifest.replace('a: "1"', 'b: "2"')
    assert run(live, "kubectl apply -f -\n" + changed + "EOF") == ("configmap/paste configured\n", 0)
    assert json.loads(run(live, "kubectl get cm paste -o json")[0])["data"] == {"b": "2"}
    assert "no objects passed to apply" in run(live, "kubectl apply -f -")[0]
    assert "has no files" in run(live, "kubectl apply -f deploy.yaml")[0]
    assert "error parsing STDIN" in run(live, "kubectl apply -f -\nkind: [\nEOF")[0]


def test_label_annotate_and_invalid_objects(live) -> None:
    assert run(live, "kubectl label ns default team=blue") == ("namespace/default labeled\n", 0)
    assert run(live, "kubectl label ns default team=red") == (
        "error: 'team' already has a value (blue), and --overwrite is false\n", 1)
    assert run(live, "kubectl label ns default team-") == ("namespace/default unlabeled\n", 0)
    assert run(live, "kubectl annotate ns default note=hi") == ("namespace/default annotated\n", 0)
    text, code = run(live, "kubectl create deployment Bad_Name --image=nginx")
    assert code == 1 and text.startswith('The Deployment "Bad_Name" is invalid')


def test_cordon_drain_and_uncordon(live) -> None:
    assert run(live, "kubectl cordon worker-3") == ("node/worker-3 cordoned\n", 0)
    assert "SchedulingDisabled" in run(live, "kubectl get node worker-3")[0]
    text, code = run(live, "kubectl drain worker-3")
    assert code == 1 and "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore)" in text
    text, code = run(live, "kubectl drain worker-3 --ignore-daemonsets")
    assert code == 0 and "Warning: ignoring DaemonSet-managed Pods: kube-system/kube-proxy-" in text
    assert text.endswith("node/worker-3 drained\n")
    assert run(live, "kubectl uncordon worker-3") == ("node/worker-3 uncordoned\n", 0)


def test_describe_shows_the_object_and_its_events(live) -> None:
    text, code = run(live, "kubectl describe deployment web")
    assert code == 0
    assert text.startswith("Name:                   web\nNamespace:              default\n")
    assert re.search(r"\nReplicas: +3 desired \| \d+ updated \| \d+ total \| \d+ available \| \d+ unavailable\n", text)
    assert "ScalingReplicaSet" in text.split("Events:")[1]


def test_output_formats(live) -> None:
    names = run(live, "kubectl get nodes -o name")[0].split()
    assert names == ["node/cp-1", "node/worker-1", "node/worker-2", "node/worker-3"]
    listing = json.loads(run(live, "kubectl get nodes -o json")[0])
    assert listing["kind"] == "List" and len(listing["items"]) == 4
    assert run(live, "kubectl get ns default -o yaml")[0].startswith("apiVersion: v1\nkind: Namespace\n")
    assert run(live, "kubectl get pods -o xml")[1] == 1
    assert "LABELS" in run(live, "kubectl get ns --show-labels")[0]


def test_jsonpath_subset() -> None:
    data = {"items": [{"metadata": {"name": "a"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}},
                      {"metadata": {"name": "b"}, "status": {"conditions": [{"type": "Ready", "status": "False"}]}}]}
    assert jsonpath("{.items[*].metadata.name}", data) == "a b"
    assert jsonpath('{range .items[*]}{.metadata.name}{"\\n"}{end}', data) == "a\nb\n"
    assert jsonpath('{.items[?(@.status.conditions[0].status=="False")].metadata.name}', data) == "b"
    assert jsonpath("{.items[-1].metadata.name}", data) == "b"


def test_yaml_quotes_like_kubectl() -> None:
    assert to_yaml({"t": "2025-01-01T00:00:00Z", "n": "1", "e": "", "b": "true", "i": "nginx:1.27", "m": "a\nb\n"}) == (
        'b: "true"\ne: ""\ni: nginx:1.27\nm: |\n  a\n  b\nn: "1"\nt: "2025-01-01T00:00:00Z"\n')


def test_alignment_follows_go_tabwriter() -> None:
    assert kubectl_table("NAME\tAGE\nab\t5s\n") == "NAME   AGE\nab     5s\n"
    # A line without tabs ends the column block (describe's section titles).
    assert describe_text("Name:\tx\nLabels:\ta=b\n\tc=d\nConditions:\n  Type\tStatus\n  Ready \tTrue \n") == (
        "Name:    x\nLabels:  a=b\n         c=d\nConditions:\n  Type    Status\n  Ready   True \n")


# --- HTTP endpoints ------------------------------------------------------------------------

@pytest.fixture
def owned(client: Client):
    session = client.session
    session["visited"] = True
    session.save()
    cluster = registry.create(scenario=load_scenario(shipped_path("basic")), owner_session=session.session_key, seed=5)
    cluster.advance_by(20_000)
    cluster.pause()
    yield cluster
    registry.delete(cluster.id)


@pytest.mark.django_db
def test_endpoint_answers_json_or_an_html_fragment(client: Client, owned) -> None:
    url = f"/clusters/{owned.id}/terminal/"
    answer = client.post(url, {"line": "kubectl get ns default"}, HTTP_ACCEPT="application/json")
    assert answer.status_code == 200
    assert answer.json()["exitCode"] == 0 and answer.json()["output"].startswith("NAME      STATUS   AGE\ndefault")
    html = client.post(url, {"line": "kubectl get pod <b>"}, HTTP_ACCEPT="text/html")
    assert html.status_code == 200
    body = html.content.decode()
    assert 'data-exit-code="1"' in body and "&lt;b&gt;" in body and "<b>" not in body


@pytest.mark.django_db
def test_endpoint_refuses_other_sessions_and_unknown_clusters(client: Client, owned) -> None:
    stranger = Client()
    assert stranger.post(f"/clusters/{owned.id}/terminal/", {"line": "kubectl get pods"}).status_code == 404
    assert stranger.get(f"/clusters/{owned.id}/terminal/complete", {"line": "kubectl get "}).status_code == 404
    assert client.post("/clusters/0000/terminal/", {"line": "kubectl get pods"}).status_code == 404
    assert client.get(f"/clusters/{owned.id}/terminal/").status_code == 405


@pytest.mark.django_db
def test_completion_of_verbs_types_and_names(client: Client, owned) -> None:
    url = f"/clusters/{owned.id}/terminal/complete"
    assert client.get(url, {"line": "kubectl desc"}).json()["completions"] == ["describe"]
    assert "deployments" in client.get(url, {"line": "kubectl get dep"}).json()["completions"]
    nodes = client.get(url, {"line": "kubectl describe node wor"}).json()["completions"]
    assert nodes == ["worker-1", "worker-2", "worker-3"]
    assert client.get(url, {"line": "kubectl rollout status deploy/w"}).json()["completions"] == ["deploy/web"]
    pods = client.get(url, {"line": "kubectl get pods -n kube-system etcd"}).json()["completions"]
    assert pods == ["etcd-cp-1"]
    assert client.get(url, {"line": "kubectl cordon "}).json()["completions"][0] == "cp-1"


@pytest.mark.django_db
def test_a_stopped_apiserver_refuses_and_a_dead_machine_times_out() -> None:
    """kubectl's own words: a host without kube-apiserver resets the connection; a powered-off
    host does not answer at all."""
    cluster = registry.create(scenario=load_scenario(shipped_path("basic")), owner_session="terminal-down", seed=4)
    try:
        cluster.advance_by(20_000)
        cluster.pause()
        address = cluster.cluster.sim.components["kube-apiserver-cp-1"].advertise_address
        cluster.apply_action({"action": "apiserver.fail", "target": "cp-1"})
        assert run(cluster, "kubectl get pods") == (
            f"The connection to the server {address}:6443 was refused - did you specify the right host or port?\n", 1)
        cluster.apply_action({"action": "apiserver.recover", "target": "cp-1"})
        cluster.apply_action({"action": "controlplane.fail", "target": "cp-1"})
        assert run(cluster, "kubectl get nodes") == (
            f"Unable to connect to the server: dial tcp {address}:6443: i/o timeout\n", 1)
    finally:
        registry.delete(cluster.id)
