"""Mounted at /k8s/ by web/urls.py: /k8s/<secret>/<anything the Kubernetes API serves>."""
from django.urls import re_path

from . import views

urlpatterns = [
    re_path(r"^(?P<key>[A-Za-z0-9_-]+)(?P<rest>/.*)?$", views.kube_api, name="kubeapi"),
]
