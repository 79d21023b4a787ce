"""Re-run extraction over stored HTML, so an extractor improvement reaches old data.

For each stored article: decompress its HTML, run the same ``process_page`` the crawler
runs, update the row where the result changed, and re-check dedup with the new text.
When an article now turns out to copy another stored article, the two merge as in the crawl:
the row stored first keeps its id and represents the story, holding the earliest-published
copy (``dedup.should_replace``); the other copy is recorded in ``duplicates``.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session

from akhbar import dedup
from akhbar.page import FetchedPage
from akhbar.processing import process_page
from akhbar.sources import SourceRegistryError, get_source
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


# The columns that make up "the copy this row holds": what moves when a representative swaps.
CONTENT_COLUMNS = (
    "source_id",
    "url",
    "canonical_url",
    "title",
    "body",
    "published_at",
    "author",
    "dateline",
    "section",
    "language",
    "word_count",
    "content_hash",
    "minhash",
    "fetched_at",
    "crawl_run_id",
    "extractor_version",
)


def _content(row: Article) -> dict:
    return {name: getattr(row, name) for name in CONTENT_COLUMNS}


def _merge_stored(
    session: Session,
    row: Article,
    row_content: dict,
    other: Article,
    kind: str,
    similarity: float,
) -> None:
    """``row`` (re-extracted as ``row_content``) turned out to copy ``other``, another stored
    article: merge the two as the crawl would have.

    The row stored first keeps its id (the one downstream teams have held longest) and
    represents the story; it holds the earliest-published copy (``dedup.should_replace``, the
    crawl's rule), taking the other copy's content and HTML in place when that one is earlier.
    The copy not kept is recorded in ``duplicates``, and the other row's duplicates follow."""
    first, second = sorted((row, other), key=lambda r: (r.first_seen_at, r.id))
    contents = {row.id: row_content, other.id: _content(other)}
    takes_over = dedup.should_replace(
        contents[second.id]["published_at"], contents[first.id]["published_at"]
    )
    kept, dropped = (second, first) if takes_over else (first, second)
    kept_content, dropped_content = contents[kept.id], contents[dropped.id]
    kept_html = session.get(ArticleHtml, kept.id)
    html = (kept_html.html_zlib, kept_html.headers, kept_html.status) if kept_html else None

    session.execute(
        update(Duplicate).where(Duplicate.duplicate_of == second.id).values(duplicate_of=first.id)
    )
    session.execute(delete(Article).where(Article.id == second.id))
    session.flush()
    for name, value in kept_content.items():
        setattr(first, name, value)
    session.add(
        Duplicate(
            url=dropped_content["url"],
            source_id=dropped_content["source_id"],
            duplicate_of=first.id,
            kind=kind,
            similarity=similarity,
            title=dropped_content["title"],
            published_at=dropped_content["published_at"],
            crawl_run_id=dropped_content["crawl_run_id"],
        )
    )
    if html is not None and kept is second:
        session.merge(
            ArticleHtml(article_id=first.id, html_zlib=html[0], headers=html[1], status=html[2])
        )
    session.flush()
    sig = dedup.signature_from_bytes(first.minhash)
    dedup_index.remove_bands(session, first.id)
    session.flush()
    dedup_index.add_bands(session, first.id, sig)


@lru_cache(maxsize=256)
def _site_parser(source_name: str) -> str | None:
    """The registry's parser for a stored source (None when the registry no longer has it)."""
    try:
        return get_source(source_name).parser
    except SourceRegistryError:
        return None


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
        parser=_site_parser(source.name) if source else None,
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
    row_content = {
        **_content(row),
        **new_values,
        "word_count": len(result.article.text.split()),
        "extractor_version": result.extractor_version,
        "content_hash": result.content_hash,
        "minhash": result.signature,
    }

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
    report.updated += 1
    for name in changed:
        report.changed_fields[name] = report.changed_fields.get(name, 0) + 1
    if other is not None:
        _merge_stored(session, row, row_content, other, kind, similarity)
        report.new_duplicates += 1
        return

    for name, value in row_content.items():
        setattr(row, name, value)
    session.flush()
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
