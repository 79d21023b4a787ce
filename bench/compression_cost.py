#!/usr/bin/env python
"""What compressing a page for ``article_html`` costs a crawl worker, the extraction after it
included.

    .venv/bin/python bench/compression_cost.py [--pages 181] [--rounds 3]

A crawl worker extracts a page, then compresses its HTML for ``article_html``
(``akhbar.processing.process_page_remote``), then takes the next page. The compressor's own
time is not its whole cost: on this machine's Xeon, ISA-L (python-isal, AVX-512 code) made the
``extract()`` that ran next 1.1-1.3 ms slower, although it compressed four times faster than
the standard library. This script sends the pages to 2 worker processes started as the
crawl starts its own (``akhbar.processes.worker_pool``); each runs ``process_page`` and then
one compressor (none, the standard library's zlib at levels 1 and 6, and ISA-L at level 2 if
python-isal is installed) on every page. It prints, per page, the compressor's CPU and the CPU
of the ``extract()`` calls between them (``ProcessedPage.extraction_cpu_s``). Compressors take
turns within each round, so a change in the machine's speed hits them alike. Pages: the 181
real pages of bench/data and the crawl bench's news-sized pages. (In one process, without the
hand-over between processes, the effect was smaller and came and went.)
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from akhbar.page import FetchedPage  # noqa: E402
from akhbar.processes import worker_pool  # noqa: E402
from akhbar.processing import process_page  # noqa: E402
from bench.crawl_bench import build_site  # noqa: E402

REAL_PAGES = REPO / "bench" / "data" / "article-extraction-benchmark" / "html"
BASE = "http://127.0.0.60:8000"


def compressors() -> dict[str, Callable[[bytes], object] | None]:
    found: dict[str, Callable[[bytes], object] | None] = {
        "none": None,
        "zlib level 1 (the crawl's)": lambda body: zlib.compress(body, 1),
        "zlib level 6": lambda body: zlib.compress(body, 6),
    }
    try:
        from isal import isal_zlib
    except ImportError:
        pass
    else:
        found["ISA-L level 2"] = lambda body: isal_zlib.compress(body, 2)
    return found


def extract_then_compress(body: bytes, k: int, compressor: str) -> tuple[float, float]:
    """In a worker: the crawl's processing of one page, then ``compressor`` on its HTML;
    (extract() CPU seconds, compressor CPU seconds)."""
    page = FetchedPage(
        source="bench",
        url=f"{BASE}/news/{k}.html",
        body=body,
        headers={"Content-Type": "text/html; charset=utf-8"},
        timezone="Asia/Damascus",
        fetched_at=datetime.now(UTC),
    )
    extraction = process_page(page).extraction_cpu_s
    compress = compressors()[compressor]
    started = time.thread_time()
    if compress is not None:
        compress(body)
    return extraction, time.thread_time() - started


def one_pass(bodies: list[bytes], compressor: str) -> tuple[float, float]:
    """(extract() ms, compressor ms) per page over one pass, in 2 fresh workers."""
    pool = worker_pool(2, ["akhbar.processing", "bench.compression_cost"])
    assert pool is not None
    try:
        futures = [
            pool.submit(extract_then_compress, body, k, compressor) for k, body in enumerate(bodies)
        ]
        results = [future.result() for future in futures]
    finally:
        pool.shutdown()
    return (
        sum(r[0] for r in results) / len(bodies) * 1000,
        sum(r[1] for r in results) / len(bodies) * 1000,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=181, help="pages of each kind")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    kinds = {
        "real pages (bench/data)": [
            gzip.decompress(path.read_bytes())
            for path in sorted(REAL_PAGES.glob("*.html.gz"))[: args.pages]
        ]
    }
    with tempfile.TemporaryDirectory(prefix="akhbar-compression-cost-") as tmp:
        files = build_site(Path(tmp), args.pages, page_size="news")
        kinds["crawl bench, news-sized"] = [
            f.read_bytes().replace(b"{{BASE}}", BASE.encode()) for f in files
        ]
    found = compressors()
    print(
        f"CPU ms per page in 2 workers, median of {args.rounds} rounds (compressors take turns"
        " each round)"
    )
    header = f"{'pages':<26}{'compressor':<28}{'compress':>9}{'extract()':>11}{'both':>8}"
    print(header)
    print("-" * len(header))
    for kind, bodies in kinds.items():
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in found}
        for _ in range(args.rounds):
            for name in found:
                runs[name].append(one_pass(bodies, name))
        for name, passes in runs.items():
            extraction = statistics.median(p[0] for p in passes)
            compressing = statistics.median(p[1] for p in passes)
            print(
                f"{kind:<26}{name:<28}{compressing:>9.2f}{extraction:>11.2f}"
                f"{extraction + compressing:>8.2f}"
            )


if __name__ == "__main__":
    main()
