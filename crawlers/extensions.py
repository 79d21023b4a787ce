"""CrawlRunRecorder: keeps the crawl_runs row of a crawl current and closes it; gives the
run its log file (JSON lines, path in crawl_runs.log_path) and, with AKHBAR_METRICS_PORT,
serves Prometheus metrics."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from scrapy import signals
from twisted.internet import task

from akhbar.logging import register_run, use_json_lines
from crawlers.runs import run_context, run_log_path
from db.engine import get_engine, session_scope
from db.queries import finish_run, update_run

logger = logging.getLogger(__name__)

STATUS_BY_REASON = {"finished": "finished", "shutdown": "interrupted", "cancelled": "interrupted"}


def counters_from_stats(stats: dict[str, Any]) -> dict[str, int]:
    return {
        "pages_fetched": stats.get("downloader/response_count", 0),
        "articles_stored": stats.get("akhbar/articles_stored", 0),
        "exact_duplicates": stats.get("akhbar/exact_duplicates", 0),
        "near_duplicates": stats.get("akhbar/near_duplicates", 0),
        "non_articles": stats.get("akhbar/non_articles", 0),
        "errors": stats.get("log_count/ERROR", 0),
    }


def _jsonable(stats: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (v if isinstance(v, (int, float, str, bool)) or v is None else str(v))
        for k, v in stats.items()
    }


class CrawlRunRecorder:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.enabled = crawler.settings.getbool("AKHBAR_STORE", True)
        self.interval = crawler.settings.getfloat("AKHBAR_RUN_FLUSH_INTERVAL", 5.0)
        self.loop: task.LoopingCall | None = None
        self.own_handler: logging.Handler | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> CrawlRunRecorder:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def _setup_log_file(self, spider: Any) -> None:
        """With LOG_FILE set (the scheduler, `akhbar crawl`), render it as JSON lines;
        otherwise (a bare `scrapy crawl`) add a per-run file beside the console output."""
        from scrapy.utils.log import get_scrapy_root_handler

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
        if not self.enabled:
            return
        self._setup_log_file(spider)
        context = run_context(self.crawler)
        register_run(spider.name, context.run_id)
        # The pipelines may have created the row before the log file was known.
        with session_scope(get_engine()) as session:
            update_run(session, context.run_id, log_path=self.crawler.akhbar_log_path)
        logger.info("crawl run %s started for source %s", context.run_id, spider.name)
        if port := self.crawler.settings.getint("AKHBAR_METRICS_PORT", 0):
            from akhbar.metrics import serve_metrics

            serve_metrics(port, get_engine())
        self.loop = task.LoopingCall(self.flush)
        self.loop.start(self.interval, now=False)

    def flush(self) -> None:
        """Write the counters so far: `akhbar runs` and progress displays read them."""
        context = run_context(self.crawler)
        with session_scope(get_engine()) as session:
            update_run(
                session, context.run_id, **counters_from_stats(self.crawler.stats.get_stats())
            )

    def spider_closed(self, spider: Any, reason: str) -> None:
        if not self.enabled:
            return
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        context = run_context(self.crawler)
        stats = self.crawler.stats.get_stats()
        status = STATUS_BY_REASON.get(
            reason, "finished" if reason.startswith("closespider") else "failed"
        )
        with session_scope(get_engine()) as session:
            finish_run(
                session,
                context.run_id,
                status,
                stats={**_jsonable(stats), "finish_reason": reason},
                **counters_from_stats(stats),
            )
        logger.info("crawl run %s %s (%s)", context.run_id, status, reason)
        if self.own_handler is not None:
            logging.root.removeHandler(self.own_handler)
            self.own_handler.close()
