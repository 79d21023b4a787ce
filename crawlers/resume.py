"""Resumable crawls: a per-source journal of the crawl frontier that survives SIGKILL,
kept in the database (table ``crawl_frontier``) so any machine can resume a crawl.

Why not Scrapy's JOBDIR: its disk queue writes its size header, the priority queue its
``active.json`` and the dupefilter flushes ``requests.seen`` only on a clean close, so after
SIGKILL the queue reads as empty, and it is a local directory.

A URL is ``pending`` when the spider schedules it and ``done`` when a discovery page
(sitemap, feed, listing) was fully parsed or an article page went through the pipelines
without being stored (a non-article, a page too short). A page that could not be stored
stays pending. A page stored as an article or recorded as a duplicate under the URL it was
scheduled with is not marked: its row in ``articles`` or ``duplicates`` says it is done
(committed with its batch, before the page counts as finished), and a resumed crawl asks the
database about its pending article requests (one query per ``KNOWN_URL_BATCH``) before
fetching any. So the journal writes one row per article page, not two, and nothing finished
is fetched again. (With ``AKHBAR_SKIP_KNOWN=0`` the database is not asked, and every page
that went through the pipelines is marked done.)

A run that ends ``finished``, ``degraded`` or ``empty`` deletes its rows; a run that finds
rows resumes: it re-schedules the pending requests and skips every URL already done.

A PostgreSQL advisory lock per source (held by a connection of the crawl) keeps two crawls
of one source from sharing it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from scrapy import Request, signals
from scrapy.exceptions import NotConfigured
from sqlalchemy import text

from akhbar.outcomes import Thresholds, decide_outcome
from crawlers.middlewares import (
    ARTICLE_META,
    CHECKED_META,
    KNOWN_URL_BATCH,
    drop_known,
    wants_check,
)
from db.engine import get_engine

logger = logging.getLogger(__name__)

URL_META = "akhbar_url"  # the URL as scheduled, kept through redirects
CLEAN_REASONS = ("finished", "closespider")
# Outcomes after which the journal is removed. Neither moves the incremental window except
# ``finished``: what a degraded or empty run missed is read again by the next run.
DONE_OUTCOMES = ("finished", "degraded", "empty")


# Not journaled: a resumed request's URL is checked again (it may have been stored since).
_NOT_KEPT = {URL_META, CHECKED_META}
# Store outcomes that leave the page's own URL in ``articles`` or ``duplicates`` (a known-URL
# outcome may have matched its canonical URL only).
_KNOWN_AFTER = frozenset({"stored", "replaced", "exact", "near"})


def _encode_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """The spider's own meta keys (``akhbar*``, ``listed_published``), JSON-safe."""
    out: dict[str, Any] = {}
    for key, value in meta.items():
        if not (key.startswith("akhbar") or key == "listed_published") or key in _NOT_KEPT:
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


# One statement per flush (rows as arrays), not one per URL: a flush holds every URL the
# crawl scheduled or finished in the last interval. The batch has one row per URL.
_UPSERT = text(
    """
    INSERT INTO crawl_frontier (source, url, state, callback, priority, meta, updated_at)
    SELECT :source, t.url, t.state, t.callback, t.priority, CAST(t.meta AS jsonb), now()
    FROM unnest(
        CAST(:urls AS text[]), CAST(:states AS text[]), CAST(:callbacks AS text[]),
        CAST(:priorities AS integer[]), CAST(:metas AS text[])
    ) AS t(url, state, callback, priority, meta)
    ON CONFLICT (source, url) DO UPDATE SET
        state = CASE WHEN crawl_frontier.state = 'done' THEN 'done' ELSE EXCLUDED.state END,
        callback = coalesce(EXCLUDED.callback, crawl_frontier.callback),
        priority = CASE WHEN EXCLUDED.callback IS NULL THEN crawl_frontier.priority
                        ELSE EXCLUDED.priority END,
        meta = coalesce(EXCLUDED.meta, crawl_frontier.meta),
        updated_at = now()
    """
)


def _upsert_params(source: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "source": source,
        "urls": [r["url"] for r in rows],
        "states": [r["state"] for r in rows],
        "callbacks": [r["callback"] for r in rows],
        "priorities": [r["priority"] for r in rows],
        "metas": [r["meta"] for r in rows],
    }


def _lock_key(source: str) -> int:
    return int.from_bytes(
        hashlib.sha256(f"akhbar-frontier:{source}".encode()).digest()[:8], "big", signed=True
    )


class Journal:
    """The frontier of one source in ``crawl_frontier``.

    Entries are buffered in order and written by a background thread every
    ``flush_interval`` seconds, one transaction per batch: a kill loses at most the last
    batch, and what is in the table is always a consistent prefix (a discovery page is
    never ``done`` before the requests it led to are there). While the database is away
    the buffer waits and is written when it returns. A session advisory lock keeps a
    second crawl of the source, on any machine, from using the same frontier.
    """

    def __init__(self, source: str, engine: Any = None, flush_interval: float = 0.25) -> None:
        self.source = source
        self.engine = engine or get_engine()
        self.flush_interval = flush_interval
        self._conn: Any = None
        self._buffer: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.flush_errors = 0

    def open(self) -> JournalState | None:
        """Lock and read the frontier; None when another live crawl holds it."""
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        if not conn.execute(
            text("SELECT pg_try_advisory_lock(:k)"), {"k": _lock_key(self.source)}
        ).scalar():
            conn.close()
            return None
        state = JournalState()
        for url, entry_state, callback, priority, meta in conn.execute(
            text(
                "SELECT url, state, callback, priority, meta FROM crawl_frontier WHERE source = :s"
            ),
            {"s": self.source},
        ):
            if entry_state == "done":
                state.done.add(url)
            elif callback is not None:
                state.pending[url] = {"url": url, "cb": callback, "prio": priority, "meta": meta}
        self._conn = conn
        self._thread = threading.Thread(
            target=self._run, name=f"frontier-{self.source}", daemon=True
        )
        self._thread.start()
        return state

    def _put(self, entry: dict[str, Any]) -> None:
        if self._conn is None:
            return
        with self._lock:
            self._buffer.append(entry)

    def add(self, request: Request) -> None:
        meta = _encode_meta(request.meta)
        self._put(
            {
                "source": self.source,
                "url": request.url,
                "state": "pending",
                "callback": getattr(request.callback, "__name__", None),
                "priority": request.priority,
                "meta": json.dumps(meta, ensure_ascii=False) if meta else None,
            }
        )

    def done(self, url: str) -> None:
        self._put(
            {
                "source": self.source,
                "url": url,
                "state": "done",
                "callback": None,
                "priority": 0,
                "meta": None,
            }
        )

    def _run(self) -> None:
        while not self._stop.wait(self.flush_interval):
            self.flush()

    def flush(self) -> bool:
        """Write the buffered entries in one transaction; False (kept for later) on error."""
        with self._lock:
            batch, self._buffer = self._buffer, []
        if not batch:
            return True
        # One row per URL: its last entry, but ``done`` wins (re-listed after it was done).
        rows: dict[str, dict[str, Any]] = {}
        for entry in batch:
            previous = rows.get(entry["url"])
            if previous is not None and previous["state"] == "done":
                continue
            if previous is not None and entry["callback"] is None:
                entry = {**previous, "state": entry["state"]}
            rows[entry["url"]] = entry
        try:
            with self.engine.begin() as conn:
                conn.execute(_UPSERT, _upsert_params(self.source, list(rows.values())))
        except Exception as exc:
            with self._lock:
                self._buffer[:0] = batch  # keep the order: retried at the next tick
            if not self.flush_errors:
                logger.warning(
                    "cannot write the resume frontier of %s (will retry): %s",
                    self.source,
                    str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                    extra={"source": self.source, "akhbar_event": "frontier_write_failed"},
                )
            self.flush_errors += 1
            return False
        return True

    def reset(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(text("DELETE FROM crawl_frontier WHERE source = :s"), {"s": self.source})

    def close(self, *, remove: bool) -> None:
        if self._conn is None:
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        try:
            if remove:
                with self._lock:
                    self._buffer.clear()
                self.reset()
            else:
                self.flush()
        except Exception as exc:  # the database is away: the rows stay as they were
            logger.warning(
                "cannot update the resume frontier of %s: %s", self.source, exc,
                extra={"source": self.source},
            )  # fmt: skip
        with contextlib.suppress(Exception):
            self._conn.close()  # releases the advisory lock
        self._conn = None

    @property
    def where(self) -> str:
        return f"crawl_frontier (source {self.source})"


class ResumeJournalMiddleware:
    """Spider middleware keeping the journal; off with ``AKHBAR_RESUME=0`` and in dry runs."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.journal: Journal | None = None
        self.state = JournalState()
        self.stats = crawler.stats
        # Stored pages need no mark only when a resumed crawl asks the database about them.
        self.known_checked = crawler.settings.getbool("AKHBAR_SKIP_KNOWN", True)

    @classmethod
    def from_crawler(cls, crawler: Any) -> ResumeJournalMiddleware:
        settings = crawler.settings
        if not settings.getbool("AKHBAR_RESUME", True) or not settings.getbool(
            "AKHBAR_STORE", True
        ):
            raise NotConfigured
        mw = cls(crawler)
        crawler.signals.connect(mw.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(mw.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    def _open(self, spider: Any) -> None:
        journal = Journal(spider.name)
        try:
            state = journal.open()
        except Exception as exc:  # the database is away: crawl, but not resumably
            spider.logger.warning(
                "cannot read the resume journal of %s: %s; this run will not be resumable",
                spider.name,
                str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
            )
            return
        if state is None:
            spider.logger.warning(
                "another crawl of %s holds %s: this run will not be resumable",
                spider.name,
                journal.where,
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

    async def _restored(self, spider: Any) -> AsyncIterator[Request]:
        """The pending requests, without the article pages stored meanwhile (asked in
        batches; those stored before the kill are pending too, see the module docstring)."""
        batch: list[Request] = []
        for entry in list(self.state.pending.values()):
            request = self._restore(spider, entry)
            if request is None:
                continue
            if not (self.known_checked and wants_check(request)):
                yield request
                continue
            batch.append(request)
            if len(batch) >= KNOWN_URL_BATCH:
                for kept in await drop_known(batch, self.stats):
                    yield kept
                batch = []
        if batch:
            for kept in await drop_known(batch, self.stats):
                yield kept

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        spider = self.crawler.spider
        self._open(spider)
        async for request in self._restored(spider):
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

    def item_scraped(self, item: Any, response: Any, spider: Any, **kwargs: Any) -> None:
        if self.journal is None or response is None:
            return
        url = response.meta.get(URL_META, response.url)
        if (
            self.known_checked
            and isinstance(item, dict)
            and item.get("outcome") in _KNOWN_AFTER
            and item.get("url") == url
        ):
            return  # in articles or duplicates now: a resumed crawl asks the database
        self.journal.done(url)

    def item_dropped(self, item: Any, response: Any, spider: Any, **kwargs: Any) -> None:
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
                self.journal.where,
                spider.name,
            )


def _is_article(response: Any) -> bool:
    return bool(response.meta.get(ARTICLE_META))


__all__: Iterable[str] = ["Journal", "ResumeJournalMiddleware"]
