"""page -> extraction -> quality filter -> fingerprints: the CPU-heavy part of a crawl.

Runs in worker processes during a crawl (pipelines/extraction.py) and in-process when
re-processing stored HTML (``akhbar reprocess``): the same function either way.
"""

from __future__ import annotations

import hashlib
import time
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime

from akhbar import dedup
from akhbar.cleanup import template_fingerprints
from akhbar.extract import EXTRACTOR_VERSION, extract
from akhbar.normalize import needs_nfkc, normalize_arabic
from akhbar.page import FetchedPage, ProcessedPage, compress_html
from akhbar.quality import rejection_reason, word_count
from akhbar.search import search_vector
from akhbar.siteparsers import load_parser

# MinHash over text that is already normalised: equal to dedup.signature(text).
_PRENORMALISED = replace(dedup.DEFAULT, normalize=False)


def normalised_text(
    text: str, normalised: list[str] | None, paragraphs: list[str] | None = None
) -> str:
    """normalize_arabic(text) for ``text`` = Article.text (``paragraphs`` joined by blank
    lines), from the paragraphs' normalised forms when given: its per-character steps and
    the whitespace join commute. NFKC, applied to the whole text when any part needs it,
    commutes too when every paragraph had it for its own form or is left as it is by it (NFKC
    works piecewise between line breaks, which never combine); otherwise it starts over."""
    if normalised is None:
        return normalize_arabic(text)
    if needs_nfkc(text) and (paragraphs is None or not _nfkc_piecewise(paragraphs)):
        return normalize_arabic(text)
    return " ".join(form for form in normalised if form)


def _nfkc_piecewise(paragraphs: list[str]) -> bool:
    return all(needs_nfkc(p) or unicodedata.is_normalized("NFKC", p) for p in paragraphs)


def judge_and_fingerprint(
    processed: ProcessedPage, normalised_paragraphs: list[str] | None = None
) -> ProcessedPage:
    """Quality verdict, then content hash, MinHash signature and full-text search vector of
    what will be stored (computed here, in the worker processes, not in the database).
    ``normalised_paragraphs``: normalize_arabic of each of the article's paragraphs, if
    already computed."""
    article = processed.article
    processed.word_count = word_count(article)
    processed.rejected = rejection_reason(article, words=processed.word_count)
    if processed.rejected is None:
        text = article.text
        forms = normalised_paragraphs
        if forms is None:
            forms = [normalize_arabic(p) for p in article.paragraphs]
        # Normalised once for all three (content_hash, signature and paragraphs each would).
        normalised = normalised_text(text, forms, article.paragraphs)
        lines = line_forms(article.paragraphs, forms)
        if normalised == " ".join(line for line in lines if line):
            # The text's words are its lines' words (the usual case): hashed once for both.
            sig, processed.paragraphs = dedup.signature_and_paragraphs_of_forms(lines)
        else:  # NFKC over the whole text changed a paragraph that did not need it alone
            sig = dedup.signature(normalised, _PRENORMALISED)
            processed.paragraphs = dedup.paragraphs_of_forms(lines)
        processed.content_hash = hashlib.sha256(normalised.encode("utf-8")).digest()
        processed.signature = dedup.signature_to_bytes(sig)
        processed.search_vector = search_vector(article.title, text, normalised)
    else:
        processed.content_hash = processed.signature = processed.search_vector = None
        processed.paragraphs = None
    return processed


def line_forms(paragraphs: list[str], normalised: list[str] | None) -> list[str]:
    """normalize_arabic of each line of Article.text (dedup.split_paragraphs), taken from
    the paragraphs' forms when each paragraph is one line (the usual case)."""
    if normalised is not None and all(len(p.splitlines()) <= 1 for p in paragraphs):
        return [form for p, form in zip(paragraphs, normalised, strict=True) if p.strip()]
    return [normalize_arabic(line) for line in dedup.split_paragraphs("\n\n".join(paragraphs))]


def process_page(page: FetchedPage) -> ProcessedPage:
    started = time.thread_time()
    article = extract(
        page.body,
        page.url,
        page.headers,
        timezone=page.timezone,
        fetched_at=page.fetched_at or datetime.now(UTC),
        site_parser=load_parser(page.parser) if page.parser else None,
    )
    extraction_cpu_s = time.thread_time() - started
    if article.published_at is None and page.listed_published is not None:
        article.published_at = page.listed_published
    processed = ProcessedPage(
        page=page,
        article=article,
        extractor_version=EXTRACTOR_VERSION,
        extraction_cpu_s=extraction_cpu_s,
    )
    normalised = None
    if article.is_article:
        normalised = [normalize_arabic(p) for p in article.paragraphs]
        processed.template_keys = template_fingerprints(article.paragraphs, normalised)
    return judge_and_fingerprint(processed, normalised)


def process_page_remote(page: FetchedPage) -> ProcessedPage:
    """``process_page`` for a worker process: the result travels back without the page's
    body (the caller still holds the page it sent and puts it back), so the HTML crosses
    the process boundary once, not twice, and with the HTML the store keeps already
    compressed."""
    processed = process_page(page)
    if processed.rejected is None:  # compressed here, for article_html, not in Scrapy's thread
        processed.html_zlib = compress_html(page.body)
    processed.page = replace(page, body=b"")
    return processed
