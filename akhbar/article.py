"""The Article record that extraction produces and every later stage consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(slots=True)
class Article:
    """One page after extraction and cleanup.

    ``is_article`` is False for listing, tag and video-only pages: they are counted as
    non-articles and never stored as articles.
    """

    url: str
    canonical_url: str
    title: str | None = None
    paragraphs: list[str] = field(default_factory=list)
    published_at: datetime | None = None  # always timezone-aware when set
    author: str | None = None
    # A dateline printed in the byline slot: the place («اللاذقية») before a reporter's name,
    # or the place and the paper's own name («لندن: «الشرق الأوسط»»), which is not an author.
    dateline: str | None = None
    section: str | None = None
    language: str | None = None
    is_article: bool = True
    # Why a page is not an article, or other extraction notes (e.g. "no body text").
    reason: str | None = None
    # Attribution lines removed from the body and kept as metadata («المصدر:»).
    source_credit: str | None = None

    @property
    def text(self) -> str:
        """Body paragraphs joined by blank lines."""
        return "\n\n".join(self.paragraphs)
