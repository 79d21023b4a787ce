"""A database outage in the middle of a crawl loses nothing: the real PostgreSQL server
(a dedicated one, so other tests are not disturbed) is stopped and started again while a
real `scrapy crawl` runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from akhbar.samples import SampleSites
from db.embedded import EmbeddedPostgres, free_port
from tests.crawl_helpers import (
    REPO_ROOT,
    crawl_env,
    frontier,
    make_site,
    query,
    run_crawl,
    start_crawl,
    wait_for,
)


@pytest.fixture
def own_server() -> Iterator[tuple[EmbeddedPostgres, str]]:
    home = Path(tempfile.mkdtemp(prefix="akhbar-outage-pg-", dir="/tmp"))
    home.chmod(0o755)
    server = EmbeddedPostgres(home=home, port=free_port())
    url = server.start()
    from db.migrate import upgrade

    upgrade(url)
    try:
        yield server, url
    finally:
        server.destroy()
        shutil.rmtree(home, ignore_errors=True)


def test_outage_mid_crawl_fails_the_run_and_the_next_run_stores_what_was_missed(
    tmp_path: Path, own_server: tuple[EmbeddedPostgres, str]
) -> None:
    server, url = own_server
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(REPO_ROOT)}
    root = make_site(tmp_path, articles=30)
    with SampleSites(samples_dir=root) as sites:
        slow = crawl_env(
            env,
            sites,
            root,
            AKHBAR_DOWNLOAD_DELAY="0.2",
            AKHBAR_CONCURRENT_PER_DOMAIN="1",
            AKHBAR_RUN_FLUSH_INTERVAL="0.3",
        )
        crawl = start_crawl(slow, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            wait_for(
                lambda: query(url, "SELECT count(*) FROM articles")[0][0] >= 4,
                60,
                "4 articles stored before the outage",
            )
            server.stop()
            time.sleep(3)  # pages keep being fetched while the database is away
            server.start()
            out, _ = crawl.communicate(timeout=120)
        finally:
            if crawl.poll() is None:
                crawl.kill()
                crawl.wait()
        assert crawl.returncode == 1, out[-3000:]
        assert "Unhandled error in Deferred" not in out
        [(run1, status, reasons)] = query(
            url, "SELECT id, status, stats -> 'outcome_reasons' FROM crawl_runs"
        )
        assert status == "failed", reasons
        assert "could not be stored" in " ".join(reasons)
        stored_first = query(url, "SELECT count(*) FROM articles")[0][0]
        assert stored_first < 30, "the outage hit no page: make the crawl slower"
        pending = [u for u, state in frontier(url).items() if state == "pending"]
        assert pending, "a failed run must keep its journal with the missed pages pending"

        # The next ordinary run resumes from the journal and stores what was missed.
        second = run_crawl(crawl_env(env, sites, root))
        assert second.returncode == 0, second.stderr[-3000:]
    runs = query(url, "SELECT id, status FROM crawl_runs ORDER BY id")
    assert [s for _, s in runs] == ["failed", "finished"]
    urls = [u for (u,) in query(url, "SELECT url FROM articles")]
    assert len(urls) == len(set(urls)) == 30  # nothing lost, nothing stored twice
    assert query(url, "SELECT count(*) FROM duplicates")[0][0] == 0
    assert frontier(url) == {}
