"""Stage 3: dedup and storage, a batch of pages per PostgreSQL transaction.

Processed pages wait in a batch until ``AKHBAR_STORE_BATCH_SIZE`` have arrived or
``AKHBAR_STORE_BATCH_SECONDS`` have passed (and at close); the batch is then decided and
written by ``db.article_store.store_articles`` in a thread, off the reactor, under the
exclusive index lock, so two crawlers storing copies of one story agree on which is the
article and which the duplicate. Each page's ``process_item`` returns only once its batch
has committed, so its outcome, its stats and its feed record are final; that commit is
also what marks a stored page done for a resumed crawl (crawlers/resume.py).

A page that cannot be stored is counted (``akhbar/store_failed``): when the database is
away, every page of its batch alike (when it refuses one page's content, the batch is
stored page by page and that page fails alone); the run ends ``failed``, keeps its resume
journal with the pages still pending and does not move the incremental window, so the next
run fetches them again (docs/operations.md).

What it hands on (to `scrapy crawl -O file.jsonl` and other feed exports) is a plain dict
of the article, JSON-serialisable.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import psycopg
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from akhbar.page import ProcessedPage
from akhbar.quality import word_count
from db.article_store import ArticleRow, StoreResult, row_from_processed, store_articles
from db.crawl_runs import run_context
from db.engine import get_engine, session_scope

logger = logging.getLogger(__name__)

STAT_BY_KIND = {
    "stored": "akhbar/articles_stored",
    "exact": "akhbar/exact_duplicates",
    "near": "akhbar/near_duplicates",
    "url": "akhbar/known_urls",
    # An earlier original replaced the stored copy, which became a near duplicate.
    "replaced": "akhbar/near_duplicates",
}


class DedupStoragePipeline:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        settings = crawler.settings
        self.enabled = settings.getbool("AKHBAR_STORE", True)
        self.batch_size = max(1, settings.getint("AKHBAR_STORE_BATCH_SIZE", 100))
        self.batch_seconds = settings.getfloat("AKHBAR_STORE_BATCH_SECONDS", 1.0)
        self._waiting: list[tuple[ProcessedPage, asyncio.Future[StoreResult]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._writes: set[asyncio.Task[None]] = set()
        self._writer: asyncio.Lock | None = None  # one batch written at a time

    @classmethod
    def from_crawler(cls, crawler: Any) -> DedupStoragePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        if self.enabled:
            run_context(self.crawler)

    async def close_spider(self) -> None:
        self._flush()
        while self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)

    def _store(self, items: list[ProcessedPage]) -> list[StoreResult | Exception]:
        context = run_context(self.crawler)
        rows = [
            row_from_processed(item, source_id=context.source_id, run_id=context.run_id)
            for item in items
        ]
        return store_pages(get_engine(), rows)

    def _flush(self) -> None:
        """Store the waiting pages as one batch (in a task; the pages await its outcome)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._waiting = self._waiting, []
        if batch:
            task = asyncio.ensure_future(self._write(batch))
            self._writes.add(task)
            task.add_done_callback(self._writes.discard)

    async def _write(self, batch: list[tuple[ProcessedPage, asyncio.Future[StoreResult]]]) -> None:
        if self._writer is None:
            self._writer = asyncio.Lock()
        async with self._writer:
            try:
                results = await asyncio.to_thread(self._store, [item for item, _ in batch])
            except Exception as exc:  # every page of the batch fails alike
                results = [exc] * len(batch)
        for (_, waiter), result in zip(batch, results, strict=True):
            if waiter.done():
                continue
            if isinstance(result, Exception):
                waiter.set_exception(result)
            else:
                waiter.set_result(result)

    def _log_context(self) -> dict[str, Any]:
        context = getattr(self.crawler, "akhbar_run", None)
        return {
            "source": self.crawler.spider.name,
            "run_id": context.run_id if context is not None else None,
        }

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, ProcessedPage):
            return item
        if not self.enabled:
            self.stats.inc_value("akhbar/dry_run_articles")
            logger.info("dry run, not stored: %s", item.page.url, extra=self._log_context())
            return export_record(item, None)
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[StoreResult] = loop.create_future()
        self._waiting.append((item, waiter))
        if len(self._waiting) >= self.batch_size:
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(self.batch_seconds, self._flush)
        try:
            outcome = await waiter
        except Exception as exc:
            self.stats.inc_value("akhbar/store_failed")
            logger.error(
                "could not store %s: %s",
                item.page.url,
                f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                extra={**self._log_context(), "akhbar_event": "store_failed"},
            )
            raise
        self.stats.inc_value(STAT_BY_KIND[outcome.kind])
        if outcome.kind == "replaced":
            self.stats.inc_value("akhbar/representatives_replaced")
        logger.info(
            "%s %s",
            outcome.kind if outcome.kind in {"stored", "replaced"} else f"{outcome.kind}-duplicate",
            item.page.url,
            extra={
                **self._log_context(),
                "akhbar_event": outcome.kind,
                "article_id": outcome.article_id,
                "similarity": round(outcome.similarity, 3),
            },
        )
        return export_record(item, outcome)


def store_pages(engine: Engine, rows: list[ArticleRow]) -> list[StoreResult | Exception]:
    """Store a batch in one transaction. If the database refuses it for a reason of its
    content (not a lost connection), store the pages one by one, so a page it cannot hold
    fails alone: its entry is the exception."""
    try:
        return _store_retrying(engine, rows)
    except (OperationalError, psycopg.OperationalError):
        raise  # the database is away: every page of the batch fails
    except (SQLAlchemyError, psycopg.Error):
        if len(rows) == 1:
            raise
    results: list[StoreResult | Exception] = []
    for row in rows:
        try:
            results += _store_retrying(engine, [row])
        except Exception as exc:
            results.append(exc)
    return results


def _store_retrying(engine: Engine, rows: list[ArticleRow]) -> list[StoreResult]:
    for attempt in range(3):
        try:
            with session_scope(engine) as session:
                return store_articles(session, rows)
        except IntegrityError:
            # A writer outside the index lock (manual SQL, say) committed the same URL or
            # text meanwhile; retrying sees its row.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def export_record(item: ProcessedPage, outcome: StoreResult | None) -> dict[str, Any]:
    """The article as plain JSON-serialisable values (what feed exports write)."""
    article, page = item.article, item.page
    return {
        "source": page.source,
        "url": page.url,
        "canonical_url": article.canonical_url,
        "title": article.title,
        "published_at": article.published_at.isoformat() if article.published_at else None,
        "author": article.author,
        "section": article.section,
        "language": article.language,
        "word_count": item.word_count if item.word_count is not None else word_count(article),
        "body": article.text,
        "fetched_at": page.fetched_at.isoformat() if page.fetched_at else None,
        "outcome": outcome.kind if outcome is not None else "dry_run",
        "article_id": outcome.article_id if outcome is not None else None,
    }
