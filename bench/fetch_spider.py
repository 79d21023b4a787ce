"""The floor the crawl benchmark compares the pipeline against: Scrapy alone.

A plain SitemapSpider over the benchmark site, with no akhbar pipeline, middleware or
extension. With ``-a extract=1`` each page also goes through ``akhbar.extract.extract`` (the
same call the pipeline's workers make) and nothing else: no quality filter, fingerprints,
dedup or storage. Run by ``bench/crawl_bench.py`` as ``scrapy runspider`` from a directory
without ``scrapy.cfg``, so the project's settings are not loaded.
"""

from __future__ import annotations

from typing import Any

from scrapy.spiders import SitemapSpider


class FetchOnlySpider(SitemapSpider):
    name = "fetch_only"

    def __init__(self, sitemap: str, extract: str = "0", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sitemap_urls = [sitemap]
        self.run_extraction = extract == "1"

    def parse(self, response: Any) -> None:
        self.crawler.stats.inc_value("bench/pages")
        if self.run_extraction:
            from akhbar.extract import extract

            headers = {k.decode(): v[0].decode() for k, v in response.headers.items() if v}
            article = extract(response.body, response.url, headers, timezone="Asia/Damascus")
            if article.text:
                self.crawler.stats.inc_value("bench/extracted")
