"""Scenario files: shipped scenarios, normalisation, and an exact message for every mistake."""
import copy
import os

import pytest

from cluster_sim.engine import decode_state, encode_state
from cluster_sim.scenario import (
    ACTIONS, SHIPPED_DIRECTORY, Scenario, ScenarioError, list_shipped, load_scenario, parse_action,
    parse_scenario, parse_yaml, shipped_path,
)

SOURCE = "lesson.yaml"
REGEX = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"


def minimal(**extra):
    return dict({"name": "lesson"}, **extra)


def with_topology(**topology):
    return minimal(topology=topology)


def three_workers(**document):
    return minimal(topology={"controlPlane": {"nodes": 3}, "workers": {"count": 3}}, **document)


def error_of(document, source=SOURCE) -> ScenarioError:
    with pytest.raises(ScenarioError) as raised:
        parse_scenario(document, source)
    return raised.value


def pods_in(scenario: Scenario) -> int:
    count = 0
    for manifest in scenario.objects:
        if manifest["kind"] == "Deployment":
            count += manifest["spec"].get("replicas", 1)
        elif manifest["kind"] == "Pod":
            count += 1
    return count


# --- shipped scenarios -----------------------------------------------------------------------

def test_every_yaml_file_in_the_scenarios_directory_is_listed():
    files = sorted(name[:-5] for name in os.listdir(SHIPPED_DIRECTORY) if name.endswith(".yaml"))
    assert list_shipped() == files
    assert {"basic", "ha", "worker-failure", "controlplane-failure", "etcd-quorum-loss", "scheduling",
            "rollout", "external-etcd"} <= set(files)


@pytest.mark.parametrize("name", list_shipped())
def test_shipped_scenario_parses(name):
    scenario = load_scenario(shipped_path(name))
    assert scenario.name == name
    assert isinstance(scenario.seed, int)
    assert scenario.description
    assert scenario.objects


def test_shipped_path_accepts_the_file_name_and_refuses_unknown_names():
    assert shipped_path("basic.yaml") == shipped_path("basic")
    with pytest.raises(ValueError, match="no shipped scenario 'nope'; shipped scenarios: basic"):
        shipped_path("nope")


def test_basic_is_one_control_plane_node_three_workers_and_a_web_app():
    scenario = load_scenario(shipped_path("basic"))
    assert scenario.control_plane["nodes"] == ["cp-1"]
    assert [worker["name"] for worker in scenario.workers] == ["worker-1", "worker-2", "worker-3"]
    kinds = {(manifest["kind"], manifest["metadata"]["name"]) for manifest in scenario.objects}
    assert kinds == {("Deployment", "web"), ("Service", "web")}
    assert pods_in(scenario) == 3


def test_ha_is_three_stacked_members_and_forty_pods_over_three_zones():
    scenario = load_scenario(shipped_path("ha"))
    assert scenario.control_plane["nodes"] == ["cp-1", "cp-2", "cp-3"]
    assert scenario.control_plane["etcd"] == "stacked"
    assert scenario.control_plane["etcd_members"] == ["cp-1", "cp-2", "cp-3"]
    assert len(scenario.workers) == 5
    assert {worker["zone"] for worker in scenario.workers} == {"us-east-1a", "us-east-1b", "us-east-1c"}
    assert [node["zone"] for node in scenario.control_plane["node_specs"]] == ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert pods_in(scenario) == 40
    assert scenario.timeline == []


def test_failure_scenarios_fail_what_their_lessons_say():
    def timeline(name):
        return [(entry["at_ms"], entry["action"], entry["target"]) for entry in load_scenario(shipped_path(name)).timeline]

    assert timeline("worker-failure") == [(60_000, "node.fail", "worker-2")]
    assert (30_000, "controlplane.fail", "cp-1") in timeline("controlplane-failure")
    assert (180_000, "controlplane.recover", "cp-1") in timeline("controlplane-failure")
    etcd_failures = [target for _at, action, target in timeline("etcd-quorum-loss") if action == "etcd.fail"]
    assert etcd_failures == ["cp-2", "cp-3"]
    external = load_scenario(shipped_path("external-etcd"))
    assert external.control_plane["etcd_members"] == ["etcd-1", "etcd-2", "etcd-3"]
    assert external.machine_names()[-3:] == ["etcd-1", "etcd-2", "etcd-3"]


def test_scheduling_scenario_has_a_pod_no_node_can_hold():
    scenario = load_scenario(shipped_path("scheduling"))
    largest_cpu = max(int(worker["allocatable"]["cpu"]) for worker in scenario.workers)
    batch = next(manifest for manifest in scenario.objects if manifest["metadata"]["name"] == "batch")
    assert int(batch["spec"]["containers"][0]["resources"]["requests"]["cpu"]) > largest_cpu
    gpu = next(worker for worker in scenario.workers if worker["name"] == "gpu-1")
    assert gpu["taints"] == [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]
    assert gpu["allocatable"]["nvidia.com/gpu"] == "1"


# --- normalisation ---------------------------------------------------------------------------

def test_defaults_are_a_kubeadm_single_control_plane():
    scenario = parse_scenario(minimal(), SOURCE)
    assert scenario.seed is None
    assert scenario.start_time == "2025-01-01T00:00:00Z"
    assert scenario.start_epoch_ms == 1_735_689_600_000
    assert scenario.control_plane["nodes"] == ["cp-1"]
    assert scenario.control_plane["etcd"] == "stacked"
    assert scenario.control_plane["etcd_members"] == ["cp-1"]
    assert scenario.workers == [] and scenario.objects == [] and scenario.timeline == []
    assert scenario.network == {"latency_ms": 1, "jitter_ms": 1, "loss": 0.0}
    control_plane_node = scenario.control_plane["node_specs"][0]
    assert control_plane_node["taints"] == [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    assert control_plane_node["labels"]["node-role.kubernetes.io/control-plane"] == ""


def test_start_time_in_another_offset_is_normalised_to_utc():
    scenario = parse_scenario(minimal(startTime="2025-03-30T02:30:00.250+02:00"), SOURCE)
    assert scenario.start_time == "2025-03-30T00:30:00.250Z"
    assert scenario.start_epoch_ms == 1_743_294_600_250


def test_unquoted_start_time_in_yaml_stays_text():
    scenario = parse_yaml("name: lesson\nstartTime: 2024-02-29T12:00:00Z\n", SOURCE)
    assert scenario.start_time == "2024-02-29T12:00:00Z"
    assert scenario.start_epoch_ms == 1_709_208_000_000


def test_worker_shorthand_generates_names_zones_and_kubelet_labels():
    scenario = parse_scenario(with_topology(workers={
        "count": 4, "zones": ["a", "b"], "allocatable": {"cpu": "1.5", "memory": "4096Mi"},
        "labels": {"disktype": "ssd"}, "images": [{"name": "nginx:1.27", "sizeBytes": "70Mi"}]}), SOURCE)
    assert [worker["name"] for worker in scenario.workers] == ["worker-1", "worker-2", "worker-3", "worker-4"]
    assert [worker["zone"] for worker in scenario.workers] == ["a", "b", "a", "b"]
    worker = scenario.workers[1]
    assert worker["allocatable"] == {"cpu": "1500m", "memory": "4Gi", "pods": "110", "ephemeral-storage": "20Gi"}
    assert worker["labels"] == {
        "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux", "disktype": "ssd",
        "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": "worker-2", "kubernetes.io/os": "linux",
        "topology.kubernetes.io/zone": "b"}
    assert worker["images"] == [{"name": "nginx:1.27", "sizeBytes": 70 * 2**20}]


def test_zone_may_be_given_as_a_label():
    scenario = parse_scenario(with_topology(workers=[
        {"name": "w", "labels": {"topology.kubernetes.io/zone": "z1"}}]), SOURCE)
    assert scenario.workers[0]["zone"] == "z1"


def test_control_plane_names_and_external_etcd():
    scenario = parse_scenario(with_topology(controlPlane={
        "nodes": 3, "etcd": "external", "etcdMembers": 5, "names": ["master-a", "master-b", "master-c"]}), SOURCE)
    assert scenario.control_plane["nodes"] == ["master-a", "master-b", "master-c"]
    assert scenario.control_plane["etcd_members"] == ["etcd-1", "etcd-2", "etcd-3", "etcd-4", "etcd-5"]
    assert scenario.machine_names() == ["master-a", "master-b", "master-c", "etcd-1", "etcd-2", "etcd-3",
                                        "etcd-4", "etcd-5"]


def test_timeline_is_sorted_by_time_and_each_entry_carries_every_field_of_its_action():
    scenario = parse_scenario(three_workers(timeline=[
        {"at": "5m", "action": "scale", "target": "web", "replicas": 5},
        {"at": 90, "action": "container.crash", "target": "kube-system/coredns-1"},
        {"at": "1m30s", "action": "node.fail", "target": "worker-3"},
        {"at": "1h", "action": "delete", "resource": "deployment/web"},
    ]), SOURCE)
    assert scenario.timeline == [
        {"at_ms": 90_000, "action": "container.crash", "target": "kube-system/coredns-1",
         "namespace": "kube-system", "name": "coredns-1", "container": None},
        {"at_ms": 90_000, "action": "node.fail", "target": "worker-3"},
        {"at_ms": 300_000, "action": "scale", "target": "default/web", "namespace": "default", "name": "web",
         "replicas": 5},
        {"at_ms": 3_600_000, "action": "delete", "target": None, "namespace": None, "kind": None,
         "name": "web", "resource": "deployment"},
    ]


def test_network_partition_by_groups_and_heal_of_everything():
    scenario = parse_scenario(three_workers(timeline=[
        {"at": "10s", "action": "network.partition", "groups": [["cp-1", "worker-1"], ["cp-2", "cp-3"]]},
        {"at": "20s", "action": "network.heal"},
    ]), SOURCE)
    assert scenario.timeline[0]["groups"] == [["cp-1", "worker-1"], ["cp-2", "cp-3"]]
    assert scenario.timeline[0]["target"] is None
    assert scenario.timeline[1] == {"at_ms": 20_000, "action": "network.heal", "target": None}


def test_every_action_in_the_table_can_be_written():
    written = {
        "network.partition": {"target": "worker-1"}, "apply": {"object": {
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}}},
        "delete": {"kind": "ConfigMap", "name": "settings"}, "scale": {"target": "web", "replicas": 2},
        "rollout": {"target": "web", "image": "nginx:1.28"}, "container.crash": {"target": "web-abc"},
        "service.request": {"target": "web", "from": "worker-2"}, "etcd.fail": {"target": "cp-2"},
        "etcd.recover": {"target": "cp-2"}, "network.heal": {},
    }
    topology = parse_scenario(three_workers(), SOURCE).topology()
    for action, spec in ACTIONS.items():
        fields = written.get(action, {"target": "cp-1"})
        entry = parse_action(dict(fields, action=action), topology, "web", "action")
        assert entry["action"] == action
        assert set(entry) == {"at_ms", "action", "target"} | set(spec.fields()) | (
            {"namespace", "name"} if spec.target in ("pod", "deployment", "service") else set())


def test_parse_action_at_run_time_needs_no_time_and_takes_a_scenario():
    scenario = parse_scenario(three_workers(), SOURCE)
    entry = parse_action({"action": "kubelet.stop", "target": "worker-2"}, scenario, "web request", "")
    assert entry == {"at_ms": 0, "action": "kubelet.stop", "target": "worker-2"}


def test_scenario_is_plain_state_that_survives_a_snapshot():
    scenario = load_scenario(shipped_path("scheduling"))
    encoded = encode_state(scenario)  # raises on tuples, sets or non-string keys
    restored = decode_state(copy.deepcopy(encoded), None)
    assert restored == scenario
    assert restored.timeline is not scenario.timeline


# --- errors: file, path inside the document, and what is wrong --------------------------------

WORKER = {"name": "worker-1"}


@pytest.mark.parametrize(("document", "expected"), [
    ([], "(root): Invalid value: []: must be a mapping"),
    ({}, "name: Required value"),
    (minimal(sed=1), 'sed: unknown field "sed"; known fields: name, seed, description, startTime, topology, objects, timeline'),
    (minimal(seed="one"), 'seed: Invalid value: "one": must be an integer'),
    (minimal(seed=-1), "seed: Invalid value: -1: must be between 0 and 9223372036854775807, inclusive"),
    (minimal(startTime="yesterday"), 'startTime: Invalid value: "yesterday": must be an RFC 3339 time such as "2025-01-01T00:00:00Z"'),
    (minimal(startTime="2025-02-30T00:00:00Z"), 'startTime: Invalid value: "2025-02-30T00:00:00Z": day is out of range for month'),
    (minimal(startTime="2025-01-01T00:00:00.0001Z"), 'startTime: Invalid value: "2025-01-01T00:00:00.0001Z": the simulation clock counts whole milliseconds'),
    (with_topology(controlPlane={"nodes": 2}), "topology.controlPlane.nodes: Unsupported value: 2: supported values: 1, 3, 5"),
    (with_topology(controlPlane={"nodes": 3.0}), "topology.controlPlane.nodes: Unsupported value: 3.0: supported values: 1, 3, 5"),
    (with_topology(controlPlane={"etcd": "embedded"}), 'topology.controlPlane.etcd: Unsupported value: "embedded": supported values: "stacked", "external"'),
    (with_topology(controlPlane={"nodes": 1, "etcdMembers": 3}),
     "topology.controlPlane.etcdMembers: Invalid value: 3: stacked etcd runs one member on each control-plane node, "
     "so etcdMembers must equal nodes (1); use etcd: external for a separate etcd cluster"),
    (with_topology(controlPlane={"nodes": 3, "names": ["a", "b"]}), 'topology.controlPlane.names: Invalid value: ["a", "b"]: 2 names for 3 control-plane nodes'),
    (with_topology(controlPlane={"nodes": 3, "names": ["a", "B", "c"]}),
     'topology.controlPlane.names[1]: Invalid value: "B": a lowercase RFC 1123 subdomain must consist of lower case '
     "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. "
     "'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"),
    (with_topology(workrs=[]), 'topology.workrs: unknown field "workrs"; known fields: controlPlane, workers, network'),
    (with_topology(workers=[{"allocatable": {}}]), "topology.workers[0].name: Required value"),
    (with_topology(workers=[WORKER, {"name": "worker-2", "zone": "a", "cpu": "2"}]),
     'topology.workers[1].cpu: unknown field "cpu"; known fields: name, allocatable, labels, taints, images, zone'),
    (with_topology(workers=[dict(WORKER, allocatable={"cpu": "two"})]),
     "topology.workers[0].allocatable[cpu]: Invalid value: \"two\": " + REGEX),
    (with_topology(workers=[dict(WORKER, allocatable={"memory": "4GB"})]),
     "topology.workers[0].allocatable[memory]: Invalid value: \"4GB\": " + REGEX),
    (with_topology(workers=[dict(WORKER, allocatable={"memory": "4mi"})]),
     "topology.workers[0].allocatable[memory]: Invalid value: \"4mi\": unable to parse quantity's suffix"),
    (with_topology(workers=[dict(WORKER, allocatable={"cpu": "-1"})]),
     'topology.workers[0].allocatable[cpu]: Invalid value: "-1": must be greater than or equal to 0'),
    (with_topology(workers=[dict(WORKER, allocatable={"gpu": "1"})]),
     'topology.workers[0].allocatable[gpu]: Unsupported value: "gpu": supported values: "cpu", "memory", "pods", '
     '"ephemeral-storage", "hugepages-<size>", "<domain>/<extended-resource>"'),
    (with_topology(workers=[dict(WORKER, allocatable={"nvidia.com/gpu": "0.5"})]),
     'topology.workers[0].allocatable[nvidia.com/gpu]: Invalid value: "0.5": must be an integer'),
    (with_topology(workers=[dict(WORKER, labels={"kubernetes.io/hostname": "x"})]),
     "topology.workers[0].labels[kubernetes.io/hostname]: Forbidden: the kubelet sets this label"),
    (with_topology(workers=[dict(WORKER, labels={"tier": True})]),
     "topology.workers[0].labels[tier]: Invalid value: true: must be a string"),
    (with_topology(workers=[dict(WORKER, labels={"tier": "front end"})]),
     "topology.workers[0].labels[tier]: Invalid value: \"front end\": a valid label must be an empty string or consist "
     "of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
     "'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"),
    (with_topology(workers=[dict(WORKER, zone="a", labels={"topology.kubernetes.io/zone": "b"})]),
     'topology.workers[0].labels: Invalid value: "b": contradicts zone "a"'),
    (with_topology(workers=[dict(WORKER, taints=[{"key": "gpu", "effect": "NoEvict"}])]),
     'topology.workers[0].taints[0].effect: Unsupported value: "NoEvict": supported values: "NoExecute", '
     '"NoSchedule", "PreferNoSchedule"'),
    (with_topology(workers=[dict(WORKER, taints=[{"effect": "NoSchedule"}])]), "topology.workers[0].taints[0].key: Required value"),
    (with_topology(workers=[dict(WORKER, taints=[{"key": "a", "effect": "NoSchedule"}, {"key": "a", "value": "x", "effect": "NoSchedule"}])]),
     'topology.workers[0].taints[1]: Duplicate value: "a:NoSchedule": taints must be unique by key and effect'),
    (with_topology(workers=[dict(WORKER, images=[{"name": "nginx:1.27"}])]), "topology.workers[0].images[0].sizeBytes: Required value"),
    (with_topology(workers=[dict(WORKER, images=[{"name": "nginx:1.27", "sizeBytes": 0}])]),
     "topology.workers[0].images[0].sizeBytes: Invalid value: 0: must be between 1 and 9223372036854775807, inclusive"),
    (with_topology(workers=[WORKER, WORKER]),
     'topology.workers[1].name: Duplicate value: "worker-1": machine names must be unique ("workstation" is reserved for kubectl)'),
    (with_topology(workers=[{"name": "cp-1"}]),
     'topology.workers[0].name: Duplicate value: "cp-1": machine names must be unique ("workstation" is reserved for kubectl)'),
    (with_topology(workers={"count": 1, "namePrefix": "workstation"}, controlPlane={"names": ["workstation-1"]}),
     'topology.workers.namePrefix: Duplicate value: "workstation-1": machine names must be unique ("workstation" is reserved for kubectl)'),
    (with_topology(controlPlane={"etcd": "external", "etcdMembers": 3}, workers=[{"name": "etcd-2"}]),
     'topology.controlPlane.etcd: Duplicate value: "etcd-2": machine names must be unique ("workstation" is reserved for kubectl)'),
    (with_topology(workers={"count": -1}), "topology.workers.count: Invalid value: -1: must be between 0 and 5000, inclusive"),
    (with_topology(workers={"count": 2, "zones": []}), "topology.workers.zones: Required value: at least one zone"),
    (with_topology(network={"latencyMs": "5ms"}), 'topology.network.latencyMs: Invalid value: "5ms": must be an integer'),
    (with_topology(network={"loss": 2}), "topology.network.loss: Invalid value: 2: must be a fraction between 0 and 1"),
    (minimal(objects={"kind": "Pod"}), 'objects: Invalid value: {"kind": "Pod"}: must be a list'),
    (minimal(objects=[{"kind": "Pod", "metadata": {"name": "a"}}]), "objects[0].apiVersion: Required value"),
    (minimal(objects=[{"apiVersion": "v1", "metadata": {"name": "a"}}]), "objects[0].kind: Required value"),
    (minimal(objects=[{"apiVersion": "v1", "kind": "Pod", "metadata": {"labels": {}}}]),
     "objects[0].metadata.name: Required value: name or generateName is required"),
    (minimal(objects=[{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": 7}}]),
     "objects[0].metadata.name: Invalid value: 7: must be a string"),
    (minimal(objects=[{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}},
                      {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"}}]),
     'objects[1]: Duplicate value: "Deployment.apps default/web": already defined at objects[0]'),
    (minimal(objects=[{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {1: "x"}}]),
     "objects[0].data: Invalid value: 1: keys must be strings"),
    (three_workers(timeline={}), "timeline: Invalid value: {}: must be a list"),
    (three_workers(timeline=[{"action": "node.fail", "target": "worker-1"}]), "timeline[0].at: Required value"),
    (three_workers(timeline=[{"at": "soon", "action": "node.fail", "target": "worker-1"}]),
     'timeline[0].at: Invalid value: "soon": time: invalid duration "soon"'),
    (three_workers(timeline=[{"at": "1d", "action": "node.fail", "target": "worker-1"}]),
     'timeline[0].at: Invalid value: "1d": time: unknown unit "d" in duration "1d"'),
    (three_workers(timeline=[{"at": "-5s", "action": "node.fail", "target": "worker-1"}]),
     'timeline[0].at: Invalid value: "-5s": must not be negative'),
    (three_workers(timeline=[{"at": 0, "action": "node.explode", "target": "worker-1"}]),
     'timeline[0].action: Unsupported value: "node.explode": supported values: "node.fail", "node.recover", '
     '"node.delete", "kubelet.stop", "kubelet.start", "network.partition", "network.heal", "controlplane.fail", '
     '"controlplane.recover", "apiserver.fail", "apiserver.recover", "etcd.fail", "etcd.recover", "container.crash", '
     '"apply", "delete", "scale", "cordon", "uncordon", "drain", "service.request", "rollout"'),
    (three_workers(timeline=[{"at": 0, "action": "node.fail"}]), "timeline[0].target: Required value"),
    (three_workers(timeline=[{"at": 0, "action": "node.fail", "target": "worker-9"}]),
     'timeline[0].target: Not found: "worker-9": nodes in this topology: cp-1, cp-2, cp-3, worker-1, worker-2, worker-3'),
    (three_workers(timeline=[{"at": 0, "action": "node.fail", "target": "worker-1", "replicas": 2}]),
     'timeline[0].replicas: unknown field "replicas"; known fields: at, action, target'),
    (three_workers(timeline=[{"at": 0, "action": "apiserver.fail", "target": "worker-1"}]),
     'timeline[0].target: Not found: "worker-1": control-plane nodes in this topology: cp-1, cp-2, cp-3'),
    (three_workers(timeline=[{"at": 0, "action": "etcd.fail", "target": "etcd-2"}]),
     'timeline[0].target: Invalid value: "etcd-2": not an etcd member; etcd is stacked: its members run on the '
     "control-plane nodes: cp-1, cp-2, cp-3"),
    (minimal(topology={"controlPlane": {"nodes": 3, "etcd": "external"}},
             timeline=[{"at": 0, "action": "etcd.fail", "target": "cp-2"}]),
     'timeline[0].target: Invalid value: "cp-2": not an etcd member; etcd is external: its members run on their '
     "own machines: etcd-1, etcd-2, etcd-3"),
    (three_workers(timeline=[{"at": 0, "action": "network.partition"}]),
     'timeline[0]: Required value: one of "target" or "groups"'),
    (three_workers(timeline=[{"at": 0, "action": "network.partition", "target": "cp-1", "groups": [["cp-2"]]}]),
     'timeline[0]: Forbidden: only one of "target" or "groups" may be given'),
    (three_workers(timeline=[{"at": 0, "action": "network.partition", "groups": [["cp-1"], ["cp-1", "worker-1"]]}]),
     'timeline[0].groups[1][0]: Duplicate value: "cp-1": a machine can be in only one group'),
    (three_workers(timeline=[{"at": 0, "action": "network.partition", "groups": [["cp-1"], ["nas"]]}]),
     'timeline[0].groups[1][0]: Not found: "nas": machines in this topology: cp-1, cp-2, cp-3, worker-1, worker-2, worker-3'),
    (three_workers(timeline=[{"at": 0, "action": "scale", "target": "web"}]), "timeline[0].replicas: Required value"),
    (three_workers(timeline=[{"at": 0, "action": "scale", "target": "web", "replicas": -1}]),
     "timeline[0].replicas: Invalid value: -1: must be between 0 and 2147483647, inclusive"),
    (three_workers(timeline=[{"at": 0, "action": "scale", "target": "Web", "replicas": 1}]),
     'timeline[0].target: Invalid value: "Web": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric '
     "characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
     "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"),
    (three_workers(timeline=[{"at": 0, "action": "rollout", "target": "web"}]), "timeline[0].image: Required value"),
    (three_workers(timeline=[{"at": 0, "action": "delete", "kind": "Pod"}]), "timeline[0].name: Required value"),
    (three_workers(timeline=[{"at": 0, "action": "delete", "resource": "web"}]),
     'timeline[0].resource: Invalid value: "web": must be <resource>/<name>, e.g. "deployment/web"'),
    (three_workers(timeline=[{"at": 0, "action": "delete", "resource": "pod/a", "kind": "Pod", "name": "a"}]),
     'timeline[0]: Forbidden: only one of "kind" and "name" or "resource" may be given'),
    (three_workers(timeline=[{"at": 0, "action": "apply", "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {}}}]),
     "timeline[0].object.metadata.name: Required value: name or generateName is required"),
    (three_workers(timeline=[{"at": 0, "action": "service.request", "target": "web", "from": "worker-7"}]),
     'timeline[0].from: Not found: "worker-7": nodes in this topology: cp-1, cp-2, cp-3, worker-1, worker-2, worker-3'),
])
def test_every_mistake_names_the_file_the_place_and_the_problem(document, expected):
    error = error_of(document)
    assert str(error) == f"{SOURCE}: {expected}"
    assert error.source == SOURCE
    assert str(error) == f"{error.source}: {error.path}: {error.message}"


def test_parse_action_reports_in_the_callers_terms():
    topology = parse_scenario(three_workers(), SOURCE).topology()
    with pytest.raises(ScenarioError) as raised:
        parse_action({"action": "drain", "target": "worker-4"}, topology, "learner action", "body")
    assert str(raised.value) == ('learner action: body.target: Not found: "worker-4": nodes in this topology: '
                                 "cp-1, cp-2, cp-3, worker-1, worker-2, worker-3")


@pytest.mark.parametrize(("text", "expected"), [
    ("name: a\nname: b\n", "lesson.yaml: line 2, column 1: invalid YAML: mapping key 'name' already defined at line 1"),
    ("name: [a\n", "lesson.yaml: line 2, column 1: invalid YAML: expected ',' or ']', but got '<stream end>'"),
    ("", "lesson.yaml: (root): Invalid value: null: must be a mapping"),
    ("name: a\ntimeline:\n  - {at: 90s, action: node.fail, target: nowhere}\n",
     'lesson.yaml: timeline[0].target: Not found: "nowhere": nodes in this topology: cp-1'),
])
def test_yaml_problems_give_the_line(text, expected):
    with pytest.raises(ScenarioError) as raised:
        parse_yaml(text, SOURCE)
    assert str(raised.value) == expected


def test_yaml_merge_keys_are_not_duplicates():
    text = ("name: lesson\ntopology:\n  workers:\n    - &w {name: a, allocatable: {cpu: '1'}}\n"
            "    - <<: *w\n      name: b\n")
    scenario = parse_yaml(text, SOURCE)
    assert [worker["name"] for worker in scenario.workers] == ["a", "b"]
    assert scenario.workers[1]["allocatable"]["cpu"] == "1"


def test_loading_a_missing_file_names_it(tmp_path):
    missing = tmp_path / "missing.yaml"
    with pytest.raises(ScenarioError) as raised:
        load_scenario(missing)
    assert str(raised.value) == f"{missing}: (file): cannot read: No such file or directory"


def test_errors_in_a_file_name_the_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: broken\ntopology:\n  controlPlane: {nodes: 4}\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    assert str(raised.value) == f"{path}: topology.controlPlane.nodes: Unsupported value: 4: supported values: 1, 3, 5"


def test_docs_describe_every_action():
    docs = os.path.join(os.path.dirname(SHIPPED_DIRECTORY), os.pardir, "docs", "scenarios.md")
    with open(docs, encoding="utf-8") as handle:
        text = handle.read()
    missing = [action for action in ACTIONS if f"`{action}`" not in text]
    assert missing == []
