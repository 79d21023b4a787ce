"""`akhbar crawl SOURCE... | --all`."""

from __future__ import annotations

import typer

from akhbar.commands._common import console, err_console, ready_database, summary_table


def register(app: typer.Typer) -> None:
    @app.command()
    def crawl(
        sources: list[str] = typer.Argument(None, help="Source names from the registry."),
        all_sources: bool = typer.Option(False, "--all", help="Crawl every registry source."),
        since: str = typer.Option(None, help="Only articles listed since: 2024-05-01, 3d or 12h."),
        limit: int = typer.Option(None, help="At most this many article pages per source."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Fetch and extract, store nothing."),
    ) -> None:
        """Crawl sources with Scrapy and store their new articles."""
        from akhbar.sources import SourceRegistryError, load_sources

        try:
            registry = load_sources()
        except (SourceRegistryError, OSError) as exc:
            err_console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
        names = sorted(registry) if all_sources else list(sources or [])
        if not names:
            err_console.print(
                "Name at least one source, or --all. Known sources: " + ", ".join(sorted(registry))
            )
            raise typer.Exit(2)
        unknown = [n for n in names if n not in registry]
        if unknown:
            err_console.print(
                f"[red]Unknown source{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}.[/red] "
                f"Known sources: {', '.join(sorted(registry))}."
            )
            raise typer.Exit(2)
        run_and_report(names, since=since, limit=limit, dry_run=dry_run)


def run_and_report(
    names: list[str],
    *,
    since: str | None = None,
    limit: int | None = None,
    dry_run: bool = False,
    trigger: str = "manual",
    settings: dict | None = None,
) -> dict[str, int]:
    from crawlers.runner import CrawlRequest, run_crawls

    url = ready_database()
    request = CrawlRequest(
        sources=names, since=since, limit=limit, dry_run=dry_run, trigger=trigger, settings=settings
    )
    console.print(f"Crawling {len(names)} source(s): {', '.join(names)} …")
    run_ids = run_crawls(request)
    if dry_run:
        console.print("Dry run: nothing was stored.")
        return {}
    table, totals = summary_table(run_ids, url)
    console.print(table)
    return totals
