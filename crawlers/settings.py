"""Scrapy settings for akhbar. The AKHBAR_* values come from akhbar/settings.py, where each is
declared once (environment variable, type, default); any of them, and any Scrapy setting, can
also be given on the command line with ``-s NAME=VALUE``."""

from __future__ import annotations

from akhbar.settings import scrapy_settings

# AKHBAR_WORKERS, AKHBAR_STORE, AKHBAR_RESUME, AKHBAR_INCREMENTAL, AKHBAR_METRICS_PORT, ...:
# components read them from crawler.settings under these names.
_akhbar = scrapy_settings()
globals().update(_akhbar)

BOT_NAME = "akhbar"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"
# `scrapy crawl` exits non-zero on a failed run and logs JSON lines from the first line;
# `scrapy parse` records no run (crawlers/commands/).
COMMANDS_MODULE = "crawlers.commands"

# --- politeness --------------------------------------------------------------------------
USER_AGENT = _akhbar["AKHBAR_USER_AGENT"]
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = _akhbar["AKHBAR_CONCURRENT_REQUESTS"]
CONCURRENT_REQUESTS_PER_DOMAIN = _akhbar["AKHBAR_CONCURRENT_PER_DOMAIN"]
DOWNLOAD_DELAY = _akhbar["AKHBAR_DOWNLOAD_DELAY"]
AUTOTHROTTLE_ENABLED = _akhbar["AKHBAR_AUTOTHROTTLE"]
AUTOTHROTTLE_START_DELAY = DOWNLOAD_DELAY
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = _akhbar["AKHBAR_AUTOTHROTTLE_TARGET"]
DOWNLOAD_MAXSIZE = _akhbar["AKHBAR_MAX_RESPONSE_BYTES"]
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
DOWNLOAD_TIMEOUT = _akhbar["AKHBAR_DOWNLOAD_TIMEOUT"]
RETRY_ENABLED = True
RETRY_TIMES = _akhbar["AKHBAR_RETRY_TIMES"]
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
REDIRECT_MAX_TIMES = 5
# Scrapy starts this many tasks for every response to handle its callback's output in
# parallel (default 100). Our callbacks yield one item (an article page) or requests
# (discovery pages), which need no parallelism: 100 tasks per page were ~10% of the crawl
# process's CPU.
CONCURRENT_ITEMS = 4

# --- components --------------------------------------------------------------------------
DOWNLOADER_MIDDLEWARES = {
    # Incremental crawling: URLs already stored or known as duplicates are not fetched.
    "crawlers.middlewares.SkipKnownUrlsMiddleware": 560,
    "crawlers.middlewares.BackoffRetryMiddleware": 550,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
}
SPIDER_MIDDLEWARES = {
    # Incremental crawling: article URLs already known are dropped in batches before they
    # are journaled or scheduled (SkipKnownUrlsMiddleware checks what this did not).
    "crawlers.middlewares.KnownUrlsBatchMiddleware": 60,
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
# The AKHBAR_* settings are above (scrapy_settings); see akhbar/settings.py for each one.

LOG_LEVEL = _akhbar["AKHBAR_LOG_LEVEL"]
FEED_EXPORT_ENCODING = "utf-8"
