"""`akhbar serve`: the read-only HTTP API (api.app) under uvicorn."""

from __future__ import annotations

import os

import typer


def reader_url_or_exit() -> str | None:
    """The URL the API reads with: ``AKHBAR_READER_URL``; for the embedded database, its
    read-only role (made ready here); with only ``DATABASE_URL``, None (that role, warned)."""
    if os.environ.get("AKHBAR_READER_URL"):
        return None
    from cli.commands._common import err_console, ready_database

    if os.environ.get("DATABASE_URL"):
        err_console.print(
            "[yellow]AKHBAR_READER_URL is not set: serving with DATABASE_URL's role; create a "
            "read-only role with `akhbar db create-reader` and set AKHBAR_READER_URL.[/yellow]"
        )
        return None
    from cli.commands.roles import create_reader
    from db.embedded import READER_ROLE, EmbeddedPostgres
    from db.engine import admin_url

    ready_database()  # started and migrated: the reader's grants need the tables
    try:
        create_reader(admin_url(), READER_ROLE)
    except Exception as exc:  # a sentence, not a traceback
        err_console.print(f"[red]Could not prepare the read-only role: {exc}[/red]")
        raise typer.Exit(2) from None
    return EmbeddedPostgres().url_for(READER_ROLE)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="port"),
    workers: int = typer.Option(1, help="uvicorn worker processes"),
) -> None:
    """Serve the read-only API (OpenAPI docs at /docs) as the read-only role:
    AKHBAR_READER_URL if set, else the embedded database's akhbar_reader."""
    import uvicorn

    url = reader_url_or_exit()
    if url:
        # Worker processes read it from the environment (visible to this account only).
        os.environ["AKHBAR_READER_URL"] = url
    if workers > 1:
        uvicorn.run("api.app:app", host=host, port=port, workers=workers)
    else:
        from api.app import create_app

        uvicorn.run(create_app(url), host=host, port=port)
