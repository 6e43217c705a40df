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
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DAPHNE = str(Path(PYTHON).parent / "daphne")
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
def daphne_server(*, prefix: str, setup_script: str | None = None,
                  launcher: list[str] | None = None) -> Iterator[tuple[str, int]]:
    """(base URL, server PID) of a fresh server on its own SQLite file and in-memory channel layer;
    ``setup_script`` runs in `manage.py shell` after the migrations; ``launcher`` replaces the
    daphne executable (e.g. a profiling wrapper taking daphne's arguments)."""
    with tempfile.TemporaryDirectory(prefix=prefix) as directory:
        environment = dict(os.environ, DATABASE_URL=f"sqlite:///{directory}/bench.sqlite3",
                           DJANGO_SETTINGS_MODULE="web.settings", PYTHONPATH=str(REPO))
        environment.pop("REDIS_URL", None)  # one process: the in-memory channel layer
        subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO, env=environment, check=True)
        if setup_script:
            subprocess.run([PYTHON, "manage.py", "shell", "-c", setup_script], cwd=REPO, env=environment, check=True)
        port = free_port()
        log = open(f"{directory}/daphne.log", "w")
        server = subprocess.Popen([*(launcher or [DAPHNE]), "-b", "127.0.0.1", "-p", str(port),
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


@dataclass
class ProductionServers:
    """What `production_servers` started: the daphne base URLs and every server process's PID."""
    base_urls: list[str]
    daphne_pids: list[int]
    redis_pid: int
    postgres_pid: int


@contextlib.contextmanager
def production_servers(*, processes: int = 2) -> Iterator[ProductionServers]:
    """``processes`` daphne processes in production mode (DJANGO_DEBUG=0) sharing a fresh PostgreSQL
    and Redis, started as tests/prod/servers.py starts them (scripts/start-postgres.sh,
    scripts/start-redis.sh on free ports, files in a temporary directory removed afterwards)."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from tests.prod.servers import Daphne, ServiceDirectory, ensure_installed, manage, production_environment

    ensure_installed()
    services = ServiceDirectory()
    daphnes: list[Daphne] = []
    try:
        postgres_url, redis_url = services.start_postgres(), services.start_redis()
        static_root = services.path / "static"
        environment = production_environment(DATABASE_URL=postgres_url, REDIS_URL=redis_url,
                                             DJANGO_STATIC_ROOT=str(static_root), PYTHONPATH=str(REPO))
        for command in (("migrate", "--noinput", "-v", "0"), ("collectstatic", "--noinput", "-v", "0")):
            done = manage(environment, *command)
            if done.returncode != 0:
                raise RuntimeError(f"manage.py {command[0]} failed:\n{done.stdout}\n{done.stderr}")
        for index in range(processes):
            daphnes.append(Daphne(environment, services.path / f"daphne-{index}.log").start())
        for daphne in daphnes:
            wait_until_serving(daphne.url, daphne.process)
        yield ProductionServers(
            base_urls=[daphne.url for daphne in daphnes], daphne_pids=[daphne.process.pid for daphne in daphnes],
            redis_pid=int((services.path / "redis" / "redis.pid").read_text().split()[0]),
            postgres_pid=int((services.path / "postgres" / "data" / "postmaster.pid").read_text().split()[0]))
    finally:
        for daphne in daphnes:
            if daphne.process is not None and daphne.process.poll() is None:
                daphne.process.terminate()
                try:
                    daphne.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    daphne.kill()
        services.close()
