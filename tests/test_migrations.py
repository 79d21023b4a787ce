"""Migrations go up and down on a real server, and the models match the head revision."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, pool

from db import migrate
from db.models import Base

OUR_TABLES = {"sources", "crawl_runs", "articles", "article_html", "duplicates", "minhash_bands"}


def _tables(url: str) -> set[str]:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_then_downgrade_to_base_and_back(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url)
    assert _tables(empty_database_url) >= OUR_TABLES
    assert migrate.current_revision(empty_database_url) == migrate.head_revision(empty_database_url)

    migrate.downgrade(empty_database_url, "base")
    assert _tables(empty_database_url) & OUR_TABLES == set()
    assert migrate.current_revision(empty_database_url) is None

    migrate.upgrade(empty_database_url)
    assert _tables(empty_database_url) >= OUR_TABLES


def test_models_and_migrations_agree(database_url: str) -> None:
    """A model change without a revision fails here (what `alembic check` does)."""
    engine = create_engine(database_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert diff == []
