"""The ``akhbar`` command line. Each command group lives in ``cli/commands/<name>.py`` as
module-level functions (callable alone, e.g. in a test) and a ``register(app)`` that adds
them to a Typer app; this module assembles them and turns the errors a person can
cause or fix (an unreachable or unmigrated database, a busy port, a bad registry) into one
sentence on stderr and exit code 2, instead of a traceback."""

from __future__ import annotations

import contextlib
import os
import sys

import typer

# Typer ships its own copy of Click; these are the errors it raises for a bad command line.
from typer._click.exceptions import ClickException, NoArgsIsHelpError

from akhbar import __version__
from cli.commands import (
    crawl,
    db,
    dedup,
    demo,
    export,
    extract,
    health,
    importer,
    reprocess,
    roles,
    runs,
    schedule,
    search,
    serve,
    sources,
    worker,
)

app = typer.Typer(
    name="akhbar",
    help="Crawl Arabic news sites, extract clean articles, drop near-duplicates, store in PostgreSQL.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        print(f"akhbar {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Crawl Arabic news sites, extract clean articles, drop near-duplicates, store in PostgreSQL."""


# Plain imports: a command module that fails to import stops every `akhbar` command with
# its traceback, rather than one command disappearing from --help.
# Order here is the order in --help.
COMMAND_MODULES = (
    demo,
    crawl,
    sources,
    runs,
    health,
    schedule,
    worker,
    extract,
    reprocess,
    dedup,
    importer,
    search,
    export,
    serve,
    db,
    roles,
)
for _module in COMMAND_MODULES:
    _module.register(app)


# SQLSTATEs of a reachable database that lacks akhbar's tables: undefined table, column, schema.
_SCHEMA_MISSING = {"42P01", "42703", "3F000"}


def explain(exc: BaseException) -> str | None:
    """The sentence for an error a person can act on; None for a bug (shown with a traceback)."""
    from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

    from akhbar.sources import SourceRegistryError

    if isinstance(exc, OperationalError | ProgrammingError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    ):
        from db.engine import mask_url

        where = mask_url(_current_url())
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        sqlstate = getattr(exc.orig, "sqlstate", None)
        if isinstance(exc, ProgrammingError) and sqlstate in _SCHEMA_MISSING:
            return (
                f"The database at {where} has no akhbar schema ({reason}). Run `akhbar db upgrade`."
            )
        if isinstance(exc, ProgrammingError):
            return None
        hint = (
            "Set DATABASE_URL to a reachable server"
            if os.environ.get("DATABASE_URL")
            else "Start the embedded one with `akhbar db start`"
        )
        return f"Cannot use the database at {where}: {reason}. {hint}."
    if isinstance(exc, SourceRegistryError):
        return str(exc)
    if type(exc).__name__ in {"DatabaseUnavailable", "EmbeddedDatabaseError"}:
        return str(exc)
    return None


def _current_url() -> str:
    from db.engine import database_url

    try:
        return database_url(start_embedded=False)
    except Exception:  # noqa: BLE001 - only for a message
        return "<unknown database>"


def main(args: list[str] | None = None) -> None:
    """Run the command line. Click's own errors (a bad option value, a missing argument, an
    unknown option or command) are one line on stderr with exit code 2, like ours; Click's
    standalone mode would print a usage block and a framed box instead."""
    try:
        code = app(args=args, prog_name="akhbar", standalone_mode=False)
    except NoArgsIsHelpError as exc:  # `akhbar` or `akhbar db` alone: the group's help
        with contextlib.suppress(BrokenPipeError):  # `akhbar | head`
            print(exc.format_message())
        sys.exit(exc.exit_code)
    except ClickException as exc:
        print(f"error: {' '.join(exc.format_message().split())}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except typer.Abort:
        print("Aborted.", file=sys.stderr)
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001 - re-raised below unless explained
        message = explain(exc)
        if message is None:
            raise
        print(message, file=sys.stderr)
        sys.exit(2)
    # Without standalone mode, typer.Exit(code) comes back as the return value.
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
