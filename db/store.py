"""Storage with dedup: one transaction decides and writes, so racing crawlers agree.

Order of checks: URL already known -> exact copy (normalised-text hash) -> near copy
(MinHash candidates from the persisted LSH index, under advisory locks) -> store.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from akhbar import dedup
from akhbar.page import ProcessedPage
from db import dedup_index
from db.models import Article, ArticleHtml, Duplicate


@dataclass(frozen=True, slots=True)
class StoreOutcome:
    kind: str  # 'stored', 'url', 'exact' or 'near'
    article_id: int | None  # the stored article, or the one this page duplicates
    similarity: float = 1.0


def _record_duplicate(
    session: Session,
    processed: ProcessedPage,
    *,
    source_id: int,
    run_id: int | None,
    duplicate_of: int,
    kind: str,
    similarity: float,
) -> None:
    article = processed.article
    session.execute(
        insert(Duplicate)
        .values(
            url=processed.page.url,
            source_id=source_id,
            duplicate_of=duplicate_of,
            kind=kind,
            similarity=similarity,
            title=article.title,
            published_at=article.published_at,
            crawl_run_id=run_id,
        )
        .on_conflict_do_nothing(index_elements=[Duplicate.url])
    )


def store_processed(
    session: Session, processed: ProcessedPage, *, source_id: int, run_id: int | None
) -> StoreOutcome:
    """Decide and write in the caller's transaction (commit afterwards)."""
    page, article = processed.page, processed.article
    assert processed.content_hash is not None and processed.signature is not None
    sig = dedup.signature_from_bytes(processed.signature)

    # Serialise with any other transaction storing a copy of this story.
    dedup_index.lock_bands(session, sig)

    existing = session.execute(
        select(Article.id).where(
            (Article.url == page.url) | (Article.canonical_url == article.canonical_url)
        )
    ).scalar()
    if existing is not None:  # reached again (another crawler, or a canonical alias)
        return StoreOutcome("url", existing)

    exact = session.execute(
        select(Article.id).where(Article.content_hash == processed.content_hash)
    ).scalar()
    if exact is not None:
        _record_duplicate(
            session,
            processed,
            source_id=source_id,
            run_id=run_id,
            duplicate_of=exact,
            kind="exact",
            similarity=1.0,
        )
        return StoreOutcome("exact", exact)

    decision = dedup.decide(sig, dedup_index.find_candidates(session, sig))
    if decision.duplicate_of is not None:
        kind = "exact" if decision.similarity >= 1.0 else "near"
        _record_duplicate(
            session,
            processed,
            source_id=source_id,
            run_id=run_id,
            duplicate_of=int(decision.duplicate_of),
            kind=kind,
            similarity=decision.similarity,
        )
        return StoreOutcome(kind, int(decision.duplicate_of), decision.similarity)

    row = Article(
        source_id=source_id,
        url=page.url,
        canonical_url=article.canonical_url,
        title=article.title,
        body=article.text,
        published_at=article.published_at,
        author=article.author,
        section=article.section,
        language=article.language,
        word_count=len(article.text.split()),
        content_hash=processed.content_hash,
        minhash=processed.signature,
        fetched_at=page.fetched_at or datetime.now(UTC),
        crawl_run_id=run_id,
        extractor_version=processed.extractor_version,
    )
    session.add(row)
    session.flush()
    session.add(
        ArticleHtml(
            article_id=row.id,
            html_zlib=zlib.compress(page.body, 6),
            headers=page.headers,
            status=page.status,
        )
    )
    dedup_index.add_bands(session, row.id, sig)
    return StoreOutcome("stored", row.id, decision.similarity)
