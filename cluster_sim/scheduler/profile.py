"""A scheduling profile: the enabled plugins per extension point, score weights, and the
framework's Run*Plugins helpers that need no scheduling-cycle bookkeeping."""
from __future__ import annotations

from . import helpers
from .framework import SUCCESS, Status


class Profile:
    def __init__(self, scheduler_name: str, plugins: list, weights: dict,
                 percentage_of_nodes_to_score: int | None = None):
        self.scheduler_name = scheduler_name
        self.plugins = plugins
        self.weights = weights
        self.percentage_of_nodes_to_score = percentage_of_nodes_to_score
        self.queue_sort = next(p for p in plugins if hasattr(p, "sort_key"))
        self.pre_enqueue_plugins = [p for p in plugins if hasattr(p, "pre_enqueue")]
        self.pre_filter_plugins = [p for p in plugins if hasattr(p, "pre_filter")]
        self.filter_plugins = [p for p in plugins if hasattr(p, "filter")]
        self.post_filter_plugins = [p for p in plugins if hasattr(p, "post_filter")]
        self.pre_score_plugins = [p for p in plugins if hasattr(p, "pre_score")]
        self.score_plugins = [p for p in plugins if hasattr(p, "score")]

    def weight(self, plugin_name: str) -> int:
        return self.weights.get(plugin_name, 1)

    def run_pre_enqueue_plugins(self, pod: dict) -> Status | None:
        for plugin in self.pre_enqueue_plugins:
            status = plugin.pre_enqueue(pod)
            if status is not None:
                return status.with_plugin(plugin.name)
        return None

    def run_filter_plugins(self, state, pod: dict, node_info) -> Status | None:
        """The first failing filter's status (with its plugin), or None when all pass."""
        skip = state.skip_filter_plugins
        for plugin in self.filter_plugins:
            if plugin.name in skip:
                continue
            status = plugin.filter(state, pod, node_info)
            if status is not None and status.code != SUCCESS:
                return status.with_plugin(plugin.name)
        return None

    def run_filter_plugins_with_nominated_pods(self, state, pod: dict, node_info) -> Status | None:
        """Filters run as if the pods nominated to this node with at least this pod's priority were
        already there, and (if that passes) once more without them."""
        nominated = state.snapshot.nominated_pods.get(node_info.name)
        if not nominated:
            return self.run_filter_plugins(state, pod, node_info)
        priority = helpers.pod_priority(pod)
        key = helpers.pod_key(pod)
        others = [other for other_key, other in nominated.items()
                  if other_key != key and helpers.pod_priority(other) >= priority]
        if not others:
            return self.run_filter_plugins(state, pod, node_info)
        state_with = state.clone()
        node_info_with = node_info.clone()
        for other in others:
            node_info_with.add_pod(other)
            self.run_pre_filter_extension_add_pod(state_with, pod, other, node_info_with)
        status = self.run_filter_plugins(state_with, pod, node_info_with)
        if status is not None:
            return status
        return self.run_filter_plugins(state, pod, node_info)

    def run_pre_filter_extension_add_pod(self, state, pod: dict, added_pod: dict, node_info) -> None:
        for plugin in self.pre_filter_plugins:
            if plugin.name not in state.skip_filter_plugins and hasattr(plugin, "pre_filter_add_pod"):
                plugin.pre_filter_add_pod(state, pod, added_pod, node_info)

    def run_pre_filter_extension_remove_pod(self, state, pod: dict, removed_pod: dict, node_info) -> None:
        for plugin in self.pre_filter_plugins:
            if plugin.name not in state.skip_filter_plugins and hasattr(plugin, "pre_filter_remove_pod"):
                plugin.pre_filter_remove_pod(state, pod, removed_pod, node_info)
