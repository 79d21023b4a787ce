"""``akhbar dedup-index rebuild``: re-learn the recurring text and re-sign every stored article.

Run it once on a database created before revision 0012 (or 0006), and after any change of the
dedup settings (shingling, permutations, bands, the recurring-text rule): see
docs/operations.md. It reads the stored bodies oldest first, in batches of ``--batch``
articles, one transaction each under the index lock, so a crawl may run meanwhile; ``--workers``
processes compute the bodies' signatures.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from cli.commands._common import console, fail, interrupts_noticed, ready_database


def register(app: typer.Typer) -> None:
    index_app = typer.Typer(
        help="The persisted dedup index: signatures, LSH bands, learned recurring text.",
        no_args_is_help=True,
    )
    app.add_typer(index_app, name="dedup-index")
    index_app.command("rebuild")(rebuild)


def rebuild(
    batch: Annotated[
        int, typer.Option("--batch", help="Articles per transaction (memory grows with it).")
    ] = 1000,
    relearn: Annotated[
        bool,
        typer.Option(
            "--relearn",
            help="Forget the learned recurring text first (after a change of its rule).",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON summary on stdout.")] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            help="Processes computing signatures (0: in this one). Default: AKHBAR_WORKERS.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Re-learn recurring text from stored bodies (oldest first) and re-sign and re-band every
    stored article; safe to stop and run again."""
    from rich.progress import Progress

    from akhbar import settings
    from db.article_store import rebuild_index
    from db.engine import get_engine

    if batch < 1:
        raise fail(f"--batch must be at least 1, not {batch}.")
    if workers is None:
        try:
            workers = settings.value("AKHBAR_WORKERS")
        except settings.SettingError as exc:
            raise fail(str(exc)) from None
        if workers < 0:
            raise fail(f"AKHBAR_WORKERS must be 0 or more, not {workers}.")
    elif workers < 0:
        raise fail(f"--workers must be 0 or more, not {workers}.")
    url = ready_database()
    with (
        interrupts_noticed() as check,
        Progress(console=console, transient=True, disable=as_json) as bar,
    ):
        task = bar.add_task("Re-signing", total=None)

        def progress(done: int, total: int) -> None:  # after each batch
            check()
            bar.update(task, completed=done, total=total)

        report = rebuild_index(
            get_engine(url), batch=batch, relearn=relearn, workers=workers, progress=progress
        )
    if as_json:
        print(json.dumps(report.as_json()))
        return
    console.print(
        f"Examined {report.examined} articles in {report.batches} batches: "
        f"{report.resigned} re-signed, {report.rebanded} re-banded, "
        f"{report.earlier_resigned} earlier ones re-signed when a paragraph turned recurring; "
        f"{report.turned_recurring} paragraphs learned as recurring"
        + (f" ({report.forgot_learned} learned rows forgotten first)." if relearn else ".")
    )
