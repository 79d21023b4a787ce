"""Stage 2: drop what is not worth storing (non-articles, too short), counting why."""

from __future__ import annotations

import logging
from typing import Any

from scrapy.exceptions import DropItem

from akhbar.page import ProcessedPage

logger = logging.getLogger(__name__)


class QualityFilterPipeline:
    def __init__(self, crawler: Any) -> None:
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> QualityFilterPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, ProcessedPage) and item.rejected:
            self.stats.inc_value("akhbar/non_articles")
            logger.info(
                "non-article %s: %s",
                item.page.url,
                item.rejected,
                extra={"source": item.page.source, "akhbar_event": "non_article"},
            )
            raise DropItem(f"{item.page.url}: {item.rejected}", log_level="DEBUG")
        return item
