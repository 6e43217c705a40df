"""A learner in Chromium: the lesson list, a lesson in both languages, "Show me" and "Check",
and progress still there after a reload. Screenshots go to $LESSON_SCREENSHOTS (default
/tmp/lessons-shots)."""
import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.chromium_case import ChromiumLiveServerTestCase

SHOTS = Path(os.environ.get("LESSON_SCREENSHOTS", "/tmp/lessons-shots"))


@pytest.mark.browser
class LessonBrowserTests(ChromiumLiveServerTestCase):
    shots = SHOTS

    def new_page(self, language: str):
        return self.new_context_page(language=language)

    def test_lesson_list_and_a_lesson_in_both_languages(self):
        for language, list_heading, lesson_heading in [("en", "Lessons", "Worker node failure"),
                                                       ("ko", "강의", "워커 노드 장애")]:
            page = self.new_page(language)
            page.goto(self.live_server_url + "/lessons/")
            expect(page.locator("h1")).to_have_text(list_heading)
            expect(page.locator(".lesson-card")).to_have_count(15)
            page.screenshot(path=str(SHOTS / f"browser-list-{language}.png"))
            page.get_by_role("link", name=lesson_heading).click()
            expect(page.locator(".lesson-header h1")).to_have_text(lesson_heading)
            expect(page.locator("#lesson-steps")).to_be_visible()
            page.screenshot(path=str(SHOTS / f"browser-lesson-{language}.png"))

    def test_complete_steps_with_show_me_and_check_then_reload(self):
        page = self.new_page("en")
        page.goto(self.live_server_url + "/lessons/why-orchestration/")
        steps = page.locator("#lesson-steps")
        steps.get_by_role("button", name="Show me").click()
        expect(steps.locator(".steps-message")).to_contain_text("Done. Watch the cluster")
        steps.get_by_role("button", name="Check").click()
        expect(steps.locator(".steps-message")).to_contain_text("Step done: Watch three replicas")
        expect(page.locator("#steps-progress-text")).to_have_text("1 of 3 steps done")

        steps.get_by_role("button", name="Show me").click()  # scale to six
        expect(page.locator("#lesson-goal-status")).to_contain_text("met — press Check", timeout=20_000)
        steps.get_by_role("button", name="Check").click()
        expect(page.locator("#steps-progress-text")).to_have_text("2 of 3 steps done")
        page.screenshot(path=str(SHOTS / "browser-progress-en.png"))

        page.reload()
        expect(page.locator("#steps-progress-text")).to_have_text("2 of 3 steps done")
        expect(page.locator('li.step[aria-current="step"]')).to_contain_text("Shrink back to two")

        page.get_by_role("button", name="한국어").click()  # the site's language switch
        expect(page.locator(".lesson-header h1")).to_have_text("왜 오케스트레이션인가")
        expect(page.locator("#steps-progress-text")).to_have_text("3단계 중 2단계 완료")
        page.screenshot(path=str(SHOTS / "browser-progress-ko.png"))
