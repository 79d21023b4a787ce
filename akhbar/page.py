"""What a spider hands to the pipelines, and what processing makes of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from isal import isal_zlib

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
    # Words of article.text (articles.word_count), counted once with the quality verdict.
    word_count: int | None = None


# article_html.html_zlib is a zlib stream (any zlib reads it back). ISA-L (python-isal)
# writes that same format 3.5-5x faster than the standard library's zlib at level 1, and
# smaller: on the 181 real pages of bench/data (median 115 KB) 0.33 ms a page at 4.38x
# against 1.86 ms at 4.26x; on the sample-sized pages (5-8 KB) 0.04 ms at 2.46x against
# 0.15 ms at 2.42x. Level 2 is ISA-L's default and, of its levels 0-2, the smallest output
# at no more CPU. Per crawled page the CPU counts more than the stored bytes.
HTML_ZLIB_LEVEL = 2


def compress_html(body: bytes) -> bytes:
    """``article_html.html_zlib``: ``body`` as a zlib stream (ISA-L at HTML_ZLIB_LEVEL)."""
    return isal_zlib.compress(body, HTML_ZLIB_LEVEL)
