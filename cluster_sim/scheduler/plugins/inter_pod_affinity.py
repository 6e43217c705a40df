from __future__ import annotations

from .. import helpers
from ..framework import MAX_NODE_SCORE, SKIP_STATUS, unresolvable, unschedulable

ERR_REASON_AFFINITY_RULES_NOT_MATCH = "node(s) didn't match pod affinity rules"
ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH = "node(s) didn't match pod anti-affinity rules"
ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH = "node(s) didn't satisfy existing pods anti-affinity rules"
PRE_FILTER_KEY = "PreFilterInterPodAffinity"
PRE_SCORE_KEY = "PreScoreInterPodAffinity"
HARD_POD_AFFINITY_WEIGHT = 1


def _term(owner: dict, term: dict, weight: int = 0) -> dict:
    namespaces = term.get("namespaces") or []
    namespace_selector = term.get("namespaceSelector")
    if not namespaces and namespace_selector is None:
        namespaces = [helpers.pod_namespace(owner)]
    return {"namespaces": namespaces, "namespace_selector": namespace_selector,
            "selector": term.get("labelSelector"), "topology_key": term.get("topologyKey", ""), "weight": weight}


def affinity_terms(pod: dict, kind: str, required: bool) -> list:
    """The pod's podAffinity or podAntiAffinity terms (``kind``), required or preferred."""
    section = (pod["spec"].get("affinity") or {}).get(kind) or {}
    if required:
        return [_term(pod, term) for term in section.get("requiredDuringSchedulingIgnoredDuringExecution") or ()]
    return [_term(pod, weighted.get("podAffinityTerm") or {}, weighted.get("weight", 0))
            for weighted in section.get("preferredDuringSchedulingIgnoredDuringExecution") or ()]


def term_matches(term: dict, pod: dict, namespace_labels: dict) -> bool:
    namespace = helpers.pod_namespace(pod)
    if namespace not in term["namespaces"]:
        selector = term["namespace_selector"]
        if selector is None or not helpers.selector_matches(selector, namespace_labels.get(namespace, {})):
            return False
    return helpers.selector_matches(term["selector"], helpers.pod_labels(pod))


def matches_all_terms(terms: list, pod: dict, namespace_labels: dict) -> bool:
    if not terms:
        return False
    for term in terms:
        if not term_matches(term, pod, namespace_labels):
            return False
    return True


def _bump(counts: dict, labels: dict, key: str, delta: int) -> None:
    value = labels.get(key)
    if value is None:
        return
    pair = key + "\x00" + value
    counts[pair] = counts.get(pair, 0) + delta
    if counts[pair] == 0:
        del counts[pair]


class FilterState:
    def __init__(self, pod: dict, namespace_labels: dict):
        self.pod = pod
        self.namespace_labels = namespace_labels
        self.affinity_terms = affinity_terms(pod, "podAffinity", True)
        self.anti_affinity_terms = affinity_terms(pod, "podAntiAffinity", True)
        # "topologyKey\x00value" -> count
        self.existing_anti_affinity_counts: dict = {}
        self.affinity_counts: dict = {}
        self.anti_affinity_counts: dict = {}

    def clone(self) -> "FilterState":
        copy = FilterState.__new__(FilterState)
        copy.__dict__.update(self.__dict__)
        copy.existing_anti_affinity_counts = dict(self.existing_anti_affinity_counts)
        copy.affinity_counts = dict(self.affinity_counts)
        copy.anti_affinity_counts = dict(self.anti_affinity_counts)
        return copy

    def update(self, other_pod: dict, node: dict, delta: int) -> None:
        labels = node["metadata"].get("labels") or {}
        for term in affinity_terms(other_pod, "podAntiAffinity", True):
            if term_matches(term, self.pod, self.namespace_labels):
                _bump(self.existing_anti_affinity_counts, labels, term["topology_key"], delta)
        self.count_incoming(other_pod, labels, delta)

    def count_incoming(self, other_pod: dict, labels: dict, delta: int) -> None:
        if matches_all_terms(self.affinity_terms, other_pod, self.namespace_labels):
            for term in self.affinity_terms:
                _bump(self.affinity_counts, labels, term["topology_key"], delta)
        for term in self.anti_affinity_terms:
            if term_matches(term, other_pod, self.namespace_labels):
                _bump(self.anti_affinity_counts, labels, term["topology_key"], delta)


class InterPodAffinity:
    """Filter: the pod's required pod affinity / anti-affinity and existing pods' required
    anti-affinity.  Score: preferred terms both ways (and existing pods' required affinity with
    weight 1), summed per topology domain, normalised between the lowest and highest node."""

    name = "InterPodAffinity"

    # Filter ------------------------------------------------------------------------------
    def pre_filter(self, state, pod):
        snapshot = state.snapshot
        filter_state = FilterState(pod, snapshot.namespace_labels)
        has_own_terms = filter_state.affinity_terms or filter_state.anti_affinity_terms
        if not has_own_terms and snapshot.required_anti_affinity_pod_count == 0:
            return None, SKIP_STATUS
        for node_info in snapshot.nodes_with_required_anti_affinity_pods():
            for key in node_info.pods_with_required_anti_affinity:
                for term in affinity_terms(node_info.pods[key], "podAntiAffinity", True):
                    if term_matches(term, pod, filter_state.namespace_labels):
                        _bump(filter_state.existing_anti_affinity_counts, node_info.labels, term["topology_key"], 1)
        if has_own_terms:
            for node_info in snapshot.node_infos:
                for existing in node_info.pods.values():
                    filter_state.count_incoming(existing, node_info.labels, 1)
        if not filter_state.existing_anti_affinity_counts and not has_own_terms:
            return None, SKIP_STATUS
        state.data[PRE_FILTER_KEY] = filter_state
        return None, None

    def pre_filter_add_pod(self, state, pod, added_pod, node_info):
        state.data[PRE_FILTER_KEY].update(added_pod, node_info.node, 1)

    def pre_filter_remove_pod(self, state, pod, removed_pod, node_info):
        state.data[PRE_FILTER_KEY].update(removed_pod, node_info.node, -1)

    def filter(self, state, pod, node_info):
        filter_state = state.data[PRE_FILTER_KEY]
        labels = node_info.labels
        if not self._satisfies_affinity(filter_state, labels):
            return unresolvable(ERR_REASON_AFFINITY_RULES_NOT_MATCH)
        if filter_state.anti_affinity_counts:
            for term in filter_state.anti_affinity_terms:
                value = labels.get(term["topology_key"])
                if value is not None and filter_state.anti_affinity_counts.get(term["topology_key"] + "\x00" + value, 0) > 0:
                    return unschedulable(ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH)
        if filter_state.existing_anti_affinity_counts:
            for key, value in labels.items():
                if filter_state.existing_anti_affinity_counts.get(key + "\x00" + value, 0) > 0:
                    return unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH)
        return None

    @staticmethod
    def _satisfies_affinity(filter_state: FilterState, labels: dict) -> bool:
        pods_exist = True
        for term in filter_state.affinity_terms:
            value = labels.get(term["topology_key"])
            if value is None:
                return False
            if filter_state.affinity_counts.get(term["topology_key"] + "\x00" + value, 0) <= 0:
                pods_exist = False
        if pods_exist:
            return True
        # The first pod of a group with affinity to itself may go anywhere its topology keys exist.
        return not filter_state.affinity_counts and matches_all_terms(
            filter_state.affinity_terms, filter_state.pod, filter_state.namespace_labels)

    # Score -------------------------------------------------------------------------------
    def pre_score(self, state, pod, nodes):
        snapshot = state.snapshot
        if not nodes:
            return None
        preferred_affinity = affinity_terms(pod, "podAffinity", False)
        preferred_anti_affinity = affinity_terms(pod, "podAntiAffinity", False)
        has_constraints = bool(preferred_affinity or preferred_anti_affinity)
        if not has_constraints and snapshot.affinity_pod_count == 0:
            return SKIP_STATUS
        namespace_labels = snapshot.namespace_labels
        topology_score: dict = {}
        node_infos = snapshot.node_infos if has_constraints else snapshot.nodes_with_affinity_pods()
        for node_info in node_infos:
            labels = node_info.labels
            if not labels:
                continue
            keys = node_info.pods if has_constraints else node_info.pods_with_affinity
            for key in keys:
                existing = node_info.pods[key]
                self._score_terms(topology_score, preferred_affinity, existing, namespace_labels, labels, 1)
                self._score_terms(topology_score, preferred_anti_affinity, existing, namespace_labels, labels, -1)
                for term in affinity_terms(existing, "podAffinity", True):
                    term = dict(term, weight=HARD_POD_AFFINITY_WEIGHT)
                    self._score_terms(topology_score, [term], pod, namespace_labels, labels, 1)
                self._score_terms(topology_score, affinity_terms(existing, "podAffinity", False), pod, namespace_labels, labels, 1)
                self._score_terms(topology_score, affinity_terms(existing, "podAntiAffinity", False), pod, namespace_labels, labels, -1)
        if not topology_score:
            return SKIP_STATUS
        state.data[PRE_SCORE_KEY] = topology_score
        return None

    @staticmethod
    def _score_terms(topology_score: dict, terms: list, target: dict, namespace_labels: dict, labels: dict, sign: int) -> None:
        for term in terms:
            if not term_matches(term, target, namespace_labels):
                continue
            value = labels.get(term["topology_key"])
            if value is None:
                continue
            values = topology_score.setdefault(term["topology_key"], {})
            values[value] = values.get(value, 0) + term["weight"] * sign

    def score(self, state, pod, node_info):
        total = 0
        labels = node_info.labels
        for key, values in state.data[PRE_SCORE_KEY].items():
            value = labels.get(key)
            if value is not None:
                total += values.get(value, 0)
        return total

    def normalize_score(self, state, pod, nodes, scores):
        if not scores:
            return
        minimum = min(scores)
        difference = max(scores) - minimum
        for index, score in enumerate(scores):
            scores[index] = int(MAX_NODE_SCORE * ((score - minimum) / difference)) if difference > 0 else 0
