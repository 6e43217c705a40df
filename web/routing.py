"""Websocket URL routes, mounted by web/asgi.py under AllowedHostsOriginValidator + AuthMiddlewareStack.

Add consumers here: `path("ws/<something>/", SomeConsumer.as_asgi())`.
"""
from django.urls import URLPattern, path

from web.consumers import ClusterConsumer
from workshops.consumers import ClassConsumer, StudentConsumer

websocket_urlpatterns: list[URLPattern] = [
    # The live cluster view: events to animate and fragments to swap, one group per cluster.
    path("ws/clusters/<str:cluster_id>/", ClusterConsumer.as_asgi()),
    # Workshops: the instructor's class view (tiles) and the students' banners, one group per workshop.
    path("ws/workshops/<int:workshop_id>/class/", ClassConsumer.as_asgi()),
    path("ws/workshops/<int:workshop_id>/student/", StudentConsumer.as_asgi()),
]
