"""Dedup core and ``akhbar dedup`` on the labelled set (tests/data/dedup, docs/dedup.md)."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from akhbar import dedup
from akhbar.normalize import normalize_arabic
from cli.commands.dedup import register

DATA = Path(__file__).parent / "data" / "dedup" / "articles.jsonl"
SEEDS = Path(__file__).resolve().parent / "data" / "seeds"
ROWS = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:  # a callback keeps `dedup` a subcommand, as in cli.main
        pass

    register(app)
    return app


def run_cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(_app(), ["dedup", *args])
    return result.exit_code, result.stdout, result.stderr


def pairwise(rows: list[dict], decisions: list[dict]) -> tuple[float, float, int]:
    rep = {d["id"]: d["duplicate_of"] or d["id"] for d in decisions}
    by_id = {r["id"]: r for r in rows}
    pred = {frozenset((a, b)) for a, b in itertools.combinations(by_id, 2) if rep[a] == rep[b]}
    truth = {
        frozenset((a, b))
        for a, b in itertools.combinations(by_id, 2)
        if by_id[a]["cluster"] == by_id[b]["cluster"]
    }
    merges = sum(
        1
        for p in pred
        if len({by_id[x]["event"] for x in p}) == 1 and len({by_id[x]["cluster"] for x in p}) == 2
    )
    return len(pred & truth) / len(pred), len(pred & truth) / len(truth), merges


def test_labelled_set_shape() -> None:
    assert len(ROWS) >= 150
    clusters = {r["cluster"] for r in ROWS}
    events = {}
    for r in ROWS:
        events.setdefault(r["event"], set()).add(r["cluster"])
    assert len(clusters) >= 30
    assert sum(len(c) > 1 for c in events.values()) >= 8  # independent reports on one event
    assert sum(1 for r in ROWS if "~c" in r["id"]) >= 100


def test_targets_on_labelled_set_through_the_cli(tmp_path: Path) -> None:
    out = tmp_path / "decisions.jsonl"
    code, _, err = run_cli(str(DATA), "--output", str(out))
    assert code == 0, err
    decisions = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [d["id"] for d in decisions] == [r["id"] for r in ROWS]  # input order
    precision, recall, merges = pairwise(ROWS, decisions)
    assert precision >= 0.99
    assert recall >= 0.95
    assert merges == 0
    # The kept copy is the earliest published one of its group.
    by_id = {r["id"]: r for r in ROWS}
    for d in decisions:
        if d["duplicate_of"]:
            kept = by_id[d["duplicate_of"]]
            assert kept["published"] <= by_id[d["id"]]["published"]


def test_seed_pages_on_the_same_meeting_are_both_kept() -> None:
    # Two real reports on the Lavrov-Kerry meeting of 24 March 2016, boilerplate included.
    a = (SEEDS / "000_4e639f07dc94885c.txt").read_text(encoding="utf-8")
    b = (SEEDS / "003_98d78d77fcb958ba.txt").read_text(encoding="utf-8")
    index = dedup.MinHashIndex()
    assert (
        index.check_and_add("sana", dedup.signature(a), dedup.content_hash(a)).duplicate_of is None
    )
    decision = index.check_and_add("jazeera", dedup.signature(b), dedup.content_hash(b))
    assert decision.duplicate_of is None
    assert decision.similarity < dedup.THRESHOLD / 2


def test_estimated_jaccard_tracks_exact_jaccard() -> None:
    sets = [dedup.shingle_hashes(r["text"]) for r in ROWS[:80]]
    sigs = [dedup.signature_from_shingles(s) for s in sets]
    errors = []
    for i, j in itertools.combinations(range(len(sets)), 2):
        inter = len(np.intersect1d(sets[i], sets[j]))
        exact = inter / (len(sets[i]) + len(sets[j]) - inter)
        if exact > 0.05:
            errors.append(dedup.similarity(sigs[i], sigs[j]) - exact)
    errors_a = np.array(errors)
    assert len(errors_a) > 50
    assert abs(errors_a.mean()) < 0.02  # unbiased
    assert np.abs(errors_a).mean() < 0.04  # ~ sqrt(J(1-J)/128)


def test_signatures_are_stable_across_processes() -> None:
    text = ROWS[0]["text"]
    code = (
        "import json,sys; from akhbar import dedup; "
        "print(json.dumps(dedup.signature(sys.stdin.read()).tolist()))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=text,
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    assert json.loads(out) == dedup.signature(text).tolist()


def test_form_variants_share_the_content_hash() -> None:
    plain = "أعلنت الوزارة أن 25 مدرسة ستفتح أبوابها في المدينة الكبرى يوم الأحد"
    variant = "اعلنت الوِزارَة ان ٢٥ مدرسه ستفتح ابوابها في المدينة الكبري يوم الاحد"
    assert dedup.content_hash(plain) == dedup.content_hash(variant)
    assert np.array_equal(dedup.signature(plain), dedup.signature(variant))
    assert dedup.content_hash(plain) != dedup.content_hash(plain + " غدا")


def test_band_key_pairs_and_serialisation() -> None:
    sig = dedup.signature(ROWS[0]["text"])
    keys = dedup.band_key_pairs(sig)
    assert [b for b, _ in keys] == list(range(dedup.BANDS))
    assert len({h for _, h in keys}) == dedup.BANDS  # band mixed in: usable as lock keys
    assert all(-(2**63) <= h < 2**63 for _, h in keys)
    other = dedup.signature(ROWS[1]["text"])
    batch = dedup.band_hashes(np.stack([sig, other]))
    assert batch[0].tolist() == [h for _, h in keys]
    assert batch[1].tolist() == [h for _, h in dedup.band_key_pairs(other)]
    raw = dedup.signature_to_bytes(sig)
    assert len(raw) == 4 * dedup.NUM_PERM
    assert np.array_equal(dedup.signature_from_bytes(raw), sig)


def test_lsh_probability_matches_simulation() -> None:
    # Signatures agreeing on each position independently with probability j.
    rng = np.random.default_rng(0)
    j, trials = 0.45, 3000
    a = rng.integers(0, 2**32 - 1, size=(trials, dedup.NUM_PERM), dtype=np.uint32)
    b = np.where(rng.random(a.shape) < j, a, a ^ np.uint32(1))
    hits = (dedup.band_hashes(a) == dedup.band_hashes(b)).any(axis=1).mean()
    assert abs(hits - dedup.lsh_probability(j)) < 0.03


def test_empty_and_tiny_texts() -> None:
    empty = dedup.signature("")
    assert dedup.similarity(empty, dedup.signature("  ")) == 0.0
    one = dedup.signature("كلمة")
    assert dedup.similarity(one, dedup.signature("كلمة")) == 1.0


def test_should_replace() -> None:
    early = datetime(2024, 1, 1, 8, tzinfo=UTC)
    late = datetime(2024, 1, 1, 9, tzinfo=UTC)
    assert dedup.should_replace(early, late)
    assert not dedup.should_replace(late, early)
    assert not dedup.should_replace(early, early)  # tie: the one seen first stays
    assert not dedup.should_replace(None, late)
    assert dedup.should_replace(early, None)


def test_index_remove_and_exact() -> None:
    index = dedup.MinHashIndex()
    text = ROWS[0]["text"]
    sig, h = dedup.signature(text), dedup.content_hash(text)
    index.add("a", sig, h)
    assert index.check(sig, h) == dedup.Decision("a", 1.0, "exact")
    assert index.check(sig).kind == "near"
    with pytest.raises(KeyError):
        index.add("a", sig, h)
    index.remove("a")
    assert len(index) == 0
    assert index.check(sig, h).duplicate_of is None


def test_cli_later_line_is_the_earlier_original(tmp_path: Path) -> None:
    base = next(r for r in ROWS if r["id"] == "reuters-opec-cut")
    lines = [
        {"id": "copy", "title": "t", "text": base["text"] + "\n\nتابعونا على تلغرام",
         "published": "2023-04-02T18:00:00+03:00"},
        {"id": "other", "title": "t", "text": ROWS[5]["text"]},
        {"id": "original", "title": "t", "text": base["text"], "published": "2023-04-02T16:40:00+03:00"},
    ]  # fmt: skip
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n")
    code, out, _ = run_cli(str(path))
    assert code == 0
    got = [json.loads(line) for line in out.splitlines()]
    assert [g["id"] for g in got] == ["copy", "other", "original"]
    assert got[0]["duplicate_of"] == "original" and got[0]["kind"] == "near"
    assert got[2]["duplicate_of"] is None
    assert got[1]["duplicate_of"] is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"id": 1, "title": "a", "text": "b"}\n{"id": 2, "title": \n', "in.jsonl:2: malformed JSON"),
        ('{"id": 1, "title": "a", "text": "b"}\n\n{"id": 2, "title": "a"}\n', "in.jsonl:3: missing field(s): text"),
        ('{"id": 1, "title": "a", "text": "b"}\n{"id": 1, "title": "a", "text": "c"}\n', "in.jsonl:2: id 1 already used on line 1"),
        ('{"id": 1, "title": "a", "text": "b", "published": "yesterday"}\n', "in.jsonl:1: 'published' is not an ISO 8601"),
        ('[1, 2]\n', "in.jsonl:1: expected a JSON object"),
    ],
)  # fmt: skip
def test_cli_input_errors_name_the_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(content, encoding="utf-8")
    code, out, err = run_cli(str(path))
    assert code == 2
    assert message in err
    assert out == ""


def test_cli_threshold_option(tmp_path: Path) -> None:
    a = ROWS[0]["text"]
    words = a.split()
    half = " ".join(words[: len(words) // 2])  # a truncated copy: Jaccard about 0.5
    path = tmp_path / "in.jsonl"
    path.write_text(
        json.dumps({"id": "a", "title": "", "text": a}) + "\n" + json.dumps({"id": "b", "title": "", "text": half}) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    _, out, _ = run_cli(str(path))
    assert json.loads(out.splitlines()[1])["duplicate_of"] == "a"
    _, out, _ = run_cli(str(path), "--threshold", "0.9")
    assert json.loads(out.splitlines()[1])["duplicate_of"] is None


def test_signature_is_the_minimum_of_each_permutation() -> None:
    """signature_from_shingles (minimum before the shift, in chunks) against its formula."""
    rng = np.random.default_rng(3)
    for size in (1, 2, 150, 5000):  # 5000: more than one chunk
        hashes = rng.integers(0, 2**64 - 1, size=size, dtype=np.uint64)
        p = dedup._perms(dedup.NUM_PERM, 1)
        expected = ((p.a * hashes[None, :] + p.b) >> np.uint64(32)).min(axis=1)
        got = dedup.signature_from_shingles(hashes)
        assert got.dtype == np.uint32
        assert np.array_equal(got, expected.astype(np.uint32))
        assert np.array_equal(dedup.signature_from_shingles(np.unique(hashes)), got)


@pytest.mark.parametrize(
    "lines",
    [
        [],
        [""],
        ["كلمة"],
        ["كلمتان هنا"],
        ["", "كلمة", "", "ثلاث كلمات هنا", "كلمة"],
        ["نص يتكرر في الخبر", "نص يتكرر في الخبر", "قصير جدا", "وحيد"],
        ["word", "two words", "three short words", "a a a a a a"],
        ["three words here", "one"],  # the last paragraph's pairs end before the text's
        ["one", "three words here"],
        ["two words", "two more"],
        ["كلمات اربع في فقرة"],
    ],
)
def test_signature_and_paragraphs_of_forms_is_both_computed_apart(lines: list[str]) -> None:
    """The words hashed once give signature(joined lines) and paragraphs_of_forms(lines)."""
    _same_as_apart(lines)


def test_signature_and_paragraphs_of_forms_on_the_labelled_set() -> None:
    for row in ROWS[:150]:
        _same_as_apart([normalize_arabic(p) for p in dedup.split_paragraphs(row["text"])])


def _same_as_apart(lines: list[str]) -> None:
    sig, found = dedup.signature_and_paragraphs_of_forms(lines)
    whole = " ".join(line for line in lines if line)
    expected = dedup.paragraphs_of_forms(lines)
    assert np.array_equal(sig, dedup.signature(whole, replace(dedup.DEFAULT, normalize=False)))
    assert sig.dtype == np.uint32
    for name in ("hashes", "sketches", "rest"):
        got, want = getattr(found, name), getattr(expected, name)
        assert got.dtype == want.dtype and np.array_equal(got, want), name
        assert got.tobytes() == want.tobytes() and got.flags.c_contiguous, name


@pytest.mark.parametrize(
    "settings", [dedup.DEFAULT, replace(dedup.DEFAULT, shingle="char", size=5)]
)
def test_residual_signature_is_the_signature_of_the_text_without_the_paragraphs(
    settings: dedup.Settings,
) -> None:
    """The residual is signed from the kept lines' normal forms (each line normalised once);
    it must equal signing the residual text itself, NFKC and Greek final sigma included."""
    texts = [row["text"] for row in ROWS[:60]] + [
        "ΟΔΟΣ ΑΣ\n\nفقرة أولى طويلة بما يكفي لتكون فقرة من ست كلمات\n\nΣΑΣ آخر",
        "ﻻ شيء هنا سوى فقرة قصيرة\n\nفقرة ثانية مختلفة تماما عن الأولى في كل شيء",
    ]
    checked = 0
    for text in texts:
        hashes = [dedup.paragraph_hash(normalize_arabic(p)) for p in dedup.split_paragraphs(text)]
        for drop in (hashes[:1], hashes[1::2]):
            if not drop:
                continue
            expected = dedup.signature(dedup.without_paragraphs(text, drop), settings)
            assert np.array_equal(dedup.residual_signature(text, drop, None, settings), expected)
            checked += 1
    assert checked > 100


def test_paragraphs_survive_the_trip_to_and_from_a_worker() -> None:
    """Paragraphs pickle as raw bytes (a crawl worker sends one per page): same values,
    dtypes and shapes back, with or without tracked paragraphs."""
    import pickle

    for text in (ROWS[0]["text"], ROWS[5]["text"], "", "كلمة"):
        sent = dedup.paragraphs(text)
        back = pickle.loads(pickle.dumps(sent, protocol=5))
        for name in ("hashes", "sketches", "rest"):
            a, b = getattr(sent, name), getattr(back, name)
            assert (a.dtype, a.shape) == (b.dtype, b.shape) and np.array_equal(a, b), name
            assert b.flags.writeable


def test_publication_order_compares_instants_across_offsets() -> None:
    """Earliest instant first whatever the offset it is written in, equal instants in the
    given order, undated last; naive times count as UTC."""
    damascus = timezone(timedelta(hours=3))
    published = [
        None,
        datetime(2026, 5, 1, 12, 0, tzinfo=damascus),  # 09:00 UTC
        datetime(2026, 5, 1, 10, 0, tzinfo=UTC),
        datetime(2026, 5, 1, 9, 0, tzinfo=UTC),  # the same instant as item 1
        datetime(2026, 5, 1, 9, 0, 0, 1),  # naive: one microsecond later
        datetime(2026, 5, 1, 8, 59, tzinfo=UTC),
        None,
    ]
    assert dedup.publication_order(published) == [5, 1, 3, 4, 2, 0, 6]
