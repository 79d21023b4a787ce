"""The reporting views (created by revision 0002) as plain ``Table`` objects.

They have their own ``MetaData`` so that queries on them are typed without alembic taking
them for tables to create; tests/test_schema_doc.py checks these columns against the
database and docs/schema.md. A module of its own so that the read queries (db/views.py) and
full-text search (db/search.py) can both use them without importing each other.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

view_metadata = MetaData()

v_articles = Table(
    "v_articles",
    view_metadata,
    Column("id", BigInteger),
    Column("source", String(64)),
    Column("source_title", Text),
    Column("url", Text),
    Column("canonical_url", Text),
    Column("title", Text),
    Column("body", Text),
    Column("published_at", DateTime(timezone=True)),
    Column("author", Text),
    Column("section", Text),
    Column("language", String(16)),
    Column("word_count", Integer),
    Column("fetched_at", DateTime(timezone=True)),
    Column("first_seen_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True)),
    Column("crawl_run_id", BigInteger),
    Column("extractor_version", String(32)),
    Column("dateline", Text),
)

v_syndication = Table(
    "v_syndication",
    view_metadata,
    Column("article_id", BigInteger),
    Column("article_source", String(64)),
    Column("article_url", Text),
    Column("article_title", Text),
    Column("article_published_at", DateTime(timezone=True)),
    Column("kind", String(8)),
    Column("source", String(64)),
    Column("url", Text),
    Column("similarity", Float),
    Column("published_at", DateTime(timezone=True)),
    Column("seen_at", DateTime(timezone=True)),
)

v_daily_counts = Table(
    "v_daily_counts",
    view_metadata,
    Column("source", String(64)),
    Column("day", Date),
    Column("articles", BigInteger),
    Column("duplicates", BigInteger),
    Column("words", BigInteger),
)

VIEWS = {t.name: t for t in (v_articles, v_syndication, v_daily_counts)}
