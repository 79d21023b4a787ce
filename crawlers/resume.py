"""Resumable crawls: a per-source journal of the crawl frontier that survives SIGKILL.

Why not Scrapy's JOBDIR: its disk queue writes its size header, the priority queue its
``active.json`` and the dupefilter flushes ``requests.seen`` only on a clean close, so after
SIGKILL the queue reads as empty. This journal is an append-only JSON-lines file written a
line at a time (a killed process loses nothing the kernel already has):

    {"op": "add", "url": ..., "cb": "parse_article", "prio": 0, "meta": {...}}
    {"op": "done", "url": ...}

``add`` when the spider schedules a request, ``done`` when a discovery page (sitemap, feed,
listing) was fully parsed or an article page went through the pipelines (a page that could
not be stored stays pending). A run that ends cleanly and not ``failed`` deletes the
journal; a run that finds one resumes: it re-schedules the requests
added but not done and skips every URL already done. Articles already stored are skipped
anyway by SkipKnownUrlsMiddleware (via the database); the journal adds the discovery pages
and the pages that were rejected (non-articles), so nothing finished is fetched again.

var/jobs/<source>/frontier.jsonl, locked (flock) while a crawl uses it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from scrapy import Request, signals
from scrapy.exceptions import NotConfigured

from crawlers.middlewares import ARTICLE_META
from crawlers.runs import Thresholds, decide_outcome, var_dir

logger = logging.getLogger(__name__)

URL_META = "akhbar_url"  # the URL as scheduled, kept through redirects
CLEAN_REASONS = ("finished", "closespider")
# Outcomes after which the journal is removed. Neither moves the incremental window except
# ``finished``: what a degraded or empty run missed is read again by the next run.
DONE_OUTCOMES = ("finished", "degraded", "empty")


def journal_path(source: str) -> Path:
    return var_dir() / "jobs" / source / "frontier.jsonl"


def _encode_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """The spider's own meta keys (``akhbar*``, ``listed_published``), JSON-safe."""
    out: dict[str, Any] = {}
    for key, value in meta.items():
        if not (key.startswith("akhbar") or key == "listed_published") or key == URL_META:
            continue
        if isinstance(value, datetime):
            out[key] = {"$dt": value.isoformat()}
        elif value is None or isinstance(value, (bool, int, float, str)):
            out[key] = value
    return out


def _decode_meta(meta: dict[str, Any]) -> dict[str, Any]:
    return {
        k: datetime.fromisoformat(v["$dt"]) if isinstance(v, dict) and "$dt" in v else v
        for k, v in meta.items()
    }


@dataclass
class JournalState:
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)  # url -> add entry
    done: set[str] = field(default_factory=set)

    @property
    def resuming(self) -> bool:
        return bool(self.pending or self.done)


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: TextIO | None = None

    def open(self) -> JournalState | None:
        """Lock and read the journal; None when another live crawl holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = self.path.open("a+", encoding="utf-8", buffering=1)  # line-buffered
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            return None
        fh.seek(0)
        state = JournalState()
        for line in fh:
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line cut short by a kill
            url = entry.get("url")
            if entry.get("op") == "add" and url not in state.done:
                state.pending[url] = entry
            elif entry.get("op") == "done":
                state.done.add(url)
                state.pending.pop(url, None)
        self._fh = fh
        return state

    def _write(self, entry: dict[str, Any]) -> None:
        if self._fh is not None:
            self._fh.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def add(self, request: Request) -> None:
        callback = getattr(request.callback, "__name__", None)
        self._write(
            {
                "op": "add",
                "url": request.url,
                "cb": callback,
                "prio": request.priority,
                "meta": _encode_meta(request.meta),
            }
        )

    def done(self, url: str) -> None:
        self._write({"op": "done", "url": url})

    def reset(self) -> None:
        if self._fh is not None:
            self._fh.truncate(0)

    def close(self, *, remove: bool) -> None:
        if self._fh is None:
            return
        if remove:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        self._fh.close()  # releases the lock
        self._fh = None


class ResumeJournalMiddleware:
    """Spider middleware keeping the journal; off with ``AKHBAR_RESUME=0`` and in dry runs."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.journal: Journal | None = None
        self.state = JournalState()
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> ResumeJournalMiddleware:
        settings = crawler.settings
        if not settings.getbool("AKHBAR_RESUME", True) or not settings.getbool(
            "AKHBAR_STORE", True
        ):
            raise NotConfigured
        mw = cls(crawler)
        crawler.signals.connect(mw.item_finished, signal=signals.item_scraped)
        crawler.signals.connect(mw.item_finished, signal=signals.item_dropped)
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    def _open(self, spider: Any) -> None:
        journal = Journal(journal_path(spider.name))
        state = journal.open()
        if state is None:
            spider.logger.warning(
                "another crawl of %s holds %s: this run will not be resumable",
                spider.name,
                journal.path,
            )
            return
        self.journal, self.state = journal, state
        if state.resuming:
            spider.logger.info(
                "resuming an interrupted crawl: %d requests pending, %d pages done",
                len(state.pending),
                len(state.done),
            )
            self.stats.set_value("akhbar/resumed_pending", len(state.pending))
            self.stats.set_value("akhbar/resumed_done", len(state.done))
        else:
            journal.reset()

    def _restore(self, spider: Any, entry: dict[str, Any]) -> Request | None:
        callback = getattr(spider, entry.get("cb") or "", None)
        if callback is None:
            return None
        meta = _decode_meta(entry.get("meta") or {})
        meta[URL_META] = entry["url"]
        return Request(
            entry["url"],
            callback=callback,
            errback=getattr(spider, "on_error", None),
            priority=entry.get("prio", 0),
            meta=meta,
        )

    def _track(self, request: Request) -> bool:
        """Journal a newly scheduled request; False if it was done in the interrupted run."""
        url = request.meta.get(URL_META, request.url)
        if url in self.state.done:
            self.stats.inc_value("akhbar/resume_skipped_done")
            return False
        request.meta.setdefault(URL_META, request.url)
        if self.journal is not None:
            self.journal.add(request)
        return True

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        spider = self.crawler.spider
        self._open(spider)
        pending = list(self.state.pending.values())
        for entry in pending:
            if (request := self._restore(spider, entry)) is not None:
                yield request
        async for item in start:
            if isinstance(item, Request):
                if item.url in self.state.pending:
                    continue  # already re-scheduled from the journal
                if not self._track(item):
                    continue
            yield item

    async def process_spider_output(
        self, response: Any, result: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        async for item in result:
            if isinstance(item, Request) and not self._track(item):
                continue
            yield item
        # Every request this page led to is journaled: a discovery page is done. Article
        # pages are done once their item has gone through the pipelines.
        if self.journal is not None and not _is_article(response):
            self.journal.done(response.meta.get(URL_META, response.url))

    def item_finished(self, item: Any, response: Any, spider: Any, **kwargs: Any) -> None:
        if self.journal is not None and response is not None:
            self.journal.done(response.meta.get(URL_META, response.url))

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.journal is None:
            return
        outcome = getattr(self.crawler, "akhbar_outcome", None) or decide_outcome(
            self.crawler.stats.get_stats(), reason, Thresholds.from_env()
        )
        # A failed run (pages fetched while the database was away, say) keeps its journal:
        # the pages it could not store are still pending there.
        clean = reason.startswith(CLEAN_REASONS) and outcome.status in DONE_OUTCOMES
        self.journal.close(remove=clean)
        if not clean:
            spider.logger.info(
                "crawl ended %s (%s): %s kept, the next run of %s resumes from it",
                outcome.status,
                reason,
                self.journal.path,
                spider.name,
            )


def _is_article(response: Any) -> bool:
    return bool(response.meta.get(ARTICLE_META))


__all__: Iterable[str] = ["Journal", "ResumeJournalMiddleware", "journal_path"]
