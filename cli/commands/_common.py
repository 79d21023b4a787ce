"""Helpers the commands share: getting a ready database, printing run summaries."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Iterator, Sequence

import typer
from rich.console import Console
from rich.table import Table

from akhbar.sources import unknown_names_error


def _console(stderr: bool = False) -> Console:
    # Piped output (CI logs, `| tee`) gets a width that fits the summary table.
    probe = Console(stderr=stderr)
    return probe if probe.is_terminal else Console(stderr=stderr, width=120)


console = _console()
err_console = _console(stderr=True)


@contextlib.contextmanager
def interrupts_noticed() -> Iterator[Callable[[], None]]:
    """Ctrl-C for a long command, made sure to stop it: yields ``check``, to call between
    steps. SIGINT raises KeyboardInterrupt as Python's own handler does, and is remembered:
    Python prints and drops a KeyboardInterrupt raised while a finaliser runs (a ``__del__``,
    a weakref callback), and ``check`` then raises it again at the next step."""
    seen = False

    def interrupt(signum: int, frame: object) -> None:
        nonlocal seen
        seen = True
        raise KeyboardInterrupt

    def check() -> None:
        if seen:
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        yield check
    finally:
        signal.signal(signal.SIGINT, previous)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one sentence on stderr (exactly as written: no Rich markup) and return the Exit to
    raise: ``raise fail("...")``."""
    err_console.print(message, style="red", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code)


def date_bounds(since: str | None, until: str | None) -> tuple:
    """--since/--until as timestamps (a bare --until date includes that whole day), or exit
    with the reason."""
    from akhbar.timebounds import parse_bound

    try:
        return parse_bound(since, name="--since"), parse_bound(until, end=True, name="--until")
    except ValueError as exc:
        raise fail(str(exc)) from None


def known_source_names(url: str) -> list[str]:
    """Source names a filter may use: the registry's and those the database has rows for."""
    from akhbar.sources import SourceRegistryError, load_sources
    from db.engine import get_engine
    from db.views import source_names

    try:
        names = set(load_sources())
    except (SourceRegistryError, OSError):
        names = set()
    with get_engine(url).connect() as conn:
        names.update(source_names(conn))
    return sorted(names)


def check_source(url: str, source: str | None) -> None:
    """Exit with the list of valid names when ``source`` is not a known source."""
    if source is None:
        return
    if error := unknown_names_error([source], known_source_names(url)):
        raise fail(error)


def resolve_database_url() -> str:
    """The database URL; starting the embedded server is announced on stderr (a read command
    should not silently start a server that someone stopped)."""
    from db.embedded import EmbeddedDatabaseError, EmbeddedPostgres
    from db.engine import database_url

    try:
        if not os.environ.get("DATABASE_URL"):
            embedded = EmbeddedPostgres()
            if not embedded.running():
                err_console.print(
                    f"Starting the embedded PostgreSQL ({embedded.data_dir}); "
                    "`akhbar db stop` stops it.",
                    markup=False,
                    highlight=False,
                    soft_wrap=True,
                )
        return database_url()
    except EmbeddedDatabaseError as exc:
        raise fail(str(exc)) from None


def ready_database() -> str:
    """A reachable database at the head revision; its URL. Exits with a sentence otherwise.

    The embedded database is started and migrated on demand; a DATABASE_URL server must be
    migrated explicitly (`akhbar db upgrade`), since other teams may share it.
    """
    from db import migrate
    from db.engine import DatabaseUnavailable

    url = resolve_database_url()
    try:
        migrate.ready(url)
    except DatabaseUnavailable as exc:
        raise fail(str(exc)) from None
    return url


def summary_table(run_ids: Sequence[int], url: str) -> tuple[Table, dict[str, int]]:
    from db.engine import get_engine, session_scope
    from db.queries import runs_by_id

    table = Table(title="Crawl summary")
    for column in (
        "source",
        "status",
        "pages",
        "stored",
        "exact dup",
        "near dup",
        "non-articles",
        "known",
        "errors",
    ):
        table.add_column(
            column, justify="left" if column in {"source", "status"} else "right", no_wrap=True
        )
    totals = dict.fromkeys(("pages", "stored", "exact", "near", "non", "known", "errors"), 0)
    with session_scope(get_engine(url)) as session:
        for run in runs_by_id(session, run_ids):
            known = int((run.stats or {}).get("akhbar/skipped_known_url", 0)) + int(
                (run.stats or {}).get("akhbar/known_urls", 0)
            )
            row = (
                run.pages_fetched,
                run.articles_stored,
                run.exact_duplicates,
                run.near_duplicates,
                run.non_articles,
                known,
                run.errors,
            )
            for key, value in zip(totals, row, strict=True):
                totals[key] += value
            style = {"finished": "green", "failed": "red", "interrupted": "yellow"}.get(
                run.status, ""
            )
            table.add_row(
                run.spider,
                f"[{style}]{run.status}[/{style}]" if style else run.status,
                *map(str, row),
            )
    table.add_row("[b]total[/b]", "", *(f"[b]{v}[/b]" for v in totals.values()))
    return table, totals
