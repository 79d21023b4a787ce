"""Downloader middlewares: incremental crawling and retries with backoff."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from typing import Any

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response

from db.engine import get_engine
from db.queries import known_urls

logger = logging.getLogger(__name__)

ARTICLE_META = "akhbar_article"


class SkipKnownUrlsMiddleware:
    """Drop article requests whose URL is already stored or known as a duplicate.

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
        if not request.meta.get(ARTICLE_META) or request.meta.get("akhbar_refetch"):
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


__all__ = ["ARTICLE_META", "BackoffRetryMiddleware", "IgnoreRequest", "SkipKnownUrlsMiddleware"]
