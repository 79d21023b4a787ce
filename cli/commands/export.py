"""`akhbar export`: stream articles (v_articles) as JSON lines, CSV or Parquet.

Rows come through a server-side cursor in batches and are written as they arrive, so memory
stays flat whatever the corpus size; Parquet is written one row group per batch.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

import typer
from rich.console import Console

from cli.commands._common import check_source, date_bounds, ready_database

console = Console(stderr=True)


class Format(StrEnum):
    jsonl = "jsonl"
    csv = "csv"
    parquet = "parquet"


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def write_jsonl(batches: Iterable[list[dict[str, Any]]], out: IO[bytes]) -> int:
    count = 0
    for batch in batches:
        lines = [
            json.dumps({k: _plain(v) for k, v in row.items()}, ensure_ascii=False) for row in batch
        ]
        out.write(("\n".join(lines) + "\n").encode("utf-8"))
        count += len(batch)
    return count


def write_csv(batches: Iterable[list[dict[str, Any]]], out: IO[bytes], fields: list[str]) -> int:
    import io

    count = 0
    # utf-8-sig: spreadsheet programs then read the Arabic correctly.
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.DictWriter(text, fieldnames=fields)
    writer.writeheader()
    for batch in batches:
        writer.writerows({k: _plain(v) for k, v in row.items()} for row in batch)
        count += len(batch)
    text.flush()
    text.detach()
    return count


def parquet_schema():  # noqa: ANN201
    import pyarrow as pa

    ts = pa.timestamp("us", tz="UTC")
    return pa.schema(
        [
            ("id", pa.int64()),
            ("source", pa.string()),
            ("url", pa.string()),
            ("canonical_url", pa.string()),
            ("title", pa.string()),
            ("published_at", ts),
            ("author", pa.string()),
            ("section", pa.string()),
            ("language", pa.string()),
            ("word_count", pa.int32()),
            ("fetched_at", ts),
            ("first_seen_at", ts),
            ("body", pa.string()),
        ]
    )


def write_parquet(batches: Iterable[list[dict[str, Any]]], out: IO[bytes]) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = parquet_schema()
    count = 0
    with pq.ParquetWriter(pa.PythonFile(out, mode="w"), schema, compression="zstd") as writer:
        for batch in batches:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            count += len(batch)
    return count


@contextmanager
def _open_output(output: str):  # noqa: ANN202
    if output == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    from cli.commands._common import fail

    path = Path(output)
    partial = path.with_name(path.name + ".partial")
    try:
        fh = partial.open("wb")
    except OSError as exc:
        raise fail(f"Cannot write {output}: {exc.strerror}.") from None
    try:
        with fh:
            yield fh
    except BaseException:
        partial.unlink(missing_ok=True)  # an earlier export at `path` stays as it was
        raise
    partial.replace(path)  # a finished file appears whole, never half-written


def export_articles(
    url: str,
    fmt: Format,
    out: IO[bytes],
    *,
    source: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    batch_size: int = 5000,
) -> int:
    """Write the matching articles to ``out``; return how many."""
    from db.engine import get_engine
    from db.views import EXPORT_FIELDS, iter_articles

    with get_engine(url).connect() as conn:
        batches = iter_articles(
            conn, source=source, since=since, until=until, batch_size=batch_size
        )
        if fmt is Format.jsonl:
            return write_jsonl(batches, out)
        if fmt is Format.csv:
            return write_csv(batches, out, EXPORT_FIELDS)
        return write_parquet(batches, out)


def register(app: typer.Typer) -> None:
    app.command("export")(export)


def export(
    format: Format = typer.Option(Format.jsonl, "--format", "-f", help="output format"),
    source: str | None = typer.Option(None, help="only this source (registry name)"),
    since: str | None = typer.Option(
        None, help="published on or after: 2024-05-01, an ISO timestamp, 3d or 12h"
    ),
    until: str | None = typer.Option(None, help="published on or before (a date: whole day)"),
    output: str = typer.Option("-", "--output", "-o", help="file, or - for stdout"),
    batch_size: int = typer.Option(5000, min=1, help="rows per fetch (and per Parquet row group)"),
) -> None:
    """Stream clean articles with their source name, oldest id first."""
    lo, hi = date_bounds(since, until)
    url = ready_database()
    check_source(url, source)
    with _open_output(output) as out:
        count = export_articles(
            url,
            format,
            out,
            source=source,
            since=lo,
            until=hi,
            batch_size=batch_size,
        )
    console.print(f"Exported {count} articles ({format.value}) to {output}.")
