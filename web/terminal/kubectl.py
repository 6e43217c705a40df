"""A kubectl for people without one: parses a command line and runs it against a live cluster
through the same API requests the real kubectl makes, printing what the real kubectl prints.

`run_command(live, line) -> TerminalResult(text, exit_code)`.  The terminal has no files:
`kubectl apply -f -` (and `create -f -`) read the lines pasted after the command, up to a line
`EOF` (see HELP).  Watching (`-w`) is refused with a hint: a request/answer terminal cannot stream.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

import yaml

from cluster_sim.apiserver.kinds import RESOURCES, ResourceInfo, lookup_resource
from web.kubeapi import printers

from . import render
from .describe import DESCRIBERS
from .errors import CommandError, api_error_text
from .parsing import CommandLine, parse, split_input
from .tabwriter import describe_text, kubectl_table

SERVER_VERSION = "v1.33.0"
# The client kubectl 1.33 release the real dispatcher ships.
CLIENT_VERSION = "v1.33.1"
# `kubectl get all` expands the `all` category in discovery order.
ALL_CATEGORY = ["pods", "services", "daemonsets", "deployments", "replicasets"]
MAX_OUTPUT_CHARACTERS = 400_000

UNSUPPORTED = {
    "exec": "kubectl exec is not available in the simulated cluster: containers have no shell here.\n"
            "Try: kubectl logs POD, or kubectl describe pod POD",
    "attach": "kubectl attach is not available in the simulated cluster: containers have no terminal here.\n"
              "Try: kubectl logs POD",
    "port-forward": "kubectl port-forward is not available: the simulated cluster has no network sockets to forward.\n"
                    "Try: kubectl get endpoints SERVICE, or kubectl describe service SERVICE",
    "cp": "kubectl cp is not available: simulated containers have no file systems.",
    "proxy": "kubectl proxy is not available in the page terminal. Point your own kubectl at this cluster "
             "(download the kubeconfig) to use it.",
    "edit": "kubectl edit needs an editor, which the page terminal lacks.\n"
            "Try: kubectl apply -f - (paste the changed manifest, end with a line EOF), "
            "kubectl label, kubectl annotate, kubectl scale or kubectl set image",
    "top": "kubectl top needs metrics-server, which the simulated cluster does not run.\n"
           "Try: kubectl describe node NODE (see Allocated resources)",
    "auth": "kubectl auth is not available: the simulated cluster has no RBAC (every request is allowed).",
    "config": "kubectl config is not needed here: this terminal is always connected to your simulated cluster.",
    "debug": "kubectl debug is not available: simulated containers cannot run ephemeral containers.",
    "wait": "kubectl wait is not available in the page terminal (it cannot stream).\n"
            "Try: kubectl rollout status deployment/NAME, or kubectl get pods again",
    "autoscale": "kubectl autoscale is not available: the simulated cluster has no HorizontalPodAutoscaler.\n"
                 "Try: kubectl scale deployment/NAME --replicas=N",
    "replace": "kubectl replace is not available here. Try: kubectl apply -f -",
    "patch": "kubectl patch is not available in the page terminal yet.\n"
             "Try: kubectl label, kubectl annotate, kubectl scale, kubectl set image or kubectl apply -f -",
    "taint": "kubectl taint is not available in the page terminal yet. Try: kubectl cordon NODE",
}

HELP = """kubectl controls the simulated Kubernetes cluster.

 Basic Commands:
  create          Create a deployment or namespace (create deployment NAME --image=IMAGE [--replicas=N])
  expose          Expose a deployment as a new Kubernetes service (--port, --target-port, --type)
  run             Run a particular image in a pod (run NAME --image=IMAGE)
  get             Display one or many resources (-o wide|yaml|json|name|jsonpath=..., -l, -A, --show-labels)
  explain         Get documentation for a resource
  delete          Delete resources by type and name, or by label (-l)

 Deploy Commands:
  rollout         Manage the rollout of a deployment (status, history, undo, restart, pause, resume)
  scale           Set a new size for a deployment or replica set

 Cluster Management Commands:
  cluster-info    Display cluster information
  cordon          Mark node as unschedulable
  uncordon        Mark node as schedulable
  drain           Drain node in preparation for maintenance

 Troubleshooting and Debugging Commands:
  describe        Show details of a specific resource or group of resources
  logs            Print the logs for a container in a pod

 Advanced Commands:
  apply           Apply a configuration: `kubectl apply -f -`, then paste the manifest
                  on the following lines and end it with a line `EOF`

 Settings Commands:
  label           Update the labels on a resource
  annotate        Update the annotations on a resource
  set image       Update the image of a pod template (set image deployment/NAME CONTAINER=IMAGE)

 Other Commands:
  api-resources   Print the supported API resources on the server
  version         Print the client and server version information

This terminal keeps your history (up/down arrows), completes with Tab and clears with Ctrl+L.
Not available here: exec, attach, port-forward, cp, proxy, edit, top, watch (-w).
"""


@dataclass
class TerminalResult:
    text: str
    exit_code: int


class Session:
    """One command's access to the cluster: API calls and the virtual clock."""

    def __init__(self, live: Any, server_url: str | None = None):
        self.live = live
        # The cluster's Kubernetes API URL as the learner's kubeconfig names it (cluster-info).
        self.server_url = server_url

    def call(self, verb: str, resource: str, *, namespace: str | None = None, name: str | None = None,
             body: Any = None, params: dict | None = None, subresource: str | None = None) -> tuple[int, Any]:
        request = {"verb": verb, "resource": resource, "namespace": namespace, "name": name,
                   "subresource": subresource, "body": body, "params": params or {}}
        code, answer, _events = self.live.api_request(request)
        return code, answer

    def must(self, verb: str, resource: str, **arguments: Any) -> Any:
        code, answer = self.call(verb, resource, **arguments)
        if code == 0 or code >= 400 or answer is None:
            raise CommandError(api_error_text(code, answer))
        return answer

    def now_epoch_ms(self) -> int:
        return self.live.cluster.sim.start_epoch_ms + self.live.now_ms


def run_command(live: Any, line: str, *, server_url: str | None = None) -> TerminalResult:
    """Run one kubectl command line (plus pasted stdin lines) against ``live``.

    ``server_url`` is the cluster's Kubernetes API URL (what `kubectl cluster-info` reports).
    """
    command_line, stdin = split_input(line or "")
    if not command_line:
        return TerminalResult("", 0)
    first_word = command_line.split()[1:2] if command_line.split()[0] in ("kubectl", "k") else command_line.split()[:1]
    if first_word and first_word[0] in UNSUPPORTED:
        return TerminalResult(UNSUPPORTED[first_word[0]] + "\n", 1)
    try:
        command = parse(command_line)
        command.stdin = stdin
        text = dispatch(Session(live, server_url), command)
        exit_code = 0
    except CommandError as error:
        text, exit_code = error.text, error.exit_code
    except PartialFailure as failure:
        text, exit_code = failure.text, 1
    if len(text) > MAX_OUTPUT_CHARACTERS:
        text = text[:MAX_OUTPUT_CHARACTERS] + "\n... (output cut: too long for the page terminal)\n"
    return TerminalResult(text, exit_code)


class PartialFailure(Exception):
    """Some output, then errors (kubectl prints both and exits 1)."""

    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


def dispatch(session: Session, command: CommandLine) -> str:
    if not command.words:
        return HELP
    verb = command.words[0]
    if verb in ("help", "--help"):
        return HELP
    if verb in UNSUPPORTED:
        raise CommandError(UNSUPPORTED[verb])
    handler = COMMANDS.get(verb)
    if handler is None:
        raise CommandError(f'error: unknown command "{verb}" for "kubectl"\n\nDid you mean this?\n'
                           + suggestion(verb) + "Run 'kubectl help' for the commands this terminal knows.")
    if command.switch("help"):
        return HELP
    if command.switch("watch") or command.switch("watch-only") or command.switch("follow"):
        raise CommandError("error: watching (-w, -f) is not available in the page terminal: it answers each "
                           "command once.\nRun the command again to see changes, or point your own kubectl "
                           "at this cluster (download the kubeconfig) and use -w there.")
    return handler(session, command)


def suggestion(verb: str) -> str:
    close = [name for name in COMMANDS if name.startswith(verb[:2])] or ["get"]
    return "".join(f"\t{name}\n" for name in close[:3]) + "\n"


# --- resource arguments -------------------------------------------------------------------------

def resolve(type_name: str) -> ResourceInfo:
    info = lookup_resource(type_name)
    if info is None or info.plural == "bindings":
        raise CommandError(f'error: the server doesn\'t have a resource type "{type_name}"')
    return info


def namespace_of(command: CommandLine) -> str:
    return command.flag("namespace") or "default"


def resource_args(words: list[str]) -> list[list]:
    """kubectl's ResourceTypeOrNameArgs: [[info, name or None], ...] in the order given."""
    if not words:
        return []
    if any("/" in word for word in words):
        pairs = []
        for word in words:
            if "/" not in word:
                raise CommandError("error: there is no need to specify a resource type as a separate argument "
                                   "when passing arguments in resource/name form (e.g. 'kubectl get resource/<resource_name>' "
                                   "instead of 'kubectl get resource resource/<resource_name>'")
            type_name, _, name = word.partition("/")
            pairs.append([resolve(type_name), name])
        return pairs
    types = []
    for type_name in words[0].split(","):
        if type_name == "all":
            types.extend(RESOURCES[key] for key in ALL_CATEGORY)
        else:
            types.append(resolve(type_name))
    names = words[1:]
    if names:
        if len(types) > 1:
            raise CommandError("error: arguments in resource/name form must have a single resource and name")
        return [[types[0], name] for name in names]
    return [[info, None] for info in types]


def require_single(command: CommandLine, usage: str) -> list:
    pairs = resource_args(command.words[1:])
    if len(pairs) != 1 or pairs[0][1] is None:
        raise CommandError(f"error: {usage}")
    return pairs[0]


def request_namespace(info: ResourceInfo, command: CommandLine) -> str | None:
    if not info.namespaced:
        return None
    if command.switch("all-namespaces"):
        return None
    return namespace_of(command)


def qualified_name(info: ResourceInfo, name: str) -> str:
    return f"{render.kind_prefix(info)}/{name}"


# --- get ------------------------------------------------------------------------------------------

def command_get(session: Session, command: CommandLine) -> str:
    pairs = resource_args(command.words[1:])
    if not pairs:
        raise CommandError("You must specify the type of resource to get. Use \"kubectl api-resources\" for a "
                           "complete list of supported resources.\n\nerror: Required resource not specified.\n"
                           "Use \"kubectl explain <resource>\" for a detailed description of that resource "
                           "(e.g. kubectl explain pods).\nSee 'kubectl get -h' for help and examples")
    output = command.flag("output", "") or ""
    results, errors = fetch_all(session, command, pairs)
    if output in ("", "wide"):
        text = human_output(session, command, results, pairs, errors)
    else:
        text = generic_output(output, results, pairs)
    if errors:
        raise PartialFailure(text + "".join(errors))
    return text


def fetch_all(session: Session, command: CommandLine, pairs: list[list]) -> tuple[list, list[str]]:
    """One answer per (type, name): [[info, list-or-object]], and the error texts."""
    params = {}
    if command.flag("selector"):
        params["labelSelector"] = command.flag("selector")
    if command.flag("field-selector"):
        params["fieldSelector"] = command.flag("field-selector")
    results, errors = [], []
    for info, name in pairs:
        namespace = request_namespace(info, command)
        if name is None:
            code, answer = session.call("list", info.key, namespace=namespace, params=params)
        else:
            code, answer = session.call("get", info.key, namespace=namespace or ("default" if info.namespaced else None),
                                        name=name)
        if code == 0 or code >= 400 or answer is None:
            errors.append(api_error_text(code, answer))
            continue
        results.append([info, answer])
    return results, errors


def human_output(session: Session, command: CommandLine, results: list, pairs: list, errors: list[str]) -> str:
    now_epoch_ms = session.now_epoch_ms()
    with_kind = len({info.key for info, _ in pairs}) > 1
    groups: list[str] = []
    previous_key = None
    current: list[str] = []
    for info, answer in results:
        table = printers.table_for_response(info.key, answer, now_epoch_ms)
        if info.key != previous_key:
            if current:
                groups.append(kubectl_table("\n".join(current) + "\n"))
            current = []
            previous_key = info.key
        lines = render.table_lines(table, wide=command.flag("output") == "wide",
                                   with_namespace=command.switch("all-namespaces") and info.namespaced,
                                   show_labels=command.switch("show-labels"),
                                   kind_prefix=render.kind_prefix(info) if with_kind else None,
                                   headers=not current and not command.switch("no-headers"))
        current.extend(lines)
    if current:
        groups.append(kubectl_table("\n".join(current) + "\n"))
    text = "\n".join(groups)
    if not text and not errors:
        all_namespaced = all(info.namespaced for info, _ in pairs) and not command.switch("all-namespaces")
        return f"No resources found in {namespace_of(command)} namespace.\n" if all_namespaced else "No resources found\n"
    return text


def generic_output(output: str, results: list, pairs: list) -> str:
    objects: list[dict] = []
    for info, answer in results:
        if isinstance(answer.get("items"), list):
            objects.extend(with_type(info, item) for item in answer["items"])
        else:
            objects.append(with_type(info, answer))
    single = len(pairs) == 1 and pairs[0][1] is not None and len(objects) == 1
    data = objects[0] if single else render.as_list(objects)
    if output == "name":
        return "".join(f"{render.kind_prefix(resolve_kind(obj))}/{obj['metadata']['name']}\n" for obj in objects)
    if output == "yaml":
        return render.to_yaml(data)
    if output == "json":
        return render.to_json(data)
    if output.startswith("jsonpath=") or output.startswith("jsonpath-as-json="):
        try:
            return render.jsonpath(output.partition("=")[2], data)
        except render.OutputError as error:
            raise CommandError(f"error: {error}")
    raise CommandError(f'error: unable to match a printer suitable for the output format "{output}", allowed '
                       'formats are: json,jsonpath,jsonpath-as-json,name,wide,yaml')


def with_type(info: ResourceInfo, obj: dict) -> dict:
    typed = dict(obj)
    typed.setdefault("apiVersion", info.api_version)
    typed.setdefault("kind", info.kind)
    return typed


def resolve_kind(obj: dict) -> ResourceInfo:
    from cluster_sim.apiserver.kinds import resource_for_kind
    return resource_for_kind(obj.get("apiVersion", ""), obj.get("kind", "")) or resolve(obj.get("kind", ""))


# --- describe -------------------------------------------------------------------------------------

def command_describe(session: Session, command: CommandLine) -> str:
    words = command.words[1:]
    if not words:
        raise CommandError("You must specify the type of resource to describe. Use \"kubectl api-resources\" for a "
                           "complete list of supported resources.\n\nerror: Required resource not specified.")
    pairs = resource_args(words)
    texts, errors = [], []
    for info, name in pairs:
        namespace = request_namespace(info, command) or ("default" if info.namespaced else None)
        if name is None:
            params = {"labelSelector": command.flag("selector")} if command.flag("selector") else {}
            objects = session.must("list", info.key, namespace=request_namespace(info, command), params=params)["items"]
        else:
            code, answer = session.call("get", info.key, namespace=namespace, name=name)
            if code >= 400 or code == 0 or answer is None:
                errors.append(api_error_text(code, answer))
                continue
            objects = [answer]
        texts.extend(describe_one(session, info, obj) for obj in objects)
    text = "\n\n".join(texts)
    if errors:
        raise PartialFailure(text + "".join(errors))
    if not texts:
        return f"No resources found in {namespace_of(command)} namespace.\n"
    return text


def describe_one(session: Session, info: ResourceInfo, obj: dict) -> str:
    describer = DESCRIBERS.get(info.key)
    related = related_objects(session, info, obj)
    if describer is None:
        return generic_describe(info, obj, related, session.now_epoch_ms())
    return describer(obj, related, session.now_epoch_ms())


def related_objects(session: Session, info: ResourceInfo, obj: dict) -> dict:
    metadata = obj["metadata"]
    related: dict = {"events": search_events(session, info, obj, metadata.get("uid", ""))}
    if info.key == "nodes":
        # Kubelets report node events with the node's name as its UID, controllers with the real UID.
        related["events"] += search_events(session, info, obj, metadata["name"])
    if info.key == "nodes":
        code, lease = session.call("get", "leases", namespace="kube-node-lease", name=metadata["name"])
        related["lease"] = lease if code == 200 else None
        pods = session.must("list", "pods", params={"fieldSelector": f"spec.nodeName={metadata['name']}"})["items"]
        related["pods"] = [pod for pod in pods if (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]
    elif info.key == "deployments":
        related.update(deployment_replica_sets(session, obj))
    elif info.key == "replicasets":
        pods = session.must("list", "pods", namespace=metadata["namespace"])["items"]
        phases: dict[str, int] = {}
        for pod in pods:
            if any(owner.get("uid") == metadata.get("uid") for owner in pod["metadata"].get("ownerReferences") or []):
                phase = (pod.get("status") or {}).get("phase", "Pending")
                phases[phase] = phases.get(phase, 0) + 1
        related["pod_phases"] = phases
    elif info.key == "services":
        related["endpoint_slices"] = session.must("list", "endpointslices", namespace=metadata["namespace"], params={
            "labelSelector": f"kubernetes.io/service-name={metadata['name']}"})["items"]
    return related


def search_events(session: Session, info: ResourceInfo, obj: dict, uid: str) -> list[dict]:
    """kubectl's searchEvents: events whose involvedObject is this object."""
    metadata = obj["metadata"]
    namespace = metadata.get("namespace", "") if info.namespaced else ""
    selector = (f"involvedObject.kind={info.kind},involvedObject.name={metadata['name']},"
                f"involvedObject.namespace={namespace},involvedObject.uid={uid}")
    code, events = session.call("list", "events", namespace=namespace or None, params={"fieldSelector": selector})
    return events.get("items", []) if code == 200 and isinstance(events, dict) else []


def deployment_replica_sets(session: Session, deployment: dict) -> dict:
    metadata = deployment["metadata"]
    owned = [rs for rs in session.must("list", "replicasets", namespace=metadata["namespace"])["items"]
             if any(owner.get("uid") == metadata.get("uid") for owner in rs["metadata"].get("ownerReferences") or [])]
    revision = (metadata.get("annotations") or {}).get("deployment.kubernetes.io/revision")
    template = without_hash((deployment.get("spec") or {}).get("template") or {})
    new = [rs for rs in owned if without_hash((rs.get("spec") or {}).get("template") or {}) == template]
    if not new and revision:
        new = [rs for rs in owned if (rs["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision") == revision]
    old = [rs for rs in owned if rs not in new and (rs.get("spec") or {}).get("replicas", 0) > 0]
    return {"new_replica_sets": new[:1], "old_replica_sets": old, "all_replica_sets": owned}


def without_hash(template: dict) -> dict:
    template = copy.deepcopy(template)
    labels = (template.get("metadata") or {}).get("labels") or {}
    labels.pop("pod-template-hash", None)
    return template


def generic_describe(info: ResourceInfo, obj: dict, related: dict, now_epoch_ms: int) -> str:
    from .describe import PrefixWriter, annotations_multiline, describe_events, labels_multiline
    metadata = obj["metadata"]
    w = PrefixWriter()
    w.write(0, f"Name:\t{metadata['name']}\n")
    if info.namespaced:
        w.write(0, f"Namespace:\t{metadata.get('namespace', '')}\n")
    labels_multiline(w, "Labels", metadata.get("labels"))
    annotations_multiline(w, "Annotations", metadata.get("annotations"))
    body = {key: value for key, value in obj.items() if key not in ("metadata", "apiVersion", "kind")}
    w.flush()
    w.flushed.append(render.to_yaml(body) if body else "")
    describe_events(w, related.get("events"), now_epoch_ms)
    return w.text()


# --- create / run / expose ---------------------------------------------------------------------

def dry_run_params(command: CommandLine) -> dict:
    mode = command.flag("dry-run")
    if mode in (None, "none"):
        return {}
    if mode == "server":
        return {"dryRun": "All"}
    raise CommandError("error: --dry-run=client is not available in the page terminal: use --dry-run=server")


def dry_run_suffix(command: CommandLine) -> str:
    return " (server dry run)" if command.flag("dry-run") == "server" else ""


def command_create(session: Session, command: CommandLine) -> str:
    if command.flag("filename"):
        return apply_manifests(session, command, create_only=True)
    if len(command.words) < 3:
        raise CommandError("error: Required resource not specified.\nThis terminal can create: "
                           "kubectl create deployment NAME --image=IMAGE [--replicas=N], "
                           "kubectl create namespace NAME, or kubectl create -f - (paste a manifest, end with EOF)")
    kind, name = command.words[1], command.words[2]
    if kind in ("deployment", "deploy"):
        return create_deployment(session, command, name)
    if kind in ("namespace", "ns"):
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        session.must("create", "namespaces", body=body, params=dry_run_params(command))
        return f"namespace/{name} created{dry_run_suffix(command)}\n"
    raise CommandError(f'error: kubectl create {kind} is not available in the page terminal.\n'
                       'Try: kubectl create deployment, kubectl create namespace, or kubectl apply -f -')


def create_deployment(session: Session, command: CommandLine, name: str) -> str:
    image = command.flag("image")
    if not image:
        raise CommandError("error: required flag(s) \"image\" not set")
    container_name = image.split("/")[-1].split(":")[0].split("@")[0]
    labels = {"app": name}
    container: dict = {"name": container_name, "image": image, "resources": {}}
    if command.flag("port"):
        container["ports"] = [{"containerPort": int_flag(command, "port")}]
    body = {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "labels": labels},
            "spec": {"replicas": int_flag(command, "replicas", 1), "selector": {"matchLabels": labels},
                     "strategy": {}, "template": {"metadata": {"labels": labels},
                                                  "spec": {"containers": [container]}}},
            "status": {}}
    code, answer = session.call("create", "deployments", namespace=namespace_of(command), body=body,
                                params=dry_run_params(command))
    if code == 0 or code >= 400 or answer is None:
        if isinstance(answer, dict) and answer.get("reason") == "Invalid":
            raise CommandError(api_error_text(code, answer))
        message = answer.get("message") if isinstance(answer, dict) else None
        raise CommandError(f"error: failed to create deployment: {message}" if message else api_error_text(code, answer))
    return f"deployment.apps/{name} created{dry_run_suffix(command)}\n"


def int_flag(command: CommandLine, name: str, default: int | None = None) -> int:
    text = command.flag(name)
    if text is None:
        if default is None:
            raise CommandError(f'error: required flag(s) "{name}" not set')
        return default
    try:
        return int(text)
    except ValueError:
        raise CommandError(f'error: invalid argument "{text}" for "--{name}" flag: strconv.ParseInt: parsing '
                           f'"{text}": invalid syntax')


def command_run(session: Session, command: CommandLine) -> str:
    if len(command.words) < 2:
        raise CommandError("error: NAME is required for run")
    name, image = command.words[1], command.flag("image")
    if not image:
        raise CommandError("error: required flag(s) \"image\" not set")
    container: dict = {"name": name, "image": image, "resources": {}}
    if command.flag("port"):
        container["ports"] = [{"containerPort": int_flag(command, "port")}]
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"run": name}},
            "spec": {"containers": [container], "dnsPolicy": "ClusterFirst",
                     "restartPolicy": command.flag("restart") or "Always"}, "status": {}}
    session.must("create", "pods", namespace=namespace_of(command), body=body, params=dry_run_params(command))
    return f"pod/{name} created{dry_run_suffix(command)}\n"


def command_expose(session: Session, command: CommandLine) -> str:
    info, name = require_single(command, "expose needs a resource and a name, e.g. kubectl expose deployment web --port=80")
    namespace = namespace_of(command)
    target = session.must("get", info.key, namespace=namespace, name=name)
    selector = service_selector(info, target)
    port = command.flag("port") or first_container_port(target)
    if port is None:
        raise CommandError(f"error: couldn't find port via --port flag or introspection\n"
                           "See 'kubectl expose -h' for help and examples")
    target_port = command.flag("target-port") or port
    service_port: dict = {"port": int(port), "protocol": command.flag("protocol") or "TCP",
                          "targetPort": int(target_port) if str(target_port).isdigit() else target_port}
    service_name = command.flag("name") or name
    body = {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": service_name, "labels": (target["metadata"].get("labels") or {})},
            "spec": {"ports": [service_port], "selector": selector}, "status": {"loadBalancer": {}}}
    if command.flag("type"):
        body["spec"]["type"] = command.flag("type")
    session.must("create", "services", namespace=namespace, body=body, params=dry_run_params(command))
    return f"service/{service_name} exposed{dry_run_suffix(command)}\n"


def service_selector(info: ResourceInfo, target: dict) -> dict:
    if info.key in ("deployments", "replicasets", "daemonsets"):
        selector = (target.get("spec") or {}).get("selector") or {}
        if selector.get("matchExpressions"):
            raise CommandError("error: couldn't convert expressions - \"%s\" to map-based selector format"
                               % selector_text(selector))
        return dict(selector.get("matchLabels") or {})
    if info.key in ("pods", "services"):
        if info.key == "services":
            return dict((target.get("spec") or {}).get("selector") or {})
        labels = target["metadata"].get("labels") or {}
        if not labels:
            raise CommandError(f"error: the pod has no labels and cannot be exposed\nSee 'kubectl expose -h' for help and examples")
        return dict(labels)
    raise CommandError(f"error: cannot expose a {info.kind}")


def selector_text(selector: dict) -> str:
    return printers.selector_string(selector)


def first_container_port(target: dict) -> int | None:
    spec = target.get("spec") or {}
    pod_spec = (spec.get("template") or {}).get("spec") or spec
    for container in pod_spec.get("containers") or []:
        for port in container.get("ports") or []:
            return port.get("containerPort")
    for port in spec.get("ports") or []:
        return port.get("port")
    return None


# --- scale / set image / rollout -------------------------------------------------------------

def command_scale(session: Session, command: CommandLine) -> str:
    info, name = require_single(command, "resource(s) were provided, but no name was specified")
    replicas = int_flag(command, "replicas")
    if info.key not in ("deployments", "replicasets"):
        raise CommandError(f'error: no scaler has been implemented for {{"{info.group}" "{info.kind}"}}')
    session.must("patch", info.key, namespace=namespace_of(command), name=name, subresource="scale",
                 body={"spec": {"replicas": replicas}}, params={"patchType": "merge"})
    return f"{qualified_name(info, name)} scaled\n"


def command_set(session: Session, command: CommandLine) -> str:
    if len(command.words) < 2 or command.words[1] != "image":
        raise CommandError("error: this terminal knows `kubectl set image deployment/NAME CONTAINER=IMAGE`")
    words = command.words[2:]
    assignments = [word for word in words if "=" in word]
    targets = [word for word in words if "=" not in word]
    pairs = resource_args(targets)
    if len(pairs) != 1 or pairs[0][1] is None or not assignments:
        raise CommandError("error: you must specify a resource and at least one CONTAINER=IMAGE pair\n"
                           "See 'kubectl set image -h' for help and examples")
    info, name = pairs[0]
    namespace = namespace_of(command)
    obj = session.must("get", info.key, namespace=namespace, name=name)
    containers = copy.deepcopy((((obj.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or [])
    for assignment in assignments:
        container_name, _, image = assignment.partition("=")
        matched = [c for c in containers if container_name in ("*", c.get("name"))]
        if not matched:
            raise CommandError(f'error: unable to find container named "{container_name}"')
        for container in matched:
            container["image"] = image
    if containers == (((obj.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers"):
        return f"{qualified_name(info, name)} image updated\n"
    session.must("patch", info.key, namespace=namespace, name=name,
                 body={"spec": {"template": {"spec": {"containers": containers}}}}, params={"patchType": "merge"})
    return f"{qualified_name(info, name)} image updated\n"


def command_rollout(session: Session, command: CommandLine) -> str:
    if len(command.words) < 3:
        raise CommandError("error: usage: kubectl rollout status|history|undo|restart|pause|resume deployment/NAME")
    action = command.words[1]
    pairs = resource_args(command.words[2:])
    if len(pairs) != 1 or pairs[0][1] is None:
        raise CommandError("error: required resource not specified")
    info, name = pairs[0]
    if info.key != "deployments":
        raise CommandError(f"error: rollout {action} in this terminal works on deployments, not {info.plural}")
    namespace = namespace_of(command)
    deployment = session.must("get", "deployments", namespace=namespace, name=name)
    handler = ROLLOUT_ACTIONS.get(action)
    if handler is None:
        raise CommandError(f'error: unknown command "{action}" for "kubectl rollout"')
    return handler(session, command, deployment)


def rollout_status(_session: Session, _command: CommandLine, deployment: dict) -> str:
    """The message kubectl's DeploymentStatusViewer gives for the current state (no waiting)."""
    name = deployment["metadata"]["name"]
    spec, status = deployment.get("spec") or {}, deployment.get("status") or {}
    if deployment["metadata"].get("generation", 0) > status.get("observedGeneration", 0):
        return "Waiting for deployment spec update to be observed...\n"
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Progressing" and condition.get("reason") == "ProgressDeadlineExceeded":
            raise CommandError(f'error: deployment "{name}" exceeded its progress deadline')
    replicas, updated = spec.get("replicas", 1), status.get("updatedReplicas", 0)
    if updated < replicas:
        return (f'Waiting for deployment "{name}" rollout to finish: {updated} out of {replicas} new replicas have '
                "been updated...\n(the page terminal does not wait: run the command again to follow the rollout)\n")
    if status.get("replicas", 0) > updated:
        return (f'Waiting for deployment "{name}" rollout to finish: {status["replicas"] - updated} old replicas '
                "are pending termination...\n(the page terminal does not wait: run the command again)\n")
    if status.get("availableReplicas", 0) < updated:
        return (f'Waiting for deployment "{name}" rollout to finish: {status.get("availableReplicas", 0)} of '
                f"{updated} updated replicas are available...\n(the page terminal does not wait: run the command again)\n")
    return f'deployment "{name}" successfully rolled out\n'


def rollout_history(session: Session, command: CommandLine, deployment: dict) -> str:
    replica_sets = deployment_replica_sets(session, deployment)["all_replica_sets"]
    revisions = sorted((int(revision_of(rs)), rs) for rs in replica_sets if revision_of(rs).isdigit())
    name = deployment["metadata"]["name"]
    wanted = command.flag("revision")
    if wanted:
        for revision, rs in revisions:
            if str(revision) == wanted:
                w_text = f"deployment.apps/{name} with revision #{revision}\n"
                from .describe import PrefixWriter, describe_pod_template
                writer = PrefixWriter()
                describe_pod_template(writer, (rs.get("spec") or {}).get("template") or {})
                return w_text + writer.text()
        raise CommandError(f"error: unable to find the specified revision")
    lines = ["REVISION\tCHANGE-CAUSE"]
    for revision, rs in revisions:
        cause = (rs["metadata"].get("annotations") or {}).get("kubernetes.io/change-cause", "<none>")
        lines.append(f"{revision}\t{cause}")
    return f"deployment.apps/{name} \n" + describe_text("\n".join(lines) + "\n") + "\n"


def revision_of(replica_set: dict) -> str:
    return (replica_set["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision", "")


def rollout_undo(session: Session, command: CommandLine, deployment: dict) -> str:
    name = deployment["metadata"]["name"]
    replica_sets = deployment_replica_sets(session, deployment)["all_replica_sets"]
    revisions = sorted((int(revision_of(rs)), rs) for rs in replica_sets if revision_of(rs).isdigit())
    wanted = int_flag(command, "to-revision", 0)
    if wanted:
        chosen = [rs for revision, rs in revisions if revision == wanted]
        if not chosen:
            raise CommandError(f"error: unable to find specified revision {wanted} in history")
    else:
        if len(revisions) < 2:
            raise CommandError("error: no rollout history found for deployment \"%s\"" % name)
        chosen = [revisions[-2][1]]
    template = without_hash((chosen[0].get("spec") or {}).get("template") or {})
    current = without_hash((deployment.get("spec") or {}).get("template") or {})
    if template == current:
        return f"deployment.apps/{name} skipped rollback (current template already matches revision {revision_of(chosen[0])})\n"
    session.must("patch", "deployments", namespace=deployment["metadata"]["namespace"], name=name,
                 body=[{"op": "replace", "path": "/spec/template", "value": template}],
                 params=dict(dry_run_params(command), patchType="json"))
    return f"deployment.apps/{name} rolled back{dry_run_suffix(command)}\n"


def rollout_restart(session: Session, _command: CommandLine, deployment: dict) -> str:
    name = deployment["metadata"]["name"]
    from cluster_sim.timefmt import format_time
    stamp = format_time(session.now_epoch_ms())
    session.must("patch", "deployments", namespace=deployment["metadata"]["namespace"], name=name, body={
        "spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": stamp}}}}},
        params={"patchType": "merge"})
    return f"deployment.apps/{name} restarted\n"


def rollout_pause(session: Session, _command: CommandLine, deployment: dict, paused: bool = True) -> str:
    name = deployment["metadata"]["name"]
    verb = "paused" if paused else "resumed"
    if bool((deployment.get("spec") or {}).get("paused")) == paused:
        raise CommandError(f"error: deployments.apps \"{name}\" is already {verb}")
    session.must("patch", "deployments", namespace=deployment["metadata"]["namespace"], name=name,
                 body={"spec": {"paused": True if paused else None}}, params={"patchType": "merge"})
    return f"deployment.apps/{name} {verb}\n"


def rollout_resume(session: Session, command: CommandLine, deployment: dict) -> str:
    return rollout_pause(session, command, deployment, paused=False)


ROLLOUT_ACTIONS = {"status": rollout_status, "history": rollout_history, "undo": rollout_undo,
                   "restart": rollout_restart, "pause": rollout_pause, "resume": rollout_resume}


# --- apply / delete ---------------------------------------------------------------------------

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def read_manifests(command: CommandLine) -> list[dict]:
    if command.flag("filename") != "-":
        raise CommandError(f"error: the path \"{command.flag('filename')}\" does not exist\n"
                           "The page terminal has no files: use `-f -` and paste the manifest on the following "
                           "lines, ending with a line `EOF`.")
    if not command.stdin or not command.stdin.strip():
        raise CommandError("error: no objects passed to apply\n(paste the manifest after `kubectl apply -f -` on "
                           "the following lines and end it with a line `EOF`)")
    try:
        documents = [doc for doc in yaml.safe_load_all(command.stdin) if doc is not None]
    except yaml.YAMLError as error:
        raise CommandError(f"error: error parsing STDIN: error converting YAML to JSON: {error}")
    manifests: list[dict] = []
    for document in documents:
        if not isinstance(document, dict):
            raise CommandError("error: error validating data: the manifest is not an object")
        if document.get("kind") == "List" or document.get("kind", "").endswith("List") and "items" in document:
            manifests.extend(document.get("items") or [])
        else:
            manifests.append(document)
    return manifests


def apply_manifests(session: Session, command: CommandLine, *, create_only: bool = False) -> str:
    output, errors = [], []
    for manifest in read_manifests(command):
        try:
            output.append(apply_one(session, command, manifest, create_only=create_only))
        except CommandError as error:
            errors.append(error.text)
    if errors:
        raise PartialFailure("".join(output) + "".join(errors))
    return "".join(output)


def apply_one(session: Session, command: CommandLine, manifest: dict, *, create_only: bool) -> str:
    from cluster_sim.apiserver.kinds import resource_for_kind
    info = resource_for_kind(manifest.get("apiVersion", ""), manifest.get("kind", ""))
    if info is None:
        raise CommandError(f'error: resource mapping not found for name: "{(manifest.get("metadata") or {}).get("name", "")}" '
                           f'namespace: "" from "STDIN": no matches for kind "{manifest.get("kind")}" in version '
                           f'"{manifest.get("apiVersion")}"\nensure CRDs are installed first')
    metadata = manifest.setdefault("metadata", {})
    name = metadata.get("name")
    if not name:
        raise CommandError("error: error when retrieving current configuration: resource name may not be empty")
    namespace = (metadata.get("namespace") or namespace_of(command)) if info.namespaced else None
    label = qualified_name(info, name)
    if create_only:
        session.must("create", info.key, namespace=namespace, body=manifest, params=dry_run_params(command))
        return f"{label} created{dry_run_suffix(command)}\n"
    applied = copy.deepcopy(manifest)
    applied_json = json.dumps(manifest, separators=(",", ":"), sort_keys=True) + "\n"
    applied["metadata"].setdefault("annotations", {})[LAST_APPLIED] = applied_json
    code, current = session.call("get", info.key, namespace=namespace, name=name)
    if code == 404:
        session.must("create", info.key, namespace=namespace, body=applied, params=dry_run_params(command))
        return f"{label} created{dry_run_suffix(command)}\n"
    if code >= 400 or code == 0 or current is None:
        raise CommandError(api_error_text(code, current))
    previous = ((current["metadata"].get("annotations") or {}).get(LAST_APPLIED))
    if previous == applied_json:
        return f"{label} unchanged\n"
    patch = three_way_patch(json.loads(previous) if previous else {}, applied)
    params = dict(dry_run_params(command), patchType="merge")
    session.must("patch", info.key, namespace=namespace, name=name, body=patch, params=params)
    return f"{label} configured{dry_run_suffix(command)}\n"


def three_way_patch(previous: dict, desired: dict) -> dict:
    """A merge patch: everything desired, and nulls for fields the previous apply set but this one dropped."""
    patch: dict = {}
    for key, value in desired.items():
        old = previous.get(key) if isinstance(previous, dict) else None
        if isinstance(value, dict) and isinstance(old, dict):
            patch[key] = three_way_patch(old, value)
        else:
            patch[key] = value
    if isinstance(previous, dict):
        for key in previous:
            if key not in desired:
                patch[key] = None
    return patch


def command_apply(session: Session, command: CommandLine) -> str:
    if not command.flag("filename"):
        raise CommandError("error: must specify one of -f and -k\n(in the page terminal: kubectl apply -f -, then "
                           "paste the manifest on the following lines and end it with a line `EOF`)")
    return apply_manifests(session, command)


def command_delete(session: Session, command: CommandLine) -> str:
    if command.flag("filename"):
        targets = []
        for manifest in read_manifests(command):
            from cluster_sim.apiserver.kinds import resource_for_kind
            info = resource_for_kind(manifest.get("apiVersion", ""), manifest.get("kind", ""))
            if info is None:
                raise CommandError(f'error: no matches for kind "{manifest.get("kind")}"')
            targets.append([info, (manifest.get("metadata") or {}).get("name"), (manifest.get("metadata") or {}).get("namespace")])
    else:
        targets = delete_targets(session, command)
    params = dry_run_params(command)
    if command.flag("grace-period") is not None:
        params["gracePeriodSeconds"] = int_flag(command, "grace-period")
    if command.switch("force") and "gracePeriodSeconds" not in params:
        params["gracePeriodSeconds"] = 0
    output, errors = [], []
    for info, name, namespace in targets:
        namespace = namespace or (namespace_of(command) if info.namespaced else None)
        code, answer = session.call("delete", info.key, namespace=namespace if info.namespaced else None, name=name,
                                    params=params)
        if code >= 400 or code == 0:
            errors.append(api_error_text(code, answer))
        else:
            output.append(f'{render.kind_prefix(info)} "{name}" deleted{dry_run_suffix(command)}\n')
    if not targets:
        return "No resources found\n"
    if errors:
        raise PartialFailure("".join(output) + "".join(errors))
    return "".join(output)


def delete_targets(session: Session, command: CommandLine) -> list[list]:
    pairs = resource_args(command.words[1:])
    if not pairs:
        raise CommandError("error: You must provide one or more resources by argument or filename.\n"
                           "Example resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n"
                           "   '<resource> <name>'\n   '<resource>'")
    targets = []
    for info, name in pairs:
        if name is not None:
            targets.append([info, name, None])
            continue
        if not command.flag("selector") and not command.switch("all"):
            raise CommandError("error: resource(s) were provided, but no name was specified")
        params = {"labelSelector": command.flag("selector")} if command.flag("selector") else {}
        listed = session.must("list", info.key, namespace=request_namespace(info, command), params=params)
        targets.extend([info, item["metadata"]["name"], item["metadata"].get("namespace")] for item in listed["items"])
    return targets


# --- label / annotate -------------------------------------------------------------------------

def command_label(session: Session, command: CommandLine) -> str:
    return update_metadata_map(session, command, "labels", "labeled")


def command_annotate(session: Session, command: CommandLine) -> str:
    return update_metadata_map(session, command, "annotations", "annotated")


def update_metadata_map(session: Session, command: CommandLine, field: str, past: str) -> str:
    words = command.words[1:]
    changes = [word for word in words if "=" in word or word.endswith("-")]
    targets = [word for word in words if word not in changes]
    if not changes:
        raise CommandError(f"error: at least one {field[:-1]} update is required")
    pairs = resource_args(targets)
    if not pairs:
        raise CommandError("error: one or more resources must be specified as <resource> <name> or <resource>/<name>")
    output = []
    for info, name in pairs:
        names = [name] if name else [item["metadata"]["name"] for item in session.must(
            "list", info.key, namespace=request_namespace(info, command),
            params={"labelSelector": command.flag("selector")} if command.flag("selector") else {})["items"]]
        for each in names:
            output.append(update_one(session, command, info, each, field, past, changes))
    return "".join(output)


def update_one(session: Session, command: CommandLine, info: ResourceInfo, name: str, field: str, past: str,
               changes: list[str]) -> str:
    namespace = namespace_of(command) if info.namespaced else None
    obj = session.must("get", info.key, namespace=namespace, name=name)
    current = dict((obj["metadata"].get(field) or {}))
    patch: dict = {}
    for change in changes:
        if change.endswith("-") and "=" not in change:
            if change[:-1] in current:
                patch[change[:-1]] = None
            continue
        key, _, value = change.partition("=")
        if key in current and current[key] != value and not command.switch("overwrite"):
            raise CommandError(f"error: '{key}' already has a value ({current[key]}), and --overwrite is false")
        if current.get(key) != value:
            patch[key] = value
    label = qualified_name(info, name)
    if not patch:
        return f"{label} not {past}\n"
    session.must("patch", info.key, namespace=namespace, name=name, body={"metadata": {field: patch}},
                 params={"patchType": "merge"})
    if all(value is None for value in patch.values()):
        return f"{label} un{past}\n"
    return f"{label} {past}\n"


# --- nodes ------------------------------------------------------------------------------------

def node_names(command: CommandLine) -> list[str]:
    names = [word.partition("/")[2] if word.startswith(("node/", "nodes/", "no/")) else word for word in command.words[1:]]
    if not names:
        raise CommandError("error: USAGE: %s NODE [flags]\nSee 'kubectl %s -h' for help and examples"
                           % (command.words[0], command.words[0]))
    return names


def command_cordon(session: Session, command: CommandLine, unschedulable: bool = True) -> str:
    output = []
    for name in node_names(command):
        node = session.must("get", "nodes", name=name)
        verb = "cordoned" if unschedulable else "uncordoned"
        if bool((node.get("spec") or {}).get("unschedulable")) == unschedulable:
            output.append(f"node/{name} already {verb}\n")
            continue
        session.must("patch", "nodes", name=name, body={"spec": {"unschedulable": True if unschedulable else None}},
                     params={"patchType": "merge"})
        output.append(f"node/{name} {verb}\n")
    return "".join(output)


def command_uncordon(session: Session, command: CommandLine) -> str:
    return command_cordon(session, command, unschedulable=False)


def command_drain(session: Session, command: CommandLine) -> str:
    output = [command_cordon(session, command)]
    for name in node_names(command):
        output.append(drain_node(session, command, name))
    return "".join(output)


def drain_node(session: Session, command: CommandLine, name: str) -> str:
    pods = session.must("list", "pods", params={"fieldSelector": f"spec.nodeName={name}"})["items"]
    daemon_pods, unmanaged, evict = [], [], []
    for pod in pods:
        metadata = pod["metadata"]
        if (metadata.get("annotations") or {}).get("kubernetes.io/config.mirror"):
            continue
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            evict.append(pod)
            continue
        owners = [owner for owner in metadata.get("ownerReferences") or [] if owner.get("controller")]
        if any(owner.get("kind") == "DaemonSet" for owner in owners):
            daemon_pods.append(f"{metadata['namespace']}/{metadata['name']}")
        elif not owners and not command.switch("force"):
            unmanaged.append(f"{metadata['namespace']}/{metadata['name']}")
        else:
            evict.append(pod)
    problems = []
    if daemon_pods and not command.switch("ignore-daemonsets"):
        problems.append("cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): " + ", ".join(daemon_pods))
    if unmanaged:
        problems.append("cannot delete Pods that declare no controller (use --force to override): " + ", ".join(unmanaged))
    if problems:
        detail = "; ".join(problems)
        raise PartialFailure(f"node/{name} cordoned\nerror: unable to drain node \"{name}\" due to error: {detail}, "
                             f"continuing command...\nThere are pending nodes to be drained:\n {name}\n{detail}\n")
    lines = []
    if daemon_pods:
        lines.append("Warning: ignoring DaemonSet-managed Pods: " + ", ".join(daemon_pods) + "\n")
    for pod in evict:
        lines.append(f"evicting pod {pod['metadata']['namespace']}/{pod['metadata']['name']}\n")
    for pod in evict:
        metadata = pod["metadata"]
        eviction = {"apiVersion": "policy/v1", "kind": "Eviction",
                    "metadata": {"name": metadata["name"], "namespace": metadata["namespace"]}}
        code, answer = session.call("create", "pods", namespace=metadata["namespace"], name=metadata["name"],
                                    subresource="eviction", body=eviction)
        if code >= 400 or code == 0:
            lines.append(f"error when evicting pods/\"{metadata['name']}\" -n \"{metadata['namespace']}\": "
                         + api_error_text(code, answer).removeprefix("Error from server"))
        else:
            lines.append(f"pod/{metadata['name']} evicted\n")
    lines.append(f"node/{name} drained\n")
    return "".join(lines)


# --- logs -------------------------------------------------------------------------------------

def command_logs(session: Session, command: CommandLine) -> str:
    words = command.words[1:]
    if not words:
        raise CommandError("error: expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\n"
                           "POD or TYPE/NAME is a required argument for the logs command\n"
                           "See 'kubectl logs -h' for help and examples")
    target = words[0]
    namespace = namespace_of(command)
    notice = ""
    if "/" in target:
        info, name = resource_args([target])[0]
        pod_name, notice = pod_for_logs(session, info, name, namespace)
    else:
        pod_name = target
    pod = session.must("get", "pods", namespace=namespace, name=pod_name)
    containers = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []]
    container = command.flag("container") or (words[1] if len(words) > 1 else None)
    if container is None and len(containers) > 1:
        container = containers[0]
    if container is not None and container not in containers:
        raise CommandError(f'error: container {container} is not valid for pod {pod_name}')
    params = {"container": container} if container else {}
    if command.flag("tail"):
        params["tailLines"] = command.flag("tail")
    code, answer = session.call("get", "pods", namespace=namespace, name=pod_name, subresource="log", params=params)
    if code >= 400 or code == 0:
        raise CommandError(api_error_text(code, answer))
    # Simulated containers write no output: the log is whatever text the API gives, usually none.
    return notice + (answer if isinstance(answer, str) else "")


def pod_for_logs(session: Session, info: ResourceInfo, name: str, namespace: str) -> tuple[str, str]:
    """The pod whose log kubectl shows for TYPE/NAME, and the notice it prints when it had to choose."""
    if info.key == "pods":
        return name, ""
    obj = session.must("get", info.key, namespace=namespace, name=name)
    selector = printers.selector_string((obj.get("spec") or {}).get("selector") or {})
    pods = session.must("list", "pods", namespace=namespace, params={"labelSelector": selector})["items"]
    if not pods:
        raise CommandError(f"error: timed out waiting for the condition")
    chosen = sorted(pods, key=lambda pod: pod["metadata"]["name"])[0]["metadata"]["name"]
    notice = f"Found {len(pods)} pods, using pod/{chosen}\n" if len(pods) > 1 else ""
    return chosen, notice


# --- discovery and information ----------------------------------------------------------------

def command_api_resources(_session: Session, command: CommandLine) -> str:
    infos = sorted(RESOURCES.values(), key=lambda info: (info.group != "", info.group, info.plural))
    if command.flag("api-group") is not None:
        infos = [info for info in infos if info.group == command.flag("api-group")]
    if command.flag("namespaced") is not None:
        wanted = command.switch("namespaced")
        infos = [info for info in infos if info.namespaced == wanted]
    output = command.flag("output", "")
    if output == "name":
        return "".join(f"{info.plural}{'.' + info.group if info.group else ''}\n" for info in infos)
    wide = output == "wide"
    header = "NAME\tSHORTNAMES\tAPIVERSION\tNAMESPACED\tKIND" + ("\tVERBS\tCATEGORIES" if wide else "")
    lines = [header]
    for info in infos:
        line = (f"{info.plural}\t{','.join(info.short_names)}\t{info.api_version}\t"
                f"{'true' if info.namespaced else 'false'}\t{info.kind}")
        if wide:
            line += f"\t{','.join(info.verbs)}\t{','.join(info.categories)}"
        lines.append(line)
    return kubectl_table("\n".join(lines) + "\n")


def command_version(_session: Session, command: CommandLine) -> str:
    if command.flag("output") == "json":
        return render.to_json({"clientVersion": {"major": "1", "minor": "33", "gitVersion": CLIENT_VERSION},
                               "kustomizeVersion": "v5.6.0",
                               "serverVersion": {"major": "1", "minor": "33", "gitVersion": SERVER_VERSION}})
    return f"Client Version: {CLIENT_VERSION}\nKustomize Version: v5.6.0\nServer Version: {SERVER_VERSION}\n"


def control_plane_url(session: Session) -> str:
    for node in session.must("list", "nodes")["items"]:
        if "control-plane" in printers.node_roles(node):
            return f"https://{printers.node_address(node, 'InternalIP')}:6443"
    return "https://127.0.0.1:6443"


def command_cluster_info(session: Session, command: CommandLine) -> str:
    if len(command.words) > 1 and command.words[1] == "dump":
        raise CommandError("error: kubectl cluster-info dump is not available in the page terminal.\n"
                           "Try: kubectl get all -A, kubectl get events -A")
    server = session.server_url or control_plane_url(session)
    text = f"Kubernetes control plane is running at {server}\n"
    services = session.must("list", "services", namespace="kube-system",
                            params={"labelSelector": "kubernetes.io/cluster-service=true"})["items"]
    for service in services:
        name = (service["metadata"].get("labels") or {}).get("kubernetes.io/name") or service["metadata"]["name"]
        ports = (service.get("spec") or {}).get("ports") or []
        link = service["metadata"]["name"] + (f":{ports[0].get('name') or ports[0].get('port')}" if ports else "")
        text += f"{name} is running at {server}/api/v1/namespaces/kube-system/services/{link}/proxy\n"
    return text + "\nTo further debug and diagnose cluster problems, use 'kubectl cluster-info dump'.\n"


EXPLAIN_DESCRIPTIONS = {
    "Pod": "Pod is a collection of containers that can run on a host. This resource is created by clients and "
           "scheduled onto hosts.",
    "Node": "Node is a worker node in Kubernetes. Each node will have a unique identifier in the cache (i.e. in etcd).",
    "Deployment": "Deployment enables declarative updates for Pods and ReplicaSets.",
    "ReplicaSet": "ReplicaSet ensures that a specified number of pod replicas are running at any given time.",
    "DaemonSet": "DaemonSet represents the configuration of a daemon set.",
    "Service": "Service is a named abstraction of software service (for example, mysql) consisting of local port "
               "(for example 3306) that the proxy listens on, and the selector that determines which pods will "
               "answer requests sent through the proxy.",
    "Namespace": "Namespace provides a scope for Names. Use of multiple namespaces is optional.",
}


def command_explain(_session: Session, command: CommandLine) -> str:
    if len(command.words) < 2:
        raise CommandError("error: You must specify the type of resource to explain. Use \"kubectl api-resources\" "
                           "for a complete list of supported resources.")
    type_name, _, field_path = command.words[1].partition(".")
    info = resolve(type_name)
    description = EXPLAIN_DESCRIPTIONS.get(info.kind, f"{info.kind} is served by {info.api_version}.")
    text = f"GROUP:      {info.group}\n" if info.group else ""
    text += f"KIND:       {info.kind}\nVERSION:    {info.version}\n\n"
    if field_path:
        text += f"FIELD: {field_path}\n\n(the page terminal explains resources only; run kubectl explain with your own " \
                "kubectl for field documentation)\n"
        return text
    text += f"DESCRIPTION:\n    {description}\n    \nFIELDS:\n"
    for name, kind, doc in (("apiVersion", "string", "APIVersion defines the versioned schema of this representation of an object."),
                            ("kind", "string", "Kind is a string value representing the REST resource this object represents."),
                            ("metadata", "ObjectMeta", "Standard object's metadata."),
                            ("spec", f"{info.kind}Spec", f"Specification of the desired behavior of the {info.kind}."),
                            ("status", f"{info.kind}Status", f"Most recently observed status of the {info.kind}.")):
        text += f"  {name}\t<{kind}>\n    {doc}\n\n"
    return text


COMMANDS = {
    "get": command_get, "describe": command_describe, "create": command_create, "run": command_run,
    "expose": command_expose, "scale": command_scale, "set": command_set, "rollout": command_rollout,
    "apply": command_apply, "delete": command_delete, "label": command_label, "annotate": command_annotate,
    "cordon": command_cordon, "uncordon": command_uncordon, "drain": command_drain, "logs": command_logs,
    "api-resources": command_api_resources, "version": command_version, "cluster-info": command_cluster_info,
    "explain": command_explain,
}
