#!/usr/bin/env python
"""Where the pipeline's CPU above "fetch + extraction" goes, stage by stage, without Scrapy.

    .venv/bin/python bench/overhead_breakdown.py [--pages 1500] [--batch 100] [--repeat 3]
        [--page-size news|sample]

``bench/crawl_bench.py`` measures the whole crawl against Scrapy with extraction alone; this
script splits the difference into the stages the pipeline adds. It uses the same generated
site (bench/crawl_bench.py ``build_site``, news-sized pages unless ``--page-size sample``),
in one process, on a throwaway PostgreSQL cluster with the durable defaults. The CPU of each stage is measured in the thread that does the
work (``time.thread_time``); the server's CPU is the CPU of all its processes:

* extraction: ``akhbar.extract.extract`` as the crawl calls it (the floor's own work);
* quality + fingerprints: the rest of ``akhbar.processing.process_page_remote`` (quality
  verdict, normalised paragraphs, template keys, content hash, MinHash signature and
  paragraph sketches, search vector, HTML compression);
* to and from a worker: pickling the page to a worker and its result back (what the crawl
  with ``AKHBAR_WORKERS`` adds; none inline);
* store, client: ``db.article_store.store_articles`` in batches of ``--batch`` (the dedup
  decisions, the index lookups, COPY of the rows), commits included;
* store, server: what PostgreSQL spends on those batches.

What this does not see is the Scrapy side of the pipeline: the spider's and middlewares'
work, the resume journal, the known-URL checks, the per-page log line and stats, the
item pipelines' own machinery and the start-up imports. The crawl bench's overhead less the
sum printed here is that part. Each figure is the median of ``--repeat`` passes (each with
a fresh database).
"""

from __future__ import annotations

import argparse
import os
import pickle
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from akhbar import processing  # noqa: E402
from akhbar.page import FetchedPage, ProcessedPage  # noqa: E402
from akhbar.sources import load_sources  # noqa: E402
from bench.crawl_bench import (  # noqa: E402
    BENCH_HOST,
    PAGE_SIZES,
    CPUDelta,
    build_site,
    database,
    fresh_database,
    merge_gin_pending,
    postmaster_pid,
)
from db.article_store import row_from_processed, store_articles  # noqa: E402
from db.engine import get_engine, session_scope  # noqa: E402
from db.queries import upsert_source  # noqa: E402

STAGES = (
    "extraction",
    "quality + fingerprints",
    "to and from a worker",
    "store, client",
    "store, server",
)


class _TimedExtract:
    """``extract`` as process_page calls it, adding up its thread CPU."""

    def __init__(self, extract) -> None:  # noqa: ANN001
        self.extract = extract
        self.seconds = 0.0

    def __call__(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN204
        started = time.thread_time()
        try:
            return self.extract(*args, **kwargs)
        finally:
            self.seconds += time.thread_time() - started


def process_pages(pages: list[FetchedPage]) -> tuple[list[ProcessedPage], dict[str, float]]:
    """Each page as a crawl worker processes it; CPU seconds by stage."""
    timed = _TimedExtract(processing.extract)
    processing.extract = timed  # process_page calls the module's name
    results, total, transport = [], 0.0, 0.0
    try:
        for page in pages:
            started = time.thread_time()
            sent = pickle.loads(pickle.dumps(page, protocol=pickle.HIGHEST_PROTOCOL))
            transport += time.thread_time() - started
            started = time.thread_time()
            processed = processing.process_page_remote(sent)
            total += time.thread_time() - started
            started = time.thread_time()
            back = pickle.loads(pickle.dumps(processed, protocol=pickle.HIGHEST_PROTOCOL))
            back.page = page  # as the pipeline puts its page (with the body) back
            transport += time.thread_time() - started
            results.append(back)
    finally:
        processing.extract = timed.extract
    return results, {
        "extraction": timed.seconds,
        "quality + fingerprints": total - timed.seconds,
        "to and from a worker": transport,
    }


def store(
    processed: list[ProcessedPage], url: str, db_pid: int | None, batch: int
) -> dict[str, float]:
    """Store the articles in batches; client thread CPU and server CPU seconds."""
    engine = get_engine(url)
    try:
        with session_scope(engine) as session:
            source_id = upsert_source(session, load_sources()["bench"])
        rows = [
            row_from_processed(p, source_id=source_id, run_id=None)
            for p in processed
            if p.rejected is None
        ]
        client = 0.0
        with CPUDelta(db_pid) as server:
            for start in range(0, len(rows), batch):
                started = time.thread_time()
                with session_scope(engine) as session:
                    store_articles(session, rows[start : start + batch])
                client += time.thread_time() - started
            merge_gin_pending(url)  # the index entries still waiting, counted with the rest
        return {"store, client": client, "store, server": server.cpu_seconds or 0.0}
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=1500)
    parser.add_argument("--batch", type=int, default=100, help="as AKHBAR_STORE_BATCH_SIZE")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--page-size", choices=PAGE_SIZES, default="news", help="as bench/crawl_bench.py's"
    )
    args = parser.parse_args()

    site_root = Path(tempfile.mkdtemp(prefix="akhbar-breakdown-site-"))
    server = None
    try:
        files = build_site(site_root, args.pages, page_size=args.page_size)
        os.environ["AKHBAR_SOURCES"] = str(site_root / "sources.toml")
        os.environ.setdefault("AKHBAR_SAMPLES_PORT", "8000")  # the registry's base_url needs one
        base = f"http://{BENCH_HOST}:{os.environ['AKHBAR_SAMPLES_PORT']}"
        source = load_sources()["bench"]
        pages = [
            FetchedPage(
                source="bench",
                url=f"{base}/news/{path.name}",
                body=path.read_bytes().replace(b"{{BASE}}", base.encode()),
                headers={"Content-Type": "text/html; charset=utf-8"},
                fetched_at=datetime.now(UTC),
                timezone=source.timezone,
            )
            for path in files
        ]
        base_url, server = database(argparse.Namespace())
        db_pid = postmaster_pid(server)
        passes: list[dict[str, float]] = []
        for _ in range(max(1, args.repeat)):
            processed, seconds = process_pages(pages)
            url = fresh_database(base_url)
            seconds |= store(processed, url, db_pid, args.batch)
            passes.append({stage: seconds[stage] / len(pages) * 1000 for stage in STAGES})
            stored = sum(1 for p in processed if p.rejected is None)
    finally:
        shutil.rmtree(site_root, ignore_errors=True)
        if server is not None:
            server.destroy()

    ms = {stage: statistics.median(p[stage] for p in passes) for stage in STAGES}
    print(
        f"{len(pages)} {args.page_size}-sized pages ({stored} stored articles), "
        f"store batches of {args.batch}"
    )
    print(f"CPU milliseconds per page, median of {len(passes)} pass(es)")
    print(f"{'stage':<28}{'ms/page':>9}{'of extraction':>15}   passes")
    for stage in STAGES:
        runs = ", ".join(f"{p[stage]:.3f}" for p in passes)
        print(f"{stage:<28}{ms[stage]:>9.3f}{ms[stage] / ms['extraction']:>15.0%}   {runs}")
    added = sum(ms[stage] for stage in STAGES[1:])
    inline = added - ms["to and from a worker"]
    print(f"added by the pipeline, inline (no worker transport): {inline:.3f} ms/page")
    print(f"added by the pipeline, with workers: {added:.3f} ms/page")


if __name__ == "__main__":
    main()
