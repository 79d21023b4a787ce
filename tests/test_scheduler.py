"""The scheduler as a real process: APScheduler jobs in PostgreSQL, `scrapy crawl`
subprocesses against a real site on 127.0.0.x, signals."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

from akhbar.samples import SampleSites
from tests.crawl_helpers import REPO_ROOT, akhbar, crawl_env, make_site, query, wait_for


def start_scheduler(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "scheduler.py", "--source", "tiny", *args],
            env=env,
            cwd=REPO_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop_scheduler(proc: subprocess.Popen[bytes], log: Path) -> str:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
    text = log.read_text()
    assert proc.returncode == 0, text[-3000:]
    return text


def run_scheduler_until(
    env: dict[str, str],
    log: Path,
    condition: Callable[[], object],
    what: str,
    *,
    every: str = "1",
    timeout: float = 90,
    settle: float = 0,
) -> str:
    """Start the scheduler, wait for ``condition`` (and ``settle`` seconds more), stop it
    with SIGTERM; return its log."""
    proc = start_scheduler(env, log, "--every", every)
    try:
        wait_for(condition, timeout, what)
        time.sleep(settle)
    finally:
        output = stop_scheduler(proc, log)
    return output


def runs(url: str) -> list[tuple]:
    return query(
        url,
        "SELECT id, trigger, status, started_at, finished_at, articles_stored, stats"
        " FROM crawl_runs ORDER BY id",
    )


def test_scheduled_crawl_runs_and_overlapping_trigger_is_skipped(
    tmp_path: Path, database_url: str, subprocess_env: dict[str, str]
) -> None:
    root = make_site(tmp_path, articles=12)
    log = tmp_path / "scheduler.log"
    with SampleSites(samples_dir=root) as sites:
        # Triggers every second; one crawl takes several, so triggers overlap it.
        env = crawl_env(
            subprocess_env,
            sites,
            root,
            AKHBAR_DOWNLOAD_DELAY="0.25",
            AKHBAR_CONCURRENT_PER_DOMAIN="1",
        )
        output = run_scheduler_until(
            env,
            log,
            lambda: any(r[2] == "finished" for r in runs(database_url)),
            "a scheduled crawl to finish",
        )
    rows = runs(database_url)
    first = rows[0]
    assert first[1] == "scheduled" and first[2] == "finished", rows
    assert first[5] == 12
    assert query(database_url, "SELECT count(*) FROM articles")[0][0] == 12
    assert "still crawling from the previous trigger; this one is skipped" in output
    # Never two crawls of the source at once.
    for earlier, later in zip(rows, rows[1:], strict=False):
        assert earlier[4] is not None and earlier[4] <= later[3], rows
    # Every run was closed, whatever the moment SIGTERM came.
    assert all(r[2] in {"finished", "interrupted"} for r in rows), rows


def test_sigterm_interrupts_running_crawl_cleanly(
    tmp_path: Path, database_url: str, subprocess_env: dict[str, str]
) -> None:
    root = make_site(tmp_path, articles=40)
    log = tmp_path / "scheduler.log"
    with SampleSites(samples_dir=root) as sites:
        env = crawl_env(
            subprocess_env,
            sites,
            root,
            AKHBAR_DOWNLOAD_DELAY="0.2",
            AKHBAR_CONCURRENT_PER_DOMAIN="1",
            # Scrapy's graceful stop finishes what the downloader already holds (up to
            # CONCURRENT_REQUESTS): keep that small so the stop lands mid-crawl.
            AKHBAR_CONCURRENT_REQUESTS="2",
        )
        output = run_scheduler_until(
            env,
            log,
            lambda: query(database_url, "SELECT count(*) FROM articles")[0][0] >= 3,
            "the scheduled crawl to store 3 articles",
        )
    [run] = runs(database_url)
    run_id, trigger, status, _, finished_at, stored, stats = run
    assert (trigger, status) == ("scheduled", "interrupted"), output[-2000:]
    assert finished_at is not None and stats["finish_reason"] == "shutdown"
    # Stopped mid-way, and nothing half-stored: every article has its page and LSH bands,
    # and the run's counter matches the rows.
    articles = query(database_url, "SELECT id FROM articles WHERE crawl_run_id = %s", run_id)
    assert 3 <= len(articles) == stored < 40
    assert query(
        database_url,
        "SELECT count(*) FROM articles a WHERE NOT EXISTS"
        " (SELECT 1 FROM article_html h WHERE h.article_id = a.id)"
        " OR NOT EXISTS (SELECT 1 FROM minhash_bands b WHERE b.article_id = a.id)",
    ) == [(0,)]
    # The crawl kept its journal: the next run resumes it.
    assert query(database_url, "SELECT count(*) FROM crawl_frontier")[0][0] > 0
    assert "stopping: no new crawls; 1 running crawl(s) asked to stop" in output


def test_missed_runs_coalesce_into_one_on_start(
    tmp_path: Path, database_url: str, subprocess_env: dict[str, str]
) -> None:
    import scheduler
    from db.engine import get_engine

    # A scheduler that ran earlier stored the job; then it was down for four due times.
    config = scheduler.load_config(sources=["tiny"], every_seconds=60)
    root = make_site(tmp_path, articles=5)
    with SampleSites(samples_dir=root) as sites:
        env = crawl_env(subprocess_env, sites, root)
        # Write the job as a stopped scheduler left it (a started one in this process
        # would run it itself).
        engine = get_engine(database_url)
        store = SQLAlchemyJobStore(engine=engine, tablename="apscheduler_jobs")
        owner = scheduler.build_scheduler(engine, config)
        store.start(owner, "default")
        store.add_job(
            Job(
                owner,
                id="crawl:tiny",
                func=scheduler.JOB_FUNC,
                trigger=config.trigger(),
                executor="default",
                args=["tiny"],
                kwargs={},
                name=scheduler.job_name("tiny", config),
                misfire_grace_time=config.misfire_grace_seconds,
                coalesce=True,
                max_instances=1,
                next_run_time=datetime.now(UTC) - timedelta(seconds=185),
            )
        )
        store.shutdown()
        engine.dispose()

        log = tmp_path / "scheduler.log"
        output = run_scheduler_until(
            env,
            log,
            lambda: any(r[2] == "finished" for r in runs(database_url)),
            "the missed crawl to run",
            every="60",
            timeout=60,
            settle=1.5,  # a second, uncoalesced run would start now
        )
    rows = runs(database_url)
    assert [(r[1], r[2]) for r in rows] == [("scheduled", "finished")], output[-2000:]
    [(next_run,)] = query(
        database_url, "SELECT next_run_time FROM apscheduler_jobs WHERE id = 'crawl:tiny'"
    )
    assert next_run > time.time()  # the job goes on at its interval


def test_crawl_past_time_limit_is_terminated_and_failed(
    tmp_path: Path, database_url: str, subprocess_env: dict[str, str]
) -> None:
    root = make_site(tmp_path, articles=40)
    log = tmp_path / "scheduler.log"
    with SampleSites(samples_dir=root) as sites:
        env = crawl_env(
            subprocess_env,
            sites,
            root,
            AKHBAR_DOWNLOAD_DELAY="0.3",
            AKHBAR_CONCURRENT_PER_DOMAIN="1",
            AKHBAR_CONCURRENT_REQUESTS="2",
            AKHBAR_CRAWL_TIMEOUT="8",
            AKHBAR_STOP_GRACE="10",
        )
        output = run_scheduler_until(
            env,
            log,
            lambda: any(r[2] == "failed" for r in runs(database_url)),
            "the crawl to be stopped for running too long",
        )
    first = runs(database_url)[0]
    assert first[2] == "failed" and first[6]["finish_reason"].startswith("timeout"), output
    assert first[5] < 40
    assert "crawl ran past 8s: terminating it" in output


def two_sources(root: Path, one: int = 8, two: int = 8) -> Path:
    """Two one-host sites, ``one`` and ``two``, in one registry."""
    make_site(root, name="one", host="127.0.0.62", articles=one)
    first = (root / "sources.toml").read_text(encoding="utf-8")
    make_site(root, name="two", host="127.0.0.63", articles=two)
    (root / "sources.toml").write_text(
        first + "\n" + (root / "sources.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    return root


def store_jobs_due(database_url: str, names: list[str], every: float, due_in: float) -> datetime:
    """Write the jobs as an earlier scheduler left them, next due in ``due_in`` seconds, so
    two schedulers started now both wake for the same trigger."""
    import scheduler
    from db.engine import get_engine

    config = scheduler.load_config(sources=names, every_seconds=every)
    engine = get_engine(database_url)
    store = SQLAlchemyJobStore(engine=engine, tablename="apscheduler_jobs")
    owner = scheduler.build_scheduler(engine, config)
    store.start(owner, "default")
    due = datetime.now(UTC) + timedelta(seconds=due_in)  # the same instant for every job
    for name in names:
        store.add_job(
            Job(
                owner,
                id=f"crawl:{name}",
                func=scheduler.JOB_FUNC,
                trigger=config.trigger(),
                executor="default",
                args=[name],
                kwargs={},
                name=scheduler.job_name(name, config),
                misfire_grace_time=config.misfire_grace_seconds,
                coalesce=True,
                max_instances=1,
                next_run_time=due,
            )
        )
    store.shutdown()
    engine.dispose()
    return due


def start_schedulers(env: dict[str, str], tmp_path: Path, *args: str) -> list:
    procs = []
    for i in range(2):
        log = tmp_path / f"scheduler{i}.log"
        with log.open("wb") as out:
            procs.append(
                (
                    subprocess.Popen(
                        [sys.executable, "scheduler.py", "--source", "one", "--source", "two",
                         *args],
                        env=env,
                        cwd=REPO_ROOT,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    ),
                    log,
                )
            )  # fmt: skip
    return procs


TRIGGER_LINE = re.compile(
    r" (one|two): the run due at (\d{4}-\d\d-\d\dT[\d:.]+\+00:00)((?::| queued| was taken).*)$",
    re.M,
)


def test_two_schedulers_with_full_slots_crawl_each_source_once_per_trigger(
    tmp_path: Path, database_url: str, subprocess_env: dict[str, str]
) -> None:
    """Issue 10 item 7: with one crawl slot each, the job that waited for a slot used to crawl
    the source again after the other scheduler had crawled it for the same trigger."""
    # Both schedulers take `one` first (one slot each): one crawls it, the other finds it
    # locked and crawls `two`, which ends long before `one`; then the first one's `two`
    # job, which waited for the slot, runs.
    root = two_sources(tmp_path, one=16, two=2)
    # Due after both schedulers are up (starting one takes seconds on a loaded machine).
    due = store_jobs_due(database_url, ["one", "two"], every=3600, due_in=15)
    logs = [tmp_path / "scheduler0.log", tmp_path / "scheduler1.log"]
    handled = re.compile(
        r"crawl started|was taken by another scheduler|another scheduler is crawling it"
    )

    def every_job_handled() -> bool:
        return sum(len(handled.findall(log.read_text())) for log in logs) >= 4

    with SampleSites(samples_dir=root, latency=0.1) as sites:
        env = crawl_env(subprocess_env, sites, root, AKHBAR_CONCURRENT_PER_DOMAIN="1")
        procs = start_schedulers(env, tmp_path, "--every", "3600", "--max-parallel", "1")
        try:
            wait_for(every_job_handled, 120, "both schedulers to run or skip both jobs")
            wait_for(
                lambda: [r[2] for r in runs(database_url)].count("finished") >= 2,
                90,
                "both sources crawled",
            )
        finally:
            outputs = [stop_scheduler(proc, log) for proc, log in procs]
    text = "".join(outputs)
    # Both schedulers were up before the trigger (each saw it still to come).
    starts = re.findall(r"crawl one \(every 3600s\): next run (\S+ \S+)", text)
    assert len(starts) == 2 and all(datetime.fromisoformat(t) == due for t in starts), starts
    assert text.count("crawl started") == 2, text
    rows = query(database_url, "SELECT spider, status FROM crawl_runs ORDER BY id")
    assert sorted(rows) == [("one", "finished"), ("two", "finished")], (rows, outputs)
    claims = query(database_url, "SELECT source, action FROM schedule_claims ORDER BY source")
    assert claims == [("one", "crawl"), ("two", "crawl")]
    # Both schedulers fired the trigger: the claim is what kept the second crawl away.
    assert "was taken by another scheduler; skipped" in text, outputs


def test_two_enqueueing_schedulers_queue_each_source_once_per_trigger(
    tmp_path: Path, database_url: str, subprocess_env: dict[str, str]
) -> None:
    root = two_sources(tmp_path)
    store_jobs_due(database_url, ["one", "two"], every=1, due_in=6)
    with SampleSites(samples_dir=root) as sites:
        env = crawl_env(subprocess_env, sites, root)
        procs = start_schedulers(env, tmp_path, "--every", "1", "--enqueue")
        try:
            wait_for(
                lambda: query(database_url, "SELECT count(*) FROM schedule_claims")[0][0] >= 8,
                60,
                "four triggers of each source",
            )
        finally:
            outputs = [stop_scheduler(proc, log) for proc, log in procs]
    # Every (source, trigger) a scheduler fired: queued (or found waiting) by one only.
    handled: dict[tuple[str, str], list[str]] = {}
    for output in outputs:
        for source, due, rest in TRIGGER_LINE.findall(output):
            handled.setdefault((source, due), []).append(rest)
    enqueued = {key: [r for r in rests if "taken" not in r] for key, rests in handled.items()}
    assert all(len(v) == 1 for v in enqueued.values()), handled
    assert any(len(v) == 2 for v in handled.values()), "both schedulers fired a trigger"
    claims = query(database_url, "SELECT source, fire_time FROM schedule_claims")
    assert len(claims) == len(handled)
    # Nothing crawls here: one job per source waits, later triggers found it waiting.
    jobs = query(
        database_url,
        "SELECT args->>'source', args->>'trigger', status::text FROM procrastinate_jobs",
    )
    assert sorted(jobs) == [("one", "scheduled", "todo"), ("two", "scheduled", "todo")]
    assert sum("still waiting; not queued" in o for o in outputs) >= 1
    # By hand too: a source already waiting is not queued twice; options that only a local
    # crawl understands are refused.
    again = akhbar("crawl", "--enqueue", "one", "two", env=env)
    assert again.returncode == 0, again.stderr
    assert "one: already waiting in the queue" in again.stdout
    refused = akhbar("crawl", "--enqueue", "one", "--limit", "5", env=env)
    assert refused.returncode == 2 and "--enqueue takes --full only" in refused.stderr
    assert len(query(database_url, "SELECT id FROM procrastinate_jobs")) == 2
