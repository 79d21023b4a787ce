"""Prometheus metrics, read from crawl_runs at each scrape.

The database is where every crawl process (the scheduler's subprocesses, `akhbar crawl`,
a bare `scrapy crawl`) records what it did, so one exporter anywhere sees them all:

    akhbar_pages_fetched_total{source}          akhbar_articles_stored_total{source}
    akhbar_duplicates_total{source,kind}        akhbar_crawl_errors_total{source}
    akhbar_crawl_runs_total{source,status}      akhbar_crawls_running{source}
    akhbar_last_success_timestamp_seconds{source}

Served on 127.0.0.1 only, when ``AKHBAR_METRICS_PORT`` is set.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import text

logger = logging.getLogger(__name__)

_QUERY = text(
    """
    SELECT spider,
           status,
           count(*),
           coalesce(sum(pages_fetched), 0),
           coalesce(sum(articles_stored), 0),
           coalesce(sum(exact_duplicates), 0),
           coalesce(sum(near_duplicates), 0),
           coalesce(sum(errors), 0),
           extract(epoch FROM max(finished_at))
    FROM crawl_runs GROUP BY spider, status
    """
)


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
        running = GaugeMetricFamily("akhbar_crawls_running", "Crawls running", labels=["source"])
        last_ok = GaugeMetricFamily(
            "akhbar_last_success_timestamp_seconds",
            "When the last finished crawl ended",
            labels=["source"],
        )
        totals: dict[str, list[float]] = {}
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(_QUERY).all()
        except Exception as exc:  # a scrape must not crash the exporter
            logger.warning("metrics: cannot read crawl_runs: %s", exc)
            return
        for spider, status, count, p, s, ex, near, err, last in rows:
            t = totals.setdefault(spider, [0, 0, 0, 0, 0, 0])
            for i, value in enumerate((p, s, ex, near, err)):
                t[i] += float(value)
            runs.add_metric([spider, status], float(count))
            if status == "running":
                t[5] = float(count)
            if status == "finished" and last is not None:
                last_ok.add_metric([spider], float(last))
        for spider, (p, s, ex, near, err, run) in totals.items():
            pages.add_metric([spider], p)
            stored.add_metric([spider], s)
            dups.add_metric([spider, "exact"], ex)
            dups.add_metric([spider, "near"], near)
            errors.add_metric([spider], err)
            running.add_metric([spider], run)
        yield from (pages, stored, dups, errors, runs, running, last_ok)


_started: dict[int, Any] = {}
_lock = threading.Lock()


def serve_metrics(port: int, engine: Any) -> bool:
    """Serve /metrics on 127.0.0.1:port (once per process). False if the port is taken."""
    with _lock:
        if port in _started:
            return True
        registry = CollectorRegistry()
        registry.register(CrawlRunsCollector(engine))
        from crawlers.queue import QueueCollector  # queue depth, stalled jobs (docs/scaling.md)

        registry.register(QueueCollector(engine))
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
