"""Read-only HTTP API: articles (filtered, cursor-paginated), one article with its copies,
ranked search, sources and crawl runs. OpenAPI docs at /docs.

It connects with ``AKHBAR_READER_URL`` when set (the ``akhbar_reader`` role: see
docs/schema.md), else ``DATABASE_URL`` / the embedded database. Served by ``akhbar serve``.
"""

# No `from __future__ import annotations`: FastAPI reads the endpoint annotations at runtime,
# and some of them are aliases local to create_app.
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DataError, DBAPIError, OperationalError, ProgrammingError

from db.models import RUN_STATUSES
from db.search import SearchHit
from db.views import MAX_BIGINT, Page

RunStatus = StrEnum("RunStatus", {status: status for status in RUN_STATUSES})  # type: ignore[misc]


class ArticleSummary(BaseModel):
    id: int
    source: str
    url: str
    canonical_url: str
    title: str | None
    published_at: datetime | None
    author: str | None
    section: str | None
    language: str | None
    word_count: int
    fetched_at: datetime
    first_seen_at: datetime


class ArticlePage(BaseModel):
    items: list[ArticleSummary]
    next_cursor: str | None


class Copy(BaseModel):
    id: int
    url: str
    source: str
    kind: str
    similarity: float
    title: str | None
    published_at: datetime | None
    seen_at: datetime


class ArticleDetail(ArticleSummary):
    body: str
    duplicates: list[Copy]


class SearchPage(BaseModel):
    items: list[SearchHit]  # the search function's own result type (a dataclass)
    next_cursor: str | None


class SourceOut(BaseModel):
    id: int
    name: str
    title: str | None
    domains: list[str]
    language: str
    timezone: str
    created_at: datetime
    updated_at: datetime


class RunOut(BaseModel):
    id: int
    source: str
    spider: str
    trigger: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    pages_fetched: int
    articles_stored: int
    exact_duplicates: int
    near_duplicates: int
    non_articles: int
    errors: int
    hostname: str | None


class RunPage(BaseModel):
    items: list[RunOut]
    next_cursor: str | None


def reader_url() -> str:
    import os

    from db.engine import database_url

    url = os.environ.get("AKHBAR_READER_URL")
    if url:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return url
    return database_url()


def create_app(url: str | None = None) -> FastAPI:
    """The application; ``url`` overrides the environment (tests, embedding)."""
    from sqlalchemy import create_engine

    state: dict[str, Engine] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if "engine" in state:
            state.pop("engine").dispose()

    # FastAPIOffline: /docs and /redoc load their scripts from this server, not from a CDN.
    app = FastAPIOffline(
        lifespan=lifespan,
        title="akhbar",
        version="1",
        summary="Read-only access to clean, deduplicated Arabic news articles.",
        description=(
            "Lists are newest first and paginated with an opaque `cursor`: pass the "
            "`next_cursor` of a page to get the next one (null: no more). `since`/`until` "
            "take a date (2024-05-01), an ISO timestamp or an age (3d, 12h); a bare `until` "
            "date includes that whole day (UTC). Search ignores Arabic diacritics, clitics "
            "and common suffixes. Bad parameters get 4xx with a JSON `detail`; 503 means the "
            "database is unreachable or not migrated."
        ),
    )
    add_error_handlers(app)

    def engine() -> Engine:
        if "engine" not in state:
            state["engine"] = create_engine(
                url or reader_url(), pool_pre_ping=True, pool_size=5, max_overflow=5
            )
        return state["engine"]

    def connection() -> Iterator[Connection]:
        with engine().connect() as conn:
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
        from akhbar.timebounds import parse_bound

        try:
            return parse_bound(since, name="since"), parse_bound(until, end=True, name="until")
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None

    def known_source(conn: Connection, source: str | None) -> None:
        from db.views import source_names

        if source is None:
            return
        names = source_names(conn)
        if source not in names:
            raise HTTPException(
                422, f"unknown source {source!r}; known sources: {', '.join(names) or '(none)'}"
            )

    def page_or_400(fn, *args: Any, **kwargs: Any) -> Page:  # noqa: ANN001
        try:
            return fn(*args, **kwargs)
        except ValueError as exc:  # a bad cursor
            raise HTTPException(400, str(exc)) from None

    @app.get("/health", tags=["meta"])
    def health(conn: Conn) -> dict[str, Any]:
        from sqlalchemy import text

        revision, role = conn.execute(
            text("SELECT (SELECT version_num FROM alembic_version), current_user")
        ).one()
        return {"status": "ok", "schema_revision": revision, "role": role}

    @app.get("/metrics", tags=["meta"], include_in_schema=False)
    def metrics() -> Response:
        """Prometheus metrics: crawl counters and per-source health (crawlers/exporter.py)."""
        from crawlers.exporter import metrics_text

        return Response(metrics_text(engine()), media_type="text/plain; version=0.0.4")

    @app.get("/articles", response_model=ArticlePage, tags=["articles"])
    def list_articles(
        conn: Conn,
        source: SourceName = None,
        since: Since = None,
        until: Until = None,
        q: Annotated[
            str | None, Query(description="full-text filter (order stays by date)")
        ] = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> Page:
        from db.views import list_articles as query

        lo, hi = bounds(since, until)
        known_source(conn, source)
        return page_or_400(
            query, conn, source=source, since=lo, until=hi, q=q, limit=limit, cursor=cursor
        )

    @app.get("/articles/{article_id}", response_model=ArticleDetail, tags=["articles"])
    def get_article(
        conn: Conn, article_id: Annotated[int, Path(ge=1, le=MAX_BIGINT)]
    ) -> dict[str, Any]:
        from db.views import get_article as query

        article = query(conn, article_id)
        if article is None:
            raise HTTPException(404, f"no article {article_id}")
        return article

    @app.get("/search", response_model=SearchPage, tags=["articles"])
    def search(
        conn: Conn,
        q: Annotated[str, Query(min_length=1, description='words; "phrase", -word, OR')],
        source: SourceName = None,
        since: Since = None,
        until: Until = None,
        limit: Limit = 10,
        cursor: Cursor = None,
    ) -> dict[str, Any]:
        from db.search import search as query
        from db.views import cursor_int, decode_cursor, encode_cursor

        lo, hi = bounds(since, until)
        known_source(conn, source)
        try:
            offset = cursor_int(decode_cursor(cursor), "o") if cursor else 0
        except ValueError:
            raise HTTPException(400, "invalid cursor") from None
        if offset > MAX_BIGINT - limit - 1:
            raise HTTPException(400, "invalid cursor")
        # One extra row tells whether another page exists.
        hits = query(conn, q, source=source, since=lo, until=hi, limit=limit + 1, offset=offset)
        more = len(hits) > limit
        return {
            "items": [h.as_dict() for h in hits[:limit]],
            "next_cursor": encode_cursor({"o": offset + limit}) if more else None,
        }

    @app.get("/sources", response_model=list[SourceOut], tags=["sources"])
    def sources(conn: Conn) -> list[dict[str, Any]]:
        from db.views import list_sources

        return list_sources(conn)

    @app.get("/runs", response_model=RunPage, tags=["sources"])
    def runs(
        conn: Conn,
        source: SourceName = None,
        status: Annotated[RunStatus | None, Query(description="only runs with this status")] = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> Page:
        from db.views import list_runs

        known_source(conn, source)
        return page_or_400(
            list_runs,
            conn,
            source=source,
            status=status.value if status else None,
            limit=limit,
            cursor=cursor,
        )

    return app


# SQLSTATEs of a database that is reachable but not migrated: undefined table, column, schema.
SCHEMA_MISSING = {"42P01", "42703", "3F000"}


def add_error_handlers(app: FastAPI) -> None:
    """Database trouble as JSON: 503 when the server is away or not migrated, 422 when a value
    reached PostgreSQL that it cannot hold; never an HTML 500 with a traceback."""

    def unavailable(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": "the database is unavailable; try again later"}, 503)

    def not_ready(_: Request, exc: Exception) -> JSONResponse:
        if getattr(getattr(exc, "orig", None), "sqlstate", None) in SCHEMA_MISSING:
            return JSONResponse(
                {"detail": "the database schema is not ready (run `akhbar db upgrade`)"}, 503
            )
        return other_database_error(_, exc)

    def bad_value(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": "a parameter value is out of range"}, 422)

    def other_database_error(_: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            return unavailable(_, exc)
        return JSONResponse({"detail": "the database could not answer this request"}, 500)

    app.add_exception_handler(OperationalError, unavailable)
    app.add_exception_handler(ProgrammingError, not_ready)
    app.add_exception_handler(DataError, bad_value)
    app.add_exception_handler(DBAPIError, other_database_error)


def __getattr__(name: str) -> Any:
    # `uvicorn api.app:app` builds the app on first access (reads the environment then).
    if name == "app":
        globals()["app"] = application = create_app()
        return application
    raise AttributeError(name)
