"""CrawlRunRecorder: keeps the crawl_runs row of a crawl current and closes it with the
outcome the run earned (akhbar/outcomes.py ``decide_outcome``); gives the run its log file
(JSON lines, path in crawl_runs.log_path) and, with AKHBAR_METRICS_PORT, serves Prometheus
metrics.

The database may go away during a crawl: progress flushes that fail are logged and
retried at the next tick (the loop never dies), and closing the run retries for
AKHBAR_DB_WAIT_SECONDS. A row that still cannot be closed keeps ``running`` with a
heartbeat that stops: whoever looks after the lease closes it as ``interrupted``.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from scrapy import signals
from sqlalchemy import func
from twisted.internet import task

from akhbar.logging import record_source, register_run, use_json_lines
from akhbar.outcomes import Outcome, Thresholds, decide_outcome
from akhbar.processes import settle_garbage_collector
from crawlers.runlog import installed_run_log, run_log_path
from db.crawl_runs import run_context
from db.engine import get_engine, session_scope
from db.queries import finish_run, update_run

logger = logging.getLogger(__name__)

# Every recorder of this process, to attribute log records without a source.
_recorders: list[CrawlRunRecorder] = []


def counters_from_stats(stats: dict[str, Any]) -> dict[str, int]:
    return {
        "pages_fetched": stats.get("downloader/response_count", 0),
        "articles_stored": stats.get("akhbar/articles_stored", 0),
        "exact_duplicates": stats.get("akhbar/exact_duplicates", 0),
        "near_duplicates": stats.get("akhbar/near_duplicates", 0),
        "non_articles": stats.get("akhbar/non_articles", 0),
        # This source's own: error records about it, and its requests that failed for good
        # (Scrapy's log_count/ERROR counts every spider of the process).
        "errors": stats.get("akhbar/errors", 0) + stats.get("akhbar/requests_failed", 0),
    }


def _jsonable(stats: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (v if isinstance(v, (int, float, str, bool)) or v is None else str(v))
        for k, v in stats.items()
    }


class SourceErrorCounter(logging.Handler):
    """Counts ERROR records about one source into its crawler's ``akhbar/errors``."""

    def __init__(self, recorder: CrawlRunRecorder) -> None:
        super().__init__(level=logging.ERROR)
        self.recorder = recorder

    def emit(self, record: logging.LogRecord) -> None:
        name = self.recorder.crawler.spidercls.name
        source = record_source(record)
        if source == name or (source is None and len(_recorders) == 1):
            self.recorder.crawler.stats.inc_value("akhbar/errors")


class CrawlRunRecorder:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.enabled = crawler.settings.getbool("AKHBAR_STORE", True)
        self.interval = crawler.settings.getfloat("AKHBAR_RUN_FLUSH_INTERVAL", 5.0)
        self.close_retry = crawler.settings.getfloat("AKHBAR_DB_WAIT_SECONDS", 30.0)
        self.loop: task.LoopingCall | None = None
        self.own_handler: logging.Handler | None = None
        self.error_counter = SourceErrorCounter(self)
        self.flush_failing = False

    @classmethod
    def from_crawler(cls, crawler: Any) -> CrawlRunRecorder:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        _recorders.append(ext)
        logging.root.addHandler(ext.error_counter)
        return ext

    def _setup_log_file(self, spider: Any) -> None:
        """The run log: the JSON-lines file installed before Scrapy started (crawlers/runlog.py);
        else LOG_FILE (rendered as JSON lines), else a per-run file beside the console."""
        from scrapy.utils.log import get_scrapy_root_handler

        if (installed := installed_run_log()) is not None:
            self.crawler.akhbar_log_path = str(installed)
            return
        settings = self.crawler.settings
        json_lines = settings.get("AKHBAR_LOG_FORMAT", "json") == "json"
        handler = get_scrapy_root_handler()
        if settings.get("LOG_FILE"):
            self.crawler.akhbar_log_path = str(Path(settings["LOG_FILE"]).resolve())
            if json_lines and isinstance(handler, logging.FileHandler):
                use_json_lines(handler)
            return
        path = run_log_path(spider.name)
        self.own_handler = logging.FileHandler(path, encoding="utf-8")
        self.own_handler.setLevel(settings.get("LOG_LEVEL", "INFO"))
        if json_lines:
            use_json_lines(self.own_handler)
        else:
            self.own_handler.setFormatter(
                logging.Formatter(settings.get("LOG_FORMAT"), settings.get("LOG_DATEFORMAT"))
            )
        logging.root.addHandler(self.own_handler)
        self.crawler.akhbar_log_path = str(path)

    def spider_opened(self, spider: Any) -> None:
        settle_garbage_collector()
        if not self.enabled:
            return
        self._setup_log_file(spider)
        context = run_context(self.crawler)
        register_run(spider.name, context.run_id)
        # The pipelines may have created the row before the log file was known.
        with session_scope(get_engine()) as session:
            update_run(session, context.run_id, log_path=self.crawler.akhbar_log_path)
        logger.info(
            "crawl run %s started for source %s",
            context.run_id,
            spider.name,
            extra={"akhbar_event": "run_started", "source": spider.name, "run_id": context.run_id},
        )
        if port := self.crawler.settings.getint("AKHBAR_METRICS_PORT", 0):
            from crawlers.exporter import serve_metrics

            serve_metrics(port, get_engine())
        self.loop = task.LoopingCall(self.flush)
        self.loop.start(self.interval, now=False)

    def flush(self) -> None:
        """Write the counters so far and renew the run's heartbeat (its lease). A database
        that is away is logged once and tried again at the next tick."""
        try:
            self._write(heartbeat_at=func.now())
        except Exception as exc:
            if not self.flush_failing:
                logger.warning(
                    "cannot record progress of run %s (will retry): %s",
                    getattr(self.crawler, "akhbar_run", None) and self.crawler.akhbar_run.run_id,
                    _first_line(exc),
                    extra={"akhbar_event": "flush_failed", "source": self.crawler.spidercls.name},
                )
            self.flush_failing = True
        else:
            if self.flush_failing:
                logger.info(
                    "recording progress again",
                    extra={"akhbar_event": "flush_resumed", "source": self.crawler.spidercls.name},
                )
            self.flush_failing = False

    def _write(self, **values: Any) -> None:
        context = run_context(self.crawler)
        with session_scope(get_engine()) as session:
            update_run(
                session,
                context.run_id,
                **counters_from_stats(self.crawler.stats.get_stats()),
                **values,
            )

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        logging.root.removeHandler(self.error_counter)
        stats = self.crawler.stats.get_stats()
        outcome = decide_outcome(stats, reason, Thresholds.from_env())
        self.crawler.akhbar_outcome = outcome
        if self.enabled:
            self._close_run(spider, reason, outcome)
        if self in _recorders:
            _recorders.remove(self)
        if self.own_handler is not None:
            logging.root.removeHandler(self.own_handler)
            self.own_handler.close()

    def _close_run(self, spider: Any, reason: str, outcome: Outcome) -> None:
        context = run_context(self.crawler)
        stats = self.crawler.stats.get_stats()
        counters = counters_from_stats(stats)
        deadline = time.monotonic() + self.close_retry
        delay = 0.5
        while True:
            try:
                with session_scope(get_engine()) as session:
                    finish_run(
                        session,
                        context.run_id,
                        outcome.status,
                        heartbeat_at=func.now(),
                        stats={
                            **_jsonable(stats),
                            "finish_reason": reason,
                            "outcome_reasons": list(outcome.reasons),
                        },
                        **counters,
                    )
                break
            except Exception as exc:
                if time.monotonic() + delay > deadline:
                    logger.error(
                        "cannot close run %s (%s): %s; it will be closed as interrupted "
                        "once its heartbeat lease expires",
                        context.run_id,
                        outcome.status,
                        _first_line(exc),
                        extra={"akhbar_event": "close_failed", "source": spider.name},
                    )
                    break
                time.sleep(delay)  # the reactor is shutting this crawl down anyway
                delay = min(delay * 2, 5.0)
        level = logging.INFO if outcome.status == "finished" else logging.WARNING
        logger.log(
            level,
            "crawl run %s %s (%s)%s",
            context.run_id,
            outcome.status,
            reason,
            (": " + "; ".join(outcome.reasons)) if outcome.reasons else "",
            extra={
                "akhbar_event": "run_finished",
                "source": spider.name,
                "run_id": context.run_id,
                "outcome": outcome.status,
                "reasons": list(outcome.reasons),
                **counters,
            },
        )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
