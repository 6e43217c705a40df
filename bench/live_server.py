"""A real daphne serving this repository on a free loopback port, for the benches that need one."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SERVER_START_TIMEOUT_S = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_serving(base_url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"daphne exited with {server.returncode}")
        try:
            with urllib.request.urlopen(base_url + "/", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("daphne did not answer in time")


@contextlib.contextmanager
def daphne_server(*, prefix: str, setup_script: str | None = None) -> Iterator[tuple[str, int]]:
    """(base URL, server PID) of a fresh server on its own SQLite file and in-memory channel layer;
    ``setup_script`` runs in `manage.py shell` after the migrations."""
    with tempfile.TemporaryDirectory(prefix=prefix) as directory:
        environment = dict(os.environ, DATABASE_URL=f"sqlite:///{directory}/bench.sqlite3",
                           DJANGO_SETTINGS_MODULE="web.settings", PYTHONPATH=str(REPO))
        environment.pop("REDIS_URL", None)  # one process: the in-memory channel layer
        subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO, env=environment, check=True)
        if setup_script:
            subprocess.run([PYTHON, "manage.py", "shell", "-c", setup_script], cwd=REPO, env=environment, check=True)
        port = free_port()
        log = open(f"{directory}/daphne.log", "w")
        server = subprocess.Popen([str(Path(PYTHON).parent / "daphne"), "-b", "127.0.0.1", "-p", str(port),
                                   "web.asgi:application"], cwd=REPO, env=environment,
                                  stdout=subprocess.DEVNULL, stderr=log)
        try:
            base_url = f"http://127.0.0.1:{port}"
            try:
                wait_until_serving(base_url, server)
            except RuntimeError:
                print(Path(f"{directory}/daphne.log").read_text()[-3000:], file=sys.stderr)
                raise
            yield base_url, server.pid
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
            log.close()
