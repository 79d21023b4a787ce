"""`akhbar crawl SOURCE... | --all`: crawl with a live progress display, then a summary."""

from __future__ import annotations

import time
from typing import Any

import typer
from rich.live import Live
from rich.table import Table

from akhbar.sources import unknown_names_error
from cli.commands._common import console, err_console, fail, ready_database, summary_table


def register(app: typer.Typer) -> None:
    app.command()(crawl)


def crawl(
    sources: list[str] = typer.Argument(None, help="Source names from the registry."),
    all_sources: bool = typer.Option(False, "--all", help="Crawl every registry source."),
    since: str = typer.Option(None, help="Only articles listed since: 2024-05-01, 3d or 12h."),
    limit: int = typer.Option(None, min=1, help="At most this many article pages per source."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Fetch and extract, store nothing."),
    full: bool = typer.Option(
        False,
        "--full",
        help="Read every sitemap/feed entry, not only those newer than the last good run.",
    ),
    progress: bool = typer.Option(True, help="Show live progress while crawling."),
    enqueue: bool = typer.Option(
        False, "--enqueue", help="Put the crawls on the queue for `akhbar worker`s instead."
    ),
) -> None:
    """Crawl sources with Scrapy and store their new articles."""
    from akhbar.timebounds import parse_bound

    try:
        parse_bound(since, name="--since")
    except ValueError as exc:
        raise fail(str(exc)) from None
    names = resolve_sources(sources, all_sources)
    if enqueue:
        enqueue_crawls(names, full=full, since=since, limit=limit, dry_run=dry_run)
        return
    run_and_report(names, since=since, limit=limit, dry_run=dry_run, full=full, progress=progress)


def enqueue_crawls(
    names: list[str], *, full: bool, since: str | None, limit: int | None, dry_run: bool
) -> None:
    """One queued job per source; a source already waiting is not queued twice."""
    from crawlers.queue import enqueue

    if since or limit or dry_run:
        err_console.print("--enqueue takes --full only (not --since, --limit or --dry-run).")
        raise typer.Exit(2)
    for item in enqueue(ready_database(), names, full=full, trigger="manual"):
        if item.already_waiting:
            console.print(f"{item.source}: already waiting in the queue")
        else:
            console.print(f"{item.source}: queued as job {item.job_id}")


def resolve_sources(sources: list[str] | None, all_sources: bool) -> list[str]:
    """The registry names asked for, or exit with a sentence listing the known ones."""
    from akhbar.sources import SourceRegistryError, load_sources, registry_path

    try:
        registry = load_sources()
    except (SourceRegistryError, OSError, ValueError, KeyError) as exc:
        raise fail(_registry_error(exc, registry_path())) from None
    names = sorted(registry) if all_sources else list(sources or [])
    if not names:
        raise fail(
            "Name at least one source, or --all. Known sources: "
            + ", ".join(sorted(registry))
            + "."
        )
    if error := unknown_names_error(names, registry):
        raise fail(error)
    return names


class CrawlProgress:
    """A table of per-source counters, read from the crawlers' stats (rich calls
    ``__rich__`` from its refresh thread; the stats dicts are only read)."""

    def __init__(self) -> None:
        self.crawlers: list[Any] = []
        self.started = time.monotonic()

    def __rich__(self) -> Table:
        table = Table(title="Crawling", title_justify="left")
        for column in ("source", "state", "pages", "stored", "duplicates", "errors", "pages/s"):
            table.add_column(column, justify="left" if column in {"source", "state"} else "right")
        for crawler in list(self.crawlers):
            stats = crawler.stats.get_stats() if crawler.stats else {}
            pages = stats.get("downloader/response_count", 0)
            start = stats.get("start_time")
            elapsed = (
                ((stats.get("finish_time") or _now(start)) - start).total_seconds()
                if start
                else 0.0
            )
            state = stats.get("finish_reason") or ("crawling" if start else "starting")
            table.add_row(
                crawler.spidercls.name,
                state,
                str(pages),
                str(stats.get("akhbar/articles_stored", 0)),
                str(
                    stats.get("akhbar/exact_duplicates", 0) + stats.get("akhbar/near_duplicates", 0)
                ),
                # this source's own errors (log_count/ERROR counts the whole process)
                str(stats.get("akhbar/errors", 0) + stats.get("akhbar/requests_failed", 0)),
                f"{pages / elapsed:.1f}" if elapsed > 0 else "-",
            )
        return table


def _now(reference: Any) -> Any:
    from datetime import datetime

    return datetime.now(reference.tzinfo)


def run_and_report(
    names: list[str],
    *,
    since: str | None = None,
    limit: int | None = None,
    dry_run: bool = False,
    full: bool = False,
    trigger: str = "manual",
    settings: dict | None = None,
    progress: bool = True,
) -> dict[str, int]:
    from crawlers.runner import CrawlRequest, run_crawls

    url = ready_database()
    request = CrawlRequest(
        sources=names,
        since=since,
        limit=limit,
        dry_run=dry_run,
        full=full,
        trigger=trigger,
        settings=settings,
    )
    console.print(f"Crawling {len(names)} source(s): {', '.join(names)} …")
    display = CrawlProgress()
    live = Live(display, console=console, refresh_per_second=4, transient=True)

    def on_start(crawlers: list[Any]) -> None:
        display.crawlers = crawlers
        if progress and console.is_terminal:
            live.start()

    try:
        run_ids = run_crawls(request, on_start=on_start)
    finally:
        if live.is_started:
            live.stop()
    if dry_run:
        console.print(display.__rich__())
        console.print("Dry run: nothing was stored.")
        _exit_on_failure(display.crawlers)
        return {}
    try:
        table, totals = summary_table(run_ids, url)
        console.print(table)
        _print_log_paths(run_ids, url)
    except Exception as exc:  # the database went away at the end: the outcome still counts
        err_console.print(f"Cannot read the run summary from the database: {exc}".splitlines()[0])
        totals = {}
    _exit_on_failure(display.crawlers)
    return totals


def _exit_on_failure(crawlers: list[Any]) -> None:
    """Say what went wrong on stderr; exit 1 when a run failed or was interrupted."""
    from crawlers.commands.crawl import FAILING_OUTCOMES

    failing = False
    for crawler in crawlers:
        name = crawler.spidercls.name
        outcome = getattr(crawler, "akhbar_outcome", None)
        if outcome is None:
            err_console.print(f"{name}: the crawl did not run.", markup=False)
            failing = True
        elif outcome.status != "finished":
            err_console.print(
                f"{name}: {outcome.status}: {'; '.join(outcome.reasons)}", markup=False
            )
            failing = failing or outcome.status in FAILING_OUTCOMES
    if failing:
        raise typer.Exit(1)


def _print_log_paths(run_ids: list[int], url: str) -> None:
    from db.engine import get_engine, session_scope
    from db.queries import runs_by_id

    with session_scope(get_engine(url)) as session:
        paths = sorted({run.log_path for run in runs_by_id(session, run_ids) if run.log_path})
    for path in paths:
        console.print(f"Log: {path}")


def _registry_error(exc: Exception, path: object) -> str:
    text = str(exc)
    return text if str(path) in text else f"Cannot read the source registry {path}: {text}"
