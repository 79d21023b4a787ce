"""Read-only HTTP API: articles (filtered, cursor-paginated), one article with its copies,
ranked search, sources and crawl runs. OpenAPI docs at /docs.

It connects with ``AKHBAR_READER_URL`` when set (the ``akhbar_reader`` role: see
docs/schema.md), else ``DATABASE_URL`` / the embedded database. Served by ``akhbar serve``.
This module assembles the application: endpoints in api/routes.py, their shared
dependencies in api/dependencies.py, response models in api/schemas.py.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from sqlalchemy.exc import DataError, DBAPIError, OperationalError, ProgrammingError

from api.routes import router


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    engine = getattr(app.state, "engine", None)
    if engine is not None:
        app.state.engine = None
        engine.dispose()


def create_app(url: str | None = None) -> FastAPI:
    """The application; ``url`` overrides the environment (tests, embedding). The endpoints
    are in api/routes.py, what they share in api/dependencies.py."""
    # FastAPIOffline: /docs and /redoc load their scripts from this server, not from a CDN.
    app = FastAPIOffline(
        lifespan=_lifespan,
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
    app.state.database_url = url
    app.state.engine = None
    add_error_handlers(app)
    app.include_router(router)
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
