"""A tiny generated news site for crawl tests, and helpers to read crawl results.

Each test builds its own site (one source, one loopback address) in a tmp dir and serves it
with the real akhbar.samples.SampleSites server, so request_log shows every fetch.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, create_engine, pool, text

from akhbar import dedup
from akhbar.article import Article
from akhbar.page import FetchedPage, ProcessedPage
from akhbar.samples import write_sitemap

REPO_ROOT = Path(__file__).resolve().parents[1]
# The labelled dedup set (tests/data/dedup): JSON lines with id, url, title, text, published,
# cluster, case.
LABELLED_SET = Path(__file__).resolve().parent / "data" / "dedup" / "articles.jsonl"
LABELLED_ROWS = [json.loads(line) for line in LABELLED_SET.read_text(encoding="utf-8").splitlines()]
LABELLED_BY_URL = {r["url"]: r for r in LABELLED_ROWS}
SEEDS = sorted((REPO_ROOT / "tests" / "data" / "seeds").glob("*.txt"))

# Word pool for article bodies; a built-in fallback keeps the tests independent of seeds.
_FALLBACK = [
    "أعلنت",
    "الحكومة",
    "اليوم",
    "عن",
    "خطة",
    "جديدة",
    "لدعم",
    "الاقتصاد",
    "الوطني",
    "وتشمل",
    "الخطة",
    "مشاريع",
    "في",
    "مجالات",
    "الطاقة",
    "والنقل",
    "والتعليم",
    "والصحة",
    "وقال",
    "الوزير",
    "إن",
    "التنفيذ",
    "سيبدأ",
    "خلال",
    "الأشهر",
    "المقبلة",
    "بمشاركة",
    "القطاع",
    "الخاص",
    "والمؤسسات",
    "الدولية",
    "وأضاف",
    "أن",
    "الهدف",
    "هو",
    "توفير",
    "فرص",
    "عمل",
    "للشباب",
    "وتحسين",
    "الخدمات",
    "في",
    "المدن",
    "والقرى",
    "وأكد",
    "المسؤولون",
    "أن",
    "الميزانية",
    "تكفي",
    "لتغطية",
    "المرحلة",
    "الأولى",
    "من",
    "المشروع",
]


def _words() -> list[str]:
    words: list[str] = []
    for seed in SEEDS:
        words += [w for w in seed.read_text(encoding="utf-8").split() if w.isalpha()]
    return words if len(words) > 200 else _FALLBACK * 10


def article_html(i: int, words: list[str], published: datetime) -> str:
    rng = random.Random(i)
    title = " ".join(rng.sample(words, 8))
    paragraphs = "\n".join(
        f"<p>{' '.join(rng.choice(words) for _ in range(45))}.</p>" for _ in range(4)
    )
    return f"""<!DOCTYPE html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>{title} | موقع تجريبي</title>
<meta property="og:title" content="{title}">
<meta property="article:published_time" content="{published.isoformat()}">
</head><body>
<nav><a href="/">الرئيسية</a> | <a href="/news/">أخبار</a></nav>
<main><article>
<h1>{title}</h1>
<time datetime="{published.isoformat()}">{published:%Y-%m-%d}</time>
{paragraphs}
</article></main>
<footer>جميع الحقوق محفوظة</footer>
</body></html>
"""


def make_site(
    root: Path,
    *,
    name: str = "tiny",
    host: str = "127.0.0.61",
    articles: int = 12,
    old: int = 0,
) -> Path:
    """Write ``<root>/sources.toml`` and ``<root>/sites/<name>/``; return root.

    The sitemap lists ``articles`` pages; the first ``old`` of them have a lastmod two
    years ago (for incremental-crawl tests), the rest a recent one.
    """
    site = root / "sites" / name
    (site / "news").mkdir(parents=True, exist_ok=True)
    words = _words()
    now = datetime.now(UTC).replace(microsecond=0)
    entries = []
    for i in range(articles):
        published = now - (timedelta(days=730) if i < old else timedelta(hours=1 + i))
        (site / "news" / f"{i}.html").write_text(
            article_html(i, words, published), encoding="utf-8"
        )
        entries.append((f"/news/{i}.html", published))
    write_sitemap(site, entries)
    (root / "sources.toml").write_text(
        f"""[[sources]]
name = "{name}"
title = "موقع تجريبي"
base_url = "http://{host}:${{AKHBAR_SAMPLES_PORT}}"
domains = ["{host}"]
timezone = "Asia/Riyadh"
sitemaps = ["{{base}}/sitemap.xml"]
article_url_patterns = ['/news/\\d+\\.html$']
""",
        encoding="utf-8",
    )
    return root


# A registry entry whose host never resolves (".invalid" is reserved): fails fast, offline.
UNRESOLVABLE_SOURCE = """
[[sources]]
name = "nodns"
title = "nodns"
timezone = "UTC"
base_url = "http://nosuchhost.invalid"
domains = ["nosuchhost.invalid"]
sitemaps = ["{base}/sitemap.xml"]
article_url_patterns = ['/news/\\d+\\.html$']
"""


def start_crawl(
    env: dict[str, str], source: str = "tiny", *args: str, **popen: Any
) -> subprocess.Popen:
    """A real `scrapy crawl SOURCE ARGS` in the background, in its own session (so a test can
    kill it and whatever it started)."""
    popen.setdefault("stdout", subprocess.DEVNULL)
    popen.setdefault("stderr", subprocess.DEVNULL)
    return subprocess.Popen(
        [sys.executable, "-m", "scrapy", "crawl", source, *args],
        env=env,
        cwd=REPO_ROOT,
        start_new_session=True,
        **popen,
    )


def run_crawl(
    env: dict[str, str], source: str = "tiny", *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """A real `scrapy crawl SOURCE ARGS` to its end; its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", source, *args],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def crawl_env(base: dict[str, str], sites: Any, root: Path, **extra: str) -> dict[str, str]:
    """Environment for a crawl subprocess against ``sites`` (a running SampleSites)."""
    env = dict(base)
    env.update(sites.env())
    env["AKHBAR_SOURCES"] = str(root / "sources.toml")
    env["AKHBAR_VAR_DIR"] = str(root / "var")
    env["AKHBAR_WORKERS"] = "1"
    env["AKHBAR_AUTOTHROTTLE"] = "0"
    env["AKHBAR_DOWNLOAD_DELAY"] = "0"
    env["AKHBAR_RUN_FLUSH_INTERVAL"] = "0.5"
    env.update(extra)
    return env


def akhbar(
    *args: str, env: dict[str, str], timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        env={**env, "COLUMNS": "200", "NO_COLOR": "1"},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def query(url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else []


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, step: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def article_fetches(sites: Any) -> list[str]:
    return [path for _, path in list(sites.request_log or []) if path.startswith("/news/")]


def frontier(url: str, source: str = "tiny") -> dict[str, str]:
    """The resume journal of ``source`` (table crawl_frontier): url -> state."""
    return dict(query(url, "SELECT url, state FROM crawl_frontier WHERE source = %s", source))


def fingerprinted(page: FetchedPage, article: Article) -> ProcessedPage:
    """``article`` of ``page`` with the content hash and signature extraction would give it."""
    return ProcessedPage(
        page=page,
        article=article,
        content_hash=dedup.content_hash(article.text),
        signature=dedup.signature_to_bytes(dedup.signature(article.text)),
        extractor_version="test",
    )


def labelled_page(row: dict, fetched_at: datetime) -> ProcessedPage:
    """A row of a labelled dedup set (tests/data/dedup, JSON lines with url, title, text,
    published) as the crawl's extraction stage hands it to storage."""
    published = row.get("published")
    article = Article(
        url=row["url"],
        canonical_url=row["url"],
        title=row["title"],
        paragraphs=row["text"].split("\n\n"),
        published_at=datetime.fromisoformat(published) if published else None,
    )
    page = FetchedPage(
        source="t", url=row["url"], body=article.text.encode(), headers={}, fetched_at=fetched_at
    )
    return fingerprinted(page, article)


def labelled_outcome(database: str | Engine) -> tuple[set[str], dict[str, str]]:
    """What a database made of the labelled set: the ids of the stored articles, and each
    recorded duplicate's id -> the id of the article it points at."""
    engine = (
        create_engine(database, poolclass=pool.NullPool) if isinstance(database, str) else database
    )
    with engine.connect() as conn:
        kept = {LABELLED_BY_URL[u]["id"] for (u,) in conn.execute(text("SELECT url FROM articles"))}
        copies = {
            LABELLED_BY_URL[d]["id"]: LABELLED_BY_URL[a]["id"]
            for d, a in conn.execute(
                text(
                    "SELECT d.url, a.url FROM duplicates d JOIN articles a ON a.id = d.duplicate_of"
                )
            )
        }
    if isinstance(database, str):
        engine.dispose()
    return kept, copies


def dedup_command_outcome(path: Path = LABELLED_SET) -> tuple[set[str], dict[str, str]]:
    """What `akhbar dedup` decides for a labelled set file, in ``labelled_outcome``'s form."""
    import io

    from cli.commands import dedup as dedup_command

    out = io.StringIO()
    dedup_command.run(path, out, dedup.THRESHOLD)
    decisions = [json.loads(line) for line in out.getvalue().splitlines()]
    return (
        {d["id"] for d in decisions if d["duplicate_of"] is None},
        {d["id"]: d["duplicate_of"] for d in decisions if d["duplicate_of"]},
    )
