"""``akhbar dedup INPUT.jsonl``: near-duplicate decisions for a JSONL file of articles.

Input lines: ``id`` and the article text as ``text`` or ``body`` (required; ``body`` is what
``akhbar export`` writes), ``title``, ``url``, ``source``, ``published`` or ``published_at``
(ISO 8601, optional). Output: one JSON line per input line, in input order:
``{"id", "duplicate_of", "similarity", "kind"}``; with ``-o FILE`` the file is replaced only
when the whole input was read (a bad input leaves an earlier FILE as it was).

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
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from akhbar import dedup
from akhbar.jsonl import iso_date_field, object_line

TEXT_FIELDS = ("text", "body")  # `body`: the field name `akhbar export` writes
DATE_FIELDS = ("published", "published_at")


class InputError(ValueError):
    pass


def _parse_published(row: dict[str, Any], where: str) -> datetime | None:
    name = next((n for n in DATE_FIELDS if row.get(n) not in (None, "")), DATE_FIELDS[0])
    try:
        return iso_date_field(row.get(name), name, where)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def _text(row: dict[str, Any], where: str) -> str:
    name = next((n for n in TEXT_FIELDS if n in row), None)
    if "id" not in row or name is None:
        missing = [m for m, ok in (("id", "id" in row), ("text (or body)", name)) if not ok]
        raise InputError(f"{where}: missing field(s): {', '.join(missing)}")
    if not isinstance(row[name], str):
        raise InputError(f"{where}: '{name}' must be a string")
    return row[name]


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
        text = _text(row, where)
        key = row["id"]
        if not isinstance(key, str | int) or isinstance(key, bool):
            raise InputError(f"{where}: 'id' must be a string or an integer")
        if key in seen:
            raise InputError(f"{where}: id {key!r} already used on line {seen[key]}")
        seen[key] = lineno
        ids.append(key)
        dates.append(_parse_published(row, where))
        articles.append(dedup.fingerprint(text, settings))
    return ids, dates, articles


def decide_all(
    dates: list[datetime | None],
    articles: list[dedup.Fingerprint],
    settings: dedup.Settings,
) -> list[dedup.Decision]:
    """Decisions by position, made in the writers' order (``dedup.publication_order``);
    duplicate_of is a position."""
    deduplicator = dedup.CorpusDeduplicator(settings)
    decisions: list[dedup.Decision | None] = [None] * len(articles)
    for i in dedup.publication_order(dates):
        decisions[i], _ = deduplicator.check_and_add(i, articles[i])
    return decisions  # type: ignore[return-value]


def run(input_path: Path, output: TextIO, threshold: float) -> dict[str, int]:
    settings = replace(dedup.DEFAULT, threshold=threshold)
    with open(input_path, encoding="utf-8") as fh:
        try:
            ids, dates, articles = read_articles(fh, str(input_path), settings)
        except UnicodeDecodeError:
            raise InputError(
                f"{input_path}:{_first_non_utf8_line(input_path)}: not UTF-8 text; "
                "save the file as UTF-8"
            ) from None
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
    try:
        if output is None:
            counts = run(input_path, sys.stdout, threshold)
        else:
            counts = _run_to_file(input_path, output, threshold)
    except InputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(
        f"{counts['articles']} articles: {counts['kept']} kept, {counts['exact']} exact and "
        f"{counts['near']} near duplicates",
        err=True,
    )


def _first_non_utf8_line(path: Path) -> int:
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return lineno
    return 0


def _run_to_file(input_path: Path, output: Path, threshold: float) -> dict[str, int]:
    """Write to a temporary file beside ``output`` and rename it over ``output`` on success, so
    a failed run never leaves ``output`` truncated or half-written."""
    import os
    import tempfile

    try:
        fd, partial = tempfile.mkstemp(
            prefix=f".{output.name}.", suffix=".partial", dir=output.parent or Path(".")
        )
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            counts = run(input_path, out, threshold)
        os.replace(partial, output)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return counts


def register(app: typer.Typer) -> None:
    app.command("dedup")(dedup_command)
