"""A workshop in Chromium: an instructor and three students in separate browser contexts join,
the instructor broadcasts node.fail worker-2, every student's cluster shows it and the class view
updates. Screenshots go to $WORKSHOP_SCREENSHOTS (default /tmp/workshop-shots)."""
import os
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission, User
from playwright.sync_api import expect

from tests.browser.chromium_case import ChromiumLiveServerTestCase

SHOTS = Path(os.environ.get("WORKSHOP_SCREENSHOTS", "/tmp/workshop-shots"))


@pytest.mark.browser
class WorkshopBrowserTests(ChromiumLiveServerTestCase):
    shots = SHOTS

    def new_page(self):
        return self.new_context_page()

    def test_broadcast_reaches_three_students_and_the_class_view(self):
        group, _created = Group.objects.get_or_create(name="instructors")
        group.permissions.add(Permission.objects.get(codename="run_workshop"))
        User.objects.create_user("teacher", password="correct horse").groups.add(group)
        url = self.live_server_url
        teacher = self.new_page()
        teacher.goto(url + "/workshops/")
        teacher.get_by_label("User name").fill("teacher")
        teacher.get_by_label("Password").fill("correct horse")
        teacher.get_by_role("button", name="Sign in").click()
        teacher.get_by_label("Title").fill("Node failure lab")
        teacher.get_by_label("Worker node failure").check()
        teacher.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True)
        teacher.get_by_role("button", name="Create workshop").click()
        code = teacher.locator("#join-code").inner_text().strip()
        teacher.screenshot(path=str(SHOTS / "workshop.png"), full_page=True)

        students = []
        for name in ("Ada", "Grace", "Linus"):
            page = self.new_page()
            page.goto(url + "/join/")
            page.get_by_label("Workshop code").fill(code.lower())
            page.get_by_role("button", name="Next").click()
            page.get_by_label("Your name").fill(name)
            if name == "Ada":
                page.screenshot(path=str(SHOTS / "join.png"))
            page.get_by_role("button", name="Join").click()
            expect(page.locator("#workshop-bar")).to_contain_text(name)
            students.append(page)

        teacher.get_by_role("link", name="Open the class view").click()
        expect(teacher.locator("article.ws-tile")).to_have_count(3)
        teacher.get_by_label("Action").select_option("node.fail")
        teacher.get_by_label("Target").fill("worker-2")
        teacher.get_by_role("button", name="Broadcast to everyone").click()
        expect(teacher.locator(".ws-messages")).to_contain_text("Sent to every student's cluster")
        for page in students:
            expect(page.locator("#workshop-banner")).to_contain_text("node.fail worker-2", timeout=15_000)
            # The cluster view marks the powered-off machine (its own fragment, from the cluster's socket).
            expect(page.locator("#cluster-log, #main")).to_contain_text("worker-2", timeout=15_000)
        students[0].screenshot(path=str(SHOTS / "student-after-broadcast.png"))
        # The node turns NotReady 50 s (virtual) after its last heartbeat: each student advances
        # their own clock 90 s through the clusters API, in their own session.
        from workshops.models import Student
        for page, name in zip(students, ("Ada", "Grace", "Linus")):
            cluster_id = Student.objects.get(name=name).cluster_id
            status = page.evaluate("""async (id) => {
                const token = document.cookie.match(/csrftoken=([^;]+)/)[1];
                const answer = await fetch(`/api/clusters/${id}/clock/`, {method: "POST", credentials: "same-origin",
                    headers: {"Content-Type": "application/json", "X-CSRFToken": token},
                    body: JSON.stringify({advance: "90s"})});
                return answer.status;
            }""", cluster_id)
            assert status == 200
        expect(teacher.locator('article.ws-tile .ws-notready[title="worker-2"]')).to_have_count(3, timeout=20_000)
        teacher.screenshot(path=str(SHOTS / "class-view.png"), full_page=True)
