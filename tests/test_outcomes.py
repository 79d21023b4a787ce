"""Run outcomes that tell the truth, `akhbar health`, and a run log that is JSON lines:
real `scrapy crawl` / `akhbar crawl` subprocesses against real servers on 127.0.0.x (and a
host name that cannot resolve), into the real PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from akhbar.samples import SampleSites
from db.embedded import free_port
from tests.crawl_helpers import (
    UNRESOLVABLE_SOURCE,
    akhbar,
    crawl_env,
    make_site,
    query,
    run_crawl,
)


class _AlwaysFails(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def failing_server() -> Iterator[int]:
    port = free_port("127.0.0.62")
    server = ThreadingHTTPServer(("127.0.0.62", port), _AlwaysFails)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    yield port
    server.shutdown()
    server.server_close()
    thread.join(5)


def _registry(root: Path, broken_port: int) -> Path:
    """The served site's own entry plus three sources that go wrong."""
    served = (root / "sources.toml").read_text(encoding="utf-8")
    path = root / "all-sources.toml"
    path.write_text(
        served
        + UNRESOLVABLE_SOURCE
        + f"""
[[sources]]
name = "broken"
title = "broken"
timezone = "UTC"
base_url = "http://127.0.0.62:{broken_port}"
domains = ["127.0.0.62"]
sitemaps = ["{{base}}/sitemap.xml"]
article_url_patterns = ['/news/\\d+\\.html$']

[[sources]]
name = "nomatch"
title = "nomatch"
timezone = "UTC"
base_url = "http://127.0.0.61:${{AKHBAR_SAMPLES_PORT}}"
domains = ["127.0.0.61"]
sitemaps = ["{{base}}/sitemap.xml"]
article_url_patterns = ['/articles/\\d+$']
""",
        encoding="utf-8",
    )
    return path


FAST_FAIL = ["-s", "RETRY_TIMES=1", "-s", "AKHBAR_RETRY_BACKOFF_BASE=0.05"]  # as -s, too


def scrapy_crawl(env: dict[str, str], name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_crawl(env, name, *FAST_FAIL, *args)


def last_run(url: str, source: str) -> tuple:
    return query(
        url,
        "SELECT id, status, errors, stats, log_path, started_at FROM crawl_runs "
        "WHERE spider = %s ORDER BY id DESC LIMIT 1",
        source,
    )[0]


def window(url: str, source: str) -> datetime | None:
    """Where the incremental window starts: the last finished run (db/crawl_runs.py)."""
    rows = query(
        url,
        "SELECT max(started_at) FROM crawl_runs WHERE spider = %s AND status = 'finished'",
        source,
    )
    return rows[0][0]


def test_each_outcome_exit_code_window_and_health(
    tmp_path: Path, database_url: str, subprocess_env: dict[str, str], failing_server: int
) -> None:
    root = make_site(tmp_path, articles=6)
    registry = _registry(root, failing_server)
    with SampleSites(samples_dir=root) as sites:
        env = crawl_env(
            subprocess_env,
            sites,
            root,
            AKHBAR_SOURCES=str(registry),
            AKHBAR_RETRY_TIMES="1",
            AKHBAR_RETRY_BACKOFF_BASE="0.05",
        )

        healthy = scrapy_crawl(env, "tiny")
        assert healthy.returncode == 0, healthy.stderr[-2000:]
        _, status, errors, _, log_path, first_start = last_run(database_url, "tiny")
        assert (status, errors) == ("finished", 0)
        assert window(database_url, "tiny") == first_start

        # Every line of a real run's log is one JSON object, Scrapy's start-up block included.
        lines = Path(log_path).read_text(encoding="utf-8").splitlines()
        events = [json.loads(line) for line in lines]
        assert events[0]["logger"].startswith("scrapy") and "Scrapy" in events[0]["msg"]
        stored = [e for e in events if e.get("event") == "stored"]
        assert len(stored) == 6
        run_id = last_run(database_url, "tiny")[0]
        assert all(e["source"] == "tiny" and e["run_id"] == run_id for e in stored)
        [finished] = [e for e in events if e.get("event") == "run_finished"]
        assert finished["outcome"] == "finished" and finished["articles_stored"] == 6

        nodns = scrapy_crawl(env, "nodns")
        assert nodns.returncode == 1
        assert "nodns: failed: no discovery document reachable" in nodns.stderr
        _, status, errors, stats, _, _ = last_run(database_url, "nodns")
        assert status == "failed" and errors >= 1
        assert stats["akhbar/discovery_failed"] == 1

        broken = scrapy_crawl(env, "broken")
        assert broken.returncode == 1, broken.stderr[-2000:]
        _, status, errors, stats, _, _ = last_run(database_url, "broken")
        assert status == "failed" and errors >= 1, stats.get("outcome_reasons")

        nomatch = akhbar("crawl", "nomatch", "--no-progress", env=env)
        assert nomatch.returncode == 0, nomatch.stderr
        assert "nomatch: empty: no URL matched the article patterns" in nomatch.stderr
        assert last_run(database_url, "nomatch")[1] == "empty"

        # `akhbar crawl` of a healthy source whose server is down now: failed, exit 1, and
        # the incremental window stays where the first success put it.
        sites.stop()
        down = akhbar("crawl", "tiny", "--no-progress", env=env)
        assert down.returncode == 1, down.stdout[-2000:] + down.stderr[-2000:]
        assert "tiny: failed" in down.stderr
        assert last_run(database_url, "tiny")[1] == "failed"
        assert window(database_url, "tiny") == first_start

    report = akhbar("health", "--json", env=env)
    assert report.returncode == 1, report.stderr
    health = {s["source"]: s for s in json.loads(report.stdout)["sources"]}
    assert "last_run_failed" in health["nodns"]["flags"]
    assert "no_yield" in health["nodns"]["flags"]
    assert "last_run_failed" in health["broken"]["flags"]
    assert health["nomatch"]["flags"] == ["last_run_empty", "no_yield"]
    assert health["tiny"]["flags"] == ["last_run_failed", "no_yield"]
    assert health["tiny"]["median_yield"] == 6.0 and health["tiny"]["last_yield"] == 0

    plain = akhbar("health", "nomatch", env=env)
    assert plain.returncode == 1
    assert "nomatch: last_run_empty" in plain.stderr
    assert "Traceback" not in plain.stderr

    # The same truth as Prometheus metrics, served by `akhbar serve` at /metrics.
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(database_url)) as client:
        response = client.get("/metrics")
    assert response.status_code == 200
    metrics = response.text
    assert 'akhbar_source_flag{flag="last_run_failed",source="nodns"} 1.0' in metrics
    assert 'akhbar_source_last_outcome{outcome="empty",source="nomatch"} 1.0' in metrics
    assert 'akhbar_source_last_yield{source="tiny"} 0.0' in metrics
    assert 'akhbar_source_median_yield{source="tiny"} 6.0' in metrics
    success = [line for line in metrics.splitlines() if line.startswith("akhbar_last_success")]
    assert [line.split("{")[1].split("}")[0] for line in success] == ['source="tiny"']
    assert 'akhbar_crawl_runs_total{source="broken",status="failed"} 1.0' in metrics


def test_scheduler_logs_each_runs_outcome_and_counts(
    tmp_path: Path,
    database_url: str,
    subprocess_env: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    import scheduler

    root = make_site(tmp_path, articles=2)
    registry = _registry(root, free_port("127.0.0.62"))  # nothing listens there
    env = crawl_env(subprocess_env, _NoSites(), root, AKHBAR_SOURCES=str(registry))
    crawl = scrapy_crawl(env, "broken")
    assert crawl.returncode == 1
    [(pid, started)] = query(database_url, "SELECT pid, started_at FROM crawl_runs")
    with caplog.at_level("INFO", logger="akhbar.scheduler"):
        scheduler._log_outcomes("broken", pid, started, crawl.returncode)
    [record] = caplog.records
    assert record.levelname == "ERROR"
    assert "run 1 failed: pages 0, stored 0, duplicates 0, non-articles 0, errors" in record.message
    assert "no discovery document reachable" in record.message
    assert "(exit code 1)" in record.message


class _NoSites:
    """crawl_env needs a port for the ${AKHBAR_SAMPLES_PORT} of the served source's entry."""

    def env(self) -> dict[str, str]:
        return {"AKHBAR_SAMPLES_PORT": "1"}
