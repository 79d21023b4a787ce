"""Source health: each source's last run against its own history (`akhbar health`, the
per-source Prometheus gauges of crawlers/exporter.py). docs/operations.md says what each flag
means and what to do about it.

Read-only SQL over ``crawl_runs`` and ``articles``; the caller decides whether to reap
stale runs first (db/crawl_runs.py ``reap_stale_runs``).
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, text

from db import crawl_runs

HISTORY_RUNS = 14  # the runs before the last one that make a source's "normal"
DEFAULT_DUE_HOURS = 26.0  # a nightly source not crawled for longer is overdue

# Thresholds of the flags (see docs/operations.md).
YIELD_COLLAPSE_RATIO = 0.25  # last yield below a quarter of the median...
YIELD_COLLAPSE_MIN_MEDIAN = 4  # ...of a source that normally yields at least this many
COVERAGE_DROP = 0.2  # share of articles with a date (or an author) down 20 points or more
WORDS_DROP_RATIO = 0.5  # median words below half the usual
MIN_ARTICLES = 5  # fewer articles than this in the last run or the history: no comparison

FLAGS = {
    "last_run_failed": "the last run failed or was interrupted",
    "last_run_empty": "the last run found no article URL",
    "last_run_degraded": "part of the last run failed",
    "no_yield": "no article stored by the last run, or ever",
    "yield_collapse": "the last run stored far fewer articles than usual",
    "date_coverage_drop": "far fewer articles with a date than usual",
    "author_coverage_drop": "far fewer articles with an author than usual",
    "words_drop": "articles far shorter than usual",
    "not_crawled_when_due": "no crawl started within the due time",
    "stale_running": "a run is marked running but its heartbeat stopped",
}


@dataclass
class SourceHealth:
    source: str
    last_run_id: int | None = None
    last_outcome: str | None = None
    last_reasons: list[str] = field(default_factory=list)
    last_started_at: datetime | None = None
    hours_since_last_run: float | None = None
    running: bool = False
    last_yield: int | None = None
    median_yield: float | None = None
    yield_ratio: float | None = None
    undated_share: float | None = None
    undated_share_history: float | None = None
    no_author_share: float | None = None
    no_author_share_history: float | None = None
    median_words: float | None = None
    median_words_history: float | None = None
    non_article_rate: float | None = None
    duplicate_rate: float | None = None
    error_rate: float | None = None
    articles_total: int = 0
    flags: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["last_started_at"] = self.last_started_at.isoformat() if self.last_started_at else None
        out["flag_descriptions"] = {f: FLAGS[f] for f in self.flags}
        return out


_RUNS = text(
    """
    SELECT * FROM (
        SELECT r.id, r.spider, r.status, r.started_at, r.pages_fetched, r.articles_stored,
               r.exact_duplicates, r.near_duplicates, r.non_articles, r.errors,
               r.stats -> 'outcome_reasons' AS reasons,
               row_number() OVER (PARTITION BY r.spider ORDER BY r.started_at DESC) AS n
        FROM crawl_runs r
        WHERE r.spider = ANY(:names) AND r.status <> 'running'
    ) ranked WHERE n <= :keep ORDER BY spider, started_at DESC
    """
)
_LATEST_START = text(
    """
    SELECT spider, max(started_at), extract(epoch FROM now() - max(started_at)) / 3600,
           bool_or(status = 'running' AND coalesce(heartbeat_at, started_at)
                   > now() - make_interval(secs => :lease)),
           bool_or(status = 'running' AND coalesce(heartbeat_at, started_at)
                   <= now() - make_interval(secs => :lease))
    FROM crawl_runs WHERE spider = ANY(:names) GROUP BY spider
    """
)
_ARTICLES = text(
    """
    SELECT count(*),
           count(*) FILTER (WHERE published_at IS NULL),
           count(*) FILTER (WHERE author IS NULL OR author = ''),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY word_count)
    FROM articles WHERE crawl_run_id = ANY(:ids)
    """
)
_TOTALS = text(
    "SELECT s.name, count(a.id) FROM sources s LEFT JOIN articles a ON a.source_id = s.id "
    "WHERE s.name = ANY(:names) GROUP BY s.name"
)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _article_figures(conn: Any, run_ids: list[int]) -> tuple[int, float | None, float | None, Any]:
    if not run_ids:
        return 0, None, None, None
    count, undated, no_author, words = conn.execute(_ARTICLES, {"ids": run_ids}).one()
    return count, _share(undated, count), _share(no_author, count), words


def source_health(
    engine: Engine,
    names: Sequence[str],
    *,
    due_hours: float | None = None,
    lease_seconds: float | None = None,
) -> list[SourceHealth]:
    """The health of each source in ``names`` (registry order kept)."""
    due = (
        due_hours
        if due_hours is not None
        else float(os.environ.get("AKHBAR_HEALTH_DUE_HOURS") or DEFAULT_DUE_HOURS)
    )
    lease = lease_seconds if lease_seconds is not None else crawl_runs.lease_seconds()
    names = list(names)
    result = {name: SourceHealth(source=name) for name in names}
    with engine.connect() as conn:
        runs: dict[str, list[Any]] = {}
        for row in conn.execute(_RUNS, {"names": names, "keep": HISTORY_RUNS + 1}):
            runs.setdefault(row.spider, []).append(row)
        latest = {
            row[0]: row[1:] for row in conn.execute(_LATEST_START, {"names": names, "lease": lease})
        }
        totals = dict(conn.execute(_TOTALS, {"names": names}).all())
        for name, health in result.items():
            health.articles_total = int(totals.get(name, 0))
            started, hours, running, stale = latest.get(name, (None, None, False, False))
            health.last_started_at = started
            health.hours_since_last_run = float(hours) if hours is not None else None
            health.running = bool(running)
            if stale:
                health.flags.append("stale_running")
            if not running and (hours is None or float(hours) > due):
                health.flags.append("not_crawled_when_due")
            done = runs.get(name, [])
            if not done:
                continue
            last, history = done[0], done[1:]
            _judge(conn, health, last, history)
    return [result[name] for name in names]


def _judge(conn: Any, health: SourceHealth, last: Any, history: list[Any]) -> None:
    health.last_run_id = last.id
    health.last_outcome = last.status
    health.last_reasons = list(last.reasons or [])
    health.last_yield = last.articles_stored
    yields = [r.articles_stored for r in history if r.status in {"finished", "degraded"}]
    health.median_yield = float(statistics.median(yields)) if yields else None
    if health.median_yield:
        health.yield_ratio = last.articles_stored / health.median_yield
    dups = last.exact_duplicates + last.near_duplicates
    health.non_article_rate = _share(last.non_articles, last.pages_fetched)
    health.duplicate_rate = _share(dups, dups + last.articles_stored)
    health.error_rate = _share(last.errors, last.errors + last.pages_fetched)

    count, health.undated_share, health.no_author_share, words = _article_figures(conn, [last.id])
    health.median_words = float(words) if words is not None else None
    h_count, health.undated_share_history, health.no_author_share_history, h_words = (
        _article_figures(conn, [r.id for r in history])
    )
    health.median_words_history = float(h_words) if h_words is not None else None

    flags = health.flags
    if last.status in {"failed", "interrupted"}:
        flags.append("last_run_failed")
    elif last.status == "empty":
        flags.append("last_run_empty")
    elif last.status == "degraded":
        flags.append("last_run_degraded")
    if health.articles_total == 0 or (last.articles_stored == 0 and (health.median_yield or 0) > 0):
        flags.append("no_yield")
    elif (
        health.median_yield is not None
        and health.median_yield >= YIELD_COLLAPSE_MIN_MEDIAN
        and last.articles_stored < YIELD_COLLAPSE_RATIO * health.median_yield
    ):
        flags.append("yield_collapse")
    if count >= MIN_ARTICLES and h_count >= MIN_ARTICLES:
        assert health.undated_share is not None and health.undated_share_history is not None
        assert health.no_author_share is not None and health.no_author_share_history is not None
        if health.undated_share - health.undated_share_history >= COVERAGE_DROP:
            flags.append("date_coverage_drop")
        if health.no_author_share - health.no_author_share_history >= COVERAGE_DROP:
            flags.append("author_coverage_drop")
        if (
            health.median_words is not None
            and health.median_words_history
            and health.median_words < WORDS_DROP_RATIO * health.median_words_history
        ):
            flags.append("words_drop")
