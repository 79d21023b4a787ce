"""A page's own publication date, from its markup.

``published_date`` / ``detect_published`` pick it from a whole page: JSON-LD, then meta tags,
then ``<time>``, then dates printed near the headline (read with the grammar in
``akhbar.dates``), with the date in the URL as tie-breaker and fallback.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from lxml import etree

from akhbar.dates import (
    as_tzinfo,
    aware_now,
    find_dates,
    is_plausible,
    normalize_date_text,
    parse_date,
    url_date,
)
from akhbar.parsed import ParsedPage, jsonld_types
from akhbar.vocabulary import (
    ARTICLE_TYPES,
    MORE_FROM_HEADINGS,
    PAGE_TYPES,
    READ_ALSO_HEADINGS,
    RELATED_HEADINGS,
)

__all__ = ["PublishedDate", "detect_published", "published_date"]


@dataclass(frozen=True)
class PublishedDate:
    value: datetime
    method: str  # "jsonld" | "meta" | "time" | "text" | "url"
    has_time: bool


# --------------------------------------------------------------------------------------
# Public: pages
# --------------------------------------------------------------------------------------

# A video's own date is the date of a video page. Sites write types in any case.
_DATED_TYPES = {t.lower() for t in (*ARTICLE_TYPES, "VideoObject")}
_PAGE_TYPES = {t.lower() for t in PAGE_TYPES}
_META_KEYS = [
    "article:published_time",
    "og:published_time",
    "og:article:published_time",
    "article:published",
    "published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    "published-date",
    "parsely-pub-date",
    "sailthru.date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date.created",
    "dcterms.created",
    "dc.date",
    "date",
    "created",
    "article.published",
    "original-publish-date",
]
_META_RANK = {k: i for i, k in enumerate(_META_KEYS)}

# Blocks whose dates are never the article's own: the site's chrome and lists of other stories.
_EXCLUDED_TAGS = {"header", "footer", "nav", "aside", "menu", "form"}
_EXCLUDED_CLASS = re.compile(
    r"related|most[-_]?read|mostread|popular|read[-_]?more|readmore|read[-_]?also|also[-_]?read|"
    r"more[-_]?(?:news|stories|articles)|recommend|trending|sidebar|side[-_]bar|widget|footer|"
    r"(?<![\w-])(?:site|main|top|global|page)?[-_]?header(?:[-_](?:top|bar|main|wrap|wrapper|inner))?(?![\w-])|"
    r"top[-_]?bar|topbar|masthead|navbar|(?<![a-z])nav(?![a-z])|menu|breadcrumb|"
    r"comment|ticker|breaking|newsletter|taboola|outbrain|(?<![a-z])ads?(?![a-z])|advert|"
    r"latest|weather|prayer|currency",
    re.IGNORECASE,
)
# Headings after which the page lists other stories: stop reading there.
_STOP_HEADINGS = [
    normalize_date_text(s)
    for s in (*RELATED_HEADINGS, *MORE_FROM_HEADINGS, *READ_ALSO_HEADINGS, "تابعونا")
]
_STOP_RE = re.compile(
    r"^\s*(?:"
    + "|".join(re.escape(s) for s in sorted(set(_STOP_HEADINGS), key=len, reverse=True)).replace(
        r"\ ", r"\s+"
    )
    + r")(?![^\W\d_])",
    re.IGNORECASE,
)
_SKIP_TAGS = {"script", "style", "noscript", "template", "svg", "iframe", "select", "option"}
_TEXT_AFTER_H1 = 1200  # characters of page text after the headline searched for a date
_TEXT_BEFORE_H1 = 400


def published_date(
    html: ParsedPage | str | bytes | Any,
    *,
    tz: str | tzinfo = "UTC",
    now: datetime | None = None,
    url: str | None = None,
) -> datetime | None:
    """The article's own publication date from a whole page, or None. See ``detect_published``."""
    found = detect_published(html, tz=tz, now=now, url=url)
    return found.value if found else None


def detect_published(
    html: ParsedPage | str | bytes | Any,
    *,
    tz: str | tzinfo = "UTC",
    now: datetime | None = None,
    url: str | None = None,
) -> PublishedDate | None:
    """Like ``published_date`` but also says where the date came from. ``html`` is the
    parsed page (an lxml tree or HTML text is parsed first).

    Order: JSON-LD ``datePublished`` of an article type (also in ``@graph``), meta tags,
    ``<time datetime>`` near the headline, dates printed near the headline (not in the
    header/footer/nav/aside or in related-story blocks), then the date in the URL.
    """
    zone = as_tzinfo(tz)
    now_aware = aware_now(now, zone)
    page = _as_page(html)
    if page is None:
        return None
    if url is None:
        url = page.url or _page_url(page)
    udate = url_date(url)

    for method, finder in (("jsonld", _from_jsonld), ("meta", _from_meta)):
        value = finder(page, zone, now_aware)
        if value is not None:
            return PublishedDate(value, method, _has_time_value(value))

    h1 = _headline(page)
    h1_chain = set(h1.iterancestors()) | {h1} if h1 is not None else set()

    root = page.tree
    value = _from_time_elements(root, h1, h1_chain, zone, now_aware, udate)
    if value is not None:
        return PublishedDate(value[0], "time", value[1])

    text_hit = _from_text(root, h1, h1_chain, zone, now_aware, udate)
    if text_hit is not None:
        return PublishedDate(text_hit[0], "text", text_hit[1])

    if udate is not None:
        value = datetime(udate.year, udate.month, udate.day, tzinfo=zone)
        if is_plausible(value, now_aware):
            return PublishedDate(value, "url", False)
    return None


def _has_time_value(value: datetime) -> bool:
    return (value.hour, value.minute, value.second) != (0, 0, 0)


def _as_page(html: ParsedPage | str | bytes | Any) -> ParsedPage | None:
    try:
        return ParsedPage.of(html)
    except (etree.ParserError, ValueError):
        return None


def _page_url(page: ParsedPage) -> str | None:
    for href in page.canonical_links:
        return href
    return page.meta.get("og:url")


# ---- JSON-LD --------------------------------------------------------------------------

_JSONLD_DATE_RE = re.compile(r'"datePublished"\s*:\s*"([^"]{6,40})"')


def _from_jsonld(page: ParsedPage, tz: tzinfo, now: datetime | None) -> datetime | None:
    best: tuple[int, datetime] | None = None
    # Broken JSON is common (trailing commas, raw newlines): a regex reads those.
    for raw in page.jsonld_broken:
        for m in _JSONLD_DATE_RE.finditer(raw):
            value = parse_date(m.group(1), tz=tz, now=now)
            if value is not None and best is None:
                best = (5, value)
    for data in page.jsonld_documents:
        for rank, raw_date in _jsonld_dates(data):
            if best is not None and best[0] <= rank:
                continue
            value = parse_date(str(raw_date), tz=tz, now=now)
            if value is not None:
                best = (rank, value)
    return best[1] if best else None


def _jsonld_dates(data, depth: int = 0) -> Iterator[tuple[int, object]]:
    """(rank, datePublished) for article-like objects; lower rank is better."""
    if depth > 6:
        return
    if isinstance(data, list):
        for item in data:
            yield from _jsonld_dates(item, depth + 1)
        return
    if not isinstance(data, dict):
        return
    types = {t.lower() for t in jsonld_types(data)}
    published = data.get("datePublished") or data.get("dateCreated")
    if published:
        if types & _DATED_TYPES:
            yield 0, published
        elif types & _PAGE_TYPES:
            yield 3, published  # the page, usually the same date; worse than an article's
    # Not itemListElement / hasPart: those are other stories.
    for key in ("@graph", "mainEntity", "mainEntityOfPage"):
        sub = data.get(key)
        if isinstance(sub, (list, dict)):
            yield from _jsonld_dates(sub, depth + 1)


# ---- meta -----------------------------------------------------------------------------


def _from_meta(page: ParsedPage, tz: tzinfo, now: datetime | None) -> datetime | None:
    best: tuple[int, datetime] | None = None
    for key, content in page.meta_items:
        rank = _META_RANK.get(key)
        if rank is None or (best is not None and best[0] <= rank):
            continue
        value = parse_date(content, tz=tz, now=now)
        if value is not None:
            best = (rank, value)
    # itemprop=datePublished on any element (microdata)
    if best is None:
        for el in page.tree.xpath("//*[@itemprop='datePublished']"):
            content = el.get("content") or el.get("datetime") or el.text_content()
            value = parse_date((content or "").strip(), tz=tz, now=now)
            if value is not None:
                return value
    return best[1] if best else None


# ---- <time> and page text -------------------------------------------------------------


def _headline(page: ParsedPage) -> Any:
    """The article's h1 (not the logo's), else the element that repeats og:title."""
    best = None
    best_penalty = 99
    for h in page.h1s:
        if not h.text_content().strip():
            continue
        ancestors = list(h.iterancestors())
        tags = {a.tag for a in ancestors}
        penalty = 0
        if _is_logo(h):
            penalty += 4
        if tags & {"nav", "footer", "aside"}:
            penalty += 2
        if "header" in tags and not tags & {"article", "main"}:
            penalty += 1
        if penalty < best_penalty:
            best, best_penalty = h, penalty
    if best is not None:
        return best
    title = normalize_date_text(page.meta.get("og:title") or "").strip()
    if title:
        key = title[:40]
        for el in page.tree.iter("h2", "h3", "div", "p", "span"):
            txt = (el.text or "").strip()
            if txt and normalize_date_text(txt).startswith(key):
                return el
    return None


def _is_logo(h) -> bool:
    cls = (h.get("class") or "") + " " + (h.get("id") or "")
    return "logo" in cls.lower() or (h.find(".//img") is not None and len(h.text_content()) < 20)


def _excluded(el, h1_chain: set) -> bool:
    if el in h1_chain:
        return False
    if el.tag in _EXCLUDED_TAGS:
        return True
    cls = f"{el.get('class') or ''} {el.get('id') or ''} {el.get('role') or ''}"
    return bool(cls.strip()) and bool(_EXCLUDED_CLASS.search(cls))


def _in_excluded(el, h1_chain: set) -> bool:
    for a in [el, *el.iterancestors()]:
        if a.tag in ("body", "html"):
            return False
        if _excluded(a, h1_chain):
            return True
    return False


def _from_time_elements(root, h1, h1_chain, tz, now, udate) -> tuple[datetime, bool] | None:
    times = root.xpath("//time[@datetime or @pubdate]")
    if not times:
        return None
    order = {el: i for i, el in enumerate(root.iter())} if h1 is not None else {}
    h1_pos = order.get(h1, 0)
    scored: list[tuple[float, datetime, bool]] = []
    for el in times:
        if _in_excluded(el, h1_chain):
            continue
        raw = el.get("datetime") or el.text_content()
        value = parse_date((raw or "").strip(), tz=tz, now=now)
        if value is None:
            continue
        has_time = _has_time_value(value)
        score = 0.0
        if order:
            pos = order.get(el, 0)
            score = (pos - h1_pos) if pos >= h1_pos else 2 * (h1_pos - pos) + 50
        if el.get("pubdate") is not None or "publish" in (el.get("class") or "").lower():
            score -= 1000
        if "updat" in (el.get("class") or "").lower() or "modif" in (el.get("class") or ""):
            score += 500
        if not has_time:
            score += 20
        if udate is not None and value.date() == udate:
            score -= 100
        scored.append((score, value, has_time))
    if not scored:
        return None
    scored.sort(key=lambda s: s[0])
    return scored[0][1], scored[0][2]


_BLOCK_TAGS = {"br", "p", "div", "li", "h1", "h2", "h3", "h4", "tr", "td", "span", "time"}


def _text_chunks(root, h1, h1_chain: set) -> Iterator[tuple[str, bool, bool]]:
    """Document-order text: (chunk, excluded, is_h1_start_marker).

    Excluded blocks (site chrome, related stories) and scripts are skipped whole, which
    also keeps this cheap on pages with big menus; they leave one excluded "\n" behind.
    """
    body = root.find("body")
    if body is None:
        body = root
    walker = etree.iterwalk(body, events=("start", "end"))
    for event, el in walker:
        if not isinstance(el.tag, str):  # comments, processing instructions
            if event == "end" and el.tail:
                yield el.tail, False, False
            continue
        if event == "start":
            if el.tag in _SKIP_TAGS:
                walker.skip_subtree()
                continue
            if _excluded(el, h1_chain):
                walker.skip_subtree()
                yield "\n", True, False
                continue
            if el is h1:
                yield "", False, True
            if el.text:
                yield el.text, False, False
            if el.tag in _BLOCK_TAGS:
                yield "\n", False, False
        else:
            yield "\n", False, False
            if el.tail:
                yield el.tail, False, False


def _from_text(root, h1, h1_chain, tz, now, udate) -> tuple[datetime, bool] | None:
    before: list[str] = []  # text before the headline (not excluded), kept short
    after: list[str] = []
    seen_h1 = h1 is None  # without a headline, read from the top of the body
    after_len = 0
    for chunk, excluded, marker in _text_chunks(root, h1, h1_chain):
        if marker:
            seen_h1 = True
            continue
        if excluded:
            if not seen_h1:
                before.append("\n")  # chrome breaks the "just before the headline" block
            continue
        if not seen_h1:
            before.append(chunk)
            continue
        stripped = chunk.strip()
        if stripped and len(stripped) < 60 and _STOP_RE.match(normalize_date_text(stripped)):
            break
        after.append(chunk)
        after_len += len(chunk)
        if after_len > _TEXT_AFTER_H1:
            break

    candidates: list[tuple[float, datetime, bool]] = []
    after_text = "".join(after)
    for m in find_dates(after_text, tz=tz, now=now):
        candidates.append((m.start, m.value, m.has_time))
    before_text = "".join(before)[-_TEXT_BEFORE_H1:]
    if h1 is not None and before_text.strip():
        for m in find_dates(before_text, tz=tz, now=now):
            distance = len(before_text) - m.end
            penalty = 2 * distance + 100
            if now is not None and not m.has_time and m.value.date() == now.astimezone(tz).date():
                penalty += 300  # today's date above the headline: the site's render date
            candidates.append((penalty, m.value, m.has_time))
    if not candidates:
        return None
    ranked = []
    for pos, value, has_time in candidates:
        score = pos + (0 if has_time else 150)
        if udate is not None and value.date() == udate:
            score -= 1000
        ranked.append((score, value, has_time))
    ranked.sort(key=lambda r: r[0])
    return ranked[0][1], ranked[0][2]
