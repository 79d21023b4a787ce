"""The persisted LSH index at scale: bulk load, lookup latency, insert rate, memory.

    .venv/bin/python bench/dedup_scale.py [--articles 1000000] [--batch 10000] [--lookups 2000]
                                          [--database-url URL] [--keep]

Without --database-url a throwaway PostgreSQL cluster (db.embedded, its durable defaults)
is created under /tmp, migrated to head, and destroyed at the end (--keep to keep it).
The load goes through ``db.article_store.store_articles`` (the one writer: index lock,
URL, exact and LSH lookups, decisions, COPY of articles and bands), one transaction per
batch. Signatures are synthetic (NUM_PERM random values, scaled like the minima of ~600
shingles so they pass the short-text minimum): they share no band with each other, so 1 % of each batch is made of near copies of earlier articles (40 %
of values replaced, estimated Jaccard ~0.6), and half the timed lookups are such copies.
Bodies are five short unique paragraphs (five ``recurring_text`` rows per article, as a real
article would add; their paragraph fingerprints, like the signatures, are computed outside
the timed part, as the import's workers do): this measures the dedup index, not the
full-text column (see bench/search_bench.py). Real corpora add unrelated background candidates (estimated in
bench/dedup_quality.py).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from akhbar import dedup  # noqa: E402
from akhbar.search import search_vector  # noqa: E402
from db import dedup_index  # noqa: E402
from db.article_store import ArticleRow, store_articles  # noqa: E402

SEED = 7
# Share of each batch that are near copies of articles stored in earlier batches (the dedup
# decisions are then exercised at every size, not only on empty buckets).
COPY_SHARE = 0.01
# Synthetic signature values: the least of ~600 uniform 32-bit hashes lies below 2^32/600, so
# akhbar.dedup.estimated_shingles reads ~600 (a 600-word article), not ~1.
SIG_RANGE = 2**32 // 600
PARAGRAPHS = 5


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def batch_signatures(batch_no: int, size: int) -> np.ndarray:
    """The fresh signatures of one batch, regenerable from its number (nothing kept)."""
    rng = np.random.default_rng([SEED, batch_no])
    return rng.integers(0, SIG_RANGE, size=(size, dedup.NUM_PERM), dtype=np.uint32)


def near_copy(sig: np.ndarray, rng: np.random.Generator, frac: float = 0.4) -> np.ndarray:
    out = sig.copy()
    idx = rng.choice(len(sig), size=int(frac * len(sig)), replace=False)
    out[idx] = rng.integers(0, SIG_RANGE, size=len(idx), dtype=np.uint32)
    return out


def batch_items(
    batch_no: int, size: int, source_id: int, now: datetime
) -> tuple[list[dict], np.ndarray, int]:
    """One batch for store_articles: article values, signatures, and how many are near copies
    of articles of earlier batches."""
    sigs = batch_signatures(batch_no, size)
    rng = np.random.default_rng([SEED, batch_no, 1])
    copies = int(COPY_SHARE * size) if batch_no else 0
    for k in rng.choice(size, size=copies, replace=False):
        earlier = int(rng.integers(0, batch_no))
        sigs[k] = near_copy(batch_signatures(earlier, size)[int(rng.integers(0, size))], rng)
    items = []
    for k in range(size):
        url = f"https://bench.example/{batch_no}/{k}"
        body = "\n\n".join(f"الفقرة {j} من مقال الاختبار {batch_no}-{k}" for j in range(PARAGRAPHS))
        # As the crawler's and the importer's worker processes send it (not timed here).
        items.append(
            {"source_id": source_id, "url": url, "canonical_url": url,
             "body": body, "fetched_at": now, "word_count": 600,
             "search_vector": search_vector(None, body)}
        )  # fmt: skip
    return items, sigs, copies


def load(engine, source_id: int, n_articles: int, batch: int) -> tuple[list[tuple], int, int]:  # noqa: ANN001
    """store_articles batch by batch, one transaction each; returns (stored, seconds, rate)
    samples, the near copies injected and the duplicates recorded."""
    now = datetime.now(UTC)
    samples = []
    injected = recorded = 0
    with Session(engine) as session:
        for batch_no, start in enumerate(range(0, n_articles, batch)):
            size = min(batch, n_articles - start)
            items, sigs, copies = batch_items(batch_no, size, source_id, now)
            paragraphs = [dedup.paragraphs(item["body"]) for item in items]
            t0 = time.perf_counter()
            rows = [
                ArticleRow(**item, signature=sig, paragraphs=found)
                for item, sig, found in zip(items, sigs, paragraphs, strict=True)
            ]
            results = store_articles(session, rows)
            session.commit()
            dt = time.perf_counter() - t0
            injected += copies
            recorded += sum(r.kind != "stored" for r in results)
            samples.append((start + size, dt, size / dt))
            if (batch_no + 1) % max(
                1, (n_articles // batch) // 10
            ) == 0 or start + size == n_articles:
                print(f"  {start + size:>9,} articles: batch of {size:,} in {dt:.2f} s = "
                      f"{size / dt:,.0f} articles/s; duplicates found {recorded:,} of "
                      f"{injected:,} near copies; RSS {rss_mb():.0f} MB", flush=True)  # fmt: skip
    return samples, injected, recorded


def query_sigs(n: int, n_articles: int, batch: int) -> list[tuple[str, np.ndarray]]:
    rng = np.random.default_rng(SEED + 1)
    batches = max(1, n_articles // batch)
    out = []
    for i in range(n):
        if i % 2 == 0:
            sig = batch_signatures(int(rng.integers(0, batches)), batch)[
                int(rng.integers(0, batch))
            ]
            out.append(("near-copy", near_copy(sig, rng)))
        else:
            out.append(("fresh", rng.integers(0, SIG_RANGE, size=dedup.NUM_PERM, dtype=np.uint32)))
    return out


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument(
        "--stores", type=int, default=2000, help="articles stored one per store_articles call"
    )
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--shared-buffers", default="1GB", help="for the throwaway cluster (server default 128MB)"
    )
    parser.add_argument(
        "--max-wal-size",
        default="1GB",
        help="for the throwaway cluster (server default 1GB; a write-heavy server raises it, so "
        "checkpoints and their full-page images come less often)",
    )
    args = parser.parse_args(argv)

    server = None
    url = args.database_url
    if url is None:
        from db.embedded import ADMIN_ROLE, EmbeddedPostgres, free_port

        home = Path(tempfile.mkdtemp(prefix="akhbar-dedup-scale-", dir="/tmp"))
        home.chmod(0o755)
        server = EmbeddedPostgres(home=home, port=free_port())
        server.start()
        url = server.url_for(ADMIN_ROLE, "akhbar")  # ALTER SYSTEM needs the superuser
        libpq0 = url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(libpq0, autocommit=True) as conn:
            conn.execute(f"ALTER SYSTEM SET shared_buffers = '{args.shared_buffers}'")
            conn.execute(f"ALTER SYSTEM SET max_wal_size = '{args.max_wal_size}'")
        server.stop()
        server.start()
        print(f"throwaway cluster in {home}, shared_buffers={args.shared_buffers}, "
              f"max_wal_size={args.max_wal_size}, fsync on")  # fmt: skip
    from db.migrate import upgrade

    upgrade(url)
    libpq = url.replace("postgresql+psycopg://", "postgresql://")
    s = dedup.DEFAULT
    print(f"settings: {s.num_perm} permutations, {s.bands} bands x {s.rows} rows; "
          f"{args.articles:,} articles in batches of {args.batch:,}; pid {os.getpid()}")  # fmt: skip
    rss0 = rss_mb()
    print(f"RSS before load: {rss0:.0f} MB")
    engine = create_engine(url)
    try:
        with psycopg.connect(libpq) as conn:
            source_id = conn.execute(
                "INSERT INTO sources (name) VALUES ('bench') RETURNING id"
            ).fetchone()[0]
            conn.commit()
        t0 = time.perf_counter()
        samples, injected, recorded = load(engine, source_id, args.articles, args.batch)
        total = time.perf_counter() - t0
        with psycopg.connect(libpq, autocommit=True) as conn:
            t1 = time.perf_counter()
            conn.execute("VACUUM ANALYZE articles")
            conn.execute("VACUUM ANALYZE minhash_bands")
            print(f"VACUUM ANALYZE: {time.perf_counter() - t1:.1f} s")
            sizes = conn.execute(
                "SELECT pg_size_pretty(pg_total_relation_size('minhash_bands')), "
                "pg_size_pretty(pg_total_relation_size('articles')), "
                "(SELECT count(*) FROM minhash_bands), (SELECT count(*) FROM articles)"
            ).fetchone()
        rates = [r for _, _, r in samples]
        tenth = max(1, len(rates) // 10)
        print(f"bulk insert (store_articles: lock, URL + exact + LSH lookups, decisions, COPY; "
              f"{args.batch:,}/batch, one transaction each): {args.articles:,} in {total:.0f} s = "
              f"{args.articles / total:,.0f} articles/s overall; first 10% of batches median "
              f"{statistics.median(rates[:tenth]):,.0f}/s, last 10% median "
              f"{statistics.median(rates[-tenth:]):,.0f}/s, slowest batch {min(rates):,.0f}/s")  # fmt: skip
        print(f"near copies injected {injected:,}, recorded as duplicates {recorded:,}; "
              f"articles stored {sizes[3]:,}")  # fmt: skip
        print(f"minhash_bands: {sizes[2]:,} rows, {sizes[0]} with indexes; articles {sizes[1]}")
        with psycopg.connect(libpq) as conn:
            recurring = (
                conn.execute("SELECT to_regclass('recurring_text') IS NOT NULL").fetchone()[0]
                and conn.execute(
                    "SELECT count(*), pg_size_pretty(pg_total_relation_size('recurring_text')) "
                    "FROM recurring_text"
                ).fetchone()
            )
        if recurring:
            print(f"recurring_text: {recurring[0]:,} rows, {recurring[1]} with indexes")
        print(f"RSS after load: {rss_mb():.0f} MB")

        queries = query_sigs(args.lookups, args.articles, args.batch)
        times: dict[str, list[float]] = {"near-copy": [], "fresh": []}
        found: dict[str, int] = {"near-copy": 0, "fresh": 0}
        with Session(engine) as session:
            dedup_index.stored_candidates(session, queries[0][1][None, :], [])  # warm up
            session.rollback()
            for kind, sig in queries:
                t = time.perf_counter()
                cands = dedup_index.stored_candidates(session, sig[None, :], [])
                times[kind].append((time.perf_counter() - t) * 1000)
                session.rollback()
                found[kind] += bool(cands)
            raw = session.connection().connection.driver_connection
            plan = [
                r[0]
                for r in raw.execute(
                    "EXPLAIN (ANALYZE, BUFFERS) " + dedup_index.CANDIDATES,
                    (dedup_index.lsh_keys(queries[0][1][None, :], s), [], 0),
                )
            ]
            session.rollback()
        all_t = times["near-copy"] + times["fresh"]
        print(f"lookup (stored_candidates, one query, {len(all_t)} lookups): median "
              f"{statistics.median(all_t):.2f} ms, p99 {pct(all_t, 99):.2f} ms")  # fmt: skip
        for kind in times:
            print(f"  {kind:9}: median {statistics.median(times[kind]):.2f} ms, p99 "
                  f"{pct(times[kind], 99):.2f} ms, found a candidate in {found[kind]}/{len(times[kind])}")  # fmt: skip
        print("EXPLAIN (ANALYZE, BUFFERS) of a near-copy lookup:")
        print("\n".join("    " + line for line in plan))
        uses_pk = any("pk_minhash_bands" in line for line in plan)
        print(f"uses the minhash_bands primary-key index: {'yes' if uses_pk else 'NO'}")

        # The transactional path the pipeline uses: lock, exact check, find, insert + bands.
        rng = np.random.default_rng(SEED + 2)
        per_tx = 100
        t = time.perf_counter()
        stored = dups = 0
        now = datetime.now(UTC)
        with Session(engine) as session:
            for i in range(args.stores):
                aid = i + 1
                sig = rng.integers(0, SIG_RANGE, size=dedup.NUM_PERM, dtype=np.uint32)
                (res,) = store_articles(
                    session,
                    [ArticleRow(source_id=source_id, url=f"https://bench.example/new/{aid}",
                     canonical_url=f"https://bench.example/new/{aid}",
                     body="\n\n".join(f"الفقرة {j} من المقال الجديد {aid}" for j in range(PARAGRAPHS)),
                     fetched_at=now, signature=sig)],
                )  # fmt: skip
                stored += res.kind == "stored"
                dups += res.kind != "stored"
                if (i + 1) % per_tx == 0:
                    session.commit()
            session.commit()
        dt = time.perf_counter() - t
        print(f"store_articles, one article a call (lock + lookups + COPY, {per_tx}/transaction): "
              f"{args.stores:,} in {dt:.1f} s = {args.stores / dt:,.0f} articles/s "
              f"({stored} stored, {dups} duplicates)")  # fmt: skip
        print(f"RSS after lookups and stores: {rss_mb():.0f} MB (before load {rss0:.0f} MB)")
    finally:
        engine.dispose()
        if server is not None and not args.keep:
            server.destroy()


if __name__ == "__main__":
    main()
