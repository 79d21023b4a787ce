"""The quality filter: what is not worth storing as an article, and why."""

from __future__ import annotations

import os

from akhbar.article import Article

MIN_WORDS = int(os.environ.get("AKHBAR_MIN_WORDS", "40"))


def rejection_reason(article: Article, *, min_words: int = MIN_WORDS) -> str | None:
    """None when the article is worth storing, else a short reason."""
    if not article.is_article:
        return f"not an article: {article.reason or 'no article body'}"
    words = len(article.text.split())
    if words < min_words:
        return f"too short: {words} words < {min_words}"
    if not article.title:
        return "no title"
    return None
