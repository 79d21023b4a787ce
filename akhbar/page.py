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
    # Words of article.text (articles.word_count), counted once with the quality verdict.
    word_count: int | None = None
    # CPU seconds extract() took on this page, in the thread that ran it (a worker's or the
    # crawl's): the crawl sums them into the stat ``akhbar/extraction_cpu_seconds``.
    extraction_cpu_s: float = 0.0


# article_html.html_zlib: a zlib stream from the standard library at level 1. Per crawled page
# the CPU counts more than the stored bytes: on the 181 real pages of bench/data (median 115
# KB) level 1 takes about 1.4 ms a page at 4.3x. ISA-L (python-isal) writes the same stream in
# a quarter of that time, and was used for an evening, but on this machine's Xeon it slowed the
# extract() that ran next in the same worker by 1.0-1.4 ms a page (6-8%), more than it saved
# (most likely the core's clock slowing after ISA-L's AVX-512 code); the standard library's
# zlib does not (bench/compression_cost.py).
HTML_ZLIB_LEVEL = 1


def compress_html(body: bytes) -> bytes:
    """``article_html.html_zlib``: ``body`` as a zlib stream (level HTML_ZLIB_LEVEL)."""
    return zlib.compress(body, HTML_ZLIB_LEVEL)
