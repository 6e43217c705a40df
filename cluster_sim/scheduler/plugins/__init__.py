"""The in-tree plugins of kube-scheduler's default profile, one module each."""
