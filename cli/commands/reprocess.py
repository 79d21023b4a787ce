"""`akhbar reprocess [--source NAME]`."""

from __future__ import annotations

import typer

from cli.commands._common import check_source, console, interrupts_noticed, ready_database


def register(app: typer.Typer) -> None:
    app.command()(reprocess)


def reprocess(source: str = typer.Option(None, help="Only this source's articles.")) -> None:
    """Re-run extraction over the stored HTML of every stored article; report what changed."""
    from rich.progress import Progress

    from db.engine import get_engine
    from db.reprocess import reprocess as run

    url = ready_database()
    check_source(url, source)
    with interrupts_noticed() as check, Progress(console=console, transient=True) as bar:
        task = bar.add_task("Re-extracting", total=None)

        def progress(done: int, total: int) -> None:
            check()
            bar.update(task, completed=done, total=total)

        report = run(get_engine(url), source=source, progress=progress)
    console.print(
        f"Examined {report.examined} articles: {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.new_duplicates} newly found duplicates, {report.now_rejected} no longer pass the quality filter."
    )
    if report.changed_fields:
        console.print(
            "Changed fields: "
            + ", ".join(f"{k} {v}" for k, v in sorted(report.changed_fields.items()))
        )
    for url_ in report.rejected_urls[:20]:
        console.print(f"  no longer an article: {url_}")
