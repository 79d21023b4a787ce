"""Each crawl is a row in crawl_runs. The row is created when the first component needs
it (pipelines open before the spider_opened signal) and kept on the crawler."""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass
from typing import Any

from db.engine import get_engine, session_scope
from db.queries import start_run, upsert_source

_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class RunContext:
    source_id: int
    run_id: int


def run_context(crawler: Any) -> RunContext:
    with _lock:
        existing = getattr(crawler, "akhbar_run", None)
        if existing is not None:
            return existing
        spider = crawler.spider
        source = spider.source
        settings = crawler.settings
        with session_scope(get_engine()) as session:
            source_id = upsert_source(session, source)
            run_id = start_run(
                session,
                source_id=source_id,
                spider=spider.name,
                trigger=settings.get("AKHBAR_RUN_TRIGGER", "manual"),
                log_path=settings.get("LOG_FILE"),
                hostname=socket.gethostname(),
                pid=os.getpid(),
            )
        context = RunContext(source_id=source_id, run_id=run_id)
        crawler.akhbar_run = context
        return context
