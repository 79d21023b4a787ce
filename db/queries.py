"""Queries the crawler and the command line share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from db.models import Article, CrawlRun, Duplicate, Source


def known_urls(engine: Engine, urls: Sequence[str]) -> set[str]:
    """Which of ``urls`` are stored articles (by URL or canonical URL) or known duplicates."""
    if not urls:
        return set()
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT url FROM articles WHERE url = ANY(:u) "
                "UNION SELECT canonical_url FROM articles WHERE canonical_url = ANY(:u) "
                "UNION SELECT url FROM duplicates WHERE url = ANY(:u)"
            ),
            {"u": list(urls)},
        )
        return {row[0] for row in rows}


def upsert_source(session: Session, source: Any) -> int:
    """Insert or refresh a registry source; return its id."""
    values = {
        "name": source.name,
        "title": source.title or None,
        "domains": list(source.domains),
        "language": source.language,
        "timezone": source.timezone,
    }
    stmt = (
        insert(Source)
        .values(**values)
        .on_conflict_do_update(
            index_elements=[Source.name], set_={**values, "updated_at": func.now()}
        )
        .returning(Source.id)
    )
    return session.execute(stmt).scalar_one()


def start_run(session: Session, *, source_id: int, spider: str, trigger: str, **extra: Any) -> int:
    run = CrawlRun(source_id=source_id, spider=spider, trigger=trigger, status="running", **extra)
    session.add(run)
    session.flush()
    return run.id


def update_run(session: Session, run_id: int, **values: Any) -> None:
    run = session.get(CrawlRun, run_id)
    if run is None:
        return
    for key, value in values.items():
        setattr(run, key, value)


def finish_run(session: Session, run_id: int, status: str, **values: Any) -> None:
    update_run(session, run_id, status=status, finished_at=datetime.now(UTC), **values)


def runs_by_id(session: Session, run_ids: Sequence[int]) -> list[CrawlRun]:
    return list(
        session.scalars(select(CrawlRun).where(CrawlRun.id.in_(run_ids)).order_by(CrawlRun.id))
    )


def corpus_counts(session: Session) -> dict[str, int]:
    return {
        "articles": session.scalar(select(func.count()).select_from(Article)) or 0,
        "duplicates": session.scalar(select(func.count()).select_from(Duplicate)) or 0,
        "sources": session.scalar(select(func.count()).select_from(Source)) or 0,
    }


@dataclass(frozen=True)
class SourceOverview:
    """Per source name: stored articles, recorded duplicates, the latest run, and when the
    latest successful run finished (``akhbar sources list``)."""

    articles: dict[str, int]
    duplicates: dict[str, int]
    last_runs: dict[str, CrawlRun]
    last_success: dict[str, datetime]


def _count_by_source(session: Session, model: Any) -> dict[str, int]:
    return dict(
        session.execute(
            select(Source.name, func.count(model.id))
            .join(model, model.source_id == Source.id)
            .group_by(Source.name)
        ).all()
    )


def source_overview(session: Session) -> SourceOverview:
    latest = (
        select(CrawlRun.spider, func.max(CrawlRun.id).label("id"))
        .group_by(CrawlRun.spider)
        .subquery()
    )
    last_runs = {
        run.spider: run
        for run in session.scalars(select(CrawlRun).join(latest, CrawlRun.id == latest.c.id))
    }
    last_success = dict(
        session.execute(
            select(CrawlRun.spider, func.max(CrawlRun.finished_at))
            .where(CrawlRun.status == "finished")
            .group_by(CrawlRun.spider)
        ).all()
    )
    return SourceOverview(
        _count_by_source(session, Article), _count_by_source(session, Duplicate), last_runs,
        last_success,
    )  # fmt: skip
