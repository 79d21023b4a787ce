#!/usr/bin/env python
"""End-to-end crawl benchmark: real Scrapy against a generated local news site.

Builds a site of N article pages from the sample sites' real layouts (each page keeps its
template's boilerplate, with body paragraphs recombined so pages are distinct articles),
serves it on 127.0.0.x, and crawls it with `scrapy crawl` into a fresh PostgreSQL database:

* with extraction inline in Scrapy's thread (AKHBAR_WORKERS=0: the "before"),
* with extraction and MinHash in worker processes (AKHBAR_WORKERS=2: the "after"),
* with Scrapy alone (bench/fetch_spider.py: fetch, no pipelines), and with Scrapy alone
  calling ``extract()`` on each page (fetch + extraction, nothing else: the floor the
  pipeline is judged against),

then runs trafilatura alone over the same pages on both cores. Prints pages/s, CPU seconds
per page of the crawler's process tree and of the PostgreSQL server (its backends), peak
memory (the crawler's whole process tree) for each, and the ratios. The pipeline's overhead
is its CPU per page, server included, above "Scrapy fetch + extraction alone".

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


class ServerCPU:
    """CPU seconds that the PostgreSQL server (postmaster and its backends) spends during a run.

    Backends come and go, so the sampler keeps each one's last reading; the readings taken
    before the run are subtracted."""

    def __init__(self, postmaster_pid: int | None) -> None:
        self.sampler = TreeSampler(postmaster_pid) if postmaster_pid else None
        self.before = 0.0

    def __enter__(self) -> ServerCPU:
        if self.sampler:
            self.sampler._sample()
            self.before = self.sampler.cpu_seconds
            self.sampler.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.sampler:
            self.sampler.__exit__(*exc)
            self.sampler._sample()

    @property
    def cpu_seconds(self) -> float | None:
        return self.sampler.cpu_seconds - self.before if self.sampler else None


def postmaster_pid(server: object | None) -> int | None:
    """The embedded server's postmaster (None for a DATABASE_URL server we cannot see)."""
    if server is None:
        return None
    pid_file = server.data_dir / "postmaster.pid"  # type: ignore[attr-defined]
    try:
        return int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


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


def crawl(
    site_root: Path, sites: SampleSites, db_url: str, workers: int, server_pid: int | None
) -> dict:
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
    with ServerCPU(server_pid) as server_cpu, TreeSampler(proc.pid) as sampler:
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
        "server_cpu_s_per_page": _per_page(server_cpu.cpu_seconds, pages),
        "peak_rss_mb": round(sampler.peak_rss / 2**20, 1),
    }


def _per_page(seconds: float | None, pages: int) -> float | None:
    return None if seconds is None else round(seconds / max(pages, 1), 4)


def scrapy_alone(site_root: Path, sites: SampleSites, with_extraction: bool) -> dict:
    """Scrapy with no akhbar component (bench/fetch_spider.py), same concurrency as the crawl."""
    run_dir = site_root / "scrapy-alone"
    run_dir.mkdir(exist_ok=True)
    stats_file = run_dir / "stats.json"
    settings = {
        "CONCURRENT_REQUESTS": "64",
        "CONCURRENT_REQUESTS_PER_DOMAIN": "32",
        "DOWNLOAD_DELAY": "0",
        "AUTOTHROTTLE_ENABLED": "False",
        "ROBOTSTXT_OBEY": "True",
        "LOG_LEVEL": "WARNING",
        "TELNETCONSOLE_ENABLED": "False",
        "STATS_DUMP": "False",
    }
    scrapy_args = ["runspider", str(REPO / "bench" / "fetch_spider.py")]
    for name, value in settings.items():
        scrapy_args += ["-s", f"{name}={value}"]
    scrapy_args += ["-a", f"sitemap={sites.base_url('bench')}/sitemap.xml"]
    scrapy_args += ["-a", f"extract={int(with_extraction)}"]
    # `scrapy runspider ...` in a wrapper that writes the crawl's stats to stats_file.
    command = [sys.executable, "-c", _STATS_WRAPPER, str(stats_file), *scrapy_args]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    started = time.perf_counter()
    # cwd without scrapy.cfg: the project's settings, pipelines and extensions stay out.
    proc = subprocess.Popen(
        command, cwd=run_dir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    with TreeSampler(proc.pid) as sampler:
        _, stderr = proc.communicate()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"scrapy alone failed ({proc.returncode}):\n{stderr[-3000:]}")
    stats = json.loads(stats_file.read_text())
    pages = int(stats.get("bench/pages", 0))
    elapsed = float(stats.get("elapsed_time_seconds", wall))
    return {
        "mode": "Scrapy fetch + extraction alone" if with_extraction else "Scrapy fetch alone",
        "pages": pages,
        "crawl_seconds": round(elapsed, 2),
        "pages_per_s": round(pages / elapsed, 1),
        "cpu_s_per_page": round(sampler.cpu_seconds / max(pages, 1), 4),
        "server_cpu_s_per_page": None,
        "peak_rss_mb": round(sampler.peak_rss / 2**20, 1),
    }


# Runs `scrapy runspider ...` in this interpreter and writes the crawl's stats to argv[1].
_STATS_WRAPPER = """
import json, sys
from scrapy import signals
from scrapy.cmdline import execute
from scrapy.crawler import Crawler

out = sys.argv.pop(1)
_init = Crawler.__init__

def _keep_stats(crawler, spider, reason):
    stats = {k: v for k, v in crawler.stats.get_stats().items() if isinstance(v, (int, float))}
    with open(out, "w") as f:
        json.dump(stats, f)

def _init_and_hook(self, *args, **kwargs):
    _init(self, *args, **kwargs)
    self._bench_hook = lambda spider, reason: _keep_stats(self, spider, reason)
    self.signals.connect(self._bench_hook, signal=signals.spider_closed)

Crawler.__init__ = _init_and_hook
sys.argv[0] = "scrapy"
execute()
"""


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
        "server_cpu_s_per_page": None,
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
                db_url = fresh_database(base_url)
                results.append(crawl(site_root, sites, db_url, workers, postmaster_pid(server)))
            results.append(scrapy_alone(site_root, sites, with_extraction=False))
            results.append(scrapy_alone(site_root, sites, with_extraction=True))
            results.append(trafilatura_alone(files, sites.base_url("bench"), processes=2))
    finally:
        shutil.rmtree(site_root, ignore_errors=True)
        if server is not None:
            server.destroy()

    before, after, fetch_only, fetch_extract, alone = results
    pipeline_cpu = after["cpu_s_per_page"] + (after["server_cpu_s_per_page"] or 0.0)
    floor_cpu = fetch_extract["cpu_s_per_page"]
    ratios = {
        "pipeline_cpu_per_page_with_server": round(pipeline_cpu, 4),
        "fetch_and_extraction_alone_cpu_per_page": floor_cpu,
        "pipeline_overhead_above_fetch_and_extraction": f"{(pipeline_cpu / floor_cpu - 1):.0%}",
        "extraction_cpu_per_page": round(floor_cpu - fetch_only["cpu_s_per_page"], 4),
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
    header = (
        f"{'mode':<38}{'pages':>7}{'pages/s':>9}{'CPU s/page':>12}{'server CPU':>12}"
        f"{'peak MB':>9}{'seconds':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        server_cpu = "-" if r["server_cpu_s_per_page"] is None else r["server_cpu_s_per_page"]
        print(
            f"{r['mode']:<38}{r['pages']:>7}{r['pages_per_s']:>9}{r['cpu_s_per_page']:>12}"
            f"{server_cpu:>12}{r['peak_rss_mb']:>9}{r['crawl_seconds']:>9}"
        )
    for key, value in ratios.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
