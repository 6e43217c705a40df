"""The page terminal side by side with the real /usr/bin/kubectl: same commands, same cluster state.

Both talk to the same simulated cluster: the real kubectl through the Kubernetes API front end
(/k8s/<secret>/, web.kubeapi), the terminal in-process.  The cluster clock is paused and put in
the middle of a virtual second before each comparison, so AGE columns cannot tick between runs.

One difference is expected and masked: `kubectl describe` computes its event and pod ages on the
client from the wall clock, while the cluster's timestamps come from its virtual clock (which
starts at the scenario's date); the terminal uses the virtual clock.  Commands that change state
run twice on twin objects (`api-real` for kubectl, `api-ours` for the terminal).
"""
from __future__ import annotations

import importlib.util
import os
import re

import pytest

if importlib.util.find_spec("web.kubeapi.urls") is None:
    pytest.skip("the Kubernetes API front end (web.kubeapi.urls) does not exist yet: nothing to compare with",
                allow_module_level=True)
if not os.path.exists("/usr/bin/kubectl"):
    pytest.skip("the real kubectl (/usr/bin/kubectl) is not installed", allow_module_level=True)

from tests.web.kube_helpers import cluster_fixture  # noqa: E402
from web.terminal.kubectl import run_command  # noqa: E402

cluster = cluster_fixture(scenario="basic", seed=11)
AGE = re.compile(r"(?<!\S)\d+[smhdy](\d+[smhd])?( \(x\d+ over \d+[smhdy](\d+[smhd])?\))?(?!\S)")


def settle(cluster) -> None:
    """Pause the clock at the middle of a virtual second (each request moves it by milliseconds)."""
    live = cluster.live
    live.pause()
    live.advance_by(1500 - live.now_ms % 1000)


def run_both(cluster, real_line: str, our_line: str | None = None, stdin: str | None = None):
    settle(cluster)
    real = cluster.kubectl(*real_line.split(), stdin=stdin, check=False)
    ours = run_command(cluster.live, f"kubectl {our_line or real_line}" + (f"\n{stdin}EOF" if stdin else ""),
                       server_url=cluster.server)
    return (real.stdout + real.stderr, real.returncode), (ours.text, ours.exit_code)


def assert_same(line: str, expected: tuple, actual: tuple) -> None:
    assert actual == expected, (f"kubectl {line}\n--- real kubectl (exit {expected[1]}) ---\n{expected[0]}"
                                f"--- terminal (exit {actual[1]}) ---\n{actual[0]}")


def compare(cluster, line: str) -> str:
    expected, actual = run_both(cluster, line)
    assert_same(line, expected, actual)
    return actual[0]


def without_client_ages(text: str) -> str:
    lines = []
    for line in text.split("\n"):
        if AGE.search(line):
            line = re.sub(r"\s+", " ", AGE.sub("<age>", line))
        lines.append(line)
    return "\n".join(lines)


def compare_describe(cluster, line: str) -> None:
    (real_text, real_code), (our_text, our_code) = run_both(cluster, line)
    assert_same(line, (without_client_ages(real_text), real_code), (without_client_ages(our_text), our_code))


def compare_twins(cluster, template: str, stdin: str | None = None, twins: tuple = ("real", "ours")) -> None:
    """A state-changing command on twin objects: `{x}` is twins[0] for kubectl and twins[1] for the terminal."""
    real_name, our_name = twins
    real_stdin = stdin.replace("{x}", real_name) if stdin else None
    settle(cluster)
    real = cluster.kubectl(*template.replace("{x}", real_name).split(), stdin=real_stdin, check=False)
    ours = run_command(cluster.live, "kubectl " + template.replace("{x}", our_name)
                       + (f"\n{stdin.replace('{x}', our_name)}EOF" if stdin else ""))
    expected = ((real.stdout + real.stderr).replace(real_name, our_name), real.returncode)
    assert_same(template, expected, (ours.text, ours.exit_code))


GET_COMMANDS = [
    "get pods", "get pods -o wide", "get pods -A", "get pods -A -o wide", "get po -n kube-system",
    "get nodes", "get nodes -o wide", "get no --show-labels", "get deployments", "get deploy -o wide",
    "get rs -o wide", "get ds -A", "get ds -A -o wide", "get svc", "get services -o wide", "get endpoints",
    "get endpointslices", "get ns", "get cm -A", "get sa", "get secrets", "get leases -A",
    "get priorityclasses", "get events -A -o wide", "get all", "get all -A", "get pods,svc",
    "get deploy/web svc/web", "get pods -l app=web", "get pods --field-selector spec.nodeName=worker-1",
    "get pods -n nothing-here", "get pod no-such-pod", "get svc kubernetes -o yaml", "get ns default -o json",
    "get pods -o name", "get nodes -o jsonpath={.items[*].metadata.name}", "get nosuchtype",
    "get pods -o jsonpath={.items[0].metadata.name}", "api-resources", "api-resources -o wide",
    "delete pod no-such-pod", "rollout history deployment/web", "cluster-info", "version",
]


@pytest.mark.parametrize("line", GET_COMMANDS)
def test_read_commands_match_the_real_kubectl(cluster, line: str) -> None:
    compare(cluster, line)


@pytest.mark.parametrize("line", ["describe node worker-1", "describe deployment web", "describe service web",
                                  "describe namespace default", "describe pod no-such-pod", "describe rs",
                                  "describe nodes"])
def test_describe_matches_the_real_kubectl(cluster, line: str) -> None:
    compare_describe(cluster, line)


def test_describe_pod_matches_the_real_kubectl(cluster) -> None:
    pod = run_command(cluster.live, "kubectl get pods -l app=web -o name").text.split()[0]
    compare_describe(cluster, f"describe {pod}")


def test_logs_match_the_real_kubectl(cluster) -> None:
    compare(cluster, "logs deploy/web")


def test_state_changes_print_what_the_real_kubectl_prints(cluster) -> None:
    compare_twins(cluster, "create deployment api-{x} --image=nginx:1.27 --replicas=2")
    compare_twins(cluster, "create deployment api-{x} --image=nginx:1.27")
    compare_twins(cluster, "get deployment api-{x} -o wide")
    compare_twins(cluster, "scale deployment/api-{x} --replicas=3")
    compare_twins(cluster, "label deployment api-{x} tier=front")
    compare_twins(cluster, "label deployment api-{x} tier=back")
    compare_twins(cluster, "label deployment api-{x} tier=back --overwrite")
    compare_twins(cluster, "annotate deployment api-{x} note=hello")
    compare_twins(cluster, "label deployment api-{x} tier-")
    compare_twins(cluster, "expose deployment api-{x} --port=8080 --target-port=80")
    compare_twins(cluster, "set image deployment/api-{x} nginx=nginx:1.28")
    compare_twins(cluster, "rollout pause deployment/api-{x}")
    compare_twins(cluster, "rollout resume deployment/api-{x}")
    compare_twins(cluster, "rollout undo deployment/api-{x} --dry-run=server")
    compare_twins(cluster, "delete service api-{x}")
    compare_twins(cluster, "delete deployment api-{x}")
    compare_twins(cluster, "create namespace team-{x}")
    compare_twins(cluster, "create namespace team-{x}")


def test_apply_creates_configures_and_keeps_unchanged(cluster) -> None:
    manifest = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings-{x}\ndata:\n  color: blue\n")
    compare_twins(cluster, "apply -f -", stdin=manifest)
    compare_twins(cluster, "apply -f -", stdin=manifest)
    compare_twins(cluster, "apply -f -", stdin=manifest.replace("blue", "green"))
    compare_twins(cluster, "get configmap settings-{x} -o jsonpath={.data.color}")


def test_cordon_and_uncordon(cluster) -> None:
    workers = ("worker-1", "worker-2")
    compare_twins(cluster, "cordon {x}", twins=workers)
    compare_twins(cluster, "cordon {x}", twins=workers)
    compare(cluster, "get nodes")
    compare_twins(cluster, "uncordon {x}", twins=workers)
    compare_twins(cluster, "uncordon {x}", twins=workers)
