"""A process pool for the CPU-heavy core (extraction, MinHash).

Scrapy runs one thread; parsing HTML there stalls every download. Pages go to worker
processes instead. One pool per crawler process, shared by every spider in it. Workers
come from a forkserver that has already imported the core, so they start fast and never
inherit the reactor's state.

They die with the crawl, even a SIGKILLed one: the forkserver asks the kernel for SIGKILL
when the crawl process dies, and each worker for SIGKILL when the forkserver dies
(PR_SET_PDEATHSIG, Linux; elsewhere a thread watching the parent). The resource tracker
then sees its last client gone and exits too.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from akhbar.page import FetchedPage, ProcessedPage

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_users = 0

# Set by the crawl process for its forkserver: "die with this parent" (see lifeline()).
PARENT_ENV = "AKHBAR_POOL_PARENT"
_PR_SET_PDEATHSIG = 1
# Allocations between collections of the youngest generation (Python's default: 700).
GC_THRESHOLD = 10_000


def start_worker() -> None:
    """A worker's start: die with the forkserver, and keep the garbage collector off the
    modules the forkserver preloaded (they live as long as the worker)."""
    die_with_parent()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])


def die_with_parent() -> None:
    """Get SIGKILL when the parent process dies; exit now if it already has."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    else:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent or parent == 1:  # died before prctl took effect
        os._exit(1)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def lifeline() -> None:
    """Run on import of this module in the forkserver (it preloads it): a direct child of
    the crawl process that set PARENT_ENV is the forkserver."""
    owner = os.environ.get(PARENT_ENV)
    if owner and owner.isdigit() and os.getppid() == int(owner) and os.getpid() != int(owner):
        die_with_parent()


lifeline()


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
            os.environ[PARENT_ENV] = str(os.getpid())
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["pipelines.workers", "akhbar.processing"])
            _pool = ProcessPoolExecutor(
                max_workers=workers, mp_context=context, initializer=start_worker
            )
        _users += 1
        return _pool


def release_pool() -> None:
    global _pool, _users
    with _lock:
        _users = max(0, _users - 1)
        if _users == 0 and _pool is not None:
            _pool.shutdown(wait=True, cancel_futures=True)
            _pool = None
