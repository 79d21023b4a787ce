"""Re-signing stored articles when one of their paragraphs turns recurring (docs/dedup.md,
"Recurring text"): the first article carrying a notice must not keep the notice in its stored
signature, or a later brief sharing only the notice would be merged with it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, create_engine, pool, text
from typer.testing import CliRunner

from akhbar import dedup
from cli.main import app
from db import dedup_index
from db.article_store import ArticleRow, StoreResult, store_articles
from db.engine import session_scope

HERE = Path(__file__).parent / "data" / "dedup"
sys.path.insert(0, str(HERE))
import generate  # noqa: E402

CASES = generate.parse_cases(HERE / "bases.txt")
NOTICE_LEAD = next(p for f, p in CASES if f[0] == "notice")[0]
# A long rights notice (60 words), so that two briefs sharing it are clearly "similar".
NOTICE = (
    NOTICE_LEAD + " وتحتفظ الوكالة بحقها في ملاحقة كل من ينتهك هذه الشروط أمام الجهات "
    "القضائية المختصة وفق القوانين النافذة في بلد النشر وفي البلدان التي توزع فيها خدماتها"
)
# The same notice as a republisher reworded it (its last word): another paragraph, never
# learned as recurring, carrying almost all of the notice's shingles.
REWORDED = NOTICE.rsplit(" ", 1)[0] + " منتجاتها"
BRIEF_LEADS = [p[0] for f, p in CASES if f[0] == "brief" and f[5] == "agency-notice"]
SHORT_LEAD = (
    "أعلنت وزارة الزراعة اليوم بدء موسم حصاد القمح في المحافظات الشمالية وسط توقعات بإنتاج وفير"
)
T0 = datetime(2025, 6, 3, 8, 0, tzinfo=UTC)


def _row(sid: int, n: int, body: str) -> ArticleRow:
    url = f"https://agency.test/{n}"
    return ArticleRow(
        source_id=sid,
        url=url,
        canonical_url=url,
        body=body,
        fetched_at=T0,
        published_at=T0 + timedelta(minutes=10 * n),
    )


def _articles() -> tuple[str, str, str]:
    """Brief A with the notice (stored first), brief S with the notice (turns it recurring),
    brief B: its own short lead and the reworded notice (shares only the notice with A)."""
    a = BRIEF_LEADS[4] + "\n\n" + NOTICE  # one whose signature shares band keys with B's
    s = BRIEF_LEADS[1] + "\n\n" + NOTICE
    b = SHORT_LEAD + "\n\n" + REWORDED
    return a, s, b


def _source(engine: Engine) -> int:
    with session_scope(engine) as session:
        return session.execute(
            text("INSERT INTO sources (name) VALUES ('agency') RETURNING id")
        ).scalar_one()


def _store(engine: Engine, rows: list[ArticleRow]) -> list[StoreResult]:
    with session_scope(engine) as session:
        return store_articles(session, rows)


def _stored(engine: Engine) -> dict[int, tuple[str, np.ndarray, list[int]]]:
    """{id: (body, stored signature, band keys)}."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, body, minhash FROM articles ORDER BY id")).all()
        bands: dict[int, list[int]] = {}
        for key, aid in conn.execute(
            text("SELECT key, article_id FROM minhash_bands ORDER BY key")
        ):
            bands.setdefault(aid, []).append(key)
    return {
        aid: (body, dedup.signature_from_bytes(mh), bands.get(aid, [])) for aid, body, mh in rows
    }


def test_the_reworded_notice_does_merge_while_the_notice_counts() -> None:
    """The scenario's premise: with A's notice in its signature, B is a near copy of A."""
    a, _, b = _articles()
    sim = dedup.similarity(dedup.signature(a), dedup.signature(b))
    assert sim >= dedup.THRESHOLD + 0.1
    shared = set(dedup_index.lsh_keys(dedup.signature(a))) & set(
        dedup_index.lsh_keys(dedup.signature(b))
    )
    assert len(shared) >= 2  # an LSH candidate, not only similar
    lead_a = a.split("\n\n")[0]
    assert dedup.similarity(dedup.signature(lead_a), dedup.signature(b)) < 0.1
    assert dedup.estimated_shingles(dedup.signature(lead_a)) >= dedup.MIN_SHINGLES


@pytest.mark.parametrize("batches", ["one per transaction", "one batch"])
def test_first_carrier_of_a_notice_is_resigned_and_no_longer_merges(
    database_url: str, batches: str
) -> None:
    engine = create_engine(database_url, poolclass=pool.NullPool)
    sid = _source(engine)
    a, s, b = _articles()
    rows = [_row(sid, n, body) for n, body in enumerate((a, s, b))]
    if batches == "one batch":
        results = _store(engine, rows)
    else:
        results = [_store(engine, [row])[0] for row in rows]
    assert [r.kind for r in results] == ["stored", "stored", "stored"]
    stored = _stored(engine)
    assert sorted(stored) == sorted(r.article_id for r in results)
    # Every stored signature is that of the body without its recurring paragraphs, and
    # its bands are those of that signature (A's too, stored before the notice recurred).
    lead_a = a.split("\n\n")[0]
    by_id = dict(zip([r.article_id for r in results], (a, s, b), strict=True))
    expected = {
        by_id[aid]: dedup.signature(body.split("\n\n")[0]) if body != b else dedup.signature(b)
        for aid, body in by_id.items()
    }
    for aid, (body, sig, keys) in stored.items():
        assert body == by_id[aid]
        assert np.array_equal(sig, expected[body]), body[:30]
        assert keys == dedup_index.lsh_keys(sig)
    assert np.array_equal(stored[results[0].article_id][1], dedup.signature(lead_a))
    engine.dispose()


def test_resigning_in_a_later_transaction_keeps_ids_and_decisions(database_url: str) -> None:
    """A and a copy of A stored; later the notice turns recurring: A is re-signed in place
    (same id, same duplicate), and a republication of A still merges with it."""
    engine = create_engine(database_url, poolclass=pool.NullPool)
    sid = _source(engine)
    a, s, b = _articles()
    copy_of_a = "عمان (وكالات) - " + a
    first = _store(engine, [_row(sid, 0, a), _row(sid, 1, copy_of_a)])
    assert [r.kind for r in first] == ["stored", "near"]
    a_id = first[0].article_id
    with engine.connect() as conn:
        carriers = conn.execute(
            text("SELECT article_ids FROM recurring_text WHERE text IS NULL AND article_ids IS NOT NULL")
        ).scalars().all()  # fmt: skip
    assert carriers and all(c == [a_id] for c in carriers)
    second = _store(engine, [_row(sid, 2, s)])
    assert second[0].kind == "stored"
    with engine.connect() as conn:
        notice = conn.execute(
            text("SELECT stories, article_ids FROM recurring_text WHERE text IS NOT NULL")
        ).all()
        dups = conn.execute(text("SELECT duplicate_of FROM duplicates")).scalars().all()
    assert [tuple(n) for n in notice] == [(2, None)]
    assert dups == [a_id]
    stored = _stored(engine)
    assert np.array_equal(stored[a_id][1], dedup.signature(a.split("\n\n")[0]))
    third = _store(engine, [_row(sid, 3, b), _row(sid, 4, "بيروت (أونا) - " + a)])
    assert third[0].kind == "stored"
    assert (third[1].kind, third[1].article_id) == ("near", a_id)
    engine.dispose()


LABELLED = [json.loads(line) for line in (HERE / "articles.jsonl").read_text("utf-8").splitlines()]


def _labelled_rows(sid: int) -> list[ArticleRow]:
    rows = []
    for r in sorted(LABELLED, key=lambda r: r["published"] or "9999"):
        published = datetime.fromisoformat(r["published"]) if r["published"] else None
        rows.append(
            ArticleRow(source_id=sid, url=r["url"], canonical_url=r["url"], body=r["text"],
                       title=r["title"], fetched_at=T0, published_at=published)
        )  # fmt: skip
    return rows


def _index_state(engine: Engine) -> dict[int, tuple[bytes, list[int]]]:
    return {aid: (bytes(sig), keys) for aid, (_, sig, keys) in _stored(engine).items()}


def _learned(engine: Engine) -> set[int]:
    with engine.connect() as conn:
        return set(
            conn.execute(
                text("SELECT hash FROM recurring_text WHERE recurring_since IS NOT NULL")
            ).scalars()
        )


def _rebuild(args: list[str]) -> dict[str, int]:
    result = CliRunner().invoke(app, ["dedup-index", "rebuild", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _reset_to_whole_body_signatures(engine: Engine, *, forget: bool) -> None:
    """Make the database look as before revision 0012 (no carriers) or, with ``forget``, as
    before 0006 (nothing learned): every article signed and banded on its whole body."""
    with session_scope(engine) as session:
        if forget:
            session.execute(text("DELETE FROM recurring_text"))
        else:
            session.execute(text("UPDATE recurring_text SET article_ids = NULL"))
        stored = session.execute(text("SELECT id, body FROM articles ORDER BY id")).all()
        whole = {aid: dedup.signature(body) for aid, body in stored}
        dedup_index.save_signatures(session, whole)


def _assert_residual_signatures(engine: Engine) -> None:
    """The invariant both paths keep: every stored signature is that of its body without the
    paragraphs learned as recurring, and its band rows are that signature's."""
    learned = _learned(engine)
    for aid, (body, sig, keys) in _stored(engine).items():
        drop = [h for h in dedup.paragraphs(body).hashes.tolist() if h in learned]
        assert np.array_equal(sig, dedup.residual_signature(body, drop)), aid
        assert keys == dedup_index.lsh_keys(sig)


def _store_labelled(engine: Engine) -> None:
    rows = _labelled_rows(_source(engine))
    for start in range(0, len(rows), 25):
        _store(engine, rows[start : start + 25])


def test_rebuild_restores_the_incremental_index(database_url: str) -> None:
    """The labelled set stored in crawl batches of 25; then every article is given its
    whole-body signature and bands and the carriers are dropped (a database from before
    revision 0012); the rebuild brings back exactly the incremental path's signatures and
    bands, and a second run writes nothing."""
    engine = create_engine(database_url, poolclass=pool.NullPool)
    _store_labelled(engine)
    _assert_residual_signatures(engine)
    incremental, learned = _index_state(engine), _learned(engine)
    _reset_to_whole_body_signatures(engine, forget=False)
    assert _index_state(engine) != incremental

    first = _rebuild(["--batch", "40"])
    assert first["examined"] == len(incremental)
    assert first["resigned"] > 0
    assert _index_state(engine) == incremental
    assert _learned(engine) == learned
    second = _rebuild(["--batch", "40"])
    assert (second["resigned"], second["rebanded"], second["earlier_resigned"]) == (0, 0, 0)
    assert second["recurring_rows_written"] == 0
    assert _index_state(engine) == incremental
    engine.dispose()


def test_rebuild_learns_from_nothing_what_stored_bodies_teach(database_url: str) -> None:
    """From an empty ``recurring_text`` (a database from before revision 0006). Briefs that
    are all kept: the rebuild finds the incremental index exactly (the first brief's notice
    included, through the carriers of an earlier batch: batches of 1)."""
    engine = create_engine(database_url, poolclass=pool.NullPool)
    sid = _source(engine)
    a, s, b = _articles()
    bodies = [a, *(lead + "\n\n" + NOTICE for lead in BRIEF_LEADS[5:8]), s, b]
    for n, body in enumerate(bodies):
        _store(engine, [_row(sid, n, body)])
    incremental, learned = _index_state(engine), _learned(engine)
    _reset_to_whole_body_signatures(engine, forget=True)
    first = _rebuild(["--batch", "1"])
    assert first["earlier_resigned"] == 1  # A, read in the first batch
    assert _index_state(engine) == incremental
    assert _learned(engine) == learned
    second = _rebuild(["--batch", "3"])
    assert (second["resigned"], second["rebanded"], second["earlier_resigned"]) == (0, 0, 0)
    engine.dispose()


def test_rebuild_cannot_learn_from_copies_it_does_not_store(database_url: str) -> None:
    """The labelled set from an empty ``recurring_text``: paragraphs the crawl learned from
    republications (recorded as duplicates, whose text is not kept: site boilerplate,
    a reworded notice) are not learned again; everything else is as the incremental path
    left it, the invariant holds for what was learned, and a second run writes nothing."""
    engine = create_engine(database_url, poolclass=pool.NullPool)
    _store_labelled(engine)
    incremental, learned = _index_state(engine), _learned(engine)
    _reset_to_whole_body_signatures(engine, forget=True)
    _rebuild(["--batch", "40"])
    relearned = _learned(engine)
    assert relearned and relearned < learned
    _assert_residual_signatures(engine)
    from_copies = learned - relearned
    after = _index_state(engine)
    for aid, (body, _, _) in _stored(engine).items():
        carries = set(dedup.paragraphs(body).hashes.tolist()) & from_copies
        assert (after[aid] == incremental[aid]) == (not carries), aid
    second = _rebuild(["--batch", "40"])
    assert (second["resigned"], second["rebanded"], second["earlier_resigned"]) == (0, 0, 0)
    assert second["recurring_rows_written"] == 0
    engine.dispose()


def test_rebuild_rebands_after_a_band_change_and_relearns(database_url: str) -> None:
    """Missing band rows (as after a change of the banding) are written again; --relearn
    forgets the learned rows first and learns the same set."""
    engine = create_engine(database_url, poolclass=pool.NullPool)
    sid = _source(engine)
    a, s, b = _articles()
    _store(engine, [_row(sid, n, body) for n, body in enumerate((a, s, b))])
    before = _index_state(engine)
    learned = _learned(engine)
    with session_scope(engine) as session:
        session.execute(text("DELETE FROM minhash_bands"))
    report = _rebuild(["--relearn"])
    assert report["forgot_learned"] > 0
    assert (report["resigned"], report["rebanded"]) == (0, 3)
    assert _index_state(engine) == before
    assert _learned(engine) == learned
    engine.dispose()


def test_rebuild_refuses_a_bad_batch_size(database_url: str) -> None:
    result = CliRunner().invoke(app, ["dedup-index", "rebuild", "--batch", "0"])
    assert result.exit_code == 2
    assert "--batch must be at least 1" in result.output
    assert "Traceback" not in result.output


def test_reprocessing_that_turns_a_paragraph_recurring_resigns_its_carriers(
    database_url: str,
) -> None:
    """Article S stored without the notice; re-extracted, it has it: the notice turns
    recurring (A and S) and A, stored with it, is signed again in the same transaction."""
    from db.article_store import reprocess_article

    engine = create_engine(database_url, poolclass=pool.NullPool)
    sid = _source(engine)
    a, s, _ = _articles()
    lead_s = s.split("\n\n")[0]
    a_res, s_res = _store(engine, [_row(sid, 0, a), _row(sid, 1, lead_s)])
    assert np.array_equal(_stored(engine)[a_res.article_id][1], dedup.signature(a))
    with session_scope(engine) as session:
        result = reprocess_article(session, s_res.article_id, _row(sid, 1, s))
    assert (result.kind, result.article_id) == ("stored", s_res.article_id)
    stored = _stored(engine)
    assert np.array_equal(stored[a_res.article_id][1], dedup.signature(a.split("\n\n")[0]))
    assert np.array_equal(stored[s_res.article_id][1], dedup.signature(lead_s))
    _assert_residual_signatures(engine)
    engine.dispose()


def _recurring_rows(engine: Engine) -> list[tuple]:
    """Every ``recurring_text`` row, but its timestamps: whether it recurs, not since when."""
    with engine.connect() as conn:
        return [
            tuple(row)
            for row in conn.execute(
                text(
                    "SELECT hash, stories, contexts, recurring_since IS NOT NULL, text, article_ids "
                    "FROM recurring_text ORDER BY hash"
                )
            )
        ]


def test_rebuild_in_worker_processes_is_the_rebuild_in_this_one(database_url: str) -> None:
    """The labelled set, as before revision 0006 (whole-body signatures, nothing learned),
    rebuilt in batches of 10 by this process alone and then, from the same start, with 2
    worker processes signing (each batch's bodies while the one before is written): the same
    report, the same signatures, band rows and recurring_text rows. The workers are gone
    once the rebuild returns."""
    import psutil

    from db.article_store import rebuild_index

    engine = create_engine(database_url, poolclass=pool.NullPool)
    _store_labelled(engine)
    _reset_to_whole_body_signatures(engine, forget=True)
    start = _index_state(engine), _recurring_rows(engine)
    this = psutil.Process()
    before = {p.pid for p in this.children(recursive=True)}
    seen_while_running: set[int] = set()

    def look(done: int, total: int) -> None:
        seen_while_running.update(p.pid for p in this.children(recursive=True))

    inline = rebuild_index(engine, batch=10, workers=0, progress=look)
    assert seen_while_running <= before  # no process of its own
    inline_state = _index_state(engine), _recurring_rows(engine)
    assert inline.resigned > 0 and inline.turned_recurring > 0
    assert inline_state != start

    _reset_to_whole_body_signatures(engine, forget=True)
    assert (_index_state(engine), _recurring_rows(engine)) == start
    pooled = rebuild_index(engine, batch=10, workers=2, progress=look)
    assert pooled == inline
    assert (_index_state(engine), _recurring_rows(engine)) == inline_state
    # Workers are children of the forkserver, which (with the resource tracker) is a child
    # of this process and serves every later pool: the workers must be gone, those two not.
    direct = {p.pid for p in this.children()}
    workers = seen_while_running - before - direct
    assert workers, "no worker process was seen during the rebuild"
    assert not [pid for pid in workers if psutil.pid_exists(pid)]
    engine.dispose()


def test_an_interrupted_rebuild_leaves_no_worker_behind(database_url: str) -> None:
    """Ctrl-C (KeyboardInterrupt) between two batches: the workers are gone when the
    interrupt reaches the caller, even while its traceback still holds the rebuild's frames,
    and the finished batches stay committed."""
    import psutil

    from db.article_store import rebuild_index

    engine = create_engine(database_url, poolclass=pool.NullPool)
    _store_labelled(engine)
    _reset_to_whole_body_signatures(engine, forget=True)
    this = psutil.Process()
    before = {p.pid for p in this.children(recursive=True)}
    seen: set[int] = set()

    def interrupt(done: int, total: int) -> None:
        seen.update(p.pid for p in this.children(recursive=True))
        if done >= 20:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt) as interrupted:
        rebuild_index(engine, batch=10, workers=2, progress=interrupt)
    workers = seen - before - {p.pid for p in this.children()}
    assert workers, "no worker process was seen during the rebuild"
    assert not [pid for pid in workers if psutil.pid_exists(pid)], interrupted
    assert _recurring_rows(engine)  # the two finished batches counted their paragraphs
    engine.dispose()


def _add_variants(engine: Engine, per_article: int) -> int:
    """``per_article`` more stored articles per stored one (its body with a number added):
    a corpus a rebuild takes some seconds over. Returns how many articles are stored."""
    with session_scope(engine) as session:
        session.execute(
            text(
                "INSERT INTO articles (source_id, url, canonical_url, body, content_hash, "
                "fetched_at) SELECT source_id, url || '?v=' || g, canonical_url || '?v=' || g, "
                "body || ' ' || g, sha256(convert_to(body || ' ' || g, 'UTF8')), fetched_at "
                "FROM articles, generate_series(1, :n) AS g"
            ),
            {"n": per_article},
        )
        return session.execute(text("SELECT count(*) FROM articles")).scalar_one()


@pytest.mark.parametrize("stop", ["Ctrl-C", "SIGKILL"])
def test_a_stopped_rebuild_leaves_no_process_behind(
    database_url: str, subprocess_env: dict[str, str], stop: str
) -> None:
    """`akhbar dedup-index rebuild --workers 2` stopped while its workers sign: by Ctrl-C
    (SIGINT to the whole process group, as a terminal sends it: exit code 130, no traceback
    of a worker) or by SIGKILL (no `finally` runs). Either way its worker processes, the
    forkserver and the resource tracker are all gone soon after."""
    import psutil

    engine = create_engine(database_url, poolclass=pool.NullPool)
    _store_labelled(engine)
    _add_variants(engine, 40)
    engine.dispose()
    command = [sys.executable, "-m", "cli", "dedup-index", "rebuild", "--workers", "2"]
    rebuild = subprocess.Popen(
        [*command, "--batch", "10"],
        env=subprocess_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as in a terminal
    )
    started = psutil.Process(rebuild.pid)
    deadline = time.monotonic() + 60
    workers: list[psutil.Process] = []
    while not workers and time.monotonic() < deadline and rebuild.poll() is None:
        children = started.children()
        workers = [w for c in children for w in c.children()]  # the forkserver's children
        time.sleep(0.05)
    assert workers, "the rebuild never started its workers"
    everything = started.children(recursive=True)
    if stop == "Ctrl-C":
        os.killpg(rebuild.pid, signal.SIGINT)
    else:
        rebuild.kill()
    _, stderr = rebuild.communicate(timeout=60)
    if stop == "Ctrl-C":
        assert rebuild.returncode == 130, stderr  # 128 + SIGINT, as a shell reports it
        assert "Traceback" not in stderr, stderr
    else:
        assert rebuild.returncode == -signal.SIGKILL
    _, alive = psutil.wait_procs(everything, timeout=10)
    assert alive == []


def test_a_body_replaced_between_batches_is_signed_as_read(database_url: str) -> None:
    """With workers, a batch's bodies are read and signed ahead, during the batch before; an
    article whose body changes meanwhile (an earlier original taking its row over, a
    reprocess) must get the signature of the body its own batch reads."""
    from db.article_store import rebuild_index

    engine = create_engine(database_url, poolclass=pool.NullPool)
    _store_labelled(engine)
    with engine.connect() as conn:
        ids = conn.execute(text("SELECT id FROM articles ORDER BY id")).scalars().all()
    later, donor = ids[45], ids[-1]  # in the second batch of 40; another story's body
    _reset_to_whole_body_signatures(engine, forget=False)

    def replace_later_body(done: int, total: int) -> None:
        if done == 40:
            with session_scope(engine) as session:
                session.execute(
                    text(
                        "UPDATE articles SET body = (SELECT body || '\n\nتحديث' FROM articles "
                        "WHERE id = :d) WHERE id = :l"
                    ),
                    {"d": donor, "l": later},
                )

    report = rebuild_index(engine, batch=40, workers=2, progress=replace_later_body)
    assert report.examined == len(ids)
    stored = _stored(engine)
    assert stored[later][0].endswith("تحديث")
    _assert_residual_signatures(engine)
    engine.dispose()


def test_rebuild_takes_workers_from_the_option_or_the_setting(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(database_url, poolclass=pool.NullPool)
    sid = _source(engine)
    a, s, b = _articles()
    _store(engine, [_row(sid, n, body) for n, body in enumerate((a, s, b))])
    _reset_to_whole_body_signatures(engine, forget=True)
    monkeypatch.setenv("AKHBAR_WORKERS", "0")
    first = _rebuild(["--workers", "2"])
    assert (first["examined"], first["resigned"]) == (3, 2)  # the notice is left out of A, S
    monkeypatch.setenv("AKHBAR_WORKERS", "1")
    second = _rebuild([])
    assert (second["examined"], second["resigned"], second["rebanded"]) == (3, 0, 0)
    engine.dispose()


@pytest.mark.parametrize(
    ("args", "environ", "message"),
    [
        (["--workers", "-1"], {}, "--workers must be 0 or more, not -1."),
        ([], {"AKHBAR_WORKERS": "-2"}, "AKHBAR_WORKERS must be 0 or more, not -2."),
        ([], {"AKHBAR_WORKERS": "many"}, "AKHBAR_WORKERS='many' is not an integer."),
    ],
)
def test_rebuild_refuses_a_bad_worker_count(
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    environ: dict[str, str],
    message: str,
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, ["dedup-index", "rebuild", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
