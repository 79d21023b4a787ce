"""`akhbar serve`: the read-only HTTP API (api.app) under uvicorn."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        host: str = typer.Option("127.0.0.1", help="address to listen on"),
        port: int = typer.Option(8000, help="port"),
        workers: int = typer.Option(1, help="uvicorn worker processes"),
    ) -> None:
        """Serve the read-only API (OpenAPI docs at /docs). Uses AKHBAR_READER_URL if set."""
        import uvicorn

        if workers > 1:
            uvicorn.run("api.app:app", host=host, port=port, workers=workers)
        else:
            from api.app import create_app

            uvicorn.run(create_app(), host=host, port=port)
