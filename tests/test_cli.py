"""The `akhbar` command line as a person runs it: real subprocesses, real database, a real
site on 127.0.0.x."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
import typer

from akhbar.samples import SampleSites
from cli.commands.runs import runs
from db.embedded import free_port
from tests.crawl_helpers import akhbar, crawl_env, make_site, query


def test_crawl_then_sources_runs_and_db_status(
    tmp_path: Path, database_url: str, subprocess_env: dict[str, str]
) -> None:
    root = make_site(tmp_path, articles=6)
    with SampleSites(samples_dir=root) as sites:
        env = crawl_env(subprocess_env, sites, root)
        before = akhbar("sources", "--json", env=env)
        assert before.returncode == 0, before.stderr
        [record] = [json.loads(line) for line in before.stdout.splitlines()]
        assert (record["source"], record["last_run_status"]) == ("tiny", None)

        crawl = akhbar("crawl", "tiny", env=env)
        assert crawl.returncode == 0, crawl.stdout + crawl.stderr
        assert "Crawl summary" in crawl.stdout
        [(log_path,)] = query(database_url, "SELECT log_path FROM crawl_runs")
        assert f"Log: {log_path}" in crawl.stdout.replace("\n", "")
        assert Path(log_path).is_file()

    [record] = [
        json.loads(line) for line in akhbar("sources", "--json", env=env).stdout.splitlines()
    ]
    assert (record["last_run_status"], record["articles"]) == ("finished", 6)
    assert record["last_success_at"] is not None

    runs = akhbar("runs", "--source", "tiny", "--limit", "5", "--json", env=env)
    assert runs.returncode == 0, runs.stderr
    [run] = [json.loads(line) for line in runs.stdout.splitlines()]
    # pages: robots.txt + sitemap + 6 articles; all 6 stored.
    assert (run["source"], run["trigger"], run["status"]) == ("tiny", "manual", "finished")
    assert (run["pages_fetched"], run["articles_stored"]) == (8, 6)
    assert run["log_path"] == log_path

    table = akhbar("runs", "--source", "tiny", env=env)  # the table a person reads
    assert table.returncode == 0 and "Crawl runs" in table.stdout and "tiny" in table.stdout

    none = akhbar("runs", "--source", "tiny", "--status", "failed", env=env)
    assert none.returncode == 0
    assert "No crawl runs for tiny with status failed yet" in none.stdout

    status = akhbar("db", "status", env=env)
    assert status.returncode == 0, status.stderr
    assert "articles: 6" in status.stdout and "(head " in status.stdout


def test_unknown_source_lists_the_known_ones(
    tmp_path: Path, subprocess_env: dict[str, str]
) -> None:
    root = make_site(tmp_path, name="alpha")
    env = {
        **subprocess_env,
        "AKHBAR_SOURCES": str(root / "sources.toml"),
        "AKHBAR_SAMPLES_PORT": "1",
    }
    result = akhbar("crawl", "betaa", env=env)
    assert result.returncode == 2
    assert "Unknown source: betaa." in result.stderr
    assert "Known sources: alpha." in result.stderr


def test_unreachable_database_is_a_sentence_with_masked_url(
    tmp_path: Path, subprocess_env: dict[str, str]
) -> None:
    port = free_port()  # nothing listens there
    env = {
        **subprocess_env,
        "DATABASE_URL": f"postgresql://akhbar:s3cret-pw@127.0.0.1:{port}/news",
        "AKHBAR_SOURCES": str(make_site(tmp_path) / "sources.toml"),
        "AKHBAR_SAMPLES_PORT": "1",
    }
    for command in (["sources"], ["runs"], ["crawl", "tiny"]):
        result = akhbar(*command, env=env)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        message = " ".join(result.stderr.split())
        assert (
            f"Cannot connect to the database at postgresql+psycopg://akhbar:***@127.0.0.1:{port}/news"
            in message
        )
        assert "s3cret-pw" not in result.stdout + result.stderr
        assert "Traceback" not in result.stderr
        assert "DATABASE_URL" in message or "akhbar db start" in message


def test_metrics_endpoint_reports_crawl_runs(
    database_url: str, subprocess_env: dict[str, str]
) -> None:
    from crawlers.exporter import serve_metrics, stop_metrics
    from db.engine import get_engine

    query(database_url, "INSERT INTO sources (name) VALUES ('tiny')")
    query(
        database_url,
        "INSERT INTO crawl_runs (source_id, spider, status, pages_fetched, articles_stored,"
        " errors, finished_at) SELECT id, 'tiny', 'finished', 7, 5, 1, now() FROM sources",
    )
    port = free_port()
    assert serve_metrics(port, get_engine(database_url))
    try:
        body = (
            urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
        )
    finally:
        stop_metrics()
    assert 'akhbar_pages_fetched_total{source="tiny"} 7.0' in body
    assert 'akhbar_articles_stored_total{source="tiny"} 5.0' in body
    assert 'akhbar_crawl_errors_total{source="tiny"} 1.0' in body
    assert 'akhbar_crawl_runs_total{source="tiny",status="finished"} 1.0' in body
    assert 'akhbar_last_success_timestamp_seconds{source="tiny"}' in body


def test_commands_are_functions_a_test_can_call(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A command of cli/commands/ called as a plain function (no Typer, no subprocess):
    `akhbar runs --json` and its --status check."""
    query(database_url, "INSERT INTO sources (name) VALUES ('tiny'), ('other')")
    query(
        database_url,
        "INSERT INTO crawl_runs (source_id, spider, status, pages_fetched, articles_stored,"
        " finished_at) SELECT id, name, 'finished', 7, 5, now() FROM sources ORDER BY id",
    )
    runs(source="tiny", limit=5, status=None, logs=False, as_json=True)
    [record] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (record["source"], record["status"]) == ("tiny", "finished")
    assert (record["pages_fetched"], record["articles_stored"]) == (7, 5)

    with pytest.raises(typer.Exit) as bad:
        runs(source=None, limit=5, status="done", logs=False, as_json=True)
    assert bad.value.exit_code == 2
    assert "Unknown status: done." in capsys.readouterr().err
