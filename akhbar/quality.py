"""The quality filter: what is not worth storing as an article, and why."""

from __future__ import annotations

from akhbar import settings
from akhbar.article import Article


def word_count(article: Article) -> int:
    """The words of the article's body (``articles.word_count``)."""
    return len(article.text.split())


def rejection_reason(
    article: Article, *, min_words: int | None = None, words: int | None = None
) -> str | None:
    """None when the article is worth storing, else a short reason. ``min_words`` defaults to
    AKHBAR_MIN_WORDS, read at call time; ``words``: ``word_count(article)``, if known."""
    if min_words is None:
        min_words = settings.value("AKHBAR_MIN_WORDS")
    if not article.is_article:
        return f"not an article: {article.reason or 'no article body'}"
    if words is None:
        words = word_count(article)
    if words < min_words:
        return f"too short: {words} words < {min_words}"
    if not article.title:
        return "no title"
    return None
