#!/usr/bin/env python
"""Scale-out benchmark: sources crawled per minute with 1, 2 and 4 `akhbar worker`s.

Generates S small news sites (one loopback address each), serves them with a simulated
per-request latency, queues one crawl job per source (`akhbar crawl --enqueue --all`) and
lets W workers (one crawl slot each, separate working directories) drain the queue into a
fresh PostgreSQL database. Crawls are polite, as in production: one request at a time per
site and a download delay between requests, so one source's crawl is mostly waiting.

Prints, per worker count: wall time from enqueue to the last job's end, sources per minute,
speed-up over one worker, CPU seconds per source (the whole process tree: workers, crawls,
extraction) and the machine's CPU use, and the floor a source cannot go below (its requests
times delay plus latency).

    .venv/bin/python bench/scale_bench.py [--sources 8] [--pages 8] [--latency 0.2]
        [--delay 0.5] [--workers 1 2 4] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from akhbar.samples import SampleSites, write_sitemap  # noqa: E402
from bench.crawl_bench import database, fresh_database  # noqa: E402


def _paragraphs() -> list[str]:
    truth = json.loads((REPO / "samples" / "truth.json").read_text(encoding="utf-8"))
    return [p for e in truth.values() if e.get("is_article") for p in e.get("paragraphs", [])]


def build_sites(root: Path, sources: int, pages: int, seed: int = 11) -> list[str]:
    """S sites with distinct articles (recombined sample paragraphs) and one registry."""
    rng = random.Random(seed)
    paragraphs = _paragraphs()
    now = datetime.now(UTC).replace(microsecond=0)
    registry = []
    names = []
    for s in range(sources):
        name, host = f"site{s:02d}", f"127.0.0.{100 + s}"
        names.append(name)
        site = root / "sites" / name
        (site / "news").mkdir(parents=True)
        entries = []
        for i in range(pages):
            published = now - timedelta(hours=1 + i)
            body = "\n".join(f"<p>{p}</p>" for p in rng.sample(paragraphs, 5))
            title = f"خبر {i} من {name}: " + rng.choice(paragraphs)[:60]
            (site / "news" / f"{i}.html").write_text(
                f"""<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>{title}</title><meta property="article:published_time" content="{published.isoformat()}">
</head><body><nav><a href="/">الرئيسية</a></nav><main><article><h1>{title}</h1>
<time datetime="{published.isoformat()}">{published:%Y-%m-%d}</time>
{body}</article></main><footer>جميع الحقوق محفوظة</footer></body></html>""",
                encoding="utf-8",
            )
            entries.append((f"/news/{i}.html", published))
        write_sitemap(site, entries)
        registry.append(
            f"""[[sources]]
name = "{name}"
title = "موقع {s}"
base_url = "http://{host}:${{AKHBAR_SAMPLES_PORT}}"
domains = ["{host}"]
timezone = "Asia/Riyadh"
sitemaps = ["{{base}}/sitemap.xml"]
article_url_patterns = ['/news/\\d+\\.html$']
"""
        )
    (root / "sources.toml").write_text("\n".join(registry), encoding="utf-8")
    return names


class TreeCpu(threading.Thread):
    """CPU seconds of a set of process trees, sampled (children that ended are counted)."""

    def __init__(self, roots: list[psutil.Process]) -> None:
        super().__init__(daemon=True)
        self.roots = roots
        self.cpu: dict[int, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.2):
            for root in self.roots:
                try:
                    procs = [root, *root.children(recursive=True)]
                except psutil.Error:
                    continue
                for p in procs:
                    try:
                        t = p.cpu_times()
                        self.cpu[p.pid] = t.user + t.system
                    except psutil.Error:
                        pass


def run_round(args: argparse.Namespace, base_url: str, root: Path, sites: SampleSites, w: int):
    from sqlalchemy import create_engine, pool, text

    db_url = fresh_database(base_url)
    env = {
        **os.environ,
        **sites.env(),
        "DATABASE_URL": db_url,
        "PYTHONPATH": str(REPO),
        "AKHBAR_SOURCES": str(root / "sources.toml"),
        "AKHBAR_AUTOTHROTTLE": "0",
        "AKHBAR_DOWNLOAD_DELAY": str(args.delay),
        "AKHBAR_CONCURRENT_PER_DOMAIN": "1",
        "AKHBAR_WORKERS": "1",
        "AKHBAR_LOG_LEVEL": "WARNING",
    }
    machines = [root / f"round{w}" / f"machine{i}" for i in range(w)]
    workers = []
    for m in machines:
        m.mkdir(parents=True)
        workers.append(
            subprocess.Popen(
                [sys.executable, "-m", "cli", "worker", "--concurrency", "1"],
                env={**env, "AKHBAR_VAR_DIR": str(m / "var")},
                cwd=m,
                stdout=(m / "worker.log").open("wb"),
                stderr=subprocess.STDOUT,
            )
        )
    engine = create_engine(db_url, poolclass=pool.NullPool)
    try:
        # Let every worker register before the clock starts (as machines already running).
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                if conn.execute(text("SELECT count(*) FROM queue_workers")).scalar() == w:
                    break
            time.sleep(0.2)
        cpu = TreeCpu([psutil.Process(p.pid) for p in workers])
        cpu.start()
        machine_cpu = psutil.cpu_times()
        started = time.monotonic()
        subprocess.run(
            [sys.executable, "-m", "cli", "crawl", "--enqueue", "--all"],
            env=env,
            cwd=REPO,
            check=True,
            capture_output=True,
        )
        while True:
            with engine.connect() as conn:
                left = conn.execute(
                    text("SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo','doing')")
                ).scalar()
            if not left:
                break
            time.sleep(0.2)
        wall = time.monotonic() - started
        machine_after = psutil.cpu_times()
        cpu.stop.set()
        cpu.join()
        with engine.connect() as conn:
            runs = conn.execute(
                text(
                    "SELECT count(*), count(*) FILTER (WHERE status = 'finished'),"
                    " avg(extract(epoch FROM finished_at - started_at)), sum(articles_stored),"
                    " (SELECT count(*) FROM duplicates)"
                    " FROM crawl_runs"
                )
            ).one()
    finally:
        for p in workers:
            p.send_signal(signal.SIGTERM)
        for p in workers:
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
        engine.dispose()
    busy = sum(
        getattr(machine_after, f) - getattr(machine_cpu, f)
        for f in ("user", "system", "nice", "irq", "softirq")
        if hasattr(machine_after, f)
    )
    return {
        "workers": w,
        "sources": args.sources,
        "wall_s": round(wall, 1),
        "sources_per_min": round(args.sources / wall * 60, 1),
        "runs": runs[0],
        "finished": runs[1],
        "articles": int(runs[3] or 0),
        "copies": int(runs[4] or 0),
        "mean_crawl_s": round(float(runs[2] or 0), 1),
        "cpu_s_per_source": round(sum(cpu.cpu.values()) / args.sources, 2),
        "machine_cpu_use": round(busy / (wall * psutil.cpu_count()), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=8)
    parser.add_argument("--pages", type=int, default=8, help="articles per source")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per response")
    parser.add_argument("--delay", type=float, default=0.5, help="DOWNLOAD_DELAY (politeness)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="akhbar-scale-"))
    base_url, server = database(args)
    results = []
    try:
        build_sites(root, args.sources, args.pages)
        with SampleSites(samples_dir=root, latency=args.latency, record_requests=False) as sites:
            for w in args.workers:
                results.append(run_round(args, base_url, root, sites, w))
                print(f"  {w} worker(s): {results[-1]['wall_s']} s", file=sys.stderr)
    finally:
        if server is not None:
            server.destroy()  # type: ignore[attr-defined]
        shutil.rmtree(root, ignore_errors=True)

    requests = args.pages + 2  # robots.txt, sitemap, articles
    floor = requests * (args.delay + args.latency)
    if args.json:
        print(json.dumps({"floor_s_per_source": floor, "rounds": results}, indent=2))
        return
    print(
        f"{args.sources} sources x {args.pages} articles, {args.latency:g} s latency per response,"
        f" DOWNLOAD_DELAY {args.delay:g} s, 1 request at a time per site, 1 slot per worker,"
        f" {psutil.cpu_count()} cores"
    )
    print(f"politeness floor per source: {requests} requests x {args.delay + args.latency:g} s"
          f" = {floor:.1f} s")  # fmt: skip
    header = (
        "| workers | wall s | sources/min | speed-up | mean crawl s | CPU s/source"
        " | machine CPU use | runs finished | articles stored | copies found |"
    )
    print(header)
    print("|---:" * 10 + "|")
    one = results[0]["sources_per_min"] if results else 1
    for r in results:
        print(
            f"| {r['workers']} | {r['wall_s']} | {r['sources_per_min']} |"
            f" {r['sources_per_min'] / one:.2f}x | {r['mean_crawl_s']} | {r['cpu_s_per_source']}"
            f" | {r['machine_cpu_use']:.0%} | {r['finished']}/{r['runs']} | {r['articles']}"
            f" | {r['copies']} |"
        )


if __name__ == "__main__":
    main()
