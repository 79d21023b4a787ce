"""The Prometheus exporter: collectors that read the database at each scrape (figures from
db/metrics.py, db/health.py and the queue's crawlers/queue.py) and the HTTP server.

The database is where every crawl process (the scheduler's subprocesses, `akhbar crawl`,
a bare `scrapy crawl`) records what it did, so one exporter anywhere sees them all:

    akhbar_pages_fetched_total{source}          akhbar_articles_stored_total{source}
    akhbar_duplicates_total{source,kind}        akhbar_crawl_errors_total{source}
    akhbar_crawl_runs_total{source,status}      akhbar_crawls_running{source}
    akhbar_last_success_timestamp_seconds{source}   (``finished`` runs only)

and per source the health figures of `akhbar health` (db/health.py), as gauges:

    akhbar_source_last_outcome{source,outcome}      1 for the last run's outcome
    akhbar_source_flag{source,flag}                 1 per flag raised
    akhbar_source_flagged{source}                   number of flags raised
    akhbar_source_last_yield{source}                articles stored by the last run
    akhbar_source_median_yield{source}              median of the runs before it
    akhbar_source_undated_share{source,window}      window="last" or "history"
    akhbar_source_no_author_share{source,window}
    akhbar_source_median_words{source,window}
    akhbar_source_non_article_rate{source}          of the last run's pages
    akhbar_source_duplicate_rate{source}
    akhbar_source_error_rate{source}
    akhbar_source_hours_since_last_run{source}

Served on 127.0.0.1 only by the scheduler and `scrapy crawl` when ``AKHBAR_METRICS_PORT``
is set, and by `akhbar serve` at /metrics (``metrics_text``). Docs: docs/operations.md.

It lives in the crawling layer because a crawl process serves it (crawlers/extensions.py) and
may not import the interfaces; the API and the scheduler, above, import it from here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from akhbar.sources import load_sources
from crawlers.queue import QueueCollector  # queue depth, stalled jobs (docs/scaling.md)
from db.crawl_runs import lease_seconds
from db.health import source_health
from db.metrics import crawled_sources, run_totals

logger = logging.getLogger(__name__)


class CrawlRunsCollector:
    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        pages = CounterMetricFamily("akhbar_pages_fetched", "Pages fetched", labels=["source"])
        stored = CounterMetricFamily("akhbar_articles_stored", "Articles stored", labels=["source"])
        dups = CounterMetricFamily(
            "akhbar_duplicates", "Pages found to copy a stored article", labels=["source", "kind"]
        )
        errors = CounterMetricFamily("akhbar_crawl_errors", "Errors logged", labels=["source"])
        runs = CounterMetricFamily("akhbar_crawl_runs", "Crawl runs", labels=["source", "status"])
        running = GaugeMetricFamily(
            "akhbar_crawls_running",
            "Crawls running (heartbeat within the lease)",
            labels=["source"],
        )
        last_ok = GaugeMetricFamily(
            "akhbar_last_success_timestamp_seconds",
            "When the last finished crawl ended",
            labels=["source"],
        )
        totals: dict[str, list[float]] = {}
        try:
            with self.engine.connect() as conn:
                rows = run_totals(conn, lease_seconds())
        except Exception as exc:  # a scrape must not crash the exporter
            logger.warning("metrics: cannot read crawl_runs: %s", exc)
            return
        for row in rows:
            t = totals.setdefault(row.source, [0, 0, 0, 0, 0, 0])
            for i, value in enumerate(
                (
                    row.pages_fetched,
                    row.articles_stored,
                    row.exact_duplicates,
                    row.near_duplicates,
                    row.errors,
                )
            ):
                t[i] += float(value)
            runs.add_metric([row.source, row.status], float(row.runs))
            if row.status == "running":
                t[5] = float(row.runs)
            if row.status == "finished" and row.last_finished_epoch is not None:
                last_ok.add_metric([row.source], row.last_finished_epoch)
        for spider, (p, s, ex, near, err, run) in totals.items():
            pages.add_metric([spider], p)
            stored.add_metric([spider], s)
            dups.add_metric([spider, "exact"], ex)
            dups.add_metric([spider, "near"], near)
            errors.add_metric([spider], err)
            running.add_metric([spider], run)
        yield from (pages, stored, dups, errors, runs, running, last_ok)


class SourceHealthCollector:
    """The figures of `akhbar health`, per source, at each scrape."""

    def __init__(self, engine: Any, sources: list[str] | None = None) -> None:
        self.engine = engine
        self.sources = sources

    def _names(self) -> list[str]:
        if self.sources:
            return list(self.sources)
        names: set[str] = set()
        try:
            names |= set(load_sources())
        except Exception as exc:  # a broken registry must not break the exporter
            logger.warning("metrics: cannot read the source registry: %s", exc)
        with self.engine.connect() as conn:
            names |= crawled_sources(conn)
        return sorted(names)

    def collect(self) -> Iterator[Metric]:
        try:
            report = source_health(self.engine, self._names())
        except Exception as exc:  # a scrape must not crash the exporter
            logger.warning("metrics: cannot compute source health: %s", exc)
            return

        def gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> GaugeMetricFamily:
            return GaugeMetricFamily(name, doc, labels=["source", *labels])

        outcome = gauge("akhbar_source_last_outcome", "1 for the last run's outcome", ("outcome",))
        flag = gauge("akhbar_source_flag", "1 per health flag raised", ("flag",))
        flagged = gauge("akhbar_source_flagged", "Health flags raised")
        last_yield = gauge("akhbar_source_last_yield", "Articles stored by the last run")
        median_yield = gauge("akhbar_source_median_yield", "Median articles stored per run before")
        undated = gauge("akhbar_source_undated_share", "Share without a date", ("window",))
        no_author = gauge("akhbar_source_no_author_share", "Share without an author", ("window",))
        words = gauge("akhbar_source_median_words", "Median words per article", ("window",))
        non_article = gauge("akhbar_source_non_article_rate", "Non-articles / pages, last run")
        duplicate = gauge("akhbar_source_duplicate_rate", "Duplicates / article pages, last run")
        error = gauge("akhbar_source_error_rate", "Errors / (pages + errors), last run")
        since = gauge("akhbar_source_hours_since_last_run", "Hours since the last crawl started")
        for h in report:
            s = h.source
            if h.last_outcome:
                outcome.add_metric([s, h.last_outcome], 1.0)
            for name in h.flags:
                flag.add_metric([s, name], 1.0)
            flagged.add_metric([s], float(len(h.flags)))
            for family, value in (
                (last_yield, h.last_yield),
                (median_yield, h.median_yield),
                (non_article, h.non_article_rate),
                (duplicate, h.duplicate_rate),
                (error, h.error_rate),
                (since, h.hours_since_last_run),
            ):
                if value is not None:
                    family.add_metric([s], float(value))
            for family, last, history in (
                (undated, h.undated_share, h.undated_share_history),
                (no_author, h.no_author_share, h.no_author_share_history),
                (words, h.median_words, h.median_words_history),
            ):
                if last is not None:
                    family.add_metric([s, "last"], float(last))
                if history is not None:
                    family.add_metric([s, "history"], float(history))
        yield from (
            outcome, flag, flagged, last_yield, median_yield, undated, no_author, words,
            non_article, duplicate, error, since,
        )  # fmt: skip


def metrics_registry(engine: Any) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(CrawlRunsCollector(engine))
    registry.register(SourceHealthCollector(engine))
    registry.register(QueueCollector(engine))
    return registry


def metrics_text(engine: Any) -> bytes:
    """The exposition text of every akhbar metric (what /metrics serves)."""
    from prometheus_client import generate_latest

    return generate_latest(metrics_registry(engine))


_started: dict[int, Any] = {}
_lock = threading.Lock()


def serve_metrics(port: int, engine: Any) -> bool:
    """Serve /metrics on 127.0.0.1:port (once per process). False if the port is taken."""
    with _lock:
        if port in _started:
            return True
        registry = metrics_registry(engine)
        try:
            _started[port] = start_http_server(port, addr="127.0.0.1", registry=registry)
        except OSError as exc:
            logger.warning("metrics: cannot listen on 127.0.0.1:%d: %s", port, exc)
            return False
        logger.info("metrics on http://127.0.0.1:%d/metrics", port)
        return True


def stop_metrics() -> None:
    with _lock:
        for started in _started.values():
            server = started[0] if isinstance(started, tuple) else None
            if server is not None:
                server.shutdown()
                server.server_close()
        _started.clear()
