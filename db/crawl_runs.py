"""Run bookkeeping in the database: each crawl is a row in ``crawl_runs``.

The row is created when the first component of a crawl needs it (the pipelines open before
the spider_opened signal) and kept on the crawler (``run_context``). A running crawl renews
its heartbeat; whoever looks next closes the rows of crawls that are gone
(``reap_stale_runs``). The scheduler and the command line use the same functions, so the
crawler is only read through its attributes: no Scrapy import here.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from db.engine import get_engine, session_scope
from db.models import CrawlRun
from db.queries import start_run, upsert_source

_lock = threading.Lock()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by its parent) is gone for our purposes.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


# A running crawl renews crawl_runs.heartbeat_at every AKHBAR_RUN_FLUSH_INTERVAL seconds.
# A heartbeat older than this means the process is gone (killed, machine lost), wherever it ran.
DEFAULT_LEASE_SECONDS = 300.0


def lease_seconds() -> float:
    """How old a heartbeat may be before its run counts as gone (AKHBAR_RUN_LEASE_SECONDS)."""
    return float(os.environ.get("AKHBAR_RUN_LEASE_SECONDS") or DEFAULT_LEASE_SECONDS)


def _expired(run: CrawlRun, now: datetime, lease: float) -> bool:
    last = run.heartbeat_at or run.started_at
    return last is not None and (now - last).total_seconds() > lease


def reap_stale_runs(session: Session, spider: str | None = None) -> list[int]:
    """Close ``running`` rows whose crawl is gone as ``interrupted``; return their ids.

    A crawl killed with SIGKILL (or a machine that lost power) cannot close its own row.
    Whoever looks next (a crawl starting, the scheduler, `akhbar health`, the metrics)
    closes it: on any host, a row whose heartbeat is older than the lease
    (AKHBAR_RUN_LEASE_SECONDS); on this host, at once, a row whose process is gone.
    ``spider`` None: every source.
    """
    host = socket.gethostname()
    now = session.scalar(select(func.now())) or datetime.now(UTC)
    lease = lease_seconds()
    query = select(CrawlRun).where(CrawlRun.status == "running")
    if spider is not None:
        query = query.where(CrawlRun.spider == spider)
    stale = []
    for run in session.scalars(query.with_for_update(skip_locked=True)):
        if _expired(run, now, lease):
            reason = f"no heartbeat for more than {lease:g}s (found by a later look)"
        elif run.hostname == host and run.pid and run.pid != os.getpid() and not pid_alive(run.pid):
            reason = "process gone (found by a later look)"
        else:
            continue
        run.status = "interrupted"
        run.finished_at = now
        run.stats = {**(run.stats or {}), "finish_reason": reason, "outcome_reasons": [reason]}
        stale.append(run.id)
    return stale


def close_runs_of_pid(
    pid: int,
    status: str,
    reason: str,
    *,
    since: datetime,
    statuses: tuple[str, ...] = ("running", "interrupted", "finished", "failed"),
) -> list[int]:
    """Set the status of the runs a crawl process (``pid`` on this host, started after
    ``since``: pids are reused) left behind.

    The scheduler calls this after it had to stop a crawl: one killed for running too long
    is ``failed`` even if Scrapy managed to close it as ``interrupted``.
    """
    with session_scope(get_engine()) as session:
        runs = list(
            session.scalars(
                select(CrawlRun).where(
                    CrawlRun.pid == pid,
                    CrawlRun.hostname == socket.gethostname(),
                    CrawlRun.started_at >= since,
                    CrawlRun.status.in_(statuses),
                )
            )
        )
        for run in runs:
            run.status = status
            run.finished_at = run.finished_at or datetime.now(UTC)
            run.stats = {**(run.stats or {}), "finish_reason": reason}
        return [run.id for run in runs]


def describe_runs_of_pid(pid: int, *, since: datetime) -> list[tuple[str, str]]:
    """(outcome, one line with the counts and reasons) of each run a crawl process (``pid``
    on this host, started after ``since``) recorded: what the scheduler logs."""
    with session_scope(get_engine()) as session:
        runs = session.scalars(
            select(CrawlRun)
            .where(
                CrawlRun.pid == pid,
                CrawlRun.hostname == socket.gethostname(),
                CrawlRun.started_at >= since,
            )
            .order_by(CrawlRun.id)
        )
        out = []
        for run in runs:
            reasons = (run.stats or {}).get("outcome_reasons") or []
            out.append(
                (
                    run.status,
                    f"run {run.id} {run.status}: pages {run.pages_fetched}, "
                    f"stored {run.articles_stored}, duplicates "
                    f"{run.exact_duplicates + run.near_duplicates}, non-articles "
                    f"{run.non_articles}, errors {run.errors}"
                    + (f" ({'; '.join(reasons)})" if reasons else ""),
                )
            )
        return out


def running_run(session: Session, spider: str) -> CrawlRun | None:
    """The live ``running`` row of ``spider``, if a crawl of it is under way: on this host a
    live process, elsewhere a heartbeat within the lease."""
    host = socket.gethostname()
    now = session.scalar(select(func.now())) or datetime.now(UTC)
    lease = lease_seconds()
    for run in session.scalars(
        select(CrawlRun).where(CrawlRun.spider == spider, CrawlRun.status == "running")
    ):
        if run.hostname == host and run.pid:
            if pid_alive(run.pid):
                return run
        elif not _expired(run, now, lease):
            return run
    return None


def last_success_start(spider: str, engine: Any = None) -> datetime | None:
    """When the last ``finished`` run of ``spider`` started (incremental crawling).

    Only ``finished`` counts: after a ``degraded``, ``empty``, ``failed`` or ``interrupted``
    run the window stays where the last real success put it, so the next run reads again
    what this one may have missed (articles already stored are skipped by URL)."""
    with session_scope(engine or get_engine()) as session:
        return session.scalar(
            select(CrawlRun.started_at)
            .where(CrawlRun.spider == spider, CrawlRun.status == "finished")
            .order_by(CrawlRun.started_at.desc())
            .limit(1)
        )


@dataclass(frozen=True, slots=True)
class RunContext:
    source_id: int
    run_id: int


def run_context(crawler: Any) -> RunContext:
    """The run row of this crawl, created by whichever component asks first (the storage
    pipeline or the run recorder) and kept on the crawler as ``crawler.akhbar_run``.

    ``crawler`` is a Scrapy Crawler, read only through its attributes (``spider``,
    ``settings``, ``akhbar_log_path``); the database may be restarting, so creating the row
    is retried for AKHBAR_DB_WAIT_SECONDS."""
    with _lock:
        existing = getattr(crawler, "akhbar_run", None)
        if existing is not None:
            return existing
        spider = crawler.spider
        source = spider.source
        settings = crawler.settings
        # The database may be restarting: wait for it a while rather than fail the crawl.
        deadline = time.monotonic() + settings.getfloat("AKHBAR_DB_WAIT_SECONDS", 30.0)
        delay = 0.5
        while True:
            try:
                with session_scope(get_engine()) as session:
                    reaped = reap_stale_runs(session)
                    source_id = upsert_source(session, source)
                    run_id = start_run(
                        session,
                        source_id=source_id,
                        spider=spider.name,
                        trigger=settings.get("AKHBAR_RUN_TRIGGER", "manual"),
                        log_path=getattr(crawler, "akhbar_log_path", None)
                        or settings.get("LOG_FILE"),
                        hostname=socket.gethostname(),
                        pid=os.getpid(),
                        heartbeat_at=func.now(),
                    )
                break
            except OperationalError as exc:
                if time.monotonic() + delay > deadline:
                    raise
                spider.logger.warning(
                    "cannot record the run yet (retrying in %.1fs): %s",
                    delay,
                    str(exc.orig or exc).strip().splitlines()[0],
                )
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
        if reaped:
            spider.logger.warning(
                "runs %s were left running by a process that is gone; marked interrupted",
                ", ".join(map(str, reaped)),
            )
        context = RunContext(source_id=source_id, run_id=run_id)
        crawler.akhbar_run = context
        return context
