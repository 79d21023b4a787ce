"""`akhbar import FILE.jsonl [--source NAME] [--batch N] [--workers N]`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from cli.commands._common import console, interrupts_noticed, ready_database


def register(app: typer.Typer) -> None:
    app.command("import")(import_command)


def import_command(
    path: Annotated[
        Path, typer.Argument(metavar="FILE.jsonl", help="Articles, one JSON object per line.")
    ],
    source: Annotated[
        str | None, typer.Option(help="Source name for lines without a 'source' field.")
    ] = None,
    batch: Annotated[int, typer.Option(min=1, help="Articles per transaction.")] = 2000,
    workers: Annotated[
        int, typer.Option(min=0, help="Processes computing signatures (0: in this one).")
    ] = min(2, os.cpu_count() or 1),
) -> None:
    """Store articles from JSON lines (e.g. another database's `akhbar export`), deduplicated
    against what is stored. The file is checked first, against every limit the database
    enforces: a bad line stores nothing. Then batches are committed one by one."""
    from db.bulk_import import ImportError_, ImportFailed, ImportReport, import_file
    from db.engine import get_engine

    if not path.is_file():
        typer.echo(f"error: {path}: no such file", err=True)
        raise typer.Exit(2)
    url = ready_database()
    try:
        with interrupts_noticed() as check, console.status("Importing…") as status:

            def progress(read: ImportReport) -> None:
                check()
                status.update(f"Importing… {read.lines:,} articles read")

            report = import_file(
                get_engine(url),
                path,
                default_source=source,
                batch_size=batch,
                workers=workers,
                progress=progress,
            )
    except ImportError_ as exc:
        for line in exc.errors:
            typer.echo(f"error: {line}", err=True)
        typer.echo("Nothing was imported.", err=True)
        raise typer.Exit(2) from None
    except ImportFailed as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    kinds = report.kinds
    console.print(
        f"{report.lines:,} articles read: {report.stored:,} stored, {kinds['exact']:,} exact "
        f"and {kinds['near']:,} near duplicates recorded, {kinds['url']:,} already stored "
        f"(same URL); {report.replaced:,} earlier originals took over a stored copy."
    )
