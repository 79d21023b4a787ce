"""Crawling on several machines through the job queue (procrastinate in our PostgreSQL):
real `akhbar worker` processes, each in its own working directory and var/ (as separate
machines would have), real `scrapy crawl` subprocesses, sample sites served with latency."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import psutil
import psycopg

from akhbar.samples import SampleSites
from db.embedded import ADMIN_ROLE, EmbeddedPostgres
from tests.crawl_helpers import REPO_ROOT, akhbar, crawl_env, frontier, make_site, query, wait_for

SAMPLES = REPO_ROOT / "samples"
TRUTH = json.loads((SAMPLES / "truth.json").read_text(encoding="utf-8"))
TEMPLATE_DB = "akhbar_template"  # the migrated template tests/conftest.py creates

# Fast heartbeats so a lost worker is noticed within seconds (production: 10 s / 60 s).
QUEUE_ENV = {
    "AKHBAR_WORKER_HEARTBEAT": "0.5",
    "AKHBAR_WORKER_STALLED_AFTER": "3",
    "AKHBAR_QUEUE_RETRY_WAIT": "1",
    "AKHBAR_STOP_GRACE": "10",
}


def start_worker(env: dict[str, str], machine: Path, *args: str) -> subprocess.Popen[bytes]:
    """An `akhbar worker` in its own directory, with its own var/ (logs, journals)."""
    machine.mkdir(parents=True, exist_ok=True)
    with (machine / "worker.log").open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "cli", "worker", *args],
            env={**env, **QUEUE_ENV, "AKHBAR_VAR_DIR": str(machine / "var")},
            cwd=machine,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop_worker(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def jobs(url: str) -> list[tuple]:
    return query(
        url,
        "SELECT id, args->>'source', status::text, attempts, worker_id FROM procrastinate_jobs"
        " ORDER BY id",
    )


def slow_crawl_env(base: dict[str, str], sites: SampleSites, root: Path) -> dict[str, str]:
    """One request at a time, 0.1 s apart: a crawl slow enough to be stopped in the middle."""
    return crawl_env(
        base,
        sites,
        root,
        AKHBAR_CONCURRENT_PER_DOMAIN="1",
        AKHBAR_CONCURRENT_REQUESTS="2",
        AKHBAR_DOWNLOAD_DELAY="0.1",
    )


def all_jobs_ended(url: str, count: int) -> bool:
    rows = jobs(url)
    return len(rows) == count and all(r[2] in {"succeeded", "failed"} for r in rows)


def new_database(server: EmbeddedPostgres) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(**server.conninfo(ADMIN_ROLE), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DB}"')
    return server.url_for(ADMIN_ROLE, name)


def drop_database(server: EmbeddedPostgres, url: str) -> None:
    name = re.search(r"/(\w+)$", url).group(1)  # type: ignore[union-attr]
    with psycopg.connect(**server.conninfo(ADMIN_ROLE), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def outcomes(url: str) -> tuple[set[str], dict[str, tuple[str, str]]]:
    """URLs stored, and for each copy: (kind, URL of the article it copies)."""
    stored = {u for (u,) in query(url, "SELECT url FROM articles")}
    copies = {
        u: (kind, of)
        for u, kind, of in query(
            url,
            "SELECT d.url, d.kind, a.url FROM duplicates d JOIN articles a"
            " ON a.id = d.duplicate_of",
        )
    }
    return stored, copies


def test_vendored_schema_is_the_installed_procrastinate_schema() -> None:
    """Revision 0009 applies a copy of procrastinate's schema: bumping the package without a
    revision that migrates the schema fails here."""
    from importlib.metadata import version
    from importlib.resources import files

    assert version("procrastinate") == "3.10.0"
    shipped = files("procrastinate").joinpath("sql/schema.sql").read_text(encoding="utf-8")
    vendored = REPO_ROOT / "migrations" / "sql" / "procrastinate_3.10.0_schema.sql"
    assert vendored.read_text(encoding="utf-8") == shipped


def test_three_workers_crawl_each_source_once_with_single_process_decisions(
    pg_server: object, tmp_path: Path, database_url: str, subprocess_env: dict[str, str]
) -> None:
    sources = sorted({key.split("/", 1)[0] for key in TRUTH})
    with SampleSites(latency=0.02) as sites:
        env = {
            **subprocess_env,
            **sites.env(),
            "AKHBAR_SOURCES": str(SAMPLES / "sources.toml"),
            "AKHBAR_AUTOTHROTTLE": "0",
            "AKHBAR_DOWNLOAD_DELAY": "0",
            "AKHBAR_WORKERS": "1",
            "AKHBAR_RUN_FLUSH_INTERVAL": "1",
        }
        machines = [tmp_path / f"machine{i}" for i in range(3)]
        workers = [start_worker(env, m, "--concurrency", "2") for m in machines]
        try:
            queued = akhbar("crawl", "--enqueue", "--all", env=env)
            assert queued.returncode == 0, queued.stderr
            assert queued.stdout.count("queued as job") == len(sources), queued.stdout
            wait_for(lambda: all_jobs_ended(database_url, len(sources)), 240, "every job to end")
            status = akhbar("workers", "--json", env=env)
            assert status.returncode == 0, status.stderr
            listed = json.loads(status.stdout)
            assert len(listed["workers"]) == 3 and {w["pid"] for w in listed["workers"]} == {
                w.pid for w in workers
            }
            assert listed["counts"] == {"succeeded": len(sources)}
        finally:
            for worker in workers:
                stop_worker(worker)
        assert all(w.returncode == 0 for w in workers), [
            (m / "worker.log").read_text()[-2000:] for m in machines
        ]

        # The same crawl in one process, into another database: the reference decisions.
        reference = new_database(pg_server)  # type: ignore[arg-type]
        try:
            single = akhbar(
                "crawl",
                "--all",
                env={**env, "DATABASE_URL": reference, "AKHBAR_VAR_DIR": str(tmp_path / "one")},
                timeout=300,
            )
            assert single.returncode == 0, single.stderr[-2000:]
            expected = outcomes(reference)
        finally:
            drop_database(pg_server, reference)  # type: ignore[arg-type]

    rows = jobs(database_url)
    assert sorted(r[1] for r in rows) == sources
    assert all(r[2] == "succeeded" and r[3] == 1 for r in rows), rows  # one run each
    runs = query(database_url, "SELECT spider, status, log_path FROM crawl_runs")
    assert sorted(r[0] for r in runs) == sources, "every source crawled exactly once"
    assert all(r[1] == "finished" for r in runs), runs
    used = {next(m.name for m in machines if r[2].startswith(str(m))) for r in runs}
    assert len(used) >= 2, f"the work was spread over the machines: {used}"

    stored, copies = outcomes(database_url)
    assert (stored, copies) == expected
    # And what the truth says: every article page once, stored or recorded as a copy, and
    # the wire stories copied across sources were found although other workers crawled them.
    assert len(stored) + len(copies) == sum(1 for e in TRUTH.values() if e["is_article"])
    assert len(copies) >= 3, copies


def test_worker_killed_mid_crawl_another_worker_finishes_the_source(
    tmp_path: Path, database_url: str, subprocess_env: dict[str, str]
) -> None:
    root = make_site(tmp_path, articles=20)
    with SampleSites(samples_dir=root, latency=0.05) as sites:
        env = slow_crawl_env(subprocess_env, sites, root)
        machines = [tmp_path / "machine-a", tmp_path / "machine-b"]
        first = start_worker(env, machines[0], "--concurrency", "1")
        second = None
        try:
            # The job goes to the first worker (the only one running), then a second starts.
            queued = akhbar("crawl", "--enqueue", "tiny", env=env)
            assert queued.returncode == 0, queued.stderr
            wait_for(
                lambda: query(database_url, "SELECT count(*) FROM articles")[0][0] >= 5,
                90,
                "the first worker to store 5 articles",
            )
            second = start_worker(env, machines[1], "--concurrency", "1")
            [(crawl_pid,)] = query(database_url, "SELECT pid FROM crawl_runs")
            assert psutil.Process(crawl_pid).ppid() == first.pid
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            killed_at = time.monotonic()
            # The crawl does not outlive its worker.
            wait_for(lambda: not psutil.pid_exists(crawl_pid), 30, "the orphan crawl to stop")
            wait_for(lambda: all_jobs_ended(database_url, 1), 120, "the job to be finished")
            retried_after = time.monotonic() - killed_at
        finally:
            stop_worker(first)
            if second is not None:
                stop_worker(second)
        fetches = Counter(path for _, path in sites.request_log or [] if "/news/" in path)

    [(job_id, _, status, attempts, _)] = jobs(database_url)
    assert (status, attempts) == ("succeeded", 2)  # two runs
    runs = query(
        database_url, "SELECT status, articles_stored, log_path FROM crawl_runs ORDER BY id"
    )
    assert len(runs) == 2 and runs[1][0] == "finished", runs
    assert runs[0][0] in {"interrupted", "failed"} and runs[0][2].startswith(str(machines[0]))
    assert runs[1][2].startswith(str(machines[1])), "the other machine finished it"
    # Nothing lost, nothing stored twice.
    assert query(database_url, "SELECT count(*), count(DISTINCT url) FROM articles")[0] == (20, 20)
    by_run = query(
        database_url, "SELECT crawl_run_id, count(*) FROM articles GROUP BY 1 ORDER BY 1"
    )
    assert len(by_run) == 2 and by_run[0][1] >= 5 and by_run[1][1] == runs[1][1], (by_run, runs)
    # The second run skipped what the first stored: few pages fetched twice (those in flight).
    assert len(fetches) == 20 and sum(fetches.values()) <= 20 + 4, fetches
    assert 3 <= retried_after < 60
    log = (machines[1] / "worker.log").read_text()
    assert f"job {job_id} (tiny): its worker stopped sending heartbeats; back in the queue" in log


def test_failing_crawl_stops_after_bounded_attempts_and_shows_failed(
    tmp_path: Path, database_url: str, subprocess_env: dict[str, str]
) -> None:
    root = make_site(tmp_path, articles=3)
    with SampleSites(samples_dir=root) as sites:
        # A setting Scrapy rejects: every attempt's crawl exits with an error.
        env = crawl_env(subprocess_env, sites, root, AKHBAR_QUEUE_MAX_ATTEMPTS="2")
        env["AKHBAR_CONCURRENT_REQUESTS"] = "not-a-number"
        worker = start_worker(env, tmp_path / "machine", "--concurrency", "1")
        try:
            assert akhbar("crawl", "--enqueue", "tiny", env=env).returncode == 0
            wait_for(lambda: all_jobs_ended(database_url, 1), 90, "the job to give up")
            listed = json.loads(akhbar("workers", "--json", env=env).stdout)
            shown = akhbar("workers", env=env)
        finally:
            stop_worker(worker)
    assert shown.returncode == 0, shown.stderr
    assert "Failed (latest 20)" in shown.stdout and "Jobs: failed 1." in shown.stdout
    assert "alive" in shown.stdout  # the worker, with its heartbeat
    [(_, _, status, attempts, _)] = jobs(database_url)
    assert (status, attempts) == ("failed", 2)
    assert [j["source"] for j in listed["failed"]] == ["tiny"]
    assert listed["counts"] == {"failed": 1}
    # The Prometheus gauges read the same tables.
    from crawlers.queue import QueueCollector
    from db.engine import get_engine

    gauges = {
        (m.name, tuple(s.labels.items())): s.value
        for m in QueueCollector(get_engine(database_url)).collect()
        for s in m.samples
    }
    assert gauges[("akhbar_queue_jobs", (("status", "failed"),))] == 1
    assert gauges[("akhbar_queue_jobs", (("status", "todo"),))] == 0
    assert gauges[("akhbar_queue_stalled_jobs", ())] == 0


def test_stopped_worker_puts_its_crawl_back_and_the_restarted_one_resumes_it(
    tmp_path: Path, database_url: str, subprocess_env: dict[str, str]
) -> None:
    root = make_site(tmp_path, articles=20)
    with SampleSites(samples_dir=root, latency=0.05) as sites:
        env = slow_crawl_env(subprocess_env, sites, root)
        machine = tmp_path / "machine"
        worker = start_worker(env, machine, "--concurrency", "1")
        try:
            assert akhbar("crawl", "--enqueue", "tiny", env=env).returncode == 0
            wait_for(
                lambda: query(database_url, "SELECT count(*) FROM articles")[0][0] >= 5,
                90,
                "5 articles stored",
            )
            stop_worker(worker)  # SIGTERM, as systemctl stop sends
            assert worker.returncode == 0
            [(_, _, status, attempts, _)] = jobs(database_url)
            assert (status, attempts) == ("todo", 1), "back in the queue"
            [(run_status,)] = query(database_url, "SELECT status FROM crawl_runs")
            assert run_status == "interrupted"
            journal = frontier(database_url)
            assert journal and "pending" in journal.values(), "the journal is kept for a resume"
            worker = start_worker(env, machine, "--concurrency", "1")  # the same machine again
            wait_for(lambda: all_jobs_ended(database_url, 1), 90, "the job to be finished")
        finally:
            stop_worker(worker)
        fetches = Counter(path for _, path in sites.request_log or [] if "/news/" in path)
    [(_, _, status, _, _)] = jobs(database_url)
    assert status == "succeeded"
    assert query(database_url, "SELECT count(*), count(DISTINCT url) FROM articles")[0] == (20, 20)
    assert [r[0] for r in query(database_url, "SELECT status FROM crawl_runs ORDER BY id")] == [
        "interrupted",
        "finished",
    ]
    assert len(fetches) == 20 and sum(fetches.values()) <= 20 + 2, fetches


def test_health_reports_the_queue_and_flags_a_stalled_job(
    database_url: str, subprocess_env: dict[str, str]
) -> None:
    """`akhbar health` carries the queue's depth and flags a running job nobody heartbeats."""
    env = {
        **subprocess_env,
        "AKHBAR_SOURCES": str(SAMPLES / "sources.toml"),
        "AKHBAR_SAMPLES_PORT": "1",
    }
    before = akhbar("health", "--json", "sana", env=env)
    assert before.stdout, before.stderr
    assert json.loads(before.stdout)["queue"] == {
        "queued": 0,
        "running": 0,
        "stalled": 0,
        "workers": 0,
    }
    # A crawl job left 'doing' by a worker that is gone (no worker row: no heartbeat at all).
    query(
        database_url,
        "INSERT INTO procrastinate_jobs (queue_name, task_name, args, status, attempts)"
        " VALUES ('crawl', 'crawl_source', '{\"source\": \"sana\"}', 'doing', 1)",
    )
    after = akhbar("health", "--json", "sana", env=env)
    report = json.loads(after.stdout)
    assert report["queue"]["running"] == 1 and report["queue"]["stalled"] == 1
    assert report["ok"] is False and after.returncode == 1
    plain = akhbar("health", "sana", env=env)
    assert "queue: stalled_jobs: 1 running crawl job(s)" in plain.stderr
