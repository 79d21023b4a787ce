"""The decision engine (`akhbar.dedup.DedupEngine`) without a database: batches decide as
one-by-one in publication order, URL repeats, earlier originals, and what a lookup is
asked for."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from akhbar import dedup

DATA = Path(__file__).parent / "data" / "dedup" / "articles.jsonl"
ROWS = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]
BY_ID = {r["id"]: r for r in ROWS}


def _published(row: dict) -> datetime | None:
    return datetime.fromisoformat(row["published"]) if row["published"] else None


def _signed(text: str) -> dedup.Signed:
    sig, found = dedup.signature_and_paragraphs(text)
    return dedup.Signed(text, sig, dedup.content_hash(text), found)


def test_a_batch_decides_as_one_by_one_in_publication_order() -> None:
    """The labelled set as one shuffled batch gives `akhbar dedup`'s decisions (one by one,
    in published order), similarities included."""
    rows = list(ROWS)
    random.Random(1).shuffle(rows)
    verdicts = dedup.DedupEngine().decide_batch(
        [r["id"] for r in rows],
        [_signed(r["text"]) for r in rows],
        [_published(r) for r in rows],
        [(r["url"],) for r in rows],
    )
    one_by_one = dedup.CorpusDeduplicator()
    expected = {}
    for row in sorted(ROWS, key=lambda r: r["published"] or "9999"):
        decision, _ = one_by_one.check_and_add(row["id"], dedup.fingerprint(row["text"]))
        expected[row["id"]] = decision
    got = {r["id"]: v.decision for r, v in zip(rows, verdicts, strict=True)}
    assert got == expected
    assert {d.kind for d in got.values()} == {None, "exact", "near"}
    assert not any(v.replace for v in verdicts)  # in publication order nothing is replaced


def test_url_repeats_point_at_the_article_kept() -> None:
    base, copy = BY_ID["reuters-opec-cut"], BY_ID["reuters-opec-cut~c1"]
    engine = dedup.DedupEngine()
    engine.know_url("https://stored.test/1", 7)
    verdicts = engine.decide_batch(
        ["a", "b", "c", "d"],
        [_signed(base["text"]), _signed(copy["text"]), _signed("نص آخر"), _signed("نص ثالث")],
        [None] * 4,
        [("u/a",), ("u/b",), ("u/b", "u/a"), ("https://stored.test/1",)],
    )
    kinds = [(v.decision.kind, v.decision.duplicate_of) for v in verdicts]
    # c repeats b's URL, which was a copy of a: c points at a, the article kept.
    assert kinds == [(None, None), ("near", "a"), ("url", "a"), ("url", 7)]


def test_an_earlier_original_replaces_a_known_article_once() -> None:
    """Stored copy published at 12:00; in one batch the original (09:00) and another copy
    (10:00) arrive: the original takes the stored row's place, the other copy is its
    duplicate and replaces nothing (it is later than the original)."""
    base = BY_ID["afp-morocco-quake"]["text"]
    stored = base + "\n\nتابعونا على فيسبوك"
    engine = dedup.DedupEngine()
    engine.know(
        41,
        dedup.signature(stored),
        dedup.content_hash(stored),
        datetime(2023, 9, 9, 12, tzinfo=UTC),
    )
    day = datetime(2023, 9, 9, tzinfo=UTC)
    verdicts = engine.decide_batch(
        ["later", "original"],
        [_signed(base + "\n\nالمصدر: وكالات"), _signed(base)],
        [day.replace(hour=10), day.replace(hour=9)],
        [("u/later",), ("u/original",)],
    )
    later, original = verdicts
    assert original.replace and original.decision.duplicate_of == 41
    assert later.decision.duplicate_of == 41 and not later.replace
    # The stored row now holds the original: an exact copy of it is exact, of the old
    # stored text no longer.
    assert engine.decide("x", _signed(base)).decision.kind == "exact"
    assert engine.decide("y", _signed(stored)).decision.kind == "near"


def test_lookup_is_asked_with_the_signatures_decided_with() -> None:
    """Counting comes first: the lookup gets the signatures without recurring paragraphs
    (the ones the verdicts carry), and the stored rows it returns are candidates."""
    briefs = [r for r in ROWS if r["case"] == "brief" and "~" not in r["id"]][:3]
    asked = []

    def lookup(sigs: np.ndarray, hashes: list[bytes]) -> list[dedup.Stored]:
        asked.append((sigs.copy(), list(hashes)))
        first = _signed(briefs[0]["text"])
        return [dedup.Stored(5, first.signature, b"other", None)]

    engine = dedup.DedupEngine()
    verdicts = engine.decide_batch(
        ["a", "b", "c"],
        [_signed(briefs[0]["text"]), *(_signed(r["text"]) for r in briefs[1:])],
        [_published(r) for r in briefs],
        [(f"u/{i}",) for i in range(3)],
        lookup,
    )
    ((sigs, hashes),) = asked
    order = dedup.publication_order([_published(r) for r in briefs])
    assert [s.tolist() for s in sigs] == [verdicts[i].signature.tolist() for i in sorted(order)]
    assert len(hashes) == 3
    # The first brief is "stored" as 5: its copy in the batch is a duplicate of it.
    assert verdicts[0].decision.duplicate_of == 5
    assert any(
        not np.array_equal(v.signature, _signed(r["text"]).signature)
        for v, r in zip(verdicts, briefs, strict=True)
    )  # some brief was decided without its recurring notice


def test_a_replaced_representative_keeps_its_age() -> None:
    """A representative that takes a new copy keeps its place among candidates (ties go to
    the oldest), as the stored row keeps its id."""
    a, b = BY_ID["reuters-opec-cut"]["text"], BY_ID["reuters-opec-cut~c1"]["text"]
    other = BY_ID["afp-morocco-quake"]["text"]
    index = dedup.MinHashIndex()
    index.add("old", dedup.signature(other))
    index.add("young", dedup.signature(a))
    index.replace("old", dedup.signature(a))
    assert [k for k, _ in index.candidates(dedup.signature(b))] == ["old", "young"]
    assert index.candidates(dedup.signature(other)) == []


def _decide_all(settings: dedup.Settings) -> tuple[dedup.DedupEngine, dict[str, dedup.Decision]]:
    """The labelled set one by one in published order, as ``akhbar dedup`` decides it."""
    engine = dedup.DedupEngine(settings)
    decisions = {}
    for row in sorted(ROWS, key=lambda r: r["published"] or "9999"):
        decisions[row["id"]] = engine.decide(row["id"], dedup.fingerprint(row["text"])).decision
    return engine, decisions


def test_comparison_switches_unchecked_lsh_and_no_resigning() -> None:
    """The rules the quality bench compares against run through the same engine: without
    ``verify`` the first LSH candidate is taken unchecked (so it merges pairs the signature
    check refuses), without ``resign`` stored carriers keep a paragraph that turned
    recurring; ``compared`` counts the candidates looked at."""
    checked_engine, checked = _decide_all(dedup.DEFAULT)
    unchecked_engine, unchecked = _decide_all(
        replace(dedup.DEFAULT, num_perm=64, bands=32, rows=2, verify=False)
    )
    below = [d for d in unchecked.values() if d.kind == "near" and d.similarity < 0.35]
    assert below, "LSH alone should take some candidate the signature check refuses"
    assert all(
        d.similarity >= dedup.DEFAULT.threshold for d in checked.values() if d.kind == "near"
    )
    assert checked_engine.compared > 0 and unchecked_engine.compared > 0

    assert checked_engine.resigned, "the labelled set has carriers of text that turns recurring"
    kept_engine, _ = _decide_all(replace(dedup.DEFAULT, resign=False))
    assert kept_engine.resigned == {}
    assert kept_engine.turned == checked_engine.turned  # counting itself is the same
