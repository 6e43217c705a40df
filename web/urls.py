from django.contrib import admin
from django.urls import include, path

from web import views, views_cluster

urlpatterns = [
    path("", views.home, name="home"),
    # Django's set_language view: POST language=<code>, next=<url>; remembers the choice in a cookie.
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("lessons/", include("lessons.urls")),
    # REST API for scripting clusters, its OpenAPI schema and docs pages (docs/api.md).
    path("api/", include("web.api.urls")),
    # Instructor-led workshops: their pages, /join/, and /api/workshops/ + /api/auth/token/.
    path("", include("workshops.urls")),
    # The Kubernetes API of each simulated cluster (kubectl's --server): /k8s/<secret>/...
    path("k8s/", include("web.kubeapi.urls")),
    path("clusters/<str:cluster_id>/terminal/", include("web.terminal.urls")),  # the terminal in the page
    # The live cluster view (web/views_cluster.py): sandbox, cluster page, controls.
    path("sandbox/", views_cluster.sandbox, name="sandbox"),
    path("clusters/<str:cluster_id>/", views_cluster.cluster_page, name="cluster-page"),
    path("clusters/<str:cluster_id>/action", views_cluster.cluster_action, name="cluster-action"),
    path("clusters/<str:cluster_id>/clock", views_cluster.cluster_clock, name="cluster-clock"),
]
