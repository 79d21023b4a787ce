"""`akhbar search "QUERY"`: ranked Arabic full-text search over the stored articles."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from cli.commands._common import check_source, date_bounds, ready_database

console = Console()


def register(app: typer.Typer) -> None:
    app.command("search")(search)


def search(
    query: str = typer.Argument(..., help='words; "a phrase", -excluded and OR work'),
    source: str | None = typer.Option(None, help="only this source (registry name)"),
    since: str | None = typer.Option(
        None, help="published on or after: 2024-05-01, an ISO timestamp, 3d or 12h"
    ),
    until: str | None = typer.Option(None, help="published on or before (a date: whole day)"),
    limit: int = typer.Option(10, min=1, max=200, help="how many results"),
    as_json: bool = typer.Option(False, "--json", help="JSON lines instead of a table"),
) -> None:
    """Find articles: clitics and common suffixes are ignored («مفاوضات» finds «والمفاوضات»)."""
    from db.engine import get_engine
    from db.search import search as run_search

    lo, hi = date_bounds(since, until)
    url = ready_database()
    check_source(url, source)
    # JSON keeps <b>...</b> (like ts_headline); the table uses rich markup.
    marks = {} if as_json else {"start_sel": "[bold yellow]", "stop_sel": "[/bold yellow]"}
    with get_engine(url).connect() as conn:
        hits = run_search(conn, query, source=source, since=lo, until=hi, limit=limit, **marks)
    if as_json:
        for hit in hits:
            print(json.dumps(hit.as_dict(), ensure_ascii=False))
        return
    if not hits:
        console.print("No match.")
        raise typer.Exit(0)
    table = Table(show_lines=True)
    for name in ("#", "rank", "published", "source", "title / snippet"):
        table.add_column(name, overflow="fold")
    for n, hit in enumerate(hits, 1):
        published = hit.published_at.strftime("%Y-%m-%d %H:%M") if hit.published_at else "—"
        table.add_row(
            str(n),
            f"{hit.rank:.3f}",
            published,
            hit.source,
            f"{_escape_keep(hit.title_highlighted)}\n{_escape_keep(hit.snippet)}\n[dim]{hit.url}[/dim]",
        )
    console.print(table)


def _escape_keep(text: str) -> str:
    """Escape rich markup in article text but keep our highlight tags."""
    from rich.markup import escape

    start, stop = "[bold yellow]", "[/bold yellow]"
    parts = text.replace(stop, "\x00").split(start)
    return start.join(escape(p).replace("\x00", stop) for p in parts)
