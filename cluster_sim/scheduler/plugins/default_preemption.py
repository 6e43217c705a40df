from __future__ import annotations

from .. import helpers
from ..framework import (SUCCESS, UNSCHEDULABLE, UNSCHEDULABLE_AND_UNRESOLVABLE, FitError, Status,
                         unresolvable)

MIN_CANDIDATE_NODES_PERCENTAGE = 10
MIN_CANDIDATE_NODES_ABSOLUTE = 100
NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"
_INT32_OFFSET = 2 ** 31


def more_important(pod: dict) -> list:
    """Sort key, most important first: higher priority, then started earlier."""
    return [-helpers.pod_priority(pod), helpers.pod_start_time(pod)]


def _terminating_by_preemption(pod: dict) -> bool:
    if pod["metadata"].get("deletionTimestamp") is None:
        return False
    for condition in pod.get("status", {}).get("conditions") or ():
        if condition.get("type") == "DisruptionTarget":
            return condition.get("status") == "True" and condition.get("reason") == "PreemptionByScheduler"
    return False


def _pdb_violations(pods: list, budgets: list) -> list:
    """[violating, non_violating], each keeping the input order (filterPodsWithPDBViolation)."""
    allowed = [budget.get("status", {}).get("disruptionsAllowed", 0) for budget in budgets]
    violating, non_violating = [], []
    for pod in pods:
        labels = helpers.pod_labels(pod)
        violated = False
        if labels:
            for index, budget in enumerate(budgets):
                selector = budget.get("spec", {}).get("selector")
                if budget["metadata"].get("namespace", "default") != helpers.pod_namespace(pod):
                    continue
                if selector is None or helpers.selector_is_empty(selector) or not helpers.selector_matches(selector, labels):
                    continue
                if pod["metadata"]["name"] in (budget.get("status", {}).get("disruptedPods") or {}):
                    continue
                allowed[index] -= 1
                if allowed[index] < 0:
                    violated = True
        (violating if violated else non_violating).append(pod)
    return [violating, non_violating]


class DefaultPreemption:
    """PostFilter: find a node where evicting lower-priority pods lets the pod fit; the victims
    are the fewest such pods, reprieving the most important first."""

    name = "DefaultPreemption"

    def post_filter(self, state, pod, node_statuses: dict, absent_status, profile, rng):
        """Returns ``[result, status]``: result ``{"nominated_node_name", "victims"}`` on success."""
        result, status = self._preempt(state, pod, node_statuses, absent_status, profile, rng)
        if status.message:
            return [result, Status(status.code, ["preemption: " + status.message], self.name)]
        return [result, Status(status.code, [], self.name)]

    def _preempt(self, state, pod, node_statuses, absent_status, profile, rng):
        snapshot = state.snapshot
        ineligible = self._ineligibility(pod, node_statuses, absent_status, snapshot)
        if ineligible:
            return None, Status(UNSCHEDULABLE, [ineligible])
        potential = [info for info in snapshot.node_infos
                     if self._code_of(info.name, node_statuses, absent_status) == UNSCHEDULABLE]
        candidates, dry_run_statuses = [], {}
        if potential:
            candidates, dry_run_statuses = self._dry_run(state, pod, potential, profile, rng)
        if not candidates:
            fit_error = FitError(snapshot.num_nodes(), dry_run_statuses, unresolvable(NOT_HELPFUL))
            return {"nominated_node_name": "", "victims": []}, Status(UNSCHEDULABLE, [fit_error.message])
        best = self._pick_one(candidates)
        return {"nominated_node_name": best["node"], "victims": best["victims"]}, Status(SUCCESS)

    @staticmethod
    def _code_of(name, node_statuses, absent_status):
        status = node_statuses.get(name, absent_status)
        return status.code if status is not None else SUCCESS

    def _ineligibility(self, pod, node_statuses, absent_status, snapshot) -> str:
        if pod["spec"].get("preemptionPolicy") == "Never":
            return "not eligible due to preemptionPolicy=Never."
        nominated = pod.get("status", {}).get("nominatedNodeName")
        if not nominated or self._code_of(nominated, node_statuses, absent_status) == UNSCHEDULABLE_AND_UNRESOLVABLE:
            return ""
        node_info = snapshot.get(nominated)
        if node_info is not None:
            priority = helpers.pod_priority(pod)
            for other in node_info.pods.values():
                if helpers.pod_priority(other) < priority and _terminating_by_preemption(other):
                    return "not eligible due to a terminating pod on the nominated node."
        return ""

    def _dry_run(self, state, pod, potential, profile, rng):
        count = len(potential)
        wanted = max(count * MIN_CANDIDATE_NODES_PERCENTAGE // 100, MIN_CANDIDATE_NODES_ABSOLUTE)
        wanted = min(wanted, count)
        offset = rng.randrange(count)
        non_violating, violating, statuses = [], [], {}
        budgets = list(state.snapshot.pod_disruption_budgets.values())
        for index in range(count):
            node_info = potential[(offset + index) % count].clone()
            victims, violations, status = self.select_victims_on_node(state.clone(), pod, node_info, budgets, profile)
            if status is None and victims:
                candidate = {"node": node_info.name, "victims": victims, "violations": violations}
                (non_violating if violations == 0 else violating).append(candidate)
                if non_violating and len(non_violating) + len(violating) >= wanted:
                    break
                continue
            statuses[node_info.name] = status
        return non_violating[:wanted] + violating[:wanted], statuses

    def select_victims_on_node(self, state, pod, node_info, budgets, profile):
        """[victims most important first, PDB violations, None] or [[], 0, failure status]."""
        priority = helpers.pod_priority(pod)
        potential = [other for other in node_info.pods.values() if helpers.pod_priority(other) < priority]
        for other in potential:
            node_info.remove_pod(other)
            profile.run_pre_filter_extension_remove_pod(state, pod, other, node_info)
        if not potential:
            return [], 0, unresolvable(NO_VICTIMS)
        status = profile.run_filter_plugins_with_nominated_pods(state, pod, node_info)
        if status is not None:
            return [], 0, status
        potential.sort(key=more_important)
        violating, non_violating = _pdb_violations(potential, budgets)
        victims = []
        violations = 0
        for group_index, group in enumerate([violating, non_violating]):
            for other in group:
                node_info.add_pod(other)
                profile.run_pre_filter_extension_add_pod(state, pod, other, node_info)
                if profile.run_filter_plugins_with_nominated_pods(state, pod, node_info) is None:
                    continue
                node_info.remove_pod(other)
                profile.run_pre_filter_extension_remove_pod(state, pod, other, node_info)
                victims.append(other)
                if group_index == 0:
                    violations += 1
        if violating and non_violating:
            victims.sort(key=more_important)
        return victims, violations, None

    @staticmethod
    def _pick_one(candidates: list) -> dict:
        """pickOneNodeForPreemption: fewest PDB violations, lowest highest-priority victim, lowest
        priority sum, fewest victims, latest start of the highest-priority victims, then first."""
        def highest_priority(candidate):
            return helpers.pod_priority(candidate["victims"][0])

        def latest_start(candidate):
            top = max(helpers.pod_priority(victim) for victim in candidate["victims"])
            return min(helpers.pod_start_time(victim) for victim in candidate["victims"]
                       if helpers.pod_priority(victim) == top)

        score_functions = [
            lambda candidate: -candidate["violations"],
            lambda candidate: -highest_priority(candidate),
            lambda candidate: -sum(helpers.pod_priority(victim) + _INT32_OFFSET for victim in candidate["victims"]),
            lambda candidate: -len(candidate["victims"]),
            latest_start,
        ]
        remaining = candidates
        for score_function in score_functions:
            best = max(score_function(candidate) for candidate in remaining)
            remaining = [candidate for candidate in remaining if score_function(candidate) == best]
            if len(remaining) == 1:
                break
        return remaining[0]
