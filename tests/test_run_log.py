"""Multi-source runs count per source and log JSON lines that name their source and run;
`scrapy crawl -O` writes serialisable items; `scrapy parse` records no run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from akhbar.samples import SampleSites
from tests.crawl_helpers import (
    REPO_ROOT,
    UNRESOLVABLE_SOURCE,
    akhbar,
    crawl_env,
    make_site,
    query,
    run_crawl,
    start_crawl,
)

NODNS = UNRESOLVABLE_SOURCE


def test_two_sources_in_one_process_count_and_log_each_their_own(
    tmp_path: Path, database_url: str, subprocess_env: dict[str, str]
) -> None:
    root = make_site(tmp_path, articles=5)
    # The crawl's registry adds a source the sample server cannot (and need not) serve.
    registry = root / "crawl-sources.toml"
    registry.write_text((root / "sources.toml").read_text(encoding="utf-8") + NODNS)
    with SampleSites(samples_dir=root) as sites:
        env = crawl_env(
            subprocess_env,
            sites,
            root,
            AKHBAR_SOURCES=str(registry),
            AKHBAR_RETRY_TIMES="1",
            AKHBAR_RETRY_BACKOFF_BASE="0.05",
        )
        result = akhbar("crawl", "tiny", "nodns", "--no-progress", env=env, timeout=120)
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    runs = {
        spider: (run_id, status, errors, stored, log_path)
        for run_id, spider, status, errors, stored, log_path in query(
            database_url,
            "SELECT id, spider, status, errors, articles_stored, log_path FROM crawl_runs",
        )
    }
    assert runs["tiny"][1:4] == ("finished", 0, 5)
    assert runs["nodns"][1] == "failed" and runs["nodns"][2] >= 1
    assert runs["tiny"][4] == runs["nodns"][4]  # one log file for the invocation

    events = [json.loads(line) for line in Path(runs["tiny"][4]).read_text().splitlines()]
    assert events[0]["logger"].startswith("scrapy")
    stored = [e for e in events if e.get("event") == "stored"]
    assert len(stored) == 5
    assert {(e["source"], e["run_id"]) for e in stored} == {("tiny", runs["tiny"][0])}
    failed = [e for e in events if e.get("event") == "fetch_failed"]
    assert failed and {(e["source"], e["run_id"]) for e in failed} == {("nodns", runs["nodns"][0])}
    finished = {e["source"]: e for e in events if e.get("event") == "run_finished"}
    assert finished["tiny"]["outcome"] == "finished"
    assert finished["nodns"]["outcome"] == "failed"


def test_feed_export_and_parse(
    tmp_path: Path, database_url: str, subprocess_env: dict[str, str]
) -> None:
    root = make_site(tmp_path, articles=4)
    out = tmp_path / "out.jsonl"
    with SampleSites(samples_dir=root) as sites:
        env = crawl_env(subprocess_env, sites, root)
        exported = run_crawl(env, "tiny", "-O", str(out), timeout=90)
        assert exported.returncode == 0, exported.stderr[-2000:]
        items = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert sorted(i["url"].rsplit("/", 1)[1] for i in items) == [f"{n}.html" for n in range(4)]
        assert all(i["outcome"] == "stored" and i["title"] and i["body"] for i in items)
        runs_before = query(database_url, "SELECT count(*) FROM crawl_runs")[0][0]

        parsed = subprocess.run(
            [
                sys.executable,
                "-m",
                "scrapy",
                "parse",
                "--spider",
                "tiny",
                "-c",
                "parse_article",
                sites.url("tiny", "/news/1.html"),
            ],  # fmt: skip
            env=env,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=90,
        )
    assert parsed.returncode == 0, parsed.stderr[-2000:]
    assert "news/1.html" in parsed.stdout
    assert query(database_url, "SELECT count(*) FROM crawl_runs")[0][0] == runs_before == 1


def test_racing_crawls_report_only_the_duplicates_they_recorded(
    tmp_path: Path, database_url: str, subprocess_env: dict[str, str]
) -> None:
    """Two crawls of one site at once: a copy both decide is a duplicate is recorded once,
    and counted once, by the crawl whose row it is."""
    root = make_site(tmp_path, articles=8)
    site = root / "sites" / "tiny"
    sitemap = (site / "sitemap.xml").read_text(encoding="utf-8")
    copies = ""
    for i in range(8):  # each article again at a second URL: exact copies
        (site / "news" / f"{100 + i}.html").write_bytes((site / "news" / f"{i}.html").read_bytes())
        copies += f"<url><loc>{{{{BASE}}}}/news/{100 + i}.html</loc></url>\n"
    (site / "sitemap.xml").write_text(sitemap.replace("</urlset>", copies + "</urlset>"))
    with SampleSites(samples_dir=root) as sites:
        env = crawl_env(subprocess_env, sites, root, AKHBAR_RESUME="0")
        crawls = [start_crawl(env) for _ in range(2)]
        assert [c.wait(120) for c in crawls] == [0, 0]
    assert query(database_url, "SELECT count(*) FROM articles")[0][0] == 8
    rows = query(database_url, "SELECT count(*) FROM duplicates")[0][0]
    assert rows == 8
    [(reported,)] = query(
        database_url, "SELECT sum(exact_duplicates + near_duplicates) FROM crawl_runs"
    )
    assert reported == rows
    per_run = query(
        database_url,
        "SELECT r.exact_duplicates + r.near_duplicates, count(d.id) FROM crawl_runs r "
        "LEFT JOIN duplicates d ON d.crawl_run_id = r.id GROUP BY r.id",
    )
    assert all(counted == recorded for counted, recorded in per_run), per_run
