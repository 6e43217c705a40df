"""The class view's tiles read each student's cluster as of its present, whoever watches it."""
import pytest
from django.test import Client
from rest_framework.test import APIClient

from web.runtime import registry
from workshops import services
from workshops.models import Student

from tests.workshops.test_api import LESSON, instructor

pytestmark = pytest.mark.django_db(transaction=True)


def tile_of(workshop, name):
    return next(tile for tile in services.class_tiles(workshop=workshop) if tile["name"] == name)


def test_tile_shows_the_pods_of_a_student_whose_page_is_closed():
    """Ninety seconds of wall time after joining over the API (no page open, so no ticker runs the
    cluster), the tile shows the lesson's six web pods running, not "pods 0/0"."""
    workshop = services.create_workshop(user=instructor(), title="T", lessons=[LESSON])
    APIClient().post(f"/api/workshops/{workshop.code}/join/", {"name": "Ada"}, format="json")
    live = registry.get(Student.objects.get().cluster_id)
    health = {}
    for _refresh in range(90):  # the class view refreshes once a (here simulated) wall second
        live.clock.anchor_wall_s -= 1.0
        health = tile_of(workshop, "Ada")["health"]
    assert health["nowMs"] >= 90_000
    assert (health["podsRunning"], health["pods"]) == (6, 6)
    assert all(node["ready"] for node in health["nodes"])
    assert health["systemPodsRunning"] >= 4  # kube-proxy on every node, coredns, static pods


def test_tile_shows_a_broadcast_power_off_at_once_while_the_class_is_paused():
    teacher = instructor()
    workshop = services.create_workshop(user=teacher, title="T", lessons=[LESSON])
    Client().post(f"/join/{workshop.code}/", {"name": "Ada"})
    live = registry.get(Student.objects.get().cluster_id)
    live.advance_by(60_000)
    services.set_clocks(user=teacher, code=workshop.code, paused=True)
    before = tile_of(workshop, "Ada")["health"]
    assert (before["podsRunning"], before["pods"]) == (6, 6)
    assert not any(node["down"] for node in before["nodes"])
    services.broadcast(user=teacher, code=workshop.code, action={"action": "node.fail", "target": "worker-2"})
    after = tile_of(workshop, "Ada")["health"]
    assert after["nowMs"] == before["nowMs"]  # paused: the same instant, a different cluster
    assert [node["name"] for node in after["nodes"] if node["down"]] == ["worker-2"]
    html = services_tile_html(workshop)
    assert "pods 6/6" in html and "powered off" in html


def services_tile_html(workshop):
    from django.utils import translation

    from workshops.views import render_tile, tiles_context
    with translation.override("en"):
        return render_tile(tiles_context(workshop, "en")["tiles"][0], oob=False)
