"""page -> extraction -> quality filter -> fingerprints: the CPU-heavy part of a crawl.

Runs in worker processes during a crawl (pipelines/extraction.py) and in-process when
re-processing stored HTML (``akhbar reprocess``): the same function either way.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from akhbar import dedup
from akhbar.extract import EXTRACTOR_VERSION, extract
from akhbar.page import FetchedPage, ProcessedPage
from akhbar.quality import rejection_reason
from akhbar.search import search_vector
from akhbar.siteparsers import apply_parser, load_parser


def judge_and_fingerprint(processed: ProcessedPage) -> ProcessedPage:
    """Quality verdict, then content hash, MinHash signature and full-text search vector of
    what will be stored (computed here, in the worker processes, not in the database)."""
    article = processed.article
    processed.rejected = rejection_reason(article)
    if processed.rejected is None:
        processed.content_hash = dedup.content_hash(article.text)
        processed.signature = dedup.signature_to_bytes(dedup.signature(article.text))
        processed.search_vector = search_vector(article.title, article.text)
    else:
        processed.content_hash = processed.signature = processed.search_vector = None
    return processed


def process_page(page: FetchedPage) -> ProcessedPage:
    article = extract(
        page.body,
        page.url,
        page.headers,
        timezone=page.timezone,
        fetched_at=page.fetched_at or datetime.now(UTC),
    )
    if page.parser:
        article = apply_parser(
            load_parser(page.parser), page.body, page.url, page.headers, page.timezone, article
        )
    if article.published_at is None and page.listed_published is not None:
        article.published_at = page.listed_published
    return judge_and_fingerprint(
        ProcessedPage(page=page, article=article, extractor_version=EXTRACTOR_VERSION)
    )


def process_page_remote(page: FetchedPage) -> ProcessedPage:
    """``process_page`` for a worker process: the result travels back without the page's
    body (the caller still holds the page it sent and puts it back), so the HTML crosses
    the process boundary once, not twice."""
    processed = process_page(page)
    processed.page = replace(page, body=b"")
    return processed
