"""Each crawl is a row in crawl_runs. The row is created when the first component needs
it (pipelines open before the spider_opened signal) and kept on the crawler.

Also the run bookkeeping the scheduler and the command line share: where per-run files go,
finding runs left ``running`` by a killed process, the last successful run of a source.
No Scrapy import here: the scheduler and `akhbar` use this module too.
"""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import get_engine, session_scope
from db.models import CrawlRun
from db.queries import start_run, upsert_source

REPO_ROOT = Path(__file__).resolve().parents[1]
_lock = threading.Lock()


def var_dir() -> Path:
    """Where run logs (var/logs) and resume journals (var/jobs) live: AKHBAR_VAR_DIR or ./var."""
    return Path(os.environ.get("AKHBAR_VAR_DIR") or REPO_ROOT / "var")


def run_log_path(source: str, when: datetime | None = None) -> Path:
    """A fresh log file path for one run of ``source`` (its directory is created)."""
    when = when or datetime.now(UTC)
    path = var_dir() / "logs" / source / f"{when:%Y%m%dT%H%M%S}-{os.getpid()}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


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


def reap_stale_runs(session: Session, spider: str) -> list[int]:
    """Mark ``running`` rows of ``spider`` whose process on this host is gone as interrupted.

    A crawl killed with SIGKILL (or a machine that lost power) cannot close its own row;
    the next start of the same source does it. Rows of other hosts are left alone: their
    processes cannot be checked from here.
    """
    host = socket.gethostname()
    stale = [
        run
        for run in session.scalars(
            select(CrawlRun).where(CrawlRun.spider == spider, CrawlRun.status == "running")
        )
        if run.hostname == host and run.pid and run.pid != os.getpid() and not pid_alive(run.pid)
    ]
    for run in stale:
        run.status = "interrupted"
        run.finished_at = datetime.now(UTC)
        run.stats = {**(run.stats or {}), "finish_reason": "process gone (found by a later run)"}
    return [run.id for run in stale]


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


def running_run(session: Session, spider: str) -> CrawlRun | None:
    """The live ``running`` row of ``spider`` on this host, if a crawl of it is under way."""
    host = socket.gethostname()
    for run in session.scalars(
        select(CrawlRun).where(CrawlRun.spider == spider, CrawlRun.status == "running")
    ):
        if run.hostname != host or (run.pid and pid_alive(run.pid)):
            return run
    return None


def last_success_start(spider: str, engine: Any = None) -> datetime | None:
    """When the last ``finished`` run of ``spider`` started (incremental crawling)."""
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
    with _lock:
        existing = getattr(crawler, "akhbar_run", None)
        if existing is not None:
            return existing
        spider = crawler.spider
        source = spider.source
        settings = crawler.settings
        with session_scope(get_engine()) as session:
            reaped = reap_stale_runs(session, spider.name)
            source_id = upsert_source(session, source)
            run_id = start_run(
                session,
                source_id=source_id,
                spider=spider.name,
                trigger=settings.get("AKHBAR_RUN_TRIGGER", "manual"),
                log_path=getattr(crawler, "akhbar_log_path", None) or settings.get("LOG_FILE"),
                hostname=socket.gethostname(),
                pid=os.getpid(),
            )
        if reaped:
            spider.logger.warning(
                "runs %s of %s were left running by a process that is gone; marked interrupted",
                ", ".join(map(str, reaped)),
                spider.name,
            )
        context = RunContext(source_id=source_id, run_id=run_id)
        crawler.akhbar_run = context
        return context
