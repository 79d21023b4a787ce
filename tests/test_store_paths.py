"""One engine behind the three ways to store an article (issue 12): the labelled set
(tests/data/dedup) through the crawl's batch call, `akhbar import` and reprocessing gives
`akhbar dedup`'s decisions, and every id the writer hands out stays a row or resolves (by
its URL, through `duplicates`) to one."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import Engine

from akhbar import dedup
from akhbar.samples import SampleSites
from db.article_store import (
    ArticleRow,
    StoreResult,
    reprocess_article,
    row_from_processed,
    store_articles,
)
from db.bulk_import import import_file
from db.engine import session_scope
from tests.crawl_helpers import (
    LABELLED_BY_URL,
    LABELLED_ROWS,
    LABELLED_SET,
    crawl_env,
    dedup_command_outcome,
    frontier,
    labelled_outcome,
    labelled_page,
    make_site,
    query,
    run_crawl,
)

DATA = LABELLED_SET
ROWS = LABELLED_ROWS
BY_ID = {r["id"]: r for r in ROWS}
BY_URL = LABELLED_BY_URL
NOW = datetime(2025, 1, 1, tzinfo=UTC)
# The crawl pipeline's batch size in these tests (AKHBAR_STORE_BATCH_SIZE).
CRAWL_BATCH = 25


def _published(row: dict) -> datetime | None:
    return datetime.fromisoformat(row["published"]) if row["published"] else None


def _published_order(rows: list[dict]) -> list[dict]:
    return [rows[i] for i in dedup.publication_order([_published(r) for r in rows])]


def _unresolved(engine: Engine, handed_out: dict[int, str]) -> list[int]:
    """Ids handed out (with the URL they were handed out for) that are neither a row nor
    reachable from their URL: as an article's URL, or a duplicate pointing at a row."""
    with engine.connect() as conn:
        ids = set(conn.execute(text("SELECT id FROM articles")).scalars())
        urls = set(conn.execute(text("SELECT url FROM articles")).scalars())
        dups = dict(conn.execute(text("SELECT url, duplicate_of FROM duplicates")).all())
    return [
        aid
        for aid, url in handed_out.items()
        if aid not in ids and url not in urls and dups.get(url) not in ids
    ]


def _source(engine: Engine) -> int:
    with session_scope(engine) as session:
        return session.execute(
            text("INSERT INTO sources (name) VALUES ('t') RETURNING id")
        ).scalar_one()


def _fresh_database(pg_server) -> str:  # noqa: ANN001
    from conftest import TEMPLATE_DB, _admin, _url

    name = f"t_{uuid.uuid4().hex[:12]}"
    _admin(pg_server, f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DB}"')
    return _url(pg_server, name)


def _crawl(engine: Engine, rows: list[dict]) -> list[StoreResult]:
    """What the storage pipeline does with pages arriving in this order: one
    ``store_articles`` call (one transaction) per batch of CRAWL_BATCH pages."""
    sid = _source(engine)
    results = []
    for start in range(0, len(rows), CRAWL_BATCH):
        batch = [
            row_from_processed(labelled_page(r, NOW), source_id=sid, run_id=None)
            for r in rows[start : start + CRAWL_BATCH]
        ]
        with session_scope(engine) as session:
            results += store_articles(session, batch)
    return results


def test_crawl_import_and_reprocess_decide_alike(
    database_url: str,
    pg_server,  # noqa: ANN001
) -> None:
    expected = dedup_command_outcome()
    assert any(BY_ID[k]["case"] == "brief" for k in expected[1])  # hard cases are exercised

    # The crawl, pages arriving in published order, in the pipeline's batches.
    crawl = create_engine(database_url, poolclass=pool.NullPool)
    ordered = _published_order(ROWS)
    results = _crawl(crawl, ordered)
    assert labelled_outcome(crawl) == expected
    stored_ids = {r.article_id for r in results if r.kind == "stored"}
    with crawl.connect() as conn:
        assert set(conn.execute(text("SELECT id FROM articles")).scalars()) == stored_ids
    crawl.dispose()

    # `akhbar import` of the file as it is (not in published order), in batches of 40.
    target = _fresh_database(pg_server)
    imported = create_engine(target, poolclass=pool.NullPool)
    report = import_file(imported, DATA, batch_size=40)
    assert labelled_outcome(imported) == expected
    assert report.stored == len(expected[0])
    imported.dispose()

    # Reprocessing: an old extractor stored every page with its site furniture (text that
    # hides every copy: each page's own), one row each; re-extracted, each row is decided
    # again, in id order, and the copies merge into their originals.
    target = _fresh_database(pg_server)
    engine = create_engine(target, poolclass=pool.NullPool)
    sid = _source(engine)
    words = sorted({w for r in ROWS for w in r["text"].split()})
    rng = random.Random(12)
    handed_out: dict[int, str] = {}
    with session_scope(engine) as session:
        for row in ordered:
            furniture = " ".join(rng.choices(words, k=3 * len(row["text"].split())))
            old = row["text"] + "\n\n" + furniture
            aid = session.execute(
                text(
                    "INSERT INTO articles (source_id, url, canonical_url, title, body, "
                    "published_at, fetched_at, content_hash, minhash, extractor_version) "
                    "VALUES (:s, :u, :u, :t, :b, :p, :f, :h, :m, 'old') RETURNING id"
                ),
                {"s": sid, "u": row["url"], "t": row["title"], "b": old,
                 "p": _published(row), "f": NOW, "h": dedup.content_hash(old),
                 "m": dedup.signature_to_bytes(dedup.signature(old))},
            ).scalar_one()  # fmt: skip
            handed_out[aid] = row["url"]
    outcomes = {}
    for aid, url in sorted(handed_out.items()):
        row = BY_URL[url]
        clean = ArticleRow(
            source_id=sid,
            url=url,
            canonical_url=url,
            title=row["title"],
            body=row["text"],
            published_at=_published(row),
            fetched_at=NOW,
            extractor_version="new",
        )
        with session_scope(engine) as session:
            if session.execute(text("SELECT 1 FROM articles WHERE id = :a"), {"a": aid}).first():
                outcomes[aid] = reprocess_article(session, aid, clean)
    assert labelled_outcome(engine) == expected
    assert {o.kind for o in outcomes.values()} == {"stored", "exact", "near"}
    assert _unresolved(engine, handed_out) == []
    with engine.connect() as conn:
        # Every surviving row holds its re-extracted text and is indexed by it.
        stale = conn.execute(
            text(
                "SELECT count(*) FROM articles a WHERE extractor_version <> 'new' OR NOT EXISTS "
                "(SELECT 1 FROM minhash_bands b WHERE b.article_id = a.id)"
            )
        ).scalar()
    assert stale == 0
    engine.dispose()


def test_crawl_batches_in_any_order_keep_ids_and_earliest_copies(database_url: str) -> None:
    """Pages arriving shuffled, in the pipeline's batches: earlier originals arrive after
    their copies and take the stored rows over; every id handed out stays a row, each
    story is represented by its earliest copy, and no two stories merge."""
    rows = list(ROWS)
    random.Random(7).shuffle(rows)
    engine = create_engine(database_url, poolclass=pool.NullPool)
    results = _crawl(engine, rows)
    assert "replaced" in {r.kind for r in results}
    with engine.connect() as conn:
        ids = set(conn.execute(text("SELECT id FROM articles")).scalars())
    assert {r.article_id for r in results} <= ids  # takeovers keep the ids handed out
    kept, copies = labelled_outcome(engine)
    assert len(kept) + len(copies) == len(ROWS)
    for copy, rep in copies.items():
        assert BY_ID[copy]["cluster"] == BY_ID[rep]["cluster"], (copy, rep)
        if BY_ID[copy]["published"] and BY_ID[rep]["published"]:
            assert BY_ID[rep]["published"] <= BY_ID[copy]["published"], (copy, rep)
    engine.dispose()


def test_a_real_crawl_stores_in_batches_and_its_feed_shows_final_outcomes(
    tmp_path: Path, subprocess_env: dict[str, str], database_url: str
) -> None:
    """`scrapy crawl` with batches of 4: no transaction holds more than 4 pages (articles of
    one transaction share its `first_seen_at`), several hold more than one, and each feed
    record names the outcome and the id its batch committed."""
    root = make_site(tmp_path, articles=30)
    feed = tmp_path / "out.jsonl"
    with SampleSites(samples_dir=root) as sites:
        env = crawl_env(
            subprocess_env,
            sites,
            root,
            AKHBAR_STORE_BATCH_SIZE="4",
            AKHBAR_STORE_BATCH_SECONDS="2",
            AKHBAR_CONCURRENT_PER_DOMAIN="16",
        )
        result = run_crawl(env, "tiny", "-O", str(feed), timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    ids = dict(query(database_url, "SELECT url, id FROM articles"))
    assert len(ids) == 30
    records = [json.loads(line) for line in feed.read_text(encoding="utf-8").splitlines()]
    assert sorted((r["url"], r["outcome"], r["article_id"]) for r in records) == sorted(
        (url, "stored", aid) for url, aid in ids.items()
    )
    sizes = [
        n for (n,) in query(database_url, "SELECT count(*) FROM articles GROUP BY first_seen_at")
    ]
    assert max(sizes) <= 4 and max(sizes) > 1, sizes
    [(status, stored)] = query(database_url, "SELECT status, articles_stored FROM crawl_runs")
    assert (status, stored) == ("finished", 30)
    assert frontier(database_url) == {}  # every page done, journal removed
