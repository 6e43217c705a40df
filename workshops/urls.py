"""Workshop pages and API, mounted at the site root by web/urls.py."""
from django.contrib.auth import views as auth_views
from django.urls import path
from rest_framework.authtoken.views import obtain_auth_token

from . import api, views

app_name = "workshops"

urlpatterns = [
    # Scripts: username + password -> token (header "Authorization: Token <key>").
    path("api/auth/token/", obtain_auth_token, name="api-token"),
    path("api/workshops/", api.WorkshopListView.as_view(), name="api-list"),
    path("api/workshops/<str:code>/", api.WorkshopDetailView.as_view(), name="api-detail"),
    path("api/workshops/<str:code>/join/", api.JoinView.as_view(), name="api-join"),
    path("api/workshops/<str:code>/broadcast/", api.BroadcastView.as_view(), name="api-broadcast"),
    path("api/workshops/<str:code>/broadcasts/<int:broadcast_id>/apply/", api.BroadcastApplyView.as_view(),
         name="api-broadcast-apply"),
    path("api/workshops/<str:code>/broadcasts/<int:broadcast_id>/answer/", api.AnswerView.as_view(),
         name="api-answer"),
    path("api/workshops/<str:code>/roster/", api.RosterView.as_view(), name="api-roster"),
    path("api/workshops/<str:code>/export.csv", api.ExportView.as_view(), name="api-export"),
    path("api/workshops/<str:code>/status/", api.StatusView.as_view(), name="api-status"),
    path("api/workshops/<str:code>/revoke/", api.RevokeView.as_view(), name="api-revoke"),
    path("api/workshops/<str:code>/clock/", api.ClockView.as_view(), name="api-clock"),
    path("api/workshops/<str:code>/step/", api.StepView.as_view(), name="api-step"),
    path("api/workshops/<str:code>/reset/", api.ResetView.as_view(), name="api-reset"),
    # Pages.
    path("workshops/login/", views.LoginView.as_view(), name="login"),
    path("workshops/logout/", auth_views.LogoutView.as_view(next_page="workshops:login"), name="logout"),
    path("workshops/", views.dashboard, name="dashboard"),
    path("workshops/<int:workshop_id>/", views.detail, name="detail"),
    path("workshops/<int:workshop_id>/class/", views.class_view, name="class"),
    path("workshops/<int:workshop_id>/control", views.control, name="control"),
    path("workshops/<int:workshop_id>/export.csv", views.export, name="export"),
    path("workshops/<int:workshop_id>/learn/", views.learn, name="learn"),
    path("join/", views.join, name="join"),
    path("join/<str:code>/", views.join, name="join-code"),
]
