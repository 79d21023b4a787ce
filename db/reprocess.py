"""Re-run extraction over stored HTML, so an extractor improvement reaches old data.

For each stored article: decompress its HTML, run the same ``process_page`` the crawler
runs, update the row where the result changed, and re-check dedup with the new text.
An article that now turns out to copy another stored article becomes a duplicate of it
(the earlier-published one is kept, ties by first seen), and its own duplicates move with it.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session

from akhbar import dedup
from akhbar.page import FetchedPage
from akhbar.processing import process_page
from db import dedup_index
from db.engine import session_scope
from db.models import Article, ArticleHtml, Duplicate, Source

FIELDS = ("title", "body", "published_at", "author", "dateline", "section", "language")


@dataclass
class ReprocessReport:
    examined: int = 0
    updated: int = 0
    unchanged: int = 0
    new_duplicates: int = 0
    now_rejected: int = 0
    changed_fields: dict[str, int] = field(default_factory=dict)
    rejected_urls: list[str] = field(default_factory=list)


def _keep_first(a: Article, b: Article) -> tuple[Article, Article]:
    """(kept, duplicate): the earliest published wins, ties (or no dates) by first seen."""

    def key(row: Article) -> tuple:
        return (
            row.published_at is None,
            row.published_at or row.first_seen_at,
            row.first_seen_at,
            row.id,
        )

    return (a, b) if key(a) <= key(b) else (b, a)


def _merge_into(
    session: Session, kept: Article, dup: Article, kind: str, similarity: float
) -> None:
    session.execute(
        update(Duplicate).where(Duplicate.duplicate_of == dup.id).values(duplicate_of=kept.id)
    )
    session.add(
        Duplicate(
            url=dup.url,
            source_id=dup.source_id,
            duplicate_of=kept.id,
            kind=kind,
            similarity=similarity,
            title=dup.title,
            published_at=dup.published_at,
            crawl_run_id=dup.crawl_run_id,
        )
    )
    session.execute(delete(Article).where(Article.id == dup.id))


def reprocess_one(session: Session, article_id: int, report: ReprocessReport) -> None:
    row = session.get(Article, article_id, with_for_update=True)
    html = session.get(ArticleHtml, article_id)
    if row is None or html is None:
        return
    report.examined += 1
    source = session.get(Source, row.source_id)
    page = FetchedPage(
        source=source.name if source else "",
        url=row.url,
        body=zlib.decompress(html.html_zlib),
        headers=dict(html.headers or {}),
        status=html.status,
        fetched_at=row.fetched_at,
        timezone=source.timezone if source else "UTC",
        listed_published=row.published_at,
    )
    result = process_page(page)
    if result.rejected:
        # Not deleted automatically: a reviewer decides whether the filter or the page is wrong.
        report.now_rejected += 1
        report.rejected_urls.append(row.url)
        return
    new_values = {
        "title": result.article.title,
        "body": result.article.text,
        "published_at": result.article.published_at,
        "author": result.article.author,
        "dateline": result.article.dateline,
        "section": result.article.section,
        "language": result.article.language,
    }
    changed = [name for name in FIELDS if getattr(row, name) != new_values[name]]
    if not changed and row.extractor_version == result.extractor_version:
        report.unchanged += 1
        return

    sig = dedup.signature_from_bytes(result.signature)
    dedup_index.lock_bands(session, sig)
    other = session.scalar(
        select(Article).where(Article.content_hash == result.content_hash, Article.id != row.id)
    )
    kind, similarity = "exact", 1.0
    if other is None:
        candidates = [
            (cid, csig) for cid, csig in dedup_index.find_candidates(session, sig) if cid != row.id
        ]
        decision = dedup.decide(sig, candidates)
        if decision.duplicate_of is not None:
            other = session.get(Article, int(decision.duplicate_of))
            kind, similarity = (
                ("exact" if decision.similarity >= 1.0 else "near"),
                decision.similarity,
            )
    if other is not None:
        kept, dup = _keep_first(other, row)
        if kept is row:  # the stored copy goes; this one takes its text first
            for name, value in new_values.items():
                setattr(row, name, value)
            _merge_into(session, row, other, kind, similarity)
            session.flush()
            _rewrite_fingerprints(session, row, result.content_hash, result.signature, sig)
        else:
            _merge_into(session, kept, dup, kind, similarity)
        report.new_duplicates += 1
        report.updated += 1
        for name in changed:
            report.changed_fields[name] = report.changed_fields.get(name, 0) + 1
        return

    for name, value in new_values.items():
        setattr(row, name, value)
    row.word_count = len(result.article.text.split())
    row.extractor_version = result.extractor_version
    _rewrite_fingerprints(session, row, result.content_hash, result.signature, sig)
    report.updated += 1
    for name in changed:
        report.changed_fields[name] = report.changed_fields.get(name, 0) + 1


def _rewrite_fingerprints(
    session: Session, row: Article, content_hash: bytes, signature: bytes, sig
) -> None:  # noqa: ANN001
    row.content_hash = content_hash
    row.minhash = signature
    dedup_index.remove_bands(session, row.id)
    session.flush()
    dedup_index.add_bands(session, row.id, sig)


def reprocess(
    engine: Engine,
    *,
    source: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ReprocessReport:
    report = ReprocessReport()
    with session_scope(engine) as session:
        query = select(Article.id).order_by(Article.id)
        if source:
            query = query.join(Source).where(Source.name == source)
        ids = list(session.scalars(query))
    for done, article_id in enumerate(ids, 1):
        # One transaction per article: a failure loses nothing already done.
        with session_scope(engine) as session:
            reprocess_one(session, article_id, report)
        if progress:
            progress(done, len(ids))
    return report
