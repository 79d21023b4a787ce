"""Stage 1: FetchedPage -> ProcessedPage (extraction, quality verdict, fingerprints)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from akhbar.page import FetchedPage, ProcessedPage
from pipelines.workers import acquire_pool, process_in_worker, release_pool

logger = logging.getLogger(__name__)

EXTRACTION_CPU_STAT = "akhbar/extraction_cpu_seconds"


class ExtractionPipeline:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.workers = crawler.settings.getint("AKHBAR_WORKERS", 2)
        self.pool = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> ExtractionPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.pool = acquire_pool(self.workers)

    def close_spider(self) -> None:
        if self.pool is not None:
            release_pool()
            self.pool = None

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, FetchedPage):
            return item
        if self.pool is None:
            # Inline (AKHBAR_WORKERS=0): only then does this process load the extraction stack.
            from akhbar.processing import process_page

            processed: ProcessedPage = process_page(item)
        else:
            processed = await asyncio.wrap_future(self.pool.submit(process_in_worker, item))
            processed.page = item
        # What extraction alone costs this crawl (bench/crawl_bench.py weighs the rest of
        # the pipeline against it), and a trend an operator can follow per source.
        self.crawler.stats.inc_value(EXTRACTION_CPU_STAT, processed.extraction_cpu_s)
        return processed
