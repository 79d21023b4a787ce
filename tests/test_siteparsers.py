"""Site parsers: a registry source can name a class that overrides fields the generic
extractor gets wrong; every other source keeps the generic path."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from akhbar.extract import extract
from akhbar.page import FetchedPage
from akhbar.processing import process_page
from akhbar.samples import SampleSites
from akhbar.siteparsers import SiteParser, SiteParserError, load_parser
from akhbar.sources import SourceRegistryError, load_sources
from tests.crawl_helpers import crawl_env, make_site, query, run_crawl

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "tests" / "data" / "site_parsers" / "data_attributes.html"
EXAMPLE = "akhbar.site_parsers.example:DataAttributeByline"


def _fetched(parser: str | None) -> FetchedPage:
    return FetchedPage(
        source="example",
        url="http://127.0.0.62/news/1.html",
        body=PAGE.read_bytes(),
        headers={"Content-Type": "text/html; charset=utf-8"},
        timezone="Asia/Beirut",
        parser=parser,
    )


def test_generic_extraction_misses_what_the_page_hides_in_attributes() -> None:
    article = extract(PAGE.read_bytes(), "http://127.0.0.62/news/1.html")
    assert article.is_article and len(article.paragraphs) == 4
    assert article.author is None and article.published_at is None


def test_parser_overrides_only_its_fields() -> None:
    generic = process_page(_fetched(None))
    parsed = process_page(_fetched(EXAMPLE))
    assert parsed.article.author == "سمير الأحمد"
    assert parsed.article.section == "اقتصاد"
    assert parsed.article.published_at == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    # Everything else is the generic result, fingerprints included.
    assert parsed.article.title == generic.article.title
    assert parsed.article.paragraphs == generic.article.paragraphs
    assert parsed.content_hash == generic.content_hash


def test_a_method_override_may_decline() -> None:
    class NoDate(SiteParser):
        def published_at(self, page, article):  # noqa: ANN001, ANN202
            return None

    page = _fetched(None)
    from akhbar.parsed import ParsedPage
    from akhbar.siteparsers import apply_parser

    article = extract(page.body, page.url, page.headers)
    parsed = ParsedPage.parse(page.body, page.url, page.headers)
    assert apply_parser(NoDate(), parsed, article) is article
    # Given to extraction, it leaves the generic result as it is.
    assert extract(page.body, page.url, page.headers, site_parser=NoDate()) == article


def _registry(tmp_path: Path, parser: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(
        f"""[[sources]]
name = "example"
title = "مثال"
base_url = "http://127.0.0.62"
domains = ["127.0.0.62"]
timezone = "Asia/Beirut"
sitemaps = ["{{base}}/sitemap.xml"]
article_url_patterns = ['/news/']
parser = "{parser}"
""",
        encoding="utf-8",
    )
    return path


def test_registry_names_a_parser_and_refuses_a_wrong_one(tmp_path: Path) -> None:
    assert load_sources(_registry(tmp_path, EXAMPLE))["example"].parser == EXAMPLE
    for bad, reason in [
        ("akhbar.site_parsers.example", "is not of the form"),
        ("akhbar.site_parsers.nosuch:X", "cannot import"),
        ("akhbar.site_parsers.example:datetime", "is not a SiteParser class"),
    ]:
        with pytest.raises(SourceRegistryError, match=reason):
            load_sources(_registry(tmp_path, bad))
    with pytest.raises(SiteParserError):
        load_parser("nosuch:Parser")


def test_a_crawl_applies_the_sources_parser(tmp_path: Path, subprocess_env: dict) -> None:
    """A real crawl: the spider hands the source's parser to the extraction workers."""
    root = make_site(tmp_path, name="example", host="127.0.0.62", articles=2)
    shutil.copy(PAGE, root / "sites" / "example" / "news" / "1.html")
    registry = root / "sources.toml"
    registry.write_text(
        registry.read_text(encoding="utf-8") + f'parser = "{EXAMPLE}"\n', encoding="utf-8"
    )
    with SampleSites(samples_dir=root) as sites:
        env = crawl_env(subprocess_env, sites, root)
        result = run_crawl(env, "example")
    assert result.returncode == 0, result.stderr[-2000:]
    rows = query(
        subprocess_env["DATABASE_URL"],
        "SELECT url, author, section FROM articles ORDER BY url",
    )
    by_path = {url.rsplit("/", 1)[1]: (author, section) for url, author, section in rows}
    assert by_path["1.html"] == ("سمير الأحمد", "اقتصاد")
    assert by_path["0.html"][0] != "سمير الأحمد"  # the other page keeps its own byline
