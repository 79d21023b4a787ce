"""`akhbar import`: bulk storing from JSON lines through `store_articles`, on the real server."""

from __future__ import annotations

import io
import itertools
import json
import random
import string
from pathlib import Path

import pytest
from sqlalchemy import create_engine, pool, text
from typer.testing import CliRunner

from cli.commands import dedup as dedup_command
from cli.main import app

DATA = Path(__file__).parent / "data" / "dedup" / "articles.jsonl"
ROWS = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]
BY_URL = {r["url"]: r for r in ROWS}


def _import(*args: str):  # noqa: ANN202
    return CliRunner().invoke(app, ["import", *args])


def _query(url: str, sql: str) -> list:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).all()
    finally:
        engine.dispose()


def _outcome(url: str) -> tuple[set[str], dict[str, str]]:
    """Labelled ids kept, and each copy's representative (labelled ids)."""
    kept = {BY_URL[u]["id"] for (u,) in _query(url, "SELECT url FROM articles")}
    copies = {
        BY_URL[d]["id"]: BY_URL[a]["id"]
        for d, a in _query(
            url, "SELECT d.url, a.url FROM duplicates d JOIN articles a ON a.id = d.duplicate_of"
        )
    }
    return kept, copies


def test_import_in_one_batch_decides_like_the_dedup_command(database_url: str) -> None:
    result = _import(str(DATA), "--workers", "2")
    assert result.exit_code == 0, result.output
    out = io.StringIO()
    dedup_command.run(DATA, out, dedup_command.dedup.THRESHOLD)
    decisions = [json.loads(line) for line in out.getvalue().splitlines()]
    expected_kept = {d["id"] for d in decisions if d["duplicate_of"] is None}
    expected_copies = {d["id"]: d["duplicate_of"] for d in decisions if d["duplicate_of"]}
    kept, copies = _outcome(database_url)
    assert kept == expected_kept
    assert copies == expected_copies
    assert f"{len(ROWS)} articles read: {len(kept)} stored" in result.output
    # Sources were created from the file, and every stored article is indexed.
    assert _query(database_url, "SELECT count(*) FROM sources")[0][0] == len(
        {r["source"] for r in ROWS}
    )
    bands = _query(database_url, "SELECT count(DISTINCT article_id) FROM minhash_bands")[0][0]
    assert bands == len(kept)


def test_small_batches_keep_the_earliest_copy_and_never_merge_stories(
    database_url: str, tmp_path: Path
) -> None:
    """Shuffled, in batches of 10: republications often arrive before their original, which
    then takes the stored row over; in the end each story is represented by its earliest
    copy and no two stories (same-event reports included) are merged."""
    rows = list(ROWS)
    random.Random(3).shuffle(rows)
    path = tmp_path / "shuffled.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    result = _import(str(path), "--batch", "10", "--workers", "0")
    assert result.exit_code == 0, result.output
    replaced = int(result.output.split("; ")[1].split()[0])
    assert replaced > 0
    kept, copies = _outcome(database_url)
    by_id = {r["id"]: r for r in ROWS}
    for copy, rep in copies.items():
        assert by_id[copy]["cluster"] == by_id[rep]["cluster"], (copy, rep)
        if by_id[copy]["published"] and by_id[rep]["published"]:
            assert by_id[rep]["published"] <= by_id[copy]["published"], (copy, rep)
    assert len(kept) + len(copies) == len(ROWS)
    # A taken-over row is consistent: its fingerprint and bands are the new text's.
    stale = _query(
        database_url,
        "SELECT count(*) FROM articles a WHERE NOT EXISTS "
        "(SELECT 1 FROM minhash_bands b WHERE b.article_id = a.id)",
    )[0][0]
    assert stale == 0


def test_bad_line_stores_nothing_and_names_the_line(database_url: str, tmp_path: Path) -> None:
    lines = [json.dumps(r, ensure_ascii=False) for r in ROWS[:5]]
    lines.insert(3, '{"url": "https://x.test/1", "text": 5, "source": "x"}')
    lines.append("not json")
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    result = _import(str(path))
    assert result.exit_code == 2
    assert f"{path}:4: 'body (or text)' is missing or not a non-empty string" in result.output
    assert f"{path}:7: malformed JSON" in result.output
    assert "Nothing was imported." in result.output
    assert _query(database_url, "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM sources)")[0] == (0, 0)  # fmt: skip


@pytest.mark.parametrize("missing", ["no-file", "no-source"])
def test_missing_file_or_source(database_url: str, tmp_path: Path, missing: str) -> None:
    if missing == "no-file":
        result = _import(str(tmp_path / "absent.jsonl"))
        assert result.exit_code == 2 and "no such file" in result.output
        return
    path = tmp_path / "nosource.jsonl"
    path.write_text(json.dumps({"url": "https://x.test/a", "body": "نص"}) + "\n", "utf-8")
    result = _import(str(path))
    assert result.exit_code == 2 and "'source' is missing" in result.output
    result = _import(str(path), "--source", "manual", "--workers", "0")
    assert result.exit_code == 0, result.output
    assert _query(database_url, "SELECT s.name FROM articles a JOIN sources s ON s.id = a.source_id") == [("manual",)]  # fmt: skip


def test_export_output_imports_and_a_rerun_stores_nothing(
    database_url: str, tmp_path: Path
) -> None:
    first = _import(str(DATA), "--workers", "0")
    assert first.exit_code == 0, first.output
    stored = _query(database_url, "SELECT count(*) FROM articles")[0][0]
    exported = tmp_path / "export.jsonl"
    result = CliRunner().invoke(app, ["export", "--format", "jsonl", "--output", str(exported)])
    assert result.exit_code == 0, result.output
    assert len(exported.read_text("utf-8").splitlines()) == stored
    again = _import(str(exported), "--workers", "0")
    assert again.exit_code == 0, again.output
    assert f"{stored} articles read: 0 stored" in again.output
    assert f"{stored} already stored (same URL)" in again.output
    assert _query(database_url, "SELECT count(*) FROM articles")[0][0] == stored


def _valid_lines(count: int) -> list[str]:
    return [json.dumps(r, ensure_ascii=False) for r in ROWS[:count]]


def _bad_values() -> dict[str, dict]:
    """Lines that pass the JSON check but that PostgreSQL (or our body cap) would refuse."""
    rng = random.Random(7)
    letters = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
    # 190,000 distinct four-letter words: under the body cap, over PostgreSQL's tsvector limit.
    words = itertools.islice(itertools.product(letters, repeat=4), 190_000)
    many_words = " ".join("".join(word) for word in words)
    from db.bulk_import import MAX_BODY_CHARS, MAX_LINE_CHARS

    return {
        "nul": {"body": "نص فيه \u0000 محرف"},
        "surrogate": {"title": "عنوان \ud800"},
        "language": {"language": "a" * 40},
        "source": {"source": "s" * 100},
        "tsvector": {"body": many_words},
        # Random, so that the index cannot compress it under its 2,704-byte entry limit.
        "url": {"url": "https://x.test/" + "".join(rng.choices(string.ascii_letters, k=3000))},
        "huge_body": {"body": "كلمة " * (MAX_BODY_CHARS // 5 + 10)},
        # Rejected on its length alone, before the JSON is parsed.
        "huge_line": {"body": "a " * (MAX_LINE_CHARS // 2 + 10)},
    }


EXPECTED_SENTENCE = {
    "nul": "'body (or text)' contains a NUL character",
    "surrogate": "'title' contains a lone surrogate (\\ud800)",
    "language": "'language' is 40 characters long; the database holds at most 16",
    "source": "'source' is 100 characters long; the database holds at most 64",
    "tsvector": "too many for one full-text index entry",
    "url": "'url' is 3,015 bytes long",
    "huge_line": "characters long, more than any acceptable article",
    "huge_body": "'body (or text)' is 1,000,050 characters long; at most 1,000,000",
}


@pytest.mark.parametrize("case", sorted(EXPECTED_SENTENCE))
def test_a_line_the_database_would_refuse_stores_nothing(
    database_url: str, tmp_path: Path, case: str
) -> None:
    """Valid lines first, small batches: the bad fifth line is found before anything is
    stored, named with its line, in one sentence, without a traceback."""
    bad = {**ROWS[9], "url": "https://x.test/bad", "canonical_url": None, **_bad_values()[case]}
    lines = _valid_lines(4) + [json.dumps(bad), *_valid_lines(6)[4:]]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    result = _import(str(path), "--batch", "2", "--workers", "0")
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(f"error: {path}:5: "), result.output
    assert EXPECTED_SENTENCE[case] in errors[0]
    assert "Traceback" not in result.output and "Nothing was imported." in result.output
    assert _query(database_url, "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM sources)")[0] == (0, 0)  # fmt: skip


@pytest.mark.parametrize("case", ["nul", "language", "source", "tsvector", "url"])
def test_the_database_really_refuses_what_the_checks_reject(database_url: str, case: str) -> None:
    """The checks mirror the server's limits: written directly, each value fails there."""
    import psycopg

    value = _bad_values()[case]
    statement = {
        "nul": ("SELECT %s::text", value.get("body")),
        "language": ("SELECT %s::varchar(16)::text = %s", value.get("language")),
        "source": ("INSERT INTO sources (name) VALUES (%s)", value.get("source")),
        "tsvector": ("SELECT to_tsvector('simple', %s)", value.get("body")),
        "url": ("INSERT INTO sources (name, title) VALUES ('u', %s)", value.get("url")),
    }[case]
    dsn = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        if case == "url":  # the unique btree index on articles.url has the same limit
            conn.execute("CREATE UNIQUE INDEX probe_title ON sources (title)")
        if case == "language":  # varchar(16) truncates on a cast: the column is what refuses
            with pytest.raises(psycopg.errors.StringDataRightTruncation):
                conn.execute("CREATE TEMP TABLE probe (language varchar(16))")
                conn.execute("INSERT INTO probe VALUES (%s)", (value["language"],))
            return
        with pytest.raises(psycopg.Error):
            conn.execute(statement[0], (statement[1],))


def test_a_batch_the_database_refuses_mid_import_is_one_sentence(
    database_url: str, tmp_path: Path
) -> None:
    """A refusal the checks cannot foresee (here a constraint added by the operator): the
    earlier batches stay, the command says which lines and what stays, exits 1; a re-run
    after the fix stores the rest and skips what is stored."""
    rows = [dict(r) for r in ROWS[:6]]
    rows[4]["url"] = rows[4]["canonical_url"] = "https://x.test/forbidden"
    path = tmp_path / "later.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    dsn = database_url.replace("postgresql+psycopg://", "postgresql://")
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        for table in ("articles", "duplicates"):
            conn.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT no_forbidden CHECK (url !~ 'forbidden')"
            )
    result = _import(str(path), "--batch", "2", "--workers", "0")
    assert result.exit_code == 1, result.output
    assert f"{path}:5-6: the database refused this batch" in result.output
    assert "no_forbidden" in result.output and "Traceback" not in result.output
    assert "articles of earlier lines stay stored" in result.output
    stored = _query(database_url, "SELECT count(*) FROM articles")[0][0]
    assert 0 < stored <= 4
    with psycopg.connect(dsn, autocommit=True) as conn:
        for table in ("articles", "duplicates"):
            conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT no_forbidden")
    again = _import(str(path), "--batch", "2", "--workers", "0")
    assert again.exit_code == 0, again.output
    total = _query(database_url, "SELECT (SELECT count(*) FROM articles) + (SELECT count(*) FROM duplicates)")[0][0]  # fmt: skip
    assert total == 6
