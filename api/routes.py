"""The endpoints, as module-level functions on one router: a test can call any of them with a
connection (``list_articles(conn, source="alpha")``); ``create_app`` mounts the router."""

# No `from __future__ import annotations`: FastAPI reads the endpoint annotations at runtime.
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response
from sqlalchemy import Engine, text

from api.dependencies import (
    Conn,
    Cursor,
    Limit,
    Since,
    SourceName,
    Until,
    app_engine,
    bounds,
    known_source,
    page_or_400,
)
from api.schemas import ArticleDetail, ArticlePage, RunPage, RunStatus, SearchPage, SourceOut
from db import search as search_queries
from db import views
from db.views import MAX_BIGINT, Page

router = APIRouter()


@router.get("/health", tags=["meta"])
def health(conn: Conn) -> dict[str, Any]:
    revision, role = conn.execute(
        text("SELECT (SELECT version_num FROM alembic_version), current_user")
    ).one()
    return {"status": "ok", "schema_revision": revision, "role": role}


@router.get("/metrics", tags=["meta"], include_in_schema=False)
def metrics(engine: Annotated[Engine, Depends(app_engine)]) -> Response:
    """Prometheus metrics: crawl counters and per-source health (crawlers/exporter.py)."""
    from crawlers.exporter import metrics_text

    return Response(metrics_text(engine), media_type="text/plain; version=0.0.4")


@router.get("/articles", response_model=ArticlePage, tags=["articles"])
def list_articles(
    conn: Conn,
    source: SourceName = None,
    since: Since = None,
    until: Until = None,
    q: Annotated[str | None, Query(description="full-text filter (order stays by date)")] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page:
    lo, hi = bounds(since, until)
    known_source(conn, source)
    return page_or_400(
        views.list_articles,
        conn,
        source=source,
        since=lo,
        until=hi,
        q=q,
        limit=limit,
        cursor=cursor,
    )


@router.get("/articles/{article_id}", response_model=ArticleDetail, tags=["articles"])
def get_article(
    conn: Conn, article_id: Annotated[int, Path(ge=1, le=MAX_BIGINT)]
) -> dict[str, Any]:
    article = views.get_article(conn, article_id)
    if article is None:
        raise HTTPException(404, f"no article {article_id}")
    return article


@router.get("/search", response_model=SearchPage, tags=["articles"])
def search(
    conn: Conn,
    q: Annotated[str, Query(min_length=1, description='words; "phrase", -word, OR')],
    source: SourceName = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 10,
    cursor: Cursor = None,
) -> dict[str, Any]:
    lo, hi = bounds(since, until)
    known_source(conn, source)
    try:
        offset = views.cursor_int(views.decode_cursor(cursor), "o") if cursor else 0
    except ValueError:
        raise HTTPException(400, "invalid cursor") from None
    if offset > MAX_BIGINT - limit - 1:
        raise HTTPException(400, "invalid cursor")
    # One extra row tells whether another page exists.
    hits = search_queries.search(
        conn, q, source=source, since=lo, until=hi, limit=limit + 1, offset=offset
    )
    more = len(hits) > limit
    return {
        "items": [h.as_dict() for h in hits[:limit]],
        "next_cursor": views.encode_cursor({"o": offset + limit}) if more else None,
    }


@router.get("/sources", response_model=list[SourceOut], tags=["sources"])
def sources(conn: Conn) -> list[dict[str, Any]]:
    return views.list_sources(conn)


@router.get("/runs", response_model=RunPage, tags=["sources"])
def runs(
    conn: Conn,
    source: SourceName = None,
    status: Annotated[RunStatus | None, Query(description="only runs with this status")] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page:
    known_source(conn, source)
    return page_or_400(
        views.list_runs,
        conn,
        source=source,
        status=status.value if status else None,
        limit=limit,
        cursor=cursor,
    )
