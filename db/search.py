"""Ranked Arabic full-text search over ``articles.search_vector`` (revision 0002).

The query is stemmed in Python by the twin of the SQL functions that build the column
(:mod:`akhbar.search`), parsed by ``websearch_to_tsquery('simple', ...)`` (quotes, ``-``,
``OR``), ranked with ``ts_rank_cd`` (title hits weigh more: weight A), and each hit gets a
snippet of its original text with the matched words marked.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Connection, any_, bindparam, cast, func, literal, select, text
from sqlalchemy.dialects.postgresql import ARRAY, REGCONFIG

from akhbar.search import highlight, query_terms, websearch_query
from db.models import Article, Source
from db.views import v_articles

articles = Article.__table__
sources = Source.__table__
# Normalisation 32: rank / (rank + 1), so scores fall in [0, 1) whatever the length.
RANK_NORMALIZATION = 32
MAX_CANDIDATES = 1000
# The first recency window is sized to hold this many times max_candidates matches (by the
# planner's estimate), so that an estimate off by up to this factor needs no second try.
WINDOW_MARGIN = 2.0
# A window that held too few matches is widened at least this much.
WIDEN = 4.0


@dataclass(slots=True)
class DateStats:
    """The planner's statistics on ``articles.published_at``: an estimated CDF.

    Shares are of all rows (undated included); times are epoch seconds. ANALYZE keeps it
    roughly current; it only sizes windows, so a stale or wrong estimate costs a retry, never
    a wrong answer.
    """

    bounds: list[float]  # histogram bounds (equal-frequency buckets over the non-MCV rows)
    histogram_share: float  # share of rows the histogram describes
    common: list[tuple[float, float]]  # most common values and their shares

    def below(self, t: float) -> float:
        """Estimated share of the rows dated strictly before ``t``."""
        share = sum(f for v, f in self.common if v < t)
        b = self.bounds
        if len(b) < 2 or t <= b[0]:
            return share
        if t >= b[-1]:
            return share + self.histogram_share
        i = bisect.bisect_right(b, t) - 1
        inside = (t - b[i]) / (b[i + 1] - b[i]) if b[i + 1] > b[i] else 0.0
        return share + self.histogram_share * (i + inside) / (len(b) - 1)

    def time_at(self, share: float) -> float:
        """The latest ``t`` with ``below(t) <= share`` (bisection: below is monotone)."""
        points = self.bounds + [v for v, _ in self.common]
        lo, hi = min(points), max(points) + 1.0
        for _ in range(60):
            mid = (lo + hi) / 2
            if self.below(mid) <= share:
                lo = mid
            else:
                hi = mid
        return lo


def date_stats(conn: Connection) -> DateStats | None:
    """The statistics ANALYZE gathered on published_at (None before the first ANALYZE)."""
    row = conn.execute(
        text(
            "SELECT s.histogram_bounds::text::timestamptz[] AS bounds, "
            "s.most_common_vals::text::timestamptz[] AS mcv, s.most_common_freqs AS freqs, "
            "s.null_frac "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = c.relname "
            "AND s.attname = 'published_at' AND NOT s.inherited "
            "WHERE c.oid = 'articles'::regclass"
        )
    ).first()
    if row is None:
        return None
    common = [(v.timestamp(), f) for v, f in zip(row.mcv or [], row.freqs or [], strict=True)]
    bounds = [v.timestamp() for v in row.bounds or []]
    share = max(0.0, 1.0 - row.null_frac - sum(f for _, f in common)) if len(bounds) > 1 else 0.0
    if not common and not bounds:
        return None
    return DateStats(bounds, share, common)


def _estimated_rows(conn: Connection, stmt: Any) -> float:
    """The planner's row estimate for ``stmt`` (a plain EXPLAIN: planning only)."""
    compiled = stmt.compile(dialect=conn.dialect)
    plan = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params).scalar()
    return float(plan[0]["Plan"]["Plan Rows"])


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


def newest_matches(
    conn: Connection,
    q: Any,
    *,
    source: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    max_candidates: int = MAX_CANDIDATES,
) -> list[int]:
    """Ids of the ``max_candidates`` most recent articles matching the tsquery ``q`` (and the
    filters), newest first: published_at DESC (undated last), then id DESC.

    Taking every match from the GIN index and reading each one's row for its date costs
    about 3 µs a match, too much for a word with tens of thousands of them. So the search
    first looks only in a recency window, ``published_at >= start``, sized from the planner's
    statistics to hold about WINDOW_MARGIN × max_candidates matches: the planner can then
    AND the GIN bitmap with a published_at range bitmap, or walk the published_at index
    newest first for a very common word, and rows outside the window are never read. A
    window holding at least max_candidates matches holds exactly the newest ones (every
    match outside it is older, or undated); one holding fewer is widened, and the last resort
    is the whole table, undated rows included, so the answer never depends on the estimate.
    """
    published = articles.c.published_at
    where = [articles.c.search_vector.bool_op("@@")(q)]
    if source:
        source_id = select(sources.c.id).where(sources.c.name == source).scalar_subquery()
        where.append(articles.c.source_id == source_id)
    if since is not None:
        where.append(published >= since)
    if until is not None:
        where.append(published < until)

    def newest(start: float | None) -> list[int]:
        if start is None:
            order = (published.desc().nulls_last(), articles.c.id.desc())
            stmt = select(articles.c.id).where(*where)
        else:
            # No NULL passes the window, so plain DESC (NULLS FIRST, the btree's backward
            # order) gives the same order and lets the planner walk ix_articles_published_at.
            order = (published.desc(), articles.c.id.desc())
            window = published >= datetime.fromtimestamp(start, UTC)
            stmt = select(articles.c.id).where(*where, window)
        return list(conn.execute(stmt.order_by(*order).limit(max_candidates)).scalars())

    stats = date_stats(conn)
    if stats is None or max_candidates <= 0:
        return newest(None)
    # Shares of all rows: `top` is dated before the range's end; `in_range` the dated rows
    # the filters allow.
    top = stats.below(until.timestamp() if until is not None else float("inf"))
    in_range = top - (stats.below(since.timestamp()) if since is not None else 0.0)
    expected = _estimated_rows(conn, select(articles.c.id).where(*where))
    # Matches per share of rows: undated rows are in the range too when no date is given.
    density = expected / (in_range if since is not None or until is not None else 1.0)
    wanted = WINDOW_MARGIN * max_candidates
    share = wanted / density if density > 0 else in_range
    while share < in_range:
        found = newest(stats.time_at(top - share))
        if len(found) >= max_candidates:
            return found
        share *= max(WIDEN, wanted / max(len(found), 1))
    return newest(None)


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
    # JIT compilation costs more than it saves on these short queries.
    conn.execute(text("SET LOCAL jit = off"))
    # Stage 1: the most recent matches.
    ids = newest_matches(
        conn, q, source=source, since=since, until=until, max_candidates=max_candidates
    )
    if not ids:
        return []
    # Stage 2: rank those.
    rank = func.ts_rank_cd(articles.c.search_vector, q, RANK_NORMALIZATION).label("rank")
    ranked = (
        select(articles.c.id, rank)
        .where(articles.c.id == any_(bindparam("ids", ids, type_=ARRAY(BigInteger))))
        .order_by(rank.desc(), articles.c.published_at.desc().nulls_last(), articles.c.id.desc())
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
