#!/usr/bin/env python
"""End-to-end crawl benchmark: real Scrapy against a generated local news site.

Builds a site of N article pages from the sample sites' real layouts (each page keeps its
template's boilerplate, with body paragraphs recombined so pages are distinct articles),
serves it on 127.0.0.x, and crawls it with `scrapy crawl` into a fresh PostgreSQL database:

* with extraction inline in Scrapy's thread (AKHBAR_WORKERS=0: the "before"),
* with extraction and MinHash in worker processes (AKHBAR_WORKERS=2: the "after"),

then runs trafilatura alone over the same pages on both cores. Prints pages/s, CPU seconds
per page and peak memory (the whole process tree) for each, and the ratios.

    .venv/bin/python bench/crawl_bench.py [--pages 1500] [--json]
"""

from __future__ import annotations

import argparse
import html
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from akhbar.samples import SampleSites  # noqa: E402

BENCH_HOST = "127.0.0.60"


# -- the site ---------------------------------------------------------------------------------
def _templates() -> list[tuple[str, list[str]]]:
    """(page html, its body paragraphs) for every sample article page."""
    truth_path = REPO / "samples" / "truth.json"
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    out = []
    for entry in truth.values():
        if not entry.get("is_article") or entry.get("encoding", "utf-8") != "utf-8":
            continue
        file = _page_file(entry["source"], entry["url_path"])
        if file is None:
            continue
        out.append((file.read_bytes().decode("utf-8-sig"), entry["paragraphs"]))
    return out


def _page_file(source: str, url_path: str) -> Path | None:
    root = REPO / "samples" / "sites" / source
    candidate = root / url_path.lstrip("/")
    for path in (candidate, candidate / "index.html", candidate.with_suffix(".html")):
        if path.is_file():
            return path
    return None


def build_site(root: Path, pages: int, seed: int = 7) -> list[Path]:
    rng = random.Random(seed)
    templates = _templates()
    if not templates:
        raise SystemExit("No sample article pages found under samples/ (see samples/truth.json).")
    pool = [p for _, paras in templates for p in paras if len(p.split()) > 8]
    site = root / "sites" / "bench"
    (site / "news").mkdir(parents=True)
    files = []
    for i in range(pages):
        page, paragraphs = templates[i % len(templates)]
        for j, para in enumerate(paragraphs):
            replacement = f"{rng.choice(pool)} ({i}-{j})"
            for form in (para, html.escape(para, quote=False), html.escape(para)):
                if form in page:
                    page = page.replace(form, html.escape(replacement, quote=False), 1)
                    break
        # Point canonical/og:url at the page itself so each page is its own article.
        page = re.sub(
            r'(<link[^>]+rel="canonical"[^>]+href=")[^"]*',
            rf"\g<1>{{{{BASE}}}}/news/{i}.html",
            page,
        )
        page = re.sub(
            r'(<meta[^>]+property="og:url"[^>]+content=")[^"]*',
            rf"\g<1>{{{{BASE}}}}/news/{i}.html",
            page,
        )
        path = site / "news" / f"{i}.html"
        path.write_text(page, encoding="utf-8")
        files.append(path)
    urls = "".join(f"<url><loc>{{{{BASE}}}}/news/{i}.html</loc></url>" for i in range(pages))
    (site / "sitemap.xml").write_text(
        f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    )
    (site / "robots.txt").write_text("User-agent: *\nDisallow: /search\n")
    (root / "sources.toml").write_text(
        f"""[[sources]]
name = "bench"
title = "bench"
base_url = "http://{BENCH_HOST}:${{AKHBAR_SAMPLES_PORT}}"
domains = ["{BENCH_HOST}"]
language = "ar"
timezone = "Asia/Damascus"
sitemaps = ["{{base}}/sitemap.xml"]
feeds = []
listings = []
article_url_patterns = ['/news/\\d+\\.html$']
listing_url_patterns = []
verified = true
"""
    )
    return files


# -- measuring a process tree -----------------------------------------------------------------
class TreeSampler:
    """CPU seconds and peak RSS of a process and all its descendants, sampled every 50 ms."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.cpu: dict[int, float] = {}
        self.peak_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        try:
            procs = [self.root, *self.root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        rss = 0
        for proc in procs:
            try:
                times = proc.cpu_times()
                self.cpu[proc.pid] = times.user + times.system
                rss += proc.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        self.peak_rss = max(self.peak_rss, rss)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            time.sleep(0.05)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu.values())


# -- the runs ---------------------------------------------------------------------------------
def database(args: argparse.Namespace) -> tuple[str, object | None]:
    if url := os.environ.get("DATABASE_URL"):
        return url, None
    from db.embedded import ADMIN_ROLE, EmbeddedPostgres, free_port

    home = Path(tempfile.mkdtemp(prefix="akhbar-bench-pg-", dir="/tmp"))
    home.chmod(0o755)
    server = EmbeddedPostgres(home=home, port=free_port())
    server.start()
    return server.url_for(ADMIN_ROLE, "akhbar"), server  # it creates databases


def fresh_database(base_url: str) -> str:
    import psycopg
    from sqlalchemy.engine import make_url

    from db.migrate import upgrade

    url = make_url(base_url)
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    new_url = url.set(database=name).render_as_string(hide_password=False)
    upgrade(new_url)
    return new_url


def crawl(site_root: Path, sites: SampleSites, db_url: str, workers: int) -> dict:
    env = dict(
        os.environ,
        **sites.env(),
        DATABASE_URL=db_url,
        AKHBAR_SOURCES=str(site_root / "sources.toml"),
        AKHBAR_WORKERS=str(workers),
        AKHBAR_AUTOTHROTTLE="0",
        AKHBAR_DOWNLOAD_DELAY="0",
        AKHBAR_CONCURRENT_PER_DOMAIN="32",
        AKHBAR_CONCURRENT_REQUESTS="64",
        AKHBAR_LOG_LEVEL="WARNING",
        PYTHONPATH=str(REPO),
    )
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "scrapy", "crawl", "bench"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    with TreeSampler(proc.pid) as sampler:
        _, stderr = proc.communicate()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"crawl failed ({proc.returncode}):\n{stderr[-3000:]}")
    from sqlalchemy import create_engine, pool, text

    engine = create_engine(db_url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        run = conn.execute(
            text(
                "SELECT articles_stored, exact_duplicates, near_duplicates, non_articles, errors, stats FROM crawl_runs"
            )
        ).one()
    engine.dispose()
    pages = run.articles_stored + run.exact_duplicates + run.near_duplicates + run.non_articles
    elapsed = float(run.stats.get("elapsed_time_seconds", wall))
    return {
        "mode": f"crawl, AKHBAR_WORKERS={workers}",
        "pages": pages,
        "stored": run.articles_stored,
        "duplicates": run.exact_duplicates + run.near_duplicates,
        "errors": run.errors,
        "crawl_seconds": round(elapsed, 2),
        "wall_seconds_with_startup": round(wall, 2),
        "pages_per_s": round(pages / elapsed, 1),
        "cpu_s_per_page": round(sampler.cpu_seconds / max(pages, 1), 4),
        "peak_rss_mb": round(sampler.peak_rss / 2**20, 1),
    }


def _trafilatura_one(body: bytes) -> int:
    import trafilatura

    text = trafilatura.extract(body.decode("utf-8"), include_comments=False, deduplicate=False)
    return len(text or "")


def trafilatura_alone(files: list[Path], base: str, processes: int) -> dict:
    bodies = [f.read_bytes().replace(b"{{BASE}}", base.encode()) for f in files]
    started = time.perf_counter()
    with TreeSampler(os.getpid()) as sampler:
        cpu_before = sum(psutil.Process().cpu_times()[:2])
        with ProcessPoolExecutor(max_workers=processes) as pool:
            list(pool.map(_trafilatura_one, bodies, chunksize=16))
        cpu_self = sum(psutil.Process().cpu_times()[:2]) - cpu_before
    wall = time.perf_counter() - started
    children_cpu = sum(cpu for pid, cpu in sampler.cpu.items() if pid != os.getpid())
    return {
        "mode": f"trafilatura alone, {processes} processes",
        "pages": len(bodies),
        "crawl_seconds": round(wall, 2),
        "pages_per_s": round(len(bodies) / wall, 1),
        "cpu_s_per_page": round((children_cpu + cpu_self) / len(bodies), 4),
        "peak_rss_mb": round(sampler.peak_rss / 2**20, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=1500)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    site_root = Path(tempfile.mkdtemp(prefix="akhbar-bench-site-"))
    server = None
    try:
        files = build_site(site_root, args.pages)
        base_url, server = database(args)
        results = []
        with SampleSites(samples_dir=site_root, record_requests=False) as sites:
            for workers in (0, 2):
                results.append(crawl(site_root, sites, fresh_database(base_url), workers))
            results.append(trafilatura_alone(files, sites.base_url("bench"), processes=2))
    finally:
        shutil.rmtree(site_root, ignore_errors=True)
        if server is not None:
            server.destroy()

    before, after, alone = results
    ratios = {
        "speedup_workers_2_vs_inline": round(after["pages_per_s"] / before["pages_per_s"], 2),
        "pipeline_cpu_per_page_vs_trafilatura_alone": round(
            after["cpu_s_per_page"] / alone["cpu_s_per_page"], 2
        ),
        "pipeline_pages_per_s_vs_trafilatura_alone": round(
            after["pages_per_s"] / alone["pages_per_s"], 2
        ),
    }
    if args.json:
        print(json.dumps({"results": results, "ratios": ratios}, ensure_ascii=False, indent=2))
        return
    print(f"crawl benchmark: {args.pages} generated article pages, {os.cpu_count()} cores")
    header = f"{'mode':<38}{'pages':>7}{'pages/s':>9}{'CPU s/page':>12}{'peak MB':>9}{'seconds':>9}"
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r['mode']:<38}{r['pages']:>7}{r['pages_per_s']:>9}{r['cpu_s_per_page']:>12}{r['peak_rss_mb']:>9}{r['crawl_seconds']:>9}"
        )
    for key, value in ratios.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
