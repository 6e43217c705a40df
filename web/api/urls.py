"""URLs of the REST API, mounted at /api/ by web/urls.py."""
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from web.api import views

urlpatterns = [
    path("clusters/", views.ClusterListView.as_view(), name="api-clusters"),
    path("clusters/<str:cluster_id>/", views.ClusterDetailView.as_view(), name="api-cluster"),
    path("clusters/<str:cluster_id>/actions/", views.ClusterActionView.as_view(), name="api-cluster-actions"),
    path("clusters/<str:cluster_id>/clock/", views.ClusterClockView.as_view(), name="api-cluster-clock"),
    path("clusters/<str:cluster_id>/kubeconfig", views.KubeconfigView.as_view(), name="api-cluster-kubeconfig"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]
