"""The crawl's process pool for the CPU-heavy core (extraction, MinHash).

Scrapy runs one thread; parsing HTML there stalls every download. Pages go to worker
processes instead. One pool per crawler process, shared by every spider in it, made by
``akhbar.processes.worker_pool``: workers come from a forkserver that has already imported
the core, so they start fast and never inherit the reactor's state, and they die with the
crawl, even a SIGKILLed one.
"""

from __future__ import annotations

import threading
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import TYPE_CHECKING

from akhbar.processes import worker_pool

if TYPE_CHECKING:
    from akhbar.page import FetchedPage, ProcessedPage

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_users = 0


def process_in_worker(page: FetchedPage) -> ProcessedPage:
    """``akhbar.processing.process_page_remote``, named here so that the crawl process can send
    it to a worker without importing the extraction stack itself (the forkserver preloads it)."""
    from akhbar.processing import process_page_remote

    return process_page_remote(page)


def acquire_pool(workers: int) -> Executor | None:
    """The shared pool (None when workers == 0: process inline, for debugging and bench)."""
    global _pool, _users
    if workers <= 0:
        return None
    with _lock:
        if _pool is None:
            _pool = worker_pool(workers, ["pipelines.workers", "akhbar.processing"])
        _users += 1
        return _pool


def release_pool() -> None:
    global _pool, _users
    with _lock:
        _users = max(0, _users - 1)
        if _users == 0 and _pool is not None:
            _pool.shutdown(wait=True, cancel_futures=True)
            _pool = None
