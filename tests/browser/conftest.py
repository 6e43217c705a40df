"""Browser tests drive Debian's Chromium through Playwright against a live daphne server.

Run them in their own pytest call (pytest-playwright-style event loops and the asyncio tests do
not mix): `.venv/bin/python -m pytest tests/browser -m browser`.
"""
import os


def pytest_configure(config):
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
