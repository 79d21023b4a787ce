"""``extract(html, url, headers) -> Article``: decoding, trafilatura, our cleanup, metadata.

The page is decoded (BOM, HTTP charset, <meta>, detection) and parsed once into an
``akhbar.parsed.ParsedPage``. The metadata readers (title, canonical URL, date, author,
section, language hints, link texts) and a source's site parser read it first; then scripts
and reader polls are stripped, layout tables unwrapped and trafilatura's cascade runs on the
same tree (fast favor_precision, full balanced cascade when that finds
under 50 words); then our cleanup (akhbar.cleanup) and links-only runs are removed.
``extract`` never raises: anything that goes wrong gives an Article with
``is_article=False`` and a ``reason``.

Benchmark (181 pages, mostly English): F1 0.960 for trafilatura alone, 0.977 here; see
bench/extraction_bench.py.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import trafilatura
from lxml import etree
from trafilatura.utils import load_html

from akhbar import metadata as meta
from akhbar.article import Article
from akhbar.cleanup import clean_paragraphs, drop_author_lines, drop_link_runs
from akhbar.encoding import decode_html, header
from akhbar.pagedates import published_date
from akhbar.parsed import ParsedPage, parse_html
from akhbar.siteparsers import SiteParser, apply_parser
from akhbar.vocabulary import ARABIC_SCRIPT, ARTICLE_TYPES, LISTING_TYPES

# Bump whenever the output for the same input changes; stored with every article.
EXTRACTOR_VERSION = "1.2.0"

# trafilatura logs every page it discards at WARNING; a crawler sees thousands.
logging.getLogger("trafilatura").setLevel(logging.ERROR)

_WORD = re.compile(r"\w+", re.UNICODE)
_LONG_PARAGRAPH_WORDS = 25
# trafilatura's own limit (MAX_FILE_SIZE); a bigger "page" is a dump, not an article.
MAX_DOCUMENT_SIZE = 20_000_000
_DEAD_TAGS = ("script", "style", "noscript", "template", "svg")
_ARABIC = re.compile(f"[{ARABIC_SCRIPT}]")


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def _not_article(url: str, reason: str, **kwargs: Any) -> Article:
    canonical = kwargs.pop("canonical_url", None) or url
    return Article(url=url, canonical_url=canonical, is_article=False, reason=reason, **kwargs)


def extract(
    html: bytes | str,
    url: str,
    headers: Mapping[str, str] | None = None,
    *,
    timezone: str = "UTC",
    fetched_at: datetime | None = None,
    site_parser: SiteParser | None = None,
) -> Article:
    """Extract one page into an Article. A source's ``site_parser`` then overrides the
    fields the generic path gets wrong (``akhbar.siteparsers``), on the same parsed page.
    Never raises on a bad page; a broken site parser's error is raised (a bug to fix)."""
    try:
        article, page = _extract(
            html,
            url,
            headers,
            timezone=timezone,
            fetched_at=fetched_at,
            keep_tree=site_parser is not None,
        )
    except Exception as exc:  # arbitrary bytes from the web: report, don't crash the crawl
        return _not_article(url, f"extraction error: {type(exc).__name__}: {exc}"[:300])
    if site_parser is not None and page is not None:
        article = apply_parser(site_parser, page, article)
    return article


_LAYOUT_HINTS = (
    ".//table | .//h1 | .//h2 | .//h3 | .//form | .//p[string-length(normalize-space()) > 150]"
)
_TABLE_TAGS = {"table", "tbody", "thead", "tfoot", "tr", "td", "th"}


def unwrap_layout_tables(tree: Any) -> int:
    """Turn layout tables (table-era sites put the whole page in one) into divs, so that
    trafilatura sees the article's paragraphs instead of one giant table cell. A table
    that holds a nested table, a headline, a form or a long paragraph is layout, not data.
    """
    count = 0
    for table in list(tree.iter("table")):
        if table.tag != "table" or not table.xpath(_LAYOUT_HINTS):
            continue
        for el in table.iter(*_TABLE_TAGS):
            # Nested data tables inside a layout table stay tables.
            owner = next(el.iterancestors("table"), None) if el.tag != "table" else el
            if owner is table:
                el.tag = "div"
        table.tag = "div"
        count += 1
    return count


_POLL_BOXES = (
    "//*[self::form or self::table or self::div or self::fieldset or self::section or self::aside"
    " or self::ul or self::ol][count(.//input[translate(@type,'RADIO','radio')='radio']) >= 2]"
)
# A poll box holds a question, a few options and buttons; more text than this is a page
# section that happens to contain a poll, and is left to the paragraph rules.
_POLL_MAX_WORDS = 80


def drop_polls(tree: Any) -> int:
    """Remove reader polls (two or more radio buttons with a short question and options),
    which table-era layouts print inside the article's cell. The outermost box that is still
    small goes, so the question and the vote button go with the options."""
    # Most pages have no radio buttons at all: one cheap scan spares the XPath below.
    radios = sum(1 for i in tree.iter("input") if (i.get("type") or "").lower() == "radio")
    if radios < 2:
        return 0
    removed: list[Any] = []
    for box in tree.xpath(_POLL_BOXES):
        if any(box is r or r in box.iterancestors() for r in removed):
            continue
        if _words(box.text_content()) > _POLL_MAX_WORDS or box.xpath(".//h1"):
            continue
        parent = box.getparent()
        if parent is None:
            continue
        # Keep the text that follows the box (its tail) in the document.
        if box.tail and box.tail.strip():
            prev = box.getprevious()
            if prev is not None:
                prev.tail = (prev.tail or "") + box.tail
            else:
                parent.text = (parent.text or "") + box.tail
        parent.remove(box)
        removed.append(box)
    return len(removed)


try:  # trafilatura's cascade without bare_extraction's defensive deep copy of our tree
    from trafilatura.core import trafilatura_sequence as _sequence
    from trafilatura.settings import Extractor as _Extractor
    from trafilatura.xml import xmltotxt as _xmltotxt
except ImportError:  # pragma: no cover - another trafilatura layout: use the public API
    _sequence = None


def _sequence_text(tree: Any, url: str | None, mode: dict[str, bool]) -> str:
    options = _Extractor(
        output_format="python",
        fast=mode.get("fast", False),
        precision=mode.get("favor_precision", False),
        comments=False,
        tables=True,
        dedup=False,  # its cache spans pages and empties articles in a crawler
        url=url,
    )
    try:
        postbody, temp_text, _comments, _temp_comments = _sequence(tree, options, url)
    except (TypeError, ValueError):  # what bare_extraction treats as "nothing extracted"
        return ""
    if len(temp_text) < options.min_output_size:
        return ""
    return _xmltotxt(postbody, False) or ""


def _sequence_works() -> bool:
    """The internal cascade is not a stable API: check once that it still behaves like
    bare_extraction on a small page; otherwise every call uses the public API."""
    if _sequence is None:
        return False
    page = "<html><body><article>" + "<p>" + "word " * 60 + "</p>" * 3 + "</article></body></html>"
    try:
        ours = _sequence_text(load_html(page), None, {"favor_precision": True})
    except Exception:
        return False
    doc = trafilatura.bare_extraction(load_html(page), favor_precision=True, include_comments=False)
    return bool(ours) and ours == (doc.text if doc is not None else None)


_SEQUENCE_OK: list[bool] = []


def _trafilatura_text(tree: Any, url: str | None, *, consume: bool = False, **mode: bool) -> str:
    """Main text from trafilatura. With ``consume=True`` the tree may be modified (it is
    our own parse, not needed afterwards), which saves the deep copy bare_extraction makes
    by running trafilatura's internal cascade directly (checked once against the public API)."""
    if consume:
        if not _SEQUENCE_OK:
            _SEQUENCE_OK.append(_sequence_works())
        if _SEQUENCE_OK[0]:
            return _sequence_text(tree, url, mode)
    doc = trafilatura.bare_extraction(
        tree,
        url=url,
        include_comments=False,
        deduplicate=False,  # its cache spans pages and empties articles in a crawler
        with_metadata=False,
        include_tables=True,
        **mode,
    )
    return (getattr(doc, "text", None) or "") if doc is not None else ""


# Below this many words the fast precision run probably lost the article and the full
# balanced cascade runs. Measured on the 181-page benchmark (F1 with our cleanup):
# 30 -> 0.971, 50 -> 0.977, 100 -> 0.976, 150 -> 0.974, 250 -> 0.974.
_PRECISION_MIN_WORDS = 50


def body_paragraphs(tree: Any, url: str | None, html_text: str | None = None) -> list[str]:
    """trafilatura's main text as paragraphs (one per output line).

    favor_precision in fast mode first (no readability/justext comparison: cheaper, and
    with the fallback below F1 0.977 vs 0.971 for the default cascade and 0.975 for
    favor_precision with its comparison). When it returns almost nothing the full
    balanced cascade, with its fallback extractors, takes over. With ``html_text`` the
    tree is consumed by the first run and re-parsed for the second.
    """
    text = _trafilatura_text(
        tree, url, consume=html_text is not None, favor_precision=True, fast=True
    )
    if _words(text) < _PRECISION_MIN_WORDS:
        if html_text is not None:
            tree = load_html(html_text)
            if tree is None:
                return [line.strip() for line in text.split("\n") if line.strip()]
            etree.strip_elements(tree, *_DEAD_TAGS, with_tail=False)
            drop_polls(tree)
            unwrap_layout_tables(tree)
        other = _trafilatura_text(tree, url, consume=html_text is not None)
        if _words(other) > _words(text):
            text = other
    return [line.strip() for line in text.split("\n") if line.strip()]


def _extract(
    html: bytes | str,
    url: str,
    headers: Mapping[str, str] | None,
    *,
    timezone: str,
    fetched_at: datetime | None,
    keep_tree: bool,
) -> tuple[Article, ParsedPage | None]:
    """The generic Article and the parsed page (None if the page did not parse); with
    ``keep_tree`` the page's tree stays intact for a site parser."""
    if html is None or len(html) == 0:
        return _not_article(url, "empty document"), None
    if len(html) > MAX_DOCUMENT_SIZE:
        return _not_article(url, f"document too large ({len(html)} bytes)"), None
    text, _encoding = decode_html(html, headers)
    if not text.strip() or "<" not in text:
        return _not_article(url, "not HTML"), None
    tree = parse_html(text)
    if tree is None:
        return _not_article(url, "unparseable HTML"), None
    page = ParsedPage(tree, url, text=text, headers=headers, timezone=timezone)

    sites = meta.site_names(page)
    title = meta.find_title(page, sites)
    canonical = meta.find_canonical(page)
    content_language = header(headers, "content-language")
    published = _published(page, timezone, fetched_at)
    section = meta.find_section(page, title)
    own_names = meta.site_names(page, handles=False)
    author, dateline = meta.find_byline(page, section, own_names)
    language_declared = meta.declared_language(page, content_language)
    # «المصدر:» / «الكاتب:» lines outside the extracted body; only Arabic pages have them.
    arabic_page = language_declared == "ar" or bool(title and _ARABIC.search(title))
    attribution = meta.attribution_in_page(page) if arabic_page else {}

    link_count = page.link_count
    anchor_texts = page.anchor_texts  # about 0.3 ms a page
    og_type = (page.meta.get("og:type") or "").strip().lower()

    # From here on trafilatura consumes the tree: everything above reads it first (a site
    # parser reads the page afterwards, so then trafilatura gets a copy).
    # Scripts and styles are dropped by every extractor in trafilatura's cascade anyway;
    # stripping them once here makes each of its tree copies and walks smaller.
    tree = page.take_tree(keep=keep_tree)
    etree.strip_elements(tree, *_DEAD_TAGS, with_tail=False)
    drop_polls(tree)
    unwrap_layout_tables(tree)
    raw = body_paragraphs(tree, url, text)
    cleaned = clean_paragraphs(
        raw,
        title,
        language=language_declared,
        site_names=tuple(sites),
    )
    # Links-only runs (related lists): measured +0.001 F1 on the benchmark.
    paragraphs = drop_link_runs(cleaned.paragraphs, anchor_texts)
    if not author:
        # «كتب: …» lines in the body, then anywhere on the page; never the section or site.
        for candidate in (meta.clean_author(cleaned.author), attribution.get("author")):
            if not meta.not_an_author(candidate, section, own_names):
                author = candidate
                break
    if author:
        # A byline printed as its own body line («رحاب علي» after the text) goes.
        paragraphs = drop_author_lines(paragraphs, author)
    language = meta.language_of(language_declared, "\n".join(paragraphs))

    article = Article(
        url=url,
        canonical_url=canonical,
        title=title,
        paragraphs=paragraphs,
        published_at=published,
        author=author,
        dateline=dateline,
        section=section,
        language=language,
        source_credit=cleaned.source_credit or attribution.get("source"),
    )
    reason = page_kind(og_type, page.jsonld_type_names, paragraphs, link_count)
    if reason:
        article.is_article = False
        article.reason = reason
    return article, page


def _published(page: ParsedPage, timezone: str, fetched_at: datetime | None) -> datetime | None:
    try:
        return published_date(page, tz=timezone, now=fetched_at, url=page.url)
    except Exception:  # a date bug must not lose the article
        return None


# ---- page kind -------------------------------------------------------------------------

_VIDEO_TYPES = {"video", "video.other", "video.movie", "video.episode", "video.tv_show"}


def page_kind(og_type: str, types: set[str], paragraphs: list[str], link_count: int) -> str | None:
    """Why this page is not an article (listing, tag, video-only, empty), or None.
    ``types``: the page's JSON-LD ``@type`` names (``ParsedPage.jsonld_type_names``)."""
    words = sum(_words(p) for p in paragraphs)
    longest = max((_words(p) for p in paragraphs), default=0)
    video = og_type in _VIDEO_TYPES or (
        "VideoObject" in types and not types & (ARTICLE_TYPES | {"WebPage"})
    )
    if video and words < 150:
        return "video page"
    if words == 0:
        return "no body text"
    listing_type = types & LISTING_TYPES and not types & ARTICLE_TYPES
    if listing_type and longest < 2 * _LONG_PARAGRAPH_WORDS:
        return "listing page"
    # Listing/tag pages: teasers are short; an article has running text. No paragraph of
    # 25+ words and under 150 words in all is not an article (a brief has one long paragraph).
    if longest < _LONG_PARAGRAPH_WORDS and words < 150:
        if link_count >= 10:
            return "listing page"
        # A short news brief: several full-sentence paragraphs, few links.
        if sum(1 for p in paragraphs if _words(p) >= 12) >= 3:
            return None
        return "too little text"
    return None
