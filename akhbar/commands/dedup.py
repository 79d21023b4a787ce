"""``akhbar dedup INPUT.jsonl``: near-duplicate decisions for a JSONL file of articles.

Input lines: ``id``, ``title``, ``text`` (required), ``url``, ``source``, ``published`` (ISO 8601,
optional). Output: one JSON line per input line, in input order:
``{"id", "duplicate_of", "similarity", "kind"}``.

Decisions are made in published order (unknown dates last, ties by line), so the kept copy of a
story is its earliest-published one even when a republication comes first in the file: that
earlier line then points at the original further down. The file is read once, streaming: each
article's signature, paragraph fingerprints and compressed text are kept (the text to sign it
again without paragraphs that turn out to recur across stories).
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from akhbar import dedup
from akhbar.jsonl import iso_date_field, object_line

REQUIRED = ("id", "title", "text")


class InputError(ValueError):
    pass


def _parse_published(value: Any, where: str) -> datetime | None:
    try:
        return iso_date_field(value, "published", where)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def read_articles(
    fh: TextIO, name: str, settings: dedup.Settings
) -> tuple[list[Any], list[datetime | None], list[dedup.Fingerprint]]:
    """Stream the file: ids, dates and fingerprints (``akhbar.dedup.fingerprint``)."""
    ids: list[Any] = []
    dates: list[datetime | None] = []
    articles: list[dedup.Fingerprint] = []
    seen: dict[Any, int] = {}
    for lineno, line in enumerate(fh, 1):
        if not line.strip():
            continue
        where = f"{name}:{lineno}"
        try:
            row = object_line(line, where)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        missing = [f for f in REQUIRED if f not in row]
        if missing:
            raise InputError(f"{where}: missing field(s): {', '.join(missing)}")
        if not isinstance(row["text"], str):
            raise InputError(f"{where}: 'text' must be a string")
        key = row["id"]
        if not isinstance(key, str | int) or isinstance(key, bool):
            raise InputError(f"{where}: 'id' must be a string or an integer")
        if key in seen:
            raise InputError(f"{where}: id {key!r} already used on line {seen[key]}")
        seen[key] = lineno
        ids.append(key)
        dates.append(_parse_published(row.get("published"), where))
        articles.append(dedup.fingerprint(row["text"], settings))
    return ids, dates, articles


def decide_all(
    dates: list[datetime | None],
    articles: list[dedup.Fingerprint],
    settings: dedup.Settings,
) -> list[dedup.Decision]:
    """Decisions by position, made in published order; duplicate_of is a position."""
    far_future = datetime.max.replace(tzinfo=UTC)
    order = sorted(range(len(articles)), key=lambda i: (dates[i] or far_future, i))
    deduplicator = dedup.CorpusDeduplicator(settings)
    decisions: list[dedup.Decision | None] = [None] * len(articles)
    for i in order:
        decisions[i], _ = deduplicator.check_and_add(i, articles[i])
    return decisions  # type: ignore[return-value]


def run(input_path: Path, output: TextIO, threshold: float) -> dict[str, int]:
    settings = replace(dedup.DEFAULT, threshold=threshold)
    with open(input_path, encoding="utf-8") as fh:
        ids, dates, articles = read_articles(fh, str(input_path), settings)
    decisions = decide_all(dates, articles, settings)
    counts = {"articles": len(ids), "kept": 0, "exact": 0, "near": 0}
    for key, d in zip(ids, decisions, strict=True):
        dup = None if d.duplicate_of is None else ids[d.duplicate_of]  # type: ignore[index]
        counts[d.kind or "kept"] += 1
        record = {
            "id": key,
            "duplicate_of": dup,
            "similarity": round(d.similarity, 4),
            "kind": d.kind,
        }
        output.write(json.dumps(record, ensure_ascii=False) + "\n")
    return counts


def dedup_command(
    input_path: Annotated[
        Path, typer.Argument(metavar="INPUT.jsonl", help="Articles, one JSON object per line.")
    ],
    threshold: Annotated[
        float,
        typer.Option(
            "--threshold",
            "-t",
            min=0.0,
            max=1.0,
            help="Estimated Jaccard at or above which an article is a near-duplicate.",
        ),
    ] = dedup.THRESHOLD,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write decisions here instead of stdout.")
    ] = None,
) -> None:
    """Mark exact and near-duplicate articles: one decision per input line, in input order."""
    if not input_path.is_file():
        typer.echo(f"error: {input_path}: no such file", err=True)
        raise typer.Exit(2)
    out = open(output, "w", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
    try:
        counts = run(input_path, out, threshold)
    except InputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        if output:
            out.close()
    typer.echo(
        f"{counts['articles']} articles: {counts['kept']} kept, {counts['exact']} exact and "
        f"{counts['near']} near duplicates",
        err=True,
    )


def register(app: typer.Typer) -> None:
    app.command("dedup")(dedup_command)
