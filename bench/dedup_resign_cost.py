"""Store cost when paragraphs turn recurring (re-signing their first carriers, revision 0012).

    .venv/bin/python bench/dedup_resign_cost.py [--tree DIR] [--articles 3000] [--notices 600]
                                                [--batch 200] [--rebuild]

Briefs through ``store_articles`` in batches, on a throwaway cluster (durable defaults): each
has a unique lead and two unique paragraphs (35-40 words drawn from the labelled set's words)
and, for ``3 * notices`` of them, one of ``notices`` 30-word notices, each appearing three
times at random places in the run: every notice turns recurring at its second appearance and
its first carrier is signed again (in the same batch or a later one). ``--tree`` runs the code
of another checkout (``git archive OLD | tar -x -C DIR``) for a before/after comparison on the
same corpus. ``--rebuild`` then times ``akhbar dedup-index rebuild``'s code on the result: as
stored, from an emptied ``recurring_text``, and a second time.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=ROOT)
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--notices", type=int, default=600)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(args.tree.resolve()))
    import psycopg
    from sqlalchemy import create_engine, text

    from db import migrate
    from db.article_store import ArticleRow, store_articles
    from db.embedded import ADMIN_ROLE, EmbeddedPostgres, free_port
    from db.engine import session_scope

    labelled = (ROOT / "tests/data/dedup/articles.jsonl").read_text("utf-8").splitlines()
    words = " ".join(json.loads(line)["text"] for line in labelled).split()
    rng = random.Random(5)
    n = args.articles
    notices = [" ".join(rng.choices(words, k=30)) for _ in range(args.notices)]
    slots: list[int | None] = [i % args.notices for i in range(3 * args.notices)]
    slots += [None] * (n - len(slots))
    rng.shuffle(slots)
    bodies = []
    for i in range(n):
        paras = [" ".join(rng.choices(words, k=k)) for k in (35, 40, 40)]
        if slots[i] is not None:
            paras.append(notices[slots[i]])
        bodies.append("\n\n".join(paras))

    home = Path(tempfile.mkdtemp(prefix="akhbar-resign-cost-", dir="/tmp"))
    home.chmod(0o755)
    server = EmbeddedPostgres(home=home / "pg", port=free_port())
    server.start()
    try:
        with psycopg.connect(**server.conninfo(ADMIN_ROLE), autocommit=True) as conn:
            conn.execute('CREATE DATABASE "bench"')
        url = server.url_for(ADMIN_ROLE, "bench")
        migrate.upgrade(url)
        engine = create_engine(url)
        with session_scope(engine) as session:
            sid = session.execute(
                text("INSERT INTO sources (name) VALUES ('bench') RETURNING id")
            ).scalar_one()
        t0 = datetime(2025, 1, 1, tzinfo=UTC)
        times: list[float] = []
        kinds: dict[str, int] = {}
        for start in range(0, n, args.batch):
            batch = [
                ArticleRow(source_id=sid, url=f"https://x.test/{i}",
                           canonical_url=f"https://x.test/{i}", body=bodies[i], fetched_at=t0,
                           published_at=t0 + timedelta(minutes=i))
                for i in range(start, min(n, start + args.batch))
            ]  # fmt: skip
            t = time.perf_counter()
            with session_scope(engine) as session:
                results = store_articles(session, batch)
            times.append(time.perf_counter() - t)
            for r in results:
                kinds[r.kind] = kinds.get(r.kind, 0) + 1
        with engine.connect() as conn:
            learned = conn.execute(
                text("SELECT count(*) FROM recurring_text WHERE recurring_since IS NOT NULL")
            ).scalar()
        times.sort()
        print(f"{args.tree.resolve().name}: {n:,} articles in {sum(times):.2f} s = "
              f"{n / sum(times):,.0f}/s; batch of {args.batch} median "
              f"{times[len(times) // 2] * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms; "
              f"{kinds}; {learned} paragraphs recurring")  # fmt: skip
        if args.rebuild:
            from db.article_store import rebuild_index

            for label, forget in (("as stored", False), ("emptied table", True), ("again", False)):
                if forget:
                    with session_scope(engine) as session:
                        session.execute(text("DELETE FROM recurring_text"))
                t = time.perf_counter()
                # In one process, as the figures in docs/dedup.md were measured.
                report = rebuild_index(engine, batch=1000, workers=0)
                print(f"rebuild, {label}: {time.perf_counter() - t:.2f} s {report.as_json()}")
        engine.dispose()
    finally:
        server.destroy()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
