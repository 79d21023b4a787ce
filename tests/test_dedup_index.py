"""The persisted LSH index against a real PostgreSQL server (fixtures in conftest.py)."""

from __future__ import annotations

import json
import multiprocessing as mp
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from akhbar import dedup
from db import dedup_index
from db.article_store import ArticleRow, StoreResult, store_articles

DATA = Path(__file__).parent / "data" / "dedup" / "articles.jsonl"
ROWS = {r["id"]: r for r in map(json.loads, DATA.read_text(encoding="utf-8").splitlines())}
NOW = datetime(2024, 1, 1, tzinfo=UTC)


def _source(session: Session) -> int:
    return session.execute(
        text("INSERT INTO sources (name) VALUES ('s') ON CONFLICT (name) DO UPDATE SET name = 's' RETURNING id")
    ).scalar_one()  # fmt: skip


def _row(source_id: int, key: str, body: str, published: datetime | None = None) -> ArticleRow:
    url = f"https://example.test/{key}"
    return ArticleRow(source_id=source_id, url=url, canonical_url=url, body=body,
                      fetched_at=NOW, published_at=published)  # fmt: skip


def _store(session: Session, row: ArticleRow) -> StoreResult:
    return store_articles(session, [row])[0]


def test_add_find_and_explain(database_url: str) -> None:
    engine = create_engine(database_url)
    base, copy, other = (ROWS[k]["text"] for k in ("reuters-opec-cut", "reuters-opec-cut~c1", "afp-morocco-quake"))  # fmt: skip
    with Session(engine) as session:
        sid = _source(session)
        stored = _store(session, _row(sid, "base", base))
        session.commit()
        assert stored.kind == "stored"
        n_bands = session.execute(
            text("SELECT count(*) FROM minhash_bands WHERE article_id = :a"),
            {"a": stored.article_id},
        ).scalar()
        assert n_bands == dedup.BANDS
        copy_sig = dedup.signature(copy)[None, :]
        cands = dedup_index.stored_candidates(session, copy_sig, [])
        assert [c.key for c in cands] == [stored.article_id]
        assert (cands[0].signature == dedup.signature(base)).all()
        assert dedup_index.stored_candidates(session, dedup.signature(other)[None, :], []) == []
        by_hash = dedup_index.stored_candidates(
            session, dedup.signature(other)[None, :], [dedup.content_hash(base)]
        )
        assert [c.key for c in by_hash] == [stored.article_id]
        # A tiny table is seq-scanned; with seq scans disabled the plan still falls back to
        # one if the query's types or shape could not use the (key, article_id) key.
        session.execute(text("SET LOCAL enable_seqscan = off"))
        raw = session.connection().connection.driver_connection
        plan = "\n".join(
            r[0]
            for r in raw.execute(
                "EXPLAIN " + dedup_index.CANDIDATES,
                (dedup_index.lsh_keys(copy_sig), [dedup.content_hash(base)], 0),
            )
        )
        assert "pk_minhash_bands" in plan
        assert "uq_articles_content_hash" in plan  # the exact lookup uses its unique index

        res = _store(session, _row(sid, "copy", copy))
        assert (res.kind, res.article_id) == ("near", stored.article_id)
        exact = _store(session, _row(sid, "exact", base))
        assert exact.kind == "exact"
        new = _store(session, _row(sid, "other", other))
        assert new.kind == "stored"
        session.commit()
        kinds = session.execute(text("SELECT kind FROM duplicates ORDER BY id")).scalars().all()
        assert kinds == ["near", "exact"]
    engine.dispose()


def test_later_arriving_earlier_original_takes_the_row_over(database_url: str) -> None:
    engine = create_engine(database_url)
    base = ROWS["afp-morocco-quake"]["text"]
    with Session(engine) as session:
        sid = _source(session)
        first = _store(
            session,
            _row(sid, "republished", base + "\n\nتابعونا", datetime(2023, 9, 9, 12, tzinfo=UTC)),
        )
        res = _store(session, _row(sid, "original", base, datetime(2023, 9, 9, 10, tzinfo=UTC)))
        assert (res.kind, res.article_id, res.match) == ("replaced", first.article_id, "near")
        session.commit()
        url = session.execute(text("SELECT url FROM articles")).scalar_one()
        dup = session.execute(text("SELECT url, duplicate_of FROM duplicates")).one()
    engine.dispose()
    assert url == "https://example.test/original"
    assert tuple(dup) == ("https://example.test/republished", first.article_id)


def _racer(url: str, key: str, body: str, barrier, use_lock: bool, out) -> None:  # noqa: ANN001
    """One crawler process storing one copy; holds its transaction open a moment after
    deciding, so without the lock the other would decide on a stale view."""
    engine = create_engine(url)
    with Session(engine) as session:
        sid = session.execute(text("SELECT id FROM sources WHERE name = 's'")).scalar_one()
        session.commit()
        barrier.wait()
        sig = dedup.signature(body)
        if use_lock:
            stored = _store(session, _row(sid, key, body)).kind == "stored"
        else:  # the same decision without the index lock: the control that shows the race
            candidates = dedup_index.stored_candidates(session, sig[None, :], [])
            decision = dedup.decide(sig, [(c.key, c.signature) for c in candidates])
            stored = decision.duplicate_of is None
            if stored:
                v = _row(sid, key, body)
                aid = session.execute(
                    text("INSERT INTO articles (source_id, url, canonical_url, body, fetched_at, "
                         "content_hash, minhash) VALUES (:s, :u, :u, :b, :f, :h, :m) RETURNING id"),
                    {"s": sid, "u": v.url, "b": body, "f": NOW, "h": dedup.content_hash(body),
                     "m": dedup.signature_to_bytes(sig)},
                ).scalar_one()  # fmt: skip
                dedup_index.add_bands(session, [aid], sig[None, :])
        time.sleep(0.5)
        session.commit()
    engine.dispose()
    out.put((key, stored))


@pytest.mark.parametrize("use_lock", [True, False], ids=["locked", "control-without-locks"])
def test_two_processes_store_copies_of_one_story(database_url: str, use_lock: bool) -> None:
    engine = create_engine(database_url)
    with Session(engine) as session:
        _source(session)
        session.commit()
    a, b = ROWS["anadolu-derna-floods"]["text"], ROWS["anadolu-derna-floods~c8"]["text"]
    assert dedup.content_hash(a) != dedup.content_hash(b)  # a near copy, not an exact one
    ctx = mp.get_context("fork")
    barrier, out = ctx.Barrier(2), ctx.Queue()
    procs = [
        ctx.Process(target=_racer, args=(database_url, key, body, barrier, use_lock, out))
        for key, body in (("one", a), ("two", b))
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    results = dict(out.get(timeout=5) for _ in procs)
    with Session(engine) as session:
        articles = session.execute(text("SELECT count(*) FROM articles")).scalar()
        duplicates = session.execute(text("SELECT count(*) FROM duplicates")).scalar()
    engine.dispose()
    if use_lock:
        assert articles == 1 and duplicates == 1
        assert sorted(results.values()) == [False, True]
    else:  # without the locks both see an empty index and both store the story
        assert articles == 2
        assert results == {"one": True, "two": True}
