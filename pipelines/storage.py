"""Stage 3: dedup and storage in one PostgreSQL transaction per page.

The decision and the write share one transaction (under advisory locks on the page's LSH
band keys), so two crawlers storing copies of one story at the same moment agree on which
is the article and which the duplicate. Database calls run in a thread, off the reactor.

A page that cannot be stored (the database is away) is counted (``akhbar/store_failed``):
the run ends ``failed``, keeps its resume journal with the page still pending and does not
move the incremental window, so the next run fetches it again (docs/operations.md).

What it hands on (to `scrapy crawl -O file.jsonl` and other feed exports) is a plain dict
of the article, JSON-serialisable.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from akhbar.page import ProcessedPage
from db.crawl_runs import run_context
from db.engine import get_engine, session_scope
from db.models import Duplicate
from db.store import StoreOutcome, store_processed

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
        self.enabled = crawler.settings.getbool("AKHBAR_STORE", True)

    @classmethod
    def from_crawler(cls, crawler: Any) -> DedupStoragePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        if self.enabled:
            run_context(self.crawler)

    def _store(self, item: ProcessedPage) -> StoreOutcome:
        context = run_context(self.crawler)
        for attempt in range(3):
            try:
                with session_scope(get_engine()) as session:
                    outcome = store_processed(
                        session, item, source_id=context.source_id, run_id=context.run_id
                    )
                    if outcome.kind in {"exact", "near"}:
                        # Two crawls racing on one copy both decide "duplicate", but only
                        # the first records the row (ON CONFLICT DO NOTHING): the other
                        # found a URL already known, and counts it so.
                        recorded_by = session.scalar(
                            select(Duplicate.crawl_run_id).where(Duplicate.url == item.page.url)
                        )
                        if recorded_by != context.run_id:
                            outcome = StoreOutcome("url", outcome.article_id, outcome.similarity)
                    return outcome
            except IntegrityError:
                # A racing writer committed the same URL or text between our checks and
                # our insert; retrying sees its row and records a duplicate instead.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

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
        try:
            outcome = await asyncio.to_thread(self._store, item)
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


def export_record(item: ProcessedPage, outcome: StoreOutcome | None) -> dict[str, Any]:
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
        "word_count": len(article.text.split()),
        "body": article.text,
        "fetched_at": page.fetched_at.isoformat() if page.fetched_at else None,
        "outcome": outcome.kind if outcome is not None else "dry_run",
        "article_id": outcome.article_id if outcome is not None else None,
    }
