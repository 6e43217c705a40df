from django.urls import path

from . import views

app_name = "lessons"

urlpatterns = [
    path("", views.lesson_list, name="list"),
    path("<slug:slug>/", views.lesson_page, name="lesson"),
    path("<slug:slug>/check", views.lesson_check, name="check"),
    path("<slug:slug>/show-me", views.lesson_show_me, name="show_me"),
    path("<slug:slug>/goal", views.lesson_goal_status, name="goal"),
    path("<slug:slug>/reset", views.lesson_reset, name="reset"),
]
