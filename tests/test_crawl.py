"""End to end: real Scrapy crawls (subprocesses) of the bundled sample sites on 127.0.0.x
into the real PostgreSQL server, checked against samples/truth.json."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, pool, text

from akhbar.samples import SampleSites
from tests.crawl_helpers import run_crawl

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
TRUTH = json.loads((SAMPLES / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def sites() -> Iterator[SampleSites]:
    with SampleSites() as running:
        yield running


def crawl_all(sites: SampleSites, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {
        **env,
        **sites.env(),
        "AKHBAR_SOURCES": str(SAMPLES / "sources.toml"),
        "AKHBAR_AUTOTHROTTLE": "0",
        "AKHBAR_DOWNLOAD_DELAY": "0",
        "AKHBAR_RUN_FLUSH_INTERVAL": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "cli", "crawl", "--all"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def url_of(sites: SampleSites, key: str, entry: dict) -> str:
    source = key.split("/", 1)[0]
    return sites.base_url(source) + entry["url_path"]


def rows(url: str, sql: str) -> list:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql)))
    finally:
        engine.dispose()


def test_crawl_stores_each_story_once_and_a_second_crawl_stores_nothing(
    sites: SampleSites, subprocess_env: dict[str, str], database_url: str
) -> None:
    assert sites.request_log is not None
    sites.request_log.clear()
    crawl_all(sites, subprocess_env)
    first_requests = list(sites.request_log)

    articles = {r.url: r for r in rows(database_url, "SELECT id, url, title, body FROM articles")}
    duplicates = {
        r.url: r
        for r in rows(database_url, "SELECT url, duplicate_of, kind, similarity FROM duplicates")
    }
    article_id_by_url = {url: r.id for url, r in articles.items()}

    # Every article page ends up exactly once: stored, or recorded as a duplicate.
    stories: dict[str, list[str]] = defaultdict(list)
    events: dict[str, list[str]] = defaultdict(list)
    for key, entry in TRUTH.items():
        url = url_of(sites, key, entry)
        if not entry["is_article"]:
            assert url not in articles, f"non-article stored: {key}"
            continue
        assert (url in articles) != (url in duplicates), (
            f"{key} stored {url in articles}, duplicate {url in duplicates}"
        )
        if entry.get("story"):
            stories[entry["story"]].append(url)
        elif entry.get("same_event"):
            events[entry["same_event"]].append(url)
        else:
            assert url in articles, f"{key} is an original article but was recorded as a duplicate"

    # A wire story republished on several sites: one article, the copies point at it.
    assert any(len(urls) >= 3 for urls in stories.values()), (
        "the samples need a story on three sites"
    )
    for story, urls in stories.items():
        stored = [u for u in urls if u in articles]
        assert len(stored) == 1, f"story {story}: stored {stored}"
        for url in urls:
            if url not in articles:
                assert duplicates[url].duplicate_of == article_id_by_url[stored[0]], (story, url)

    # Independent reports of the same event are both kept (seeds 000 and 003 among them).
    assert events, "the samples need same-event pairs"
    for event, urls in events.items():
        assert all(u in articles for u in urls), f"same-event articles merged: {event}"

    # robots.txt is obeyed: every site disallows /search.
    assert not [path for _, path in first_requests if path.startswith("/search")]

    runs = rows(
        database_url, "SELECT spider, status, articles_stored, errors FROM crawl_runs ORDER BY id"
    )
    assert {r.spider for r in runs} == {e.split("/", 1)[0] for e in TRUTH}
    assert all(r.status == "finished" and r.errors == 0 for r in runs), runs

    # Second crawl: nothing new stored, no article page fetched again.
    article_paths = {entry["url_path"] for entry in TRUTH.values() if entry["is_article"]}
    sites.request_log.clear()
    result = crawl_all(sites, subprocess_env)
    second = rows(database_url, "SELECT articles_stored FROM crawl_runs ORDER BY id")[len(runs) :]
    assert len(second) == len(runs) and all(r.articles_stored == 0 for r in second)
    assert rows(database_url, "SELECT count(*) FROM articles")[0][0] == len(articles)
    assert rows(database_url, "SELECT count(*) FROM duplicates")[0][0] == len(duplicates)
    refetched = [path for _, path in sites.request_log if path in article_paths]
    assert refetched == [], f"article pages fetched again: {refetched[:5]}"
    assert "total" in result.stdout


def test_windows_1256_page_is_read_correctly(
    sites: SampleSites, subprocess_env: dict[str, str], database_url: str
) -> None:
    legacy = {
        k: e
        for k, e in TRUTH.items()
        if e.get("encoding", "utf-8").lower() in {"windows-1256", "cp1256"}
    }
    assert legacy, "the samples need a windows-1256 page"
    sources = sorted({k.split("/", 1)[0] for k in legacy})
    env = {
        **subprocess_env,
        **sites.env(),
        "AKHBAR_SOURCES": str(SAMPLES / "sources.toml"),
        "AKHBAR_AUTOTHROTTLE": "0",
        "AKHBAR_DOWNLOAD_DELAY": "0",
    }
    for source in sources:
        result = run_crawl(env, source, timeout=300)
        assert result.returncode == 0, result.stderr[-3000:]
    stored = {r.url: r for r in rows(database_url, "SELECT url, title, body FROM articles")}
    for key, entry in legacy.items():
        row = stored[url_of(sites, key, entry)]
        assert entry["paragraphs"][0] in row.body
        assert entry["title"] in (row.title or "") or row.title in entry["title"]
        assert "\ufffd" not in row.body  # no replacement characters from a wrong decoding


def test_scrapy_list_shows_one_spider_per_source(subprocess_env: dict[str, str]) -> None:
    env = {
        **subprocess_env,
        "AKHBAR_SOURCES": str(SAMPLES / "sources.toml"),
        "AKHBAR_SAMPLES_PORT": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "list"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.split()) == sorted({k.split("/", 1)[0] for k in TRUTH})
