"""kube-controller-manager and cloud-controller-manager and the controllers they run."""
from .cloud import CloudControllerManager
from .manager import KubeControllerManager

__all__ = ["KubeControllerManager", "CloudControllerManager"]
