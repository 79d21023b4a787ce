"""Every mistake a person can make on the command line gets one sentence on stderr, no
traceback and a non-zero exit code. Real subprocesses against the real test database, a dead
server (a free port nobody listens on) and a database that was never migrated."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from db.embedded import free_port
from tests.crawl_helpers import akhbar, make_site, query


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _assert_clean_failure(
    result: subprocess.CompletedProcess[str], message: str, code: int
) -> None:
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.returncode == code, (result.returncode, output)
    assert message in _one_line(result.stderr), result.stderr


@pytest.fixture
def env(tmp_path: Path, subprocess_env: dict[str, str]) -> dict[str, str]:
    """The real test database and a one-source registry (tiny); no site needs to run."""
    root = make_site(tmp_path, articles=1)
    return {
        **subprocess_env,
        "AKHBAR_SOURCES": str(root / "sources.toml"),
        "AKHBAR_SAMPLES_PORT": "1",
        "AKHBAR_VAR_DIR": str(root / "var"),
    }


RUN_STATUS_LIST = "running, finished, failed, interrupted"

# (arguments, the sentence on stderr, exit code)
MISTAKES = [
    (["crawl", "tiny", "--since", "bogus"], "--since='bogus' is not a valid time bound", 2),
    (["crawl", "tiny", "--since", "3w"], "--since='3w' is not a valid time bound", 2),
    (
        ["crawl", "tiny", "--limit", "-5"],
        "Invalid value for '--limit': Input should be greater than or equal to 1",
        2,
    ),
    (["crawl", "nosuch"], "Unknown source: nosuch. Known sources: tiny.", 2),
    (["crawl"], "Name at least one source, or --all. Known sources: tiny.", 2),
    (
        ["runs", "-n", "-1"],
        "Invalid value for '--limit' / '-n': Input should be greater than or equal to 1",
        2,
    ),
    (
        ["runs", "--status", "bogus"],
        f"Unknown status: bogus. Valid statuses: {RUN_STATUS_LIST}.",
        2,
    ),
    (["runs", "--source", "nosuch"], "Unknown source: nosuch. Known sources: tiny.", 2),
    (["export", "--source", "nosuch"], "Unknown source: nosuch. Known sources: tiny.", 2),
    (["export", "--since", "next week"], "--since='next week' is not a valid time bound", 2),
    (["reprocess", "--source", "nosuch"], "Unknown source: nosuch. Known sources: tiny.", 2),
    (["search", "x", "--source", "nosuch"], "Unknown source: nosuch. Known sources: tiny.", 2),
    (["search", "x", "--since", "bogus"], "--since='bogus' is not a valid time bound", 2),
    (["search", "x", "--until", "2024-02-30"], "--until='2024-02-30' is not a valid time bound", 2),
    (["schedule", "--timezone", "Mars/Base"], "Unknown time zone: Mars/Base.", 2),
    (["schedule", "--time", "25:00"], "--time '25:00' is not a time of day; use HH:MM", 2),
    (["sources", "check", "nosuch"], "Unknown source: nosuch. Known sources: tiny.", 2),
    (["dedup", "nowhere.jsonl"], "error: nowhere.jsonl: no such file", 2),
    (["dedup-index", "rebuild", "--workers", "-1"], "--workers must be 0 or more, not -1.", 2),
]


@pytest.mark.parametrize(
    ("args", "message", "code"), MISTAKES, ids=[" ".join(m[0]) for m in MISTAKES]
)
def test_mistakes_are_one_sentence(
    env: dict[str, str], args: list[str], message: str, code: int
) -> None:
    _assert_clean_failure(akhbar(*args, env=env), message, code)


# Mistakes Typer itself catches, before any command runs: (arguments, the whole stderr).
USAGE_ERRORS = [
    (
        ["runs", "--limit", "-5"],
        "error: Invalid value for '--limit' / '-n': Input should be greater than or equal to 1",
    ),
    (
        ["runs", "--limit", "many"],
        "error: Invalid value for '--limit' / '-n': Input should be a valid integer, "
        "unable to parse string as an integer",
    ),
    (
        ["dedup-index", "rebuild", "--workers", "many"],
        "error: Invalid value for '--workers': Input should be a valid integer, "
        "unable to parse string as an integer",
    ),
    (["search"], "error: Missing argument 'query'."),
    (["sources", "--jsn"], "error: No such option: --jsn (Possible options: --json)"),
    (["crawlx"], "error: No such command 'crawlx'. Did you mean 'crawl'?"),
    (["db", "upgrade", "head", "extra"], "error: Got unexpected extra argument(s) (extra)"),
]


@pytest.mark.parametrize(
    ("args", "stderr"), USAGE_ERRORS, ids=[" ".join(u[0]) for u in USAGE_ERRORS]
)
def test_usage_errors_are_one_line_without_a_box(
    args: list[str], stderr: str, tmp_path: Path
) -> None:
    """A bad option value, a missing argument, an unknown option or command: exactly the one
    line of `error: ...` on stderr (no usage block, no framed box), nothing on stdout, exit 2.
    The database is never reached, so none is given."""
    env = {**os.environ, "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    env["AKHBAR_VAR_DIR"] = str(tmp_path)
    result = akhbar(*args, env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr == stderr + "\n"


def test_a_group_alone_prints_its_help(tmp_path: Path) -> None:
    """`akhbar db` with no sub-command: the group's help on stdout (exit 2, as Click does)."""
    result = akhbar("db", env={**os.environ, "AKHBAR_VAR_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert "upgrade" in result.stdout and "create-reader" in result.stdout
    assert result.stderr == ""


def test_relative_and_extreme_bounds_work_everywhere(
    env: dict[str, str], database_url: str
) -> None:
    # The same grammar as `crawl --since`: 3d, 12h, dates, timestamps, the end of time.
    for args in (
        ["search", "x", "--since", "3d"],
        ["search", "x", "--since", "12h", "--until", "9999-12-31"],
        ["export", "--since", "3d", "--until", "2100-01-01T00:00:00Z"],
    ):
        result = akhbar(*args, env=env)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
    assert query(database_url, "SELECT count(*) FROM crawl_runs") == [(0,)]


@pytest.fixture
def dead_env(tmp_path: Path, subprocess_env: dict[str, str]) -> dict[str, str]:
    root = make_site(tmp_path, articles=1)
    return {
        **subprocess_env,
        "DATABASE_URL": f"postgresql://akhbar:s3cret-pw@127.0.0.1:{free_port()}/news",
        "AKHBAR_SOURCES": str(root / "sources.toml"),
        "AKHBAR_SAMPLES_PORT": "1",
    }


DEAD_SERVER_COMMANDS = [
    ["search", "x"],
    ["export"],
    ["db", "upgrade"],
    ["db", "status"],
    ["runs"],
    ["runs", "--json"],
    ["sources"],
    ["crawl", "tiny"],
    ["reprocess"],
]


@pytest.mark.parametrize("args", DEAD_SERVER_COMMANDS, ids=" ".join)
def test_dead_server_is_one_sentence(dead_env: dict[str, str], args: list[str]) -> None:
    result = akhbar(*args, env=dead_env)
    output = result.stdout + result.stderr
    assert "Traceback" not in output and "s3cret-pw" not in output, output
    assert result.returncode != 0
    assert "Cannot connect to the database at postgresql+psycopg://akhbar:***@127.0.0.1:" in (
        _one_line(result.stderr)
    ), output
    assert len(result.stderr.strip().splitlines()) <= 2, result.stderr


@pytest.mark.parametrize("args", [["search", "x"], ["export"], ["runs"], ["sources"]], ids=" ".join)
def test_unmigrated_database_says_run_db_upgrade(
    empty_database_url: str, env: dict[str, str], args: list[str]
) -> None:
    result = akhbar(*args, env={**env, "DATABASE_URL": empty_database_url})
    _assert_clean_failure(result, "is at revision none, the code needs", 2)
    assert "Run `akhbar db upgrade`." in result.stderr


def test_demo_with_its_port_taken(env: dict[str, str]) -> None:
    port = free_port("127.0.0.11")
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.11", port))
        busy.listen()
        result = akhbar("demo", env={**env, "AKHBAR_SAMPLES_PORT": str(port)})
    _assert_clean_failure(result, f"Cannot serve the sample sites on port {port}", 2)
    assert "set AKHBAR_SAMPLES_PORT to a free port" in result.stderr


def test_bad_registry_reports_every_error_and_regexes_verbatim(
    tmp_path: Path, env: dict[str, str]
) -> None:
    registry = tmp_path / "bad.toml"
    registry.write_text(
        """[[sources]]
name = "one"
title = "one"
base_url = "https://one.example"
domains = ["one.example"]
timezone = "Mars/Base"
feeds = ["{base}/feed"]
article_url_patterns = ['/news/[a-z-]+/(\\d+']

[[sources]]
name = "Two"
title = "two"
base_url = "https://two.example"
domains = ["two.example"]
timezone = "UTC"
feeds = ["{base}/feed"]
article_url_patterns = ['/[0-9]+$']
""",
        encoding="utf-8",
    )
    result = akhbar("crawl", "one", env={**env, "AKHBAR_SOURCES": str(registry)})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    stderr = result.stderr
    assert "unknown time zone 'Mars/Base'" in stderr
    assert "bad regex in article_url_patterns: '/news/[a-z-]+/(\\\\d+'" in stderr  # as written
    assert "'Two' is not a valid spider name" in stderr  # the second source's error too
    assert "[a-z0-9_]+" in stderr


def test_version_and_json_outputs(env: dict[str, str], database_url: str) -> None:
    from akhbar import __version__

    version = akhbar("--version", env=env)
    assert version.returncode == 0 and version.stdout.strip() == f"akhbar {__version__}"

    query(database_url, "INSERT INTO sources (name) VALUES ('tiny')")
    query(
        database_url,
        "INSERT INTO crawl_runs (source_id, spider, status, pages_fetched, articles_stored,"
        " finished_at) SELECT id, 'tiny', s, 3, 2, now() FROM sources,"
        " unnest(ARRAY['finished', 'failed']) AS s",
    )
    runs = akhbar("runs", "--json", env=env)
    assert runs.returncode == 0, runs.stderr
    records = [json.loads(line) for line in runs.stdout.splitlines()]
    assert [(r["source"], r["status"]) for r in records] == [
        ("tiny", "failed"),
        ("tiny", "finished"),
    ]
    failed = akhbar("runs", "--json", "--status", "failed", env=env)
    assert [json.loads(line)["status"] for line in failed.stdout.splitlines()] == ["failed"]

    sources = akhbar("sources", "--json", env=env)
    assert sources.returncode == 0, sources.stderr
    [record] = [json.loads(line) for line in sources.stdout.splitlines()]
    assert record["source"] == "tiny" and record["last_run_status"] == "failed"
    assert record["last_success_at"] is not None and record["articles"] == 0


def test_read_command_says_it_starts_a_stopped_embedded_server() -> None:
    home = Path(tempfile.mkdtemp(prefix="akhbar-test-embedded-", dir="/tmp"))
    home.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["AKHBAR_PG_HOME"] = str(home / "pg")
    try:
        assert akhbar("db", "start", env=env).returncode == 0
        assert akhbar("db", "stop", env=env).returncode == 0
        result = akhbar("runs", env=env)
        assert result.returncode == 0, result.stderr
        assert "Starting the embedded PostgreSQL" in result.stderr
        again = akhbar("runs", env=env)  # running now: nothing to announce
        assert "Starting" not in again.stderr
    finally:
        akhbar("db", "stop", env=env)
        subprocess.run(["rm", "-rf", str(home)], check=False)


def test_central_handler_explains_database_errors(
    empty_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Errors that escape a command (a server that goes away mid-command, a table missing)
    become one sentence in cli.main.main; other exceptions are bugs and keep their traceback."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from cli.main import explain

    dead = f"postgresql+psycopg://akhbar:pw@127.0.0.1:{free_port()}/news"
    monkeypatch.setenv("DATABASE_URL", dead)
    with pytest.raises(OperationalError) as gone:
        create_engine(dead).connect()
    message = explain(gone.value)
    assert message is not None and message.startswith(
        "Cannot use the database at postgresql+psycopg://akhbar:***@127.0.0.1:"
    )
    assert "Set DATABASE_URL to a reachable server." in message and "pw@" not in message

    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    engine = create_engine(empty_database_url)
    with pytest.raises(ProgrammingError) as missing, engine.connect() as conn:
        conn.execute(text("SELECT count(*) FROM crawl_runs"))
    engine.dispose()
    message = explain(missing.value)
    assert message is not None and "has no akhbar schema" in message
    assert message.endswith("Run `akhbar db upgrade`.")
    assert explain(KeyError("a bug")) is None


# The finaliser's dropped KeyboardInterrupt is what this test makes happen.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_ctrl_c_dropped_by_a_finaliser_still_stops_a_long_command() -> None:
    """Python prints and drops a KeyboardInterrupt raised while a ``__del__`` runs; the long
    commands (rebuild, reprocess, import) check between steps, so the Ctrl-C still stops
    them there. Outside the block, SIGINT's handler is what it was."""
    import gc
    import signal

    from cli.commands._common import interrupts_noticed

    class Finalised:
        def __del__(self) -> None:
            os.kill(os.getpid(), signal.SIGINT)  # handled here, inside the finaliser

    before = signal.getsignal(signal.SIGINT)
    with interrupts_noticed() as check:
        check()  # nothing yet
        Finalised()  # its KeyboardInterrupt is printed as "Exception ignored" and dropped
        gc.collect()
        with pytest.raises(KeyboardInterrupt):
            check()
    assert signal.getsignal(signal.SIGINT) is before
