"""What the endpoints share: the database connection (one engine per application, in
``app.state``), parameter types, and the checks that turn bad input into 4xx."""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.
import os
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, Request
from sqlalchemy import Connection, Engine, create_engine

from db.views import Page


def reader_url() -> str:
    """``AKHBAR_READER_URL`` (the read-only role) when set, else the application database."""
    from db.engine import database_url

    url = os.environ.get("AKHBAR_READER_URL")
    if url:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return url
    return database_url()


_engine_lock = threading.Lock()  # sync endpoints run in a thread pool


def app_engine(request: Request) -> Engine:
    """The application's engine, created at the first request (``app.state.database_url``,
    else ``reader_url()``) and disposed when the application stops."""
    state = request.app.state
    with _engine_lock:
        if getattr(state, "engine", None) is None:
            state.engine = create_engine(
                state.database_url or reader_url(),
                pool_pre_ping=True,
                pool_size=5,
                max_overflow=5,
            )
        return state.engine


def connection(engine: Annotated[Engine, Depends(app_engine)]) -> Iterator[Connection]:
    with engine.connect() as conn:
        yield conn


Conn = Annotated[Connection, Depends(connection)]
Limit = Annotated[int, Query(ge=1, le=200, description="page size")]
Since = Annotated[
    str | None, Query(description="published on or after: 2024-05-01, ISO timestamp, 3d, 12h")
]
Until = Annotated[str | None, Query(description="published before; a date: whole day")]
Cursor = Annotated[str | None, Query(max_length=512, description="a page's next_cursor")]
SourceName = Annotated[str | None, Query(max_length=64, description="a source name")]


def bounds(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    """``since``/``until`` as timestamps, or 422 with the reason."""
    from akhbar.timebounds import parse_bound

    try:
        return parse_bound(since, name="since"), parse_bound(until, end=True, name="until")
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


def known_source(conn: Connection, source: str | None) -> None:
    """422 with the known names when ``source`` is not one of them."""
    from db.views import source_names

    if source is None:
        return
    names = source_names(conn)
    if source not in names:
        raise HTTPException(
            422, f"unknown source {source!r}; known sources: {', '.join(names) or '(none)'}"
        )


def page_or_400(fn: Callable[..., Page], *args: Any, **kwargs: Any) -> Page:
    """A page of results, or 400 for a cursor the query rejects."""
    try:
        return fn(*args, **kwargs)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
