from __future__ import annotations

import math

from .. import helpers
from ..framework import MAX_NODE_SCORE, SKIP_STATUS, unresolvable, unschedulable

ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints"
ERR_REASON_NODE_LABEL_NOT_MATCH = ERR_REASON_CONSTRAINTS_NOT_MATCH + " (missing required label)"
PRE_FILTER_KEY = "PreFilterPodTopologySpread"
PRE_SCORE_KEY = "PreScorePodTopologySpread"
# The cluster-level defaults a pod without constraints of its own gets (defaultingType: System).
SYSTEM_DEFAULT_CONSTRAINTS = [
    {"topologyKey": helpers.LABEL_ZONE, "maxSkew": 5, "whenUnsatisfiable": "ScheduleAnyway"},
    {"topologyKey": helpers.LABEL_HOSTNAME, "maxSkew": 3, "whenUnsatisfiable": "ScheduleAnyway"},
]
_CONTROLLER_KINDS = {"ReplicaSet": "replica_sets", "StatefulSet": "stateful_sets",
                     "ReplicationController": "replication_controllers"}


def default_selector(pod: dict, snapshot) -> dict:
    """helper.DefaultSelector: the selectors of the Services selecting the pod and of its
    controlling ReplicaSet, StatefulSet or ReplicationController, ANDed."""
    namespace = helpers.pod_namespace(pod)
    labels = helpers.pod_labels(pod)
    match_labels: dict = {}
    expressions: list = []
    for service in snapshot.services.values():
        selector = service.get("spec", {}).get("selector")
        if service["metadata"].get("namespace", "default") != namespace or not selector:
            continue
        if all(labels.get(key) == value for key, value in selector.items()):
            match_labels.update(selector)
    for owner in pod["metadata"].get("ownerReferences") or ():
        if not owner.get("controller") or owner.get("kind") not in _CONTROLLER_KINDS:
            continue
        objects = getattr(snapshot, _CONTROLLER_KINDS[owner["kind"]])
        controller = objects.get(f"{namespace}/{owner['name']}")
        if controller is None:
            break
        selector = controller.get("spec", {}).get("selector") or {}
        if owner["kind"] == "ReplicationController":
            match_labels.update(selector)
        else:
            for key, value in (selector.get("matchLabels") or {}).items():
                expressions.append({"key": key, "operator": "In", "values": [value]})
            expressions.extend(selector.get("matchExpressions") or ())
        break
    return {"matchLabels": match_labels, "matchExpressions": expressions}


def pod_constraints(pod: dict, snapshot, action: str) -> list:
    """The pod's constraints for ``action`` (DoNotSchedule or ScheduleAnyway), as plain dicts with
    the selector already merged with matchLabelKeys; system defaults if it has none of its own."""
    own = pod["spec"].get("topologySpreadConstraints") or []
    labels = helpers.pod_labels(pod)
    constraints = []
    if own:
        for constraint in own:
            if constraint.get("whenUnsatisfiable", "DoNotSchedule") != action:
                continue
            selector = constraint.get("labelSelector")
            keys = [key for key in constraint.get("matchLabelKeys") or () if key in labels]
            if selector is not None and keys:
                selector = {"matchLabels": selector.get("matchLabels") or {},
                            "matchExpressions": list(selector.get("matchExpressions") or ())
                            + [{"key": key, "operator": "In", "values": [labels[key]]} for key in keys]}
            constraints.append(_constraint(constraint, selector))
        return constraints
    if action != "ScheduleAnyway":
        return []
    selector = default_selector(pod, snapshot)
    if helpers.selector_is_empty(selector):
        return []
    return [_constraint(constraint, selector) for constraint in SYSTEM_DEFAULT_CONSTRAINTS]


def _constraint(constraint: dict, selector) -> dict:
    return {"max_skew": constraint.get("maxSkew", 1), "topology_key": constraint["topologyKey"],
            "selector": selector, "min_domains": constraint.get("minDomains") or 1,
            "node_affinity_policy": constraint.get("nodeAffinityPolicy") or "Honor",
            "node_taints_policy": constraint.get("nodeTaintsPolicy") or "Ignore"}


def node_has_all_keys(labels: dict, constraints: list) -> bool:
    for constraint in constraints:
        if constraint["topology_key"] not in labels:
            return False
    return True


def matches_inclusion_policies(constraint: dict, pod: dict, node: dict) -> bool:
    if constraint["node_affinity_policy"] == "Honor" and not helpers.pod_matches_node_selector_and_affinity(pod, node):
        return False
    if constraint["node_taints_policy"] == "Honor":
        tolerations = pod["spec"].get("tolerations") or ()
        for taint in helpers.node_taints(node):
            if taint.get("effect") in ("NoSchedule", "NoExecute") and not helpers.tolerations_tolerate_taint(tolerations, taint):
                return False
    return True


def count_matching_pods(pods: dict, selector, namespace: str) -> int:
    """Pods of ``namespace`` matching ``selector``, not terminating; an empty selector counts none."""
    if selector is None or helpers.selector_is_empty(selector):
        return 0
    count = 0
    for pod in pods.values():
        metadata = pod["metadata"]
        if metadata.get("deletionTimestamp") is not None or metadata.get("namespace", "default") != namespace:
            continue
        if helpers.selector_matches(selector, metadata.get("labels") or {}):
            count += 1
    return count


class FilterState:
    """Matching pods per topology value of every hard constraint, and each constraint's minimum."""

    def __init__(self, constraints: list, match_numbers: list):
        self.constraints = constraints
        self.match_numbers = match_numbers
        self.minimums = [self._minimum(index) for index in range(len(constraints))]

    def _minimum(self, index: int) -> int:
        numbers = self.match_numbers[index]
        if len(numbers) < self.constraints[index]["min_domains"]:
            return 0
        return min(numbers.values())

    def clone(self) -> "FilterState":
        return FilterState(self.constraints, [dict(numbers) for numbers in self.match_numbers])

    def update(self, changed_pod: dict, preemptor: dict, node: dict, delta: int) -> None:
        if helpers.pod_namespace(changed_pod) != helpers.pod_namespace(preemptor):
            return
        labels = node["metadata"].get("labels") or {}
        if not node_has_all_keys(labels, self.constraints):
            return
        changed_labels = helpers.pod_labels(changed_pod)
        for index, constraint in enumerate(self.constraints):
            if not helpers.selector_matches(constraint["selector"], changed_labels):
                continue
            if not matches_inclusion_policies(constraint, preemptor, node):
                continue
            value = labels[constraint["topology_key"]]
            self.match_numbers[index][value] = self.match_numbers[index].get(value, 0) + delta
            self.minimums[index] = self._minimum(index)


class ScoreState:
    def __init__(self):
        self.constraints: list = []
        self.ignored_nodes: dict = {}
        self.pair_counts: dict = {}       # "key\x00value" -> matching pods
        self.normalizing_weights: list = []


class PodTopologySpread:
    """Filter: placing the pod must keep each DoNotSchedule constraint's skew (matching pods in
    this domain + 1 - the least loaded domain) within maxSkew.  Score: fewer matching pods in the
    node's domains is better (ScheduleAnyway constraints, or the system defaults)."""

    name = "PodTopologySpread"

    # Filter ------------------------------------------------------------------------------
    def pre_filter(self, state, pod):
        constraints = pod_constraints(pod, state.snapshot, "DoNotSchedule")
        if not constraints:
            return None, SKIP_STATUS
        namespace = helpers.pod_namespace(pod)
        match_numbers = [{} for _ in constraints]
        for node_info in state.snapshot.node_infos:
            labels = node_info.labels
            if not node_has_all_keys(labels, constraints):
                continue
            for index, constraint in enumerate(constraints):
                if not matches_inclusion_policies(constraint, pod, node_info.node):
                    continue
                value = labels[constraint["topology_key"]]
                numbers = match_numbers[index]
                numbers[value] = numbers.get(value, 0) + count_matching_pods(node_info.pods, constraint["selector"], namespace)
        state.data[PRE_FILTER_KEY] = FilterState(constraints, match_numbers)
        return None, None

    def pre_filter_add_pod(self, state, pod, added_pod, node_info):
        state.data[PRE_FILTER_KEY].update(added_pod, pod, node_info.node, 1)

    def pre_filter_remove_pod(self, state, pod, removed_pod, node_info):
        state.data[PRE_FILTER_KEY].update(removed_pod, pod, node_info.node, -1)

    def filter(self, state, pod, node_info):
        filter_state = state.data[PRE_FILTER_KEY]
        labels = node_info.labels
        pod_label_set = helpers.pod_labels(pod)
        for index, constraint in enumerate(filter_state.constraints):
            value = labels.get(constraint["topology_key"])
            if value is None:
                return unresolvable(ERR_REASON_NODE_LABEL_NOT_MATCH)
            self_match = 1 if helpers.selector_matches(constraint["selector"], pod_label_set) else 0
            skew = filter_state.match_numbers[index].get(value, 0) + self_match - filter_state.minimums[index]
            if skew > constraint["max_skew"]:
                return unschedulable(ERR_REASON_CONSTRAINTS_NOT_MATCH)
        return None

    # Score -------------------------------------------------------------------------------
    def pre_score(self, state, pod, nodes):
        snapshot = state.snapshot
        if not nodes or not snapshot.node_infos:
            return None
        score_state = ScoreState()
        score_state.constraints = constraints = pod_constraints(pod, snapshot, "ScheduleAnyway")
        if not constraints:
            return SKIP_STATUS
        require_all_topologies = bool(pod["spec"].get("topologySpreadConstraints"))
        domain_counts = [0] * len(constraints)
        for node_info in nodes:
            if require_all_topologies and not node_has_all_keys(node_info.labels, constraints):
                score_state.ignored_nodes[node_info.name] = True
                continue
            for index, constraint in enumerate(constraints):
                key = constraint["topology_key"]
                if key == helpers.LABEL_HOSTNAME:
                    continue
                pair = key + "\x00" + node_info.labels.get(key, "")
                if pair not in score_state.pair_counts:
                    score_state.pair_counts[pair] = 0
                    domain_counts[index] += 1
        for index, constraint in enumerate(constraints):
            size = domain_counts[index]
            if constraint["topology_key"] == helpers.LABEL_HOSTNAME:
                size = len(nodes) - len(score_state.ignored_nodes)
            score_state.normalizing_weights.append(math.log(size + 2))
        namespace = helpers.pod_namespace(pod)
        pair_counts = score_state.pair_counts
        if pair_counts:
            for node_info in snapshot.node_infos:
                labels = node_info.labels
                if require_all_topologies and not node_has_all_keys(labels, constraints):
                    continue
                for constraint in constraints:
                    pair = constraint["topology_key"] + "\x00" + labels.get(constraint["topology_key"], "")
                    if pair not in pair_counts or not matches_inclusion_policies(constraint, pod, node_info.node):
                        continue
                    pair_counts[pair] += count_matching_pods(node_info.pods, constraint["selector"], namespace)
        state.data[PRE_SCORE_KEY] = score_state
        return None

    def score(self, state, pod, node_info):
        score_state = state.data[PRE_SCORE_KEY]
        if node_info.name in score_state.ignored_nodes:
            return 0
        labels = node_info.labels
        total = 0.0
        for index, constraint in enumerate(score_state.constraints):
            key = constraint["topology_key"]
            value = labels.get(key)
            if value is None:
                continue
            if key == helpers.LABEL_HOSTNAME:
                count = count_matching_pods(node_info.pods, constraint["selector"], helpers.pod_namespace(pod))
            else:
                count = score_state.pair_counts[key + "\x00" + value]
            total += count * score_state.normalizing_weights[index] + (constraint["max_skew"] - 1)
        return math.floor(total + 0.5)

    def normalize_score(self, state, pod, nodes, scores):
        ignored = state.data[PRE_SCORE_KEY].ignored_nodes
        minimum = None
        maximum = 0
        for node_info, score in zip(nodes, scores):
            if node_info.name in ignored:
                continue
            minimum = score if minimum is None or score < minimum else minimum
            maximum = max(maximum, score)
        for index, node_info in enumerate(nodes):
            if node_info.name in ignored:
                scores[index] = 0
            elif maximum == 0:
                scores[index] = MAX_NODE_SCORE
            else:
                scores[index] = MAX_NODE_SCORE * (maximum + minimum - scores[index]) // maximum
