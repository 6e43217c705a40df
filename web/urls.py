from django.contrib import admin
from django.urls import include, path

from web import views

urlpatterns = [
    path("", views.home, name="home"),
    # Django's set_language view: POST language=<code>, next=<url>; remembers the choice in a cookie.
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
