"""`akhbar runs`: recent crawl runs."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import typer
from rich.table import Table

from cli.commands._common import console, ready_database

STATUS_STYLE = {"finished": "green", "failed": "red", "interrupted": "yellow", "running": "cyan"}


def status_text(status: str | None) -> str:
    if not status:
        return "[dim]never run[/dim]"
    style = STATUS_STYLE.get(status, "")
    return f"[{style}]{status}[/{style}]" if style else status


def _duration(run: object) -> str:
    start, end = run.started_at, run.finished_at  # type: ignore[attr-defined]
    seconds = ((end or datetime.now(UTC)) - start).total_seconds()
    text = f"{seconds / 60:.1f} min" if seconds >= 120 else f"{seconds:.0f} s"
    return text if end else f"{text}…"


def register(app: typer.Typer) -> None:
    app.command("runs")(runs)


def runs(
    source: str = typer.Option(None, "--source", "-s", help="Only this source's runs."),
    limit: int = typer.Option(20, "--limit", "-n", min=1, help="How many recent runs."),
    status: str = typer.Option(
        None, help="Only runs with this status (see docs/schema.md for the list)."
    ),
    logs: bool = typer.Option(False, "--logs", help="Show each run's log file."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per run instead."),
) -> None:
    """Recent crawl runs, newest first."""
    from sqlalchemy import select

    from cli.commands._common import check_source, fail
    from db.engine import get_engine, session_scope
    from db.models import RUN_STATUSES, CrawlRun

    if status is not None and status not in RUN_STATUSES:
        raise fail(f"Unknown status: {status}. Valid statuses: {', '.join(RUN_STATUSES)}.")
    url = ready_database()
    check_source(url, source)
    query = select(CrawlRun).order_by(CrawlRun.id.desc()).limit(limit)
    if source:
        query = query.where(CrawlRun.spider == source)
    if status:
        query = query.where(CrawlRun.status == status)
    with session_scope(get_engine(url)) as session:
        rows = list(session.scalars(query))
    if as_json:
        for run in rows:
            print(json.dumps(run_record(run), ensure_ascii=False))
        return
    if not rows:
        console.print(
            "No crawl runs"
            + (f" for {source}" if source else "")
            + (f" with status {status}" if status else "")
            + " yet. Start one with `akhbar crawl SOURCE`.",
            markup=False,
        )
        return
    table = Table(title="Crawl runs")
    columns = ("id", "source", "trigger", "status", "started", "took", "pages", "stored")
    for column in (*columns, "dups", "errors", *(["log"] if logs else [])):
        table.add_column(
            column,
            justify="right"
            if column in {"id", "pages", "stored", "dups", "errors", "took"}
            else "left",
            no_wrap=column != "log",
            overflow="fold",
        )
    for run in rows:
        table.add_row(
            str(run.id),
            run.spider,
            run.trigger,
            status_text(run.status),
            f"{run.started_at:%Y-%m-%d %H:%M:%S}",
            _duration(run),
            str(run.pages_fetched),
            str(run.articles_stored),
            str(run.exact_duplicates + run.near_duplicates),
            str(run.errors),
            *([run.log_path or ""] if logs else []),
        )
    console.print(table)


def run_record(run: object) -> dict[str, object]:
    """A crawl run as plain JSON values (for --json): the API's fields plus the log path."""
    from db.views import RUN_FIELDS

    fields = (*RUN_FIELDS, "log_path")
    record = {name: getattr(run, name, None) for name in fields}
    record["source"] = record.pop("spider")
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in record.items()}
