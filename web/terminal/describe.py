"""`kubectl describe` for pods, nodes, deployments, replicasets, services and namespaces, in the
layout of k8s.io/kubectl/pkg/describe (tab-aligned with padding 2, two spaces per level)."""
from __future__ import annotations

import datetime
from typing import Any, Callable

from cluster_sim import quantity
from cluster_sim.timefmt import parse_time_ms
from web.kubeapi.printers import age_since, format_labels, node_roles, selector_string

from .tabwriter import describe_text

MAX_ANNOTATION_LENGTH = 140
SKIPPED_ANNOTATIONS = {"kubectl.kubernetes.io/last-applied-configuration"}


class PrefixWriter:
    def __init__(self):
        self.chunks: list[str] = []
        self.flushed: list[str] = []

    def write(self, level: int, text: str) -> None:
        self.chunks.append("  " * level + text)

    def flush(self) -> None:
        self.flushed.append(describe_text("".join(self.chunks)))
        self.chunks = []

    def text(self) -> str:
        self.flush()
        return "".join(self.flushed)


def rfc1123z(timestamp: str | None) -> str:
    """Go's time.RFC1123Z, in UTC: `Wed, 01 Jan 2025 00:00:00 +0000`."""
    if not timestamp:
        return "Mon, 01 Jan 0001 00:00:00 +0000"
    moment = datetime.datetime.fromtimestamp(parse_time_ms(timestamp) / 1000, tz=datetime.timezone.utc)
    return moment.strftime("%a, %d %b %Y %H:%M:%S +0000")


def labels_multiline(w: PrefixWriter, title: str, labels: dict | None) -> None:
    w.write(0, f"{title}:\t")
    if not labels:
        w.write(0, "<none>\n")
        return
    for index, key in enumerate(sorted(labels)):
        if index:
            w.write(0, "\t")
        w.write(0, f"{key}={labels[key]}\n")


def annotations_multiline(w: PrefixWriter, title: str, annotations: dict | None) -> None:
    w.write(0, f"{title}:\t")
    keys = sorted(key for key in (annotations or {}) if key not in SKIPPED_ANNOTATIONS)
    if not keys:
        w.write(0, "<none>\n")
        return
    for index, key in enumerate(keys):
        if index:
            w.write(0, "\t")
        value = annotations[key].removesuffix("\n")
        if len(value) + len(key) + 2 > MAX_ANNOTATION_LENGTH or "\n" in value:
            w.write(0, f"{key}:\n")
            for part in value.split("\n"):
                shown = part if len(part) <= MAX_ANNOTATION_LENGTH - 2 else part[:MAX_ANNOTATION_LENGTH - 2] + "..."
                w.write(0, f"\t  {shown}\n")
        else:
            w.write(0, f"{key}: {value}\n")


def tolerations_multiline(w: PrefixWriter, title: str, tolerations: list[dict] | None) -> None:
    w.write(0, f"{title}:\t")
    if not tolerations:
        w.write(0, "<none>\n")
        return
    for index, toleration in enumerate(sorted(tolerations, key=lambda t: t.get("key", ""))):
        if index:
            w.write(0, "\t")
        text = toleration.get("key", "")
        if toleration.get("value"):
            text += "=" + toleration["value"]
        if toleration.get("effect"):
            text += ":" + toleration["effect"]
        if toleration.get("operator") == "Exists" and not toleration.get("value"):
            text += " op=Exists" if toleration.get("key") or toleration.get("effect") else "op=Exists"
        if toleration.get("tolerationSeconds") is not None:
            text += f" for {toleration['tolerationSeconds']}s"
        w.write(0, text + "\n")


def taints_multiline(w: PrefixWriter, title: str, taints: list[dict] | None) -> None:
    w.write(0, f"{title}:\t")
    if not taints:
        w.write(0, "<none>\n")
        return
    ordered = sorted(taints, key=lambda t: t.get("effect", "") + "," + t.get("key", ""))
    for index, taint in enumerate(ordered):
        if index:
            w.write(0, "\t")
        value = f"={taint['value']}" if taint.get("value") else ""
        w.write(0, f"{taint.get('key', '')}{value}:{taint.get('effect', '')}\n")


def describe_probe(probe: dict) -> str:
    attributes = (f"delay={probe.get('initialDelaySeconds', 0)}s timeout={probe.get('timeoutSeconds', 1)}s "
                  f"period={probe.get('periodSeconds', 10)}s #success={probe.get('successThreshold', 1)} "
                  f"#failure={probe.get('failureThreshold', 3)}")
    if "exec" in probe:
        return f"exec [{' '.join(probe['exec'].get('command') or [])}] {attributes}"
    if "httpGet" in probe:
        get = probe["httpGet"]
        scheme = (get.get("scheme") or "HTTP").lower()
        return f"http-get {scheme}://{get.get('host', '')}:{get.get('port', '')}{get.get('path', '')} {attributes}"
    if "tcpSocket" in probe:
        return f"tcp-socket {probe['tcpSocket'].get('host', '')}:{probe['tcpSocket'].get('port', '')} {attributes}"
    return f"unknown {attributes}"


def describe_state(w: PrefixWriter, title: str, state: dict) -> None:
    if state.get("running") is not None:
        w.write(2, f"{title}:\tRunning\n")
        w.write(3, f"Started:\t{rfc1123z(state['running'].get('startedAt'))}\n")
    elif state.get("waiting") is not None:
        w.write(2, f"{title}:\tWaiting\n")
        if state["waiting"].get("reason"):
            w.write(3, f"Reason:\t{state['waiting']['reason']}\n")
    elif state.get("terminated") is not None:
        terminated = state["terminated"]
        w.write(2, f"{title}:\tTerminated\n")
        if terminated.get("reason"):
            w.write(3, f"Reason:\t{terminated['reason']}\n")
        if terminated.get("message"):
            w.write(3, f"Message:\t{terminated['message']}\n")
        w.write(3, f"Exit Code:\t{terminated.get('exitCode', 0)}\n")
        if terminated.get("signal"):
            w.write(3, f"Signal:\t{terminated['signal']}\n")
        w.write(3, f"Started:\t{rfc1123z(terminated.get('startedAt'))}\n")
        w.write(3, f"Finished:\t{rfc1123z(terminated.get('finishedAt'))}\n")
    else:
        w.write(2, f"{title}:\tWaiting\n")


def describe_resources(w: PrefixWriter, resources: dict | None, level: int) -> None:
    for section, title in (("limits", "Limits"), ("requests", "Requests")):
        values = (resources or {}).get(section) or {}
        if values:
            w.write(level, f"{title}:\n")
        for name in sorted(values):
            w.write(level + 1, f"{name}:\t{quantity.canonical_quantity(values[name])}\n")


def describe_containers(w: PrefixWriter, label: str, containers: list[dict], statuses: list[dict] | None,
                        space: str) -> None:
    by_name = {status.get("name"): status for status in statuses or []}
    w.write(0, f"{space}{label}:{'' if containers else ' <none>'}\n")
    for container in containers:
        status = by_name.get(container.get("name"))
        w.write(1, f"{' ' if space else ''}{container.get('name')}:\n")
        if status is not None:
            w.write(2, f"Container ID:\t{status.get('containerID', '')}\n")
        w.write(2, f"Image:\t{container.get('image', '')}\n")
        if status is not None:
            w.write(2, f"Image ID:\t{status.get('imageID', '')}\n")
        ports = [f"{p.get('containerPort')}/{p.get('protocol', 'TCP')}" for p in container.get("ports") or []]
        host_ports = [f"{p.get('hostPort', 0)}/{p.get('protocol', 'TCP')}" for p in container.get("ports") or []]
        w.write(2, f"{'Ports' if len(ports) > 1 else 'Port'}:\t{', '.join(ports) or '<none>'}\n")
        w.write(2, f"{'Host Ports' if len(host_ports) > 1 else 'Host Port'}:\t{', '.join(host_ports) or '<none>'}\n")
        for key, title in (("command", "Command"), ("args", "Args")):
            if container.get(key):
                w.write(2, f"{title}:\n")
                for item in container[key]:
                    for part in str(item).split("\n"):
                        w.write(3, f"{part}\n")
        if status is not None:
            describe_state(w, "State", status.get("state") or {})
            if ((status.get("lastState") or {}).get("terminated")) is not None:
                describe_state(w, "Last State", status["lastState"])
            w.write(2, f"Ready:\t{'True' if status.get('ready') else 'False'}\n")
            w.write(2, f"Restart Count:\t{status.get('restartCount', 0)}\n")
        describe_resources(w, container.get("resources"), 2)
        for key, title in (("livenessProbe", "Liveness"), ("readinessProbe", "Readiness"), ("startupProbe", "Startup")):
            if container.get(key):
                w.write(2, f"{title}:\t{describe_probe(container[key])}\n")
        env = container.get("env") or []
        w.write(2, f"Environment:{'' if env else chr(9) + '<none>'}\n")
        for variable in env:
            w.write(3, f"{variable.get('name')}:\t{variable.get('value', '')}\n")
        mounts = container.get("volumeMounts") or []
        w.write(2, f"Mounts:{'' if mounts else chr(9) + '<none>'}\n")
        for mount in sorted(mounts, key=lambda m: m.get("mountPath", "")):
            flags = "ro" if mount.get("readOnly") else "rw"
            w.write(3, f"{mount.get('mountPath')} from {mount.get('name')} ({flags})\n")


def describe_events(w: PrefixWriter, events: list[dict] | None, now_epoch_ms: int) -> None:
    if events is None:
        return
    if not events:
        w.write(0, "Events:\t<none>\n")
        return
    w.flush()
    ordered = sorted(events, key=lambda e: parse_time_ms(e["lastTimestamp"]) if e.get("lastTimestamp") else 0)
    w.write(0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n")
    w.write(1, "----\t------\t----\t----\t-------\n")
    for event in ordered:
        first_seen = age_since(event.get("eventTime"), now_epoch_ms)
        if not event.get("eventTime"):
            first_seen = age_since(event.get("firstTimestamp"), now_epoch_ms)
        count = event.get("count") or 0
        if event.get("series"):
            series = event["series"]
            interval = f"{age_since(series.get('lastObservedTime'), now_epoch_ms)} (x{series.get('count', 0)} over {first_seen})"
        elif count > 1:
            interval = f"{age_since(event.get('lastTimestamp'), now_epoch_ms)} (x{count} over {first_seen})"
        else:
            interval = first_seen
        source = (event.get("source") or {}).get("component") or event.get("reportingComponent") or ""
        w.write(1, f"{event.get('type', '')}\t{event.get('reason', '')}\t{interval}\t{source}\t"
                   f"{(event.get('message') or '').strip()}\n")


def describe_volumes(w: PrefixWriter, volumes: list[dict] | None, space: str) -> None:
    if not volumes:
        w.write(0, f"{space}Volumes:\t<none>\n")
        return
    w.write(0, f"{space}Volumes:\n")
    for volume in volumes:
        w.write(1, f"{' ' if space else ''}{volume.get('name')}:\n")
        if "projected" in volume:
            describe_projected_volume(w, volume["projected"])
        elif "emptyDir" in volume:
            empty_dir = volume["emptyDir"] or {}
            w.write(2, "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n")
            w.write(2, f"Medium:\t{empty_dir.get('medium', '')}\n")
            w.write(2, f"SizeLimit:\t{empty_dir.get('sizeLimit', '<unset>')}\n")
        elif "configMap" in volume:
            config_map = volume["configMap"] or {}
            w.write(2, "Type:\tConfigMap (a volume populated by a ConfigMap)\n")
            w.write(2, f"Name:\t{config_map.get('name', '')}\n")
            w.write(2, f"Optional:\t{'true' if config_map.get('optional') else 'false'}\n")
        elif "hostPath" in volume:
            host_path = volume["hostPath"] or {}
            w.write(2, "Type:\tHostPath (bare host directory volume)\n")
            w.write(2, f"Path:\t{host_path.get('path', '')}\n")
            w.write(2, f"HostPathType:\t{host_path.get('type', '')}\n")


def describe_projected_volume(w: PrefixWriter, projected: dict) -> None:
    w.write(2, "Type:\tProjected (a volume that contains injected data from multiple sources)\n")
    for source in projected.get("sources") or []:
        if "secret" in source:
            optional = "true" if (source["secret"] or {}).get("optional") else "false"
            w.write(2, f"SecretName:\t{(source['secret'] or {}).get('name', '')}\n    Optional:\t{optional}\n")
        elif "downwardAPI" in source:
            w.write(2, "DownwardAPI:\ttrue\n")
        elif "configMap" in source:
            optional = "true" if (source["configMap"] or {}).get("optional") else "false"
            w.write(2, f"ConfigMapName:\t{(source['configMap'] or {}).get('name', '')}\n    Optional:\t{optional}\n")
        elif "serviceAccountToken" in source:
            w.write(2, f"TokenExpirationSeconds:\t{(source['serviceAccountToken'] or {}).get('expirationSeconds', 0)}\n")


def controller_of(obj: dict) -> str:
    for owner in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if owner.get("controller"):
            return f"{owner.get('kind')}/{owner.get('name')}"
    return ""


def pod_qos_class(pod: dict) -> str:
    return (pod.get("status") or {}).get("qosClass") or "BestEffort"


# --- describers: each takes (object, related) and returns text ---------------------------------

def describe_pod(pod: dict, related: dict, now_epoch_ms: int) -> str:
    metadata, spec, status = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
    w = PrefixWriter()
    w.write(0, f"Name:\t{metadata['name']}\n")
    w.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    if spec.get("priority") is not None:
        w.write(0, f"Priority:\t{spec['priority']}\n")
    if spec.get("priorityClassName"):
        w.write(0, f"Priority Class Name:\t{spec['priorityClassName']}\n")
    if spec.get("serviceAccountName"):
        w.write(0, f"Service Account:\t{spec['serviceAccountName']}\n")
    node = spec.get("nodeName")
    w.write(0, f"Node:\t{node + '/' + status.get('hostIP', '') if node else '<none>'}\n")
    if status.get("startTime"):
        w.write(0, f"Start Time:\t{rfc1123z(status['startTime'])}\n")
    labels_multiline(w, "Labels", metadata.get("labels"))
    annotations_multiline(w, "Annotations", metadata.get("annotations"))
    if metadata.get("deletionTimestamp") and status.get("phase") not in ("Failed", "Succeeded"):
        w.write(0, f"Status:\tTerminating (lasts {age_since(metadata['deletionTimestamp'], now_epoch_ms)})\n")
        w.write(0, f"Termination Grace Period:\t{metadata.get('deletionGracePeriodSeconds', 0)}s\n")
    else:
        w.write(0, f"Status:\t{status.get('phase', '')}\n")
    for key, title in (("reason", "Reason"), ("message", "Message")):
        if status.get(key):
            w.write(0, f"{title}:\t{status[key]}\n")
    w.write(0, f"IP:\t{status.get('podIP', '')}\n")
    pod_ips = status.get("podIPs") or []
    if pod_ips:
        w.write(0, "IPs:\n")
        for entry in pod_ips:
            w.write(1, f"IP:\t{entry.get('ip', '')}\n")
    else:
        w.write(0, "IPs:\t<none>\n")
    if controller_of(pod):
        w.write(0, f"Controlled By:\t{controller_of(pod)}\n")
    if status.get("nominatedNodeName"):
        w.write(0, f"NominatedNodeName:\t{status['nominatedNodeName']}\n")
    if spec.get("initContainers"):
        describe_containers(w, "Init Containers", spec["initContainers"], status.get("initContainerStatuses"), "")
    describe_containers(w, "Containers", spec.get("containers") or [], status.get("containerStatuses"), "")
    if status.get("conditions"):
        w.write(0, "Conditions:\n  Type\tStatus\n")
        for condition in status["conditions"]:
            w.write(1, f"{condition.get('type')} \t{condition.get('status')} \n")
    describe_volumes(w, spec.get("volumes"), "")
    w.write(0, f"QoS Class:\t{pod_qos_class(pod)}\n")
    labels_multiline(w, "Node-Selectors", spec.get("nodeSelector"))
    tolerations_multiline(w, "Tolerations", spec.get("tolerations"))
    describe_events(w, related.get("events"), now_epoch_ms)
    return w.text()


def resource_percent(amount: int, allocatable: int) -> int:
    return int(amount / allocatable * 100) if allocatable else 0


def describe_node(node: dict, related: dict, now_epoch_ms: int) -> str:
    metadata, spec, status = node["metadata"], node.get("spec") or {}, node.get("status") or {}
    w = PrefixWriter()
    w.write(0, f"Name:\t{metadata['name']}\n")
    w.write(0, f"Roles:\t{','.join(node_roles(node)) or '<none>'}\n")
    labels_multiline(w, "Labels", metadata.get("labels"))
    annotations_multiline(w, "Annotations", metadata.get("annotations"))
    w.write(0, f"CreationTimestamp:\t{rfc1123z(metadata.get('creationTimestamp'))}\n")
    taints_multiline(w, "Taints", spec.get("taints"))
    w.write(0, f"Unschedulable:\t{'true' if spec.get('unschedulable') else 'false'}\n")
    lease = related.get("lease")
    if lease is not None:
        lease_spec = lease.get("spec") or {}
        w.write(0, "Lease:\n")
        w.write(1, f"HolderIdentity:\t{lease_spec.get('holderIdentity') or '<unset>'}\n")
        w.write(1, f"AcquireTime:\t{rfc1123z(lease_spec['acquireTime']) if lease_spec.get('acquireTime') else '<unset>'}\n")
        w.write(1, f"RenewTime:\t{rfc1123z(lease_spec['renewTime']) if lease_spec.get('renewTime') else '<unset>'}\n")
    if status.get("conditions"):
        w.write(0, "Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n")
        w.write(1, "----\t------\t-----------------\t------------------\t------\t-------\n")
        for c in status["conditions"]:
            w.write(1, f"{c.get('type')} \t{c.get('status')} \t{rfc1123z(c.get('lastHeartbeatTime'))} \t"
                       f"{rfc1123z(c.get('lastTransitionTime'))} \t{c.get('reason', '')} \t{c.get('message', '')}\n")
    w.write(0, "Addresses:\n")
    for address in status.get("addresses") or []:
        w.write(1, f"{address.get('type')}:\t{address.get('address')}\n")
    for key, title in (("capacity", "Capacity"), ("allocatable", "Allocatable")):
        if status.get(key):
            w.write(0, f"{title}:\n")
            for name in sorted(status[key]):
                w.write(0, f"  {name}:\t{quantity.canonical_quantity(status[key][name])}\n")
    info = status.get("nodeInfo") or {}
    w.write(0, "System Info:\n")
    for title, key in (("Machine ID", "machineID"), ("System UUID", "systemUUID"), ("Boot ID", "bootID"),
                       ("Kernel Version", "kernelVersion"), ("OS Image", "osImage"),
                       ("Operating System", "operatingSystem"), ("Architecture", "architecture"),
                       ("Container Runtime Version", "containerRuntimeVersion"),
                       ("Kubelet Version", "kubeletVersion"), ("Kube-Proxy Version", "kubeProxyVersion")):
        w.write(0, f"  {title}:\t{info.get(key, '')}\n")
    if spec.get("podCIDR"):
        w.write(0, f"PodCIDR:\t{spec['podCIDR']}\n")
    if spec.get("podCIDRs"):
        w.write(0, f"PodCIDRs:\t{','.join(spec['podCIDRs'])}\n")
    if spec.get("providerID"):
        w.write(0, f"ProviderID:\t{spec['providerID']}\n")
    describe_node_resources(w, node, related.get("pods") or [], now_epoch_ms)
    describe_events(w, related.get("events"), now_epoch_ms)
    return w.text()


def pod_requests_and_limits(pod: dict) -> tuple[dict, dict]:
    requests: dict[str, Any] = {}
    limits: dict[str, Any] = {}
    for container in (pod.get("spec") or {}).get("containers") or []:
        resources = container.get("resources") or {}
        for target, values in ((requests, resources.get("requests") or {}), (limits, resources.get("limits") or {})):
            for name, value in values.items():
                target[name] = target.get(name, 0) + quantity.parse_quantity(value)
    return requests, limits


def describe_node_resources(w: PrefixWriter, node: dict, pods: list[dict], now_epoch_ms: int) -> None:
    status = node.get("status") or {}
    allocatable = status.get("allocatable") or status.get("capacity") or {}
    cpu_total = quantity.cpu_millis(allocatable.get("cpu", "0"))
    memory_total = quantity.memory_bytes(allocatable.get("memory", "0"))
    w.write(0, f"Non-terminated Pods:\t({len(pods)} in total)\n")
    w.write(1, "Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n")
    w.write(1, "---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n")
    totals = {"cpu": [0, 0], "memory": [0, 0], "ephemeral-storage": [0, 0]}
    for pod in pods:
        requests, limits = pod_requests_and_limits(pod)
        cpu = [int(requests.get("cpu", 0) * 1000), int(limits.get("cpu", 0) * 1000)]
        memory = [int(requests.get("memory", 0)), int(limits.get("memory", 0))]
        for index in (0, 1):
            totals["cpu"][index] += cpu[index]
            totals["memory"][index] += memory[index]
        w.write(1, f"{pod['metadata'].get('namespace', '')}\t{pod['metadata']['name']}\t\t"
                   f"{quantity.format_cpu_millis(cpu[0])} ({resource_percent(cpu[0], cpu_total)}%)\t"
                   f"{quantity.format_cpu_millis(cpu[1])} ({resource_percent(cpu[1], cpu_total)}%)\t"
                   f"{quantity.format_bytes(memory[0])} ({resource_percent(memory[0], memory_total)}%)\t"
                   f"{quantity.format_bytes(memory[1])} ({resource_percent(memory[1], memory_total)}%)\t"
                   f"{age_since(pod['metadata'].get('creationTimestamp'), now_epoch_ms)}\n")
    w.write(0, "Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n")
    w.write(1, "Resource\tRequests\tLimits\n")
    w.write(1, "--------\t--------\t------\n")
    cpu, memory = totals["cpu"], totals["memory"]
    w.write(1, f"cpu\t{quantity.format_cpu_millis(cpu[0])} ({resource_percent(cpu[0], cpu_total)}%)\t"
               f"{quantity.format_cpu_millis(cpu[1])} ({resource_percent(cpu[1], cpu_total)}%)\n")
    w.write(1, f"memory\t{quantity.format_bytes(memory[0])} ({resource_percent(memory[0], memory_total)}%)\t"
               f"{quantity.format_bytes(memory[1])} ({resource_percent(memory[1], memory_total)}%)\n")
    w.write(1, "ephemeral-storage\t0 (0%)\t0 (0%)\n")
    for name in sorted(key for key in allocatable if key.startswith("hugepages-")):
        w.write(1, f"{name}\t0 (0%)\t0 (0%)\n")


def describe_pod_template(w: PrefixWriter, template: dict) -> None:
    metadata, spec = template.get("metadata") or {}, template.get("spec") or {}
    w.write(0, "Pod Template:\n")
    labels_multiline(w, "  Labels", metadata.get("labels"))
    if metadata.get("annotations"):
        annotations_multiline(w, "  Annotations", metadata["annotations"])
    if spec.get("serviceAccountName"):
        w.write(1, f"Service Account:\t{spec['serviceAccountName']}\n")
    if spec.get("initContainers"):
        describe_containers(w, "Init Containers", spec["initContainers"], None, "  ")
    describe_containers(w, "Containers", spec.get("containers") or [], None, "  ")
    describe_volumes(w, spec.get("volumes"), "  ")
    if spec.get("priorityClassName"):
        w.write(1, f"Priority Class Name:\t{spec['priorityClassName']}\n")
    labels_multiline(w, "  Node-Selectors", spec.get("nodeSelector"))
    tolerations_multiline(w, "  Tolerations", spec.get("tolerations"))


def replica_sets_text(replica_sets: list[dict]) -> str:
    texts = [f"{rs['metadata']['name']} ({(rs.get('status') or {}).get('replicas', 0)}/"
             f"{(rs.get('spec') or {}).get('replicas', 1)} replicas created)" for rs in replica_sets]
    return ", ".join(texts) or "<none>"


def describe_deployment(deployment: dict, related: dict, now_epoch_ms: int) -> str:
    metadata, spec, status = deployment["metadata"], deployment.get("spec") or {}, deployment.get("status") or {}
    w = PrefixWriter()
    w.write(0, f"Name:\t{metadata['name']}\n")
    w.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    w.write(0, f"CreationTimestamp:\t{rfc1123z(metadata.get('creationTimestamp'))}\n")
    labels_multiline(w, "Labels", metadata.get("labels"))
    annotations_multiline(w, "Annotations", metadata.get("annotations"))
    w.write(0, f"Selector:\t{selector_string(spec.get('selector'))}\n")
    w.write(0, f"Replicas:\t{spec.get('replicas', 1)} desired | {status.get('updatedReplicas', 0)} updated | "
               f"{status.get('replicas', 0)} total | {status.get('availableReplicas', 0)} available | "
               f"{status.get('unavailableReplicas', 0)} unavailable\n")
    strategy = spec.get("strategy") or {}
    w.write(0, f"StrategyType:\t{strategy.get('type', '')}\n")
    w.write(0, f"MinReadySeconds:\t{spec.get('minReadySeconds', 0)}\n")
    if strategy.get("rollingUpdate"):
        rolling = strategy["rollingUpdate"]
        w.write(0, f"RollingUpdateStrategy:\t{rolling.get('maxUnavailable')} max unavailable, "
                   f"{rolling.get('maxSurge')} max surge\n")
    describe_pod_template(w, spec.get("template") or {})
    if status.get("conditions"):
        w.write(0, "Conditions:\n  Type\tStatus\tReason\n")
        w.write(1, "----\t------\t------\n")
        for c in status["conditions"]:
            w.write(1, f"{c.get('type')} \t{c.get('status')}\t{c.get('reason', '')}\n")
    old_sets, new_sets = related.get("old_replica_sets") or [], related.get("new_replica_sets") or []
    if old_sets or new_sets:
        w.write(0, f"OldReplicaSets:\t{replica_sets_text(old_sets)}\n")
        w.write(0, f"NewReplicaSet:\t{replica_sets_text(new_sets)}\n")
    describe_events(w, related.get("events"), now_epoch_ms)
    return w.text()


def describe_replicaset(replica_set: dict, related: dict, now_epoch_ms: int) -> str:
    metadata, spec, status = replica_set["metadata"], replica_set.get("spec") or {}, replica_set.get("status") or {}
    w = PrefixWriter()
    w.write(0, f"Name:\t{metadata['name']}\n")
    w.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    w.write(0, f"Selector:\t{selector_string(spec.get('selector'))}\n")
    labels_multiline(w, "Labels", metadata.get("labels"))
    annotations_multiline(w, "Annotations", metadata.get("annotations"))
    if controller_of(replica_set):
        w.write(0, f"Controlled By:\t{controller_of(replica_set)}\n")
    w.write(0, f"Replicas:\t{status.get('replicas', 0)} current / {spec.get('replicas', 1)} desired\n")
    phases = related.get("pod_phases") or {}
    w.write(0, f"Pods Status:\t{phases.get('Running', 0)} Running / {phases.get('Pending', 0)} Waiting / "
               f"{phases.get('Succeeded', 0)} Succeeded / {phases.get('Failed', 0)} Failed\n")
    describe_pod_template(w, spec.get("template") or {})
    describe_events(w, related.get("events"), now_epoch_ms)
    return w.text()


def endpoint_slices_text(slices: list[dict], port_name: str) -> str:
    listed: list[str] = []
    count = 0
    for endpoint_slice in slices:
        ports = [p for p in endpoint_slice.get("ports") or [] if (p.get("name") or "") == port_name]
        for port in ports:
            for endpoint in endpoint_slice.get("endpoints") or []:
                if (endpoint.get("conditions") or {}).get("ready") is False:
                    continue
                for address in endpoint.get("addresses") or []:
                    count += 1
                    if len(listed) < 3:
                        listed.append(f"{address}:{port.get('port')}")
    if not listed:
        return "<none>"
    return ",".join(listed) + (f" + {count - 3} more..." if count > 3 else "")


def describe_service(service: dict, related: dict, now_epoch_ms: int) -> str:
    metadata, spec = service["metadata"], service.get("spec") or {}
    w = PrefixWriter()
    w.write(0, f"Name:\t{metadata['name']}\n")
    w.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    labels_multiline(w, "Labels", metadata.get("labels"))
    annotations_multiline(w, "Annotations", metadata.get("annotations"))
    w.write(0, f"Selector:\t{format_labels(spec.get('selector'))}\n")
    w.write(0, f"Type:\t{spec.get('type', '')}\n")
    if spec.get("ipFamilyPolicy"):
        w.write(0, f"IP Family Policy:\t{spec['ipFamilyPolicy']}\n")
    w.write(0, f"IP Families:\t{','.join(spec.get('ipFamilies') or []) or '<none>'}\n")
    w.write(0, f"IP:\t{spec.get('clusterIP', '')}\n")
    w.write(0, f"IPs:\t{','.join(spec.get('clusterIPs') or []) or '<none>'}\n")
    if spec.get("externalIPs"):
        w.write(0, f"External IPs:\t{','.join(spec['externalIPs'])}\n")
    if spec.get("externalName"):
        w.write(0, f"External Name:\t{spec['externalName']}\n")
    ingress = (((service.get("status") or {}).get("loadBalancer") or {}).get("ingress")) or []
    if ingress:
        w.write(0, f"LoadBalancer Ingress:\t{', '.join(i.get('ip') or i.get('hostname', '') for i in ingress)}\n")
    for port in spec.get("ports") or []:
        name = port.get("name") or "<unset>"
        protocol = port.get("protocol", "TCP")
        w.write(0, f"Port:\t{name}\t{port.get('port')}/{protocol}\n")
        w.write(0, f"TargetPort:\t{port.get('targetPort', port.get('port'))}/{protocol}\n")
        if port.get("nodePort"):
            w.write(0, f"NodePort:\t{name}\t{port['nodePort']}/{protocol}\n")
        w.write(0, f"Endpoints:\t{endpoint_slices_text(related.get('endpoint_slices') or [], port.get('name') or '')}\n")
    w.write(0, f"Session Affinity:\t{spec.get('sessionAffinity', 'None')}\n")
    if spec.get("externalTrafficPolicy"):
        w.write(0, f"External Traffic Policy:\t{spec['externalTrafficPolicy']}\n")
    if spec.get("internalTrafficPolicy"):
        w.write(0, f"Internal Traffic Policy:\t{spec['internalTrafficPolicy']}\n")
    describe_events(w, related.get("events"), now_epoch_ms)
    return w.text()


def describe_namespace(namespace: dict, related: dict, now_epoch_ms: int) -> str:
    metadata = namespace["metadata"]
    w = PrefixWriter()
    w.write(0, f"Name:\t{metadata['name']}\n")
    labels_multiline(w, "Labels", metadata.get("labels"))
    annotations_multiline(w, "Annotations", metadata.get("annotations"))
    w.write(0, f"Status:\t{(namespace.get('status') or {}).get('phase', '')}\n")
    # The simulated apiserver serves no ResourceQuota or LimitRange: kubectl then prints neither section.
    return w.text()


DESCRIBERS: dict[str, Callable[[dict, dict, int], str]] = {
    "pods": describe_pod, "nodes": describe_node, "deployments": describe_deployment,
    "replicasets": describe_replicaset, "services": describe_service, "namespaces": describe_namespace,
}
