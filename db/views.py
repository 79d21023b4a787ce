"""The read side: the reporting views (created by revision 0002) and the queries the API,
the export and the search command share.

The views themselves are described in db/view_tables.py.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from akhbar.timebounds import parse_bound  # noqa: F401 - the one bound grammar, re-exported
from db.models import CrawlRun, Duplicate, Source
from db.search import match_clause
from db.view_tables import v_articles

# What a listing or an export returns for each article (the body only where asked).
ARTICLE_FIELDS = [
    "id",
    "source",
    "url",
    "canonical_url",
    "title",
    "published_at",
    "author",
    "dateline",
    "section",
    "language",
    "word_count",
    "fetched_at",
    "first_seen_at",
]


def article_filters(
    *, source: str | None = None, since: datetime | None = None, until: datetime | None = None
) -> list[Any]:
    """WHERE clauses on v_articles: source name, published_at in [since, until)."""
    clauses: list[Any] = []
    if source:
        clauses.append(v_articles.c.source == source)
    if since is not None:
        clauses.append(v_articles.c.published_at >= since)
    if until is not None:
        clauses.append(v_articles.c.published_at < until)
    return clauses


# --- cursors: opaque to clients, plain JSON inside ---------------------------------------


def encode_cursor(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
    except (ValueError, binascii.Error, json.JSONDecodeError) as exc:
        raise ValueError("invalid cursor") from exc
    if not isinstance(payload, dict):
        raise ValueError("invalid cursor")
    return payload


# Largest value a BIGINT column (ids) or an OFFSET holds: anything above is a crafted cursor.
MAX_BIGINT = 2**63 - 1


def cursor_int(payload: dict[str, Any], key: str, *, minimum: int = 0) -> int:
    """An integer field of a decoded cursor, within BIGINT range; ValueError otherwise."""
    value = payload.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= MAX_BIGINT:
        raise ValueError("invalid cursor")
    return value


def cursor_time(payload: dict[str, Any], key: str) -> datetime | None:
    """A timestamp field of a decoded cursor (null allowed); ValueError otherwise."""
    from akhbar.timebounds import parse_timestamp

    value = payload.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("invalid cursor")
    try:
        return parse_timestamp(value)
    except ValueError:
        raise ValueError("invalid cursor") from None


@dataclass(slots=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


def list_articles(
    conn: Connection,
    *,
    source: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    q: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
    with_body: bool = False,
) -> Page:
    """Newest first (published_at DESC, id DESC; undated articles last), keyset-paginated.

    The cursor holds the last row's (published_at, id). Dated and undated articles are read
    by two queries so each can walk an index instead of sorting the table.
    """
    after = decode_cursor(cursor) if cursor else None
    after_time = cursor_time(after, "p") if after is not None else None
    after_id = cursor_int(after, "i") if after is not None else 0
    columns = [v_articles.c[name] for name in ARTICLE_FIELDS]
    if with_body:
        columns.append(v_articles.c.body)
    base = article_filters(source=source, since=since, until=until)
    if q:
        clause = match_clause(q)
        if clause is None:
            return Page([], None)
        base.append(clause)
    rows: list[dict[str, Any]] = []
    want = limit + 1
    in_undated = after is not None and after_time is None
    if not in_undated:
        dated = [*base, v_articles.c.published_at.is_not(None)]
        if after_time is not None:
            p = after_time
            dated.append(v_articles.c.published_at <= p)
            dated.append(
                or_(
                    v_articles.c.published_at < p,
                    and_(v_articles.c.published_at == p, v_articles.c.id < after_id),
                )
            )
        stmt = (
            select(*columns)
            .where(*dated)
            .order_by(v_articles.c.published_at.desc(), v_articles.c.id.desc())
            .limit(want)
        )
        rows.extend(dict(r._mapping) for r in conn.execute(stmt))
    if len(rows) < want and since is None and until is None:
        undated = [*base, v_articles.c.published_at.is_(None)]
        if in_undated:
            undated.append(v_articles.c.id < after_id)
        stmt = (
            select(*columns)
            .where(*undated)
            .order_by(v_articles.c.id.desc())
            .limit(want - len(rows))
        )
        rows.extend(dict(r._mapping) for r in conn.execute(stmt))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        published = last["published_at"]
        next_cursor = encode_cursor(
            {"p": published.isoformat() if published else None, "i": last["id"]}
        )
    return Page(rows, next_cursor)


def get_article(conn: Connection, article_id: int) -> dict[str, Any] | None:
    """One article with its body and every recorded copy (url, source, kind, similarity)."""
    row = conn.execute(
        select(*[v_articles.c[n] for n in ARTICLE_FIELDS], v_articles.c.body).where(
            v_articles.c.id == article_id
        )
    ).first()
    if row is None:
        return None
    article = dict(row._mapping)
    copies = conn.execute(
        select(
            Duplicate.id,
            Duplicate.url,
            Source.name.label("source"),
            Duplicate.kind,
            Duplicate.similarity,
            Duplicate.title,
            Duplicate.published_at,
            Duplicate.seen_at,
        )
        .join(Source, Source.id == Duplicate.source_id)
        .where(Duplicate.duplicate_of == article_id)
        .order_by(Duplicate.seen_at, Duplicate.id)
    )
    article["duplicates"] = [dict(r._mapping) for r in copies]
    return article


def source_names(conn: Connection) -> list[str]:
    """Every source name the database knows, sorted (to check a filter against)."""
    return list(conn.scalars(select(Source.name).order_by(Source.name)))


def list_sources(conn: Connection) -> list[dict[str, Any]]:
    stmt = select(
        Source.id,
        Source.name,
        Source.title,
        Source.domains,
        Source.language,
        Source.timezone,
        Source.created_at,
        Source.updated_at,
    ).order_by(Source.name)
    return [dict(r._mapping) for r in conn.execute(stmt)]


RUN_FIELDS = [
    "id",
    "spider",
    "trigger",
    "status",
    "started_at",
    "finished_at",
    "pages_fetched",
    "articles_stored",
    "exact_duplicates",
    "near_duplicates",
    "non_articles",
    "errors",
    "hostname",
]


def list_runs(
    conn: Connection,
    *,
    source: str | None = None,
    status: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> Page:
    """Crawl runs, newest first, keyset-paginated on id."""
    after = cursor_int(decode_cursor(cursor), "i") if cursor else None
    stmt = (
        select(Source.name.label("source"), *[getattr(CrawlRun, n) for n in RUN_FIELDS])
        .join(Source, Source.id == CrawlRun.source_id)
        .order_by(CrawlRun.id.desc())
        .limit(limit + 1)
    )
    if source:
        stmt = stmt.where(Source.name == source)
    if status:
        stmt = stmt.where(CrawlRun.status == status)
    if after is not None:
        stmt = stmt.where(CrawlRun.id < after)
    rows = [dict(r._mapping) for r in conn.execute(stmt)]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor({"i": rows[-1]["id"]})
    return Page(rows, next_cursor)


EXPORT_FIELDS = [*ARTICLE_FIELDS, "body"]


def iter_articles(
    conn: Connection,
    *,
    source: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    batch_size: int = 1000,
) -> Iterator[list[dict[str, Any]]]:
    """Articles in id order, in batches, through a server-side cursor (constant memory)."""
    stmt = (
        select(*[v_articles.c[n] for n in EXPORT_FIELDS])
        .where(*article_filters(source=source, since=since, until=until))
        .order_by(v_articles.c.id)
    )
    result = conn.execution_options(stream_results=True, yield_per=batch_size).execute(stmt)
    for partition in result.partitions():
        yield [dict(r._mapping) for r in partition]
