"""What a spider hands to the pipelines, and what processing makes of it."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import datetime

from akhbar.article import Article
from akhbar.dedup import Paragraphs


@dataclass(slots=True)
class FetchedPage:
    """A downloaded candidate article page. Plain data: picklable for worker processes."""

    source: str
    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200
    fetched_at: datetime | None = None
    timezone: str = "UTC"
    # Discovery hints (sitemap/feed publication date), used when the page states none.
    listed_published: datetime | None = None
    # The source's site parser ("package.module:ClassName", akhbar.siteparsers), if any.
    parser: str | None = None


@dataclass(slots=True)
class ProcessedPage:
    """A page after extraction, quality checks and fingerprinting."""

    page: FetchedPage
    article: Article
    rejected: str | None = None  # why it is not stored as an article (non-article, too short)
    content_hash: bytes | None = None
    signature: bytes | None = None  # MinHash signature bytes (akhbar.dedup.signature_to_bytes)
    # The text's paragraphs as recurring-text learning sees them (akhbar.dedup.paragraphs).
    paragraphs: Paragraphs | None = None
    # articles.search_vector as tsvector text (akhbar.search.search_vector); None: the DB computes it.
    search_vector: str | None = None
    extractor_version: str = ""
    # akhbar.cleanup.TemplateFilter fingerprints of article.paragraphs (None for a paragraph
    # it does not learn), computed with the extraction so the crawl process only counts them.
    template_keys: list[str | None] | None = None
    # The page's HTML as stored in article_html (compress_html), compressed with the
    # extraction in the worker processes rather than in Scrapy's one thread.
    html_zlib: bytes | None = None


# zlib level for article_html. Measured on the sample sites' pages and the crawl bench's
# generated pages (5-8 KB of Arabic HTML): level 1 stores 2.41-2.46x smaller pages in
# 0.13-0.16 ms, level 6 2.65-2.68x smaller (about 10 % fewer bytes) in 0.19-0.27 ms. Per
# crawled page the CPU counts more than the stored bytes. Rows written at any level read
# back alike (zlib.decompress does not depend on it).
HTML_ZLIB_LEVEL = 1


def compress_html(body: bytes) -> bytes:
    """``article_html.html_zlib`` (zlib at HTML_ZLIB_LEVEL)."""
    return zlib.compress(body, HTML_ZLIB_LEVEL)
