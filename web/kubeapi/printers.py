"""Server-side printing: the meta.k8s.io/v1 Table the real kube-apiserver answers to `as=Table`.

Column names, types, formats, priorities and descriptions follow
pkg/printers/internalversion/printers.go of Kubernetes v1.33 (the descriptions are the API's own
field documentation, which the real server sends with every Table); the cell formats follow its
print functions.  Priority 1 columns are the ones kubectl shows only with `-o wide`: the server
always fills them, as the real one does.
"""
from __future__ import annotations

import ipaddress
from typing import Any, Callable

from cluster_sim.durations import format_age
from cluster_sim.timefmt import parse_time_ms

# Field documentation (types_swagger_doc_generated.go, k8s.io/api and apimachinery v0.33) that
# the real printers use as column descriptions.
FIELD_DOCS = {
    'ObjectMeta.name': 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
    'ObjectMeta.creationTimestamp': 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata',
    'PodStatus.podIP': 'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.',
    'PodSpec.nodeName': 'NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename',
    'PodStatus.nominatedNodeName': 'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.',
    'PodSpec.readinessGates': 'If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to "True" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates',
    'ReplicaSetSpec.replicas': 'Replicas is the number of desired pods. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset',
    'ReplicaSetStatus.replicas': 'Replicas is the most recently observed number of non-terminating pods. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset',
    'ReplicaSetStatus.readyReplicas': 'The number of non-terminating pods targeted by this ReplicaSet with a Ready Condition.',
    'ReplicaSetSpec.selector': 'Selector is a label query over pods that should match the replica count. If the selector is empty, it is defaulted to the labels present on the pod template. Label keys and values that must match in order to be controlled by this replica set. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors',
    'DaemonSetStatus.desiredNumberScheduled': 'The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod). More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/',
    'DaemonSetStatus.currentNumberScheduled': 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod. More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/',
    'DaemonSetStatus.numberReady': 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.',
    'DaemonSetStatus.updatedNumberScheduled': 'The total number of nodes that are running updated daemon pod',
    'DaemonSetStatus.numberAvailable': 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)',
    'PodSpec.nodeSelector': "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node. More info: https://kubernetes.io/docs/concepts/configuration/assign-pod-node/",
    'DaemonSetSpec.selector': 'A label query over pods that are managed by the daemon set. Must match in order to be controlled. If empty, defaulted to labels on Pod template. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors',
    'ServiceSpec.type': 'type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer. "ClusterIP" allocates a cluster-internal IP address for load-balancing to endpoints. Endpoints are determined by the selector or if that is not specified, by manual construction of an Endpoints object or EndpointSlice objects. If clusterIP is "None", no virtual IP is allocated and the endpoints are published as a set of endpoints rather than a virtual IP. "NodePort" builds on ClusterIP and allocates a port on every node which routes to the same endpoints as the clusterIP. "LoadBalancer" builds on NodePort and creates an external load-balancer (if supported in the current cloud) which routes to the same endpoints as the clusterIP. "ExternalName" aliases this service to the specified externalName. Several other fields do not apply to ExternalName services. More info: https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types',
    'ServiceSpec.clusterIP': 'clusterIP is the IP address of the service and is usually assigned randomly. If an address is specified manually, is in-range (as per system configuration), and is not in use, it will be allocated to the service; otherwise creation of the service will fail. This field may not be changed through updates unless the type field is also being changed to ExternalName (which requires this field to be blank) or the type field is being changed from ExternalName (in which case this field may optionally be specified, as describe above).  Valid values are "None", empty string (""), or a valid IP address. Setting this to "None" makes a "headless service" (no virtual IP), which is useful when direct endpoint connections are preferred and proxying is not required.  Only applies to types ClusterIP, NodePort, and LoadBalancer. If this field is specified when creating a Service of type ExternalName, creation will fail. This field will be wiped when updating a Service to type ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies',
    'ServiceSpec.externalIPs': 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.  These IPs are not managed by Kubernetes.  The user is responsible for ensuring that traffic arrives at a node with this IP.  A common example is external load-balancers that are not part of the Kubernetes system.',
    'ServiceSpec.ports': 'The list of ports that are exposed by this service. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies',
    'ServiceSpec.selector': 'Route service traffic to pods with label keys and values matching this selector. If empty or not present, the service is assumed to have an external process managing its endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and LoadBalancer. Ignored if type is ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/',
    'Endpoints.subsets': 'The set of all endpoints is the union of all subsets. Addresses are placed into subsets according to the IPs they share. A single address with multiple ports, some of which are ready and some of which are not (because they come from different containers) will result in the address being displayed in different subsets for the different ports. No address will appear in both Addresses and NotReadyAddresses in the same subset. Sets of addresses and ports that comprise a service.',
    'NodeSystemInfo.kubeletVersion': 'Kubelet Version reported by the node.',
    'NodeStatus.addresses': "List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared as mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change during the lifetime of a Node. However, there are some exceptions where this may not be possible, such as Pods that inherit a Node's address in its own status or consumers of the downward API (status.hostIP).",
    'NodeSystemInfo.osImage': 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).',
    'NodeSystemInfo.kernelVersion': "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
    'NodeSystemInfo.containerRuntimeVersion': 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).',
    'Event.lastTimestamp': 'The time at which the most recent occurrence of this event was recorded.',
    'Event.type': 'Type of this event (Normal, Warning), new types could be added in the future',
    'Event.reason': "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
    'Event.involvedObject': 'The object that this event is about.',
    'ObjectReference.fieldPath': 'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: "spec.containers{name}" (where "name" refers to the name of the container that triggered the event) or if no container name is specified "spec.containers[2]" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object.',
    'Event.source': 'The component reporting this event. Should be a short machine understandable string.',
    'Event.message': 'A human-readable description of the status of this operation.',
    'Event.firstTimestamp': 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)',
    'Event.count': 'The number of times this event has occurred.',
    'Secret.type': 'Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types',
    'Secret.data': "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4",
    'ServiceAccount.secrets': 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use. Pods are only limited to this list if this service account has a "kubernetes.io/enforce-mountable-secrets" annotation set to "true". The "kubernetes.io/enforce-mountable-secrets" annotation is deprecated since v1.32. Prefer separate namespaces to isolate access to mounted secrets. This field should not be used to find auto-generated service account token secrets for use outside of pods. Instead, tokens can be requested directly using the TokenRequest API, or service account token secrets can be manually created. More info: https://kubernetes.io/docs/concepts/configuration/secret',
    'DeploymentStatus.updatedReplicas': 'Total number of non-terminating pods targeted by this deployment that have the desired template spec.',
    'DeploymentStatus.availableReplicas': 'Total number of available non-terminating pods (ready for at least minReadySeconds) targeted by this deployment.',
    'DeploymentSpec.selector': 'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.',
    'ConfigMap.data': "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process.",
    'LeaseSpec.holderIdentity': 'holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field.',
    'PriorityClass.value': 'value represents the integer value of this priority class. This is the actual priority that pods receive when they have the name of this class in their pod spec.',
    'PriorityClass.globalDefault': 'globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class. Only one PriorityClass can be marked as `globalDefault`. However, if more than one PriorityClasses exists with their `globalDefault` field set to true, the smallest value of such global default PriorityClasses will be used as the default priority.',
    'PriorityClass.preemptionPolicy': 'preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, PreemptLowerPriority. Defaults to PreemptLowerPriority if unset.',
    'EndpointSlice.addressType': 'addressType specifies the type of address carried by this EndpointSlice. All addresses in this slice must be the same type. This field is immutable after creation. The following address types are currently supported: * IPv4: Represents an IPv4 Address. * IPv6: Represents an IPv6 Address. * FQDN: Represents a Fully Qualified Domain Name.',
    'EndpointSlice.ports': 'ports specifies the list of network ports exposed by each endpoint in this slice. Each port must have a unique name. When ports is empty, it indicates that there are no defined ports. When a port is defined with a nil port value, it indicates "all ports". Each slice may include a maximum of 100 ports.',
    'EndpointSlice.endpoints': 'endpoints is a list of unique endpoints in this slice. Each slice may include a maximum of 1000 endpoints.',
}

NAME_DOC = FIELD_DOCS["ObjectMeta.name"]
AGE_DOC = FIELD_DOCS["ObjectMeta.creationTimestamp"]
CONTAINERS_DOC = "Names of each container in the template."
IMAGES_DOC = "Images referenced by each container in the template."
NODE_UNREACHABLE_POD_REASON = "NodeLost"
LOAD_BALANCER_WIDTH = 16
NODE_ROLE_LABEL_PREFIX = "node-role.kubernetes.io/"
NODE_ROLE_LABEL = "kubernetes.io/role"
MAX_LISTED_ENDPOINTS = 3

POD_SUCCEEDED_CONDITIONS = [{"type": "Completed", "status": "True", "reason": "Succeeded",
                             "message": "The pod has completed successfully."}]
POD_FAILED_CONDITIONS = [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}]


def column(name: str, type_name: str, description: str, *, priority: int = 0, format_name: str = "") -> dict:
    return {"name": name, "type": type_name, "format": format_name, "description": description,
            "priority": priority}


def name_column(priority: int = 0) -> dict:
    return column("Name", "string", NAME_DOC, priority=priority, format_name="name")


def age_column() -> dict:
    return column("Age", "string", AGE_DOC)


COLUMNS: dict[str, list[dict]] = {
    "pods": [
        name_column(),
        column("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
        column("Status", "string", "The aggregate status of the containers in this pod."),
        column("Restarts", "string", "The number of times the containers in this pod have been restarted "
                                     "and when the last container in this pod has restarted."),
        age_column(),
        column("IP", "string", FIELD_DOCS["PodStatus.podIP"], priority=1),
        column("Node", "string", FIELD_DOCS["PodSpec.nodeName"], priority=1),
        column("Nominated Node", "string", FIELD_DOCS["PodStatus.nominatedNodeName"], priority=1),
        column("Readiness Gates", "string", FIELD_DOCS["PodSpec.readinessGates"], priority=1),
    ],
    "nodes": [
        name_column(),
        column("Status", "string", "The status of the node"),
        column("Roles", "string", "The roles of the node"),
        age_column(),
        column("Version", "string", FIELD_DOCS["NodeSystemInfo.kubeletVersion"]),
        column("Internal-IP", "string", FIELD_DOCS["NodeStatus.addresses"], priority=1),
        column("External-IP", "string", FIELD_DOCS["NodeStatus.addresses"], priority=1),
        column("OS-Image", "string", FIELD_DOCS["NodeSystemInfo.osImage"], priority=1),
        column("Kernel-Version", "string", FIELD_DOCS["NodeSystemInfo.kernelVersion"], priority=1),
        column("Container-Runtime", "string", FIELD_DOCS["NodeSystemInfo.containerRuntimeVersion"], priority=1),
    ],
    "deployments": [
        name_column(),
        column("Ready", "string", "Number of the pod with ready state"),
        column("Up-to-date", "string", FIELD_DOCS["DeploymentStatus.updatedReplicas"]),
        column("Available", "string", FIELD_DOCS["DeploymentStatus.availableReplicas"]),
        age_column(),
        column("Containers", "string", CONTAINERS_DOC, priority=1),
        column("Images", "string", IMAGES_DOC, priority=1),
        column("Selector", "string", FIELD_DOCS["DeploymentSpec.selector"], priority=1),
    ],
    "replicasets": [
        name_column(),
        column("Desired", "integer", FIELD_DOCS["ReplicaSetSpec.replicas"]),
        column("Current", "integer", FIELD_DOCS["ReplicaSetStatus.replicas"]),
        column("Ready", "integer", FIELD_DOCS["ReplicaSetStatus.readyReplicas"]),
        age_column(),
        column("Containers", "string", CONTAINERS_DOC, priority=1),
        column("Images", "string", IMAGES_DOC, priority=1),
        column("Selector", "string", FIELD_DOCS["ReplicaSetSpec.selector"], priority=1),
    ],
    "daemonsets": [
        name_column(),
        column("Desired", "integer", FIELD_DOCS["DaemonSetStatus.desiredNumberScheduled"]),
        column("Current", "integer", FIELD_DOCS["DaemonSetStatus.currentNumberScheduled"]),
        column("Ready", "integer", FIELD_DOCS["DaemonSetStatus.numberReady"]),
        column("Up-to-date", "integer", FIELD_DOCS["DaemonSetStatus.updatedNumberScheduled"]),
        column("Available", "integer", FIELD_DOCS["DaemonSetStatus.numberAvailable"]),
        column("Node Selector", "string", FIELD_DOCS["PodSpec.nodeSelector"]),
        age_column(),
        column("Containers", "string", CONTAINERS_DOC, priority=1),
        column("Images", "string", IMAGES_DOC, priority=1),
        column("Selector", "string", FIELD_DOCS["DaemonSetSpec.selector"], priority=1),
    ],
    "services": [
        name_column(),
        column("Type", "string", FIELD_DOCS["ServiceSpec.type"]),
        column("Cluster-IP", "string", FIELD_DOCS["ServiceSpec.clusterIP"]),
        column("External-IP", "string", FIELD_DOCS["ServiceSpec.externalIPs"]),
        column("Port(s)", "string", FIELD_DOCS["ServiceSpec.ports"]),
        age_column(),
        column("Selector", "string", FIELD_DOCS["ServiceSpec.selector"], priority=1),
    ],
    "endpoints": [
        name_column(),
        column("Endpoints", "string", FIELD_DOCS["Endpoints.subsets"]),
        age_column(),
    ],
    "endpointslices": [
        name_column(),
        column("AddressType", "string", FIELD_DOCS["EndpointSlice.addressType"]),
        column("Ports", "string", FIELD_DOCS["EndpointSlice.ports"]),
        column("Endpoints", "string", FIELD_DOCS["EndpointSlice.endpoints"]),
        age_column(),
    ],
    "events": [
        column("Last Seen", "string", FIELD_DOCS["Event.lastTimestamp"]),
        column("Type", "string", FIELD_DOCS["Event.type"]),
        column("Reason", "string", FIELD_DOCS["Event.reason"]),
        column("Object", "string", FIELD_DOCS["Event.involvedObject"]),
        column("Subobject", "string", FIELD_DOCS["ObjectReference.fieldPath"], priority=1),
        column("Source", "string", FIELD_DOCS["Event.source"], priority=1),
        column("Message", "string", FIELD_DOCS["Event.message"]),
        column("First Seen", "string", FIELD_DOCS["Event.firstTimestamp"], priority=1),
        column("Count", "string", FIELD_DOCS["Event.count"], priority=1),
        name_column(priority=1),
    ],
    "namespaces": [
        name_column(),
        column("Status", "string", "The status of the namespace"),
        age_column(),
    ],
    "configmaps": [
        name_column(),
        column("Data", "string", FIELD_DOCS["ConfigMap.data"]),
        age_column(),
    ],
    "secrets": [
        name_column(),
        column("Type", "string", FIELD_DOCS["Secret.type"]),
        column("Data", "string", FIELD_DOCS["Secret.data"]),
        age_column(),
    ],
    "serviceaccounts": [
        name_column(),
        column("Secrets", "string", FIELD_DOCS["ServiceAccount.secrets"]),
        age_column(),
    ],
    "leases": [
        name_column(),
        column("Holder", "string", FIELD_DOCS["LeaseSpec.holderIdentity"]),
        age_column(),
    ],
    "priorityclasses": [
        name_column(),
        column("Value", "integer", FIELD_DOCS["PriorityClass.value"]),
        column("Global-Default", "boolean", FIELD_DOCS["PriorityClass.globalDefault"]),
        age_column(),
        column("PreemptionPolicy", "string", FIELD_DOCS["PriorityClass.preemptionPolicy"]),
    ],
}
# events.k8s.io/v1 Events are printed by the same printer as core Events (the server converts both
# to its internal Event type first).
COLUMNS["events.events.k8s.io"] = COLUMNS["events"]
# Kinds without a printer get kubectl's and the server's default: name and age.
DEFAULT_COLUMNS = [name_column(), age_column()]


# --- shared formatting ----------------------------------------------------------------------

def age_since(timestamp: str | None, now_epoch_ms: int) -> str:
    """translateTimestampSince: HumanDuration of now - timestamp, `<unknown>` when unset."""
    if not timestamp:
        return "<unknown>"
    return format_age(now_epoch_ms - parse_time_ms(timestamp))


def format_labels(labels: dict | None) -> str:
    """labels.FormatLabels: `k=v,k2=v2` sorted by key, `<none>` when empty."""
    if not labels:
        return "<none>"
    return ",".join(f"{key}={labels[key]}" for key in sorted(labels))


def selector_string(selector: dict | None) -> str:
    """LabelSelectorAsSelector(...).String(): requirements sorted by key, "" for an empty selector."""
    if selector is None:
        return "<none>"
    requirements = [[key, f"{key}={value}"] for key, value in (selector.get("matchLabels") or {}).items()]
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key", ""), expression.get("operator", "")
        values = ",".join(sorted(expression.get("values") or []))
        text = {"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})",
                "Exists": key, "DoesNotExist": f"!{key}"}.get(operator, f"{key} {operator} ({values})")
        requirements.append([key, text])
    requirements.sort(key=lambda requirement: requirement[0])
    return ",".join(text for _key, text in requirements)


def format_label_selector(selector: dict | None) -> str:
    """metav1.FormatLabelSelector: like selector_string but `<none>` for an empty selector."""
    text = selector_string(selector)
    return text or "<none>"


def container_cells(containers: list[dict] | None) -> list[str]:
    containers = containers or []
    return [",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers)]


def template_containers(obj: dict) -> list[dict]:
    return (((obj.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []


def join_host_port(host: str, port: Any) -> str:
    try:
        if ipaddress.ip_address(host).version == 6:
            return f"[{host}]:{port}"
    except ValueError:
        pass
    return f"{host}:{port}"


def list_with_more(items: list[str], count: int, empty: str) -> str:
    text = ",".join(items[:MAX_LISTED_ENDPOINTS])
    if count > MAX_LISTED_ENDPOINTS:
        return f"{text} + {count - MAX_LISTED_ENDPOINTS} more..."
    return text or empty


def _metadata(obj: dict) -> dict:
    return obj.get("metadata") or {}


def _status(obj: dict) -> dict:
    return obj.get("status") or {}


def _spec(obj: dict) -> dict:
    return obj.get("spec") or {}


# --- pods -------------------------------------------------------------------------------------

def _condition_true(conditions: list[dict] | None, condition_type: str) -> bool:
    return any(c.get("type") == condition_type and c.get("status") == "True" for c in conditions or [])


def _is_restartable_init_container(container: dict | None) -> bool:
    return bool(container) and container.get("restartPolicy") == "Always"


def _last_finished_ms(container_status: dict) -> int | None:
    finished = ((container_status.get("lastState") or {}).get("terminated") or {}).get("finishedAt")
    return parse_time_ms(finished) if finished else None


def _later(current_ms: int | None, candidate_ms: int | None) -> int | None:
    if candidate_ms is None:
        return current_ms
    return candidate_ms if current_ms is None or candidate_ms > current_ms else current_ms


def _terminated_reason(terminated: dict, prefix: str) -> str:
    if terminated.get("reason"):
        return prefix + terminated["reason"]
    if terminated.get("signal"):
        return f"{prefix}Signal:{terminated['signal']}"
    return f"{prefix}ExitCode:{terminated.get('exitCode', 0)}"


class PodSummary:
    """The READY, STATUS and RESTARTS columns, computed the way printPod does."""

    def __init__(self, pod: dict):
        spec, status = _spec(pod), _status(pod)
        self.reason = status.get("reason") or status.get("phase") or ""
        for condition in status.get("conditions") or []:
            if condition.get("type") == "PodScheduled" and condition.get("reason") == "SchedulingGated":
                self.reason = "SchedulingGated"
        self.total = len(spec.get("containers") or [])
        self.ready = 0
        self.restarts = 0
        self.last_restart_ms: int | None = None
        init_specs = {c.get("name"): c for c in spec.get("initContainers") or []}
        self.total += sum(1 for c in init_specs.values() if _is_restartable_init_container(c))
        initializing, sidecar_restarts, sidecar_last_ms = self.scan_init_containers(pod, init_specs)
        if not initializing or _condition_true(status.get("conditions"), "Initialized"):
            self.restarts, self.last_restart_ms = sidecar_restarts, sidecar_last_ms
            self.scan_containers(pod)
        deleting = bool(_metadata(pod).get("deletionTimestamp"))
        if deleting and status.get("reason") == NODE_UNREACHABLE_POD_REASON:
            self.reason = "Unknown"
        elif deleting and status.get("phase") not in ("Succeeded", "Failed"):
            self.reason = "Terminating"

    def scan_init_containers(self, pod: dict, init_specs: dict) -> tuple[bool, int, int | None]:
        statuses = _status(pod).get("initContainerStatuses") or []
        init_count = len(_spec(pod).get("initContainers") or [])
        sidecar_restarts, sidecar_last_ms = 0, None
        for index, container in enumerate(statuses):
            self.restarts += int(container.get("restartCount") or 0)
            finished_ms = _last_finished_ms(container)
            self.last_restart_ms = _later(self.last_restart_ms, finished_ms)
            restartable = _is_restartable_init_container(init_specs.get(container.get("name")))
            if restartable:
                sidecar_restarts += int(container.get("restartCount") or 0)
                sidecar_last_ms = _later(sidecar_last_ms, finished_ms)
            state = container.get("state") or {}
            terminated, waiting = state.get("terminated"), state.get("waiting")
            if terminated is not None and terminated.get("exitCode", 0) == 0:
                continue
            if restartable and container.get("started"):
                self.ready += 1 if container.get("ready") else 0
                continue
            if terminated is not None:
                self.reason = _terminated_reason(terminated, "Init:")
            elif waiting is not None and waiting.get("reason") and waiting["reason"] != "PodInitializing":
                self.reason = "Init:" + waiting["reason"]
            else:
                self.reason = f"Init:{index}/{init_count}"
            return True, sidecar_restarts, sidecar_last_ms
        return False, sidecar_restarts, sidecar_last_ms

    def scan_containers(self, pod: dict) -> None:
        has_running = False
        for container in reversed(_status(pod).get("containerStatuses") or []):
            self.restarts += int(container.get("restartCount") or 0)
            self.last_restart_ms = _later(self.last_restart_ms, _last_finished_ms(container))
            state = container.get("state") or {}
            waiting, terminated = state.get("waiting"), state.get("terminated")
            if waiting is not None and waiting.get("reason"):
                self.reason = waiting["reason"]
            elif terminated is not None:
                self.reason = _terminated_reason(terminated, "")
            elif container.get("ready") and state.get("running") is not None:
                has_running = True
                self.ready += 1
        if self.reason == "Completed" and has_running:
            self.reason = "Running" if _condition_true(_status(pod).get("conditions"), "Ready") else "NotReady"

    def restarts_text(self, now_epoch_ms: int) -> str:
        if self.restarts and self.last_restart_ms is not None:
            return f"{self.restarts} ({format_age(now_epoch_ms - self.last_restart_ms)} ago)"
        return str(self.restarts)


def pod_row(pod: dict, now_epoch_ms: int) -> dict:
    summary = PodSummary(pod)
    spec, status = _spec(pod), _status(pod)
    pod_ips = status.get("podIPs") or []
    readiness_gates = "<none>"
    gates = spec.get("readinessGates") or []
    if gates:
        conditions = {c.get("type"): c.get("status") for c in reversed(status.get("conditions") or [])}
        passed = sum(1 for gate in gates if conditions.get(gate.get("conditionType")) == "True")
        readiness_gates = f"{passed}/{len(gates)}"
    cells = [_metadata(pod).get("name", ""), f"{summary.ready}/{summary.total}", summary.reason,
             summary.restarts_text(now_epoch_ms), age_since(_metadata(pod).get("creationTimestamp"), now_epoch_ms),
             (pod_ips[0].get("ip") if pod_ips else "") or "<none>", spec.get("nodeName") or "<none>",
             status.get("nominatedNodeName") or "<none>", readiness_gates]
    row: dict = {"cells": cells}
    if status.get("phase") == "Succeeded":
        row["conditions"] = POD_SUCCEEDED_CONDITIONS
    elif status.get("phase") == "Failed":
        row["conditions"] = POD_FAILED_CONDITIONS
    return row


# --- nodes ------------------------------------------------------------------------------------

def node_status_text(node: dict) -> str:
    """`Ready`, `NotReady` (False or Unknown) or `Unknown` (no Ready condition), `,SchedulingDisabled`."""
    status = "Unknown"
    for condition in _status(node).get("conditions") or []:
        if condition.get("type") == "Ready":
            status = "Ready" if condition.get("status") == "True" else "NotReady"
    if _spec(node).get("unschedulable"):
        status += ",SchedulingDisabled"
    return status


def node_roles(node: dict) -> list[str]:
    roles = set()
    for key, value in (_metadata(node).get("labels") or {}).items():
        if key.startswith(NODE_ROLE_LABEL_PREFIX) and key[len(NODE_ROLE_LABEL_PREFIX):]:
            roles.add(key[len(NODE_ROLE_LABEL_PREFIX):])
        elif key == NODE_ROLE_LABEL and value:
            roles.add(value)
    return sorted(roles)


def node_address(node: dict, address_type: str) -> str:
    for address in _status(node).get("addresses") or []:
        if address.get("type") == address_type:
            return address.get("address", "")
    return "<none>"


def node_row(node: dict, now_epoch_ms: int) -> dict:
    info = _status(node).get("nodeInfo") or {}
    return {"cells": [
        _metadata(node).get("name", ""), node_status_text(node), ",".join(node_roles(node)) or "<none>",
        age_since(_metadata(node).get("creationTimestamp"), now_epoch_ms), info.get("kubeletVersion", ""),
        node_address(node, "InternalIP"), node_address(node, "ExternalIP"),
        info.get("osImage") or "<unknown>", info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>"]}


# --- workloads --------------------------------------------------------------------------------

def deployment_row(deployment: dict, now_epoch_ms: int) -> dict:
    spec, status = _spec(deployment), _status(deployment)
    return {"cells": [
        _metadata(deployment).get("name", ""),
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
        status.get("updatedReplicas", 0), status.get("availableReplicas", 0),
        age_since(_metadata(deployment).get("creationTimestamp"), now_epoch_ms),
        *container_cells(template_containers(deployment)), selector_string(spec.get("selector"))]}


def replicaset_row(replicaset: dict, now_epoch_ms: int) -> dict:
    spec, status = _spec(replicaset), _status(replicaset)
    return {"cells": [
        _metadata(replicaset).get("name", ""), spec.get("replicas", 1), status.get("replicas", 0),
        status.get("readyReplicas", 0), age_since(_metadata(replicaset).get("creationTimestamp"), now_epoch_ms),
        *container_cells(template_containers(replicaset)), format_label_selector(spec.get("selector"))]}


def daemonset_row(daemonset: dict, now_epoch_ms: int) -> dict:
    spec, status = _spec(daemonset), _status(daemonset)
    node_selector = (((spec.get("template") or {}).get("spec") or {}).get("nodeSelector"))
    return {"cells": [
        _metadata(daemonset).get("name", ""), status.get("desiredNumberScheduled", 0),
        status.get("currentNumberScheduled", 0), status.get("numberReady", 0),
        status.get("updatedNumberScheduled", 0), status.get("numberAvailable", 0), format_labels(node_selector),
        age_since(_metadata(daemonset).get("creationTimestamp"), now_epoch_ms),
        *container_cells(template_containers(daemonset)), format_label_selector(spec.get("selector"))]}


# --- services and endpoints -------------------------------------------------------------------

def load_balancer_addresses(service: dict) -> str:
    seen: list[str] = []
    for ingress in (_status(service).get("loadBalancer") or {}).get("ingress") or []:
        address = ingress.get("ip") or ingress.get("hostname")
        if address and address not in seen:
            seen.append(address)
    return ",".join(seen)


def service_external_ip(service: dict) -> str:
    spec = _spec(service)
    service_type = spec.get("type", "ClusterIP")
    external_ips = spec.get("externalIPs") or []
    if service_type in ("ClusterIP", "NodePort"):
        return ",".join(external_ips) if external_ips else "<none>"
    if service_type == "LoadBalancer":
        load_balancer = load_balancer_addresses(service)
        if external_ips:
            return ",".join(([*load_balancer.split(",")] if load_balancer else []) + external_ips)
        return load_balancer or "<pending>"
    if service_type == "ExternalName":
        return spec.get("externalName", "")
    return "<unknown>"


def service_ports(service: dict) -> str:
    pieces = []
    for port in _spec(service).get("ports") or []:
        protocol = port.get("protocol", "TCP")
        if port.get("nodePort"):
            pieces.append(f"{port.get('port')}:{port['nodePort']}/{protocol}")
        else:
            pieces.append(f"{port.get('port')}/{protocol}")
    return ",".join(pieces) or "<none>"


def service_row(service: dict, now_epoch_ms: int) -> dict:
    spec = _spec(service)
    cluster_ips = spec.get("clusterIPs") or []
    return {"cells": [
        _metadata(service).get("name", ""), spec.get("type", ""), cluster_ips[0] if cluster_ips else "<none>",
        service_external_ip(service), service_ports(service),
        age_since(_metadata(service).get("creationTimestamp"), now_epoch_ms), format_labels(spec.get("selector"))]}


def endpoints_text(endpoints: dict) -> str:
    subsets = endpoints.get("subsets") or []
    if not subsets:
        return "<none>"
    listed: list[str] = []
    count = 0
    for subset in subsets:
        addresses = [address.get("ip", "") for address in subset.get("addresses") or []]
        ports = subset.get("ports") or []
        if not ports:
            count += len(addresses)
            listed.extend(addresses[:max(0, MAX_LISTED_ENDPOINTS - len(listed))])
            continue
        for port in ports:
            count += len(addresses)
            listed.extend(join_host_port(ip, port.get("port")) for ip in addresses[:max(0, MAX_LISTED_ENDPOINTS - len(listed))])
    return list_with_more(listed, count, "")


def endpoints_row(endpoints: dict, now_epoch_ms: int) -> dict:
    return {"cells": [_metadata(endpoints).get("name", ""), endpoints_text(endpoints),
                      age_since(_metadata(endpoints).get("creationTimestamp"), now_epoch_ms)]}


def endpointslice_row(endpoint_slice: dict, now_epoch_ms: int) -> dict:
    ports = []
    for port in endpoint_slice.get("ports") or []:
        if port.get("port") is not None:
            ports.append(str(port["port"]))
        elif port.get("name") is not None:
            ports.append(port["name"])
        else:
            ports.append("*")
    addresses = [address for endpoint in endpoint_slice.get("endpoints") or [] for address in endpoint.get("addresses") or []]
    return {"cells": [
        _metadata(endpoint_slice).get("name", ""), endpoint_slice.get("addressType", ""),
        list_with_more(ports, len(ports), "<unset>"), list_with_more(addresses, len(addresses), "<unset>"),
        age_since(_metadata(endpoint_slice).get("creationTimestamp"), now_epoch_ms)]}


# --- events -----------------------------------------------------------------------------------

def as_core_event(event: dict) -> dict:
    """An events.k8s.io/v1 Event in the core v1 shape (the server prints both the same way)."""
    if "regarding" not in event and "note" not in event:
        return event
    return {"metadata": _metadata(event), "involvedObject": event.get("regarding") or {},
            "message": event.get("note", ""), "reason": event.get("reason", ""), "type": event.get("type", ""),
            "firstTimestamp": event.get("deprecatedFirstTimestamp"), "lastTimestamp": event.get("deprecatedLastTimestamp"),
            "count": event.get("deprecatedCount", 0), "source": event.get("deprecatedSource") or {},
            "eventTime": event.get("eventTime"), "series": event.get("series"),
            "reportingComponent": event.get("reportingController", ""),
            "reportingInstance": event.get("reportingInstance", "")}


def event_source(event: dict) -> str:
    source = event.get("source") or {}
    component = source.get("component") or event.get("reportingComponent") or ""
    instance = source.get("host") or event.get("reportingInstance") or ""
    return f"{component}, {instance}" if instance else component


def event_row(event: dict, now_epoch_ms: int) -> dict:
    event = as_core_event(event)
    first_seen = age_since(event.get("firstTimestamp"), now_epoch_ms)
    if not event.get("firstTimestamp"):
        first_seen = age_since(event.get("eventTime"), now_epoch_ms)
    last_seen = age_since(event.get("lastTimestamp"), now_epoch_ms) if event.get("lastTimestamp") else first_seen
    count = event.get("count") or 0
    series = event.get("series")
    if series:
        last_seen = age_since(series.get("lastObservedTime"), now_epoch_ms)
        count = series.get("count", 0)
    elif count == 0:
        count = 1
    involved = event.get("involvedObject") or {}
    kind = (involved.get("kind") or "").lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    return {"cells": [last_seen, event.get("type", ""), event.get("reason", ""), target,
                      involved.get("fieldPath", ""), event_source(event), (event.get("message") or "").strip(),
                      first_seen, count, _metadata(event).get("name", "")]}


# --- the rest ---------------------------------------------------------------------------------

def namespace_row(namespace: dict, now_epoch_ms: int) -> dict:
    return {"cells": [_metadata(namespace).get("name", ""), _status(namespace).get("phase", ""),
                      age_since(_metadata(namespace).get("creationTimestamp"), now_epoch_ms)]}


def configmap_row(configmap: dict, now_epoch_ms: int) -> dict:
    count = len(configmap.get("data") or {}) + len(configmap.get("binaryData") or {})
    return {"cells": [_metadata(configmap).get("name", ""), count,
                      age_since(_metadata(configmap).get("creationTimestamp"), now_epoch_ms)]}


def secret_row(secret: dict, now_epoch_ms: int) -> dict:
    return {"cells": [_metadata(secret).get("name", ""), secret.get("type", ""), len(secret.get("data") or {}),
                      age_since(_metadata(secret).get("creationTimestamp"), now_epoch_ms)]}


def serviceaccount_row(account: dict, now_epoch_ms: int) -> dict:
    return {"cells": [_metadata(account).get("name", ""), len(account.get("secrets") or []),
                      age_since(_metadata(account).get("creationTimestamp"), now_epoch_ms)]}


def lease_row(lease: dict, now_epoch_ms: int) -> dict:
    return {"cells": [_metadata(lease).get("name", ""), _spec(lease).get("holderIdentity") or "",
                      age_since(_metadata(lease).get("creationTimestamp"), now_epoch_ms)]}


def priorityclass_row(priority_class: dict, now_epoch_ms: int) -> dict:
    return {"cells": [_metadata(priority_class).get("name", ""), priority_class.get("value", 0),
                      bool(priority_class.get("globalDefault", False)),
                      age_since(_metadata(priority_class).get("creationTimestamp"), now_epoch_ms),
                      priority_class.get("preemptionPolicy") or ""]}


def default_row(obj: dict, now_epoch_ms: int) -> dict:
    return {"cells": [_metadata(obj).get("name", ""), age_since(_metadata(obj).get("creationTimestamp"), now_epoch_ms)]}


ROW_PRINTERS: dict[str, Callable[[dict, int], dict]] = {
    "pods": pod_row, "nodes": node_row, "deployments": deployment_row, "replicasets": replicaset_row,
    "daemonsets": daemonset_row, "services": service_row, "endpoints": endpoints_row,
    "endpointslices": endpointslice_row, "events": event_row, "events.events.k8s.io": event_row,
    "namespaces": namespace_row, "configmaps": configmap_row, "secrets": secret_row,
    "serviceaccounts": serviceaccount_row, "leases": lease_row, "priorityclasses": priorityclass_row,
}


def columns_for(resource: str) -> list[dict]:
    return COLUMNS.get(resource, DEFAULT_COLUMNS)


def row_for(resource: str, obj: dict, now_epoch_ms: int, include_object: str = "Metadata") -> dict:
    row = dict(ROW_PRINTERS.get(resource, default_row)(obj, now_epoch_ms))
    if include_object == "Object":
        row["object"] = obj
    elif include_object == "Metadata":
        row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": _metadata(obj)}
    else:
        row["object"] = None
    return row


def table_for(resource: str, objects: list[dict], now_epoch_ms: int, *, include_object: str = "Metadata",
              list_metadata: dict | None = None) -> dict:
    """The Table the real kube-apiserver returns for ``objects`` of ``resource`` (a RESOURCES key).

    ``include_object`` is the request's includeObject parameter: Metadata (the default, rows carry
    PartialObjectMetadata), Object (the full object) or None.  ``list_metadata`` is the list's
    metadata (resourceVersion, continue, remainingItemCount); without it a single object's
    resourceVersion is used, as for a GET of one object.
    """
    if include_object not in ("Metadata", "Object", "None"):
        raise ValueError(f"includeObject must be None, Metadata or Object, not {include_object!r}")
    metadata: dict = {}
    if list_metadata is not None:
        metadata["resourceVersion"] = list_metadata.get("resourceVersion", "")
        for key in ("continue", "remainingItemCount"):
            if list_metadata.get(key):
                metadata[key] = list_metadata[key]
    elif len(objects) == 1:
        metadata["resourceVersion"] = _metadata(objects[0]).get("resourceVersion", "")
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata,
            "columnDefinitions": columns_for(resource),
            "rows": [row_for(resource, obj, now_epoch_ms, include_object) for obj in objects]}


def table_for_response(resource: str, body: dict, now_epoch_ms: int, *, include_object: str = "Metadata") -> dict:
    """A Table for an apiserver answer: a list (``items``) or one object."""
    if isinstance(body.get("items"), list):
        return table_for(resource, body["items"], now_epoch_ms, include_object=include_object,
                         list_metadata=body.get("metadata") or {})
    return table_for(resource, [body], now_epoch_ms, include_object=include_object)
