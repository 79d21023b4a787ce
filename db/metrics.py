"""The crawl figures the Prometheus exporter (crawlers/exporter.py) serves, as plain data.

Every crawl process records what it did in ``crawl_runs``, so these sums over it are the same
whichever process asks. Source health figures are in db/health.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

_TOTALS = text(
    """
    SELECT spider,
           CASE WHEN status = 'running' AND coalesce(heartbeat_at, started_at)
                     < now() - make_interval(secs => :lease)
                THEN 'stale' ELSE status END,
           count(*),
           coalesce(sum(pages_fetched), 0),
           coalesce(sum(articles_stored), 0),
           coalesce(sum(exact_duplicates), 0),
           coalesce(sum(near_duplicates), 0),
           coalesce(sum(errors), 0),
           extract(epoch FROM max(finished_at))
    FROM crawl_runs GROUP BY 1, 2
    """
)


@dataclass(frozen=True, slots=True)
class RunTotals:
    """The runs of one source with one status, summed. A ``running`` row whose heartbeat is
    older than the lease counts as status ``stale``."""

    source: str
    status: str
    runs: int
    pages_fetched: int
    articles_stored: int
    exact_duplicates: int
    near_duplicates: int
    errors: int
    last_finished_epoch: float | None


def run_totals(conn: Connection, lease_seconds: float) -> list[RunTotals]:
    """Sums of ``crawl_runs`` per (source, status)."""
    return [
        RunTotals(
            source=spider,
            status=status,
            runs=int(count),
            pages_fetched=int(pages),
            articles_stored=int(stored),
            exact_duplicates=int(exact),
            near_duplicates=int(near),
            errors=int(errors),
            last_finished_epoch=None if last is None else float(last),
        )
        for spider, status, count, pages, stored, exact, near, errors, last in conn.execute(
            _TOTALS, {"lease": lease_seconds}
        )
    ]


def crawled_sources(conn: Connection) -> set[str]:
    """Every source that has at least one run."""
    return set(conn.execute(text("SELECT DISTINCT spider FROM crawl_runs")).scalars())
