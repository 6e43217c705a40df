"""Shared test setup.  pytest.ini names the settings module too: pytest-django reads it before
this file is imported; the setdefault below covers tools that import tests without the ini."""
import multiprocessing
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings")

# ChannelsLiveServerTestCase starts daphne in a child process.  A forked child inherits the
# parent's running asyncio loop state and its websocket connects hang; a spawned one starts clean.
multiprocessing.set_start_method("spawn", force=True)
