"""The ``akhbar`` command line. Each command group lives in ``akhbar/commands/<name>.py``
and exposes ``register(app)``; this module only assembles them."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="akhbar",
    help="Crawl Arabic news sites, extract clean articles, drop near-duplicates, store in PostgreSQL.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Order here is the order in --help.
COMMAND_MODULES = [
    "demo",
    "crawl",
    "runs",
    "schedule",
    "worker",
    "extract",
    "reprocess",
    "dedup",
    "importer",
    "search",
    "export",
    "serve",
    "db",
    "roles",
]

for _name in COMMAND_MODULES:
    try:
        _module = importlib.import_module(f"akhbar.commands.{_name}")
    except ModuleNotFoundError as exc:  # a command group not written yet
        if exc.name != f"akhbar.commands.{_name}":
            raise
        continue
    _module.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
