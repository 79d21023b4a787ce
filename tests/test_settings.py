"""Every setting is declared once (akhbar/settings.py), the README's table is generated from
the declarations, and the code reads no AKHBAR_* variable that is not declared."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from akhbar import settings

REPO = Path(__file__).resolve().parents[1]
CODE = ("akhbar", "crawlers", "pipelines", "db", "api", "migrations")
NAME = re.compile(r"\bAKHBAR_[A-Z0-9_]*[A-Z0-9]\b")


def _names_in_code() -> dict[str, str]:
    found: dict[str, str] = {}
    files = [p for folder in CODE for p in (REPO / folder).rglob("*.py")]
    files.append(REPO / "scheduler.py")
    for path in files:
        for name in NAME.findall(path.read_text(encoding="utf-8")):
            found.setdefault(name, str(path.relative_to(REPO)))
    return found


def test_every_variable_the_code_names_is_declared() -> None:
    undeclared = {
        name: where for name, where in _names_in_code().items() if name not in settings.SETTINGS
    }
    assert undeclared == {}, "declare these in akhbar/settings.py"


def test_readme_table_is_the_generated_one() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert settings.markdown_table() in readme, (
        "README's configuration table is out of date: paste `python -m akhbar.settings`"
    )


def test_values_are_typed_and_read_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AKHBAR_MIN_WORDS", raising=False)
    assert settings.value("AKHBAR_MIN_WORDS") == 40
    monkeypatch.setenv("AKHBAR_MIN_WORDS", "12")
    assert settings.value("AKHBAR_MIN_WORDS") == 12
    monkeypatch.setenv("AKHBAR_AUTOTHROTTLE", "0")
    assert settings.value("AKHBAR_AUTOTHROTTLE") is False
    monkeypatch.setenv("AKHBAR_DOWNLOAD_DELAY", "soon")
    with pytest.raises(settings.SettingError, match="AKHBAR_DOWNLOAD_DELAY='soon' is not a number"):
        settings.value("AKHBAR_DOWNLOAD_DELAY")


def test_quality_filter_reads_min_words_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    from akhbar.article import Article
    from akhbar.quality import rejection_reason

    article = Article(url="http://x/1", canonical_url="http://x/1", title="عنوان")
    article.paragraphs = [" ".join(["كلمة"] * 20)]
    monkeypatch.setenv("AKHBAR_MIN_WORDS", "30")
    assert rejection_reason(article) == "too short: 20 words < 30"
    monkeypatch.setenv("AKHBAR_MIN_WORDS", "10")
    assert rejection_reason(article) is None


def test_scrapy_gets_documented_backoff_settings_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """AKHBAR_RETRY_BACKOFF_BASE was documented but only a Scrapy -s setting before."""
    monkeypatch.setenv("AKHBAR_RETRY_BACKOFF_BASE", "0.5")
    crawl = settings.scrapy_settings()
    assert crawl["AKHBAR_RETRY_BACKOFF_BASE"] == 0.5
    assert crawl["AKHBAR_SKIP_KNOWN"] is True
