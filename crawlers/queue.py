"""Crawl jobs on a PostgreSQL task queue (procrastinate), for crawling on many machines.

The unit of work is one **source crawl**: politeness caps how fast one site may be fetched,
so one site never needs more than one machine, while a thousand sites do. A job
``crawl_source(source=..., full=..., trigger=...)`` waits in ``procrastinate_jobs`` (the
same database as everything else, revision 0009); ``akhbar worker`` processes on any
number of machines take jobs with ``SELECT ... FOR UPDATE SKIP LOCKED`` and run each as
its own ``scrapy crawl`` subprocess, exactly as the scheduler does, which records its run
in ``crawl_runs``.

Guarantees, and what gives them:

* **One waiting job per source**: ``queueing_lock = "source:<name>"`` (a unique index on
  waiting jobs); enqueueing a source already waiting raises ``AlreadyEnqueued``.
* **One crawl of a source at a time, anywhere**: ``lock = "source:<name>"`` (procrastinate
  starts no job whose lock another running job holds), and inside the job the same
  PostgreSQL advisory lock the local scheduler takes, held on the worker's own connection
  for the crawl's lifetime (released by the server when the worker's connection dies).
* **A lost worker's job runs again elsewhere**: every worker sends a heartbeat
  (``procrastinate_workers.last_heartbeat``) and, every few seconds, hands the jobs of
  workers silent for longer than ``stalled_after`` back to the queue (procrastinate's
  ``get_stalled_jobs`` + ``retry_job``). The crawl subprocess dies with its worker
  (``PR_SET_PDEATHSIG``: it gets SIGTERM and closes its run as ``interrupted``). The
  retry skips every URL already stored (``AKHBAR_SKIP_KNOWN``), so nothing is stored twice.
* **Bounded failure**: a crawl whose run ends ``failed`` (or exits non-zero) raises, and
  procrastinate's ``RetryStrategy`` tries it again after ``retry_wait`` seconds, at most
  ``max_attempts`` runs in all (stalled retries count too); then the job stays ``failed``.

Configuration (environment, documented in README): ``AKHBAR_WORKER_CONCURRENCY``,
``AKHBAR_WORKER_HEARTBEAT``, ``AKHBAR_WORKER_STALLED_AFTER``, ``AKHBAR_QUEUE_MAX_ATTEMPTS``,
``AKHBAR_QUEUE_RETRY_WAIT``, and the scheduler's ``AKHBAR_CRAWL_TIMEOUT`` and
``AKHBAR_STOP_GRACE``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from akhbar.processes import signal_when_parent_dies

REPO_ROOT = Path(__file__).resolve().parents[1]
QUEUE_NAME = "crawl"
TASK_NAME = "crawl_source"

logger = logging.getLogger("akhbar.worker")


class CrawlFailed(Exception):
    """A crawl ended other than ``finished``: the job is retried, then marked failed."""


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {raw!r}.") from None
    if value <= 0:
        raise ValueError(f"{name} must be greater than 0, not {raw!r}.")
    return value


@dataclass(frozen=True)
class WorkerConfig:
    concurrency: int = 2
    heartbeat_seconds: float = 10.0
    stalled_after_seconds: float = 60.0
    max_attempts: int = 3
    retry_wait_seconds: float = 300.0
    crawl_timeout_seconds: float = 4 * 3600
    stop_grace_seconds: float = 60.0
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def upkeep_seconds(self) -> float:
        """How often a worker looks for stalled jobs: a few times per timeout."""
        return max(0.5, min(self.heartbeat_seconds, self.stalled_after_seconds / 4))

    @classmethod
    def from_env(cls, **overrides: Any) -> WorkerConfig:
        values: dict[str, Any] = {
            "concurrency": int(_env_float("AKHBAR_WORKER_CONCURRENCY", cls.concurrency)),
            "heartbeat_seconds": _env_float("AKHBAR_WORKER_HEARTBEAT", cls.heartbeat_seconds),
            "stalled_after_seconds": _env_float(
                "AKHBAR_WORKER_STALLED_AFTER", cls.stalled_after_seconds
            ),
            "max_attempts": int(_env_float("AKHBAR_QUEUE_MAX_ATTEMPTS", cls.max_attempts)),
            "retry_wait_seconds": _env_float("AKHBAR_QUEUE_RETRY_WAIT", cls.retry_wait_seconds),
            "crawl_timeout_seconds": _env_float("AKHBAR_CRAWL_TIMEOUT", cls.crawl_timeout_seconds),
            "stop_grace_seconds": _env_float("AKHBAR_STOP_GRACE", cls.stop_grace_seconds),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        config = cls(**values)
        if config.concurrency < 1:
            raise ValueError("--concurrency must be at least 1.")
        if config.stalled_after_seconds <= 2 * config.heartbeat_seconds:
            raise ValueError(
                "AKHBAR_WORKER_STALLED_AFTER must be more than twice AKHBAR_WORKER_HEARTBEAT "
                f"({config.stalled_after_seconds:g}s vs {config.heartbeat_seconds:g}s): "
                "otherwise a live worker's crawl is taken from it."
            )
        return config


def source_lock(source: str) -> str:
    """procrastinate's lock and queueing lock of a source's crawl jobs."""
    return f"source:{source}"


def source_lock_key(source: str) -> int:
    """A stable signed 64-bit advisory lock key per source (shared with scheduler.py)."""
    return int.from_bytes(
        hashlib.sha256(f"akhbar-crawl:{source}".encode()).digest()[:8], "big", signed=True
    )


def libpq_conninfo(url: str) -> str:
    """The SQLAlchemy URL as a libpq URI for psycopg (password kept, never logged)."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


# -- the procrastinate app -------------------------------------------------------------------
def make_app(url: str, config: WorkerConfig | None = None, *, pool_size: int = 4) -> Any:
    """A procrastinate App on ``url`` with the crawl task registered."""
    import procrastinate

    config = config or WorkerConfig()
    connector = procrastinate.PsycopgConnector(
        conninfo=libpq_conninfo(url),
        min_size=1,
        max_size=pool_size,
        kwargs={"application_name": "akhbar-queue"},
    )
    app = procrastinate.App(connector=connector)
    # procrastinate's max_attempts counts retries (0 would mean "no limit"); ours counts runs.
    retry = (
        procrastinate.RetryStrategy(
            max_attempts=config.max_attempts - 1, wait=int(config.retry_wait_seconds)
        )
        if config.max_attempts > 1
        else None
    )
    app.task(name=TASK_NAME, queue=QUEUE_NAME, pass_context=True, retry=retry)(crawl_source_job)
    return app


@dataclass(frozen=True)
class Enqueued:
    source: str
    job_id: int | None  # None: a job of this source was already waiting

    @property
    def already_waiting(self) -> bool:
        return self.job_id is None


def enqueue_with_app(
    app: Any, sources: Sequence[str], *, full: bool = False, trigger: str = "manual"
) -> list[Enqueued]:
    from procrastinate.exceptions import AlreadyEnqueued

    results = []
    for source in sources:
        deferrer = app.configure_task(
            TASK_NAME, queue=QUEUE_NAME, lock=source_lock(source), queueing_lock=source_lock(source)
        )
        try:
            job_id = deferrer.defer(source=source, full=full, trigger=trigger)
        except AlreadyEnqueued:
            results.append(Enqueued(source, None))
            continue
        results.append(Enqueued(source, int(job_id)))
    return results


def enqueue(
    url: str, sources: Sequence[str], *, full: bool = False, trigger: str = "manual"
) -> list[Enqueued]:
    """Put one crawl job per source on the queue (a source already waiting is not added)."""
    app = make_app(url, pool_size=1)
    with app.open():  # closed on leaving the block
        return enqueue_with_app(app, sources, full=full, trigger=trigger)


# -- the job ---------------------------------------------------------------------------------
_config: WorkerConfig = WorkerConfig()
_conninfo: str = ""


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("AKHBAR_METRICS_PORT", None)  # the worker serves the metrics, not each crawl
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


async def crawl_source_job(
    context: Any, source: str, full: bool = False, trigger: str = "queued"
) -> str:
    """One queued crawl: hold the source's advisory lock, run `scrapy crawl`, check its run."""
    import psycopg

    job_id = context.job.id
    async with await psycopg.AsyncConnection.connect(
        _conninfo, autocommit=True, application_name=f"akhbar-worker-lock:{source}"
    ) as lock_conn:
        cursor = await lock_conn.execute(
            "SELECT pg_try_advisory_lock(%s)", [source_lock_key(source)]
        )
        row = await cursor.fetchone()
        if not (row and row[0]):
            logger.warning(
                "job %s: %s is being crawled by another process; skipped", job_id, source
            )
            return "skipped: crawled elsewhere"
        live = await asyncio.to_thread(_live_local_run, source)
        if live is not None:
            logger.warning(
                "job %s: %s has a live run %s on this host; skipped", job_id, source, live
            )
            return f"skipped: run {live} is crawling it"
        return await _run_crawl(job_id, source, full, trigger)


def _live_local_run(source: str) -> int | None:
    """Reap runs of ``source`` left ``running`` by dead processes on this host; the id of a
    live one here (a manual `akhbar crawl` takes no advisory lock), else None."""
    from sqlalchemy import select

    from db.crawl_runs import pid_alive, reap_stale_runs
    from db.engine import get_engine, session_scope
    from db.models import CrawlRun

    host = socket.gethostname()
    with session_scope(get_engine()) as session:
        reap_stale_runs(session, source)
        for run in session.scalars(
            select(CrawlRun).where(
                CrawlRun.spider == source,
                CrawlRun.status == "running",
                CrawlRun.hostname == host,
            )
        ):
            if run.pid and pid_alive(run.pid):
                return run.id
    return None


async def _run_crawl(job_id: int, source: str, full: bool, trigger: str) -> str:
    from crawlers.runlog import run_log_path
    from crawlers.runner import crawl_command

    config = _config
    log_file = run_log_path(source)
    out_file = log_file.with_suffix(".out")
    cmd = crawl_command(
        source, trigger=trigger, log_file=log_file, settings=config.settings, full=full
    )
    started = datetime.now(UTC)
    with out_file.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            *cmd,
            cwd=REPO_ROOT,
            env=_child_env(),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the worker only; it forwards one SIGTERM
            preexec_fn=signal_when_parent_dies if sys.platform == "linux" else None,
        )
    logger.info("job %s: %s crawl started (pid %d), log %s", job_id, source, proc.pid, log_file)
    try:
        try:
            returncode = await asyncio.wait_for(proc.wait(), config.crawl_timeout_seconds)
        except TimeoutError:
            await _terminate(proc, config.stop_grace_seconds)
            reason = f"timeout: ran past {config.crawl_timeout_seconds:g}s"
            ids = await asyncio.to_thread(_close_runs, proc.pid, started, "failed", reason, True)
            raise CrawlFailed(f"{source}: {reason} (runs {ids})") from None
        except asyncio.CancelledError:
            # The worker is stopping (or the job was aborted): stop the crawl cleanly; its
            # run ends `interrupted` and the job goes back to the queue.
            logger.warning("job %s: %s crawl asked to stop (pid %d)", job_id, source, proc.pid)
            await _terminate(proc, config.stop_grace_seconds)
            await asyncio.to_thread(
                _close_runs, proc.pid, started, "interrupted", "worker stopping", False
            )
            raise
        reason = f"process exited with code {returncode} without closing the run"
        await asyncio.to_thread(_close_runs, proc.pid, started, "failed", reason, False)
        statuses = await asyncio.to_thread(_run_statuses, proc.pid, started)
    finally:
        if out_file.exists() and out_file.stat().st_size == 0:
            out_file.unlink()
    if returncode != 0 or not statuses or any(s != "finished" for s in statuses.values()):
        raise CrawlFailed(f"{source}: crawl exited with code {returncode}, runs {statuses}")
    logger.info("job %s: %s crawl ended, runs %s", job_id, source, sorted(statuses))
    return f"runs {sorted(statuses)} finished"


async def _terminate(proc: asyncio.subprocess.Process, grace: float) -> None:
    """SIGTERM to Scrapy (it closes cleanly), then SIGKILL to its whole process group."""
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(asyncio.shield(proc.wait()), grace)
    except TimeoutError:
        logger.warning("crawl pid %d did not stop within %.0fs: killing it", proc.pid, grace)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()


def _close_runs(
    pid: int, started: datetime, status: str, reason: str, every_status: bool
) -> list[int]:
    from db.crawl_runs import close_runs_of_pid

    statuses = ("running", "interrupted", "finished", "failed") if every_status else ("running",)
    return close_runs_of_pid(pid, status, reason, since=started, statuses=statuses)


def _run_statuses(pid: int, started: datetime) -> dict[int, str]:
    from db.engine import get_engine

    with get_engine().connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, status FROM crawl_runs WHERE pid = :pid AND hostname = :host"
                " AND started_at >= :since"
            ),
            {"pid": pid, "host": socket.gethostname(), "since": started},
        ).all()
    return {row.id: row.status for row in rows}


# -- the worker ------------------------------------------------------------------------------
def run_worker(url: str, config: WorkerConfig) -> int:
    """Take crawl jobs until SIGTERM/SIGINT; return the exit code."""
    global _config, _conninfo
    _config, _conninfo = config, libpq_conninfo(url)
    app = make_app(url, config, pool_size=3 + config.concurrency)
    asked_to_stop = asyncio.run(_serve(app, config))
    if not asked_to_stop:  # e.g. the database went away: not a clean stop
        logger.error("worker stopped without being asked to (see the errors above)")
        return 1
    return 0


async def _serve(app: Any, config: WorkerConfig) -> bool:
    """Run the worker until SIGTERM/SIGINT (True) or until it stops by itself (False)."""
    from procrastinate.worker import Worker

    name = f"{socket.gethostname()}:{os.getpid()}"
    async with app.open_async():
        worker = Worker(
            app,
            queues=[QUEUE_NAME],
            name=name,
            concurrency=config.concurrency,
            update_heartbeat_interval=config.heartbeat_seconds,
            stalled_worker_timeout=config.stalled_after_seconds,
            # On SIGTERM the running crawls are stopped at once (cleanly, by SIGTERM): their
            # jobs go back to the queue and resume on the next worker.
            shutdown_graceful_timeout=0,
            fetch_job_polling_interval=min(5.0, config.heartbeat_seconds),
            install_signal_handlers=False,  # ours below: they also tell a stop from a failure
        )
        loop = asyncio.get_running_loop()
        signalled = asyncio.Event()

        def on_signal(signum: int) -> None:
            logger.info("signal %d: stopping; running crawls go back to the queue", signum)
            signalled.set()
            loop.remove_signal_handler(signum)  # a second one ends the worker at once
            worker.stop()

        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, on_signal, signum)
        upkeep = asyncio.create_task(_upkeep(app, worker, config), name="akhbar upkeep")
        try:
            await worker.run()
        finally:
            upkeep.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await upkeep
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
        return signalled.is_set()


async def _upkeep(app: Any, worker: Any, config: WorkerConfig) -> None:
    """Record where this worker runs; hand stalled jobs back to the queue, periodically."""
    registered: int | None = None
    # After the database was unreachable nobody could send heartbeats: give every worker a
    # full timeout to send one again before judging its jobs stalled.
    judge_after = time.monotonic() + config.stalled_after_seconds
    while True:
        try:
            if worker.worker_id is not None and worker.worker_id != registered:
                registered = worker.worker_id
                await _register_host(app, registered, config)
                logger.info(
                    "worker %d on %s, %d crawl slot(s), heartbeat every %gs, stalled after %gs",
                    registered,
                    worker.worker_name,
                    config.concurrency,
                    config.heartbeat_seconds,
                    config.stalled_after_seconds,
                )
            if worker.worker_id is not None:
                await app.job_manager.update_heartbeat(worker.worker_id)
            if time.monotonic() >= judge_after:
                await retry_stalled_jobs(app, config)
        except Exception as exc:  # the database may be away for a moment: try again later
            logger.warning("queue upkeep failed: %s", exc or type(exc).__name__)
            judge_after = time.monotonic() + config.stalled_after_seconds
        await asyncio.sleep(config.upkeep_seconds)


async def _register_host(app: Any, worker_id: int, config: WorkerConfig) -> None:
    async with app.connector.pool.connection() as conn:
        await conn.execute(
            "INSERT INTO queue_workers (worker_id, hostname, pid, concurrency)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT (worker_id) DO NOTHING",
            [worker_id, socket.gethostname(), os.getpid(), config.concurrency],
        )


async def retry_stalled_jobs(app: Any, config: WorkerConfig) -> list[int]:
    """Jobs of workers silent for ``stalled_after`` go back to the queue (or fail, once they
    used up their attempts). Every worker runs this; a job another worker already moved is
    skipped. Returns the ids handed back."""
    from procrastinate.jobs import Status

    await app.job_manager.prune_stalled_workers(config.stalled_after_seconds)
    stalled = await app.job_manager.get_stalled_jobs(
        queue=QUEUE_NAME, seconds_since_heartbeat=config.stalled_after_seconds
    )
    retried = []
    for job in stalled:
        source = job.task_kwargs.get("source")
        try:
            if job.attempts + 1 >= config.max_attempts:
                await app.job_manager.finish_job(job=job, status=Status.FAILED, delete_job=False)
                logger.error(
                    "job %s (%s): its worker was lost on the last of %d attempts: failed",
                    job.id,
                    source,
                    config.max_attempts,
                )
            else:
                await app.job_manager.retry_job(job)
                retried.append(job.id)
                logger.warning(
                    "job %s (%s): its worker stopped sending heartbeats; back in the queue",
                    job.id,
                    source,
                )
        except Exception as exc:  # another worker moved it first, or a newer job waits
            logger.info("job %s (%s): not retried here: %s", job.id, source, exc)
    return retried


# -- what the queue holds --------------------------------------------------------------------
_STATUS_SQL = {
    "workers": """
        SELECT w.id, w.last_heartbeat, extract(epoch FROM now() - w.last_heartbeat) AS age,
               q.hostname, q.pid, q.concurrency,
               (SELECT count(*) FROM procrastinate_jobs j
                 WHERE j.worker_id = w.id AND j.status = 'doing') AS running
        FROM procrastinate_workers w LEFT JOIN queue_workers q ON q.worker_id = w.id
        ORDER BY w.id
    """,
    "running": """
        SELECT j.id, j.args->>'source' AS source, j.worker_id, j.attempts,
               (SELECT max(e.at) FROM procrastinate_events e
                 WHERE e.job_id = j.id AND e.type = 'started') AS started_at,
               (j.worker_id IS NULL
                OR w.last_heartbeat < now() - make_interval(secs => :stalled)) AS stalled
        FROM procrastinate_jobs j LEFT JOIN procrastinate_workers w ON w.id = j.worker_id
        WHERE j.status = 'doing' AND j.queue_name = :queue
        ORDER BY j.id
    """,
    "queued": """
        SELECT j.id, j.args->>'source' AS source, j.attempts, j.scheduled_at,
               (SELECT min(e.at) FROM procrastinate_events e
                 WHERE e.job_id = j.id AND e.type = 'deferred') AS queued_at
        FROM procrastinate_jobs j
        WHERE j.status = 'todo' AND j.queue_name = :queue
        ORDER BY j.priority DESC, j.id
    """,
    "counts": """
        SELECT status::text, count(*) FROM procrastinate_jobs
        WHERE queue_name = :queue GROUP BY status
    """,
    "failed": """
        SELECT j.id, j.args->>'source' AS source, j.attempts,
               (SELECT max(e.at) FROM procrastinate_events e WHERE e.job_id = j.id) AS at
        FROM procrastinate_jobs j
        WHERE j.status = 'failed' AND j.queue_name = :queue
        ORDER BY j.id DESC LIMIT 20
    """,
}


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def queue_status(engine: Any, stalled_after: float | None = None) -> dict[str, Any]:
    """Workers (last heartbeat, running jobs), running, queued and recently failed jobs,
    and job counts by status, as plain data (``akhbar workers [--json]``)."""
    if stalled_after is None:
        stalled_after = WorkerConfig.from_env().stalled_after_seconds
    params = {"queue": QUEUE_NAME, "stalled": stalled_after}
    with engine.connect() as conn:
        result: dict[str, Any] = {}
        for key, sql in _STATUS_SQL.items():
            rows = conn.execute(text(sql), params).mappings().all()
            result[key] = [{k: _iso(v) for k, v in row.items()} for row in rows]
    counts = {row["status"]: int(row["count"]) for row in result.pop("counts")}
    result["counts"] = counts
    result["stalled_after_seconds"] = stalled_after
    for worker in result["workers"]:
        worker["age"] = round(float(worker["age"]), 1)
        worker["stalled"] = worker["age"] > stalled_after
    return result


class QueueCollector:
    """Prometheus gauges read from the queue tables at each scrape:

    ``akhbar_queue_jobs{status}``, ``akhbar_queue_stalled_jobs``, ``akhbar_queue_workers``,
    ``akhbar_queue_oldest_waiting_seconds``."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        try:
            status = queue_status(self.engine)
        except Exception as exc:  # no queue tables yet, database away: no gauges this time
            logger.warning("metrics: cannot read the queue: %s", exc)
            return
        jobs = GaugeMetricFamily("akhbar_queue_jobs", "Crawl jobs by status", labels=["status"])
        for name in ("todo", "doing", "succeeded", "failed", "cancelled", "aborted"):
            jobs.add_metric([name], float(status["counts"].get(name, 0)))
        yield jobs
        yield GaugeMetricFamily(
            "akhbar_queue_stalled_jobs",
            "Running crawl jobs whose worker stopped sending heartbeats",
            value=float(sum(1 for job in status["running"] if job["stalled"])),
        )
        yield GaugeMetricFamily(
            "akhbar_queue_workers",
            "Workers with a recent heartbeat",
            value=float(sum(1 for w in status["workers"] if not w["stalled"])),
        )
        now = datetime.now(UTC)
        ages = [
            (now - datetime.fromisoformat(job["queued_at"])).total_seconds()
            for job in status["queued"]
            if job["queued_at"]
        ]
        yield GaugeMetricFamily(
            "akhbar_queue_oldest_waiting_seconds",
            "How long the oldest waiting crawl job has waited",
            value=max(ages, default=0.0),
        )
