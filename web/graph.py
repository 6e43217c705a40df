"""The one Graphviz module: lays a cluster's machines and components out once per topology.

`dot` runs once per topology (cached): pods never enter the graph. Each machine gets a fixed
"slot" box that the page fills with pod chips and status lines as an HTML overlay, positioned in
percent of the SVG's viewBox, so nothing in the picture moves while pods come and go.

Ids in the SVG: `node-<machine>` (a machine's box), `comp-<component>` (a process, named as in
cluster_sim: `comp-etcd-cp-1`, `comp-kube-apiserver-cp-2`, `comp-kubectl`), `slots-<machine>`.
State classes (ready, notready, down, running, stopped, leader, ...) are added per render by
`svg_with_classes`; the skeleton itself is never re-laid out.
"""
from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field

import graphviz

FONT = "Noto Sans, DejaVu Sans, sans-serif"
WORKERS_PER_ROW = 5
CONTROL_PLANE_COMPONENTS = ["kube-apiserver", "etcd", "kube-scheduler", "kube-controller-manager",
                            "cloud-controller-manager"]
NODE_AGENTS = ["kubelet", "kube-proxy", "containerd"]
# Two-line labels keep a control-plane machine narrow enough for five workers per row.
LABELS = {
    "kube-controller-manager": "kube-controller-\nmanager",
    "cloud-controller-manager": "cloud-controller-\nmanager",
}
# Machine titles: dot reserves their space; the page draws them translated (HTML overlay).
TITLE_FONT_PT = 15
SLOT_WIDTH_IN = 2.75
WORKER_SLOT_HEIGHT_IN = 1.2
CONTROL_PLANE_SLOT_HEIGHT_IN = 0.55
ETCD_SLOT_HEIGHT_IN = 0.35


@dataclass
class Box:
    """A rectangle in percent of the picture (left, top, width, height), for HTML overlays."""

    left: float
    top: float
    width: float
    height: float

    def style(self) -> str:
        return (f"left:{self.left:.3f}%;top:{self.top:.3f}%;"
                f"width:{self.width:.3f}%;height:{self.height:.3f}%")


@dataclass
class Skeleton:
    """The laid-out picture of one topology."""

    svg: str
    width_pt: float
    height_pt: float
    slots: dict[str, Box] = field(default_factory=dict)        # machine -> pod/status area
    machines: dict[str, Box] = field(default_factory=dict)     # machine -> its box
    components: dict[str, Box] = field(default_factory=dict)   # component -> its box
    base_classes: dict[str, str] = field(default_factory=dict)  # element id -> classes from dot


def topology_of(layout: dict) -> dict:
    """The parts of a cluster layout that decide the picture (nothing that changes at run time)."""
    return {"control_plane": list(layout["control_plane"]), "workers": list(layout["workers"]),
            "etcd_members": list(layout["etcd_members"]), "etcd_mode": layout["etcd_mode"]}


def skeleton_for(layout: dict) -> Skeleton:
    return _skeleton(json.dumps(topology_of(layout), sort_keys=True))


@functools.lru_cache(maxsize=64)
def _skeleton(topology_key: str) -> Skeleton:
    topology = json.loads(topology_key)
    svg_bytes = build_graph(topology).pipe(format="svg")
    svg = svg_bytes.decode("utf-8")
    svg = svg[svg.index("<svg"):]  # no XML prolog or DOCTYPE inside HTML
    svg = svg.replace("&#45;", "-")  # dot 2.43 escapes every hyphen; ids must match plain names
    svg = re.sub(r"<!--.*?-->\n?", "", svg, flags=re.S)
    svg = svg.replace(f' font-family="{FONT}"', "")  # the page's CSS sets the font once
    return parse_skeleton(svg)


# --- building the graph -----------------------------------------------------------------------

def component_label(kind: str) -> str:
    return LABELS.get(kind, kind)


def add_component(graph: graphviz.Digraph, name: str, kind: str, machine: str) -> None:
    graph.node(name, label=component_label(kind), id=f"comp-{name}", **{"class": f"comp {kind}"})


def add_slot(graph: graphviz.Digraph, machine: str, height_in: float) -> None:
    graph.node(f"slots-{machine}", label="", id=f"slots-{machine}", shape="box", style="rounded,dashed",
               width=str(SLOT_WIDTH_IN), height=str(height_in), fixedsize="true", **{"class": "slots"})


def machine_cluster(graph: graphviz.Digraph, machine: str, role: str, title: str) -> graphviz.Digraph:
    cluster = graphviz.Digraph(name=f"cluster_{machine}")
    cluster.attr(label=title, id=f"node-{machine}", labeljust="l", style="rounded,filled",
                 margin="8", **{"class": f"machine {role}"})
    return cluster


def build_graph(topology: dict) -> graphviz.Digraph:
    graph = graphviz.Digraph(name="cluster", engine="dot")
    graph.attr(rankdir="TB", newrank="true", nodesep="0.14", ranksep="0.32", bgcolor="transparent",
               fontname=FONT, fontsize=str(TITLE_FONT_PT), pad="0.3,0.25", compound="true")
    graph.attr("node", shape="box", style="rounded,filled", fontname=FONT, fontsize="12.5",
               height="0.34", margin="0.07,0.03", penwidth="1.5")
    graph.attr("edge", penwidth="1", arrowsize="0.6", **{"class": "link"})
    stacked = topology["etcd_mode"] == "stacked"
    control_plane = topology["control_plane"]
    apiservers = [f"kube-apiserver-{node}" for node in control_plane]

    workstation = machine_cluster(graph, "workstation", "workstation", "workstation")
    add_component(workstation, "kubectl", "kubectl", "workstation")
    graph.subgraph(workstation)

    for node in control_plane:
        graph.subgraph(control_plane_cluster(graph, node, stacked))
    if not stacked:
        for member in topology["etcd_members"]:
            cluster = machine_cluster(graph, member, "etcd-machine", member)
            add_component(cluster, member, "etcd", member)
            graph.subgraph(cluster)
    for index, worker in enumerate(topology["workers"]):
        cluster = machine_cluster(graph, worker, "worker", worker)
        with cluster.subgraph() as row:
            row.attr(rank="same")
            for kind in NODE_AGENTS:
                add_component(row, f"{kind}-{worker}", kind, worker)
        add_slot(cluster, worker, WORKER_SLOT_HEIGHT_IN)
        cluster.edge(f"kube-proxy-{worker}", f"slots-{worker}", style="invis")
        graph.subgraph(cluster)
        if index >= WORKERS_PER_ROW:
            # Wrap: hang this worker below the one WORKERS_PER_ROW before it.
            graph.edge(f"slots-{topology['workers'][index - WORKERS_PER_ROW]}", f"kubelet-{worker}",
                       style="invis", weight="10")
    add_rank_rows(graph, topology, stacked)
    add_links(graph, topology, apiservers, stacked)
    return graph


def control_plane_cluster(graph: graphviz.Digraph, node: str, stacked: bool) -> graphviz.Digraph:
    cluster = machine_cluster(graph, node, "control-plane", f"{node} · control plane")
    for kind in CONTROL_PLANE_COMPONENTS:
        if kind == "etcd" and not stacked:
            continue
        add_component(cluster, f"{kind}-{node}", kind, node)
    for kind in NODE_AGENTS:
        add_component(cluster, f"{kind}-{node}", kind, node)
    add_slot(cluster, node, CONTROL_PLANE_SLOT_HEIGHT_IN)
    cluster.edge(f"kube-proxy-{node}", f"slots-{node}", style="invis")
    return cluster


def add_rank_rows(graph: graphviz.Digraph, topology: dict, stacked: bool) -> None:
    """Rows shared by all machines (apiservers; the other control-plane processes; node agents),
    ordered left to right inside each machine by invisible same-rank edges."""
    control_plane = topology["control_plane"]
    rows = [
        ["kubectl"] + [name for node in control_plane
                       for name in [f"kube-apiserver-{node}"] + ([f"etcd-{node}"] if stacked else [])
                       + [f"kube-scheduler-{node}"]],
        [f"{kind}-{node}" for node in control_plane
         for kind in ("kube-controller-manager", "cloud-controller-manager")]
        + ([] if stacked else list(topology["etcd_members"])),
        [f"{kind}-{node}" for node in control_plane for kind in NODE_AGENTS],
    ]
    for row in rows:
        same_rank(graph, row)
    same_rank(graph, [f"kubelet-{worker}" for worker in topology["workers"][:WORKERS_PER_ROW]])
    for machine in control_plane + topology["workers"]:
        chain(graph, [f"{kind}-{machine}" for kind in NODE_AGENTS])
    for node in control_plane:
        chain(graph, [f"{kind}-{node}" for kind in ("kube-controller-manager", "cloud-controller-manager")])
        first = f"etcd-{node}" if stacked else f"kube-apiserver-{node}"
        chain(graph, [first, f"kube-scheduler-{node}"])
        graph.edge(f"kube-apiserver-{node}", f"kube-controller-manager-{node}", style="invis")
        graph.edge(f"kube-controller-manager-{node}", f"kubelet-{node}", style="invis")
    for worker in topology["workers"][:WORKERS_PER_ROW]:
        for node in control_plane:
            # Only ranks the workers below the control plane; weight 0 lets them spread freely.
            graph.edge(f"slots-{node}", f"kubelet-{worker}", style="invis", weight="0")


def same_rank(graph: graphviz.Digraph, names: list[str]) -> None:
    if not names:
        return
    with graph.subgraph() as same:
        same.attr(rank="same")
        for name in names:
            same.node(name)


def chain(graph: graphviz.Digraph, names: list[str]) -> None:
    for left, right in zip(names, names[1:]):
        graph.edge(left, right, style="invis")


def add_links(graph: graphviz.Digraph, topology: dict, apiservers: list[str], stacked: bool) -> None:
    """Only the links a write follows to the store; the animation draws the others when used."""
    for apiserver in apiservers:
        graph.edge("kubectl", apiserver, constraint="false", id=f"link-kubectl-{apiserver}")
    for node in topology["control_plane"]:
        members = [f"etcd-{node}"] if stacked else topology["etcd_members"][:1]
        for member in members:
            graph.edge(f"kube-apiserver-{node}", member, id=f"link-kube-apiserver-{node}-{member}",
                       **({} if stacked else {"constraint": "false", "style": "dashed"}))


# --- reading the laid-out SVG -----------------------------------------------------------------

GROUP_PATTERN = re.compile(r'<g id="([^"]+)" class="([^"]*)">\s*<title>[^<]*</title>\s*'
                           r'(?:<g[^>]*>\s*<a[^>]*>\s*)?<(?:polygon|path)[^>]*?(?:points="([^"]+)"|d="([^"]+)")')
VIEW_BOX_PATTERN = re.compile(r'viewBox="([-\d.]+) ([-\d.]+) ([-\d.]+) ([-\d.]+)"')
TRANSLATE_PATTERN = re.compile(r'<g id="graph0" class="graph" transform="[^"]*translate\(([-\d.]+) ([-\d.]+)\)"')
NUMBER_PATTERN = re.compile(r"-?\d+(?:\.\d+)?")


def parse_skeleton(svg: str) -> Skeleton:
    _x, _y, width, height = (float(value) for value in VIEW_BOX_PATTERN.search(svg).groups())
    translate_x, translate_y = (float(value) for value in TRANSLATE_PATTERN.search(svg).groups())
    skeleton = Skeleton(svg=responsive(svg), width_pt=width, height_pt=height)
    for match in GROUP_PATTERN.finditer(svg):
        element_id, classes, points, path = match.groups()
        numbers = [float(number) for number in NUMBER_PATTERN.findall(points or path)]
        xs = [value + translate_x for value in numbers[0::2]]
        ys = [value + translate_y for value in numbers[1::2]]
        box = Box(left=min(xs) / width * 100, top=min(ys) / height * 100,
                  width=(max(xs) - min(xs)) / width * 100, height=(max(ys) - min(ys)) / height * 100)
        skeleton.base_classes[element_id] = classes
        if element_id.startswith("slots-"):
            skeleton.slots[element_id[len("slots-"):]] = box
        elif element_id.startswith("node-"):
            skeleton.machines[element_id[len("node-"):]] = box
        elif element_id.startswith("comp-"):
            skeleton.components[element_id[len("comp-"):]] = box
    return skeleton


def responsive(svg: str) -> str:
    """Scale with its container (the overlay uses the same percentages) and hide from readers:
    the overlay's text says the same in words."""
    svg = re.sub(r'<svg width="[^"]*" height="[^"]*"', '<svg class="cluster-svg" width="100%" '
                 'preserveAspectRatio="xMinYMin meet" aria-hidden="true" focusable="false"', svg, count=1)
    # Titles become tooltips; the overlay already names everything.
    return re.sub(r"<title>[^<]*</title>", "", svg)


ID_CLASS_PATTERN = re.compile(r'<g id="((?:node|comp)-[^"]+)" class="([^"]*)"')


def svg_with_classes(skeleton: Skeleton, classes: dict[str, str]) -> str:
    """The skeleton with each element's state classes added (`{"comp-etcd-cp-1": "running leader"}`)."""
    def replace(match: re.Match) -> str:
        extra = classes.get(match.group(1))
        if not extra:
            return match.group(0)
        return f'<g id="{match.group(1)}" class="{match.group(2)} {extra}"'
    return ID_CLASS_PATTERN.sub(replace, skeleton.svg)


def full_classes(skeleton: Skeleton, classes: dict[str, str]) -> dict[str, str]:
    """Base plus state classes per element id, for the browser to set after an update."""
    return {element_id: f"{skeleton.base_classes.get(element_id, '')} {extra}".strip()
            for element_id, extra in classes.items() if element_id in skeleton.base_classes}
