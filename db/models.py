"""SQLAlchemy 2 typed models: the schema downstream teams query (see docs/schema.md).

Every change goes through an alembic revision in ``migrations/versions``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Unmapped,
    mapped_column,
    relationship,
    unmapped_column,
)

# Stable constraint and index names, so alembic revisions name what they change.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# The full-text search document: Arabic-normalised, light-stemmed title (weight A) and body
# (weight B). Writers send it precomputed (akhbar.search.search_vector), so the normalising
# runs in the crawl's worker processes rather than in the database; a trigger computes it
# with SQL akhbar_search_vector(title, body) when a writer does not, so rows that other
# tools insert are searchable too.


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Source(Base):
    """A news site from the registry (sources.toml); upserted at the start of each crawl."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str | None] = mapped_column(Text)
    domains: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    language: Mapped[str] = mapped_column(String(16), server_default="ar")
    timezone: Mapped[str] = mapped_column(String(64), server_default="UTC")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


# Every value crawl_runs.status may hold (the CHECK constraint below lists the same); the CLI
# and the API accept exactly these as filters.
RUN_STATUSES = ("running", "finished", "failed", "interrupted")


class CrawlRun(Base):
    """One crawl of one source: who started it, when, how it ended and what it did."""

    __tablename__ = "crawl_runs"
    __table_args__ = (
        CheckConstraint(
            "status IN ('running', 'finished', 'degraded', 'empty', 'failed', 'interrupted')",
            name="status",
        ),
        Index("ix_crawl_runs_source_id_started_at", "source_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    spider: Mapped[str] = mapped_column(String(64))
    trigger: Mapped[str] = mapped_column(String(32), server_default="manual")
    status: Mapped[str] = mapped_column(String(16), server_default="running")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    pages_fetched: Mapped[int] = mapped_column(Integer, server_default="0")
    articles_stored: Mapped[int] = mapped_column(Integer, server_default="0")
    exact_duplicates: Mapped[int] = mapped_column(Integer, server_default="0")
    near_duplicates: Mapped[int] = mapped_column(Integer, server_default="0")
    non_articles: Mapped[int] = mapped_column(Integer, server_default="0")
    errors: Mapped[int] = mapped_column(Integer, server_default="0")
    log_path: Mapped[str | None] = mapped_column(Text)
    hostname: Mapped[str | None] = mapped_column(Text)
    pid: Mapped[int | None] = mapped_column(Integer)
    stats: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # Renewed by a running crawl at each flush; an old one means the process is gone.
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    source: Mapped[Source] = relationship()


class Article(Base):
    """A clean, unique article. Near and exact copies live in ``duplicates``."""

    __tablename__ = "articles"
    __table_args__ = (
        Index("ix_articles_source_id_published_at", "source_id", "published_at"),
        Index("ix_articles_published_at", "published_at"),
        Index("ix_articles_search_vector", "search_vector", postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(Text, unique=True)
    canonical_url: Mapped[str] = mapped_column(Text, unique=True)
    title: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    author: Mapped[str | None] = mapped_column(Text)
    dateline: Mapped[str | None] = mapped_column(Text)
    section: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(16))
    word_count: Mapped[int] = mapped_column(Integer, server_default="0")
    # sha256 of the normalised body: the exact-duplicate key (unique, so two racing
    # crawlers cannot both store the same text).
    content_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    # MinHash signature (num_perm little-endian uint32 values) for near-duplicate checks.
    minhash: Mapped[bytes | None] = mapped_column(LargeBinary)
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    first_seen_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    crawl_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("crawl_runs.id", ondelete="SET NULL")
    )
    extractor_version: Mapped[str | None] = mapped_column(String(32))
    # In the table but not mapped: only search queries read it (through Article.__table__),
    # and ORM writes leave it to the trigger (see above).
    search_vector: Unmapped[str | None] = unmapped_column(TSVECTOR)

    source: Mapped[Source] = relationship()


class ArticleHtml(Base):
    """The fetched page, zlib-compressed, so extraction can be re-run without a crawl."""

    __tablename__ = "article_html"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    html_zlib: Mapped[bytes] = mapped_column(LargeBinary)
    headers: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    status: Mapped[int] = mapped_column(SmallInteger, server_default="200")


class Duplicate(Base):
    """A page not stored as an article because it copies one that is (syndication)."""

    __tablename__ = "duplicates"
    __table_args__ = (
        CheckConstraint("kind IN ('url', 'exact', 'near')", name="kind"),
        Index("ix_duplicates_duplicate_of", "duplicate_of"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    duplicate_of: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))
    similarity: Mapped[float] = mapped_column(Float)
    title: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    crawl_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("crawl_runs.id", ondelete="SET NULL")
    )

    article: Mapped[Article] = relationship()


class MinhashBand(Base):
    """The persisted LSH index: one row per band key of each stored article.

    ``key`` is the band's hash with the band number mixed in (``akhbar.dedup.band_hashes``),
    so it is unique across bands. No foreign key (revision 0003): a per-row check on
    ``articles`` tripled the cost of a bulk insert; a statement-level trigger on ``articles``
    deletes the bands of deleted articles instead.
    """

    __tablename__ = "minhash_bands"

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    article_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, index=True)


class RecurringText(Base):
    """Paragraphs seen in stored or checked articles, and which of them recur across
    different stories (``akhbar.dedup.RecurringText``; docs/dedup.md "Recurring text")."""

    __tablename__ = "recurring_text"

    hash: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    stories: Mapped[int] = mapped_column(SmallInteger)
    contexts: Mapped[bytes | None] = mapped_column(LargeBinary)
    recurring_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    text: Mapped[str | None] = mapped_column(Text)
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CrawlFrontier(Base):
    """The resume journal of interrupted crawls (crawlers/resume.py): each URL a crawl of
    ``source`` scheduled, and whether it was done. Rows exist only while a crawl of the source
    is running or was interrupted; any machine can resume from them. Internal."""

    __tablename__ = "crawl_frontier"
    __table_args__ = (CheckConstraint("state IN ('pending', 'done')", name="state"),)

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    url: Mapped[str] = mapped_column(Text, primary_key=True)
    state: Mapped[str] = mapped_column(String(8))
    callback: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[int] = mapped_column(Integer, server_default="0")
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SearchName(Base):
    """A name the search stemmer keeps whole (revision 0007): a word that is ``form`` after
    its proclitics is indexed as ``name``. Loaded from akhbar/data/names.txt as
    ``akhbar.search.parse_names`` expands it; read by the SQL search functions."""

    __tablename__ = "akhbar_search_names"

    form: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
