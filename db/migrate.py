"""Run alembic programmatically (``akhbar db upgrade``, the demo, the tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool

from db.engine import DatabaseUnavailable

REPO_ROOT = Path(__file__).resolve().parents[1]


def alembic_config(url: str) -> Config:
    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(REPO_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logging"] = False
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate as the owner of the tables (the embedded application role may not create them)."""
    from db.engine import owner_url_for

    command.upgrade(alembic_config(owner_url_for(url)), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def head_revision(url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


class SchemaBehind(DatabaseUnavailable):
    """A database given by DATABASE_URL is behind the code's revision."""


def ready(url: str) -> None:
    """The database at ``url`` reachable and at the code's revision (``ensure_current``);
    otherwise ``DatabaseUnavailable`` (or its ``SchemaBehind``) with a sentence to act on."""
    from db.engine import check_connection, get_engine

    check_connection(get_engine(url))
    ensure_current(url)


def ensure_current(url: str) -> None:
    """Bring the database at ``url`` to the code's revision, or say why not. The embedded
    database is migrated on demand; a DATABASE_URL server is not touched (other teams may
    share it: its owner runs ``akhbar db upgrade``) and raises ``SchemaBehind``."""
    import os

    from db.engine import mask_url

    current, head = current_revision(url), head_revision(url)
    if current == head:
        return
    if os.environ.get("DATABASE_URL"):
        raise SchemaBehind(
            f"The database at {mask_url(url)} is at revision {current or 'none'}, "
            f"the code needs {head}. Run `akhbar db upgrade`."
        )
    upgrade(url)
