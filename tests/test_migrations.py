"""Migrations go up and down on a real server, and the models match the head revision."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, pool

from db import migrate
from db.foreign_tables import include_object
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
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "include_object": include_object}
            )
            diff = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_0003_downgrade_restores_band_numbers(empty_database_url: str) -> None:
    """Revision 0003 drops `band`; going back recomputes it from the stored signatures."""
    from datetime import UTC, datetime

    import numpy as np
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from akhbar import dedup
    from db.article_store import ArticleRow, store_articles

    migrate.upgrade(empty_database_url)
    engine = create_engine(empty_database_url, poolclass=pool.NullPool)
    bodies = ["خبر أول عن الاقتصاد والأسواق في المنطقة", "خبر ثان عن الرياضة والملاعب"]
    with Session(engine) as session:
        sid = session.execute(text("INSERT INTO sources (name) VALUES ('s') RETURNING id")).scalar()
        now = datetime.now(UTC)
        results = store_articles(
            session,
            [
                ArticleRow(source_id=sid, url=f"u{i}", canonical_url=f"u{i}", body=body,
                           fetched_at=now)
                for i, body in enumerate(bodies)
            ],
        )  # fmt: skip
        session.commit()
    migrate.downgrade(empty_database_url, "0002")
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT article_id, band, hash FROM minhash_bands ORDER BY article_id, band")
        ).all()
    engine.dispose()
    expected = []
    for res, body in zip(results, bodies, strict=True):
        hashes = dedup.band_hashes(dedup.signature(body))[0]
        expected += [(res.article_id, band, int(h)) for band, h in enumerate(hashes)]
    assert rows == expected
    assert np.unique([r[1] for r in rows]).tolist() == list(range(dedup.BANDS))
    migrate.upgrade(empty_database_url)


def test_0013_compresses_article_text_with_lz4(empty_database_url: str) -> None:
    """Revision 0013 sets lz4 on the two long article columns (this server has lz4), and
    its downgrade sets them back to the server's default."""
    from sqlalchemy import text

    def compression() -> dict[str, str]:
        engine = create_engine(empty_database_url, poolclass=pool.NullPool)
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    text(
                        "SELECT attname, attcompression FROM pg_attribute "
                        "WHERE attrelid = 'articles'::regclass "
                        "AND attname IN ('body', 'search_vector', 'title')"
                    )
                )
                return {name: str(method) for name, method in rows}
        finally:
            engine.dispose()

    migrate.upgrade(empty_database_url)
    assert compression() == {"body": "l", "search_vector": "l", "title": ""}
    migrate.downgrade(empty_database_url, "0012")
    assert compression() == {"body": "", "search_vector": "", "title": ""}
    migrate.upgrade(empty_database_url)
