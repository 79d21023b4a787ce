"""Shared fixtures: a real PostgreSQL server for the whole session, a fresh migrated
database per test, and the sample news sites on loopback addresses."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from db.embedded import ADMIN_ROLE, EmbeddedPostgres, free_port

REPO_ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_DB = "akhbar_template"
# Throwaway test clusters trade durability for speed; production never sets these
# (db/embedded.py runs with PostgreSQL's durable defaults).
TEST_SPEED_SETTINGS = {"fsync": "off", "full_page_writes": "off", "synchronous_commit": "off"}


@pytest.fixture(scope="session")
def pg_server() -> Iterator[EmbeddedPostgres]:
    """A PostgreSQL cluster of the test session's own, on a free port, removed afterwards."""
    home = Path(tempfile.mkdtemp(prefix="akhbar-test-pg-", dir="/tmp"))
    home.chmod(0o755)  # the server may run as the unprivileged postgres account
    server = EmbeddedPostgres(
        home=home, port=free_port(), settings=TEST_SPEED_SETTINGS, sync_initdb=False
    )
    server.start()
    from db.migrate import upgrade

    _admin(server, f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}"', f'CREATE DATABASE "{TEMPLATE_DB}"')
    upgrade(_url(server, TEMPLATE_DB))
    try:
        yield server
    finally:
        server.destroy()


def _url(server: EmbeddedPostgres, name: str) -> str:
    """The cluster superuser's URL (password included) for database ``name``."""
    return server.url_for(ADMIN_ROLE, name)


def _admin(server: EmbeddedPostgres, *statements: str) -> None:
    with psycopg.connect(**server.conninfo(ADMIN_ROLE), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


@pytest.fixture
def empty_database_url(pg_server: EmbeddedPostgres) -> Iterator[str]:
    """A new database with no tables (for migration tests)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    _admin(pg_server, f'CREATE DATABASE "{name}"')
    yield _url(pg_server, name)
    _admin(pg_server, f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(pg_server: EmbeddedPostgres, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh database at the head revision (copied from a migrated template), exported as
    DATABASE_URL so subprocesses (scrapy, akhbar) use it too."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    _admin(pg_server, f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DB}"')
    url = _url(pg_server, name)
    monkeypatch.setenv("DATABASE_URL", url)
    yield url
    from db.engine import get_engine

    get_engine.cache_clear()
    _admin(pg_server, f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def subprocess_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url
    env["PYTHONPATH"] = str(REPO_ROOT)
    return env
