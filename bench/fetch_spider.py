"""The floor the crawl benchmark compares the pipeline against: Scrapy alone.

A plain SitemapSpider over the benchmark site, with no akhbar pipeline, middleware or
extension. With ``-a extract=1`` each page also goes through ``akhbar.extract.extract`` (the
same call the pipeline's workers make) and nothing else: no quality filter, fingerprints,
dedup or storage. With ``-a workers=N`` that call runs in N worker processes started as the
pipeline starts its own (a forkserver that has imported the extractor), so the pipeline with
workers can be compared like for like. Run by ``bench/crawl_bench.py`` as ``scrapy runspider``
from a directory without ``scrapy.cfg``, so the project's settings are not loaded.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from scrapy import signals
from scrapy.spiders import SitemapSpider


def extracted_length(body: bytes, url: str, headers: dict[str, str]) -> tuple[int, float]:
    """Extract one page; only the text's length travels back, with the CPU seconds the
    call took in its thread (timed as the pipeline times its own extract() calls)."""
    from akhbar.extract import extract

    started = time.thread_time()
    length = len(extract(body, url, headers, timezone="Asia/Damascus").text or "")
    return length, time.thread_time() - started


class FetchOnlySpider(SitemapSpider):
    name = "fetch_only"

    def __init__(self, sitemap: str, extract: str = "0", workers: str = "0", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sitemap_urls = [sitemap]
        self.run_extraction = extract == "1"
        self.workers = int(workers)
        self.pool: ProcessPoolExecutor | None = None

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> FetchOnlySpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.close_pool, signal=signals.spider_closed)
        return spider

    def close_pool(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)

    def _pool(self) -> ProcessPoolExecutor:
        if self.pool is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["akhbar.extract"])
            self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        return self.pool

    async def parse(self, response: Any) -> None:
        self.crawler.stats.inc_value("bench/pages")
        if not self.run_extraction:
            return
        headers = {k.decode(): v[0].decode() for k, v in response.headers.items() if v}
        if self.workers:
            # By its importable name: ``scrapy runspider`` loads this file under another one.
            from bench.fetch_spider import extracted_length as remote

            future = self._pool().submit(remote, response.body, response.url, headers)
            length, cpu = await asyncio.wrap_future(future)
        else:
            length, cpu = extracted_length(response.body, response.url, headers)
        # The pipeline's stat of the same name: the bench compares what extraction cost in each.
        self.crawler.stats.inc_value("akhbar/extraction_cpu_seconds", cpu)
        if length:
            self.crawler.stats.inc_value("bench/extracted")
