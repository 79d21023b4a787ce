"""Nightly crawls with APScheduler 3: `python scheduler.py` or `akhbar schedule`.

One job per source (id ``crawl:<source>``), kept in the same PostgreSQL (table
``apscheduler_jobs``), so a restarted scheduler knows what it missed: with ``coalesce`` a
crawl missed while it was down runs once on start if it is within the grace time.
``max_instances=1`` keeps one crawl per source at a time (plus a PostgreSQL advisory lock
across schedulers, and a check for a live manual crawl); the thread pool's size limits how
many crawls run together. Each crawl is a `scrapy crawl` subprocess (Scrapy's reactor
cannot restart in one process), terminated when it runs past the time limit.

Several schedulers may share one database (for redundancy): before a job runs, its
scheduler claims (source, scheduled fire time) in ``schedule_claims`` with an insert that
does nothing on conflict; a scheduler that finds the trigger already claimed skips it. So a
source is crawled (or enqueued) once per trigger, even when a job waited for a free crawl
slot while another scheduler ran it.

With ``enqueue`` (``--enqueue``), a trigger puts a crawl job on the queue for
``akhbar worker`` processes (crawlers/queue.py) instead of crawling here; APScheduler stays
the clock.

SIGTERM / SIGINT: take no new jobs, send SIGTERM to the running crawls (Scrapy closes them
cleanly, their runs end ``interrupted``), wait, exit. A crawl stopped this way resumes from
its journal on the next run (crawlers/resume.py).

Configuration: ``schedule.toml`` (or ``--config`` / ``AKHBAR_SCHEDULE_CONFIG``), then
``AKHBAR_SCHEDULE_*`` environment variables, then command-line options::

    [schedule]
    time = "03:00"                 # every night at this time...
    timezone = "Asia/Riyadh"       # ...in this zone
    sources = []                   # registry names; empty: every source
    every_seconds = 0              # > 0: every N seconds instead (testing, busy sites)
    max_parallel = 2               # crawls running together
    misfire_grace_seconds = 3600   # a run missed by more than this is skipped
    crawl_timeout_seconds = 14400  # terminate a crawl running longer
    stop_grace_seconds = 60        # after SIGTERM, wait this long before SIGKILL
    full = false                   # read every feed/sitemap entry, not only new ones
    enqueue = false                # queue the crawls for `akhbar worker`s instead

    [settings]                     # Scrapy settings for the crawls (-s NAME=VALUE)
    DOWNLOAD_DELAY = 1.0
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import tomllib
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.executors.base import run_job
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import text

REPO_ROOT = Path(__file__).resolve().parent
JOB_FUNC = "scheduler:run_source_crawl"  # a textual reference: jobs are pickled
JOB_PREFIX = "crawl:"

logger = logging.getLogger("akhbar.scheduler")


@dataclass(frozen=True)
class ScheduleConfig:
    time: str = "03:00"
    timezone: str = "Asia/Riyadh"
    sources: tuple[str, ...] = ()
    every_seconds: float = 0
    max_parallel: int = 2
    misfire_grace_seconds: int = 3600
    crawl_timeout_seconds: float = 4 * 3600
    stop_grace_seconds: float = 60
    full: bool = False
    enqueue: bool = False
    settings: dict[str, Any] = field(default_factory=dict)

    def schedule_key(self) -> str:
        """Names the trigger; a stored job with the same key keeps its next run time."""
        if self.every_seconds > 0:
            return f"every {self.every_seconds:g}s"
        return f"daily {self.time} {self.timezone}"

    def trigger(self) -> IntervalTrigger | CronTrigger:
        if self.every_seconds > 0:
            return IntervalTrigger(seconds=self.every_seconds, timezone=self.timezone)
        hour, _, minute = self.time.partition(":")
        return CronTrigger(hour=int(hour), minute=int(minute or 0), timezone=self.timezone)


ENV_NAMES = {
    "time": "AKHBAR_SCHEDULE_TIME",
    "timezone": "AKHBAR_SCHEDULE_TZ",
    "sources": "AKHBAR_SCHEDULE_SOURCES",
    "every_seconds": "AKHBAR_SCHEDULE_EVERY",
    "max_parallel": "AKHBAR_SCHEDULE_MAX_PARALLEL",
    "misfire_grace_seconds": "AKHBAR_SCHEDULE_MISFIRE_GRACE",
    "crawl_timeout_seconds": "AKHBAR_CRAWL_TIMEOUT",
    "stop_grace_seconds": "AKHBAR_STOP_GRACE",
    "full": "AKHBAR_SCHEDULE_FULL",
    "enqueue": "AKHBAR_SCHEDULE_ENQUEUE",
}


def _coerce(name: str, value: Any) -> Any:
    kind = {f.name: f.type for f in fields(ScheduleConfig)}[name]
    if name == "sources":
        items = value.split(",") if isinstance(value, str) else value
        return tuple(s.strip() for s in items if s.strip())
    if kind == "bool":
        return value if isinstance(value, bool) else str(value).lower() in {"1", "true", "yes"}
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    return str(value)


def load_config(path: str | Path | None = None, **overrides: Any) -> ScheduleConfig:
    """schedule.toml (if any), then AKHBAR_SCHEDULE_* variables, then ``overrides``."""
    values: dict[str, Any] = {}
    path = path or os.environ.get("AKHBAR_SCHEDULE_CONFIG")
    default_file = REPO_ROOT / "schedule.toml"
    if path or default_file.is_file():
        file = Path(path or default_file)
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"Cannot read the schedule configuration {file}: {exc}") from None
        known = {f.name for f in fields(ScheduleConfig)} - {"settings"}
        unknown = set(data.get("schedule", {})) - known
        if unknown:
            raise ValueError(
                f"{file}: unknown [schedule] keys {', '.join(sorted(unknown))}; "
                f"known: {', '.join(sorted(known))}"
            )
        values.update(data.get("schedule", {}))
        values["settings"] = dict(data.get("settings", {}))
    for name, env in ENV_NAMES.items():
        if env in os.environ:
            values[name] = os.environ[env]
    values.update({k: v for k, v in overrides.items() if v is not None})
    config = ScheduleConfig(
        **{k: (v if k == "settings" else _coerce(k, v)) for k, v in values.items()}
    )
    config.trigger()  # a bad time or time zone fails here, with APScheduler's message
    return config


# -- running crawls ------------------------------------------------------------------------
_config: ScheduleConfig | None = None
_children: dict[int, subprocess.Popen[bytes]] = {}
_children_lock = threading.Lock()
_stopping = threading.Event()


_fire = threading.local()  # the scheduled fire time of the job this pool thread runs
CLAIMS_KEPT_DAYS = 30


class ClaimingThreadPoolExecutor(ThreadPoolExecutor):
    """APScheduler's thread pool, telling each job the fire time it runs for (APScheduler 3
    does not pass it to the job function): the key of its claim in ``schedule_claims``."""

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        def callback(future: Any) -> None:
            exc = future.exception()
            if exc:
                self._run_job_error(job.id, exc, exc.__traceback__)
            else:
                self._run_job_success(job.id, future.result())

        future = self._pool.submit(
            _run_with_fire_time, job, job._jobstore_alias, run_times, self._logger.name
        )
        future.add_done_callback(callback)


def _run_with_fire_time(job: Any, alias: str, run_times: list[datetime], logger_name: str) -> Any:
    _fire.time = max(run_times)  # coalesced: one run, for the latest missed time
    try:
        return run_job(job, alias, run_times, logger_name)
    finally:
        _fire.time = None


def _lock_key(source: str) -> int:
    """A stable signed 64-bit advisory lock key per source (the workers take it too)."""
    from crawlers.queue import source_lock_key

    return source_lock_key(source)


def claim_trigger(engine: Any, source: str, fire_time: datetime, action: str) -> bool:
    """Take (source, fire time) for this scheduler; False if another one already has it."""
    with engine.begin() as conn:
        row = conn.execute(
            text(
                "INSERT INTO schedule_claims (source, fire_time, action, claimed_by)"
                " VALUES (:source, :fire_time, :action, :by)"
                " ON CONFLICT (source, fire_time) DO NOTHING RETURNING source"
            ),
            {
                "source": source,
                "fire_time": fire_time,
                "action": action,
                "by": f"{socket.gethostname()}:{os.getpid()}",
            },
        ).first()
    return row is not None


def prune_claims(engine: Any, days: int = CLAIMS_KEPT_DAYS) -> int:
    with engine.begin() as conn:
        return conn.execute(
            text(
                "DELETE FROM schedule_claims WHERE claimed_at < now() - make_interval(days => :d)"
            ),
            {"d": days},
        ).rowcount


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("AKHBAR_METRICS_PORT", None)  # the scheduler serves the metrics, not each crawl
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


def _terminate(proc: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM to Scrapy (it closes cleanly), then SIGKILL to its whole process group."""
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        logger.warning("crawl pid %d did not stop within %.0fs: killing it", proc.pid, grace)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def run_source_crawl(source: str) -> None:
    """The job: claim this trigger of ``source``, then crawl it in a subprocess (making sure
    its run row ends right), or put it on the queue for the workers."""
    from crawlers.runlog import run_log_path
    from crawlers.runner import crawl_command
    from db.crawl_runs import close_runs_of_pid, reap_stale_runs, running_run
    from db.engine import get_engine, session_scope

    config = _config or load_config()
    if _stopping.is_set():
        return
    engine = get_engine()
    fire_time = getattr(_fire, "time", None)
    action = "enqueue" if config.enqueue else "crawl"
    if fire_time is not None and not claim_trigger(engine, source, fire_time, action):
        logger.warning(
            "%s: the run due at %s was taken by another scheduler; skipped",
            source,
            fire_time.astimezone(UTC).isoformat(),
        )
        return
    if config.enqueue:
        _enqueue(source, config, fire_time)
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        key = _lock_key(source)
        if not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
            logger.warning("%s: another scheduler is crawling it; skipped", source)
            return
        try:
            with session_scope(engine) as session:
                reap_stale_runs(session, source)
                live = running_run(session, source)
                if live is not None:
                    logger.warning(
                        "%s: run %d (pid %s on %s) is still crawling; skipped",
                        source,
                        live.id,
                        live.pid,
                        live.hostname,
                    )
                    return
            _crawl(source, config, crawl_command, run_log_path, close_runs_of_pid)
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})


def _enqueue(source: str, config: ScheduleConfig, fire_time: datetime | None) -> None:
    from crawlers.queue import enqueue
    from db.engine import database_url

    [item] = enqueue(database_url(), [source], full=config.full, trigger="scheduled")
    due = fire_time.astimezone(UTC).isoformat() if fire_time else "now"
    if item.already_waiting:
        logger.warning(
            "%s: the run due at %s: a job of it is still waiting; not queued", source, due
        )
    else:
        logger.info("%s: the run due at %s queued as job %d", source, due, item.job_id)


def _crawl(
    source: str,
    config: ScheduleConfig,
    crawl_command: Any,
    run_log_path: Any,
    close_runs_of_pid: Any,
) -> None:
    log_file = run_log_path(source)
    out_file = log_file.with_suffix(".out")  # what the process printed outside its log
    cmd = crawl_command(
        source, trigger="scheduled", log_file=log_file, settings=config.settings, full=config.full
    )
    started = datetime.now(UTC)
    with _children_lock:
        if _stopping.is_set():
            return
        with out_file.open("wb") as out:
            proc = subprocess.Popen(
                cmd,
                cwd=REPO_ROOT,
                env=_child_env(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the scheduler only; it forwards one SIGTERM
            )
        _children[proc.pid] = proc
    logger.info("%s: crawl started (pid %d), log %s", source, proc.pid, log_file)
    try:
        try:
            returncode = proc.wait(timeout=config.crawl_timeout_seconds)
        except subprocess.TimeoutExpired:
            logger.error(
                "%s: crawl ran past %.0fs: terminating it", source, config.crawl_timeout_seconds
            )
            _terminate(proc, config.stop_grace_seconds)
            ids = close_runs_of_pid(
                proc.pid,
                "failed",
                f"timeout: ran past {config.crawl_timeout_seconds:g}s",
                since=started,
            )
            logger.error("%s: runs %s recorded as failed (timeout)", source, ids)
            return
        # A crawl that could not close its own row (crash, SIGKILL) still gets an end.
        status = "interrupted" if _stopping.is_set() else "failed"
        ids = close_runs_of_pid(
            proc.pid,
            status,
            f"process exited with code {returncode} without closing the run",
            since=started,
            statuses=("running",),
        )
        if ids:
            logger.error(
                "%s: crawl exited with code %s; runs %s marked %s", source, returncode, ids, status
            )
        _log_outcomes(source, proc.pid, started, returncode)
    finally:
        with _children_lock:
            _children.pop(proc.pid, None)
        if out_file.exists() and out_file.stat().st_size == 0:
            out_file.unlink()


def _log_outcomes(source: str, pid: int, started: datetime, returncode: int) -> None:
    """One line per run with its outcome and counts (a failure at ERROR level)."""
    from db.crawl_runs import describe_runs_of_pid

    try:
        described = describe_runs_of_pid(pid, since=started)
    except Exception as exc:  # the database may be away: the exit code still tells
        logger.error("%s: crawl exited with code %s; runs unreadable: %s", source, returncode, exc)
        return
    if not described:
        logger.error("%s: crawl exited with code %s and recorded no run", source, returncode)
    for outcome, line in described:
        level = (
            logging.INFO
            if outcome == "finished"
            else (logging.WARNING if outcome in {"degraded", "empty"} else logging.ERROR)
        )
        logger.log(level, "%s: %s (exit code %s)", source, line, returncode)


# -- the scheduler -------------------------------------------------------------------------
def build_scheduler(engine: Any, config: ScheduleConfig) -> BackgroundScheduler:
    return BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename="apscheduler_jobs")},
        executors={"default": ClaimingThreadPoolExecutor(max_workers=config.max_parallel)},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": config.misfire_grace_seconds,
        },
        timezone=config.timezone,
    )


def job_name(source: str, config: ScheduleConfig) -> str:
    return f"crawl {source} ({config.schedule_key()})"


def sync_jobs(scheduler: BackgroundScheduler, config: ScheduleConfig, names: list[str]) -> None:
    """One job per source. A stored job with the same schedule keeps its next run time
    (so a run missed while the scheduler was down still happens); others are replaced."""
    wanted = {JOB_PREFIX + name: name for name in names}
    for job in scheduler.get_jobs():
        if job.id.startswith(JOB_PREFIX) and job.id not in wanted:
            logger.info("removing the job of %s: no longer scheduled", job.id[len(JOB_PREFIX) :])
            job.remove()
    for job_id, name in wanted.items():
        job = scheduler.get_job(job_id)
        if job is not None and job.name == job_name(name, config):
            job.modify(
                misfire_grace_time=config.misfire_grace_seconds, max_instances=1, coalesce=True
            )
            continue
        scheduler.add_job(
            JOB_FUNC,
            trigger=config.trigger(),
            args=[name],
            id=job_id,
            name=job_name(name, config),
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=config.misfire_grace_seconds,
        )


def _on_job_event(event: JobEvent) -> None:
    source = event.job_id[len(JOB_PREFIX) :]
    if event.code == EVENT_JOB_MAX_INSTANCES:
        logger.warning("%s: still crawling from the previous trigger; this one is skipped", source)
    elif event.code == EVENT_JOB_MISSED:
        logger.warning(
            "%s: the run due at %s was missed by more than the grace time; skipped",
            source,
            event.scheduled_run_time,
        )


def scheduled_sources(config: ScheduleConfig) -> list[str]:
    from akhbar.sources import load_sources, unknown_names_error

    registry = load_sources()
    names = list(config.sources) or sorted(registry)
    if error := unknown_names_error(names, registry):
        raise ValueError(f"{error} Check the sources the schedule names.")
    return names


def _ready_database() -> str:
    """The database URL, reachable and migrated; ValueError with a sentence otherwise."""
    from db import migrate
    from db.embedded import EmbeddedDatabaseError
    from db.engine import DatabaseUnavailable, database_url

    try:
        url = database_url()
        migrate.ready(url)
    except (EmbeddedDatabaseError, DatabaseUnavailable) as exc:
        raise ValueError(str(exc)) from None
    return url


def list_jobs(config: ScheduleConfig) -> list[tuple[str, str, datetime | None]]:
    """(job id, name, next run time) of the stored jobs, without running anything."""
    from db.engine import get_engine

    engine = get_engine(_ready_database())
    scheduler = build_scheduler(engine, config)
    scheduler.start(paused=True)
    try:
        return [(j.id, j.name, j.next_run_time) for j in scheduler.get_jobs()]
    finally:
        scheduler.shutdown(wait=False)
        engine.dispose()


def serve(config: ScheduleConfig) -> int:
    """Run until SIGTERM/SIGINT. Returns the exit code."""
    global _config
    from db.engine import get_engine, mask_url

    _config = config
    _stopping.clear()
    url = _ready_database()
    names = scheduled_sources(config)
    engine = get_engine(url)
    scheduler = build_scheduler(engine, config)
    scheduler.add_listener(_on_job_event, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        if stop.is_set():  # a second signal: do not wait for the crawls any more
            for proc in list(_children.values()):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    metrics_port = int(os.environ.get("AKHBAR_METRICS_PORT") or 0)
    try:
        prune_claims(engine)
        scheduler.start(paused=True)
        sync_jobs(scheduler, config, names)
        scheduler.resume()
        if metrics_port:
            from crawlers.exporter import serve_metrics

            serve_metrics(metrics_port, engine)
        logger.info(
            "scheduler started on %s: %d source(s), %s, %s",
            mask_url(url),
            len(names),
            config.schedule_key(),
            "crawls queued for the workers"
            if config.enqueue
            else f"at most {config.max_parallel} crawl(s) at a time",
        )
        for job in scheduler.get_jobs():
            logger.info("  %s: next run %s", job.name, job.next_run_time)
        while not stop.wait(0.5):
            pass
        logger.info("stopping: no new crawls; %d running crawl(s) asked to stop", len(_children))
        scheduler.pause()
        with _children_lock:
            _stopping.set()
            running = list(_children.values())
        # One SIGTERM each (sent by _terminate): a second one makes Scrapy stop at once,
        # without closing its run.
        threads = [
            threading.Thread(target=_terminate, args=(p, config.stop_grace_seconds))
            for p in running
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # The job threads record how their crawls ended; wait for them.
        scheduler.shutdown(wait=True)
        logger.info("scheduler stopped")
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if scheduler.running:
            scheduler.shutdown(wait=False)
        if metrics_port:
            from crawlers.exporter import stop_metrics

            stop_metrics()
        engine.dispose()
        _config = None


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the nightly crawl scheduler.")
    parser.add_argument("--config", help="schedule TOML (default: schedule.toml if present)")
    parser.add_argument("--time", help="time of day, HH:MM (default 03:00)")
    parser.add_argument("--timezone", help="time zone of --time (default Asia/Riyadh)")
    parser.add_argument("--source", action="append", dest="sources", help="repeatable; default all")
    parser.add_argument("--every", type=float, dest="every_seconds", help="every N seconds instead")
    parser.add_argument("--max-parallel", type=int, dest="max_parallel")
    parser.add_argument(
        "--enqueue",
        action="store_const",
        const=True,
        help="queue the crawls for `akhbar worker`s instead of running them here",
    )
    parser.add_argument("--list", action="store_true", help="print the stored jobs and exit")
    args = parser.parse_args(argv)
    configure_logging(os.environ.get("AKHBAR_LOG_LEVEL", "INFO"))
    overrides = {k: v for k, v in vars(args).items() if k not in {"config", "list"}}
    try:
        config = load_config(args.config, **overrides)
        if args.list:
            for job_id, name, next_run in list_jobs(config):
                print(f"{job_id}\t{name}\tnext run {next_run or 'paused'}")
            return 0
        return serve(config)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    # Jobs reference "scheduler:run_source_crawl": run the importable module, not __main__,
    # so the job threads and this code share one module state.
    import scheduler as _module

    sys.exit(_module.main())


__all__ = ["ScheduleConfig", "load_config", "main", "replace", "run_source_crawl", "serve"]
