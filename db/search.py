"""Ranked Arabic full-text search over ``articles.search_vector`` (revision 0002).

The query is stemmed in Python by the twin of the SQL functions that build the column
(:mod:`akhbar.search`), parsed by ``websearch_to_tsquery('simple', ...)`` (quotes, ``-``,
``OR``), ranked with ``ts_rank_cd`` (title hits weigh more: weight A), and each hit gets a
snippet of its original text with the matched words marked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, cast, func, literal, select, text
from sqlalchemy.dialects.postgresql import REGCONFIG

from akhbar.search import highlight, query_terms, websearch_query
from db.models import Article
from db.views import article_filters, v_articles

articles = Article.__table__
# Normalisation 32: rank / (rank + 1), so scores fall in [0, 1) whatever the length.
RANK_NORMALIZATION = 32
MAX_CANDIDATES = 1000
# A query estimated to match more than this share of the articles counts as common.
COMMON_SHARE = 0.10


def _common(conn: Connection, where: list[Any]) -> bool:
    """Does the planner expect the matches to be a large share of the table?"""
    stmt = select(articles.c.id).where(*where)
    compiled = stmt.compile(dialect=conn.dialect)
    plan = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params).scalar()
    expected = plan[0]["Plan"]["Plan Rows"]
    total = conn.execute(
        text("SELECT greatest(reltuples, 1) FROM pg_class WHERE oid = 'articles'::regclass")
    ).scalar()
    return expected > COMMON_SHARE * total


def tsquery(query: str) -> Any | None:
    """The SQL tsquery for a user query, or None when nothing searchable is left."""
    rewritten = websearch_query(query)
    if not rewritten:
        return None
    return func.websearch_to_tsquery(cast(literal("simple"), REGCONFIG), rewritten)


def match_clause(query: str) -> Any | None:
    """A WHERE clause on v_articles: the article matches ``query`` (None: matches nothing)."""
    q = tsquery(query)
    if q is None:
        return None
    return v_articles.c.id.in_(
        select(articles.c.id).where(articles.c.search_vector.bool_op("@@")(q))
    )


@dataclass(slots=True)
class SearchHit:
    id: int
    source: str
    url: str
    title: str | None
    published_at: datetime | None
    rank: float
    title_highlighted: str
    snippet: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source,
            "url": self.url,
            "title": self.title,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "rank": round(self.rank, 6),
            "title_highlighted": self.title_highlighted,
            "snippet": self.snippet,
        }


def search(
    conn: Connection,
    query: str,
    *,
    source: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 10,
    offset: int = 0,
    snippet_words: int = 30,
    start_sel: str = "<b>",
    stop_sel: str = "</b>",
    max_candidates: int = MAX_CANDIDATES,
) -> list[SearchHit]:
    """The best ``limit`` matches after ``offset``: rank, then newest, then id.

    Ranking reads every candidate's tsvector, so it is bounded: a query matching more than
    ``max_candidates`` articles is ranked among its ``max_candidates`` most recent matches
    (news readers want recent stories; a narrower query or a date filter reaches older ones).
    """
    q = tsquery(query)
    if q is None:
        return []
    where = [articles.c.search_vector.bool_op("@@")(q)]
    if filters := article_filters(source=source, since=since, until=until):
        where.append(articles.c.id.in_(select(v_articles.c.id).where(*filters)))
    # Stage 1: the most recent matches (all of them unless the query is very common). How
    # to find them depends on how many there are, which the planner's statistics estimate
    # well for tsvector but weigh badly against reading each row's vector:
    # * a common query (a large share of the table): walk the published_at index newest
    #   first, testing each row, until enough match (undated articles come first here);
    # * otherwise: every match from the GIN index (a bitmap scan), then the newest.
    order = (articles.c.published_at.desc(), articles.c.id.desc())
    if _common(conn, where):
        candidates = (
            select(articles.c.id, articles.c.published_at)
            .where(*where)
            .order_by(*order)
            .limit(max_candidates)
            .cte("candidates")
        )
    else:
        matches = (
            select(articles.c.id, articles.c.published_at)
            .where(*where)
            .cte("matches")
            .prefix_with("MATERIALIZED", dialect="postgresql")
        )
        candidates = (
            select(matches.c.id, matches.c.published_at)
            .order_by(matches.c.published_at.desc().nulls_last(), matches.c.id.desc())
            .limit(max_candidates)
            .cte("candidates")
        )
    # Stage 2: rank those.
    rank = func.ts_rank_cd(articles.c.search_vector, q, RANK_NORMALIZATION).label("rank")
    ranked = (
        select(candidates.c.id, rank)
        .join(articles, articles.c.id == candidates.c.id)
        .order_by(
            rank.desc(), candidates.c.published_at.desc().nulls_last(), candidates.c.id.desc()
        )
        .limit(limit)
        .offset(offset)
        .subquery()
    )
    stmt = (
        select(
            v_articles.c.id,
            v_articles.c.source,
            v_articles.c.url,
            v_articles.c.title,
            v_articles.c.published_at,
            v_articles.c.body,
            ranked.c.rank,
        )
        .join(ranked, ranked.c.id == v_articles.c.id)
        .order_by(
            ranked.c.rank.desc(),
            v_articles.c.published_at.desc().nulls_last(),
            v_articles.c.id.desc(),
        )
    )
    # JIT compilation costs more than it saves on these short queries.
    conn.execute(text("SET LOCAL jit = off"))
    terms = query_terms(query)
    hits = []
    for row in conn.execute(stmt):
        marks = {"start": start_sel, "stop": stop_sel}
        hits.append(
            SearchHit(
                id=row.id,
                source=row.source,
                url=row.url,
                title=row.title,
                published_at=row.published_at,
                rank=float(row.rank),
                title_highlighted=highlight(row.title or "", terms, max_words=10_000, **marks).text,
                snippet=highlight(row.body, terms, max_words=snippet_words, **marks).text,
            )
        )
    return hits
