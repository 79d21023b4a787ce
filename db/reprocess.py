"""Re-run extraction over stored HTML, so an extractor improvement reaches old data.

For each stored article: decompress its HTML, run the same ``process_page`` the crawler
runs and, where the result changed, decide the article again through the one writer
(``db.article_store.reprocess_article``: the crawl's rules, recurring text included,
against every other stored article). Unique, the row is updated in place (text, word count,
extractor version, fingerprints, bands, search vector). When it now turns out to copy
another stored article, the two merge: the row stored first keeps its id and represents the
story, holding the earliest-published copy (``dedup.should_replace``); the other copy is
recorded in ``duplicates``, pointing at it.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from akhbar.page import FetchedPage
from akhbar.processing import process_page
from akhbar.sources import SourceRegistryError, get_source
from db import dedup_index
from db.article_store import reprocess_article, row_from_processed
from db.engine import session_scope
from db.models import Article, ArticleHtml, Source

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


@lru_cache(maxsize=256)
def _site_parser(source_name: str) -> str | None:
    """The registry's parser for a stored source (None when the registry no longer has it)."""
    try:
        return get_source(source_name).parser
    except SourceRegistryError:
        return None


def reprocess_one(session: Session, article_id: int, report: ReprocessReport) -> None:
    # The index lock first, as every writer takes it (then row locks): a crawl storing a
    # copy of this article meanwhile waits rather than deadlocking with us.
    dedup_index.lock_index(session)
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
    report.updated += 1
    for name in changed:
        report.changed_fields[name] = report.changed_fields.get(name, 0) + 1
    # The stored row's identity (URLs, fetch time, run) with the re-extracted content.
    new_row = replace(
        row_from_processed(
            result, source_id=row.source_id, run_id=row.crawl_run_id, keep_html=False
        ),
        url=row.url,
        canonical_url=row.canonical_url,
        fetched_at=row.fetched_at,
    )
    outcome = reprocess_article(session, row.id, new_row)
    if outcome.kind != "stored":
        report.new_duplicates += 1


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
