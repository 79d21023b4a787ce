"""Scrapy settings for akhbar. Each can be overridden by an AKHBAR_* environment variable
(see README, "Configuration") or on the command line with ``-s NAME=VALUE``."""

from __future__ import annotations

import os


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


BOT_NAME = "akhbar"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

# --- politeness --------------------------------------------------------------------------
USER_AGENT = _env(
    "AKHBAR_USER_AGENT", "akhbar-bot/0.1 (+https://github.com/akhbar/akhbar; news archiving)"
)
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = int(_env("AKHBAR_CONCURRENT_REQUESTS", "32"))
CONCURRENT_REQUESTS_PER_DOMAIN = int(_env("AKHBAR_CONCURRENT_PER_DOMAIN", "4"))
DOWNLOAD_DELAY = float(_env("AKHBAR_DOWNLOAD_DELAY", "0.25"))
AUTOTHROTTLE_ENABLED = _env("AKHBAR_AUTOTHROTTLE", "1") == "1"
AUTOTHROTTLE_START_DELAY = DOWNLOAD_DELAY
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = float(_env("AKHBAR_AUTOTHROTTLE_TARGET", "2.0"))
DOWNLOAD_MAXSIZE = int(_env("AKHBAR_MAX_RESPONSE_BYTES", str(8 * 1024 * 1024)))
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
# Sitemaps and feeds (gzipped or not) are read up to this many bytes after decompression: the
# sitemap protocol's own 50 MB ceiling (akhbar/discovery.py); a gzip bomb stops here.
AKHBAR_MAX_DECOMPRESSED_BYTES = int(_env("AKHBAR_MAX_DECOMPRESSED_BYTES", str(50 * 1024 * 1024)))
DOWNLOAD_TIMEOUT = int(_env("AKHBAR_DOWNLOAD_TIMEOUT", "30"))
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
REDIRECT_MAX_TIMES = 5

# --- components --------------------------------------------------------------------------
DOWNLOADER_MIDDLEWARES = {
    # Incremental crawling: URLs already stored or known as duplicates are not fetched.
    "crawlers.middlewares.SkipKnownUrlsMiddleware": 560,
    "crawlers.middlewares.BackoffRetryMiddleware": 550,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
}
SPIDER_MIDDLEWARES = {
    # Resumable crawls: a journal of the frontier that survives SIGKILL (crawlers/resume.py).
    "crawlers.resume.ResumeJournalMiddleware": 50,
}
ITEM_PIPELINES = {
    "pipelines.extraction.ExtractionPipeline": 100,
    "pipelines.template.TemplateTextPipeline": 150,
    "pipelines.quality.QualityFilterPipeline": 200,
    "pipelines.storage.DedupStoragePipeline": 300,
}
EXTENSIONS = {
    "crawlers.extensions.CrawlRunRecorder": 100,
}

# --- akhbar ------------------------------------------------------------------------------
# Worker processes for extraction and MinHash (CPU-heavy; Scrapy itself runs one thread).
AKHBAR_WORKERS = int(_env("AKHBAR_WORKERS", str(os.cpu_count() or 2)))
AKHBAR_RUN_TRIGGER = _env("AKHBAR_RUN_TRIGGER", "manual")
AKHBAR_STORE = _env("AKHBAR_STORE", "1") == "1"  # 0: dry run, fetch and extract only

# Resume an interrupted crawl from var/jobs/<source>; read only feed/sitemap entries newer
# than the last successful run (less an overlap) unless `-a full=1` / `akhbar crawl --full`.
AKHBAR_RESUME = _env("AKHBAR_RESUME", "1") == "1"
AKHBAR_INCREMENTAL = _env("AKHBAR_INCREMENTAL", "1") == "1"
AKHBAR_INCREMENTAL_OVERLAP_HOURS = float(_env("AKHBAR_INCREMENTAL_OVERLAP_HOURS", "24"))
# How often the crawl_runs row gets the counters so far (progress displays read them).
AKHBAR_RUN_FLUSH_INTERVAL = float(_env("AKHBAR_RUN_FLUSH_INTERVAL", "5"))
# Log files: "json" (one JSON object a line) or "text" (Scrapy's format).
AKHBAR_LOG_FORMAT = _env("AKHBAR_LOG_FORMAT", "json")
# Prometheus metrics on 127.0.0.1:PORT when set (akhbar/metrics.py).
AKHBAR_METRICS_PORT = int(_env("AKHBAR_METRICS_PORT", "0"))

LOG_LEVEL = _env("AKHBAR_LOG_LEVEL", "INFO")
FEED_EXPORT_ENCODING = "utf-8"
