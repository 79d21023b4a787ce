"""Engine and sessions. ``DATABASE_URL`` picks the server; unset, the embedded one is started."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker


class DatabaseUnavailable(RuntimeError):
    pass


def mask_url(url: str) -> str:
    """The URL with its password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable database URL>"


def database_url(*, start_embedded: bool = True) -> str:
    """``DATABASE_URL`` if set, else the embedded cluster's URL (started on demand)."""
    if url := os.environ.get("DATABASE_URL"):
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return url
    from db.embedded import EmbeddedPostgres

    embedded = EmbeddedPostgres()
    return embedded.start() if start_embedded else embedded.url


def migration_url() -> str:
    """Who runs migrations: ``DATABASE_URL`` if set, else the embedded database's owner role."""
    if os.environ.get("DATABASE_URL"):
        return database_url()
    from db.embedded import OWNER_ROLE, EmbeddedPostgres

    embedded = EmbeddedPostgres()
    embedded.start()
    return embedded.url_for(OWNER_ROLE)


def admin_url() -> str:
    """Who creates roles: ``DATABASE_URL`` if set, else the embedded cluster's superuser
    (on the akhbar database)."""
    if os.environ.get("DATABASE_URL"):
        return database_url()
    from db.embedded import ADMIN_ROLE, EmbeddedPostgres

    embedded = EmbeddedPostgres()
    embedded.start()
    return embedded.url_for(ADMIN_ROLE)


def owner_url_for(url: str) -> str:
    """The embedded owner's URL when ``url`` is the embedded application role's (which may not
    create tables), else ``url`` itself."""
    from db.embedded import APP_ROLE, OWNER_ROLE

    try:
        parsed = make_url(url)
    except Exception:
        return url
    if parsed.username != APP_ROLE or parsed.host != "127.0.0.1":
        return url
    from db.embedded import EmbeddedDatabaseError, EmbeddedPostgres

    try:
        embedded = EmbeddedPostgres()
        if embedded.initialised() and parsed.port == embedded._port():
            return embedded.url_for(OWNER_ROLE, parsed.database or "akhbar")
    except EmbeddedDatabaseError:
        pass
    return url


@lru_cache(maxsize=8)
def get_engine(url: str | None = None) -> Engine:
    url = url or database_url()
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def check_connection(engine: Engine) -> None:
    """Raise DatabaseUnavailable with a sentence a person can act on."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        hint = (
            "Set DATABASE_URL to a reachable server"
            if os.environ.get("DATABASE_URL")
            else "Start the embedded one with `akhbar db start`"
        )
        raise DatabaseUnavailable(
            f"Cannot connect to the database at {mask_url(str(engine.url.render_as_string(hide_password=False)))}: "
            f"{str(exc.orig).strip().splitlines()[0] if exc.orig else exc}. {hint}."
        ) from None


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    factory = sessionmaker(bind=engine or get_engine(), expire_on_commit=False)
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
