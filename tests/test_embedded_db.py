"""The embedded default database, driven through the command line as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[1]


def akhbar(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "akhbar.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_start_status_stop_without_database_url() -> None:
    home = Path(tempfile.mkdtemp(prefix="akhbar-test-embedded-", dir="/tmp"))
    home.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["AKHBAR_PG_HOME"] = str(home / "pg")
    try:
        started = akhbar("db", "start", env=env)
        assert started.returncode == 0, started.stderr
        assert "Embedded PostgreSQL is running" in started.stdout

        url = akhbar("db", "url", env=env).stdout.strip()
        assert url.startswith("postgresql://akhbar@127.0.0.1:")
        with psycopg.connect(url) as conn:
            assert conn.execute("SHOW server_version").fetchone()[0].split(".")[0].isdigit()

        upgraded = akhbar("db", "upgrade", env=env)
        assert upgraded.returncode == 0, upgraded.stderr
        status = akhbar("db", "status", env=env)
        assert "embedded" in status.stdout and "articles: 0" in status.stdout

        stopped = akhbar("db", "stop", env=env)
        assert "Stopped" in stopped.stdout
        assert "not running" in akhbar("db", "stop", env=env).stdout
    finally:
        akhbar("db", "stop", env=env)
        subprocess.run(["rm", "-rf", str(home)], check=False)


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
