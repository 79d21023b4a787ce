"""A process pool for the CPU-heavy core (extraction, MinHash).

Scrapy runs one thread; parsing HTML there stalls every download. Pages go to worker
processes instead. One pool per crawler process, shared by every spider in it. Workers
come from a forkserver that has already imported the core, so they start fast and never
inherit the reactor's state.
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import Executor, ProcessPoolExecutor

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_users = 0


def acquire_pool(workers: int) -> Executor | None:
    """The shared pool (None when workers == 0: process inline, for debugging and bench)."""
    global _pool, _users
    if workers <= 0:
        return None
    with _lock:
        if _pool is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["akhbar.processing"])
            _pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
        _users += 1
        return _pool


def release_pool() -> None:
    global _pool, _users
    with _lock:
        _users = max(0, _users - 1)
        if _users == 0 and _pool is not None:
            _pool.shutdown(wait=True, cancel_futures=True)
            _pool = None
