"""A deterministic simulation of a Kubernetes v1.33 cluster: etcd (Raft), kube-apiserver,
kube-scheduler, controllers, kubelets and kube-proxy, driven by scenarios. See docs/architecture.md."""
