"""The simulated kube-apiserver: object model, admission, storage in etcd, watch cache."""
