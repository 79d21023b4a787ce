"""The read-only role, created by the documented command, on the real server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from psycopg import errors

from cli.commands.roles import DEFAULT_ROLE, create_reader

REPO = Path(__file__).resolve().parents[1]


def _connect_as(url: str, role: str, password: str | None = None) -> psycopg.Connection:
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    params = psycopg.conninfo.conninfo_to_dict(conninfo)
    params["user"] = role
    if password:
        params["password"] = password
    return psycopg.connect(**params, autocommit=True)


def _seed(url: str) -> None:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute("INSERT INTO sources (name) VALUES ('alpha')")
        conn.execute(
            "INSERT INTO articles (source_id, url, canonical_url, title, body, content_hash, "
            "fetched_at) SELECT id, 'http://a/1', 'http://a/1', 'عنوان', 'نص الخبر', "
            "sha256('x'), now() FROM sources"
        )


def test_create_reader_command_then_reader_reads_and_cannot_write(database_url: str) -> None:
    _seed(database_url)
    env = {**os.environ, "DATABASE_URL": database_url, "READER_PW": "s3cret"}
    create_reader(database_url)  # a first run; the command below must cope (idempotent)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cli",
            "db",
            "create-reader",
            "--password-env",
            "READER_PW",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert DEFAULT_ROLE in done.stdout and "s3cret" not in done.stdout

    with _connect_as(database_url, DEFAULT_ROLE, "s3cret") as conn:
        assert conn.execute("SELECT count(*) FROM v_articles").fetchone() == (1,)
        for relation in (
            "sources",
            "articles",
            "duplicates",
            "crawl_runs",
            "v_syndication",
            "v_daily_counts",
            "alembic_version",
        ):
            conn.execute(f"SELECT * FROM {relation} LIMIT 1")
        # Writes fail on privileges, not only on the read-only default: lift that first.
        conn.execute("SET default_transaction_read_only = off")
        attempts = [
            "INSERT INTO sources (name) VALUES ('evil')",
            "UPDATE articles SET title = 'x'",
            "DELETE FROM duplicates",
            "TRUNCATE crawl_runs",
            "CREATE TABLE public.mine (id int)",
            "SELECT * FROM article_html",
            "SELECT * FROM minhash_bands",
        ]
        for statement in attempts:
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(statement)
        conn.execute("RESET default_transaction_read_only")
        with pytest.raises(errors.ReadOnlySqlTransaction):
            conn.execute("CREATE TEMP TABLE t (id int)")


def test_new_tables_give_the_reader_nothing(database_url: str) -> None:
    create_reader(database_url, password="reader-pw")
    with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute("CREATE TABLE later_table (id int)")
        conn.commit()
    with _connect_as(database_url, DEFAULT_ROLE, "reader-pw") as conn:
        conn.execute("SET default_transaction_read_only = off")
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("INSERT INTO later_table VALUES (1)")
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM later_table")
