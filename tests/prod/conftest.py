"""Session fixtures: one real PostgreSQL and one real Redis for all of tests/prod, the app's
database migrated and its static files collected once."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.prod.servers import ServiceDirectory, ensure_installed, manage, production_environment


@pytest.fixture(scope="session")
def services():
    ensure_installed()
    directory = ServiceDirectory()
    try:
        yield directory
    finally:
        directory.close()


@pytest.fixture(scope="session")
def postgres_url(services: ServiceDirectory) -> str:
    return services.start_postgres()


@pytest.fixture(scope="session")
def redis_url(services: ServiceDirectory) -> str:
    return services.start_redis()


@pytest.fixture(scope="session")
def production_env(postgres_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """What every production daphne of a test gets: PostgreSQL, Redis, collected static files."""
    static_root: Path = tmp_path_factory.mktemp("staticfiles")
    env = production_environment(DATABASE_URL=postgres_url, REDIS_URL=redis_url, DJANGO_STATIC_ROOT=str(static_root))
    for command in (("migrate", "--noinput", "-v", "0"), ("collectstatic", "--noinput", "-v", "0")):
        done = manage(env, *command)
        assert done.returncode == 0, f"manage.py {command[0]} failed:\n{done.stdout}\n{done.stderr}"
    return env
