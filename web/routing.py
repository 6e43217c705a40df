"""Websocket URL routes, mounted by web/asgi.py under AllowedHostsOriginValidator + AuthMiddlewareStack.

Add consumers here: `path("ws/<something>/", SomeConsumer.as_asgi())`.
"""
from django.urls import URLPattern, path

from web.consumers import ClusterConsumer

websocket_urlpatterns: list[URLPattern] = [
    # The live cluster view: events to animate and fragments to swap, one group per cluster.
    path("ws/clusters/<str:cluster_id>/", ClusterConsumer.as_asgi()),
]
