"""Storage with dedup: one transaction decides and writes, so racing crawlers agree.

Order of checks: URL already stored -> exact copy (normalised-text hash) -> near copy
(MinHash candidates from the persisted LSH index, on the text without recurring paragraphs,
under advisory locks; see ``db.dedup_index.store_with_dedup``) -> store.

Which copy is kept: the earliest published, ties (and unknown dates) by first seen. When a
copy arrives that was published before the stored one (a later-arriving earlier original),
the stored row takes the new page's content *in place* — the article id downstream teams
hold stays valid — and the previously stored page becomes the duplicate.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from akhbar import dedup
from akhbar.page import ProcessedPage
from db import dedup_index
from db.models import Article, ArticleHtml


@dataclass(frozen=True, slots=True)
class StoreOutcome:
    # 'stored', 'url' (already stored), 'exact' or 'near' (recorded as a duplicate), or
    # 'replaced' (this page is an earlier original: it now represents the story).
    kind: str
    article_id: int | None  # the stored article, or the one this page duplicates
    similarity: float = 1.0


def _article_values(processed: ProcessedPage, source_id: int, run_id: int | None) -> dict:
    page, article = processed.page, processed.article
    return {
        "source_id": source_id,
        "url": page.url,
        "canonical_url": article.canonical_url,
        "title": article.title,
        "body": article.text,
        "published_at": article.published_at,
        "author": article.author,
        "dateline": article.dateline,
        "section": article.section,
        "language": article.language,
        "word_count": len(article.text.split()),
        "fetched_at": page.fetched_at or datetime.now(UTC),
        "crawl_run_id": run_id,
        "extractor_version": processed.extractor_version,
        "content_hash": processed.content_hash,
        "search_vector": processed.search_vector,
    }


def _save_html(session: Session, article_id: int, processed: ProcessedPage) -> None:
    page = processed.page
    session.merge(
        ArticleHtml(
            article_id=article_id,
            html_zlib=zlib.compress(page.body, 6),
            headers=page.headers,
            status=page.status,
        )
    )


def store_processed(
    session: Session, processed: ProcessedPage, *, source_id: int, run_id: int | None
) -> StoreOutcome:
    """Decide and write in the caller's transaction (commit afterwards)."""
    assert processed.content_hash is not None and processed.signature is not None
    sig = dedup.signature_from_bytes(processed.signature)
    values = _article_values(processed, source_id, run_id)

    # Serialise with any other transaction storing a copy of this story (or counting one of
    # its paragraphs), then look.
    prepared = dedup_index.prepare(session, values["body"], sig)
    existing = session.execute(
        select(Article.id).where(
            (Article.url == values["url"]) | (Article.canonical_url == values["canonical_url"])
        )
    ).scalar()
    if existing is not None:  # reached again (another crawler, or a canonical alias)
        return StoreOutcome("url", existing)

    result = dedup_index.store_with_dedup(session, values, prepared=prepared)
    decision = result.decision
    if result.article_id is not None:
        _save_html(session, result.article_id, processed)
        return StoreOutcome("stored", result.article_id, decision.similarity)
    stored_id = int(decision.duplicate_of)
    if result.replace_stored:
        dedup_index.swap_representative(session, stored_id, values, sig=prepared.sig)
        _save_html(session, stored_id, processed)
        return StoreOutcome("replaced", stored_id, decision.similarity)
    return StoreOutcome(decision.kind or "near", stored_id, decision.similarity)
