"""The embedded default database, driven through the command line as a user would: created
with production settings (durable, password-only), closed to other local accounts."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg import errors

from db.embedded import (
    ADMIN_ROLE,
    APP_ROLE,
    OWNER_ROLE,
    READER_ROLE,
    EmbeddedPostgres,
    find_server_binaries,
    free_port,
)

REPO = Path(__file__).resolve().parents[1]
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="connects as other OS accounts")


def akhbar(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture
def embedded_env() -> Iterator[dict[str, str]]:
    """An environment whose akhbar uses an embedded cluster of its own (no DATABASE_URL)."""
    home = Path(tempfile.mkdtemp(prefix="akhbar-test-embedded-", dir="/tmp"))
    home.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "AKHBAR_READER_URL")}
    env["AKHBAR_PG_HOME"] = str(home / "pg")
    try:
        yield env
    finally:
        akhbar("db", "stop", env=env)
        subprocess.run(["rm", "-rf", str(home)], check=False)


def psql_as(account: str, host: str, port: int, role: str, database: str = "akhbar"):
    """psql run by another OS account, with no password to offer (-w: never prompt)."""
    clean = {"PATH": os.environ["PATH"], "HOME": "/tmp"}
    return subprocess.run(
        ["runuser", "-u", account, "--", "psql", "-w", "-h", host, "-p", str(port), "-U", role]
        + [database, "-c", "select 1"],
        env=clean,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_start_status_stop_without_database_url(embedded_env: dict[str, str]) -> None:
    env = embedded_env
    started = akhbar("db", "start", env=env)
    assert started.returncode == 0, started.stderr
    assert "Embedded PostgreSQL is running" in started.stdout
    url = akhbar("db", "url", env=env).stdout.strip()
    assert url.startswith(f"postgresql://{APP_ROLE}:")
    password = url.split("@")[0].split(":")[-1]
    assert f"{APP_ROLE}:***@" in started.stdout and password not in started.stdout
    with psycopg.connect(url) as conn:
        assert conn.execute("SHOW server_version").fetchone()[0].split(".")[0].isdigit()

    upgraded = akhbar("db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    status = akhbar("db", "status", env=env)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "embedded" in status.stdout and "articles: 0" in status.stdout
    out = " ".join(status.stdout.split())
    for expected in (
        "fsync on",
        "full_page_writes on",
        "synchronous_commit on",
        "data_checksums on",
        "password_encryption scram-sha-256",
        "this role is superuser no",
        "host 127.0.0.1 scram-sha-256",
    ):
        assert expected in out, (expected, status.stdout)
    assert "trust" not in out
    assert password not in status.stdout

    # A lost passwords file is one sentence, not a traceback, and nothing is regenerated.
    passwords = Path(env["AKHBAR_PG_HOME"]) / "passwords.json"
    passwords.rename(passwords.with_suffix(".away"))
    lost = akhbar("db", "start", env=env)
    assert lost.returncode != 0 and "passwords file" in lost.stderr, lost.stdout + lost.stderr
    assert "Traceback" not in lost.stdout + lost.stderr and not passwords.exists()
    passwords.with_suffix(".away").rename(passwords)
    assert akhbar("db", "start", env=env).returncode == 0

    stopped = akhbar("db", "stop", env=env)
    assert "Stopped" in stopped.stdout
    assert "not running" in akhbar("db", "stop", env=env).stdout


@needs_root
def test_other_local_accounts_cannot_get_in(embedded_env: dict[str, str]) -> None:
    """No password, no entry: on TCP and on the socket, for every role, from `nobody` and
    from the server's own account; the passwords file is the invoking account's alone."""
    env = embedded_env
    assert akhbar("db", "start", env=env).returncode == 0
    assert akhbar("db", "upgrade", env=env).returncode == 0
    server = EmbeddedPostgres(home=Path(env["AKHBAR_PG_HOME"]))
    port = server._port()

    for role in (ADMIN_ROLE, OWNER_ROLE, APP_ROLE, "postgres"):
        tcp = psql_as("nobody", "127.0.0.1", port, role)
        assert tcp.returncode != 0 and "password" in tcp.stderr, (role, tcp.stderr)
        assert psql_as("nobody", "localhost", port, role).returncode != 0
    by_socket = psql_as("nobody", str(server.socket_dir), port, ADMIN_ROLE, "postgres")
    assert by_socket.returncode != 0 and "Permission denied" in by_socket.stderr
    # The server's own account reaches the socket, and still needs a password there.
    own = psql_as("postgres", str(server.socket_dir), port, ADMIN_ROLE, "postgres")
    assert own.returncode != 0 and "password" in own.stderr, own.stderr
    assert stat.S_IMODE(server.socket_dir.stat().st_mode) == 0o700

    mode = stat.S_IMODE(server.passwords_file.stat().st_mode)
    assert mode == 0o600
    unreadable = subprocess.run(
        ["runuser", "-u", "nobody", "--", "cat", str(server.passwords_file)], capture_output=True
    )
    assert unreadable.returncode != 0
    passwords = json.loads(server.passwords_file.read_text())
    assert len(passwords[ADMIN_ROLE]) >= 40
    log = server.log_file.read_text() if server.log_file.exists() else ""
    assert all(password not in log for password in passwords.values())

    # The service's roles are no superusers: the application role writes rows, and cannot
    # drop the owner's tables or run programs.
    with psycopg.connect(**server.conninfo(APP_ROLE, "akhbar"), autocommit=True) as conn:
        conn.execute("INSERT INTO sources (name) VALUES ('alpha')")
        assert conn.execute(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone() == (False,)
        for statement in (
            "DROP TABLE articles",
            "ALTER TABLE articles ADD COLUMN x int",
            "COPY (SELECT 1) TO PROGRAM 'id'",
            "CREATE ROLE intruder SUPERUSER",
        ):
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(statement)
        # Its own tables (the scheduler's job store makes one) are allowed.
        conn.execute("CREATE TABLE job_store_probe (id int)")
    owner = psycopg.connect(**server.conninfo(OWNER_ROLE, "akhbar"), autocommit=True)
    with owner, pytest.raises(errors.InsufficientPrivilege):
        owner.execute("COPY (SELECT 1) TO PROGRAM 'id'")


@needs_root
def test_cluster_made_with_trust_by_an_earlier_version_is_closed_on_start(
    embedded_env: dict[str, str],
) -> None:
    """An earlier akhbar made clusters with `initdb --auth=trust` and migrated as the
    superuser: `akhbar db start` gives it passwords, and its tables to the owner role."""
    env = embedded_env
    home = Path(env["AKHBAR_PG_HOME"])
    home.mkdir(parents=True)
    (home / "socket").mkdir()
    subprocess.run(["chown", "-R", "postgres", str(home)], check=True)
    bin_dir = find_server_binaries()
    port = EmbeddedPostgres(home=home)._port()  # records nothing; a free port
    (home / "port").write_text(str(port))
    as_postgres = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [*as_postgres, str(bin_dir / "initdb"), "-D", str(home / "data"), "--username=akhbar"]
        + ["--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(home / "data"), "-l"]
        + [str(home / "server.log"), "-o", f"-k {home / 'socket'} -p {port}", "-w", "start"],
        check=True,
        capture_output=True,
    )
    old_url = f"postgresql+psycopg://akhbar@127.0.0.1:{port}/akhbar"
    with psycopg.connect(f"postgresql://akhbar@127.0.0.1:{port}/postgres", autocommit=True) as c:
        c.execute("CREATE DATABASE akhbar")
    from db import migrate

    migrate.upgrade(old_url)
    with psycopg.connect(old_url.replace("+psycopg", "")) as conn:
        conn.execute("INSERT INTO sources (name) VALUES ('kept')")
    assert psql_as("nobody", "127.0.0.1", port, "akhbar").returncode == 0  # wide open

    started = akhbar("db", "start", env=env)
    assert started.returncode == 0, started.stdout + started.stderr
    assert psql_as("nobody", "127.0.0.1", port, "akhbar").returncode != 0
    assert "trust" not in (home / "data" / "pg_hba.conf").read_text()

    url = akhbar("db", "url", env=env).stdout.strip()
    with psycopg.connect(url) as conn:  # the application role writes into the old tables
        assert conn.execute("SELECT name FROM sources").fetchall() == [("kept",)]
        conn.execute("INSERT INTO sources (name) VALUES ('new')")
    status = akhbar("db", "status", env=env)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "scram-sha-256" in status.stdout and "trust" not in status.stdout
    # Data checksums cannot be switched on while the server runs: status says so plainly.
    assert "data_checksums off" in " ".join(status.stdout.split())


def test_missing_server_binaries_say_what_to_install() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["AKHBAR_PG_BIN"] = "/nonexistent/bin"
    result = akhbar("db", "start", env=env)
    assert result.returncode == 1
    assert "has no pg_ctl" in result.stdout + result.stderr


def test_unreachable_database_url_is_named_with_password_masked() -> None:
    env = dict(os.environ, DATABASE_URL="postgresql+psycopg://reader:s3cret@127.0.0.1:9/akhbar")
    result = akhbar("db", "status", env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert "127.0.0.1:9/akhbar" in output and "s3cret" not in output
    assert "Cannot connect" in output


def test_serve_reads_as_the_read_only_role_by_default(embedded_env: dict[str, str]) -> None:
    port = free_port()
    serve = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--port", str(port)],
        cwd=REPO,
        env=embedded_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).json()
                break
            except httpx.TransportError:
                assert serve.poll() is None, serve.stderr.read() if serve.stderr else ""
                assert time.monotonic() < deadline, "akhbar serve did not answer"
                time.sleep(0.3)
        assert health["role"] == READER_ROLE and health["status"] == "ok"
    finally:
        serve.terminate()
        serve.wait(timeout=30)
