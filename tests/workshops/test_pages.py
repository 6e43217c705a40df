"""Workshop pages: sign-in, dashboard, QR, join flow, the student's lesson, read-only watching,
and the class view's websocket group."""
import json

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.test import Client

from web.asgi import application
from web.runtime import registry
from workshops import services
from workshops.models import Student, Workshop

from .test_api import LESSON, instructor

pytestmark = pytest.mark.django_db(transaction=True)


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def make_workshop(user, **fields):
    return services.create_workshop(user=user, title="Tuesday", lessons=[LESSON], **fields)


def test_sign_in_page_and_dashboard_need_an_instructor():
    assert Client().get("/workshops/").status_code == 302
    page = Client().get("/workshops/login/")
    assert page.status_code == 200 and "Instructor sign-in" in page.content.decode()
    assert signed_in(User.objects.create_user("x", password="y")).get("/workshops/").status_code == 403
    teacher = signed_in(instructor())
    created = teacher.post("/workshops/", {"title": "Wed", "lessons": [LESSON], "status": "open"})
    workshop = Workshop.objects.get()
    assert created.status_code == 302 and created["Location"] == f"/workshops/{workshop.pk}/"
    detail = teacher.get(f"/workshops/{workshop.pk}/").content.decode()
    assert workshop.code in detail and "<svg" in detail and f"/join/{workshop.code}/" in detail


def test_student_joins_by_typing_the_code_and_lands_in_the_lesson_with_their_cluster():
    workshop = make_workshop(instructor())
    student = Client()
    step_one = student.post("/join/", {"code": workshop.code.lower()})
    assert "Your name" in step_one.content.decode()
    landed = student.post(f"/join/{workshop.code}/", {"name": "Ada"})
    assert landed["Location"] == f"/workshops/{workshop.pk}/learn/"
    page = student.get(landed["Location"]).content.decode()
    cluster_id = Student.objects.get().cluster_id
    assert 'id="workshop-bar"' in page and "Ada" in page and cluster_id in page
    assert student.get(landed["Location"]).content.decode().count(cluster_id) >= 1  # a reload: same cluster
    assert Student.objects.get().cluster_id == cluster_id


def test_join_page_explains_revoked_and_closed():
    teacher = instructor()
    workshop = make_workshop(teacher)
    old = workshop.code
    workshop = services.revoke_code(user=teacher, code=old)
    assert "revoked" in Client().post("/join/", {"code": old}).content.decode()
    services.set_status(user=teacher, code=workshop.code, status="closed")
    assert "is closed" in Client().get(f"/join/{workshop.code}/").content.decode()


def test_instructor_watches_students_cluster_and_students_watch_only_the_presenter():
    teacher_user = instructor()
    workshop = make_workshop(teacher_user)
    ada, grace = Client(), Client()
    ada.post(f"/join/{workshop.code}/", {"name": "Ada"})
    grace.post(f"/join/{workshop.code}/", {"name": "Grace"})
    ada_cluster = Student.objects.get(name="Ada").cluster_id
    teacher = signed_in(teacher_user)
    assert teacher.get(f"/clusters/{ada_cluster}/").status_code == 200
    assert grace.get(f"/clusters/{ada_cluster}/").status_code == 404
    assert signed_in(instructor("rival")).get(f"/clusters/{ada_cluster}/").status_code == 404
    # Read-only: the instructor's controls do not act on the student's cluster.
    teacher.post(f"/clusters/{ada_cluster}/action", {"action": "node.fail", "target": "worker-2"})
    assert not registry.get(ada_cluster).cluster.sim.network.machines_down.get("worker-2")
    presenter = teacher.post(f"/workshops/{workshop.pk}/control", {"command": "presenter"})
    presenter_id = presenter["Location"].split("/")[2]
    assert grace.get(f"/clusters/{presenter_id}/").status_code == 200
    assert Client().get(f"/clusters/{presenter_id}/").status_code == 404


def test_class_view_lists_a_tile_per_student():
    teacher_user = instructor()
    workshop = make_workshop(teacher_user)
    for name in ("Ada", "Grace"):
        Client().post(f"/join/{workshop.code}/", {"name": name})
    page = signed_in(teacher_user).get(f"/workshops/{workshop.pk}/class/").content.decode()
    assert page.count('<article id="tile-') == 2 and "Ada" in page and "etcd 1/1" in page


async def connect(path, client):
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    communicator = WebsocketCommunicator(application, path, headers=[(b"cookie", cookie.encode()),
                                                                     (b"origin", b"http://testserver")])
    connected, _code = await communicator.connect()
    return communicator, connected


async def test_class_view_socket_refuses_others_and_updates_after_a_broadcast():
    from asgiref.sync import sync_to_async
    teacher_user = await sync_to_async(instructor)()
    workshop = await sync_to_async(make_workshop)(teacher_user)
    student = Client()
    await sync_to_async(student.post)(f"/join/{workshop.code}/", {"name": "Ada"})
    teacher = await sync_to_async(signed_in)(teacher_user)
    refused, ok = await connect(f"/ws/workshops/{workshop.pk}/class/", student)
    assert not ok
    socket, ok = await connect(f"/ws/workshops/{workshop.pk}/class/", teacher)
    assert ok
    first = await socket.receive_from(timeout=10)
    assert "Ada" in first and 'id="class-tiles"' in first
    banner, ok = await connect(f"/ws/workshops/{workshop.pk}/student/?lang=en", student)
    assert ok
    await sync_to_async(services.broadcast)(user=teacher_user, code=workshop.code,
                                            action={"action": "node.fail", "target": "worker-2"})
    message = json.loads(await banner.receive_from(timeout=10))
    assert message["kind"] == "broadcast" and "node.fail worker-2" in message["text"]
    # The tile changes once the failure shows in the cluster (the simulation runs on the clock).
    cluster_id = (await sync_to_async(Student.objects.get)()).cluster_id
    await sync_to_async(registry.get(cluster_id).advance_by)(60_000)
    update = await socket.receive_from(timeout=10)
    assert 'id="tile-' in update and "hx-swap-oob" in update
    await socket.disconnect()
    await banner.disconnect()


def test_watchers_see_a_read_only_cluster_page_with_a_banner_and_no_controls():
    teacher_user = instructor()
    workshop = make_workshop(teacher_user)
    ada = Client()
    ada.post(f"/join/{workshop.code}/", {"name": "Ada"})
    ada_cluster = Student.objects.get(name="Ada").cluster_id
    controls = ['class="cv-controls"', 'value="pause"', 'value="rewind"', 'class="cv-panel cv-terminal"',
                'id="workload-controls"']
    own = ada.get(f"/clusters/{ada_cluster}/").content.decode()
    assert all(marker in own for marker in controls) and "read-only" not in own
    teacher = signed_in(teacher_user)
    watched = teacher.get(f"/clusters/{ada_cluster}/").content.decode()
    assert "Watching Ada's cluster (read-only)" in watched
    assert not any(marker in watched for marker in controls), [m for m in controls if m in watched]
    assert 'id="clock-status"' in watched and 'id="cluster-overlay"' in watched  # the live picture stays
    presenter_id = teacher.post(f"/workshops/{workshop.pk}/control", {"command": "presenter"})["Location"].split("/")[2]
    assert 'value="pause"' in teacher.get(f"/clusters/{presenter_id}/").content.decode()  # the presenter's own
    followed = ada.get(f"/clusters/{presenter_id}/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "teacher 님의 클러스터를 보는 중 (읽기 전용)" in followed and 'value="pause"' not in followed


@pytest.mark.parametrize("language, texts", [
    ("en", ["Join a workshop", "Workshop code", "No account needed", "Your name, as the instructor will see it",
            "was revoked by the instructor"]),
    ("ko", ["워크숍 참가", "워크숍 코드", "계정이 필요 없습니다", "이름 (강사에게 보이는 이름)", "강사가 폐기했습니다"]),
])
def test_join_page_in_both_languages(language, texts):
    teacher = instructor()
    workshop = make_workshop(teacher)
    header = {"HTTP_ACCEPT_LANGUAGE": language}
    pages = Client().get("/join/", **header).content.decode() + \
        Client().get(f"/join/{workshop.code}/", **header).content.decode()
    old = workshop.code
    services.revoke_code(user=teacher, code=old)
    pages += Client().post("/join/", {"code": old}, **header).content.decode()
    assert all(text in pages for text in texts), [text for text in texts if text not in pages]


@pytest.mark.parametrize("language, texts", [
    ("en", ["Conduct the class", "Pause all clocks", "Broadcast to everyone", "Working on it now",
            "1. Six pods on three workers", "Ada", "pods ", "system ", "Watch Ada's cluster (read-only)"]),
    ("ko", ["수업 진행", "모든 시계 멈추기", "모두에게 보내기", "지금 하는 중", "1. 파드 6개가 세 워커에", "Ada",
            "파드 ", "시스템 ", "Ada 님의 클러스터 보기 (읽기 전용)"]),
])
def test_class_view_in_both_languages(language, texts):
    teacher_user = instructor()
    workshop = make_workshop(teacher_user)
    Client().post(f"/join/{workshop.code}/", {"name": "Ada"})
    page = signed_in(teacher_user).get(f"/workshops/{workshop.pk}/class/", HTTP_ACCEPT_LANGUAGE=language)
    html = page.content.decode()
    assert all(text in html for text in texts), [text for text in texts if text not in html]
    english_only = ["Conduct the class", "Broadcast to everyone", "Filter by name", "check passes"]
    if language == "ko":
        assert not [text for text in english_only if text in html]


def test_student_banners_in_korean():
    from django.utils import translation

    from workshops.consumers import BANNERS
    with translation.override("ko"):
        texts = {kind: banner({"action": "node.fail worker-2", "question": "언제?", "status": "closed"})
                 for kind, banner in BANNERS.items()}
    assert "node.fail worker-2" in texts["broadcast"] and "강사가" in texts["broadcast"]
    assert all(not text.isascii() for text in texts.values()), texts
