"""SIGKILL of a crawl leaves no process behind (forkserver, extraction workers, resource
tracker), and its `running` row is closed by whoever looks next once its heartbeat lease
has expired, on any host."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

from akhbar.samples import SampleSites
from tests.crawl_helpers import (
    akhbar,
    crawl_env,
    make_site,
    query,
    start_crawl,
    wait_for,
)


def _children() -> dict[int, int]:
    """pid -> parent pid of every process."""
    out = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            out[int(entry.name)] = int(stat[1])
    return out


def descendants(pid: int) -> set[int]:
    parents = _children()
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, pp in parents.items() if pp in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_sigkill_leaves_no_orphans_and_the_lease_reaps_the_run(
    tmp_path: Path, database_url: str, subprocess_env: dict[str, str]
) -> None:
    root = make_site(tmp_path, articles=40)
    with SampleSites(samples_dir=root) as sites:
        env = crawl_env(
            subprocess_env,
            sites,
            root,
            AKHBAR_WORKERS="2",
            AKHBAR_DOWNLOAD_DELAY="0.2",
            AKHBAR_CONCURRENT_PER_DOMAIN="1",
        )
        crawl = start_crawl(env)
        helpers: set[int] = set()
        try:
            wait_for(
                lambda: query(database_url, "SELECT count(*) FROM articles")[0][0] >= 3,
                60,
                "3 articles stored",
            )
            # the forkserver, its two workers, the resource tracker
            helpers = wait_for(
                lambda: d if len(d := descendants(crawl.pid)) >= 4 else None,
                20,
                "the crawl's helper processes",
            )
            os.kill(crawl.pid, signal.SIGKILL)  # the crawl only, not its process group
            crawl.wait(10)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and any(alive(p) for p in helpers):
                time.sleep(0.2)
            left = [p for p in helpers if alive(p)]
        finally:
            for pid in descendants(crawl.pid) | helpers | {crawl.pid}:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        assert left == [], f"processes outlived the killed crawl: {left}"

    [(run_id, status)] = query(database_url, "SELECT id, status FROM crawl_runs")
    assert status == "running"  # nobody could close it
    # As seen from another machine: its pid means nothing there, only the lease counts.
    query(database_url, "UPDATE crawl_runs SET hostname = 'elsewhere'")
    fresh = akhbar("health", "tiny", "--json", env={**env, "AKHBAR_RUN_LEASE_SECONDS": "60"})
    assert query(database_url, "SELECT status FROM crawl_runs")[0][0] == "running"
    assert '"running": true' in fresh.stdout
    query(database_url, "UPDATE crawl_runs SET heartbeat_at = now() - interval '2 minutes'")
    stale = akhbar("health", "tiny", "--json", env={**env, "AKHBAR_RUN_LEASE_SECONDS": "60"})
    assert f"Closed runs {run_id} as interrupted" in stale.stderr
    [(status, reason)] = query(
        database_url, "SELECT status, stats ->> 'finish_reason' FROM crawl_runs"
    )
    assert status == "interrupted" and "no heartbeat" in reason
