"""A production daphne borrows PostgreSQL connections from a pool (web/settings.py, DATABASE_POOL)
instead of opening one, and so making PostgreSQL start a backend, for nearly every request and job.

Counted by PostgreSQL itself: pg_stat_database.sessions, the sessions established to the app's
database, before the daphne starts and after it has gone (its backends then have flushed their
statistics). The control runs the same requests with DATABASE_POOL=0 and sees at least one new
session per request: the count does see what the pool saves."""
from __future__ import annotations

import concurrent.futures
import json
import time
from pathlib import Path

import psycopg

from tests.prod.servers import POLL_ATTEMPTS, Client, Daphne, manage

LEARNERS = 6  # at once, each in its own session with a cluster of its own
READS_PER_LEARNER = 30
# This test's own connection, counted once its statistics reach the server, and a few to spare.
MARGIN = 3


def pool_options(env: dict) -> dict | None:
    """OPTIONS["pool"] of the settings a process started with ``env`` runs with (None: no pool)."""
    done = manage(env, "shell", "-c", "import json; from django.conf import settings; "
                  "print(json.dumps(settings.DATABASES['default']['OPTIONS'].get('pool')))")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def sessions_established(checker: psycopg.Connection) -> int:
    return checker.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()").fetchone()[0]


def wait_for_no_other_clients(checker: psycopg.Connection) -> None:
    """Until no other client is connected to the database: a backend counts its session in the
    statistics by the time it exits at the latest."""
    for _attempt in range(POLL_ATTEMPTS):
        others = checker.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                                 " AND backend_type = 'client backend' AND pid <> pg_backend_pid()").fetchone()[0]
        if others == 0:
            return
        time.sleep(0.05)
    raise AssertionError(f"{others} other connections to the database stayed open")


def learner(server: Daphne, seed: int) -> int:
    """Create a cluster, then read it: each request looks the session up in the database."""
    client = Client()
    code, cluster, _ = client.call(server.url, "POST", "/api/clusters/",
                                   {"scenario": "basic", "seed": seed, "paused": True, "startTime": "scenario"})
    assert code == 201, cluster
    for _read in range(READS_PER_LEARNER):
        code, seen, _ = client.call(server.url, "GET", f"/api/clusters/{cluster['id']}/")
        assert code == 200, seen
    return 1 + READS_PER_LEARNER


def sessions_opened_by_one_daphne(env: dict, log_path: Path) -> tuple[int, int]:
    """(new PostgreSQL sessions, HTTP requests) of one daphne serving LEARNERS at once, from its
    start until it is killed."""
    server = Daphne(env, log_path)
    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as checker:
        wait_for_no_other_clients(checker)  # earlier tests' servers' connections have gone
        before = sessions_established(checker)
        server.start()
        try:
            with concurrent.futures.ThreadPoolExecutor(max_workers=LEARNERS) as learners:
                requests = sum(learners.map(lambda seed: learner(server, seed), range(LEARNERS)))
        except AssertionError as failure:
            raise AssertionError(f"{failure}\n{server.log_tail()}") from failure
        finally:
            server.kill()
        wait_for_no_other_clients(checker)
        return sessions_established(checker) - before, requests


def test_a_production_daphne_borrows_connections_from_a_pool(production_env: dict, tmp_path: Path):
    pool = pool_options(production_env)
    max_size = pool["max_size"] if pool else 0
    opened, requests = sessions_opened_by_one_daphne(production_env, tmp_path / "daphne.log")
    assert opened <= max_size + MARGIN and opened * 4 < requests, (
        f"{requests} requests made PostgreSQL start {opened} sessions: more than the pool's {max_size}"
        f" connections (+{MARGIN}) or a quarter of the requests; is the pool off? OPTIONS['pool'] = {pool}")


def test_control_without_the_pool_each_request_starts_a_postgresql_session(production_env: dict, tmp_path: Path):
    env = dict(production_env, DATABASE_POOL="0")
    assert pool_options(env) is None
    opened, requests = sessions_opened_by_one_daphne(env, tmp_path / "daphne.log")
    assert opened >= requests, f"{requests} requests without the pool started only {opened} PostgreSQL sessions"
