"""Resumable and incremental crawls, with real `scrapy crawl` subprocesses, a real site
server on 127.0.0.x and a real PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from akhbar.samples import SampleSites, write_sitemap
from tests.crawl_helpers import (
    article_fetches,
    crawl_env,
    frontier,
    make_site,
    query,
    run_crawl,
    start_crawl,
    wait_for,
)


def scrapy_crawl(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return start_crawl(
        env, "tiny", *args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


SHORT_PAGE = """<!DOCTYPE html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>خبر قصير {i}</title></head>
<body><main><article><h1>خبر قصير {i}</h1>
<p>افتتح المشروع الجديد في المدينة صباح اليوم بحضور عدد من المسؤولين والسكان.</p>
</article></main></body></html>
"""


def add_short_pages(root: Path, articles: int, every: int = 6) -> set[str]:
    """Put a page too short to be an article (rejected by the quality stage) after every
    ``every`` articles of a ``make_site`` site's sitemap; returns their paths."""
    site = root / "sites" / "tiny"
    now = datetime.now(UTC).replace(microsecond=0)
    entries, short = [], set()
    for i in range(articles):
        entries.append((f"/news/{i}.html", now - timedelta(hours=1 + i)))
        if i % every == every - 1:
            path = f"/news/{1000 + i}.html"
            (site / path.lstrip("/")).write_text(SHORT_PAGE.format(i=i), encoding="utf-8")
            entries.append((path, now - timedelta(hours=1 + i)))
            short.add(path)
    write_sitemap(site, entries)
    return short


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_killed_crawl_resumes_without_refetching(
    tmp_path: Path, database_url: str, subprocess_env: dict[str, str]
) -> None:
    root = make_site(tmp_path, articles=30)
    short = add_short_pages(root, 30)
    with SampleSites(samples_dir=root) as sites:
        slow = crawl_env(
            subprocess_env,
            sites,
            root,
            AKHBAR_DOWNLOAD_DELAY="0.15",
            AKHBAR_CONCURRENT_PER_DOMAIN="1",
        )
        first = scrapy_crawl(slow)
        wait_for(
            lambda: (
                query(database_url, "SELECT count(*) FROM articles")[0][0] >= 8
                and any(
                    state == "done" and _path(url) in short
                    for url, state in frontier(database_url).items()
                )
            ),
            60,
            "the first crawl to store 8 articles and reject a short page",
        )
        os.killpg(first.pid, signal.SIGKILL)  # no chance to close anything
        first.wait(10)
        first.stdout.close()
        fetched_first = Counter(article_fetches(sites))
        stored_first = {u for (u,) in query(database_url, "SELECT url FROM articles")}
        journal = frontier(database_url)
        assert journal, "the killed crawl left no resume journal"
        rejected_first = {_path(u) for u, state in journal.items() if state == "done"} & short
        assert rejected_first
        # A stored page is not marked done (its article row says so): one journal row each.
        assert all(journal.get(u) != "done" for u in stored_first)
        [(run1, status1)] = query(database_url, "SELECT id, status FROM crawl_runs")
        assert status1 == "running"  # nobody could close it yet
        assert len(stored_first) < 30, "the crawl finished before it was killed: slow it down"

        second = scrapy_crawl(crawl_env(subprocess_env, sites, root))
        out, _ = second.communicate(timeout=90)
        assert second.returncode == 0, out[-3000:]
        fetched_all = Counter(article_fetches(sites))
        sitemap_fetches = sum(1 for _, p in sites.request_log if p == "/sitemap.xml")

    runs = dict(query(database_url, "SELECT id, status FROM crawl_runs"))
    assert runs[run1] == "interrupted", "the killed run was not marked on the next start"
    assert sorted(runs.values()) == ["finished", "interrupted"]
    urls = [u for (u,) in query(database_url, "SELECT url FROM articles")]
    assert len(urls) == len(set(urls)) == 30
    assert query(database_url, "SELECT count(*) FROM duplicates")[0][0] == 0
    # Resumed, not restarted: the sitemap was parsed once, and no page whose article was
    # stored, and no page rejected, before the kill was fetched again.
    assert sitemap_fetches == 1
    fetched_second = fetched_all - fetched_first
    stored_paths = {_path(u) for u in stored_first}
    assert not stored_paths & set(fetched_second), "stored articles were fetched again"
    assert not rejected_first & set(fetched_second), "rejected pages were fetched again"
    assert short <= set(fetched_all)
    # Only pages in flight at the kill (fetched, not yet stored) may be fetched twice.
    twice = {p for p, n in fetched_all.items() if n > 1}
    assert twice <= set(fetched_first) - stored_paths - rejected_first
    assert len(twice) <= 3
    assert all(n <= 2 for n in fetched_all.values())
    assert "resuming an interrupted crawl" in out
    assert frontier(database_url) == {}, "a finished crawl should remove its journal"


def test_incremental_skips_old_entries_unless_full(
    tmp_path: Path, database_url: str, subprocess_env: dict[str, str]
) -> None:
    # 4 of 10 sitemap entries are two years old.
    root = make_site(tmp_path, articles=10, old=4)
    with SampleSites(samples_dir=root) as sites:
        env = crawl_env(subprocess_env, sites, root)
        # The first crawl has no earlier success: it reads everything.
        assert run_crawl(env, "tiny", timeout=90).returncode == 0
        assert query(database_url, "SELECT count(*) FROM articles")[0][0] == 10
        # Forget the old articles, as if they had never been stored.
        query(database_url, "DELETE FROM articles WHERE url ~ '/news/[0-3][.]html$'")
        sites.request_log.clear()
        assert run_crawl(env, "tiny", timeout=90).returncode == 0
        # Incremental: old entries were not even requested, the rest were known.
        assert article_fetches(sites) == []
        assert query(database_url, "SELECT count(*) FROM articles")[0][0] == 6
        stats = query(database_url, "SELECT stats FROM crawl_runs ORDER BY id DESC LIMIT 1")[0][0]
        assert stats["akhbar/skipped_older_than_since"] == 4
        assert run_crawl(env, "tiny", "-a", "full=1", timeout=90).returncode == 0
        assert sorted(article_fetches(sites)) == sorted(f"/news/{i}.html" for i in range(4))
    assert query(database_url, "SELECT count(*) FROM articles")[0][0] == 10
    # The per-run log file is JSON lines with one "stored" event per stored article.
    [(log_path,)] = query(database_url, "SELECT log_path FROM crawl_runs ORDER BY id DESC LIMIT 1")
    events = [json.loads(line) for line in Path(log_path).read_text().splitlines()]
    stored = [e for e in events if e.get("event") == "stored"]
    assert sorted(e["url"].rsplit("/", 1)[1] for e in stored) == [f"{i}.html" for i in range(4)]
    assert all(e["source"] == "tiny" and isinstance(e["run_id"], int) for e in stored)


def test_journal_keeps_no_known_url_check_mark() -> None:
    """A request resumed from the journal is asked about again (its URL may have been stored
    since the batch check), so the batch's mark is not journaled; the spider's meta is."""
    from datetime import UTC, datetime

    from crawlers.middlewares import ARTICLE_META, CHECKED_META
    from crawlers.resume import URL_META, _decode_meta, _encode_meta

    listed = datetime(2026, 11, 1, tzinfo=UTC)
    meta = {
        ARTICLE_META: True,
        CHECKED_META: "http://site.test/news/1.html",
        URL_META: "http://site.test/news/1.html",
        "listed_published": listed,
        "download_timeout": 30,
    }
    encoded = json.loads(json.dumps(_encode_meta(meta)))
    assert _decode_meta(encoded) == {ARTICLE_META: True, "listed_published": listed}


def test_journal_marks_done_only_what_the_database_does_not_show(database_url: str) -> None:
    """A page stored or recorded as a duplicate under the URL it was scheduled with is done
    by its row (no journal write); a page that went through the pipelines otherwise (a
    redirect, a known-URL outcome, a rejected page), or any page when a resumed crawl would
    not ask the database (``AKHBAR_SKIP_KNOWN=0``), is marked done."""
    from scrapy.http import Request, Response
    from scrapy.utils.test import get_crawler
    from sqlalchemy import create_engine, pool

    from crawlers.resume import URL_META, Journal, ResumeJournalMiddleware

    def page(path: str, final: str | None = None) -> tuple[Response, str]:
        url = f"http://site.test{path}"
        request = Request(final or url, meta={URL_META: url})
        return Response(final or url, request=request), final or url

    engine = create_engine(database_url, poolclass=pool.NullPool)
    try:
        for skip_known in (True, False):
            crawler = get_crawler(settings_dict={"AKHBAR_SKIP_KNOWN": skip_known})
            middleware = ResumeJournalMiddleware(crawler)
            journal = Journal("tiny", engine, flush_interval=60)
            assert journal.open() is not None
            middleware.journal = journal
            pages = {
                "/stored": ("scraped", "stored", None),
                "/near": ("scraped", "near", None),
                "/replaced": ("scraped", "replaced", None),
                "/redirected": ("scraped", "stored", "http://site.test/elsewhere"),
                "/known": ("scraped", "url", None),
                "/rejected": ("dropped", None, None),
            }
            for path, (signal_name, outcome, final) in pages.items():
                response, url = page(path, final)
                journal.add(Request(f"http://site.test{path}"))
                if signal_name == "scraped":
                    item = {"url": url, "outcome": outcome}
                    middleware.item_scraped(item, response, crawler.spider)
                else:
                    middleware.item_dropped({}, response, crawler.spider)
            assert journal.flush()
            states = {
                u.removeprefix("http://site.test"): s for u, s in frontier(database_url).items()
            }
            journal.close(remove=True)
            if skip_known:
                assert states == {
                    "/stored": "pending",
                    "/near": "pending",
                    "/replaced": "pending",
                    "/redirected": "done",
                    "/known": "done",
                    "/rejected": "done",
                }
            else:
                assert set(states.values()) == {"done"} and len(states) == len(pages)
    finally:
        engine.dispose()
