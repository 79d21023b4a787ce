"""Reading discovery documents: sitemaps (and indexes, news sitemaps) and RSS/Atom feeds.

Plain functions over bytes, so they are tested without a crawl. Each entry carries the
best date the document gives (news:publication_date, lastmod, pubDate, published/updated)
for incremental crawling.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
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


# The sitemap protocol's own ceiling for one uncompressed sitemap (sitemaps.org: 50 MB, 50,000
# URLs); feeds are far smaller. Enough for any honest document, and a gzip bomb stops here.
DEFAULT_MAX_DECOMPRESSED_BYTES = 50 * 1024 * 1024
_CHUNK = 256 * 1024
_ENTRY_TAGS = frozenset({"url", "sitemap", "item", "entry"})
_CONTAINER_TAGS = frozenset({"urlset", "sitemapindex", "rss", "channel", "feed", "RDF"})
# Twice the sitemap protocol's 50,000 URLs per file: beyond it, a document is hostile.
MAX_ENTRIES = 100_000


class DocumentTooLarge(ValueError):
    """A sitemap or feed expands beyond the limit; ``partial`` holds what was read before it
    (a ``Sitemap`` or a list of entries)."""

    def __init__(self, reason: str, partial: object) -> None:
        super().__init__(f"{reason}; reading stopped there")
        self.partial = partial


class _Over(Exception):
    """Reading stopped at a limit (the message says which)."""


def _chunks(body: bytes, limit: int) -> Iterator[bytes]:
    """The document's bytes (gunzipped when gzip, every member), in chunks; raises _Over once
    more than ``limit`` bytes came out, before decompressing further. Corrupt or truncated
    gzip ends the stream."""
    if body[:2] != b"\x1f\x8b":
        if len(body) > limit:
            yield body[:limit]
            raise _Over(f"it is larger than {limit:,} bytes (AKHBAR_MAX_DECOMPRESSED_BYTES)")
        for offset in range(0, len(body), _CHUNK):
            yield body[offset : offset + _CHUNK]
        return
    produced = 0
    data = body
    while data[:2] == b"\x1f\x8b":
        inflater = zlib.decompressobj(wbits=31)
        pending = data
        try:
            while not inflater.eof:
                out = inflater.decompress(pending, min(_CHUNK, limit + 1 - produced))
                pending = inflater.unconsumed_tail
                if not out and not pending:
                    return  # truncated
                produced += len(out)
                if produced > limit:
                    yield out[: len(out) - (produced - limit)]
                    raise _Over(
                        f"it expands beyond {limit:,} bytes (AKHBAR_MAX_DECOMPRESSED_BYTES)"
                    )
                yield out
        except zlib.error:
            return
        data = inflater.unused_data


class _EntryReader:
    """Hands out each top-level sitemap/feed entry element once it is complete, and frees what
    is done with, so memory stays bounded by a chunk, not the document. Only entry and
    container elements reach Python (lxml filters the rest), so a flood of junk elements
    costs C time, not Python time."""

    def __init__(self) -> None:
        # recover: real sitemaps and feeds are often slightly broken; no entities: XXE-safe.
        self.parser = etree.XMLPullParser(
            events=("start", "end"),
            tag=[f"{{*}}{name}" for name in _ENTRY_TAGS | _CONTAINER_TAGS],
            recover=True,
            resolve_entities=False,
            no_network=True,
            huge_tree=False,
        )
        self.root: etree._Element | None = None
        self.inside = 0  # nesting depth within entry elements
        self.entries = 0

    @property
    def root_tag(self) -> str:
        return _local(self.root.tag) if self.root is not None else ""

    def drain(self) -> Iterator[etree._Element]:
        for event, element in self.parser.read_events():
            is_entry = _local(element.tag) in _ENTRY_TAGS
            if event == "start":
                if self.root is None:
                    root = element
                    while (parent := root.getparent()) is not None:
                        root = parent
                    self.root = root
                self.inside += is_entry
            elif is_entry:
                self.inside -= 1
                if self.inside == 0:
                    self.entries += 1
                    if self.entries > MAX_ENTRIES:
                        raise _Over(f"it has more than {MAX_ENTRIES:,} entries")
                    yield element

    def prune(self) -> None:
        """Drop every finished element along the open path from the root (not inside an
        entry still being read)."""
        node = self.root
        while node is not None and len(node) and _local(node.tag) not in _ENTRY_TAGS:
            last = node[-1]
            if len(node) > 1:
                del node[:-1]
            node = last


def _elements(body: bytes, limit: int) -> Iterator[tuple[str, etree._Element]]:
    """(root tag, entry element) pairs of the document, read incrementally; raises _Over."""
    reader = _EntryReader()
    read = 0
    try:
        for chunk in _chunks(body, limit):
            if not read:
                chunk = chunk.lstrip()
            read += len(chunk)
            if not chunk:
                continue
            reader.parser.feed(chunk)
            for element in reader.drain():
                yield reader.root_tag, element
            if reader.root is None and read > _CHUNK:
                return  # not a sitemap or feed: their root comes first
            reader.prune()
        if read:
            reader.parser.close()
            for element in reader.drain():
                yield reader.root_tag, element
    except etree.XMLSyntaxError:
        return


def _sitemap_entry(node: etree._Element) -> Entry | None:
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
    if not loc:
        return None
    return Entry(loc, parse_iso_date(published) or parse_iso_date(lastmod), title)


def parse_sitemap(body: bytes, max_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES) -> Sitemap:
    """A sitemap or sitemap index (gzipped or not). Raises DocumentTooLarge (with the entries
    read so far) when it expands beyond ``max_bytes``."""
    is_index = False
    entries: list[Entry] = []
    try:
        for root_tag, node in _elements(body, max_bytes):
            is_index = root_tag == "sitemapindex"
            if _local(node.tag) in {"url", "sitemap"} and (entry := _sitemap_entry(node)):
                entries.append(entry)
    except _Over as over:
        raise DocumentTooLarge(str(over), Sitemap(is_index, entries)) from None
    return Sitemap(is_index, entries)


def parse_feed(body: bytes, max_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES) -> list[Entry]:
    """Items of an RSS 2.0 / RSS 1.0 / Atom feed (gzipped or not). Raises DocumentTooLarge
    (with the items read so far) when it expands beyond ``max_bytes``."""
    entries: list[Entry] = []
    try:
        for _, node in _elements(body, max_bytes):
            if _local(node.tag) in {"item", "entry"} and (entry := _feed_entry(node)):
                entries.append(entry)
    except _Over as over:
        raise DocumentTooLarge(str(over), entries) from None
    return entries


def _feed_entry(node: etree._Element) -> Entry | None:
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
    if url is None and (about := node.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about")):
        url = about
    return Entry(url, date, title) if url else None
