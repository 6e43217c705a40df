"""The app served by a real daphne process, as `make run` serves it, sharing the test database."""
import http.cookiejar
import re
import urllib.parse
import urllib.request

from channels.testing import ChannelsLiveServerTestCase
from django.contrib.auth import get_user_model


class LiveServerTests(ChannelsLiveServerTestCase):
    serve_static = True

    def open(self, opener: urllib.request.OpenerDirector, path: str, data: dict | None = None,
             language: str = "en") -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.live_server_url + path, data=body,
                                         headers={"Accept-Language": language, "Referer": self.live_server_url + path})
        with opener.open(request, timeout=30) as response:
            return response.status, response.read().decode()

    def test_home_page_in_korean(self) -> None:
        status, page = self.open(urllib.request.build_opener(), "/", language="ko")
        assert status == 200
        assert "<h1>안에서 보는 쿠버네티스</h1>" in page

    def test_server_process_reads_the_test_database(self) -> None:
        get_user_model().objects.create_superuser("teacher", password="correct horse battery")
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        _, login_page = self.open(browser, "/admin/login/?next=/admin/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page).group(1)
        status, page = self.open(browser, "/admin/login/?next=/admin/", {
            "username": "teacher", "password": "correct horse battery", "next": "/admin/",
            "csrfmiddlewaretoken": token,
        })
        assert status == 200
        assert "Site administration" in page
