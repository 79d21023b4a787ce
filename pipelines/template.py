"""Stage 1b: remove site template text that survives extraction.

A paragraph printed on many pages of one source (a disclaimer, a «تابعونا» line the rules
do not know) is learned per source over the crawl by ``akhbar.cleanup.TemplateFilter``
and removed; a real paragraph quoted by two articles stays (see its rules). Learning is
per crawl process, so the first pages of a crawl are filtered with less knowledge.
"""

from __future__ import annotations

import logging
from typing import Any

from akhbar.cleanup import TemplateFilter
from akhbar.page import ProcessedPage
from akhbar.processing import judge_and_fingerprint, template_keys

logger = logging.getLogger(__name__)


class KeyedTemplateFilter(TemplateFilter):
    """TemplateFilter given the paragraphs' fingerprints (``ProcessedPage.template_keys``,
    computed in the worker processes): the crawl process only counts them. Same decisions
    as ``learn`` + ``filter`` (tests/test_components.py compares them)."""

    def __init__(self) -> None:
        super().__init__()
        self._keys: dict[str, str | None] = {}

    def learn_keyed(self, source: str, page_id: str, keys: list[str | None]) -> None:
        self._pages[source].add(page_id)
        seen = self._seen[source]
        for key in keys:
            if key is not None:
                seen[key].add(page_id)

    def pages_with(self, source: str, paragraph: str) -> int:
        key = self._keys.get(paragraph)
        if key is None:
            return super().pages_with(source, paragraph)
        return len(self._seen[source].get(key, ()))

    def filter_keyed(self, source: str, paragraphs: list[str], keys: list[str | None]) -> list[str]:
        self._keys = dict(zip(paragraphs, keys, strict=True))
        try:
            return self.filter(source, paragraphs)
        finally:
            self._keys = {}


class TemplateTextPipeline:
    def __init__(self, crawler: Any) -> None:
        self.stats = crawler.stats
        self.filter = KeyedTemplateFilter()

    @classmethod
    def from_crawler(cls, crawler: Any) -> TemplateTextPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, ProcessedPage) or not item.article.is_article:
            return item
        source, article = item.page.source, item.article
        keys = item.template_keys
        if keys is None or len(keys) != len(article.paragraphs):
            keys = template_keys(article.paragraphs)
        self.filter.learn_keyed(source, item.page.url, keys)
        kept = self.filter.filter_keyed(source, article.paragraphs, keys)
        if len(kept) != len(article.paragraphs):
            removed = len(article.paragraphs) - len(kept)
            self.stats.inc_value("akhbar/template_paragraphs_removed", removed)
            logger.debug("%s: %d template paragraph(s) removed", item.page.url, removed)
            article.paragraphs = kept
            item.template_keys = None
            judge_and_fingerprint(item)
        return item
