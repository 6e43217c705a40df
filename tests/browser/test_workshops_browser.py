"""A workshop in Chromium: an instructor and three students in separate browser contexts (one of
them in Korean) join, the instructor broadcasts node.fail worker-2, every student's cluster shows
it, the class view updates, and the instructor watches a student's cluster read-only.
Screenshots (en and ko) go to $WORKSHOP_SCREENSHOTS (default /tmp/workshop-shots)."""
import os
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission, User
from playwright.sync_api import expect

from tests.browser.chromium_case import ChromiumLiveServerTestCase

SHOTS = Path(os.environ.get("WORKSHOP_SCREENSHOTS", "/tmp/workshop-shots"))
STUDENTS = [("Ada", "en"), ("Grace", "en"), ("지민", "ko")]
ADVANCE_CLOCK = """async ([id, advance]) => {
    const token = document.cookie.match(/csrftoken=([^;]+)/)[1];
    const answer = await fetch(`/api/clusters/${id}/clock/`, {method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": token}, body: JSON.stringify({advance})});
    return answer.status;
}"""


@pytest.mark.browser
class WorkshopBrowserTests(ChromiumLiveServerTestCase):
    shots = SHOTS

    def shot(self, page, name, full_page=True):
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)

    def sign_in_teacher(self):
        group, _created = Group.objects.get_or_create(name="instructors")
        group.permissions.add(Permission.objects.get(codename="run_workshop"))
        User.objects.create_user("teacher", password="correct horse").groups.add(group)
        teacher = self.new_context_page()
        teacher.goto(self.live_server_url + "/workshops/")
        teacher.get_by_label("User name").fill("teacher")
        teacher.get_by_label("Password").fill("correct horse")
        teacher.get_by_role("button", name="Sign in").click()
        return teacher

    def join(self, code, name, language):
        page = self.new_context_page(language=language)
        page.goto(self.live_server_url + "/join/")
        page.get_by_label("워크숍 코드" if language == "ko" else "Workshop code").fill(code.lower())
        page.get_by_role("button", name="다음" if language == "ko" else "Next").click()
        page.get_by_label("이름" if language == "ko" else "Your name").fill(name)
        if name in ("Ada", "지민"):
            self.shot(page, f"join-{language}", full_page=False)
        page.get_by_role("button", name="참가" if language == "ko" else "Join", exact=True).click()
        expect(page.locator("#workshop-bar")).to_contain_text(name)
        return page

    def advance_every_student(self, students, advance):
        from workshops.models import Student
        for page, (name, _language) in zip(students, STUDENTS):
            cluster_id = Student.objects.get(name=name).cluster_id
            assert page.evaluate(ADVANCE_CLOCK, [cluster_id, advance]) == 200

    def test_broadcast_reaches_three_students_and_the_class_view(self):
        teacher = self.sign_in_teacher()
        teacher.get_by_label("Title").fill("Node failure lab")
        teacher.get_by_label("Worker node failure").check()
        self.shot(teacher, "dashboard")
        teacher.get_by_role("button", name="Create workshop").click()
        code = teacher.locator("#join-code").inner_text().strip()
        self.shot(teacher, "workshop-en")

        students = [self.join(code, name, language) for name, language in STUDENTS]
        # The lesson's six web pods come up within half a minute of virtual time.
        self.advance_every_student(students, "30s")

        teacher.get_by_role("link", name="Open the class view").click()
        tiles = teacher.locator("article.ws-tile")
        expect(tiles).to_have_count(3)
        expect(tiles.filter(has_text="pods 6/6")).to_have_count(3, timeout=20_000)
        teacher.get_by_label("Action").select_option("node.fail")
        teacher.get_by_label("Target").fill("worker-2")
        teacher.get_by_role("button", name="Broadcast to everyone").click()
        expect(teacher.locator(".ws-messages")).to_contain_text("Sent to every student's cluster")
        for page, (_name, language) in zip(students, STUDENTS):
            banner = page.locator("#workshop-banner")
            expect(banner).to_contain_text("node.fail worker-2", timeout=15_000)
            expect(banner).to_contain_text("강사가" if language == "ko" else "The instructor")
            # The cluster view marks the powered-off machine (its own fragment, from the cluster's socket).
            expect(page.locator("#cluster-overlay")).to_contain_text("worker-2", timeout=15_000)
        self.shot(students[0], "student-banner-en", full_page=False)
        self.shot(students[2], "student-banner-ko", full_page=False)
        expect(teacher.locator('article.ws-tile .ws-down[title="worker-2"]')).to_have_count(3, timeout=20_000)
        # NotReady comes 50 s (virtual) after the last heartbeat: each student runs their clock 90 s.
        self.advance_every_student(students, "90s")
        expect(tiles.filter(has_text="pods 6/6")).to_have_count(3, timeout=20_000)  # 300 s toleration
        self.shot(teacher, "class-view-en")

        with teacher.context.expect_page() as opened:
            tiles.filter(has_text="Ada").get_by_role("link").click()
        watching = opened.value
        expect(watching.locator(".cv-watching")).to_contain_text("Watching Ada's cluster (read-only)")
        expect(watching.locator("#cluster-overlay")).to_contain_text("worker-2")
        expect(watching.locator(".cv-controls")).to_have_count(0)
        expect(watching.locator("#cluster-view button")).to_have_count(0)
        self.shot(watching, "watch-student-en", full_page=False)

        teacher.get_by_role("button", name="한국어").click()
        expect(teacher.locator("h2#ws-controls-title")).to_have_text("수업 진행")
        expect(tiles.filter(has_text="파드 6/6")).to_have_count(3, timeout=20_000)
        self.shot(teacher, "class-view-ko")
        teacher.get_by_role("link", name="참가 코드와 QR").click()
        expect(teacher.locator("#join-code")).to_have_text(code)
        self.shot(teacher, "workshop-ko")
