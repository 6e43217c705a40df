"""Websocket URL routes, mounted by web/asgi.py under AllowedHostsOriginValidator + AuthMiddlewareStack.

Add consumers here: `path("ws/<something>/", SomeConsumer.as_asgi())`.
"""
from django.urls import URLPattern

websocket_urlpatterns: list[URLPattern] = []
