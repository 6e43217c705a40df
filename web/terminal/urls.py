from django.urls import path

from . import views

# Mounted at clusters/<cluster_id>/terminal/ by web/urls.py.
urlpatterns = [
    path("", views.terminal_run, name="terminal-run"),
    path("complete", views.terminal_complete, name="terminal-complete"),
]
