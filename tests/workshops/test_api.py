"""Workshops over HTTP: instructors (token and session), students (sessions), and every rule."""
import csv
import io

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client
from rest_framework.test import APIClient

from web.runtime import registry
from workshops.models import CODE_ALPHABET, Broadcast, Student, Workshop

pytestmark = pytest.mark.django_db(transaction=True)
LESSON = "worker-node-failure"


def instructors_group():
    """The data migration's group (transactional tests flush it after the first test: re-made the same way)."""
    group, _created = Group.objects.get_or_create(name="instructors")
    group.permissions.add(Permission.objects.get(codename="run_workshop"))
    return group


def instructor(name="teacher"):
    user = User.objects.create_user(name, password="pw-" + name)
    user.groups.add(instructors_group())
    return user


def token_client(user):
    client = APIClient()
    answer = client.post("/api/auth/token/", {"username": user.username, "password": "pw-" + user.username},
                         format="json")
    assert answer.status_code == 200, answer.content
    client.credentials(HTTP_AUTHORIZATION="Token " + answer.json()["token"])
    return client


def create(client, **body):
    answer = client.post("/api/workshops/", {"title": "Monday class", "lessons": [LESSON], **body}, format="json")
    assert answer.status_code == 201, answer.content
    return answer.json()


def join(client, code, name):
    return client.post(f"/api/workshops/{code}/join/", {"name": name}, format="json")


@pytest.fixture
def teacher():
    return token_client(instructor())


def test_code_is_six_unambiguous_characters(teacher):
    code = create(teacher)["code"]
    assert len(code) == 6 and all(char in CODE_ALPHABET for char in code)
    assert not set(code) & set("0O1I")


def test_only_instructors_create_workshops():
    plain = User.objects.create_user("visitor", password="pw-visitor")
    answer = token_client(plain).post("/api/workshops/", {"title": "x", "lessons": [LESSON]}, format="json")
    assert answer.status_code == 403
    assert "instructors" in answer.json()["detail"]
    assert APIClient().post("/api/workshops/", {"title": "x", "lessons": [LESSON]}, format="json").status_code == 403
    boss = User.objects.create_superuser("boss", password="pw-boss")
    assert token_client(boss).post("/api/workshops/", {"title": "x", "lessons": [LESSON]},
                                   format="json").status_code == 201


def test_join_gives_own_cluster_and_rejoin_gives_the_same(teacher):
    code = create(teacher)["code"]
    student = APIClient()
    first = join(student, code, "Ada")
    assert first.status_code == 201
    body = first.json()
    assert body["student"]["name"] == "Ada" and body["url"].endswith(f"/api/clusters/{body['id']}/")
    assert body["student"]["lesson"] == LESSON and "now" in body and "server" in body
    again = join(student, code, "Ada again")
    assert again.status_code == 200
    assert again.json()["id"] == body["id"] and again.json()["student"]["id"] == body["student"]["id"]
    # The student reads their cluster through the clusters API, in their own session.
    assert student.get(f"/api/clusters/{body['id']}/").status_code == 200
    other = APIClient()
    other_body = join(other, code, "Grace").json()
    assert other_body["id"] != body["id"]
    assert other.get(f"/api/clusters/{body['id']}/").status_code == 404


def test_broadcast_reaches_every_student_cluster_and_is_recorded(teacher):
    code = create(teacher)["code"]
    ids = [join(APIClient(), code, name).json()["id"] for name in ("A", "B", "C")]
    answer = teacher.post(f"/api/workshops/{code}/broadcast/", {"action": "node.fail", "target": "worker-2"},
                          format="json")
    assert answer.status_code == 202, answer.content
    assert all(result["ok"] for result in answer.json()["results"].values())
    for cluster_id in ids:
        live = registry.get(cluster_id)
        assert live.cluster.sim.network.machines_down.get("worker-2")
        kinds = [(event.kind, event.target) for event in live.recent_events]
        assert ("action", "worker-2") in kinds
    assert Broadcast.objects.get().action == {"action": "node.fail", "target": "worker-2"}


def test_bad_broadcast_changes_no_cluster(teacher):
    code = create(teacher)["code"]
    cluster_id = join(APIClient(), code, "A").json()["id"]
    answer = teacher.post(f"/api/workshops/{code}/broadcast/", {"action": "node.fail", "target": "worker-9"},
                          format="json")
    assert answer.status_code == 400 and "worker-9" in answer.json()["detail"]
    assert not registry.get(cluster_id).cluster.sim.network.machines_down.get("worker-9")
    assert Broadcast.objects.count() == 0


def test_only_the_workshops_instructor_conducts_it(teacher):
    code = create(teacher)["code"]
    join(APIClient(), code, "A")
    rival = token_client(instructor("rival"))
    for path, body in [("broadcast/", {"action": "node.fail", "target": "worker-2"}), ("clock/", {"paused": True}),
                       ("reset/", {}), ("step/", {"step": "fail-node"}), ("status/", {"status": "closed"}),
                       ("revoke/", {})]:
        assert rival.post(f"/api/workshops/{code}/{path}", body, format="json").status_code == 403, path
    assert rival.get(f"/api/workshops/{code}/roster/").status_code == 403
    student = APIClient()
    join(student, code, "B")
    assert student.get(f"/api/workshops/{code}/roster/").status_code == 403
    assert student.post(f"/api/workshops/{code}/broadcast/", {"action": "node.fail", "target": "worker-2"},
                        format="json").status_code == 403


def test_roster_and_csv_export(teacher):
    code = create(teacher)["code"]
    join(APIClient(), code, "Ada")
    roster = teacher.get(f"/api/workshops/{code}/roster/").json()
    assert [row["name"] for row in roster] == ["Ada"] and roster[0]["currentStep"] == "baseline"
    text = teacher.get(f"/api/workshops/{code}/export.csv").content.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["student"] == "Ada" and rows[0]["steps_done"] == "0"


def test_csv_export_never_hands_a_spreadsheet_a_formula(teacher):
    code = create(teacher)["code"]
    join(APIClient(), code, '=HYPERLINK("http://evil.example","x")')
    text = teacher.get(f"/api/workshops/{code}/export.csv").content.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["student"] == "'=HYPERLINK(\"http://evil.example\",\"x\")"


def test_revoked_code_and_closed_workshop_give_clear_messages(teacher):
    code = create(teacher)["code"]
    student = APIClient()
    cluster_id = join(student, code, "Ada").json()["id"]
    new_code = teacher.post(f"/api/workshops/{code}/revoke/", format="json").json()["code"]
    assert new_code != code
    revoked = join(APIClient(), code, "Late")
    assert revoked.status_code == 410 and "revoked" in revoked.json()["detail"]
    assert join(APIClient(), new_code, "Late").status_code == 201
    assert join(student, new_code, "Ada").json()["id"] == cluster_id  # already in: stays in
    assert teacher.post(f"/api/workshops/{new_code}/status/", {"status": "closed"}, format="json").status_code == 200
    closed = join(APIClient(), new_code, "Later")
    assert closed.status_code == 409 and "closed" in closed.json()["detail"]
    # Read-only: nothing is done to the students' clusters any more; all clocks stopped.
    refused = teacher.post(f"/api/workshops/{new_code}/broadcast/", {"action": "node.fail", "target": "worker-2"},
                           format="json")
    assert refused.status_code == 409 and "read-only" in refused.json()["detail"]
    assert registry.get(cluster_id).clock.paused
    assert join(APIClient(), "ZZZZZZ", "x").status_code == 404


def test_scheduled_workshop_is_not_joinable_until_opened(teacher):
    code = create(teacher, status="scheduled")["code"]
    answer = join(APIClient(), code, "Early")
    assert answer.status_code == 409 and "not open yet" in answer.json()["detail"]
    teacher.post(f"/api/workshops/{code}/status/", {"status": "open"}, format="json")
    assert join(APIClient(), code, "Early").status_code == 201


def test_pause_resume_move_and_reset_everyone(teacher):
    code = create(teacher)["code"]
    first = join(APIClient(), code, "A").json()["id"]
    join(APIClient(), code, "B")
    assert teacher.post(f"/api/workshops/{code}/clock/", {"paused": True}, format="json").status_code == 200
    assert all(registry.get(student.cluster_id).clock.paused for student in Student.objects.all())
    teacher.post(f"/api/workshops/{code}/clock/", {"paused": False}, format="json")
    assert not any(registry.get(student.cluster_id).clock.paused for student in Student.objects.all())
    assert teacher.post(f"/api/workshops/{code}/step/", {"step": "fail-node"}, format="json").status_code == 200
    assert {row["currentStep"] for row in teacher.get(f"/api/workshops/{code}/roster/").json()} == {"fail-node"}
    assert teacher.post(f"/api/workshops/{code}/step/", {"step": "nope"}, format="json").status_code == 400
    teacher.post(f"/api/workshops/{code}/reset/", format="json")
    assert registry.get(first) is None
    assert Student.objects.get(name="A").cluster_id != first


def test_prediction_question_then_apply_then_answers_shown(teacher):
    code = create(teacher)["code"]
    student = APIClient()
    cluster_id = join(student, code, "Ada").json()["id"]
    asked = teacher.post(f"/api/workshops/{code}/broadcast/", {
        "action": "node.fail", "target": "worker-2", "question": "Which pods move, and when?", "askFirst": True},
        format="json").json()
    assert not asked["applied"] and not registry.get(cluster_id).cluster.sim.network.machines_down.get("worker-2")
    assert student.post(f"/api/workshops/{code}/broadcasts/{asked['id']}/answer/", {"answer": "after 5 minutes"},
                        format="json").status_code == 201
    applied = teacher.post(f"/api/workshops/{code}/broadcasts/{asked['id']}/apply/", format="json").json()
    assert applied["applied"] and applied["answers"] == [{"student": "Ada", "answer": "after 5 minutes"}]
    assert registry.get(cluster_id).cluster.sim.network.machines_down.get("worker-2")


@pytest.mark.django_db(transaction=False)
def test_migration_makes_the_instructors_group_with_the_permission():
    group = Group.objects.get(name="instructors")
    assert [permission.codename for permission in group.permissions.all()] == ["run_workshop"]


@pytest.mark.django_db(transaction=False)
def test_schema_documents_the_workshops_api():
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = schema["paths"]
    join = paths["/api/workshops/{code}/join/"]["post"]
    assert join["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/JoinRequest")
    assert {"201", "400", "404", "409", "410", "429"} <= set(join["responses"])
    broadcast = paths["/api/workshops/{code}/broadcast/"]["post"]
    request = schema["components"]["schemas"]["BroadcastRequestRequest"]["properties"]
    assert {"action", "target", "question", "askFirst"} <= set(request)
    assert broadcast["responses"]["202"]["content"]["application/json"]["schema"]["$ref"].endswith("/Broadcast")
    created = paths["/api/workshops/"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    assert "code" in schema["components"]["schemas"][created["$ref"].split("/")[-1]]["properties"]
    roster = paths["/api/workshops/{code}/roster/"]["get"]["responses"]
    assert roster["200"]["content"]["application/json"]["schema"]["items"]["$ref"].endswith("/RosterRow")
    assert "text/csv" in paths["/api/workshops/{code}/export.csv"]["get"]["responses"]["200"]["content"]
