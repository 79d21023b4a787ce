"""Bulk import of realistic articles, end to end (`akhbar import`'s code path).

    .venv/bin/python bench/import_bench.py [--articles 20000] [--words 600] [--batch 2000]
                                           [--rebuild-batch 1000] [--rebuilds 2]

Writes a JSONL file of articles whose bodies are ``--words`` words drawn at random from the
labelled Arabic set (tests/data/dedup), 5 % of them near copies of earlier lines (a
dropped paragraph and a new dateline), then imports it into fresh databases on a throwaway
cluster (PostgreSQL 15, durable defaults: fsync on): with signatures, content hashes and search vectors
computed in 2 worker processes, and in the importing process alone. Prints articles/s from
reading the file to the last commit, and how many copies were found.

Then ``akhbar dedup-index rebuild``'s code path (``rebuild_index``) on the database imported
last, in one process and with signatures in 2 worker processes, each run twice (alternated,
--rebuilds): every band row is deleted before a run, so each run signs every stored body
again and rewrites every article's signature and bands, as after a change of the banding.
Prints articles/s from the first read to the last commit; the reports must be equal.

bench/dedup_scale.py measures the dedup index at 1M with short bodies; this one what real
article rows cost (body TOAST, full-text vector and its GIN index).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from db import migrate  # noqa: E402
from db.article_store import RebuildReport, rebuild_index  # noqa: E402
from db.bulk_import import import_file  # noqa: E402
from db.embedded import ADMIN_ROLE, EmbeddedPostgres, free_port  # noqa: E402

LABELLED = ROOT / "tests" / "data" / "dedup" / "articles.jsonl"
COPY_SHARE = 0.05


def write_corpus(path: Path, n: int, words_per_article: int) -> int:
    """The JSONL file; returns how many lines are near copies of earlier ones."""
    rows = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()]
    words = " ".join(r["text"] for r in rows).split()
    rng = random.Random(11)
    copies = 0
    bodies: list[str] = []
    with open(path, "w", encoding="utf-8") as out:
        for i in range(n):
            if bodies and rng.random() < COPY_SHARE:
                original = bodies[rng.randrange(len(bodies))].split()
                cut = len(original) * 4 // 5  # a dropped closing part and a new dateline
                body = "عمان (وكالات) - " + " ".join(original[:cut])
                copies += 1
            else:
                # Words drawn from the labelled texts: realistic Arabic words, lengths and
                # clitics, but no two originals share runs of words (they are not copies).
                body = " ".join(rng.choices(words, k=words_per_article))
                bodies.append(body)
                if len(bodies) > 2000:
                    bodies.pop(0)
            title = " ".join(body.split()[3:11])
            line = {
                "url": f"https://bench{i % 7}.example/a/{i}",
                "source": f"bench{i % 7}",
                "title": title,
                "body": body,
                "published_at": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00+00:00",
            }
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
    return copies


def time_rebuilds(url: str, batch: int, runs: int) -> None:
    """``rebuild_index`` in one process and with 2 workers, alternated, ``runs`` times each."""
    engine = create_engine(url)
    print(f"\n{'mode':<42} {'articles/s':>10} {'examined':>8} {'rewritten':>9} {'s':>7}")
    reports: dict[int, RebuildReport] = {}
    for _ in range(runs):
        for workers in (0, 2):
            with engine.begin() as conn:
                conn.execute(text("DELETE FROM minhash_bands"))
            t = time.perf_counter()
            report = rebuild_index(engine, batch=batch, workers=workers)
            dt = time.perf_counter() - t
            assert reports.setdefault(workers, report) == report
            mode = (
                f"rebuild, signatures in {workers} workers" if workers else "rebuild, one process"
            )
            print(f"{mode:<42} {report.examined / dt:>10,.0f} {report.examined:>8,} "
                  f"{report.resigned + report.rebanded:>9,} {dt:>7.1f}")  # fmt: skip
    engine.dispose()
    assert reports[0] == reports[2], (reports[0], reports[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--words", type=int, default=600)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--rebuild-batch", type=int, default=1000, help="dedup-index --batch")
    parser.add_argument("--rebuilds", type=int, default=2, help="timed runs per rebuild mode")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="akhbar-import-bench-", dir="/tmp"))
    home.chmod(0o755)
    corpus = home / "articles.jsonl"
    t0 = time.perf_counter()
    copies = write_corpus(corpus, args.articles, args.words)
    print(f"{args.articles:,} articles of {args.words} words ({corpus.stat().st_size / 1e6:.0f} MB, "
          f"{copies:,} near copies) written in {time.perf_counter() - t0:.1f} s")  # fmt: skip
    server = EmbeddedPostgres(home=home / "pg", port=free_port())
    server.start()
    try:
        print(f"{'mode':<42} {'articles/s':>10} {'stored':>8} {'near':>6} {'exact':>6} {'s':>7}")
        for workers in (2, 0):
            name = f"import_w{workers}"
            with psycopg.connect(**server.conninfo(ADMIN_ROLE), autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            url = server.url_for(ADMIN_ROLE, name)
            migrate.upgrade(url)
            engine = create_engine(url)
            t = time.perf_counter()
            report = import_file(engine, corpus, batch_size=args.batch, workers=workers)
            dt = time.perf_counter() - t
            with engine.connect() as conn:
                empty = conn.execute(
                    text("SELECT count(*) FROM articles WHERE search_vector IS NULL")
                ).scalar()
            engine.dispose()
            assert empty == 0
            mode = (
                f"import, fingerprints in {workers} workers" if workers else "import, one process"
            )
            print(f"{mode:<42} {args.articles / dt:>10,.0f} {report.stored:>8,} "
                  f"{report.kinds['near']:>6,} {report.kinds['exact']:>6,} {dt:>7.1f}")  # fmt: skip
        time_rebuilds(url, args.rebuild_batch, args.rebuilds)
    finally:
        server.destroy()
        shutil.rmtree(home, ignore_errors=True)  # the corpus file


if __name__ == "__main__":
    main()
