"""Run crawls in this process (the CLI) and report what each run did."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass
class CrawlRequest:
    sources: list[str]
    since: str | None = None
    limit: int | None = None
    dry_run: bool = False
    trigger: str = "manual"
    settings: dict[str, Any] | None = None
    log_file: Path | None = None


def run_crawls(request: CrawlRequest) -> list[int]:
    """Crawl the sources together in one Scrapy process; return their crawl_runs ids."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawlers.settings")
    settings = get_project_settings()
    log_file = request.log_file or (
        REPO_ROOT / "var" / "logs" / f"crawl-{datetime.now(UTC):%Y%m%dT%H%M%S}-{os.getpid()}.log"
    )
    log_file.parent.mkdir(parents=True, exist_ok=True)
    settings.set("LOG_FILE", str(log_file), priority="cmdline")
    settings.set("AKHBAR_RUN_TRIGGER", request.trigger, priority="cmdline")
    if request.dry_run:
        settings.set("AKHBAR_STORE", False, priority="cmdline")
        settings.set("AKHBAR_SKIP_KNOWN", False, priority="cmdline")
    for key, value in (request.settings or {}).items():
        settings.set(key, value, priority="cmdline")

    process = CrawlerProcess(settings)
    crawlers = []
    for name in request.sources:
        crawler = process.create_crawler(name)
        crawlers.append(crawler)
        process.crawl(crawler, since=request.since, limit=request.limit)
    process.start()
    return [c.akhbar_run.run_id for c in crawlers if getattr(c, "akhbar_run", None)]
