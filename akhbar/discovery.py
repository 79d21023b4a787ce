"""Reading discovery documents: sitemaps (and indexes, news sitemaps) and RSS/Atom feeds.

Plain functions over bytes, so they are tested without a crawl. Each entry carries the
best date the document gives (news:publication_date, lastmod, pubDate, published/updated)
for incremental crawling.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from akhbar.timebounds import parse_document_date as parse_iso_date


@dataclass(frozen=True, slots=True)
class Entry:
    url: str
    date: datetime | None = None
    title: str | None = None


@dataclass(frozen=True, slots=True)
class Sitemap:
    is_index: bool
    entries: list[Entry]


def _local(tag: object) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _parser() -> etree.XMLParser:
    # recover: real sitemaps and feeds are often slightly broken; no entities: XXE-safe.
    return etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)


def _root(body: bytes) -> etree._Element | None:
    if body[:2] == b"\x1f\x8b":
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError):
            return None
    body = body.lstrip()
    if not body:
        return None
    try:
        return etree.fromstring(body, parser=_parser())
    except etree.XMLSyntaxError:
        return None


def parse_sitemap(body: bytes) -> Sitemap:
    root = _root(body)
    if root is None:
        return Sitemap(False, [])
    is_index = _local(root.tag) == "sitemapindex"
    entries: list[Entry] = []
    for node in root:
        if _local(node.tag) not in {"url", "sitemap"}:
            continue
        loc = lastmod = published = title = None
        for child in node.iter():
            name = _local(child.tag)
            text = (child.text or "").strip()
            if name == "loc" and loc is None:
                loc = text
            elif name == "lastmod":
                lastmod = text
            elif name == "publication_date":
                published = text
            elif name == "title" and title is None:
                title = text or None
        if loc:
            entries.append(Entry(loc, parse_iso_date(published) or parse_iso_date(lastmod), title))
    return Sitemap(is_index, entries)


def parse_feed(body: bytes) -> list[Entry]:
    """Items of an RSS 2.0 / RSS 1.0 / Atom feed."""
    root = _root(body)
    if root is None:
        return []
    entries: list[Entry] = []
    for node in root.iter():
        name = _local(node.tag)
        if name not in {"item", "entry"}:
            continue
        url = date = title = None
        for child in node:
            cname = _local(child.tag)
            text = (child.text or "").strip()
            if cname == "link":
                href = child.get("href")
                rel = child.get("rel", "alternate")
                if href and rel == "alternate" and url is None:
                    url = href.strip()
                elif text and url is None:
                    url = text
            elif (
                cname in {"pubDate", "published", "date"}
                and date is None
                or cname == "updated"
                and date is None
            ):
                date = parse_iso_date(text)
            elif cname == "title":
                title = text or None
        if url is None and (
            about := node.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about")
        ):
            url = about
        if url:
            entries.append(Entry(url, date, title))
    return entries
