"""Run crawls: in this process (the CLI, several sources sharing one extraction pool) or
as one subprocess per crawl (the scheduler: Scrapy's reactor cannot restart in a process)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crawlers.runlog import install_run_log, var_dir

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass
class CrawlRequest:
    sources: list[str]
    since: str | None = None
    limit: int | None = None
    dry_run: bool = False
    full: bool = False
    trigger: str = "manual"
    settings: dict[str, Any] | None = None
    log_file: Path | None = None


def run_crawls(
    request: CrawlRequest, on_start: Callable[[list[Any]], None] | None = None
) -> list[int]:
    """Crawl the sources together in one Scrapy process; return their crawl_runs ids.

    ``on_start(crawlers)`` is called once the crawlers exist (a progress display reads
    their stats from another thread). Logs go to one file for the whole invocation, in
    var/logs; each run's row points at it.
    """
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawlers.settings")
    settings = get_project_settings()
    label = request.sources[0] if len(request.sources) == 1 else "crawl"
    log_file = request.log_file or (
        var_dir() / "logs" / label / f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{os.getpid()}.log"
    )
    log_file.parent.mkdir(parents=True, exist_ok=True)
    settings.set("LOG_FILE", str(log_file), priority="cmdline")
    settings.set("AKHBAR_RUN_TRIGGER", request.trigger, priority="cmdline")
    if request.dry_run:
        settings.set("AKHBAR_STORE", False, priority="cmdline")
        settings.set("AKHBAR_SKIP_KNOWN", False, priority="cmdline")
    for key, value in (request.settings or {}).items():
        settings.set(key, value, priority="cmdline")
    # JSON lines from the first line: before Scrapy logs its start-up block.
    install_run_log(settings, label)

    process = CrawlerProcess(settings)
    crawlers = []
    for name in request.sources:
        crawler = process.create_crawler(name)
        crawlers.append(crawler)
        process.crawl(
            crawler, since=request.since, limit=request.limit, full="1" if request.full else None
        )
    if on_start is not None:
        on_start(crawlers)
    process.start()
    return [c.akhbar_run.run_id for c in crawlers if getattr(c, "akhbar_run", None)]


def crawl_command(
    source: str,
    *,
    trigger: str = "scheduled",
    log_file: Path | None = None,
    settings: dict[str, Any] | None = None,
    full: bool = False,
) -> list[str]:
    """The `scrapy crawl` command line for one crawl in its own process."""
    cmd = [sys.executable, "-m", "scrapy", "crawl", source, "-s", f"AKHBAR_RUN_TRIGGER={trigger}"]
    if log_file is not None:
        cmd += ["-s", f"LOG_FILE={log_file}"]
    for key, value in (settings or {}).items():
        cmd += ["-s", f"{key}={value}"]
    if full:
        cmd += ["-a", "full=1"]
    return cmd
