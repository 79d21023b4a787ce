"""Sitemaps, sitemap indexes, news sitemaps and feeds are read with their dates."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

from akhbar.discovery import parse_feed, parse_iso_date, parse_sitemap

NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url>
    <loc>https://example.com/news/2016/3/24/a</loc>
    <lastmod>2016-03-25T10:00:00+00:00</lastmod>
    <news:news>
      <news:publication><news:name>X</news:name><news:language>ar</news:language></news:publication>
      <news:publication_date>2016-03-24T08:15:00+03:00</news:publication_date>
      <news:title>\xd9\x83\xd9\x8a\xd8\xb1\xd9\x8a</news:title>
    </news:news>
  </url>
  <url><loc>https://example.com/news/b</loc><lastmod>2024-01-02</lastmod></url>
  <url><loc>https://example.com/news/c</loc></url>
</urlset>"""

INDEX = b"""<?xml version="1.0"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://example.com/news-sitemap.xml</loc><lastmod>2024-05-01T00:00:00Z</lastmod></sitemap>
  <sitemap><loc>https://example.com/old.xml.gz</loc></sitemap>
</sitemapindex>"""

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>t</title>
<item><title>خبر</title><link>https://example.com/a</link><pubDate>Thu, 24 Mar 2016 05:45:17 +0200</pubDate></item>
<item><title>ب</title><link> https://example.com/b </link></item>
</channel></rss>""".encode()

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<entry><title>a</title><link rel="alternate" href="https://example.com/a"/>
<link rel="enclosure" href="https://example.com/a.jpg"/><published>2015-02-08T12:00:00+02:00</published></entry>
<entry><title>b</title><link href="https://example.com/b"/><updated>2015-02-09T00:00:00Z</updated></entry>
</feed>"""


def test_news_sitemap_prefers_publication_date_over_lastmod() -> None:
    sitemap = parse_sitemap(NEWS_SITEMAP)
    assert not sitemap.is_index
    urls = [e.url for e in sitemap.entries]
    assert urls == [
        "https://example.com/news/2016/3/24/a",
        "https://example.com/news/b",
        "https://example.com/news/c",
    ]
    first = sitemap.entries[0]
    assert first.date == datetime(2016, 3, 24, 5, 15, tzinfo=UTC)
    assert first.title == "كيري"
    assert sitemap.entries[1].date == datetime(2024, 1, 2, tzinfo=UTC)
    assert sitemap.entries[2].date is None


def test_sitemap_index_and_gzip() -> None:
    sitemap = parse_sitemap(gzip.compress(INDEX))
    assert sitemap.is_index
    assert [e.url for e in sitemap.entries] == [
        "https://example.com/news-sitemap.xml",
        "https://example.com/old.xml.gz",
    ]
    assert sitemap.entries[0].date == datetime(2024, 5, 1, tzinfo=UTC)


def test_rss_and_atom_items() -> None:
    rss = parse_feed(RSS)
    assert [(e.url, e.title) for e in rss] == [
        ("https://example.com/a", "خبر"),
        ("https://example.com/b", "ب"),
    ]
    assert rss[0].date == datetime(2016, 3, 24, 3, 45, 17, tzinfo=UTC)
    atom = parse_feed(ATOM)
    assert [e.url for e in atom] == ["https://example.com/a", "https://example.com/b"]
    assert atom[0].date == datetime(2015, 2, 8, 10, 0, tzinfo=UTC)
    assert atom[1].date == datetime(2015, 2, 9, tzinfo=UTC)


def test_broken_documents_give_nothing_rather_than_raise() -> None:
    for body in (b"", b"not xml at all", b"\x1f\x8bnot gzip", b"<html><p>page</p></html>"):
        assert parse_sitemap(body).entries == []
        assert parse_feed(body) == []
    # A truncated sitemap still yields the entries before the cut.
    truncated = parse_sitemap(
        NEWS_SITEMAP[: NEWS_SITEMAP.index(b"<url><loc>https://example.com/news/c")]
    )
    assert [e.url for e in truncated.entries][:2] == [
        "https://example.com/news/2016/3/24/a",
        "https://example.com/news/b",
    ]
    assert parse_iso_date("yesterday") is None


def _gzip_of(prefix: bytes, filler: bytes, size: int, suffix: bytes) -> bytes:
    import zlib

    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = filler * (1024 * 1024 // len(filler))
    parts = [deflate.compress(prefix)]
    parts += [deflate.compress(block) for _ in range(size // len(block))]
    return b"".join([*parts, deflate.compress(suffix), deflate.flush()])


def test_decompression_stops_at_the_limit_and_keeps_what_came_before() -> None:
    import pytest

    from akhbar.discovery import DocumentTooLarge

    head = NEWS_SITEMAP[: NEWS_SITEMAP.index(b"</urlset>")]
    bomb = _gzip_of(head, b" ", 64 * 1024 * 1024, b"</urlset>")
    with pytest.raises(DocumentTooLarge, match="AKHBAR_MAX_DECOMPRESSED_BYTES") as caught:
        parse_sitemap(bomb, max_bytes=4 * 1024 * 1024)
    assert len(caught.value.partial.entries) == 3
    # Under the limit the same document reads in full.
    assert len(parse_sitemap(bomb, max_bytes=65 * 1024 * 1024).entries) == 3
    rss_bomb = _gzip_of(RSS[: RSS.index(b"</channel>")], b"<x/>", 8 * 1024 * 1024, b"</rss>")
    with pytest.raises(DocumentTooLarge) as caught:
        parse_feed(rss_bomb, max_bytes=1024 * 1024)
    assert [e.url for e in caught.value.partial] == [
        "https://example.com/a",
        "https://example.com/b",
    ]
    # Plain (not gzipped) bodies obey the limit too; gzip members are read one after another.
    with pytest.raises(DocumentTooLarge):
        parse_sitemap(NEWS_SITEMAP, max_bytes=100)
    two_members = gzip.compress(INDEX[:100]) + gzip.compress(INDEX[100:])
    assert len(parse_sitemap(two_members).entries) == 2


def test_a_flood_of_entries_stops_at_the_entry_cap() -> None:
    import pytest

    from akhbar.discovery import MAX_ENTRIES, DocumentTooLarge

    many = b"<urlset>" + b"<url><loc>https://example.com/x</loc></url>" * (MAX_ENTRIES + 5)
    with pytest.raises(DocumentTooLarge, match="entries") as caught:
        parse_sitemap(gzip.compress(many), max_bytes=len(many) + 1)
    assert len(caught.value.partial.entries) == MAX_ENTRIES
