"""Arabic full-text search on the real server: the SQL stemmer and its Python twin agree,
clitics are handled, ranking, filters, snippets, and the `akhbar search` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import search_corpus
from sqlalchemy import create_engine, pool, text
from typer.testing import CliRunner

from akhbar.cli import app
from akhbar.search import highlight, query_terms, search_text, websearch_query
from db.search import search
from db.views import parse_bound

REPO = Path(__file__).resolve().parents[1]

TRICKY = [
    "«والمفاوضاتُ» السوريّة، أمسِ؛ ١٢ طالباً — Test-Case! ۴۵",
    "الوزير وزير بالوزير للوزير والوزير فالوزير",
    "لبنان لبنانيون كتاب بلد ولد فلسطين الفلسطينيين",
    "للمفاوضات وللمفاوضات فللمفاوضات كالمفاوضات بمفاوضات",
    "إأآٱ ى ئ ؤ ة ـــ ک ی",
    "a  b\tc\nd",
    "",
]


@pytest.fixture
def engine(database_url: str):
    eng = create_engine(database_url, poolclass=pool.NullPool)
    yield eng
    eng.dispose()


@pytest.fixture
def corpus(database_url: str) -> dict[str, int]:
    return search_corpus.load(database_url)


def test_python_twin_equals_sql_functions(engine) -> None:
    samples = list(TRICKY)
    for a in search_corpus.articles():
        samples += [a["title"], a["body"]]
    samples += [q["query"] for q in search_corpus.queries()]
    with engine.connect() as conn:
        sql = conn.execute(
            text("SELECT akhbar_search_text(s) FROM unnest(CAST(:s AS text[])) AS s"),
            {"s": samples},
        ).scalars()
        for sample, from_sql in zip(samples, sql, strict=True):
            assert search_text(sample) == from_sql, sample


def test_clitic_forms_meet(engine) -> None:
    assert search_text("والمفاوضات") == search_text("مفاوضات") == search_text("للمفاوضات")
    assert search_text("الوزير") == search_text("وزير") == search_text("والوزير")
    assert search_text("لبنان") != search_text("بنان")  # ل only stripped before 5 letters
    # PostgreSQL's own arabic configuration keeps the conjunction (why we stem ourselves).
    with engine.connect() as conn:
        plain = conn.execute(text("SELECT to_tsvector('arabic', 'والمفاوضات')::text")).scalar()
    assert "والمفاوض" in plain


def test_search_finds_clitic_forms_and_ranks_titles_first(engine, corpus) -> None:
    with engine.connect() as conn:
        hits = search(conn, "مفاوضات")
        assert {h.id for h in hits} == {corpus["s01"], corpus["s02"]}
        # s01 has «والمفاوضات» in its title and twice in its body, s02 only «للمفاوضات».
        assert (
            "<b>والمفاوضات</b>" in hits[[h.id for h in hits].index(corpus["s01"])].title_highlighted
        )
        hits = search(conn, "وزير الصحة")
        ids = [h.id for h in hits]
        assert set(ids) >= {corpus["s05"], corpus["s29"]}
        assert ids[0] == corpus["s29"]  # in the title (weight A)
        assert all(a.rank >= b.rank for a, b in zip(hits, hits[1:], strict=False))


def test_filters_phrase_and_negation(engine, corpus) -> None:
    with engine.connect() as conn:
        assert [h.id for h in search(conn, "مفاوضات", source="beta")] == [corpus["s02"]]
        since = parse_bound("2026-10-02")
        assert [h.id for h in search(conn, "مفاوضات", since=since)] == [corpus["s02"]]
        until = parse_bound("2026-10-01", end=True)
        assert [h.id for h in search(conn, "مفاوضات", until=until)] == [corpus["s01"]]
        assert [h.id for h in search(conn, "مفاوضات -جنيف")] == [corpus["s02"]]
        assert {h.id for h in search(conn, '"وزير الصحة"')} == {corpus["s05"], corpus["s29"]}
        assert search(conn, '"الصحة وزير"') == []
        assert {h.id for h in search(conn, "زلزال OR فيضانات")} == {corpus["s15"], corpus["s16"]}
        assert search(conn, "؟!،") == []


def test_snippets_mark_words_in_the_original_text() -> None:
    body = " ".join(["كلمة"] * 50 + ["وأكد", "أن", "بالمفاوضات", "وحدها", "الحل"] + ["نهاية"] * 50)
    snippet = highlight(body, query_terms("مفاوضات"), max_words=10)
    assert "<b>بالمفاوضات</b>" in snippet.text
    assert snippet.text.startswith("…") and snippet.text.endswith("…")
    assert snippet.hits == 1
    assert websearch_query('"وزير الصحة" -لبنان OR سوريا') == '"زير صح" -لبن or سوريا'


def test_vector_follows_updates(engine, corpus) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE articles SET body = body || ' وتناول الاجتماع الطاقة الشمسية' WHERE id = :i"
            ),
            {"i": corpus["s13"]},
        )
    with engine.connect() as conn:
        assert [h.id for h in search(conn, "شمسية")] == [corpus["s13"]]


def test_judged_queries_beat_the_plain_arabic_configuration(engine, corpus) -> None:
    keys = {v: k for k, v in corpus.items()}
    plain_sql = text(
        "SELECT id FROM articles, websearch_to_tsquery('arabic', :q) q "
        "WHERE (to_tsvector('arabic', coalesce(title, '')) || to_tsvector('arabic', body)) @@ q "
        "LIMIT 10"
    )
    ours = plain = 0.0
    with engine.connect() as conn:
        for item in search_corpus.queries():
            relevant = set(item["relevant"])
            got = {keys[h.id] for h in search(conn, item["query"], limit=10)}
            assert got & relevant, item["query"]  # every query finds something relevant
            ours += len(got & relevant) / len(relevant)
            base = {keys[i] for i in conn.execute(plain_sql, {"q": item["query"]}).scalars()}
            plain += len(base & relevant) / len(relevant)
    assert ours > plain


def test_search_command_json(database_url: str, corpus) -> None:
    env = {**os.environ, "DATABASE_URL": database_url}
    done = subprocess.run(
        [sys.executable, "-m", "akhbar.cli", "search", "لاجئين", "--json", "--limit", "5"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert {r["id"] for r in rows} == {corpus["s07"], corpus["s08"]}
    assert all("<b>" in r["snippet"] for r in rows)
    table = CliRunner().invoke(app, ["search", "لاجئين", "--source", "gamma"])
    assert table.exit_code == 0, table.output
    assert "gamma" in table.output and "http://gamma.test/s07" in table.output
    assert "http://beta.test/s08" not in table.output


def test_common_and_rare_queries_take_different_paths_to_the_same_answer(engine, corpus) -> None:
    from db.search import _common, articles, tsquery

    def expected(word: str) -> set[int]:
        stem = search_text(word)
        return {
            corpus[a["key"]]
            for a in search_corpus.articles()
            if stem in search_text(a["title"] + " " + a["body"]).split()
        }

    with engine.connect() as conn:
        conn.execute(text("ANALYZE articles"))
        for word, common in (("في", True), ("زلزال", False)):
            match = articles.c.search_vector.bool_op("@@")(tsquery(word))
            assert _common(conn, [match]) is common, word
            found = {h.id for h in search(conn, word, limit=100)}
            assert found == expected(word) and found, word
