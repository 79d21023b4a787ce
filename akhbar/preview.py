"""Preview a registry source before it goes live (``akhbar sources check NAME``).

Reads the source's sitemaps, feeds and listing pages, counts the URLs each gives and how many
match the article and listing patterns, then extracts a few article pages with the crawl's
own processing (``akhbar.processing.process_page``) to show what would be stored. Writes
nothing anywhere: no database, no crawl run. No Scrapy here; pages are fetched with the
standard library (one request at a time, size-capped), which is enough for a handful.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urldefrag, urljoin, urlsplit
from urllib.robotparser import RobotFileParser

from akhbar.discovery import parse_feed, parse_sitemap
from akhbar.sources import Source

MAX_BYTES = 8 * 1024 * 1024  # the crawl's download cap (AKHBAR_MAX_RESPONSE_BYTES)
MAX_CHILD_SITEMAPS = 5  # of a sitemap index, the first few are enough to judge the patterns
EXAMPLES = 3

# fetch(url) -> (final url, headers, body); raises FetchError with a sentence.
Fetch = Callable[[str], tuple[str, dict[str, str], bytes]]


class FetchError(Exception):
    pass


@dataclass(slots=True)
class DocumentReport:
    """What one discovery document (sitemap, feed or listing page) gave."""

    kind: str  # sitemap, sitemap index, feed, listing
    url: str
    error: str | None = None
    urls: int = 0
    articles: int = 0
    listings: int = 0
    offsite: int = 0
    unmatched_examples: list[str] = field(default_factory=list)


@dataclass(slots=True)
class PageReport:
    """One article page as the crawl would judge it."""

    url: str
    error: str | None = None
    title: str | None = None
    published_at: datetime | None = None
    author: str | None = None
    words: int = 0
    verdict: str = ""  # "article" or why it would not be stored


@dataclass(slots=True)
class SourcePreview:
    source: str
    documents: list[DocumentReport]
    pages: list[PageReport]

    @property
    def article_urls(self) -> int:
        return sum(d.articles for d in self.documents)

    @property
    def problems(self) -> list[str]:
        """Reasons the source would not yield articles as configured (empty: looks healthy)."""
        out = [f"{d.kind} {d.url}: {d.error}" for d in self.documents if d.error]
        if not self.article_urls:
            out.append("no discovered URL matches article_url_patterns")
        if self.pages and not any(p.verdict == "article" for p in self.pages):
            out.append("none of the previewed pages would be stored as an article")
        return out

    def as_dict(self) -> dict:
        def plain(value: object) -> object:
            return value.isoformat() if isinstance(value, datetime) else value

        return {
            "source": self.source,
            "documents": [
                {name: getattr(d, name) for name in DocumentReport.__slots__}
                for d in self.documents
            ],
            "pages": [
                {name: plain(getattr(p, name)) for name in PageReport.__slots__} for p in self.pages
            ],
            "article_urls": self.article_urls,
            "problems": self.problems,
        }


def fetch_url(url: str, *, timeout: float = 20.0) -> tuple[str, dict[str, str], bytes]:
    agent = os.environ.get("AKHBAR_USER_AGENT", "akhbar-bot/0.1 (news archiving; source check)")
    request = urllib.request.Request(url, headers={"User-Agent": agent})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) only, checked by the registry
            body = response.read(MAX_BYTES + 1)
            headers = {k.lower(): v for k, v in response.headers.items()}
            final = response.geturl()
    except urllib.error.HTTPError as exc:
        raise FetchError(f"HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FetchError(f"cannot fetch: {reason}") from None
    if len(body) > MAX_BYTES:
        raise FetchError(f"larger than {MAX_BYTES} bytes")
    return final, headers, body


def _classify(report: DocumentReport, source: Source, urls: list[str]) -> list[str]:
    """Count matches in ``report``; return the article URLs in document order."""
    articles: list[str] = []
    for url in urls:
        report.urls += 1
        if not source.allows(url):
            report.offsite += 1
        elif source.is_article_url(url):
            report.articles += 1
            articles.append(url)
        elif source.is_listing_url(url):
            report.listings += 1
        elif len(report.unmatched_examples) < EXAMPLES:
            report.unmatched_examples.append(url)
    return articles


def _listing_links(body: bytes, headers: dict[str, str], base: str) -> list[str]:
    import lxml.html

    from akhbar.encoding import decode_html

    text, _ = decode_html(body, headers)
    if not text.strip():
        return []
    try:
        tree = lxml.html.fromstring(text)
    except (ValueError, lxml.etree.ParserError):
        return []
    links: list[str] = []
    seen: set[str] = set()
    for href in tree.xpath("//a/@href"):
        url = urldefrag(urljoin(base, str(href).strip()))[0]
        if url.startswith(("http://", "https://")) and url not in seen:
            seen.add(url)
            links.append(url)
    return links


class _Robots:
    """robots.txt per host, read once, obeyed like the crawl does (ROBOTSTXT_OBEY)."""

    def __init__(self, fetch: Fetch) -> None:
        self.fetch = fetch
        self.parsers: dict[str, RobotFileParser | None] = {}
        self.agent = os.environ.get("AKHBAR_USER_AGENT", "akhbar-bot")

    def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        root = f"{parts.scheme}://{parts.netloc}"
        if root not in self.parsers:
            try:
                _, _, body = self.fetch(root + "/robots.txt")
            except FetchError:
                self.parsers[root] = None  # no robots.txt (or unreachable): allowed
            else:
                parser = RobotFileParser()
                parser.parse(body.decode("utf-8", "replace").splitlines())
                self.parsers[root] = parser
        parser = self.parsers[root]
        return parser is None or parser.can_fetch(self.agent, url)


def preview_source(source: Source, *, limit: int = 5, fetch: Fetch = fetch_url) -> SourcePreview:
    """Read every discovery document of ``source`` and extract up to ``limit`` article pages."""
    robots = _Robots(fetch)

    def polite_fetch(url: str) -> tuple[str, dict[str, str], bytes]:
        if not robots.allowed(url):
            raise FetchError("disallowed by robots.txt")
        return fetch(url)

    documents: list[DocumentReport] = []
    # Article URLs in discovery order, with the date the sitemap or feed gave (the crawl uses
    # it when the page states none).
    candidates: dict[str, datetime | None] = {}
    listed: dict[str, datetime | None] = {}

    def add(urls: list[str]) -> None:
        for url in urls:
            candidates.setdefault(url, listed.get(url))

    for url in source.sitemaps:
        queue = [url]
        children = 0
        while queue:
            current = queue.pop(0)
            report = DocumentReport("sitemap", current)
            documents.append(report)
            try:
                final, _, body = polite_fetch(current)
            except FetchError as exc:
                report.error = str(exc)
                continue
            sitemap = parse_sitemap(body)
            entries = [urljoin(final, e.url) for e in sitemap.entries]
            listed.update({urljoin(final, e.url): e.date for e in sitemap.entries})
            if sitemap.is_index:
                report.kind = "sitemap index"
                report.urls = len(entries)
                for child in entries:
                    if source.allows(child) and children < MAX_CHILD_SITEMAPS:
                        children += 1
                        queue.append(child)
                    elif not source.allows(child):
                        report.offsite += 1
                continue
            if not entries:
                report.error = "no <url> entries (not a sitemap, or empty)"
            add(_classify(report, source, entries))
    for url in source.feeds:
        report = DocumentReport("feed", url)
        documents.append(report)
        try:
            final, _, body = polite_fetch(url)
        except FetchError as exc:
            report.error = str(exc)
            continue
        items = parse_feed(body)
        entries = [urljoin(final, e.url) for e in items]
        listed.update({urljoin(final, e.url): e.date for e in items})
        if not entries:
            report.error = "no items (not an RSS/Atom feed, or empty)"
        add(_classify(report, source, entries))
    for url in source.listings:
        report = DocumentReport("listing", url)
        documents.append(report)
        try:
            final, headers, body = polite_fetch(url)
        except FetchError as exc:
            report.error = str(exc)
            continue
        add(_classify(report, source, _listing_links(body, headers, final)))

    chosen = list(candidates.items())[: max(limit, 0)]
    pages = [_preview_page(source, url, date, polite_fetch) for url, date in chosen]
    return SourcePreview(source.name, documents, pages)


def _preview_page(
    source: Source, url: str, listed_published: datetime | None, fetch: Fetch
) -> PageReport:
    from akhbar.page import FetchedPage
    from akhbar.processing import process_page

    report = PageReport(url)
    try:
        final, headers, body = fetch(url)
    except FetchError as exc:
        report.error = str(exc)
        report.verdict = f"not fetched: {exc}"
        return report
    processed = process_page(
        FetchedPage(
            source=source.name,
            url=final,
            body=body,
            headers=headers,
            fetched_at=datetime.now(UTC),
            timezone=source.timezone,
            listed_published=listed_published,
        )
    )
    article = processed.article
    report.title = article.title
    report.published_at = article.published_at
    report.author = article.author
    report.words = len(article.text.split())
    report.verdict = processed.rejected or "article"
    return report
