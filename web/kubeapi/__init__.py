"""The Kubernetes API front end of each simulated cluster: the real kubectl and client libraries
talk to /k8s/<secret>/ as they would to a kube-apiserver (see views.py)."""
