"""`akhbar import`: bulk storing from JSON lines through `store_batch`, on the real server."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pytest
from sqlalchemy import create_engine, pool, text
from typer.testing import CliRunner

from akhbar.cli import app
from akhbar.commands import dedup as dedup_command

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
