"""Plugin names -> classes, and kube-scheduler v1.33's default profile (getDefaultPlugins)."""
from __future__ import annotations

from ..profile import Profile
from .balanced_allocation import NodeResourcesBalancedAllocation
from .default_preemption import DefaultPreemption
from .image_locality import ImageLocality
from .inter_pod_affinity import InterPodAffinity
from .node_affinity import NodeAffinity
from .node_name import NodeName
from .node_ports import NodePorts
from .node_resources_fit import NodeResourcesFit
from .node_unschedulable import NodeUnschedulable
from .pod_topology_spread import PodTopologySpread
from .priority_sort import PrioritySort
from .scheduling_gates import SchedulingGates
from .taint_toleration import TaintToleration
from .volumes import NodeVolumeLimits, VolumeBinding, VolumeRestrictions, VolumeZone

REGISTRY = {cls.name: cls for cls in (
    SchedulingGates, PrioritySort, NodeUnschedulable, NodeName, TaintToleration, NodeAffinity, NodePorts,
    NodeResourcesFit, VolumeRestrictions, NodeVolumeLimits, VolumeBinding, VolumeZone, PodTopologySpread,
    InterPodAffinity, DefaultPreemption, NodeResourcesBalancedAllocation, ImageLocality)}

# The multiPoint list of the default profile, in order (it fixes the order plugins run in at
# every extension point), with the score weights.  DefaultBinder binds; the component does that.
DEFAULT_PLUGINS = [
    "SchedulingGates", "PrioritySort", "NodeUnschedulable", "NodeName", "TaintToleration", "NodeAffinity",
    "NodePorts", "NodeResourcesFit", "VolumeRestrictions", "NodeVolumeLimits", "VolumeBinding", "VolumeZone",
    "PodTopologySpread", "InterPodAffinity", "DefaultPreemption", "NodeResourcesBalancedAllocation",
    "ImageLocality",
]
DEFAULT_WEIGHTS = {"TaintToleration": 3, "NodeAffinity": 2, "PodTopologySpread": 2, "InterPodAffinity": 2,
                   "NodeResourcesFit": 1, "NodeResourcesBalancedAllocation": 1, "ImageLocality": 1}
DEFAULT_SCHEDULER_NAME = "default-scheduler"


def default_profile(disabled: list | None = None) -> Profile:
    names = [name for name in DEFAULT_PLUGINS if name not in (disabled or ())]
    return Profile(DEFAULT_SCHEDULER_NAME, [REGISTRY[name]() for name in names], dict(DEFAULT_WEIGHTS))
