"""Incremental crawling (known article URLs are not fetched again) and retries with backoff."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator
from typing import Any

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response

from db.engine import get_engine
from db.queries import known_urls

logger = logging.getLogger(__name__)

ARTICLE_META = "akhbar_article"


# Set by KnownUrlsBatchMiddleware to the URL it checked, so the downloader middleware does
# not ask again (a redirect changes the URL, and the new one is asked about).
CHECKED_META = "akhbar_known_checked"
# Article URLs asked about in one query (a sitemap of 50,000 entries: 50 queries).
KNOWN_URL_BATCH = 1000


def wants_check(request: Request) -> bool:
    """An article request the known-URL check applies to."""
    return bool(request.meta.get(ARTICLE_META)) and not request.meta.get("akhbar_refetch")


async def drop_known(batch: list[Request], stats: Any) -> list[Request]:
    """``batch`` without the requests whose URL is already stored or known as a duplicate
    (one query; counted as ``akhbar/skipped_known_url``); the rest are marked checked. When
    the database cannot be asked, all are kept unmarked: SkipKnownUrlsMiddleware asks for
    each."""
    try:
        known = await asyncio.to_thread(known_urls, get_engine(), [r.url for r in batch])
    except Exception as exc:
        logger.debug("known-URL batch check failed (%s); checking per request", exc)
        return batch
    kept = []
    for request in batch:
        if request.url in known:
            stats.inc_value("akhbar/skipped_known_url")
            continue
        request.meta[CHECKED_META] = request.url
        kept.append(request)
    return kept


class KnownUrlsBatchMiddleware:
    """Spider middleware: drop the article requests a page led to whose URL is already
    stored or known as a duplicate, asking the database once per batch of URLs instead of
    once per request.

    The database stays the source of truth (shared by every crawler process, memory does
    not grow with the corpus). A URL another crawler stores between this check and the
    download is fetched, and the store refuses it as a known URL. When the database cannot
    be asked, the requests go on unchecked and SkipKnownUrlsMiddleware asks for each.
    """

    def __init__(self, crawler: Any) -> None:
        self.stats = crawler.stats
        if not crawler.settings.getbool("AKHBAR_SKIP_KNOWN", True):
            raise NotConfigured

    @classmethod
    def from_crawler(cls, crawler: Any) -> KnownUrlsBatchMiddleware:
        return cls(crawler)

    async def _unknown(self, batch: list[Request]) -> list[Request]:
        return await drop_known(batch, self.stats)

    async def _filter(self, result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        batch: list[Request] = []
        async for item in result:
            if isinstance(item, Request) and wants_check(item):
                batch.append(item)
                if len(batch) >= KNOWN_URL_BATCH:
                    for request in await self._unknown(batch):
                        yield request
                    batch = []
            else:
                yield item
        if batch:
            for request in await self._unknown(batch):
                yield request

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for item in self._filter(start):
            yield item

    async def process_spider_output(
        self, response: Any, result: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        async for item in self._filter(result):
            yield item


class SkipKnownUrlsMiddleware:
    """Downloader middleware: drop an article request whose URL is already stored or known
    as a duplicate, for the requests KnownUrlsBatchMiddleware has not checked (redirects,
    requests resumed from the journal, a batch check that failed).

    Asks the database (the source of truth, shared by every crawler process) instead of
    keeping a set in memory, so memory does not grow with the corpus. Only requests the
    spider marked as article candidates are checked: listings and feeds change and are
    always fetched.
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        if not crawler.settings.getbool("AKHBAR_SKIP_KNOWN", True):
            raise NotConfigured

    @classmethod
    def from_crawler(cls, crawler: Any) -> SkipKnownUrlsMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        if not wants_check(request) or request.meta.get(CHECKED_META) == request.url:
            return None
        known = await asyncio.to_thread(known_urls, get_engine(), [request.url])
        if known:
            self.stats.inc_value("akhbar/skipped_known_url")
            raise IgnoreRequest(f"already known: {request.url}")
        return None


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry policy plus exponential backoff with jitter (and Retry-After)."""

    base_delay = 1.0
    max_delay = 60.0

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.base_delay = settings.getfloat("AKHBAR_RETRY_BACKOFF_BASE", self.base_delay)
        self.max_delay = settings.getfloat("AKHBAR_RETRY_BACKOFF_MAX", self.max_delay)

    def _delay(self, request: Request, response: Response | None = None) -> float:
        attempt = request.meta.get("retry_times", 0) + 1
        delay = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        if response is not None and (after := response.headers.get(b"Retry-After")):
            with contextlib.suppress(ValueError):
                delay = min(self.max_delay, max(delay, float(after)))
        return delay * random.uniform(0.8, 1.2)

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        delay = self._delay(request, response)
        retry = self._retry(request, f"HTTP {response.status}")
        if retry is None:
            return response
        await asyncio.sleep(delay)
        return retry

    async def process_exception(self, request: Request, exception: Exception) -> Request | None:
        if not isinstance(exception, self.exceptions_to_retry) or request.meta.get("dont_retry"):
            return None
        delay = self._delay(request)
        retry = self._retry(request, exception)
        if retry is not None:
            await asyncio.sleep(delay)
        return retry


__all__ = [
    "ARTICLE_META",
    "KNOWN_URL_BATCH",
    "BackoffRetryMiddleware",
    "IgnoreRequest",
    "KnownUrlsBatchMiddleware",
    "SkipKnownUrlsMiddleware",
    "drop_known",
    "wants_check",
]
