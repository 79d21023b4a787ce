"""`akhbar schedule`: the nightly crawl scheduler (scheduler.py at the repository root)."""

from __future__ import annotations

import os

import typer

from akhbar.commands._common import console, err_console


def register(app: typer.Typer) -> None:
    @app.command()
    def schedule(
        config: str = typer.Option(None, help="Schedule TOML (default: schedule.toml if present)."),
        time: str = typer.Option(None, help="Time of day, HH:MM (default 03:00)."),
        timezone: str = typer.Option(None, help="Time zone of --time (default Asia/Riyadh)."),
        source: list[str] = typer.Option(None, help="Only these sources (repeatable)."),
        every: float = typer.Option(None, help="Every N seconds instead of nightly."),
        max_parallel: int = typer.Option(None, help="Crawls running together."),
        list_jobs: bool = typer.Option(False, "--list", help="Show the stored jobs and exit."),
        enqueue: bool = typer.Option(
            None,
            "--enqueue",
            help="Queue the crawls for `akhbar worker`s instead of running them here.",
        ),
    ) -> None:
        """Run crawls on a schedule until stopped (Ctrl-C / SIGTERM stop it cleanly)."""
        import scheduler

        scheduler.configure_logging(os.environ.get("AKHBAR_LOG_LEVEL", "INFO"))
        try:
            cfg = scheduler.load_config(
                config,
                time=time,
                timezone=timezone,
                sources=source or None,
                every_seconds=every,
                max_parallel=max_parallel,
                enqueue=enqueue,
            )
            if list_jobs:
                jobs = scheduler.list_jobs(cfg)
                if not jobs:
                    console.print("No jobs stored yet: `akhbar schedule` creates them.")
                for job_id, name, next_run in jobs:
                    console.print(f"{job_id}  {name}  next run: {next_run or 'paused'}")
                return
            code = scheduler.serve(cfg)
        except ValueError as exc:
            err_console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
        raise typer.Exit(code)
