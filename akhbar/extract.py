"""Provisional extraction (trafilatura only); the full version lands from wt-extract."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import trafilatura
from w3lib.encoding import html_to_unicode

from akhbar.article import Article

EXTRACTOR_VERSION = "0-provisional"


def extract(
    html: bytes | str,
    url: str,
    headers: Mapping[str, str] | None = None,
    *,
    timezone: str = "UTC",
    fetched_at: datetime | None = None,
) -> Article:
    if isinstance(html, bytes):
        ctype = (headers or {}).get("Content-Type") or (headers or {}).get("content-type")
        _, html = html_to_unicode(ctype, html)
    doc = trafilatura.bare_extraction(
        html, url=url, include_comments=False, deduplicate=False, with_metadata=True
    )
    if doc is None or not doc.text:
        return Article(url=url, canonical_url=url, is_article=False, reason="no body text")
    return Article(
        url=url,
        canonical_url=url,
        title=doc.title,
        paragraphs=[p for p in doc.text.split("\n") if p.strip()],
        author=doc.author,
        language=doc.language,
    )
