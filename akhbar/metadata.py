"""Page metadata: title, author, section, language, canonical URL.

Plain functions over one ``akhbar.parsed.ParsedPage``: the tree, JSON-LD and meta tags are
found once per page and shared with the page-date reader and site parsers.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin, urlsplit

from w3lib.url import canonicalize_url, url_query_cleaner

from akhbar.normalize import normalize_arabic
from akhbar.parsed import ParsedPage, jsonld_types, names_in, text_of
from akhbar.vocabulary import (
    ARABIC_SCRIPT,
    AUTHOR_LABELS,
    ENGLISH_MONTH_NAMES,
    SOURCE_LABELS,
    WEEKDAY_NAMES,
)

_WS = re.compile(r"\s+")
# Separators between a headline and the site name. A bare ":" only counts with a space
# after it, and only when the other side is the site name (titles use colons a lot).
_SEP = re.compile(r"\s+[|–—•·»«\-]\s+|\s*\|\s*|\s+::?\s+|:\s+")
_ARABIC = re.compile(f"[{ARABIC_SCRIPT}]")
_LATIN = re.compile("[A-Za-z\u00c0-\u024f]")


# ---- site name and title -------------------------------------------------------------


def site_names(page: ParsedPage, *, handles: bool = True) -> list[str]:
    """The site's names (og:site_name, JSON-LD publisher, host...). ``handles=False`` leaves
    out the twitter:site account, which is often a desk's ("TelegraphSport"), not the site's."""
    names = []
    keys = ("og:site_name", "application-name", "twitter:site", "apple-mobile-web-app-title")
    for key in keys if handles else tuple(k for k in keys if k != "twitter:site"):
        value = page.meta_value(key)
        if value:
            names.append(value.lstrip("@"))
    for obj in page.jsonld:
        if jsonld_types(obj) & {"Organization", "NewsMediaOrganization", "WebSite"}:
            names += names_in(obj.get("name"))
        names += names_in(obj.get("publisher"))
    host = urlsplit(page.url).hostname or ""
    host = re.sub(r"^(www\d?|m|ar|arabic|amp)\.", "", host)
    if host:
        names.append(host)
        names.append(host.split(".")[0])
    return [n for n in dict.fromkeys(n.strip() for n in names) if n]


def _norm(text: str) -> str:
    return normalize_arabic(text).replace(" ", "")


def _is_site(segment: str, sites: list[str]) -> bool:
    seg = _norm(segment)
    if not seg:
        return True
    for site in sites:
        s = _norm(site)
        if s and (
            seg == s or (len(seg) >= 3 and (seg in s or s in seg) and len(seg) <= 2 * len(s))
        ):
            return True
    return False


def _strip_site(title: str, sites: list[str]) -> str:
    """Drop leading/trailing segments that are the site name."""
    parts = _SEP.split(title)
    seps = _SEP.findall(title)
    if len(parts) < 2:
        return title
    start, end = 0, len(parts)
    while end - start > 1 and _is_site(parts[end - 1], sites):
        end -= 1
    while end - start > 1 and _is_site(parts[start], sites):
        start += 1
    if (start, end) == (0, len(parts)):
        # No site name recognised: a short last segment after a pipe is still a site name.
        if "|" in seps[-1] and len(parts[-1].split()) <= 4 and len(parts[0].split()) > 2:
            end -= 1
        else:
            return title
    out = parts[start]
    for i in range(start + 1, end):
        out += seps[i - 1] + parts[i]
    return out.strip()


def _dedouble(title: str) -> str:
    """A headline glued to itself ("AB" + "AB") -> "AB"."""
    t = title.strip()
    n = len(t)
    if n >= 8 and n % 2 == 0 and t[: n // 2] == t[n // 2 :]:
        return t[: n // 2].strip()
    half = t[: (n + 1) // 2].strip()
    if n >= 9 and _norm(t) == _norm(half) * 2:
        return half
    return t


def _h1s(page: ParsedPage) -> list[str]:
    out = []
    for h in page.h1s:
        t = text_of(h)
        if 2 <= len(t) <= 400:
            out.append(_dedouble(t))
    return out


def find_title(page: ParsedPage, sites: list[str] | None = None) -> str | None:
    sites = site_names(page) if sites is None else sites
    candidates = [_dedouble(c) for c in page.headline_candidates]
    h1s = _h1s(page)
    # An h1 that the meta titles contain is the headline without the site name.
    for h in h1s:
        nh = _norm(h)
        if len(nh) >= 6 and any(nh in _norm(c) for c in candidates):
            return h
    for c in candidates:
        stripped = _strip_site(c, sites)
        if stripped and not _is_site(stripped, sites):
            return stripped
    if h1s:
        return h1s[0]
    return candidates[0] if candidates else None


# ---- author --------------------------------------------------------------------------


def _labels(labels: tuple[str, ...]) -> str:
    # Longest first: «الكاتبة» before «الكاتب».
    return "|".join(sorted(labels, key=len, reverse=True))


_BYLINE_PREFIX = re.compile(rf"^\s*(?:{_labels(AUTHOR_LABELS)})\s*[:：\-–]?\s*", re.IGNORECASE)
# One traversal finds every byline candidate; they are then ranked by how explicit the
# markup is (rel=author, itemprop name, itemprop, author-name class, looser classes).
_AUTHOR_CANDIDATES = (
    "//*[@rel='author' or @itemprop='author' or @itemprop='name' or contains(@class,'author')"
    " or contains(@class,'byline') or contains(@class,'writer') or contains(@class,'reporter')"
    " or contains(@class,'kateb')]"
)
_SKIP_AUTHOR_TAGS = {"meta", "link", "script", "style", "body", "html"}


_AUTHOR_NAME_CLASS = re.compile(r"author[-_]*name")


def _author_rank(el: Any) -> int | None:
    if el.get("rel") == "author":
        return 0
    if el.get("itemprop") == "name":
        owner = next((a for a in el.iterancestors() if a.get("itemprop") == "author"), None)
        return 1 if owner is not None else None
    if el.get("itemprop") == "author":
        return 2
    cls = el.get("class") or ""
    if _AUTHOR_NAME_CLASS.search(cls):
        return 3
    return 4


# A trailing place in parentheses after a byline: «محمد عبدالسميع (أبوظبي)».
_PLACE_SUFFIX = re.compile(r"\s*[(\[][^()\[\]]{1,30}[)\]]\s*$")
# A source credit in the byline slot («المصدر: النهار العربي») names no author.
_SOURCE_PREFIX = re.compile(rf"^\s*(?:{_labels(SOURCE_LABELS)})\s*[:：]", re.IGNORECASE)
# A dateline: a place, a colon, then the reporter («القاهرة: محمد نبيل») or the paper's own
# name in quotes («لندن: «الشرق الأوسط»»). The place is one to three words, no digits.
_DATELINE = re.compile(r"^(?P<place>[^\W\d_][^\d:：«»\"“”]{0,30}?)\s*[:：]\s*(?P<rest>\S.*)$")
_ROLES = {
    normalize_arabic(w)
    for w in (
        "ترجمة", "تصوير", "حوار", "حاوره", "حاورته", "متابعة", "مراسل", "مراسلة", "تقرير",
        "إشراف", "تنسيق", "تحقيق", "رسم", "مراجعة", "تدقيق",
    )
}  # fmt: skip
# A publication's name in quotes: «الشرق الأوسط», "النهار".
# "Jeff FoustMonday, November 18, 2019": a date glued to the end of the name.
_TRAILING_DATE = re.compile(
    rf"\s*(?:(?:{'|'.join(d for d in WEEKDAY_NAMES if d.isascii())}),?\s*)?"
    rf"(?:{'|'.join(ENGLISH_MONTH_NAMES)})\s+\d{{1,2}},?\s+(?:19|20)\d\d\s*$",
    re.IGNORECASE,
)
_DATE_IN_NAME = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)|\d{1,2}:\d\d|\d+\s*min", re.IGNORECASE)
_QUOTED_NAME = re.compile(r"^[«\"“]\s*[^«»\"“”]{2,40}\s*[»\"”]\.?$")


def split_byline(text: str | None) -> tuple[str | None, str | None]:
    """A byline's (author, dateline). «لندن: «الشرق الأوسط»» -> (None, the whole line): a
    place plus the paper's name is a dateline; «اللاذقية: سامر الحلبي» -> (the reporter,
    «اللاذقية»); «بقلم: سامر الشغري» -> (the name, None)."""
    if not text:
        return None, None
    text = _WS.sub(" ", text).strip()
    if _SOURCE_PREFIX.match(text):
        return None, None
    text = _BYLINE_PREFIX.sub("", text).strip(" :-–—|،,")
    dateline = None
    m = _DATELINE.match(text)
    if m and _ARABIC.search(m["place"]) and len(m["place"].split()) <= 3:
        place, text = m["place"].strip(), m["rest"].strip(" :-–—|،,")
        # «ترجمة: …», «حوار: …» name a role, not a place.
        dateline = None if normalize_arabic(place) in _ROLES else place
    if _QUOTED_NAME.match(text):
        # The paper's (or agency's) own name, not a person's.
        return None, f"{dateline}: {text}" if dateline else None
    text = _PLACE_SUFFIX.sub("", text).strip(" :-–—|،,")
    if not text or text.startswith("http") or len(text) > 80 or len(text.split()) > 8:
        return None, dateline
    text = _TRAILING_DATE.sub("", text).strip(" :-–—|،,")
    if _DATE_IN_NAME.search(text):
        # A date, time or reading time run into the byline («20 Nov 2019 08:00 GMT»).
        return None, dateline
    return text, dateline


def clean_author(text: str | None) -> str | None:
    return split_byline(text)[0]


# Reader comments (WordPress "comment-author", table-era "comm_name", schema.org Comment):
# the first commenter's name is not the article's author.
_COMMENT_MARK = re.compile(
    r"(?<![a-z])(?:comm|comms|comments?|cmnt|coment\w*|replies|reply|respond|discussion|disqus)"
    r"(?![a-z])",
    re.IGNORECASE,
)


# Page-level wrappers ("post has-comments") hold the article's own byline too.
_PAGE_WRAPPERS = {"html", "body", "main", "article"}


def in_comments(el: Any) -> bool:
    for node in (el, *el.iterancestors()):
        if node.tag in _PAGE_WRAPPERS:
            continue
        if node.get("itemprop") == "comment" or "Comment" in (node.get("itemtype") or ""):
            return True
        marks = f"{node.get('class') or ''} {node.get('id') or ''}"
        if marks.strip() and _COMMENT_MARK.search(marks):
            return True
    return False


def _is_section_link(el: Any) -> bool:
    """The byline slot holds nothing but a link to a section («منوعات»)."""
    links = el.xpath(".//a[@href]") if el.tag != "a" else [el]
    if len(links) != 1 or text_of(links[0]) != text_of(el):
        return False
    return bool(_SECTION_HREF.search(links[0].get("href") or "") or "/tag/" in links[0].get("href"))


def _name_key(text: str) -> str:
    return re.sub(r"[\W_]+", "", normalize_arabic(text).lower())


def not_an_author(name: str | None, section: str | None, sites: list[str]) -> bool:
    """A "byline" that is the section label or exactly the site's own name («إرم نيوز»,
    "BBC News"), not a person or a desk ("Telegraph Sport" stays)."""
    if not name:
        return True
    key = _name_key(name)
    if not key or (section and key == _name_key(section)):
        return True
    return any(key == _name_key(site) for site in sites)


def find_byline(
    page: ParsedPage,
    section: str | None = None,
    sites: list[str] | None = None,
) -> tuple[str | None, str | None]:
    """(author, dateline) from JSON-LD, meta tags, then byline markup outside comments.
    The section label and the site's own name are not authors."""
    sites = sites or []
    dateline = None

    def accept(author: str | None) -> str | None:
        return None if not_an_author(author, section, sites) else author

    for obj in page.article_objects:
        names = [clean_author(n) for n in names_in(obj.get("author"))]
        names = [n for n in names if n and accept(n)]
        if names:
            return "، ".join(dict.fromkeys(names)), None
    value, dateline = split_byline(
        page.meta_value(
            "author", "article:author", "dc.creator", "parsely-author", "sailthru.author"
        )
    )
    if accept(value):
        return value, dateline
    ranked = []
    for i, el in enumerate(page.tree.xpath(_AUTHOR_CANDIDATES)):
        if el.tag in _SKIP_AUTHOR_TAGS:
            continue
        rank = _author_rank(el)
        if rank is not None:
            ranked.append((rank, i, el))
    for _rank, _i, el in sorted(ranked, key=lambda r: (r[0], r[1])):
        if in_comments(el) or _is_section_link(el):
            continue
        value, found = split_byline(text_of(el))
        dateline = dateline or found
        if accept(value):
            return value, dateline
        if value and any(_name_key(value) == _name_key(site) for site in sites):
            return None, dateline  # the byline slot names the site: no person's byline
    return None, dateline


# Elements whose own text holds one of these labels (they also cover «الكاتبة», «كتبت»). Only
# these few page-wide: «تحرير»/«إعداد» lines in a page's chrome name the site's staff.
_ATTRIB_WORDS = ("الكاتب", "المصدر", "بقلم", "كتب")  # a subset of AUTHOR_LABELS, SOURCE_LABELS
_ATTRIB_XPATH = (
    "//body//*[not(self::script or self::style)][text()["
    + " or ".join(f"contains(., '{w}')" for w in _ATTRIB_WORDS)
    + "]]"
)


def attribution_in_page(page: ParsedPage) -> dict[str, str]:
    """«المصدر: ... الكاتب: ...» lines anywhere in the page (short elements only)."""
    from akhbar.cleanup import parse_attribution

    out: dict[str, str] = {}
    if not any(w in page.text for w in _ATTRIB_WORDS):
        return out  # the page's text has none: skip the walk
    for el in page.tree.xpath(_ATTRIB_XPATH):
        text = text_of(el)
        if len(text) > 160:
            continue
        found = parse_attribution(text)
        if found:
            if "author" in found:
                found["author"] = clean_author(found["author"]) or ""
            for key, value in found.items():
                if value:
                    out.setdefault(key, value)
    return out


# ---- section -------------------------------------------------------------------------


def find_section(page: ParsedPage, title: str | None) -> str | None:
    for obj in page.article_objects:
        sec = obj.get("articleSection")
        names = (
            names_in(sec) if not isinstance(sec, list) else [s for s in sec if isinstance(s, str)]
        )
        if names and names[0].strip():
            return names[0].strip()
    value = page.meta_value("article:section", "section", "category")
    if value:
        return value
    ntitle = _norm(title or "")
    for obj in page.jsonld:
        if "BreadcrumbList" in jsonld_types(obj):
            items = obj.get("itemListElement") or []
            if not isinstance(items, list):
                continue
            items = sorted(
                (i for i in items if isinstance(i, dict)), key=lambda i: _int(i.get("position"))
            )
            names = [n for i in items for n in (names_in(i.get("item")) or names_in(i))]
            names = [n for n in names if _norm(n) and _norm(n) != ntitle]
            if len(names) >= 2:
                return names[-1].strip()
    for crumbs in page.tree.xpath(
        "//*[contains(@class,'breadcrumb') or contains(@id,'breadcrumb')][.//a]"
    ):
        links = [text_of(a) for a in crumbs.xpath(".//a")]
        links = [t for t in links if t and _norm(t) != ntitle]
        if len(links) >= 2:
            return links[-1]
    return _section_label(page)


# A section label next to the headline: class "section-name", "article__section", "cat",
# "category", "kicker"; or the one category link in the date line above the headline.
_SECTION_LABELS = (
    "//body//*[contains(@class,'section') or contains(@class,'categ') or contains(@class,'kicker')"
    " or contains(@class,'rubric') or contains(concat(' ',normalize-space(@class),' '),' cat ')]"
    "[not(ancestor-or-self::nav or ancestor::header or ancestor::footer)]"
)
_SECTION_HREF = re.compile(r"/(?:section|sections|category|categories|cat|qism)/", re.I)


def _section_label(page: ParsedPage) -> str | None:
    for el in page.tree.xpath(_SECTION_LABELS):
        if len(el.xpath(".//a")) > 1:
            continue  # a menu, not a label
        text = text_of(el).strip(" ●•|·-–—:")
        if text and len(text.split()) <= 4 and not any(c.isdigit() for c in text):
            return text
    if not page.h1s:
        return None
    h1 = page.h1s[0]
    # The container of the headline (or its previous sibling) with exactly one category link.
    near = [h1.getparent(), h1.getprevious()]
    for box in near:
        if box is None:
            continue
        links = [a for a in box.iter("a") if _SECTION_HREF.search(a.get("href") or "")]
        if len(links) == 1:
            text = text_of(links[0])
            if text and len(text.split()) <= 4:
                return text
    return None


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


# ---- language ------------------------------------------------------------------------


def _primary(tag: str | None) -> str | None:
    if not tag:
        return None
    tag = tag.strip().split(",")[0].strip().replace("_", "-").lower()
    primary = tag.split("-")[0]
    return primary if re.fullmatch(r"[a-z]{2,3}", primary) else None


def script_language(text: str) -> str | None:
    arabic = len(_ARABIC.findall(text))
    latin = len(_LATIN.findall(text))
    if arabic + latin < 20:
        return None
    if arabic > latin:
        return "ar"
    return None


def declared_language(page: ParsedPage, content_language: str | None = None) -> str | None:
    for value in page.html_lang:
        declared = _primary(value)
        if declared:
            return declared
    declared = _primary(content_language) or _primary(
        page.meta_value("content-language", "og:locale", "language")
    )
    if declared:
        return declared
    for el in page.meta_elements:
        if (el.get("http-equiv") or "").lower() == "content-language":
            return _primary(el.get("content"))
    return None


def language_of(declared: str | None, body_text: str) -> str | None:
    detected = script_language(body_text[:1500])
    if detected == "ar" and declared not in ("ar", "fa", "ur", "ps", "ku", "ckb"):
        return "ar"
    return declared or detected


# ---- canonical URL -------------------------------------------------------------------

_TRACKING = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|gclsrc|msclkid|yclid|mc_cid|mc_eid|igshid|_ga|_gl|"
    r"ocid|cmpid|ncid|__twitter_impression|at_medium|at_campaign|wt_mc|sr_share)$",
    re.IGNORECASE,
)


def _site(host: str | None) -> str:
    host = (host or "").lower().rstrip(".")
    parts = host.split(".")
    # Last two labels, or three for "co.uk"-style suffixes.
    if len(parts) >= 3 and len(parts[-2]) <= 3 and len(parts[-1]) == 2:
        return ".".join(parts[-3:])
    return ".".join(parts[-2:])


def canonicalize(url: str) -> str:
    try:
        parts = urlsplit(url)
        if parts.query:
            from urllib.parse import parse_qsl

            keys = [k for k, _ in parse_qsl(parts.query, keep_blank_values=True)]
            drop = [k for k in keys if _TRACKING.match(k)]
            if drop:
                url = url_query_cleaner(url, drop, remove=True, keep_fragments=True)
        return canonicalize_url(url, keep_fragments=False)
    except (ValueError, TypeError):
        return url


def find_canonical(page: ParsedPage) -> str:
    url = page.url
    base_site = _site(urlsplit(url).hostname) if url else ""
    candidates = list(page.canonical_links)
    og_url = page.meta.get("og:url")
    if og_url:
        candidates.append(og_url)
    for href in candidates:
        href = href.strip()
        if not href:
            continue
        try:
            absolute = urljoin(url, href)
            parts = urlsplit(absolute)
        except ValueError:
            continue
        if parts.scheme in ("http", "https") and (
            not base_site or _site(parts.hostname) == base_site
        ):
            return canonicalize(absolute)
    return canonicalize(url) if url else url
