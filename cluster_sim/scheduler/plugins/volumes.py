"""The volume plugins of the default profile.  The simulation has no PersistentVolumes, so each
one does what the real plugin does for a pod without such volumes: its PreFilter answers Skip,
and a pod that does use claims passes (not modelled)."""
from __future__ import annotations

from ..framework import SKIP_STATUS


def _uses_claims(pod: dict) -> bool:
    for volume in pod["spec"].get("volumes") or ():
        if "persistentVolumeClaim" in volume or "ephemeral" in volume:
            return True
    return False


class _VolumePlugin:
    name = ""

    def pre_filter(self, state, pod):
        return (None, None) if _uses_claims(pod) else (None, SKIP_STATUS)

    def filter(self, state, pod, node_info):
        return None


class VolumeRestrictions(_VolumePlugin):
    name = "VolumeRestrictions"


class NodeVolumeLimits(_VolumePlugin):
    name = "NodeVolumeLimits"


class VolumeBinding(_VolumePlugin):
    name = "VolumeBinding"


class VolumeZone(_VolumePlugin):
    name = "VolumeZone"
