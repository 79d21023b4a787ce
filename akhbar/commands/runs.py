"""`akhbar sources` (the registry and how each source is doing) and `akhbar runs`."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.table import Table

from akhbar.commands._common import console, err_console, ready_database

STATUS_STYLE = {"finished": "green", "failed": "red", "interrupted": "yellow", "running": "cyan"}


def _status(status: str | None) -> str:
    if not status:
        return "[dim]never run[/dim]"
    style = STATUS_STYLE.get(status, "")
    return f"[{style}]{status}[/{style}]" if style else status


def _ago(when: datetime | None) -> str:
    if when is None:
        return "-"
    seconds = (datetime.now(UTC) - when).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{when:%Y-%m-%d %H:%M} ({int(seconds // size)}{unit} ago)"
    return f"{when:%Y-%m-%d %H:%M} ({int(seconds)}s ago)"


def _duration(run: object) -> str:
    start, end = run.started_at, run.finished_at  # type: ignore[attr-defined]
    seconds = ((end or datetime.now(UTC)) - start).total_seconds()
    text = f"{seconds / 60:.1f} min" if seconds >= 120 else f"{seconds:.0f} s"
    return text if end else f"{text}…"


def register(app: typer.Typer) -> None:
    @app.command()
    def sources() -> None:
        """The source registry, with each source's last run and article count."""
        from sqlalchemy import func, select

        from akhbar.sources import load_sources, registry_path
        from db.engine import get_engine, session_scope
        from db.models import Article, CrawlRun, Duplicate
        from db.models import Source as SourceRow

        try:
            registry = load_sources()
        except (OSError, ValueError, KeyError) as exc:
            err_console.print(f"[red]{_registry_error(exc, registry_path())}[/red]")
            raise typer.Exit(2) from None
        url = ready_database()
        with session_scope(get_engine(url)) as session:
            articles = dict(
                session.execute(
                    select(SourceRow.name, func.count(Article.id))
                    .join(Article, Article.source_id == SourceRow.id)
                    .group_by(SourceRow.name)
                ).all()
            )
            duplicates = dict(
                session.execute(
                    select(SourceRow.name, func.count(Duplicate.id))
                    .join(Duplicate, Duplicate.source_id == SourceRow.id)
                    .group_by(SourceRow.name)
                ).all()
            )
            latest = (
                select(CrawlRun.spider, func.max(CrawlRun.id).label("id"))
                .group_by(CrawlRun.spider)
                .subquery()
            )
            last_runs = {
                run.spider: run
                for run in session.scalars(
                    select(CrawlRun).join(latest, CrawlRun.id == latest.c.id)
                )
            }
            last_ok = dict(
                session.execute(
                    select(CrawlRun.spider, func.max(CrawlRun.finished_at))
                    .where(CrawlRun.status == "finished")
                    .group_by(CrawlRun.spider)
                ).all()
            )
        table = Table(title=f"Sources ({registry_path()})")
        for column in ("source", "title", "last run", "status", "last success", "articles", "dups"):
            table.add_column(column, justify="right" if column in {"articles", "dups"} else "left")
        for name in sorted(registry):
            run = last_runs.get(name)
            table.add_row(
                name,
                registry[name].title,
                _ago(run.started_at if run else None),
                _status(run.status if run else None),
                _ago(last_ok.get(name)),
                str(articles.get(name, 0)),
                str(duplicates.get(name, 0)),
            )
        console.print(table)
        orphans = sorted(set(last_runs) - set(registry))
        if orphans:
            console.print(
                f"[dim]Crawled before, no longer in the registry: {', '.join(orphans)}[/dim]"
            )

    @app.command()
    def runs(
        source: str = typer.Option(None, "--source", "-s", help="Only this source's runs."),
        limit: int = typer.Option(20, "--limit", "-n", help="How many recent runs."),
        status: str = typer.Option(
            None, help="Only runs with this status: running, finished, failed, interrupted."
        ),
        logs: bool = typer.Option(False, "--logs", help="Show each run's log file."),
    ) -> None:
        """Recent crawl runs, newest first."""
        from sqlalchemy import select

        from db.engine import get_engine, session_scope
        from db.models import CrawlRun

        url = ready_database()
        query = select(CrawlRun).order_by(CrawlRun.id.desc()).limit(limit)
        if source:
            query = query.where(CrawlRun.spider == source)
        if status:
            query = query.where(CrawlRun.status == status)
        with session_scope(get_engine(url)) as session:
            rows = list(session.scalars(query))
        if not rows:
            console.print(
                "No crawl runs yet"
                + (f" for {source}" if source else "")
                + ". Start one with `akhbar crawl SOURCE`."
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
                _status(run.status),
                f"{run.started_at:%Y-%m-%d %H:%M:%S}",
                _duration(run),
                str(run.pages_fetched),
                str(run.articles_stored),
                str(run.exact_duplicates + run.near_duplicates),
                str(run.errors),
                *([run.log_path or ""] if logs else []),
            )
        console.print(table)


def _registry_error(exc: Exception, path: object) -> str:
    text = str(exc)
    return text if str(path) in text else f"Cannot read the source registry {path}: {text}"
