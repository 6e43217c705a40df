"""Real PostgreSQL, Redis and daphne processes for the production-mode tests.

PostgreSQL and Redis are started by the same scripts `make serve-prod` uses
(scripts/start-postgres.sh, scripts/start-redis.sh), on free loopback ports, with their files in a
temporary directory that is removed afterwards.
"""
from __future__ import annotations

import http.cookiejar
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Guards against a hung process only; no test asserts how long anything takes.
GUARD_S = 120
POLL_ATTEMPTS = 1200  # of 50 ms
SECRET_KEY = "prod-tests-" + "k" * 50


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ensure_installed() -> None:
    """`make test` installs PostgreSQL and Redis (scripts/system-packages.txt); a bare pytest run too."""
    if not _postgres_present() or shutil.which("redis-server") is None:
        subprocess.run([str(ROOT / "scripts" / "ensure-system-packages.sh"), "test"], check=False, timeout=900)
    missing = [name for name, present in (("postgresql", _postgres_present()),
                                          ("redis-server", shutil.which("redis-server") is not None)) if not present]
    if missing:
        raise AssertionError(f"tests/prod need the Debian packages {missing}: run `make test` as root, "
                             f"or apt-get install {' '.join(missing)}")


def _postgres_present() -> bool:
    return shutil.which("initdb") is not None or any(Path("/usr/lib/postgresql").glob("*/bin/initdb"))


def _wait_gone(pid: int) -> None:
    for _attempt in range(POLL_ATTEMPTS):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)


class ServiceDirectory:
    """A world-traversable temporary directory: as root, PostgreSQL runs as the postgres user."""

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="prod-tests-", dir="/tmp"))
        self.path.chmod(0o755)
        self._stops: list = []

    def start_postgres(self) -> str:
        return self._start("start-postgres.sh", "postgres", lambda home: home / "data" / "postmaster.pid",
                           signal.SIGINT)

    def start_redis(self) -> str:
        return self._start("start-redis.sh", "redis", lambda home: home / "redis.pid", signal.SIGTERM)

    def _start(self, script: str, name: str, pid_file, stop_signal: signal.Signals) -> str:
        home = self.path / name
        started = subprocess.run([str(ROOT / "scripts" / script), str(home), str(free_port())],
                                 capture_output=True, text=True, timeout=GUARD_S)
        if started.returncode != 0:
            raise AssertionError(f"{script} failed ({started.returncode}):\n{started.stderr}")
        pid = int(pid_file(home).read_text().split()[0])
        self._stops.append((pid, stop_signal))
        return started.stdout.strip().splitlines()[-1]

    def close(self) -> None:
        for pid, stop_signal in reversed(self._stops):
            try:
                os.kill(pid, stop_signal)
            except ProcessLookupError:
                continue
            _wait_gone(pid)
        shutil.rmtree(self.path, ignore_errors=True)


def production_environment(**overrides: str) -> dict:
    """The app's production settings (web/settings.py), plain HTTP on loopback unless overridden."""
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="web.settings", DJANGO_DEBUG="0", DJANGO_SECRET_KEY=SECRET_KEY,
               DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost", DJANGO_HTTPS="0")
    for name in ("DJANGO_ALLOW_ASYNC_UNSAFE", "WEB_TEST_DATABASE_NAME"):
        env.pop(name, None)
    env.update(overrides)
    return env


def manage(env: dict, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *arguments], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=GUARD_S)


class Daphne:
    """One daphne process of the app; start, kill -9, start again on the same port."""

    def __init__(self, env: dict, log_path: Path):
        self.port = free_port()
        # As `make serve-prod` names its processes: a restart on the same port takes over at once.
        self.env = dict(env, APP_PROCESS_NAME=f"127.0.0.1:{self.port}")
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Daphne":
        daphne = str(Path(sys.executable).parent / "daphne")
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen([daphne, "-b", "127.0.0.1", "-p", str(self.port), "web.asgi:application"],
                                            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        for _attempt in range(POLL_ATTEMPTS):
            if self.process.poll() is not None:
                raise AssertionError(f"daphne exited ({self.process.returncode}):\n{self.log_tail()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"daphne did not start listening:\n{self.log_tail()}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=GUARD_S)

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""


class Client:
    """A script with a cookie jar, as docs/api.md's curl helper; `token` for instructors."""

    def __init__(self, token: str = ""):
        self.jar = http.cookiejar.CookieJar()
        self.token = token
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def cookie(self, name: str) -> str:
        return next((cookie.value for cookie in self.jar if cookie.name == name), "")

    def call(self, base: str, method: str, path: str, body: dict | None = None,
             headers: dict | None = None) -> tuple[int, dict | str, dict]:
        all_headers = {"Content-Type": "application/json", "X-CSRFToken": self.cookie("csrftoken"), "Origin": base}
        if self.token:
            all_headers["Authorization"] = f"Token {self.token}"
        all_headers.update(headers or {})
        request = urllib.request.Request(base + path, method=method, headers=all_headers,
                                         data=json.dumps(body).encode() if body is not None else None)
        try:
            with self.opener.open(request, timeout=GUARD_S) as response:
                return response.status, _decode(response.read(), response.headers), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, _decode(error.read(), error.headers), dict(error.headers)


def _decode(raw: bytes, headers) -> dict | str:
    if "json" in headers.get("Content-Type", ""):
        return json.loads(raw or b"null")
    return raw.decode(errors="replace")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
