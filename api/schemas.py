"""The response models of the API (what /docs shows for each endpoint)."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel

from db.models import RUN_STATUSES
from db.search import SearchHit

RunStatus = StrEnum("RunStatus", {status: status for status in RUN_STATUSES})  # type: ignore[misc]


class ArticleSummary(BaseModel):
    id: int
    source: str
    url: str
    canonical_url: str
    title: str | None
    published_at: datetime | None
    author: str | None
    section: str | None
    language: str | None
    word_count: int
    fetched_at: datetime
    first_seen_at: datetime


class ArticlePage(BaseModel):
    items: list[ArticleSummary]
    next_cursor: str | None


class Copy(BaseModel):
    id: int
    url: str
    source: str
    kind: str
    similarity: float
    title: str | None
    published_at: datetime | None
    seen_at: datetime


class ArticleDetail(ArticleSummary):
    body: str
    duplicates: list[Copy]


class SearchPage(BaseModel):
    items: list[SearchHit]  # the search function's own result type (a dataclass)
    next_cursor: str | None


class SourceOut(BaseModel):
    id: int
    name: str
    title: str | None
    domains: list[str]
    language: str
    timezone: str
    created_at: datetime
    updated_at: datetime


class RunOut(BaseModel):
    id: int
    source: str
    spider: str
    trigger: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    pages_fetched: int
    articles_stored: int
    exact_duplicates: int
    near_duplicates: int
    non_articles: int
    errors: int
    hostname: str | None


class RunPage(BaseModel):
    items: list[RunOut]
    next_cursor: str | None
