"""docs/schema.md is the contract: it must list exactly the tables, views and columns (with
their types and nullability) that the database has at head, the models and db/views.py."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg

from db.foreign_tables import is_foreign
from db.models import Base
from db.view_tables import VIEWS

SCHEMA_DOC = Path(__file__).resolve().parents[1] / "docs" / "schema.md"
HEADING = re.compile(r"^### (table|view) `(\w+)`\s*$")
ROW = re.compile(r"^\| `(\w+)` \| ([^|]+?) \|(?: (yes|no) \|)? .*\|\s*$")


def parse_doc(text: str) -> dict[str, dict]:
    """{name: {"kind": "table"|"view", "columns": {column: (type, nullable or None)}}}"""
    relations: dict[str, dict] = {}
    current: dict | None = None
    for line in text.splitlines():
        if m := HEADING.match(line):
            current = relations.setdefault(m.group(2), {"kind": m.group(1), "columns": {}})
            continue
        if line.startswith("#"):
            current = None
        elif current is not None and (m := ROW.match(line)):
            nullable = None if m.group(3) is None else m.group(3) == "yes"
            current["columns"][m.group(1)] = (m.group(2).strip(), nullable)
    return relations


def database_relations(url: str) -> dict[str, dict]:
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            """
            SELECT c.relname, c.relkind, a.attname, format_type(a.atttypid, a.atttypmod),
                   NOT a.attnotnull
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE c.relkind IN ('r', 'v')
            ORDER BY c.relname, a.attnum
            """
        ).fetchall()
    relations: dict[str, dict] = {}
    for relname, relkind, column, type_, nullable in rows:
        kind = "table" if relkind == "r" else "view"
        entry = relations.setdefault(relname, {"kind": kind, "columns": {}})
        entry["columns"][column] = (type_, nullable if kind == "table" else None)
    return relations


def test_doc_matches_database_at_head(database_url: str) -> None:
    documented = parse_doc(SCHEMA_DOC.read_text(encoding="utf-8"))
    actual = database_relations(database_url)
    assert set(documented) == set(actual), "tables/views: documented vs database"
    for name, entry in actual.items():
        assert documented[name]["kind"] == entry["kind"], name
        assert documented[name]["columns"] == entry["columns"], f"columns of {name}"


def test_doc_matches_models_and_view_definitions() -> None:
    documented = parse_doc(SCHEMA_DOC.read_text(encoding="utf-8"))
    tables = {n for n, e in documented.items() if e["kind"] == "table" and not is_foreign(n)} - {
        "alembic_version"
    }
    views = {n for n, e in documented.items() if e["kind"] == "view"}
    assert tables == set(Base.metadata.tables)
    assert views == set(VIEWS)
    for name, table in Base.metadata.tables.items():
        assert list(documented[name]["columns"]) == [c.name for c in table.columns], name
        for column in table.columns:
            assert documented[name]["columns"][column.name][1] == column.nullable, (
                f"{name}.{column.name} nullability"
            )
    for name, view in VIEWS.items():
        assert list(documented[name]["columns"]) == [c.name for c in view.columns], name


def test_parser_sees_a_disagreement() -> None:
    """The check can fail: a column removed from the text is noticed."""
    text = SCHEMA_DOC.read_text(encoding="utf-8")
    doc = parse_doc(text)
    broken = parse_doc(
        text.replace("| `word_count` | integer | no |", "| `wordcount` | integer | no |")
    )
    assert "word_count" in doc["articles"]["columns"]
    assert doc["articles"]["columns"] != broken["articles"]["columns"]


def test_doc_lists_every_trigger(database_url: str) -> None:
    """Triggers change what a write does: each one on our tables is in the Triggers table."""
    conninfo = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as conn:
        triggers = {
            (name, table)
            for name, table in conn.execute(
                "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND NOT t.tgisinternal"
            )
        }
    text = SCHEMA_DOC.read_text(encoding="utf-8")
    section = text.split("## Triggers", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `(\w+)` \| `(\w+)`", section, flags=re.M))
    assert triggers == documented
    assert ("articles_search_vector_insert", "articles") in triggers
