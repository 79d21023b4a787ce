"""`akhbar worker`: run queued source crawls; `akhbar workers`: what the queue holds.

Any number of workers on any number of machines point at one DATABASE_URL; the queue is
procrastinate's tables in that database (crawlers/queue.py, docs/scaling.md).
"""

from __future__ import annotations

import json
import logging
import os
import sys

import typer
from rich.table import Table

from cli.commands._common import console, err_console, ready_database


def register(app: typer.Typer) -> None:
    app.command()(worker)
    app.command()(workers)


def worker(
    concurrency: int = typer.Option(
        None, help="Crawls this worker runs at once (default AKHBAR_WORKER_CONCURRENCY or 2)."
    ),
) -> None:
    """Take source-crawl jobs from the queue and run them until stopped (SIGTERM/Ctrl-C:
    running crawls stop cleanly and go back to the queue)."""
    from crawlers.queue import WorkerConfig, run_worker
    from crawlers.runlog import var_dir

    logging.basicConfig(
        level=os.environ.get("AKHBAR_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        config = WorkerConfig.from_env(concurrency=concurrency)
    except ValueError as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    url = ready_database()
    var_dir().mkdir(parents=True, exist_ok=True)
    metrics_port = int(os.environ.get("AKHBAR_METRICS_PORT") or 0)
    if metrics_port:
        from crawlers.exporter import serve_metrics
        from db.engine import get_engine

        serve_metrics(metrics_port, get_engine(url))
    raise typer.Exit(run_worker(url, config))


def workers(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Workers with their last heartbeat, running, queued and recently failed crawl jobs."""
    from crawlers.queue import queue_status
    from db.engine import get_engine

    url = ready_database()
    try:
        status = queue_status(get_engine(url))
    except ValueError as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    if as_json:
        print(json.dumps(status, ensure_ascii=False, indent=2, default=str))
        return
    _print_status(status)


def _print_status(status: dict) -> None:
    table = Table(title="Workers", title_justify="left")
    for column in ("id", "host", "pid", "slots", "running", "last heartbeat", "state"):
        table.add_column(column)
    for w in status["workers"]:
        table.add_row(
            str(w["id"]),
            w["hostname"] or "?",
            str(w["pid"] or "?"),
            str(w["concurrency"] or "?"),
            str(w["running"]),
            f"{w['age']:.0f}s ago",
            "[red]stalled[/red]" if w["stalled"] else "alive",
        )
    console.print(table if status["workers"] else "No worker has a heartbeat.")

    running = Table(title="Running", title_justify="left")
    for column in ("job", "source", "worker", "attempt", "started", "state"):
        running.add_column(column)
    for job in status["running"]:
        running.add_row(
            str(job["id"]),
            job["source"] or "?",
            str(job["worker_id"] or "-"),
            str(job["attempts"] + 1),
            str(job["started_at"] or "?"),
            "[red]stalled[/red]" if job["stalled"] else "crawling",
        )
    console.print(running if status["running"] else "No crawl job is running.")

    queued = Table(title="Queued", title_justify="left")
    for column in ("job", "source", "attempt", "queued", "not before"):
        queued.add_column(column)
    for job in status["queued"]:
        queued.add_row(
            str(job["id"]),
            job["source"] or "?",
            str(job["attempts"] + 1),
            str(job["queued_at"] or "?"),
            str(job["scheduled_at"] or "-"),
        )
    console.print(queued if status["queued"] else "No crawl job is waiting.")
    if status["failed"]:
        failed = Table(title="Failed (latest 20)", title_justify="left")
        for column in ("job", "source", "attempts", "at"):
            failed.add_column(column)
        for job in status["failed"]:
            failed.add_row(str(job["id"]), job["source"] or "?", str(job["attempts"]), job["at"])
        console.print(failed)
    counts = ", ".join(f"{k} {v}" for k, v in sorted(status["counts"].items())) or "empty"
    console.print(f"Jobs: {counts}.")
