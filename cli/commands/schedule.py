"""`akhbar schedule`: the nightly crawl scheduler (scheduler.py at the repository root)."""

from __future__ import annotations

import os
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from cli.commands._common import console, fail


def register(app: typer.Typer) -> None:
    app.command()(schedule)


def schedule(
    config: str = typer.Option(None, help="Schedule TOML (default: schedule.toml if present)."),
    time: str = typer.Option(None, help="Time of day, HH:MM (default 03:00)."),
    timezone: str = typer.Option(None, help="Time zone of --time (default Asia/Riyadh)."),
    source: list[str] = typer.Option(None, help="Only these sources (repeatable)."),
    every: float = typer.Option(None, min=1, help="Every N seconds instead of nightly."),
    max_parallel: int = typer.Option(None, min=1, help="Crawls running together."),
    list_jobs: bool = typer.Option(False, "--list", help="Show the stored jobs and exit."),
    enqueue: bool = typer.Option(
        None,
        "--enqueue",
        help="Queue the crawls for `akhbar worker`s instead of running them here.",
    ),
) -> None:
    """Run crawls on a schedule until stopped (Ctrl-C / SIGTERM stop it cleanly)."""
    _check_time_and_zone(time, timezone)
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
    except ZoneInfoNotFoundError as exc:  # a time zone from schedule.toml or the environment
        raise fail(f"Unknown time zone: {exc.args[0] if exc.args else exc}.") from None
    except ValueError as exc:
        raise fail(str(exc)) from None
    raise typer.Exit(code)


def _check_time_and_zone(time: str | None, timezone: str | None) -> None:
    """Exit with a sentence for a --time that is not HH:MM or an unknown --timezone."""
    if time is not None:
        match = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?", time.strip())
        if not match or int(match.group(1)) > 23 or int(match.group(2) or 0) > 59:
            raise fail(f"--time {time!r} is not a time of day; use HH:MM, for example 03:00.")
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise fail(
                f"Unknown time zone: {timezone}. Use an IANA name such as Asia/Riyadh or UTC."
            ) from None
