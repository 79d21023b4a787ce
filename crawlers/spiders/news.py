"""NewsSpider: one generic spider, specialised per registry source (crawlers/spiders/sources.py).

Discovery only: sitemaps, feeds and section listings lead to article URLs; each article
page is handed to the pipelines as a FetchedPage. Extraction happens there.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, TypeVar
from urllib.parse import urljoin

import scrapy
from scrapy.http import Response

from akhbar.discovery import DocumentTooLarge, parse_feed, parse_sitemap
from akhbar.page import FetchedPage
from akhbar.sources import Source
from akhbar.timebounds import parse_bound as parse_since
from crawlers.middlewares import ARTICLE_META

T = TypeVar("T")


class NewsSpider(scrapy.Spider):
    source: ClassVar[Source]

    def __init__(
        self,
        since: str | None = None,
        limit: str | int | None = None,
        full: str | bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.since = parse_since(since)
        # full: read every sitemap/feed entry, not only those newer than the last good run.
        self.full = str(full).lower() in {"1", "true", "yes"} if full is not None else False
        self.limit = int(limit) if limit not in (None, "") else None
        self.allowed_domains = list(self.source.domains)
        self.article_requests = 0

    async def start(self) -> AsyncIterator[Any]:
        await self._incremental_since()
        for url in self.source.sitemaps:
            yield self._discovery_request(url, self.parse_sitemap, 20)
        for url in self.source.feeds:
            yield self._discovery_request(url, self.parse_feed, 20)
        for url in self.source.listings:
            yield self._discovery_request(url, self.parse_listing, 10)

    # -- what happened, for the run's outcome (akhbar/outcomes.py decide_outcome) ------------
    def _discovery_request(self, url: str, callback: Any, priority: int) -> scrapy.Request:
        return scrapy.Request(url, callback=callback, errback=self.on_error, priority=priority)

    def _reached(self, response: Response) -> None:
        stats = self.crawler.stats
        stats.inc_value("akhbar/requests_ok")
        if not response.meta.get(ARTICLE_META):
            stats.inc_value("akhbar/discovery_ok")

    def on_error(self, failure: Any) -> None:
        """A request that failed for good (after retries): DNS, connection, HTTP >= 400."""
        from scrapy.exceptions import IgnoreRequest
        from scrapy.spidermiddlewares.httperror import HttpError

        request = failure.request
        exc = failure.value
        stats = self.crawler.stats
        if isinstance(exc, IgnoreRequest) and not isinstance(exc, HttpError):
            return  # skipped on purpose (known URL, offsite, robots.txt): not an error
        if type(exc).__module__.split(".")[0] in {"sqlalchemy", "psycopg"}:
            stats.inc_value("akhbar/database_errors")
        stats.inc_value("akhbar/requests_failed")
        article = bool(request.meta.get(ARTICLE_META))
        if not article:
            stats.inc_value("akhbar/discovery_failed")
        detail = f"HTTP {exc.response.status}" if isinstance(exc, HttpError) else _describe(exc)
        self.logger.warning(
            "fetch failed: %s %s: %s",
            "article" if article else "discovery document",
            request.url,
            detail,
            extra={"akhbar_event": "fetch_failed", "url": request.url, "reason": detail},
        )

    async def _incremental_since(self) -> None:
        """Without --since or full=1, skip feed/sitemap entries dated before the last
        successful run started (less AKHBAR_INCREMENTAL_OVERLAP_HOURS: dates are often
        day-precise)."""
        settings = self.crawler.settings
        if (
            self.since is not None
            or self.full
            or not settings.getbool("AKHBAR_INCREMENTAL", True)
            or not settings.getbool("AKHBAR_STORE", True)
        ):
            return
        from db.crawl_runs import last_success_start

        try:
            last = await asyncio.to_thread(last_success_start, self.name)
        except Exception as exc:  # the database is away: reading everything is safe
            self.logger.warning("incremental: cannot read the last success (%s); reading all", exc)
            return
        if last is not None:
            overlap = settings.getfloat("AKHBAR_INCREMENTAL_OVERLAP_HOURS", 24.0)
            self.since = last - timedelta(hours=overlap)
            self.crawler.stats.set_value("akhbar/incremental_since", self.since.isoformat())
            self.logger.info(
                "incremental: entries dated before %s are skipped (full=1 reads all)",
                self.since.isoformat(),
            )

    # -- discovery -----------------------------------------------------------------------
    def _article_request(self, url: str, listed: datetime | None = None) -> scrapy.Request | None:
        if not self.source.allows(url):
            return None
        self.crawler.stats.inc_value("akhbar/links_seen")
        if not self.source.is_article_url(url):
            return None
        self.crawler.stats.inc_value("akhbar/article_urls_matched")
        if self.since and listed and listed < self.since:
            self.crawler.stats.inc_value("akhbar/skipped_older_than_since")
            return None
        if self.limit is not None and self.article_requests >= self.limit:
            return None
        self.article_requests += 1
        return scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.on_error,
            meta={ARTICLE_META: True, "listed_published": listed},
        )

    def _too_large(self, response: Response, exc: DocumentTooLarge) -> None:
        self.crawler.stats.inc_value("akhbar/discovery_too_large")
        self.logger.warning(
            "discovery document %s cut short: %s (entries before the cut are used)",
            response.url,
            exc,
        )

    def _bounded(self, response: Response, parse: Callable[[bytes, int], T]) -> T:
        """``parse`` a discovery document within AKHBAR_MAX_DECOMPRESSED_BYTES; past the limit,
        what was read before the cut (logged and counted)."""
        limit = self.crawler.settings.getint("AKHBAR_MAX_DECOMPRESSED_BYTES")
        try:
            return parse(response.body, limit)
        except DocumentTooLarge as exc:
            self._too_large(response, exc)
            return exc.partial  # type: ignore[return-value]

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        self._reached(response)
        sitemap = self._bounded(response, parse_sitemap)
        for entry in sitemap.entries:
            url = urljoin(response.url, entry.url)
            if sitemap.is_index:
                if self.since and entry.date and entry.date < self.since:
                    # a whole child sitemap last changed before `since`
                    self.crawler.stats.inc_value("akhbar/sitemaps_skipped_older_than_since")
                    continue
                if self.source.allows(url):
                    yield self._discovery_request(url, self.parse_sitemap, 20)
            elif request := self._article_request(url, entry.date):
                yield request

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        self._reached(response)
        for entry in self._bounded(response, parse_feed):
            if request := self._article_request(urljoin(response.url, entry.url), entry.date):
                yield request

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        self._reached(response)
        if not hasattr(response, "css"):
            return
        next_links = set(
            response.css('a[rel~="next"]::attr(href), link[rel~="next"]::attr(href)').getall()
        )
        for href in response.css("a::attr(href)").getall():
            url = response.urljoin(href.strip())
            if not url.startswith(("http://", "https://")):
                continue
            if request := self._article_request(url):
                yield request
            elif self.source.allows(url) and (
                href in next_links or self.source.is_listing_url(url)
            ):
                yield self._discovery_request(url, self.parse_listing, 10)

    # -- articles --------------------------------------------------------------------------
    def parse_article(self, response: Response) -> Iterator[FetchedPage]:
        self._reached(response)
        headers = {
            key.decode("latin-1"): values[-1].decode("latin-1")
            for key, values in response.headers.items()
            if values
        }
        yield FetchedPage(
            source=self.source.name,
            url=response.url,
            body=response.body,
            headers=headers,
            status=response.status,
            fetched_at=datetime.now(UTC),
            timezone=self.source.timezone,
            listed_published=response.meta.get("listed_published"),
            parser=self.source.parser,
        )


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
