"""The node agents: kubelet, container runtime (containerd), kube-proxy and host-local IPAM."""
