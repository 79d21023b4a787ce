"""Worker processes that never outlive the process that owns them.

One place for every pool of CPU-heavy workers (the crawl's extraction and MinHash,
``akhbar import``'s fingerprints, ``akhbar dedup-index rebuild``'s signatures) and for the
child processes the queue worker starts:

* a pool's workers come from a forkserver that has imported the modules they need, so they
  start fast and inherit no connection, lock, thread or reactor state of their owner;
* each worker exits when its owner dies, even SIGKILLed (it watches the owner's pid: it holds
  the pool's pipes open, so it would otherwise wait for work forever); the forkserver exits
  when its owner's end of its pipe closes, and the resource tracker when its last client is
  gone;
* Ctrl-C is for the owner, which stops the pool (an interrupted worker would only print a
  traceback);
* the garbage collector leaves alone what the worker imported (it lives as long as the worker).
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import select
import signal
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

# Allocations between collections of the youngest generation (Python's default: 700).
GC_THRESHOLD = 10_000
_PR_SET_PDEATHSIG = 1


def worker_pool(workers: int, preload: Sequence[str]) -> ProcessPoolExecutor | None:
    """``workers`` worker processes that have imported ``preload`` (None when ``workers`` is
    0 or less: the caller computes in its own process). The caller shuts the pool down."""
    if workers <= 0:
        return None
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(preload))
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(os.getpid(),),
    )


def _start_worker(owner: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(owner,), daemon=True).start()
    settle_garbage_collector()


def _exit_with(pid: int) -> None:
    """Block until process ``pid`` has exited, then end this process."""
    try:
        select.select([os.pidfd_open(pid)], [], [])  # readable once the process has exited
    except ProcessLookupError:  # gone already
        pass
    except (AttributeError, OSError):  # no pidfd (not Linux 5.3+): ask twice a second
        while _alive(pid):
            time.sleep(0.5)
    os._exit(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def settle_garbage_collector() -> None:
    """Keep the cyclic garbage collector off the objects that live as long as the process.

    Once a process has imported and built what it keeps (modules, classes, SQLAlchemy's and
    Scrapy's structures), ``gc.freeze`` moves it out of the collected generations, and a
    larger first generation makes collections rarer. In a crawl, collections took about 7%
    of the crawl process's CPU before this (the full ones scanned every imported object).
    No full collection first: start-up leaves a few dozen cyclic objects (46 when
    measured), not worth a pass over every object (60-90 ms of CPU)."""
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])


def signal_when_parent_dies(signum: int = signal.SIGTERM) -> None:
    """For a child process about to ``exec`` (``subprocess.Popen(preexec_fn=...)``): the
    kernel sends it ``signum`` when its parent dies, even SIGKILLed (Linux; elsewhere
    nothing: the parent's own clean-up stops it)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0)
    except (OSError, AttributeError):
        pass
