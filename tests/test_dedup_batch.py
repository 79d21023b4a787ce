"""The writer (`db.article_store.store_articles`) decides a batch exactly as one-by-one
storing does, a writer waits for a batch in progress, and deleting articles removes their
bands."""

from __future__ import annotations

import json
import multiprocessing as mp
import random
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from akhbar import dedup
from db.article_store import ArticleRow, store_articles

DATA = Path(__file__).parent / "data" / "dedup" / "articles.jsonl"
ROWS = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]
BY_ID = {r["id"]: r for r in ROWS}
NOW = datetime(2025, 1, 1, tzinfo=UTC)


def _values(source_id: int, row: dict) -> ArticleRow:
    url = f"https://example.test/{row['id']}"
    return ArticleRow(
        source_id=source_id,
        url=url,
        canonical_url=url,
        title=row["title"],
        body=row["text"],
        published_at=datetime.fromisoformat(row["published"]) if row["published"] else None,
        fetched_at=NOW,
    )


def _source(session: Session) -> int:
    return session.execute(
        text("INSERT INTO sources (name) VALUES ('s') RETURNING id")
    ).scalar_one()


def _by_key(session: Session) -> tuple[dict, dict]:
    """The database's outcome, named by labelled key: stored keys by id, and each
    duplicate's (representative key, kind, similarity)."""
    stored = {
        aid: url.rsplit("/", 1)[1]
        for aid, url in session.execute(text("SELECT id, url FROM articles"))
    }
    copies = {
        url.rsplit("/", 1)[1]: (stored[dup], kind, round(sim, 6))
        for url, dup, kind, sim in session.execute(
            text("SELECT url, duplicate_of, kind, similarity FROM duplicates")
        )
    }
    return stored, copies


def _publication_order(rows: list[dict]) -> list[dict]:
    never = datetime.max.replace(tzinfo=UTC)
    return sorted(
        rows, key=lambda r: datetime.fromisoformat(r["published"]) if r["published"] else never
    )


def test_batch_decides_like_one_by_one(database_url: str) -> None:
    """165 labelled articles: a random half stored one by one, the rest in one batch, gives
    the same articles, copies, kinds, similarities and outcomes as storing everything one
    by one in the order the batch uses (publication order)."""
    rng = random.Random(5)
    first = rng.sample(ROWS, len(ROWS) // 2)
    rest = [r for r in ROWS if r not in first]
    rng.shuffle(rest)  # the batch must sort by publication itself
    engine = create_engine(database_url)
    with Session(engine) as session:
        sid = _source(session)
        session.commit()
        expected_kinds = {}
        for row in first + _publication_order(rest):
            (res,) = store_articles(session, [_values(sid, row)])
            expected_kinds[row["id"]] = res.kind
        expected = _by_key(session)
        session.rollback()

        for row in first:
            store_articles(session, [_values(sid, row)])
        results = store_articles(session, [_values(sid, r) for r in rest])
        got = _by_key(session)
        session.commit()
        stored_ids = set(got[0])
        for row, res in zip(rest, results, strict=True):
            assert res.kind == expected_kinds[row["id"]], row["id"]
            assert res.article_id in stored_ids
    engine.dispose()
    assert set(got[0].values()) == set(expected[0].values())
    assert got[1] == expected[1]
    # The set really exercises the batch: copies of stored articles and of batch members,
    # and earlier originals taking a stored copy's row over.
    batch_keys = {r["id"] for r in rest}
    reps_in_batch = {rep for key, (rep, _, _) in got[1].items() if key in batch_keys}
    assert reps_in_batch & batch_keys and reps_in_batch - batch_keys
    assert {kind for _, kind, _ in got[1].values()} == {"near", "exact"}
    assert "replaced" in {r.kind for r in results}
    # Every stored article is indexed, with one band row per band key.
    with engine.connect() as conn:
        bands = conn.execute(
            text("SELECT count(DISTINCT article_id), count(*) FROM minhash_bands")
        ).one()
    assert bands == (len(got[0]), len(got[0]) * dedup.BANDS)


def test_batch_url_repeats_exact_copies_and_publication_order(database_url: str) -> None:
    base = BY_ID["afp-morocco-quake"]
    engine = create_engine(database_url)
    with Session(engine) as session:
        sid = _source(session)
        (stored,) = store_articles(session, [_values(sid, BY_ID["reuters-opec-cut"])])
        later = replace(
            _values(sid, base),
            url="https://example.test/republished",
            canonical_url="https://example.test/republished",
            body=base["text"] + "\n\nتابعونا على فيسبوك",
            published_at=datetime(2023, 9, 10, tzinfo=UTC),
        )
        original = replace(_values(sid, base), published_at=datetime(2023, 9, 9, tzinfo=UTC))
        again = original  # the same URL twice in one batch
        stored_url = replace(_values(sid, BY_ID["reuters-opec-cut"]), body="نص آخر تماما")
        exact = replace(
            original, url="https://mirror.test/x", canonical_url="https://mirror.test/x"
        )
        results = store_articles(session, [later, original, again, stored_url, exact])
        # A URL recorded as a duplicate stands for its representative.
        (known_copy,) = store_articles(session, [replace(later, body="نص مختلف")])
        session.commit()
    engine.dispose()
    r_later, r_original, r_again, r_stored_url, r_exact = results
    # The earlier-published original is kept although it came second; no swap is needed.
    assert r_original.kind == "stored"
    assert (r_later.kind, r_later.article_id) == ("near", r_original.article_id)
    assert (r_again.kind, r_again.article_id) == ("url", r_original.article_id)
    assert (r_stored_url.kind, r_stored_url.article_id) == ("url", stored.article_id)
    assert (r_exact.kind, r_exact.article_id) == ("exact", r_original.article_id)
    assert (known_copy.kind, known_copy.article_id) == ("url", r_original.article_id)


def _batch_holder(url: str, ready, out) -> None:  # noqa: ANN001
    """Stores a story in a batch and keeps the transaction open a while."""
    engine = create_engine(url)
    with Session(engine) as session:
        sid = session.execute(text("SELECT id FROM sources WHERE name = 's'")).scalar_one()
        res = store_articles(session, [_values(sid, BY_ID["anadolu-derna-floods"])])
        ready.set()
        time.sleep(1.0)
        session.commit()
    engine.dispose()
    out.put(("batch", res[0].kind == "stored", time.monotonic()))


def _single(url: str, ready, out) -> None:  # noqa: ANN001
    engine = create_engine(url)
    with Session(engine) as session:
        sid = session.execute(text("SELECT id FROM sources WHERE name = 's'")).scalar_one()
        session.commit()
        ready.wait(10)
        (res,) = store_articles(session, [_values(sid, BY_ID["anadolu-derna-floods~c8"])])
        session.commit()
    engine.dispose()
    out.put(("single", res.kind == "stored", time.monotonic()))


def test_a_writer_waits_for_a_batch_in_progress(database_url: str) -> None:
    engine = create_engine(database_url)
    with Session(engine) as session:
        _source(session)
        session.commit()
    ctx = mp.get_context("fork")
    ready, out = ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=f, args=(database_url, ready, out)) for f in (_batch_holder, _single)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    results = {name: (stored, at) for name, stored, at in (out.get(timeout=5) for _ in procs)}
    with Session(engine) as session:
        counts = session.execute(
            text("SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM duplicates)")
        ).one()
    engine.dispose()
    assert results["batch"][0] and not results["single"][0]
    assert results["single"][1] >= results["batch"][1]  # it finished after the batch committed
    assert counts == (1, 1)


def test_deleting_articles_removes_their_bands(database_url: str) -> None:
    engine = create_engine(database_url)
    with Session(engine) as session:
        sid = _source(session)
        other = session.execute(
            text("INSERT INTO sources (name) VALUES ('other') RETURNING id")
        ).scalar_one()
        ids = [
            r.article_id
            for r in store_articles(
                session, [_values(sid, ROWS[0]), _values(sid, ROWS[60]), _values(other, ROWS[120])]
            )
        ]
        session.commit()

        def bands() -> dict[int, int]:
            rows = session.execute(
                text("SELECT article_id, count(*) FROM minhash_bands GROUP BY 1")
            ).all()
            return dict(rows)

        assert bands() == {aid: dedup.BANDS for aid in ids}
        session.execute(text("DELETE FROM articles WHERE id = :a"), {"a": ids[0]})
        assert bands() == {aid: dedup.BANDS for aid in ids[1:]}
        session.execute(text("DELETE FROM sources WHERE id = :s"), {"s": other})  # cascades
        assert bands() == {ids[1]: dedup.BANDS}
        session.commit()
    engine.dispose()
