"""Site-specific parsers: the extension point for a site the generic extractor gets wrong.

The generic path (``akhbar.extract.extract``) stays the default for every source. A source in
the registry may name a parser class (``parser = "package.module:ClassName"``), in the spirit
of web-poet page objects and fundus's per-publisher parsers: a small class that overrides
only the fields the generic path gets wrong, and inherits the rest.

A parser overrides a field in one of two ways:

* an XPath class attribute, ``<field>_xpath``: its first non-empty string result becomes the
  field (``title``, ``author``, ``section``, ``language``; ``paragraphs_xpath`` takes every
  result, one paragraph each; ``published_at_xpath`` is read with the date grammar);
* a method named after the field, ``def author(self, page, article)``, returning the value,
  or None to keep the generic one.

``page`` is the ``akhbar.parsed.ParsedPage`` extraction built (one parse shared by the
generic path and every override): the tree, URL, headers, the source's time zone, JSON-LD
objects and meta tags. A site's layout changes: keep the old class and add a new
one (``V2``) when it does, so pages stored earlier can still be re-processed. No Scrapy here.
"""

from __future__ import annotations

import importlib
from dataclasses import replace
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar

from akhbar.article import Article
from akhbar.dates import parse_date

# Annotations only: the registry loads parsers without the parsing stack (lxml, trafilatura),
# which a crawl with worker processes loads only in them.
if TYPE_CHECKING:
    from akhbar.parsed import ParsedPage

__all__ = ["FIELDS", "SiteParser", "SiteParserError", "apply_parser", "load_parser"]

# Fields of Article a parser may override.
FIELDS = ("title", "paragraphs", "published_at", "author", "section", "language")


class SiteParserError(ValueError):
    """A registry names a parser that cannot be loaded; the message is one sentence."""


class SiteParser:
    """Base class: overrides nothing. Subclass it and set ``<field>_xpath`` or define
    ``<field>(self, page, article)`` for the fields to override."""

    title_xpath: ClassVar[str | None] = None
    paragraphs_xpath: ClassVar[str | None] = None
    published_at_xpath: ClassVar[str | None] = None
    author_xpath: ClassVar[str | None] = None
    section_xpath: ClassVar[str | None] = None
    language_xpath: ClassVar[str | None] = None

    def override(self, name: str, page: ParsedPage, article: Article) -> Any:
        """The overriding value of field ``name``, or None to keep the generic one."""
        method = getattr(self, name, None)
        if callable(method):
            return method(page, article)
        expression = getattr(self, f"{name}_xpath", None)
        if not expression:
            return None
        values = page.xpath(expression)
        if not values:
            return None
        if name == "paragraphs":
            return values
        if name == "published_at":
            return parse_date(values[0], tz=page.timezone)
        return values[0]


def _checked(name: str, value: Any) -> Any:
    expected = {"paragraphs": list, "published_at": datetime}.get(name, str)
    if not isinstance(value, expected):
        raise TypeError(f"a site parser's {name} must be {expected.__name__}, got {value!r}")
    return value


def apply_parser(parser: SiteParser, page: ParsedPage, article: Article) -> Article:
    """The generic ``article`` with the parser's overrides applied (a new Article)."""
    changes = {}
    for name in FIELDS:
        value = parser.override(name, page, article)
        if value is not None:
            changes[name] = _checked(name, value)
    return replace(article, **changes) if changes else article


@lru_cache(maxsize=64)
def load_parser(spec: str) -> SiteParser:
    """An instance of the class named ``package.module:ClassName``."""
    module_name, _, class_name = spec.partition(":")
    if not module_name or not class_name:
        raise SiteParserError(f"parser {spec!r} is not of the form 'package.module:ClassName'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SiteParserError(f"parser {spec!r}: cannot import {module_name} ({exc})") from None
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, SiteParser)):
        raise SiteParserError(f"parser {spec!r}: {class_name} is not a SiteParser class")
    return cls()
