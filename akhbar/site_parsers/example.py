"""An example site parser: a CMS that prints its byline and section only in data attributes.

Such a page shows the writer's name with JavaScript from ``data-writer`` and marks its section
on ``<body data-section>``, so the generic byline and section finders see nothing. The parser
overrides those two fields with XPath and leaves everything else to the generic path.
``tests/test_siteparsers.py`` crawls a page of this shape with and without it.
"""

from __future__ import annotations

from datetime import datetime

from akhbar.article import Article
from akhbar.parsed import ParsedPage
from akhbar.siteparsers import SiteParser


class DataAttributeByline(SiteParser):
    author_xpath = "//*[contains(@class, 'post-meta')]/@data-writer"
    section_xpath = "//body/@data-section"

    def published_at(self, page: ParsedPage, article: Article) -> datetime | None:
        """The date is in ``data-published`` as a Unix timestamp; keep the generic one if the
        attribute is missing or not a number."""
        from datetime import UTC

        for value in page.xpath("//*[contains(@class, 'post-meta')]/@data-published"):
            if value.isdigit():
                return datetime.fromtimestamp(int(value), tz=UTC)
        return None
