"""One parsed page for every reader: metadata, page dates and site parsers read the tree,
JSON-LD and meta tags through ``akhbar.parsed.ParsedPage``; shared words live in
``akhbar.vocabulary``."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

from akhbar import metadata as meta
from akhbar.cleanup import clean_paragraphs
from akhbar.extract import extract
from akhbar.pagedates import detect_published
from akhbar.parsed import ParsedPage
from akhbar.siteparsers import SiteParser

ROOT = Path(__file__).resolve().parents[1]
BODY = "".join(
    f"<p>{'هذه فقرة طويلة من نص الخبر تشرح ما جرى في الاجتماع بالتفصيل. ' * 4} {i}</p>"
    for i in range(4)
)


def _page(head: str, body: str, url: str = "https://www.example-news.com/news/1") -> str:
    return f"<html lang='ar'><head>{head}</head><body>{body}</body></html>"


GRAPH = (
    '<script type="application/json+ld">{"@context":"https://schema.org","@graph":['
    '{"@type":"WebSite","name":"أخبار المثال"},'
    '{"@type":"ReviewNewsArticle","headline":"عنوان من البيانات المنظمة",'
    '"author":{"@type":"Person","name":"بقلم: ليلى حسن"},"articleSection":"ثقافة",'
    '"datePublished":"2024-03-05T10:15:00+02:00"}]}</script>'
)


def test_one_jsonld_graph_feeds_title_author_section_and_date() -> None:
    html = _page(GRAPH + "<title>أخبار المثال</title>", "<h1>عنوان آخر</h1>" + BODY)
    page = ParsedPage.parse(html, "https://www.example-news.com/news/1")
    assert page is not None
    assert [o["@type"] for o in page.article_objects] == ["ReviewNewsArticle"]
    assert "أخبار المثال" in meta.site_names(page)
    assert meta.find_byline(page) == ("ليلى حسن", None)
    assert meta.find_section(page, None) == "ثقافة"
    found = detect_published(page, tz="Asia/Beirut")
    assert found is not None and found.method == "jsonld"
    assert found.value == datetime(2024, 3, 5, 8, 15, tzinfo=UTC)
    article = extract(html.encode(), "https://www.example-news.com/news/1")
    assert (article.author, article.section) == ("ليلى حسن", "ثقافة")
    assert article.published_at == datetime(2024, 3, 5, 8, 15, tzinfo=UTC)


def test_broken_jsonld_still_gives_its_date() -> None:
    broken = (
        '<script type="application/ld+json">{"@type":"NewsArticle",'
        '"datePublished":"2024-03-05T10:15:00Z",}</script>'
    )
    page = ParsedPage.parse(_page(broken, "<h1>عنوان</h1>" + BODY))
    assert page is not None and page.jsonld == [] and len(page.jsonld_broken) == 1
    found = detect_published(page)
    assert found is not None and found.value == datetime(2024, 3, 5, 10, 15, tzinfo=UTC)


def test_meta_tags_head_first_and_every_tag_for_dates() -> None:
    html = _page(
        "<meta property='og:title' content='  عنوان   الخبر '><meta name='author' content=''>"
        "<meta name='Author' content='سامر'>",
        "<div itemscope><meta itemprop='datePublished' content='2023-01-02'></div>" + BODY,
    )
    page = ParsedPage.parse(html)
    assert page is not None
    assert page.meta_value("og:title") == "عنوان الخبر"
    assert page.meta["author"] == "سامر"  # the first non-empty one
    assert "datepublished" not in page.meta  # body microdata is not the page's own
    assert ("datepublished", "2023-01-02") in page.meta_items
    found = detect_published(page)
    assert found is not None and found.method == "meta"


def test_related_heading_ends_the_body_and_the_date_search() -> None:
    """«اخترنا لك» (akhbar.vocabulary.RELATED_HEADINGS): the dated teasers after it are
    neither the article's text nor its date."""
    related = "<h3>اخترنا لك</h3>" + "".join(
        f"<p><a href='/news/{i}'>عنوان قصة أخرى رقم {i}</a> 12 مارس 2021</p>" for i in range(3)
    )
    above = _page("<title>خبر</title>", "<h1>عنوان الخبر</h1>" + related + BODY)
    assert detect_published(above) is None
    body = [f"{'فقرة من نص الخبر تشرح ما جرى في الاجتماع. ' * 5}{i}" for i in range(3)]
    teasers = [f"عنوان قصة أخرى رقم {i} 12 مارس 2021" for i in range(3)]
    cleaned = clean_paragraphs([*body, "اخترنا لك", *teasers])
    assert cleaned.paragraphs == body


class ScriptData(SiteParser):
    """Reads a value from a <script> element, which trafilatura strips from its tree."""

    title_xpath = "//script[@id='page-data']"


def test_a_site_parser_reads_the_page_before_trafilatura_consumes_it() -> None:
    html = _page(
        "<title>عنوان الصفحة</title><script id='page-data'>العنوان الصحيح</script>",
        "<h1>عنوان الصفحة</h1>" + BODY,
    )
    generic = extract(html.encode(), "https://www.example-news.com/news/1")
    parsed = extract(html.encode(), "https://www.example-news.com/news/1", site_parser=ScriptData())
    assert generic.title == "عنوان الصفحة"
    assert parsed.title == "العنوان الصحيح"
    assert parsed.paragraphs == generic.paragraphs


def test_page_readers_do_not_parse_the_page_themselves() -> None:
    """Decoding, parsing, JSON-LD and meta tags are akhbar/parsed.py's: the readers use it."""
    for module in ("metadata", "pagedates", "siteparsers", "cleanup"):
        source = (ROOT / "akhbar" / f"{module}.py").read_text(encoding="utf-8")
        for own_parse in ("json.loads", "fromstring", "load_html", "decode_html", "ld+json"):
            assert own_parse not in source, f"akhbar/{module}.py: {own_parse}"
        assert 'iter("meta")' not in source and "//meta" not in source, module


def _string_literals(path: Path) -> list[str]:
    """String constants of a module, docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_shared_words_are_written_once() -> None:
    """Article types, month and weekday names and related-stories headings live in
    akhbar/vocabulary.py; the readers build their patterns from it."""
    words = ("NewsArticle", "BlogPosting", "يناير", "كانون", "حزيران", "january", "monday",
             "الأكثر قراءة", "ذات صلة", "اقرأ أيضا", "related stories")  # fmt: skip
    holders: dict[str, list[str]] = {}
    for path in sorted((ROOT / "akhbar").rglob("*.py")):
        literals = _string_literals(path)
        for word in words:
            if any(word in literal for literal in literals):
                holders.setdefault(word, []).append(path.name)
    assert holders == {word: ["vocabulary.py"] for word in words}
