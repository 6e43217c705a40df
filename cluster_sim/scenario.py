"""Scenario files: the cluster a lesson starts from and what happens to it (docs/scenarios.md).

A scenario is a YAML document with ``name``, ``seed``, ``description``, ``startTime``,
``topology`` (control plane, etcd, workers, network), ``objects`` (manifests applied at time 0)
and a ``timeline`` of actions.  ``parse_scenario`` checks it completely and returns a
``Scenario`` whose attributes are plain dicts and lists, ready to be kept in simulation state.
Every problem is reported as ``<file>: <path.in[2].the.document>: <what is wrong>``.

``load_scenario``, ``list_shipped`` and ``shipped_path`` touch files (tests/test_purity.py allows
it for this module): they run before a simulation exists, never inside one.
"""
from __future__ import annotations

import copy
import datetime
import json
import os
import re
from dataclasses import dataclass
from typing import Any

import yaml

from . import durations, quantity

SHIPPED_DIRECTORY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scenarios")

DEFAULT_START_TIME = "2025-01-01T00:00:00Z"
DEFAULT_NAMESPACE = "default"
DEFAULT_ALLOCATABLE = {"cpu": "2", "memory": "4Gi", "pods": "110", "ephemeral-storage": "20Gi"}
DEFAULT_NETWORK = {"latency_ms": 1, "jitter_ms": 1, "loss": 0.0}
CONTROL_PLANE_SIZES = [1, 3, 5]
ETCD_MODES = ["stacked", "external"]
TAINT_EFFECTS = ["NoExecute", "NoSchedule", "PreferNoSchedule"]
MAX_NODES = 5000  # Kubernetes' supported cluster size
MAX_REPLICAS = 2**31 - 1
MAX_SEED = 2**63 - 1
MAX_LATENCY_MS = 60_000
RESERVED_MACHINES = ["workstation"]  # where the learner's kubectl runs

LABEL_HOSTNAME = "kubernetes.io/hostname"
LABEL_ZONE = "topology.kubernetes.io/zone"
LABEL_ROLE_CONTROL_PLANE = "node-role.kubernetes.io/control-plane"
LABEL_EXCLUDE_FROM_LOAD_BALANCERS = "node.kubernetes.io/exclude-from-external-load-balancers"
# The kubelet sets these on its Node; a scenario may not override them.
KUBELET_LABELS = {
    "beta.kubernetes.io/arch": "amd64",
    "beta.kubernetes.io/os": "linux",
    "kubernetes.io/arch": "amd64",
    "kubernetes.io/os": "linux",
}
CONTROL_PLANE_TAINT = {"key": LABEL_ROLE_CONTROL_PLANE, "effect": "NoSchedule"}

DNS1123_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN = DNS1123_LABEL + "(\\." + DNS1123_LABEL + ")*"
LABEL_NAME = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
LABEL_VALUE = "(" + LABEL_NAME + ")?"
DNS1123_LABEL_MESSAGE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used "
    "for validation is '" + DNS1123_LABEL + "')")
DNS1123_SUBDOMAIN_MESSAGE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '" + DNS1123_SUBDOMAIN + "')")
LABEL_NAME_MESSAGE = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
    "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '" + LABEL_NAME + "')")
LABEL_VALUE_MESSAGE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value', "
    " or '12345', regex used for validation is '" + LABEL_VALUE + "')")

RFC3339 = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
UNIX_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


class ScenarioError(ValueError):
    """A scenario is invalid: ``str()`` is ``<file>: <path in the document>: <what is wrong>``."""

    def __init__(self, source: str, path: str, message: str):
        super().__init__(source, path, message)
        self.source = source
        self.path = path or "(root)"
        self.message = message

    def __str__(self) -> str:
        return f"{self.source}: {self.path}: {self.message}"


@dataclass
class Scenario:
    """A checked, normalised scenario.  Every attribute is plain data (state rules)."""

    name: str
    seed: int | None
    description: str
    start_time: str
    start_epoch_ms: int
    control_plane: dict
    workers: list
    network: dict
    objects: list
    timeline: list
    source: str = ""

    def topology(self) -> dict:
        """What ``parse_action`` needs to check targets."""
        return {"control_plane": self.control_plane, "workers": self.workers}

    def nodes(self) -> list:
        """Every Node's settings: control-plane nodes first, then workers."""
        return self.control_plane["node_specs"] + self.workers

    def node_names(self) -> list:
        return [node["name"] for node in self.nodes()]

    def machine_names(self) -> list:
        """Nodes plus external etcd machines: everything the network connects."""
        return _machine_names(self.topology())

    def as_dict(self) -> dict:
        return copy.deepcopy(vars(self))


@dataclass(frozen=True)
class ActionSpec:
    """What one timeline action takes.

    ``target`` says what the ``target`` field names (one of the TARGET_* kinds) or None when the
    action takes no target.  ``alternatives`` lists field sets of which exactly one must be given.
    """

    summary: str
    target: str | None = None
    target_required: bool = True
    required: tuple = ()
    optional: tuple = ()
    alternatives: tuple = ()

    def fields(self) -> list:
        names = (["target"] if self.target else []) + list(self.required) + list(self.optional)
        for group in self.alternatives:
            names.extend(name for name in group if name not in names)
        return names


TARGET_NODE = "node"  # any node, control plane or worker
TARGET_CONTROL_PLANE_NODE = "control-plane node"
TARGET_ETCD_MEMBER = "etcd member"  # stacked: the control-plane node; external: etcd-N
TARGET_MACHINE = "machine"  # a node or an external etcd machine
TARGET_POD = "pod"  # "namespace/name", or "name" in the default namespace
TARGET_DEPLOYMENT = "deployment"  # "namespace/name", or "name" in the default namespace
TARGET_SERVICE = "service"  # "namespace/name", or "name" in the default namespace
NAMESPACED_TARGETS = (TARGET_POD, TARGET_DEPLOYMENT, TARGET_SERVICE)

ACTIONS: dict[str, ActionSpec] = {
    "node.fail": ActionSpec("the machine loses power: every process on it stops", TARGET_NODE),
    "node.recover": ActionSpec("the machine boots again and its processes start", TARGET_NODE),
    "node.delete": ActionSpec("the cloud provider deletes the machine: it goes down for good and "
                              "the cloud-controller-manager deletes its Node", TARGET_NODE),
    "kubelet.stop": ActionSpec("the kubelet stops; containers keep running", TARGET_NODE),
    "kubelet.start": ActionSpec("the kubelet starts again", TARGET_NODE),
    "network.partition": ActionSpec(
        "cut the network: isolate one machine, or split machines into groups that cannot reach "
        "each other (machines not listed form one more group)",
        TARGET_MACHINE, target_required=False, alternatives=(("target",), ("groups",))),
    "network.heal": ActionSpec("restore the network for one machine, or for all without target",
                               TARGET_MACHINE, target_required=False),
    "controlplane.fail": ActionSpec(
        "the control-plane node goes down, and with it kube-apiserver, kube-scheduler, "
        "kube-controller-manager and, when stacked, its etcd member", TARGET_CONTROL_PLANE_NODE),
    "controlplane.recover": ActionSpec("the control-plane node comes back with its processes",
                                       TARGET_CONTROL_PLANE_NODE),
    "apiserver.fail": ActionSpec("kube-apiserver on the node stops", TARGET_CONTROL_PLANE_NODE),
    "apiserver.recover": ActionSpec("kube-apiserver on the node starts again",
                                    TARGET_CONTROL_PLANE_NODE),
    "etcd.fail": ActionSpec("the etcd member stops", TARGET_ETCD_MEMBER),
    "etcd.recover": ActionSpec("the etcd member starts again with its data", TARGET_ETCD_MEMBER),
    "container.crash": ActionSpec("a container of the pod exits with an error (first container "
                                  "unless named)", TARGET_POD, optional=("container",)),
    "apply": ActionSpec("create or update an object, like kubectl apply", required=("object",)),
    "delete": ActionSpec("delete an object named by kind and name, or by resource "
                         "(\"deployment/web\"), like kubectl delete",
                         optional=("namespace",), alternatives=(("kind", "name"), ("resource",))),
    "scale": ActionSpec("set a deployment's replicas, like kubectl scale", TARGET_DEPLOYMENT,
                        required=("replicas",)),
    "cordon": ActionSpec("mark the node unschedulable, like kubectl cordon", TARGET_NODE),
    "uncordon": ActionSpec("mark the node schedulable, like kubectl uncordon", TARGET_NODE),
    "drain": ActionSpec("cordon the node and evict its pods (DaemonSet pods stay), like kubectl "
                        "drain --ignore-daemonsets", TARGET_NODE),
    "service.request": ActionSpec("a client sends a request to the Service's cluster IP from a node "
                                  "(the first worker unless named); kube-proxy picks the endpoint",
                                  TARGET_SERVICE, optional=("from", "client")),
    "rollout": ActionSpec("change a container image of a deployment, like kubectl set image "
                          "(the only container unless named)", TARGET_DEPLOYMENT,
                          required=("image",), optional=("container",)),
}

TOP_LEVEL_FIELDS = ["name", "seed", "description", "startTime", "topology", "objects", "timeline"]
TOPOLOGY_FIELDS = ["controlPlane", "workers", "network"]
CONTROL_PLANE_FIELDS = ["nodes", "etcdMembers", "etcd", "names", "zones", "allocatable", "images"]
WORKER_FIELDS = ["name", "allocatable", "labels", "taints", "images", "zone"]
WORKER_GROUP_FIELDS = ["count", "namePrefix", "allocatable", "labels", "taints", "images", "zones"]
NETWORK_FIELDS = ["latencyMs", "jitterMs", "loss"]
TAINT_FIELDS = ["key", "value", "effect"]
IMAGE_FIELDS = ["name", "sizeBytes"]


# --- messages and paths ----------------------------------------------------------------------

def _show(value: Any) -> str:
    """A bad value as Kubernetes field errors print it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def _invalid(value: Any, detail: str) -> str:
    return f"Invalid value: {_show(value)}: {detail}"


def _unsupported(value: Any, supported: list) -> str:
    return f"Unsupported value: {_show(value)}: supported values: " + ", ".join(_show(item) for item in supported)


def _key(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _index(path: str, index: int) -> str:
    return f"{path}[{index}]"


def _entry(path: str, key: str) -> str:
    return f"{path}[{key}]"


# --- basic shapes --------------------------------------------------------------------------

def _mapping(value: Any, source: str, path: str, fields: list | None = None) -> dict:
    if not isinstance(value, dict):
        raise ScenarioError(source, path, _invalid(value, "must be a mapping"))
    for key in value:
        if not isinstance(key, str):
            raise ScenarioError(source, path, _invalid(key, "keys must be strings"))
        if fields is not None and key not in fields:
            raise ScenarioError(source, _key(path, key),
                                f"unknown field {_show(key)}; known fields: " + ", ".join(fields))
    return value


def _list(value: Any, source: str, path: str) -> list:
    if not isinstance(value, list):
        raise ScenarioError(source, path, _invalid(value, "must be a list"))
    return value


def _string(value: Any, source: str, path: str, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise ScenarioError(source, path, _invalid(value, "must be a string"))
    if not value and not allow_empty:
        raise ScenarioError(source, path, "Required value")
    return value


def _integer(value: Any, source: str, path: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScenarioError(source, path, _invalid(value, "must be an integer"))
    if not low <= value <= high:
        raise ScenarioError(source, path, _invalid(value, f"must be between {low} and {high}, inclusive"))
    return value


def _required(document: dict, key: str, source: str, path: str) -> Any:
    if document.get(key) is None:
        raise ScenarioError(source, _key(path, key), "Required value")
    return document[key]


def _dns_subdomain(value: Any, source: str, path: str) -> str:
    name = _string(value, source, path)
    if len(name) > 253:
        raise ScenarioError(source, path, _invalid(name, "must be no more than 253 characters"))
    if not re.fullmatch(DNS1123_SUBDOMAIN, name):
        raise ScenarioError(source, path, _invalid(name, DNS1123_SUBDOMAIN_MESSAGE))
    return name


def _dns_label(value: Any, source: str, path: str) -> str:
    name = _string(value, source, path)
    if len(name) > 63:
        raise ScenarioError(source, path, _invalid(name, "must be no more than 63 characters"))
    if not re.fullmatch(DNS1123_LABEL, name):
        raise ScenarioError(source, path, _invalid(name, DNS1123_LABEL_MESSAGE))
    return name


def _label_key(value: Any, source: str, path: str) -> str:
    key = _string(value, source, path)
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not re.fullmatch(DNS1123_SUBDOMAIN, prefix)):
        raise ScenarioError(source, path, _invalid(key, "prefix part " + DNS1123_SUBDOMAIN_MESSAGE))
    if len(name) > 63:
        raise ScenarioError(source, path, _invalid(key, "name part must be no more than 63 characters"))
    if not re.fullmatch(LABEL_NAME, name):
        raise ScenarioError(source, path, _invalid(key, LABEL_NAME_MESSAGE))
    return key


def _label_value(value: Any, source: str, path: str) -> str:
    text = _string(value, source, path, allow_empty=True)
    if len(text) > 63:
        raise ScenarioError(source, path, _invalid(text, "must be no more than 63 characters"))
    if not re.fullmatch(LABEL_VALUE, text):
        raise ScenarioError(source, path, _invalid(text, LABEL_VALUE_MESSAGE))
    return text


def _plain_data(value: Any, source: str, path: str, depth: int = 0) -> None:
    """Manifests end up in simulation state: only JSON-like data with string keys."""
    if depth > 64:
        raise ScenarioError(source, path, "nested too deeply")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ScenarioError(source, path, _invalid(key, "keys must be strings"))
            _plain_data(item, source, _key(path, key), depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _plain_data(item, source, _index(path, index), depth + 1)
    elif value is not None and not isinstance(value, (str, int, float, bool)):
        raise ScenarioError(source, path, _invalid(str(value), f"a {type(value).__name__} is not "
                                                   "JSON data; quote it"))


# --- scalars with units ----------------------------------------------------------------------

def _duration_ms(value: Any, source: str, path: str) -> int:
    try:
        milliseconds = durations.parse_duration_ms(value)
    except ValueError as error:
        raise ScenarioError(source, path, _invalid(value, str(error))) from None
    if milliseconds < 0:
        raise ScenarioError(source, path, _invalid(value, "must not be negative"))
    return milliseconds


def _quantity(value: Any, source: str, path: str) -> str:
    if value is None or isinstance(value, (dict, list)):
        raise ScenarioError(source, path, _invalid(value, quantity.ERR_FORMAT_WRONG))
    try:
        parsed = quantity.parse(value)
    except ValueError as error:
        raise ScenarioError(source, path, _invalid(value, str(error))) from None
    if parsed.value < 0:
        raise ScenarioError(source, path, _invalid(value, "must be greater than or equal to 0"))
    return str(parsed)


def _start_time(value: Any, source: str, path: str) -> tuple[str, int]:
    """(normalised RFC 3339 text in UTC, milliseconds since the Unix epoch)."""
    if isinstance(value, datetime.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
    else:
        moment = _parse_rfc3339(_string(value, source, path), source, path)
    delta = moment - UNIX_EPOCH
    if delta.microseconds % 1000:
        raise ScenarioError(source, path, _invalid(str(value), "the simulation clock counts whole milliseconds"))
    epoch_ms = (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000
    utc = moment.astimezone(datetime.timezone.utc)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += f".{utc.microsecond // 1000:03d}"
    return text + "Z", epoch_ms


def _parse_rfc3339(text: str, source: str, path: str) -> datetime.datetime:
    match = RFC3339.fullmatch(text)
    if not match:
        raise ScenarioError(source, path, _invalid(text, "must be an RFC 3339 time such as "
                                                   "\"2025-01-01T00:00:00Z\""))
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    fraction, zone = match.group(7) or ".0", match.group(8)
    if len(fraction) > 10:
        raise ScenarioError(source, path, _invalid(text, "more than nanosecond precision"))
    nanoseconds = int((fraction[1:] + "000000000")[:9])
    if nanoseconds % 1_000_000:
        raise ScenarioError(source, path, _invalid(text, "the simulation clock counts whole milliseconds"))
    offset = datetime.timedelta(0)
    if zone not in ("Z", "z"):
        sign = -1 if zone[0] == "-" else 1
        offset = sign * datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    try:
        return datetime.datetime(year, month, day, hour, minute, second, nanoseconds // 1000,
                                 tzinfo=datetime.timezone(offset))
    except ValueError as error:
        raise ScenarioError(source, path, _invalid(text, str(error))) from None


# --- nodes -----------------------------------------------------------------------------------

def _allocatable(value: Any, source: str, path: str) -> dict:
    given = _mapping({} if value is None else value, source, path)
    allocatable = dict(DEFAULT_ALLOCATABLE)
    for resource, amount in given.items():
        entry_path = _entry(path, resource)
        _resource_name(resource, source, entry_path)
        allocatable[resource] = _quantity(amount, source, entry_path)
        if _is_integer_resource(resource) and quantity.parse_quantity(amount).denominator != 1:
            raise ScenarioError(source, entry_path, _invalid(amount, "must be an integer"))
    return allocatable


def _is_integer_resource(resource: str) -> bool:
    """Kubernetes counts pods and extended resources in whole units only."""
    return resource == "pods" or "/" in resource


def _resource_name(resource: str, source: str, path: str) -> None:
    standard = resource in DEFAULT_ALLOCATABLE or resource.startswith("hugepages-")
    extended = "/" in resource and not resource.split("/")[0].endswith("kubernetes.io")
    if not (standard or extended):
        raise ScenarioError(source, path, _unsupported(resource, list(DEFAULT_ALLOCATABLE) + [
            "hugepages-<size>", "<domain>/<extended-resource>"]))
    if extended:
        _label_key(resource, source, path)


def _labels(value: Any, source: str, path: str) -> dict:
    labels = {}
    for key, item in _mapping({} if value is None else value, source, path).items():
        entry_path = _entry(path, key)
        _label_key(key, source, entry_path)
        if key in KUBELET_LABELS or key == LABEL_HOSTNAME:
            raise ScenarioError(source, entry_path, "Forbidden: the kubelet sets this label")
        labels[key] = _label_value(item, source, entry_path)
    return labels


def _taints(value: Any, source: str, path: str) -> list:
    taints, seen = [], {}
    for index, item in enumerate(_list([] if value is None else value, source, path)):
        item_path = _index(path, index)
        document = _mapping(item, source, item_path, TAINT_FIELDS)
        taint = {"key": _label_key(_required(document, "key", source, item_path), source, _key(item_path, "key"))}
        if document.get("value") not in (None, ""):
            taint["value"] = _label_value(document["value"], source, _key(item_path, "value"))
        effect = _required(document, "effect", source, item_path)
        if effect not in TAINT_EFFECTS:
            raise ScenarioError(source, _key(item_path, "effect"), _unsupported(effect, TAINT_EFFECTS))
        taint["effect"] = effect
        identity = f"{taint['key']}:{effect}"
        if identity in seen:
            raise ScenarioError(source, item_path, f"Duplicate value: {_show(identity)}: taints must "
                                "be unique by key and effect")
        seen[identity] = True
        taints.append(taint)
    return taints


def _images(value: Any, source: str, path: str) -> list:
    images = []
    for index, item in enumerate(_list([] if value is None else value, source, path)):
        item_path = _index(path, index)
        document = _mapping(item, source, item_path, IMAGE_FIELDS)
        name = _string(_required(document, "name", source, item_path), source, _key(item_path, "name"))
        if name != name.strip() or " " in name:
            raise ScenarioError(source, _key(item_path, "name"), _invalid(name, "must not contain spaces"))
        size_path = _key(item_path, "sizeBytes")
        size = _required(document, "sizeBytes", source, item_path)
        if isinstance(size, str):
            size = quantity.memory_bytes(_quantity(size, source, size_path))
        images.append({"name": name, "sizeBytes": _integer(size, source, size_path, 1, 2**63 - 1)})
    return images


def _node(name: str, role: str, settings: dict, zone: str | None, source: str, path: str) -> dict:
    labels = _labels(settings.get("labels"), source, _key(path, "labels"))
    zone_from_labels = labels.pop(LABEL_ZONE, None)
    if zone is not None and zone_from_labels not in (None, zone):
        raise ScenarioError(source, _key(path, "labels"), _invalid(
            zone_from_labels, f"contradicts zone {_show(zone)}"))
    zone = zone if zone is not None else zone_from_labels
    automatic = dict(KUBELET_LABELS, **{LABEL_HOSTNAME: name})
    if role == "control-plane":
        automatic[LABEL_ROLE_CONTROL_PLANE] = ""
        automatic[LABEL_EXCLUDE_FROM_LOAD_BALANCERS] = ""
    if zone is not None:
        automatic[LABEL_ZONE] = zone
    all_labels = dict(automatic, **labels)
    taints = _taints(settings.get("taints"), source, _key(path, "taints"))
    if role == "control-plane":
        taints = [dict(CONTROL_PLANE_TAINT)] + taints
    return {
        "name": name,
        "role": role,
        "allocatable": _allocatable(settings.get("allocatable"), source, _key(path, "allocatable")),
        "labels": {key: all_labels[key] for key in sorted(all_labels)},
        "taints": taints,
        "images": _images(settings.get("images"), source, _key(path, "images")),
        "zone": zone,
    }


def _zone(value: Any, source: str, path: str) -> str | None:
    if value is None:
        return None
    zone = _label_value(value, source, path)
    if not zone:
        raise ScenarioError(source, path, "Required value")
    return zone


# --- topology --------------------------------------------------------------------------------

def _control_plane(value: Any, source: str, path: str) -> dict:
    document = _mapping({} if value is None else value, source, path, CONTROL_PLANE_FIELDS)
    count = _size(document.get("nodes", 1), source, _key(path, "nodes"))
    etcd = document.get("etcd", "stacked")
    if etcd not in ETCD_MODES:
        raise ScenarioError(source, _key(path, "etcd"), _unsupported(etcd, ETCD_MODES))
    members = _size(document.get("etcdMembers", count), source, _key(path, "etcdMembers"))
    if etcd == "stacked" and members != count:
        raise ScenarioError(source, _key(path, "etcdMembers"), _invalid(
            members, f"stacked etcd runs one member on each control-plane node, so etcdMembers "
                     f"must equal nodes ({count}); use etcd: external for a separate etcd cluster"))
    names = _control_plane_names(document.get("names"), count, source, _key(path, "names"))
    zones = _zone_list(document.get("zones"), source, _key(path, "zones"))
    nodes = [_node(name, "control-plane", document, zones[index % len(zones)] if zones else None,
                   source, path) for index, name in enumerate(names)]
    # kubeadm names a stacked member after its node; external members run on machines etcd-N.
    etcd_members = names if etcd == "stacked" else [f"etcd-{number}" for number in range(1, members + 1)]
    return {"nodes": names, "etcd": etcd, "etcd_members": list(etcd_members), "node_specs": nodes}


def _size(value: Any, source: str, path: str) -> int:
    """Control planes and etcd clusters come in odd sizes so that a majority survives a failure."""
    if isinstance(value, bool) or not isinstance(value, int) or value not in CONTROL_PLANE_SIZES:
        raise ScenarioError(source, path, _unsupported(value, CONTROL_PLANE_SIZES))
    return value


def _control_plane_names(value: Any, count: int, source: str, path: str) -> list:
    if value is None:
        return [f"cp-{number}" for number in range(1, count + 1)]
    names = _list(value, source, path)
    if len(names) != count:
        raise ScenarioError(source, path, _invalid(names, f"{len(names)} names for {count} "
                                                   "control-plane nodes"))
    return [_dns_subdomain(name, source, _index(path, index)) for index, name in enumerate(names)]


def _zone_list(value: Any, source: str, path: str) -> list:
    if value is None:
        return []
    zones = _list(value, source, path)
    if not zones:
        raise ScenarioError(source, path, "Required value: at least one zone")
    return [_zone(zone, source, _index(path, index)) for index, zone in enumerate(zones)]


def _workers(value: Any, source: str, path: str) -> list:
    if value is None:
        return []
    if isinstance(value, dict):
        return _worker_group(value, source, path)
    workers = []
    for index, item in enumerate(_list(value, source, path)):
        item_path = _index(path, index)
        document = _mapping(item, source, item_path, WORKER_FIELDS)
        name = _dns_subdomain(_required(document, "name", source, item_path), source, _key(item_path, "name"))
        zone = _zone(document.get("zone"), source, _key(item_path, "zone"))
        workers.append(_node(name, "worker", document, zone, source, item_path))
    if len(workers) > MAX_NODES:
        raise ScenarioError(source, path, f"Too many: {len(workers)}: must have at most {MAX_NODES} items")
    return workers


def _worker_group(value: dict, source: str, path: str) -> list:
    document = _mapping(value, source, path, WORKER_GROUP_FIELDS)
    count = _integer(_required(document, "count", source, path), source, _key(path, "count"), 0, MAX_NODES)
    prefix = _dns_label(document.get("namePrefix", "worker"), source, _key(path, "namePrefix"))
    zones = _zone_list(document.get("zones"), source, _key(path, "zones"))
    return [_node(f"{prefix}-{number}", "worker", document,
                  zones[(number - 1) % len(zones)] if zones else None, source, path)
            for number in range(1, count + 1)]


def _network(value: Any, source: str, path: str) -> dict:
    document = _mapping({} if value is None else value, source, path, NETWORK_FIELDS)
    network = dict(DEFAULT_NETWORK)
    if "latencyMs" in document:
        network["latency_ms"] = _integer(document["latencyMs"], source, _key(path, "latencyMs"), 0, MAX_LATENCY_MS)
    if "jitterMs" in document:
        network["jitter_ms"] = _integer(document["jitterMs"], source, _key(path, "jitterMs"), 0, MAX_LATENCY_MS)
    if "loss" in document:
        loss = document["loss"]
        if isinstance(loss, bool) or not isinstance(loss, (int, float)) or not 0 <= loss <= 1:
            raise ScenarioError(source, _key(path, "loss"), _invalid(loss, "must be a fraction between 0 and 1"))
        network["loss"] = float(loss)
    return network


def _machine_names(topology: dict) -> list:
    control_plane = topology["control_plane"]
    names = list(control_plane["nodes"]) + [worker["name"] for worker in topology["workers"]]
    if control_plane["etcd"] == "external":
        names += control_plane["etcd_members"]
    return names


def _check_unique_machines(topology: dict, workers_document: Any, source: str) -> None:
    seen = {name: True for name in RESERVED_MACHINES}
    for index, name in enumerate(_machine_names(topology)):
        if name in seen:
            raise ScenarioError(source, _machine_path(topology, workers_document, index),
                                f"Duplicate value: {_show(name)}: machine names must be unique "
                                "(\"workstation\" is reserved for kubectl)")
        seen[name] = True


def _machine_path(topology: dict, workers_document: Any, index: int) -> str:
    """Where the name of the index-th machine of _machine_names comes from."""
    control_plane_count = len(topology["control_plane"]["nodes"])
    if index < control_plane_count:
        return f"topology.controlPlane.names[{index}]"
    worker_index = index - control_plane_count
    if worker_index >= len(topology["workers"]):
        return "topology.controlPlane.etcd"
    if isinstance(workers_document, dict):
        return "topology.workers.namePrefix"
    return f"topology.workers[{worker_index}].name"


def _topology(value: Any, source: str, path: str) -> dict:
    document = _mapping({} if value is None else value, source, path, TOPOLOGY_FIELDS)
    topology = {
        "control_plane": _control_plane(document.get("controlPlane"), source, _key(path, "controlPlane")),
        "workers": _workers(document.get("workers"), source, _key(path, "workers")),
        "network": _network(document.get("network"), source, _key(path, "network")),
    }
    _check_unique_machines(topology, document.get("workers"), source)
    return topology


# --- objects ---------------------------------------------------------------------------------

def _manifest(value: Any, source: str, path: str) -> dict:
    """Only the basic shape: the simulated kube-apiserver validates the rest."""
    document = _mapping(value, source, path)
    for key in ("apiVersion", "kind"):
        _string(_required(document, key, source, path), source, _key(path, key))
    metadata = _mapping(_required(document, "metadata", source, path), source, _key(path, "metadata"))
    if not metadata.get("name") and not metadata.get("generateName"):
        raise ScenarioError(source, _key(path, "metadata.name"),
                            "Required value: name or generateName is required")
    for key in ("name", "generateName", "namespace"):
        if key in metadata:
            _string(metadata[key], source, _key(path, f"metadata.{key}"), allow_empty=True)
    _plain_data(document, source, path)
    return copy.deepcopy(document)


def _objects(value: Any, source: str, path: str) -> list:
    objects, seen = [], {}
    for index, item in enumerate(_list([] if value is None else value, source, path)):
        item_path = _index(path, index)
        manifest = _manifest(item, source, item_path)
        metadata = manifest["metadata"]
        if metadata.get("name"):
            group = manifest["apiVersion"].rpartition("/")[0]
            kind = f"{manifest['kind']}.{group}" if group else manifest["kind"]
            identity = f"{kind} {metadata.get('namespace') or DEFAULT_NAMESPACE}/{metadata['name']}"
            if identity in seen:
                raise ScenarioError(source, item_path, f"Duplicate value: {_show(identity)}: already "
                                    f"defined at {path}[{seen[identity]}]")
            seen[identity] = index
        objects.append(manifest)
    return objects


# --- actions ---------------------------------------------------------------------------------

def _namespaced_name(value: Any, source: str, path: str) -> dict:
    text = _string(value, source, path)
    namespace, slash, name = text.rpartition("/")
    if not slash:
        namespace = DEFAULT_NAMESPACE
    _dns_label(namespace, source, path)
    _dns_subdomain(name, source, path)
    return {"target": f"{namespace}/{name}", "namespace": namespace, "name": name}


def _target(kind: str, value: Any, topology: dict, source: str, path: str) -> dict:
    if kind in NAMESPACED_TARGETS:
        return _namespaced_name(value, source, path)
    name = _string(value, source, path)
    control_plane = topology["control_plane"]
    if kind == TARGET_ETCD_MEMBER:
        _check_etcd_member(name, control_plane, source, path)
    elif kind == TARGET_CONTROL_PLANE_NODE:
        _check_known(name, control_plane["nodes"], "control-plane nodes", source, path)
    elif kind == TARGET_NODE:
        nodes = control_plane["nodes"] + [worker["name"] for worker in topology["workers"]]
        _check_known(name, nodes, "nodes", source, path)
    else:
        _check_known(name, _machine_names(topology), "machines", source, path)
    return {"target": name}


def _check_known(name: str, known: list, what: str, source: str, path: str) -> None:
    if name not in known:
        raise ScenarioError(source, path, f"Not found: {_show(name)}: {what} in this topology: " + ", ".join(known))


def _check_etcd_member(name: str, control_plane: dict, source: str, path: str) -> None:
    members = control_plane["etcd_members"]
    if name in members:
        return
    if control_plane["etcd"] == "stacked":
        detail = "etcd is stacked: its members run on the control-plane nodes"
    else:
        detail = "etcd is external: its members run on their own machines"
    raise ScenarioError(source, path, _invalid(name, f"not an etcd member; {detail}: " + ", ".join(members)))


def _field(name: str, value: Any, topology: dict, source: str, path: str) -> dict:
    """One action field, checked and normalised; returns the keys it contributes."""
    if name == "object":
        return {"object": _manifest(value, source, path)}
    if name == "replicas":
        return {"replicas": _integer(value, source, path, 0, MAX_REPLICAS)}
    if name == "image":
        image = _string(value, source, path)
        if image != image.strip() or " " in image:
            raise ScenarioError(source, path, _invalid(image, "must not contain spaces"))
        return {"image": image}
    if name in ("container", "namespace"):
        return {name: _dns_label(value, source, path)}
    if name == "kind":
        return {"kind": _string(value, source, path)}
    if name == "name":
        return {"name": _dns_subdomain(value, source, path)}
    if name == "resource":
        return _resource_reference(value, source, path)
    if name == "groups":
        return {"groups": _partition_groups(value, topology, source, path)}
    if name == "from":
        return {"from": _target(TARGET_NODE, value, topology, source, path)["target"]}
    if name == "client":
        return {"client": _dns_label(value, source, path)}
    raise AssertionError(f"ACTIONS names a field without a checker: {name}")


def _resource_reference(value: Any, source: str, path: str) -> dict:
    text = _string(value, source, path)
    resource, slash, name = text.partition("/")
    if not slash or not resource or not name:
        raise ScenarioError(source, path, _invalid(text, "must be <resource>/<name>, e.g. \"deployment/web\""))
    return {"resource": resource, "name": _dns_subdomain(name, source, path)}


def _partition_groups(value: Any, topology: dict, source: str, path: str) -> list:
    groups, seen = [], {}
    machines = _machine_names(topology)
    for index, group in enumerate(_list(value, source, path)):
        group_path = _index(path, index)
        members = _list(group, source, group_path)
        if not members:
            raise ScenarioError(source, group_path, "Required value: a group needs at least one machine")
        for member_index, member in enumerate(members):
            member_path = _index(group_path, member_index)
            _check_known(_string(member, source, member_path), machines, "machines", source, member_path)
            if member in seen:
                raise ScenarioError(source, member_path, f"Duplicate value: {_show(member)}: a machine "
                                    "can be in only one group")
            seen[member] = True
        groups.append(list(members))
    if not groups:
        raise ScenarioError(source, path, "Required value: at least one group")
    return groups


def _check_alternatives(spec: ActionSpec, document: dict, source: str, path: str) -> None:
    given = [group for group in spec.alternatives if any(document.get(name) is not None for name in group)]
    choices = " or ".join(" and ".join(f'"{name}"' for name in group) for group in spec.alternatives)
    if not given:
        raise ScenarioError(source, path, f"Required value: one of {choices}")
    if len(given) > 1:
        raise ScenarioError(source, path, f"Forbidden: only one of {choices} may be given")
    for name in given[0]:
        _required(document, name, source, path)


def _action_fields(spec: ActionSpec, document: dict, topology: dict, source: str, path: str) -> dict:
    if spec.alternatives:
        _check_alternatives(spec, document, source, path)
    fields: dict = {}
    if spec.target in NAMESPACED_TARGETS:
        fields.update({"namespace": None, "name": None})
    if spec.target and spec.target_required:
        _required(document, "target", source, path)
    if spec.target and document.get("target") is not None:
        fields.update(_target(spec.target, document["target"], topology, source, _key(path, "target")))
    for name in spec.fields():
        fields.setdefault(name, None)
        if name == "target":
            continue
        if name in spec.required:
            _required(document, name, source, path)
        if document.get(name) is not None:
            fields.update(_field(name, document[name], topology, source, _key(path, name)))
    return fields


def _parse_action(document: Any, topology: dict, source: str, path: str, require_at: bool) -> dict:
    document = _mapping(document, source, path)
    action = _required(document, "action", source, path)
    if not isinstance(action, str) or action not in ACTIONS:
        raise ScenarioError(source, _key(path, "action"), _unsupported(action, list(ACTIONS)))
    spec = ACTIONS[action]
    _mapping(document, source, path, ["at", "action"] + spec.fields())
    if require_at:
        _required(document, "at", source, path)
    at_ms = _duration_ms(document["at"], source, _key(path, "at")) if document.get("at") is not None else 0
    entry = {"at_ms": at_ms, "action": action, "target": None}
    entry.update(_action_fields(spec, document, topology, source, path))
    return entry


def parse_action(document: dict, topology: Any, source: str, path: str) -> dict:
    """Check one action (a timeline entry, or one sent at run time from the web app).

    ``topology`` is ``Scenario.topology()`` or the Scenario itself.  ``at`` is optional here
    (default 0: now, or a delay from now for run-time actions).  Returns ``{"at_ms", "action",
    "target", <every field the action takes, None when not given>}``; pod and deployment targets
    are normalised to ``"namespace/name"`` and also give ``namespace`` and ``name``.
    """
    if isinstance(topology, Scenario):
        topology = topology.topology()
    return _parse_action(document, topology, source, path, require_at=False)


def _timeline(value: Any, topology: dict, source: str, path: str) -> list:
    entries = [_parse_action(item, topology, source, _index(path, index), require_at=True)
               for index, item in enumerate(_list([] if value is None else value, source, path))]
    return sorted(entries, key=lambda entry: entry["at_ms"])  # stable: same instant keeps file order


# --- the scenario ----------------------------------------------------------------------------

def parse_scenario(document: dict, source: str) -> Scenario:
    """Check and normalise a scenario document; raises ScenarioError."""
    document = _mapping(document, source, "", TOP_LEVEL_FIELDS)
    name = _string(_required(document, "name", source, ""), source, "name")
    seed = document.get("seed")
    if seed is not None:
        seed = _integer(seed, source, "seed", 0, MAX_SEED)
    description = document.get("description")
    description = "" if description is None else _string(description, source, "description", allow_empty=True)
    start_time, start_epoch_ms = _start_time(document.get("startTime", DEFAULT_START_TIME), source, "startTime")
    topology = _topology(document.get("topology"), source, "topology")
    return Scenario(
        name=name, seed=seed, description=description.strip(), start_time=start_time,
        start_epoch_ms=start_epoch_ms, control_plane=topology["control_plane"],
        workers=topology["workers"], network=topology["network"],
        objects=_objects(document.get("objects"), source, "objects"),
        timeline=_timeline(document.get("timeline"), topology, source, "timeline"),
        source=source,
    )


class _ScenarioLoader(yaml.SafeLoader):
    """YAML 1.1 as PyYAML reads it, except: times stay text, and duplicate keys are errors."""

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            if key_node.value in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"mapping key {key_node.value!r} already defined at line "
                    f"{seen[key_node.value] + 1}", key_node.start_mark)
            seen[key_node.value] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


_ScenarioLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_yaml(text: str, source: str) -> Scenario:
    try:
        document = yaml.load(text, Loader=_ScenarioLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(root)"
        problem = getattr(error, "problem", None) or str(error)
        raise ScenarioError(source, where, f"invalid YAML: {problem}") from None
    return parse_scenario(document, source)


def load_scenario(path: str | os.PathLike) -> Scenario:
    """Read and parse a scenario file."""
    source = os.fspath(path)
    try:
        with open(source, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as error:
        raise ScenarioError(source, "(file)", f"cannot read: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ScenarioError(source, "(file)", "not UTF-8 text") from None
    return parse_yaml(text, source)


def list_shipped() -> list[str]:
    """Names of the scenarios shipped in cluster_sim/scenarios/ (without ``.yaml``), sorted."""
    return sorted(entry[:-len(".yaml")] for entry in os.listdir(SHIPPED_DIRECTORY) if entry.endswith(".yaml"))


def shipped_path(name: str) -> str:
    """The file of a shipped scenario, by name (``"basic"`` or ``"basic.yaml"``)."""
    stem = name[:-len(".yaml")] if name.endswith(".yaml") else name
    shipped = list_shipped()
    if stem not in shipped:
        raise ValueError(f"no shipped scenario {name!r}; shipped scenarios: " + ", ".join(shipped))
    return os.path.join(SHIPPED_DIRECTORY, stem + ".yaml")
