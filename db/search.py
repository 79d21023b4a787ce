"""Ranked Arabic full-text search over ``articles.search_vector`` (revision 0002).

The query is stemmed in Python by the twin of the SQL functions that build the column
(:mod:`akhbar.search`), parsed by ``websearch_to_tsquery('simple', ...)`` (quotes, ``-``,
``OR``), ranked with ``ts_rank_cd`` (title hits weigh more: weight A), and each hit gets a
snippet of its original text with the matched words marked.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, cast, func, literal, select, text, true
from sqlalchemy.dialects.postgresql import REGCONFIG

from akhbar.search import highlight, query_terms, websearch_query
from db.models import Article, Source
from db.view_tables import v_articles

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
# Costs in µs, measured at 1M articles (warm cache), that choose how stage 1 reads:
GIN_MATCH_US = 0.2  # a match in a GIN bitmap
RANGE_ROW_US = 0.1  # a row in a published_at range bitmap
HEAP_ROW_US = 2.0  # reading a bitmap-selected row for its date
WALK_ROW_US = 8.0  # walking ix_articles_published_at: a row read and its vector tested


@dataclass(slots=True)
class DateStats:
    """The planner's statistics on ``articles.published_at``: an estimated CDF.

    Shares are of all rows (undated included); times are epoch seconds. ANALYZE keeps it
    roughly current; it only sizes windows, so a stale or wrong estimate costs a retry, never
    a wrong answer.
    """

    rows: float  # the table's estimated row count (pg_class.reltuples)
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
            "s.null_frac, greatest(c.reltuples, 0) AS reltuples "
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
    return DateStats(row.reltuples, bounds, share, common)


def _estimated_rows(conn: Connection, stmt: Any) -> float:
    """The planner's row estimate for ``stmt`` (a plain EXPLAIN: planning only)."""
    compiled = stmt.compile(dialect=conn.dialect)
    plan = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params).scalar()
    return float(plan[0]["Plan"]["Plan Rows"])


# For the statements of a search. JIT compilation costs more than it saves on these short
# queries. A bitmap over more heap pages than work_mem holds (4MB: about 60,000 pages) goes
# lossy, and each row of a lossy page is tested again, its vector read: 32MB keeps bitmaps
# exact up to about 10M rows. Parallel workers cost more to start and merge than they save
# on scans of a few thousand rows (measured at 1M: 30 ms with two workers, 16 without, for
# 10,000 matches; and the machine serves other requests).
SEARCH_SETTINGS = {"jit": "off", "work_mem": "32MB", "max_parallel_workers_per_gather": "0"}


@contextmanager
def local_settings(conn: Connection, settings: dict[str, str]) -> Iterator[None]:
    """Run the statements inside with these settings, then put the previous values back.

    set_config(..., true) lasts at most until the transaction ends, so if a statement fails
    the rollback restores them.
    """
    names = {f"n{i}": name for i, name in enumerate(settings)}
    saved = conn.execute(
        text("SELECT " + ", ".join(f"current_setting(:{k})" for k in names)), names
    ).one()
    _set_local(conn, settings)
    yield
    _set_local(conn, dict(zip(settings, saved, strict=True)))


def _set_local(conn: Connection, settings: dict[str, str]) -> None:
    params: dict[str, str] = {}
    calls = []
    for i, (name, value) in enumerate(settings.items()):
        params |= {f"n{i}": name, f"v{i}": value}
        calls.append(f"set_config(:n{i}, :v{i}, true)")
    conn.execute(text("SELECT " + ", ".join(calls)), params)


class Windows:
    """Recency windows for one search, ending where the date range ends: where each starts
    (None: no window, the whole range) and how to read it.

    Matches and the rows passing the other filters are taken as spread evenly over time, so a
    window holding ``wanted`` of the ``expected`` matches spans that fraction of the range.
    """

    def __init__(
        self,
        stats: DateStats,
        *,
        since: datetime | None,
        until: datetime | None,
        expected: float,
        filtered: float,
        max_candidates: int,
        phrase: bool = False,
    ) -> None:
        self.stats = stats
        self.phrase = phrase
        # Shares of all rows: `top` is dated before the range's end, `in_range` is dated and
        # inside the range.
        self.top = stats.below(until.timestamp() if until is not None else float("inf"))
        self.in_range = self.top - (stats.below(since.timestamp()) if since is not None else 0.0)
        self.expected = max(expected, 1.0)
        self.filtered = max(filtered, self.expected)  # rows passing the other filters
        self.max_candidates = max_candidates
        self.wanted = WINDOW_MARGIN * max_candidates
        self.fraction = 0.0  # of the range, in the last window
        self.walk = False  # walk the published_at index (else bitmaps)

    def next_start(self, found: int | None = None) -> float | None:
        """The first window's start, or (``found``: the last window held that many matches,
        too few) a wider one's; None when the whole range should be searched instead."""
        if found is not None and self.phrase:
            # A phrase's matches are co-occurrences whose positions are checked row by row,
            # so a window costs what it spans, not what it finds: widen step by step.
            fraction = self.fraction * WIDEN
        else:
            if found is not None:  # the window measured the matches' density where it looked
                self.expected = max(found, 1) / self.fraction
            fraction = self.wanted / self.expected
            if found is not None:
                fraction = max(fraction, self.fraction * WIDEN)
        if fraction >= 1.0 or self.in_range <= 0:
            return None
        # Walking newest first tests rows until max_candidates match; a bitmap window reads
        # every match's GIN entry, the window's range and the rows of the matches in it; no
        # window reads every match's row.
        share = self.expected / self.filtered
        walk = min(self.max_candidates / share, fraction * self.filtered) * WALK_ROW_US
        window = (
            self.expected * GIN_MATCH_US
            + fraction * self.filtered * RANGE_ROW_US
            + self.wanted * HEAP_ROW_US
        )
        whole = self.expected * (GIN_MATCH_US + HEAP_ROW_US)
        if whole <= min(walk, window):
            return None
        self.walk = walk < window
        self.fraction = fraction
        return self.stats.time_at(self.top - fraction * self.in_range)


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
    A phrase query's pool may be smaller, never smaller than the page (see below).
    """
    q = tsquery(query)
    if q is None:
        return []
    # A phrase ("...", also a word the stemmer splits) is found by the GIN index as the
    # co-occurrence of its words, and each co-occurring row's positions are then read and
    # checked: for common words that is most of the table. So a phrase is ranked among the
    # newest matches of the first recency window that holds a full page (at most
    # max_candidates), instead of always among max_candidates of them.
    phrase = '"' in websearch_query(query)
    filters = []
    if source:
        source_id = select(sources.c.id).where(sources.c.name == source).scalar_subquery()
        filters.append(articles.c.source_id == source_id)
    if since is not None:
        filters.append(articles.c.published_at >= since)
    if until is not None:
        filters.append(articles.c.published_at < until)
    where = [articles.c.search_vector.bool_op("@@")(q), *filters]
    # Stage 1 (the newest matches) looks in recency windows first: see _ranked.
    windows = None
    if max_candidates > 0 and (stats := date_stats(conn)) is not None:
        expected = _estimated_rows(conn, select(articles.c.id).where(*where))
        filtered = (
            _estimated_rows(conn, select(articles.c.id).where(*filters)) if filters else stats.rows
        )
        windows = Windows(
            stats,
            since=since,
            until=until,
            expected=expected,
            filtered=filtered,
            max_candidates=max_candidates,
            phrase=phrase,
        )
    start = windows.next_start() if windows else None
    with local_settings(conn, SEARCH_SETTINGS):
        while True:
            walk = start is not None and windows is not None and windows.walk
            found, rows = _ranked(conn, q, where, start, walk, max_candidates, limit, offset)
            if start is None or found >= max_candidates:
                break
            if phrase and found >= offset + limit:
                break  # a phrase ranks among the newest matches that fill its page: see above
            start = windows.next_start(found) if windows else None
    terms = query_terms(query)
    hits = []
    for row in rows:
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


def _ranked(
    conn: Connection,
    q: Any,
    where: list[Any],
    start: float | None,
    walk: bool,
    max_candidates: int,
    limit: int,
    offset: int,
) -> tuple[int, list[Any]]:
    """Stage 1, the ``max_candidates`` newest matches (published_at DESC, undated last, id
    DESC), then stage 2, the page of them by rank, in one statement; with how many candidates
    stage 1 found.

    Taking every match from the GIN index and reading each one's row for its date costs
    1.5-4 µs a match, too much for a word with tens of thousands. With a ``start``, stage 1
    looks only at ``published_at >= start``: the planner ANDs the GIN bitmap with a range
    bitmap on ix_articles_published_at, or (``walk``, for a very common word) walks that
    index newest first, and rows outside the window are never read. A window that found max_candidates
    matches found exactly the newest ones (every match outside it is older, or undated);
    one that found fewer is answered by a wider window, and at last by the whole range.
    """
    published = articles.c.published_at
    if start is None:
        cond, order = where, (published.desc().nulls_last(), articles.c.id.desc())
    else:
        # No NULL passes the window, so plain DESC (NULLS FIRST, the btree's backward
        # order) is the same order and lets the planner walk ix_articles_published_at.
        window = bindparam("window_start", datetime.fromtimestamp(start, UTC), type_=published.type)
        cond = [*where, published >= window]
        order = (published.desc(), articles.c.id.desc())
    # The vectors stay TOAST pointers in the CTE: only those of the candidates are read to
    # rank them, and no candidate row is looked up again.
    candidates = (
        select(articles.c.id, published, articles.c.search_vector)
        .where(*cond)
        .order_by(*order)
        .limit(max_candidates)
        .cte("candidates")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    found = select(func.count().label("found")).select_from(candidates).subquery("found")
    rank = func.ts_rank_cd(candidates.c.search_vector, q, RANK_NORMALIZATION).label("rank")
    ranked = (
        select(candidates.c.id, rank)
        .order_by(
            rank.desc(), candidates.c.published_at.desc().nulls_last(), candidates.c.id.desc()
        )
        .limit(limit)
        .offset(offset)
        .subquery("ranked")
    )
    page = (
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
        .subquery("page")
    )
    # One row even when the page is empty, to carry the count.
    stmt = (
        select(found.c.found, page)
        .select_from(found.outerjoin(page, true()))
        .order_by(page.c.rank.desc(), page.c.published_at.desc().nulls_last(), page.c.id.desc())
    )
    if not walk:
        rows = conn.execute(stmt).all()
        return rows[0].found, [r for r in rows if r.id is not None]
    # The planner prices a GIN bitmap by its index pages, not by its matches, and so would
    # build one of hundreds of thousands of entries where walking the published_at index
    # newest first finds max_candidates matches after a few thousand rows: Windows decided.
    with local_settings(conn, {"enable_bitmapscan": "off"}):
        rows = conn.execute(stmt).all()
    return rows[0].found, [r for r in rows if r.id is not None]
