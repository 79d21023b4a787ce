"""Stage 1b: remove site template text that survives extraction.

A paragraph printed on many pages of one source (a disclaimer, a «تابعونا» line the rules
do not know) is learned per source over the crawl by ``akhbar.cleanup.TemplateFilter``
and removed; a real paragraph quoted by two articles stays (see its rules). Learning is
per crawl process, so the first pages of a crawl are filtered with less knowledge.
"""

from __future__ import annotations

import logging
from typing import Any

from akhbar.cleanup import TemplateFilter, template_fingerprints
from akhbar.page import ProcessedPage

logger = logging.getLogger(__name__)


class TemplateTextPipeline:
    def __init__(self, crawler: Any) -> None:
        self.stats = crawler.stats
        self.filter = TemplateFilter()

    @classmethod
    def from_crawler(cls, crawler: Any) -> TemplateTextPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, ProcessedPage) or not item.article.is_article:
            return item
        source, article = item.page.source, item.article
        keys = item.template_keys
        if keys is None or len(keys) != len(article.paragraphs):
            keys = template_fingerprints(article.paragraphs)
        self.filter.learn(source, item.page.url, article.paragraphs, keys)
        kept = self.filter.filter(source, article.paragraphs, keys)
        if len(kept) != len(article.paragraphs):
            removed = len(article.paragraphs) - len(kept)
            self.stats.inc_value("akhbar/template_paragraphs_removed", removed)
            logger.debug("%s: %d template paragraph(s) removed", item.page.url, removed)
            article.paragraphs = kept
            item.template_keys = None
            # Imported here: the rest of this stage runs without the extraction stack, which
            # with worker processes only they load.
            from akhbar.processing import judge_and_fingerprint

            judge_and_fingerprint(item)
        return item
