"""Stage 3: dedup and storage in one PostgreSQL transaction per page.

The decision and the write share one transaction (under advisory locks on the page's LSH
band keys), so two crawlers storing copies of one story at the same moment agree on which
is the article and which the duplicate. Database calls run in a thread, off the reactor.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy.exc import IntegrityError

from akhbar.page import ProcessedPage
from crawlers.runs import run_context
from db.engine import get_engine, session_scope
from db.store import store_processed

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

    def _store(self, item: ProcessedPage) -> Any:
        context = run_context(self.crawler)
        for attempt in range(3):
            try:
                with session_scope(get_engine()) as session:
                    return store_processed(
                        session, item, source_id=context.source_id, run_id=context.run_id
                    )
            except IntegrityError:
                # A racing writer committed the same URL or text between our checks and
                # our insert; retrying sees its row and records a duplicate instead.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, ProcessedPage):
            return item
        if not self.enabled:
            self.stats.inc_value("akhbar/dry_run_articles")
            logger.info("dry run, not stored: %s", item.page.url)
            return item
        try:
            outcome = await asyncio.to_thread(self._store, item)
        except Exception:
            self.stats.inc_value("akhbar/errors")
            logger.exception("could not store %s", item.page.url)
            raise
        self.stats.inc_value(STAT_BY_KIND[outcome.kind])
        if outcome.kind == "replaced":
            self.stats.inc_value("akhbar/representatives_replaced")
        logger.info(
            "%s %s",
            outcome.kind if outcome.kind in {"stored", "replaced"} else f"{outcome.kind}-duplicate",
            item.page.url,
            extra={
                "akhbar_event": outcome.kind,
                "article_id": outcome.article_id,
                "similarity": round(outcome.similarity, 3),
            },
        )
        return item
