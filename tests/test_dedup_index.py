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

DATA = Path(__file__).parent / "data" / "dedup" / "articles.jsonl"
ROWS = {r["id"]: r for r in map(json.loads, DATA.read_text(encoding="utf-8").splitlines())}
NOW = datetime(2024, 1, 1, tzinfo=UTC)


def _source(session: Session) -> int:
    return session.execute(
        text("INSERT INTO sources (name) VALUES ('s') ON CONFLICT (name) DO UPDATE SET name = 's' RETURNING id")
    ).scalar_one()  # fmt: skip


def _values(source_id: int, key: str, body: str, published: datetime | None = None) -> dict:
    url = f"https://example.test/{key}"
    return {"source_id": source_id, "url": url, "canonical_url": url, "body": body,
            "fetched_at": NOW, "published_at": published}  # fmt: skip


def test_add_find_and_explain(database_url: str) -> None:
    engine = create_engine(database_url)
    base, copy, other = (ROWS[k]["text"] for k in ("reuters-opec-cut", "reuters-opec-cut~c1", "afp-morocco-quake"))  # fmt: skip
    with Session(engine) as session:
        sid = _source(session)
        stored = dedup_index.store_with_dedup(session, _values(sid, "base", base))
        session.commit()
        assert stored.article_id is not None
        n_bands = session.execute(
            text("SELECT count(*) FROM minhash_bands WHERE article_id = :a"),
            {"a": stored.article_id},
        ).scalar()
        assert n_bands == dedup.BANDS
        cands = dedup_index.find_candidates(session, dedup.signature(copy))
        assert [c[0] for c in cands] == [stored.article_id]
        assert (cands[0][1] == dedup.signature(base)).all()
        assert dedup_index.find_candidates(session, dedup.signature(other)) == []
        # A tiny table is seq-scanned; with seq scans disabled the plan still falls back to
        # one if the query's types or shape could not use the (key, article_id) key.
        session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(
            session.execute(
                text("EXPLAIN " + dedup_index._FIND.text),
                {"keys": dedup_index.band_keys(dedup.signature(copy))},
            ).scalars()
        )
        assert "pk_minhash_bands" in plan

        res = dedup_index.store_with_dedup(session, _values(sid, "copy", copy))
        assert res.article_id is None and res.decision.duplicate_of == stored.article_id
        assert res.decision.kind == "near"
        exact = dedup_index.store_with_dedup(session, _values(sid, "exact", base))
        assert exact.decision.kind == "exact"
        new = dedup_index.store_with_dedup(session, _values(sid, "other", other))
        assert new.article_id is not None
        session.commit()
        kinds = session.execute(text("SELECT kind FROM duplicates ORDER BY id")).scalars().all()
        assert kinds == ["near", "exact"]
    engine.dispose()


def test_later_arriving_earlier_original_is_flagged(database_url: str) -> None:
    engine = create_engine(database_url)
    base = ROWS["afp-morocco-quake"]["text"]
    with Session(engine) as session:
        sid = _source(session)
        dedup_index.store_with_dedup(
            session,
            _values(sid, "republished", base + "\n\nتابعونا", datetime(2023, 9, 9, 12, tzinfo=UTC)),
        )
        res = dedup_index.store_with_dedup(
            session, _values(sid, "original", base, datetime(2023, 9, 9, 10, tzinfo=UTC))
        )
        assert res.article_id is None and res.replace_stored
        session.commit()
    engine.dispose()


def _racer(url: str, key: str, body: str, barrier, use_lock: bool, out) -> None:  # noqa: ANN001
    """One crawler process storing one copy; holds its transaction open a moment after
    deciding, so without the locks the other would decide on a stale view."""
    engine = create_engine(url)
    with Session(engine) as session:
        sid = session.execute(text("SELECT id FROM sources WHERE name = 's'")).scalar_one()
        session.commit()
        barrier.wait()
        sig = dedup.signature(body)
        if use_lock:
            res = dedup_index.store_with_dedup(session, _values(sid, key, body))
            stored = res.article_id is not None
        else:  # the same routine without lock_bands: the control that shows the race
            decision = dedup.decide(sig, dedup_index.find_candidates(session, sig))
            stored = decision.duplicate_of is None
            if stored:
                v = _values(sid, key, body)
                aid = session.execute(
                    text("INSERT INTO articles (source_id, url, canonical_url, body, fetched_at, "
                         "content_hash, minhash) VALUES (:s, :u, :u, :b, :f, :h, :m) RETURNING id"),
                    {"s": sid, "u": v["url"], "b": body, "f": NOW, "h": dedup.content_hash(body),
                     "m": dedup.signature_to_bytes(sig)},
                ).scalar_one()  # fmt: skip
                dedup_index.add_bands(session, aid, sig)
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
