"""One scheduling cycle (kube-scheduler's schedulePod + PostFilter), as a pure function.

`schedule_pod` runs PreFilter, Filter over the nodes starting at a rotating index until enough
feasible nodes are found (adaptive percentageOfNodesToScore), PreScore, Score, NormalizeScore,
weights, and picks the best node with uniform random tie-breaking.  When nothing fits it builds
kube-scheduler's FitError message and runs PostFilter (preemption).  `simulator_annotations` turns
the result into kube-scheduler-simulator's pod annotations.
"""
from __future__ import annotations

import json

from .framework import (MAX_NODE_SCORE, SKIP, SUCCESS, UNSCHEDULABLE_AND_UNRESOLVABLE, CycleState, FitError,
                        Status, unresolvable)

MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5
NO_NODES_AVAILABLE = "no nodes available to schedule pods"
ANNOTATION_PREFIX = "kube-scheduler-simulator.sigs.k8s.io/"


class SchedulingError(Exception):
    """A plugin answered Error (a bug or an impossible state), not "unschedulable"."""


def num_feasible_nodes_to_find(num_all_nodes: int, percentage_of_nodes_to_score: int | None = None) -> int:
    """How many feasible nodes end the search: all below 100 nodes, else an adaptive percentage
    (50% minus 1% per 125 nodes, at least 5%) but never fewer than 100."""
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND:
        return num_all_nodes
    percentage = percentage_of_nodes_to_score or 0
    if percentage == 0:
        percentage = max(50 - num_all_nodes // 125, MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND)
    return max(num_all_nodes * percentage // 100, MIN_FEASIBLE_NODES_TO_FIND)


class ScheduleResult:
    """Everything one cycle decided and why (plain data apart from Status/FitError objects)."""

    def __init__(self, pod: dict, next_start_node_index: int):
        self.pod = pod
        self.selected_node: str | None = None
        self.next_start_node_index = next_start_node_index
        self.error = ""                          # NO_NODES_AVAILABLE or a plugin error
        self.fit_error: FitError | None = None
        self.pre_filter_statuses: dict = {}      # plugin -> "success" / "" (skipped) / message
        self.pre_filter_node_names: dict = {}    # plugin -> node names it restricted the cycle to
        self.filter_plugins: list = []           # filter plugins that ran (not skipped), in order
        self.node_statuses: dict = {}            # node -> None (passed) or failing Status, in evaluation order
        self.feasible_nodes: list = []
        self.feasible_node_infos: list = []      # the same nodes' NodeInfo objects (not for storing)
        self.pre_score_statuses: dict = {}
        self.score_plugins: list = []            # score plugins that ran
        self.raw_scores: dict = {}               # plugin -> [score per feasible node]
        self.final_scores: dict = {}             # plugin -> [normalised x weight per feasible node]
        self.total_scores: list = []
        self.post_filter_status: Status | None = None
        self.nominated_node_name = ""            # set by preemption
        self.victims: list = []                  # pods the component must evict

    @property
    def evaluated_nodes(self) -> int:
        return len(self.node_statuses)

    @property
    def message(self) -> str:
        if self.fit_error is not None:
            return self.fit_error.message
        return self.error

    def scores_by_node(self) -> dict:
        """node -> total weighted score, for the nodes that were scored."""
        return dict(zip(self.feasible_nodes, self.total_scores))


def schedule_pod(pod: dict, snapshot, profile, rng, next_start_node_index: int = 0,
                 run_post_filter: bool = True) -> ScheduleResult:
    result = ScheduleResult(pod, next_start_node_index)
    if snapshot.num_nodes() == 0:
        result.error = NO_NODES_AVAILABLE
        return result
    state = CycleState(snapshot)
    node_infos, absent_status = _run_pre_filter(state, pod, profile, result)
    if node_infos is not None:
        nominated = pod.get("status", {}).get("nominatedNodeName")
        if nominated and _evaluate_nominated_node(state, pod, profile, result, nominated):
            result.selected_node = nominated
            return result
        _find_feasible_nodes(state, pod, profile, result, node_infos)
    if not result.feasible_nodes:
        failed = {name: status for name, status in result.node_statuses.items() if status is not None}
        pre_filter_message = absent_status.message if node_infos is None else ""
        result.fit_error = FitError(snapshot.num_nodes(), failed, absent_status, pre_filter_message)
        if run_post_filter:
            _run_post_filter(state, pod, profile, rng, result, failed, absent_status)
        return result
    if len(result.feasible_nodes) == 1:
        result.selected_node = result.feasible_nodes[0]
        return result
    _prioritize(state, pod, profile, result)
    result.selected_node = _select_host(result.feasible_nodes, result.total_scores, rng)
    return result


def _run_pre_filter(state, pod, profile, result):
    """Returns [nodes to filter, status for nodes not filtered]; nodes is None when PreFilter
    rejected the pod outright."""
    allowed_names = None
    narrowing_plugins = []
    rejection = None
    for plugin in profile.pre_filter_plugins:
        node_names, status = plugin.pre_filter(state, pod)
        code = SUCCESS if status is None else status.code
        if code == SKIP:
            state.skip_filter_plugins[plugin.name] = True
            result.pre_filter_statuses[plugin.name] = ""
            continue
        result.pre_filter_statuses[plugin.name] = "success" if code == SUCCESS else status.message
        if code != SUCCESS:
            if not status.is_rejected():
                raise SchedulingError(f"running PreFilter plugin {plugin.name!r}: {status.message}")
            rejection = status.with_plugin(plugin.name)
            if code == UNSCHEDULABLE_AND_UNRESOLVABLE:
                break
            continue
        if node_names is not None:
            result.pre_filter_node_names[plugin.name] = list(node_names)
            narrowing_plugins.append(plugin.name)
            allowed_names = list(node_names) if allowed_names is None else [n for n in allowed_names if n in node_names]
            if not allowed_names:
                if len(narrowing_plugins) == 1:
                    message = f"node(s) didn't satisfy plugin {narrowing_plugins[0]}"
                else:
                    message = f"node(s) didn't satisfy plugin(s) [{' '.join(narrowing_plugins)}] simultaneously"
                rejection = unresolvable(message)
                break
    result.filter_plugins = [p.name for p in profile.filter_plugins if p.name not in state.skip_filter_plugins]
    if rejection is not None:
        return None, rejection
    if allowed_names is None:
        return state.snapshot.node_infos, None
    wanted = set(allowed_names)
    node_infos = [info for info in state.snapshot.node_infos if info.name in wanted]
    absent = unresolvable(f"node(s) didn't satisfy plugin(s) [{' '.join(sorted(narrowing_plugins))}]")
    return node_infos, absent


def _evaluate_nominated_node(state, pod, profile, result, node_name) -> bool:
    node_info = state.snapshot.get(node_name)
    if node_info is None:
        return False
    status = profile.run_filter_plugins_with_nominated_pods(state, pod, node_info)
    _check_filter_error(status)
    result.node_statuses[node_name] = status
    if status is None:
        result.feasible_nodes = [node_name]
        return True
    return False


def _check_filter_error(status) -> None:
    if status is not None and not status.is_rejected():
        raise SchedulingError(f"running Filter plugin {status.plugin!r}: {status.message}")


def _find_feasible_nodes(state, pod, profile, result, node_infos) -> None:
    count = len(node_infos)
    wanted = num_feasible_nodes_to_find(count, profile.percentage_of_nodes_to_score)
    start = result.next_start_node_index
    statuses = result.node_statuses
    feasible = []
    if state.snapshot.nominated_pods:
        run_filters = profile.run_filter_plugins_with_nominated_pods
    else:
        run_filters = _filter_runner(state, pod, profile)
    processed = 0
    for offset in range(count):
        node_info = node_infos[(start + offset) % count]
        status = run_filters(state, pod, node_info)
        processed += 1
        statuses[node_info.name] = status
        if status is None:
            feasible.append(node_info)
            if len(feasible) >= wanted:
                break
        else:
            _check_filter_error(status)
    result.feasible_node_infos = feasible
    result.feasible_nodes = [info.name for info in feasible]
    result.next_start_node_index = (start + processed) % state.snapshot.num_nodes()


def _filter_runner(state, pod, profile):
    """profile.run_filter_plugins with the cycle's skipped plugins left out up front."""
    filters = [[plugin.name, plugin.filter] for plugin in profile.filter_plugins
               if plugin.name not in state.skip_filter_plugins]

    def run(state, pod, node_info):
        for name, filter_node in filters:
            status = filter_node(state, pod, node_info)
            if status is not None and status.code != SUCCESS:
                return status.with_plugin(name)
        return None
    return run


def _prioritize(state, pod, profile, result) -> None:
    nodes = result.feasible_node_infos
    for plugin in profile.pre_score_plugins:
        status = plugin.pre_score(state, pod, nodes)
        code = SUCCESS if status is None else status.code
        if code == SKIP:
            state.skip_score_plugins[plugin.name] = True
            result.pre_score_statuses[plugin.name] = ""
            continue
        result.pre_score_statuses[plugin.name] = "success" if code == SUCCESS else status.message
        if code != SUCCESS:
            raise SchedulingError(f"running PreScore plugin {plugin.name!r}: {status.message}")
    totals = [0] * len(nodes)
    for plugin in profile.score_plugins:
        if plugin.name in state.skip_score_plugins:
            continue
        score = plugin.score
        scores = [score(state, pod, node_info) for node_info in nodes]
        result.raw_scores[plugin.name] = list(scores)
        if hasattr(plugin, "normalize_score"):
            plugin.normalize_score(state, pod, nodes, scores)
        weight = profile.weight(plugin.name)
        for index, value in enumerate(scores):
            if value < 0 or value > MAX_NODE_SCORE:
                raise SchedulingError(f"plugin {plugin.name!r} returns an invalid score {value}")
            scores[index] = value * weight
            totals[index] += value * weight
        result.final_scores[plugin.name] = scores
        result.score_plugins.append(plugin.name)
    result.total_scores = totals


def _select_host(names: list, totals: list, rng) -> str:
    """One of the nodes with the highest total, each with equal probability (what selectHost's
    reservoir sampling achieves, with one random draw)."""
    best = max(totals)
    tied = [index for index, total in enumerate(totals) if total == best]
    if len(tied) == 1:
        return names[tied[0]]
    return names[tied[rng.randrange(len(tied))]]


def _run_post_filter(state, pod, profile, rng, result, failed, absent_status) -> None:
    for plugin in profile.post_filter_plugins:
        outcome, status = plugin.post_filter(state, pod, failed, absent_status, profile, rng)
        result.post_filter_status = status
        if status.message:
            result.fit_error.post_filter_message = status.message
        if status.code == SUCCESS and outcome is not None:
            result.nominated_node_name = outcome["nominated_node_name"]
            result.victims = outcome["victims"]
            return
        if status.code != "Unschedulable":
            return


# --- kube-scheduler-simulator annotations ---------------------------------------------------

def _go_json(value) -> str:
    """encoding/json output: sorted map keys, no spaces, <, > and & escaped."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def filter_table(result: ScheduleResult) -> dict:
    """node -> plugin -> "passed" or the failing plugin's message, for every evaluated node."""
    table = {}
    for node, status in result.node_statuses.items():
        row = {}
        for plugin in result.filter_plugins:
            if status is not None and status.plugin == plugin:
                row[plugin] = status.message
                break
            row[plugin] = "passed"
        table[node] = row
    return table


def score_tables(result: ScheduleResult) -> list:
    """[node -> plugin -> raw score, node -> plugin -> normalised score x weight] as strings."""
    raw, final = {}, {}
    for index, node in enumerate(result.feasible_nodes if result.total_scores else ()):
        raw[node] = {plugin: str(result.raw_scores[plugin][index]) for plugin in result.score_plugins}
        final[node] = {plugin: str(result.final_scores[plugin][index]) for plugin in result.score_plugins}
    return [raw, final]


def simulator_annotations(result: ScheduleResult) -> dict:
    """The annotations kube-scheduler-simulator writes on a pod after a scheduling attempt."""
    raw, final = score_tables(result)
    post_filter = {}
    if result.post_filter_status is not None:
        post_filter = {name: {} for name in result.fit_error.node_statuses}
        if result.nominated_node_name:
            post_filter[result.nominated_node_name] = {"DefaultPreemption": "preemption victim"}
    bound = result.selected_node is not None
    values = {
        "prefilter-result-status": result.pre_filter_statuses,
        "prefilter-result": result.pre_filter_node_names,
        "filter-result": filter_table(result),
        "postfilter-result": post_filter,
        "prescore-result": result.pre_score_statuses,
        "score-result": raw,
        "finalscore-result": final,
        "reserve-result": {"VolumeBinding": "success"} if bound else {},
        "permit-result": {},
        "permit-result-timeout": {},
        "prebind-result": {"VolumeBinding": "success"} if bound else {},
        "bind-result": {"DefaultBinder": "success"} if bound else {},
    }
    annotations = {ANNOTATION_PREFIX + key: _go_json(value) for key, value in values.items()}
    annotations[ANNOTATION_PREFIX + "selected-node"] = result.selected_node or ""
    return annotations

