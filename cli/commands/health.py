"""`akhbar health`: each source's last run against its own history; exits 1 when a source
is flagged, so cron or a monitor can alert (docs/operations.md, "Source health")."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from cli.commands._common import console, err_console, ready_database


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def register(app: typer.Typer) -> None:
    app.command()(health)


def health(
    sources: list[str] = typer.Argument(None, help="Sources to check (default: all)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
    due_hours: float = typer.Option(
        None,
        help="Flag a source not crawled for this many hours (default 26, "
        "or AKHBAR_HEALTH_DUE_HOURS).",
    ),
) -> None:
    """Flag sources whose crawls fail, yield nothing or less than usual, or are overdue."""
    from cli.commands.crawl import resolve_sources
    from db.crawl_runs import reap_stale_runs
    from db.engine import get_engine, session_scope
    from db.health import FLAGS, source_health

    if due_hours is not None and due_hours <= 0:
        err_console.print("--due-hours must be a positive number of hours.")
        raise typer.Exit(2)
    names = resolve_sources(sources, all_sources=not sources)
    url = ready_database()
    engine = get_engine(url)
    # Looking is enough to close runs whose process is gone (their heartbeat stopped).
    with session_scope(engine) as session:
        reaped = reap_stale_runs(session)
    if reaped:
        err_console.print(
            f"Closed runs {', '.join(map(str, reaped))} as interrupted: their crawl is gone."
        )
    report = source_health(engine, names, due_hours=due_hours)
    flagged = [h for h in report if h.flags]
    queue = _queue_health(engine)
    if as_json:
        print(
            json.dumps(
                {
                    "ok": not flagged and not queue["stalled"],
                    "sources": [h.as_json() for h in report],
                    "queue": queue,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        table = Table(title="Source health", title_justify="left")
        columns = (
            "source", "last run", "yield", "median", "undated", "no author",
            "words", "non-art.", "dups", "errors", "flags",
        )  # fmt: skip
        for column in columns:
            table.add_column(
                column, justify="left" if column in {"source", "last run", "flags"} else "right"
            )
        for h in report:
            table.add_row(
                h.source,
                ("running" if h.running else h.last_outcome) or "never",
                _num(h.last_yield),
                _num(h.median_yield),
                f"{_pct(h.undated_share)} ({_pct(h.undated_share_history)})",
                f"{_pct(h.no_author_share)} ({_pct(h.no_author_share_history)})",
                f"{_num(h.median_words)} ({_num(h.median_words_history)})",
                _pct(h.non_article_rate),
                _pct(h.duplicate_rate),
                _pct(h.error_rate),
                ", ".join(h.flags) or "ok",
            )
        console.print(table)
        for h in flagged:
            for flag in h.flags:
                reasons = (
                    f" ({'; '.join(h.last_reasons)})"
                    if flag.startswith("last_run") and h.last_reasons
                    else ""
                )
                err_console.print(f"{h.source}: {flag}: {FLAGS[flag]}{reasons}", markup=False)
        console.print(
            f"Crawl queue: {queue['queued']} waiting, {queue['running']} running, "
            f"{queue['stalled']} stalled, {queue['workers']} live workers.",
            markup=False,
        )
        if queue["stalled"]:
            err_console.print(
                f"queue: stalled_jobs: {queue['stalled']} running crawl job(s) whose worker "
                "stopped sending heartbeats; another worker retries them once "
                "AKHBAR_WORKER_STALLED_AFTER has passed (docs/scaling.md).",
                markup=False,
            )
    if flagged or queue["stalled"]:
        raise typer.Exit(1)


def _queue_health(engine: object) -> dict[str, int]:
    """Depth of the crawl queue and its stalled jobs (crawlers/queue.py), for the same alert."""
    from crawlers.queue import queue_status

    status = queue_status(engine)
    return {
        "queued": len(status["queued"]),
        "running": len(status["running"]),
        "stalled": sum(1 for job in status["running"] if job["stalled"]),
        "workers": sum(1 for worker in status["workers"] if not worker["stalled"]),
    }
