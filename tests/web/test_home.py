"""The landing page, in both languages, and the language switch a learner clicks."""
import re

import pytest
from channels.testing import HttpCommunicator
from django.test import Client

from web.asgi import application

ENGLISH_TITLE = "Kubernetes, from the inside"
KOREAN_TITLE = "안에서 보는 쿠버네티스"


def test_home_page_is_english_for_an_english_browser(client: Client) -> None:
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="en">' in page
    assert f"<h1>{ENGLISH_TITLE}</h1>" in page
    assert KOREAN_TITLE not in page


def test_home_page_is_korean_for_a_korean_browser(client: Client) -> None:
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="ko-KR,ko;q=0.9,en;q=0.5")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="ko">' in page
    assert f"<h1>{KOREAN_TITLE}</h1>" in page
    assert "컨트롤 플레인" in page
    assert ENGLISH_TITLE not in page


def test_unknown_browser_language_falls_back_to_english(client: Client) -> None:
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="fr-FR").content.decode()
    assert f"<h1>{ENGLISH_TITLE}</h1>" in page


def test_language_switch_overrides_the_browser_language() -> None:
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert 'name="language" value="ko"' in page

    response = browser.post("/i18n/setlang/", {"language": "ko", "next": "/", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert response["Location"] == "/"

    page = browser.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"<h1>{KOREAN_TITLE}</h1>" in page
    assert re.search(r'value="ko"[^>]*aria-pressed="true"', page)

    browser.post("/i18n/setlang/", {"language": "en", "next": "/", "csrfmiddlewaretoken": token})
    page = browser.get("/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert f"<h1>{ENGLISH_TITLE}</h1>" in page


def test_language_switch_refuses_a_post_without_csrf_token() -> None:
    browser = Client(enforce_csrf_checks=True)
    response = browser.post("/i18n/setlang/", {"language": "ko", "next": "/"})
    assert response.status_code == 403


def test_every_script_and_stylesheet_on_the_page_is_served(client: Client) -> None:
    page = client.get("/").content.decode()
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page)
    assert any("htmx-2.0.11" in asset for asset in assets)
    assert any("htmx-ext-ws" in asset for asset in assets)
    assert any(asset.endswith("app.css") for asset in assets)
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert len(body) > 100, asset


async def test_home_page_is_served_through_the_asgi_application() -> None:
    communicator = HttpCommunicator(
        application, "GET", "/", headers=[(b"host", b"localhost"), (b"accept-language", b"ko")]
    )
    response = await communicator.get_response()
    assert response["status"] == 200
    assert KOREAN_TITLE in response["body"].decode()


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]"])
def test_default_allowed_hosts_accept_local_addresses(client: Client, host: str) -> None:
    assert client.get("/", HTTP_HOST=host).status_code == 200


def test_unlisted_host_is_refused(client: Client) -> None:
    assert client.get("/", HTTP_HOST="attacker.example").status_code == 400
