"""One page, parsed once: what every page reader (metadata, page dates, site parsers) reads.

``ParsedPage`` holds the decoded text, the lxml tree and, computed on first use and then
shared, the JSON-LD objects, the meta tags, the headlines, the canonical links and the
declared language. The readers take a ``ParsedPage``; none of them decodes, parses or
walks the JSON-LD or the meta tags itself.

Extraction hands the tree to trafilatura at the end, which modifies it: everything that
reads the tree runs before (``ParsedPage.take_tree``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from copy import deepcopy
from functools import cached_property
from typing import Any

from lxml import etree
from trafilatura.utils import load_html

from akhbar.encoding import decode_html
from akhbar.vocabulary import ARTICLE_TYPES

__all__ = ["ParsedPage", "jsonld_types", "names_in", "parse_html", "text_of"]

_WS = re.compile(r"\s+")
_JSONLD_SCRIPTS = "//script[@type='application/ld+json' or @type='application/json+ld']"


def text_of(el: Any) -> str:
    """An element's text, whitespace folded."""
    try:
        return _WS.sub(" ", el.text_content()).strip()
    except (ValueError, AttributeError):
        return ""


def jsonld_types(obj: dict[str, Any]) -> set[str]:
    """A JSON-LD object's ``@type`` names."""
    t = obj.get("@type")
    if isinstance(t, str):
        return {t}
    if isinstance(t, list):
        return {x for x in t if isinstance(x, str)}
    return set()


def names_in(value: Any) -> list[str]:
    """The names a JSON-LD value gives: a string, an object's ``name``, or a list of them."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return names_in(value.get("name"))
    if isinstance(value, list):
        return [n for v in value for n in names_in(v)]
    return []


class ParsedPage:
    """A page's decoded text and tree, and what readers look up in them, each found once.

    ``timezone`` is the source's zone (page dates and site parsers read dates in it).
    """

    def __init__(
        self,
        tree: Any,
        url: str = "",
        *,
        text: str = "",
        headers: Mapping[str, str] | None = None,
        timezone: str = "UTC",
    ) -> None:
        self.tree = tree
        self.url = url
        self.text = text
        self.headers = dict(headers or {})
        self.timezone = timezone

    # ---- building ----------------------------------------------------------------------

    @classmethod
    def parse(
        cls,
        html: bytes | str,
        url: str = "",
        headers: Mapping[str, str] | None = None,
        *,
        timezone: str = "UTC",
    ) -> ParsedPage | None:
        """Decode (BOM, HTTP charset, <meta>, detection) and parse; None if it is no HTML."""
        text, _encoding = decode_html(html, headers)
        tree = parse_html(text)
        if tree is None:
            return None
        return cls(tree, url, text=text, headers=headers, timezone=timezone)

    @classmethod
    def of(cls, page: ParsedPage | Any, url: str = "", **kwargs: Any) -> ParsedPage | None:
        """``page`` itself, a tree wrapped, or HTML (str/bytes) parsed."""
        if isinstance(page, ParsedPage):
            return page
        if isinstance(page, etree._Element):
            return cls(page.getroottree().getroot(), url, **kwargs)
        if not page:
            return None
        return cls.parse(page, url, **kwargs)

    def take_tree(self, *, keep: bool = False) -> Any:
        """The tree for a consumer that modifies it (trafilatura). With ``keep`` the page
        keeps its own tree for later readers and the consumer gets a copy; without it the
        page gives its tree away (``tree`` becomes None, so a late reader fails loudly
        instead of reading a modified tree)."""
        if keep:
            return deepcopy(self.tree)
        tree, self.tree = self.tree, None
        return tree

    # ---- JSON-LD -----------------------------------------------------------------------

    @cached_property
    def _jsonld_scripts(self) -> tuple[list[Any], list[str]]:
        documents: list[Any] = []
        broken: list[str] = []
        for script in self.tree.xpath(_JSONLD_SCRIPTS):
            raw = (script.text or "").strip()
            if not raw:
                continue
            try:
                documents.append(json.loads(raw))
            except (ValueError, RecursionError):
                broken.append(raw)
        return documents, broken

    @property
    def jsonld_documents(self) -> list[Any]:
        """Each JSON-LD script's parsed value, as written (nesting kept)."""
        return self._jsonld_scripts[0]

    @property
    def jsonld_broken(self) -> list[str]:
        """Raw text of JSON-LD scripts that are not valid JSON (trailing commas, raw newlines)."""
        return self._jsonld_scripts[1]

    @cached_property
    def jsonld(self) -> list[dict[str, Any]]:
        """Every JSON-LD object on the page, ``@graph`` and lists flattened."""
        out: list[dict[str, Any]] = []

        def walk(obj: Any) -> None:
            if isinstance(obj, list):
                for item in obj:
                    walk(item)
            elif isinstance(obj, dict):
                out.append(obj)
                if "@graph" in obj:
                    walk(obj["@graph"])

        for document in self.jsonld_documents:
            try:
                walk(document)
            except RecursionError:
                continue
        return out

    @cached_property
    def article_objects(self) -> list[dict[str, Any]]:
        """The JSON-LD objects of an article type, then those of type WebPage."""
        arts = [o for o in self.jsonld if jsonld_types(o) & (ARTICLE_TYPES | {"WebPage"})]
        arts.sort(key=lambda o: "WebPage" in jsonld_types(o))
        return arts

    @cached_property
    def jsonld_type_names(self) -> set[str]:
        """The ``@type`` of every JSON-LD object that names a single type."""
        return {o["@type"] for o in self.jsonld if isinstance(o.get("@type"), str)}

    # ---- meta tags ---------------------------------------------------------------------

    @cached_property
    def meta_elements(self) -> list[Any]:
        """Every <meta> element, in document order."""
        return list(self.tree.iter("meta"))

    @cached_property
    def meta(self) -> dict[str, str]:
        """<meta> property/name/itemprop (lower case) -> content, first non-empty wins.
        From <head> when it holds meta tags: body microdata is other things' metadata."""
        head = self.tree.find("head")
        if head is not None and head.find("meta") is not None:
            scope: Any = head.iter("meta")
        else:
            scope = self.meta_elements
        tags: dict[str, str] = {}
        for el in scope:
            content = el.get("content")
            if not content:
                continue
            for attr in ("property", "name", "itemprop"):
                key = el.get(attr)
                if key:
                    tags.setdefault(key.strip().lower(), content)
        return tags

    def meta_value(self, *keys: str) -> str | None:
        """The first of ``keys`` with a non-blank meta value, whitespace folded."""
        for key in keys:
            value = self.meta.get(key.lower())
            if value:
                value = _WS.sub(" ", value).strip()
                if value:
                    return value
        return None

    @cached_property
    def meta_items(self) -> list[tuple[str, str]]:
        """(key, content) of every <meta> in the document with both, in document order; the
        key is its property, name, itemprop or http-equiv (the first present), lower case."""
        out = []
        for el in self.meta_elements:
            key = el.get("property") or el.get("name") or el.get("itemprop") or el.get("http-equiv")
            content = el.get("content")
            if key and content:
                out.append((key.strip().lower(), content))
        return out

    # ---- headline, links, language -----------------------------------------------------

    @cached_property
    def h1s(self) -> list[Any]:
        """Every <h1> element, in document order."""
        return list(self.tree.iter("h1"))

    @cached_property
    def title_tag(self) -> str:
        """The text of the first <title>, whitespace folded."""
        titles = self.tree.xpath("//head/title | //title")
        return text_of(titles[0]) if titles else ""

    @cached_property
    def headline_candidates(self) -> list[str]:
        """What the page gives as its headline, best source first: the article's JSON-LD
        headline, og:title, twitter:title, <title> (whitespace folded; the site's name may
        still be in them). The <h1> elements are ``h1s``."""
        candidates = [
            h for obj in self.article_objects for h in names_in(obj.get("headline")) if h.strip()
        ]
        candidates += [
            v for v in (self.meta_value("og:title"), self.meta_value("twitter:title")) if v
        ]
        if self.title_tag:
            candidates.append(self.title_tag)
        return [_WS.sub(" ", c).strip() for c in candidates]

    @cached_property
    def canonical_links(self) -> list[str]:
        """The href of every <link rel=canonical>, in document order."""
        return [
            link.get("href") or ""
            for link in self.tree.iter("link")
            if (link.get("rel") or "").strip().lower() == "canonical"
        ]

    @cached_property
    def html_lang(self) -> list[str]:
        """The <html> element's lang / xml:lang values."""
        return [str(v) for v in self.tree.xpath("/html/@lang | /html/@xml:lang")]

    @cached_property
    def anchors(self) -> list[Any]:
        """Every <a> element, in document order."""
        return list(self.tree.iter("a"))

    @cached_property
    def anchor_texts(self) -> list[str]:
        return [a.text_content() for a in self.anchors]

    @property
    def link_count(self) -> int:
        """Links with an href."""
        return sum(1 for a in self.anchors if a.get("href"))

    # ---- site parsers ------------------------------------------------------------------

    def xpath(self, expression: str) -> list[str]:
        """String results of ``expression``, whitespace-folded, empty ones dropped."""
        found = self.tree.xpath(expression)
        values = found if isinstance(found, list) else [found]
        out = []
        for value in values:
            text = (
                value
                if isinstance(value, str)
                else etree.tostring(value, method="text", encoding="unicode")
            )
            text = " ".join(str(text).split())
            if text:
                out.append(text)
        return out


def parse_html(text: str) -> Any:
    """An lxml.html tree of a whole document, or None (no markup, or unparseable)."""
    if not text.strip() or "<" not in text:
        return None
    try:
        tree = load_html(text)
    except (etree.ParserError, ValueError):
        return None
    return tree if isinstance(tree, etree._Element) else None
