"""`akhbar sources` (the registry and how each source is doing) and `akhbar sources check NAME`
(preview a source before it goes live: discovery, pattern matches, a few extracted pages)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import typer
from rich.markup import escape
from rich.table import Table

from akhbar.sources import unknown_names_error
from cli.commands._common import console, fail, ready_database
from cli.commands.runs import status_text


def _ago(when: datetime | None) -> str:
    if when is None:
        return "-"
    seconds = (datetime.now(UTC) - when).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{when:%Y-%m-%d %H:%M} ({int(seconds // size)}{unit} ago)"
    return f"{when:%Y-%m-%d %H:%M} ({int(seconds)}s ago)"


def load_registry() -> dict:
    """The source registry, or exit with every error it has."""
    from akhbar.sources import SourceRegistryError, load_sources, registry_path

    try:
        return load_sources()
    except SourceRegistryError as exc:
        raise fail(str(exc)) from None
    except (OSError, ValueError, KeyError) as exc:
        raise fail(f"Cannot read the source registry {registry_path()}: {exc}") from None


def register(app: typer.Typer) -> None:
    sources_app = typer.Typer(
        help="The source registry, with each source's last run and article count.",
        invoke_without_command=True,
    )
    app.add_typer(sources_app, name="sources")
    sources_app.callback(invoke_without_command=True)(sources)
    sources_app.command("check")(check)


def sources(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="One JSON object per source instead."),
) -> None:
    """The source registry, with each source's last run, last success and article count.
    `akhbar sources check NAME` previews one source without storing anything."""
    if ctx.invoked_subcommand is not None:
        return

    from akhbar.sources import registry_path
    from db.engine import get_engine, session_scope
    from db.queries import source_overview

    registry = load_registry()
    url = ready_database()
    with session_scope(get_engine(url)) as session:
        overview = source_overview(session)
    articles, duplicates = overview.articles, overview.duplicates
    last_runs, last_ok = overview.last_runs, overview.last_success
    if as_json:
        for name in sorted(registry):
            run = last_runs.get(name)
            record = {
                "source": name,
                "title": registry[name].title,
                "last_run_id": run.id if run else None,
                "last_run_started_at": run.started_at if run else None,
                "last_run_status": run.status if run else None,
                "last_success_at": last_ok.get(name),
                "articles": articles.get(name, 0),
                "duplicates": duplicates.get(name, 0),
            }
            print(json.dumps(record, ensure_ascii=False, default=_iso))
        return
    table = Table(title=escape(f"Sources ({registry_path()})"))
    for column in ("source", "title", "last run", "status", "last success", "articles", "dups"):
        table.add_column(column, justify="right" if column in {"articles", "dups"} else "left")
    for name in sorted(registry):
        run = last_runs.get(name)
        table.add_row(
            name,
            escape(registry[name].title),
            _ago(run.started_at if run else None),
            status_text(run.status if run else None),
            _ago(last_ok.get(name)),
            str(articles.get(name, 0)),
            str(duplicates.get(name, 0)),
        )
    console.print(table)
    orphans = sorted(set(last_runs) - set(registry))
    if orphans:
        console.print(
            f"Crawled before, no longer in the registry: {', '.join(orphans)}",
            style="dim",
            markup=False,
        )


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def check(
    name: str = typer.Argument(..., help="A source name from the registry."),
    limit: int = typer.Option(5, "--limit", "-n", min=0, max=100, help="Article pages to extract."),
    as_json: bool = typer.Option(False, "--json", help="The report as one JSON object."),
) -> None:
    """Preview a source without storing anything: what its sitemaps, feeds and listings give,
    which URLs match its patterns, and a few article pages as the crawl would extract them.
    Exits 1 when the source would yield no articles as configured."""
    from akhbar.preview import preview_source

    registry = load_registry()
    if error := unknown_names_error([name], registry):
        raise fail(error)
    source = registry[name]
    preview = preview_source(source, limit=limit)
    if as_json:
        print(json.dumps(preview.as_dict(), ensure_ascii=False, default=_iso))
        raise typer.Exit(1 if preview.problems else 0)

    plain = {"markup": False, "highlight": False, "soft_wrap": True}
    console.print(f"{source.name}: {source.title} ({source.base_url})", **plain)
    console.print(
        "article_url_patterns: " + "  ".join(p.pattern for p in source.article_url_patterns),
        **plain,
    )
    if source.listing_url_patterns:
        console.print(
            "listing_url_patterns: " + "  ".join(p.pattern for p in source.listing_url_patterns),
            **plain,
        )
    docs = Table(title="Discovery", title_justify="left")
    for column in ("kind", "url", "urls", "articles", "listings", "offsite", "problem"):
        docs.add_column(column, overflow="fold")
    for doc in preview.documents:
        docs.add_row(
            doc.kind,
            escape(doc.url),
            str(doc.urls),
            str(doc.articles),
            str(doc.listings),
            str(doc.offsite),
            escape(doc.error or ""),
        )
    console.print(docs)
    for doc in preview.documents:
        if doc.unmatched_examples:
            console.print(f"Matched no pattern, from {doc.url}:", **plain)
            for url in doc.unmatched_examples:
                console.print(f"  {url}", **plain)
    if preview.pages:
        pages = Table(title="Article pages (extracted, not stored)", title_justify="left")
        for column in ("url", "title", "published", "author", "words", "verdict"):
            pages.add_column(column, overflow="fold")
        for page in preview.pages:
            pages.add_row(
                escape(page.url),
                escape(page.title or "-"),
                page.published_at.isoformat() if page.published_at else "-",
                escape(page.author or "-"),
                str(page.words),
                escape(page.verdict),
            )
        console.print(pages)
    if preview.problems:
        for problem in preview.problems:
            console.print(f"Problem: {problem}", style="red", **plain)
        raise typer.Exit(1)
    console.print(
        f"Looks good: {preview.article_urls} article URLs found. Nothing was stored.", **plain
    )
