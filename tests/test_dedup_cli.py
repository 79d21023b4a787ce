"""`akhbar dedup` as a person runs it: it reads what `akhbar export` writes, and a bad input
never costs an earlier output file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import search_corpus

from tests.crawl_helpers import akhbar


def test_dedup_reads_what_export_writes(
    tmp_path: Path, database_url: str, subprocess_env: dict[str, str]
) -> None:
    corpus = search_corpus.load(database_url)
    exported = tmp_path / "articles.jsonl"
    result = akhbar("export", "-o", str(exported), env=subprocess_env)
    assert result.returncode == 0, result.stderr
    first = json.loads(exported.read_text(encoding="utf-8").splitlines()[0])
    assert "body" in first and "text" not in first and "published_at" in first

    decisions = tmp_path / "decisions.jsonl"
    result = akhbar("dedup", str(exported), "-o", str(decisions), env=subprocess_env)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in decisions.read_text(encoding="utf-8").splitlines()]
    assert sorted(r["id"] for r in rows) == sorted(corpus.values())
    assert f"{len(corpus)} articles:" in result.stderr


def test_bad_input_keeps_the_previous_output(tmp_path: Path) -> None:
    env = dict(os.environ)
    good = tmp_path / "good.jsonl"
    good.write_text(
        json.dumps({"id": 1, "title": "a", "text": "نص المقالة الأولى هنا"}, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "prev.out"
    assert akhbar("dedup", str(good), "-o", str(out), env=env).returncode == 0
    before = out.read_bytes()
    assert before

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "text": "x"}\n{"id": 2, \n', encoding="utf-8")
    result = akhbar("dedup", str(bad), "-o", str(out), env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{bad}:2: malformed JSON" in result.stderr
    assert out.read_bytes() == before  # not truncated
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jsonl", "good.jsonl", "prev.out"]

    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(b'{"id": 1, "text": "ok"}\n{"id": 2, "text": "caf\xe9"}\n')
    result = akhbar("dedup", str(latin), "-o", str(out), env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{latin}:2: not UTF-8 text; save the file as UTF-8" in result.stderr
    assert out.read_bytes() == before
