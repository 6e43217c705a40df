"""The live server + Debian's Chromium that every browser test class runs on (stack.md's flags)."""
import os
from pathlib import Path

from channels.testing import ChannelsLiveServerTestCase
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


class ChromiumLiveServerTestCase(ChannelsLiveServerTestCase):
    """Subclasses set ``shots`` (where their screenshots go)."""

    serve_static = True
    shots: Path = Path("/tmp/screens")

    @classmethod
    def setUpClass(cls):
        os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        super().setUpClass()
        cls.playwright = sync_playwright().start()
        cls.browser = cls.playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        cls.shots.mkdir(parents=True, exist_ok=True)

    @classmethod
    def tearDownClass(cls):
        cls.browser.close()
        cls.playwright.stop()
        super().tearDownClass()

    def new_context_page(self, *, width: int = 1400, height: int = 900, language: str = "en"):
        """A page in a browser context of its own (its own cookies: its own learner)."""
        context = self.browser.new_context(viewport={"width": width, "height": height}, locale=language,
                                           extra_http_headers={"Accept-Language": language})
        self.addCleanup(context.close)
        return context.new_page()
