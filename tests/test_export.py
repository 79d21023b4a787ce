"""`akhbar export` streams v_articles as JSON lines, CSV and Parquet."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import search_corpus
from typer.testing import CliRunner

from cli.main import app

REPO = Path(__file__).resolve().parents[1]


def run_export(database_url: str, *args: str) -> bytes:
    """The export command in-process (DATABASE_URL is set by the fixture); its stdout bytes."""
    result = CliRunner().invoke(app, ["export", *args])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


@pytest.fixture
def corpus(database_url: str) -> dict[str, int]:
    return search_corpus.load(database_url)


def test_jsonl_to_stdout_with_filters(database_url: str, corpus: dict[str, int]) -> None:
    out = run_export(
        database_url, "--format", "jsonl", "--source", "alpha",
        "--since", "2026-10-05", "--until", "2026-10-21",
    )  # fmt: skip
    rows = [json.loads(line) for line in out.decode().splitlines()]
    expected = [
        a for a in search_corpus.articles()
        if a["source"] == "alpha" and "2026-10-05" <= a["published_at"][:10] <= "2026-10-21"
    ]  # fmt: skip
    assert [r["id"] for r in rows] == sorted(corpus[a["key"]] for a in expected)
    assert {r["source"] for r in rows} == {"alpha"}
    by_id = {corpus[a["key"]]: a for a in expected}
    for row in rows:
        assert row["body"] == by_id[row["id"]]["body"]
        assert row["title"] == by_id[row["id"]]["title"]


def test_csv_file_round_trips_arabic(database_url: str, corpus: dict[str, int], tmp_path) -> None:
    out = tmp_path / "articles.csv"
    run_export(database_url, "--format", "csv", "--output", str(out), "--batch-size", "7")
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert len(rows) == len(corpus)
    first = next(r for r in rows if int(r["id"]) == corpus["s01"])
    assert first["title"] == "استئناف والمفاوضات السورية في جنيف"
    assert not (tmp_path / "articles.csv.partial").exists()


def test_parquet_in_row_groups(database_url: str, corpus: dict[str, int], tmp_path) -> None:
    out = tmp_path / "articles.parquet"
    run_export(database_url, "--format", "parquet", "-o", str(out), "--batch-size", "10")
    parquet = pq.ParquetFile(out)
    assert parquet.metadata.num_rows == len(corpus)
    assert parquet.metadata.num_row_groups == 5  # 42 rows in batches of 10
    table = parquet.read()
    assert table.column("id").to_pylist() == sorted(corpus.values())
    assert str(table.schema.field("published_at").type) == "timestamp[us, tz=UTC]"
    assert "والمفاوضات" in table.column("body").to_pylist()[0]


def test_parquet_to_stdout_from_the_installed_command(database_url: str, corpus) -> None:
    env = {**os.environ, "DATABASE_URL": database_url}
    done = subprocess.run(
        [sys.executable, "-m", "cli", "export", "--format", "parquet", "--source", "beta"],
        cwd=REPO,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()
    table = pq.read_table(io.BytesIO(done.stdout))
    assert set(table.column("source").to_pylist()) == {"beta"}
    assert table.num_rows == sum(1 for a in search_corpus.articles() if a["source"] == "beta")
