"""`akhbar db upgrade|status|start|stop`."""

from __future__ import annotations

import os

import typer
from rich.console import Console

from cli.commands._common import fail

console = Console()


def register(app: typer.Typer) -> None:
    db_app = typer.Typer(
        help="The database: migrations and the embedded server.", no_args_is_help=True
    )
    app.add_typer(db_app, name="db")

    db_app.command("start")(start)
    db_app.command("stop")(stop)
    db_app.command("upgrade")(upgrade)
    db_app.command("url")(url)
    db_app.command("status")(status)


def start() -> None:
    """Start the embedded PostgreSQL (var/postgres), creating it the first time."""
    from db.embedded import EmbeddedDatabaseError, EmbeddedPostgres
    from db.engine import mask_url

    try:
        url = EmbeddedPostgres().start()
    except EmbeddedDatabaseError as exc:
        raise fail(str(exc), 1) from None
    console.print(f"Embedded PostgreSQL is running: {mask_url(url)}")


def stop() -> None:
    """Stop the embedded PostgreSQL."""
    from db.embedded import EmbeddedPostgres

    was_running = EmbeddedPostgres().stop()
    console.print(
        "Stopped the embedded PostgreSQL."
        if was_running
        else "The embedded PostgreSQL was not running."
    )


def upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply alembic migrations (to head by default)."""
    from db import migrate
    from db.engine import mask_url, migration_url

    url = _url_or_exit(migration_url)
    _check_or_exit(url)
    migrate.upgrade(url, revision)
    console.print(f"{mask_url(url)} is at revision {migrate.current_revision(url)}.")


def url() -> None:
    """Print the database URL in the form psql accepts (password included: for your shell).
    For the embedded database: the application role's; only the account that created the
    database can read its passwords."""
    from db.engine import database_url

    print(_url_or_exit(database_url).replace("postgresql+psycopg://", "postgresql://"))


def status() -> None:
    """Which database, is it reachable, which revision, how much is in it."""
    from db import migrate
    from db.engine import database_url, get_engine, mask_url, session_scope
    from db.queries import corpus_counts

    embedded = not os.environ.get("DATABASE_URL")
    url = _url_or_exit(lambda: database_url(start_embedded=False))
    console.print(f"Database: {mask_url(url)} ({'embedded' if embedded else 'DATABASE_URL'})")
    _check_or_exit(url)
    current, head = migrate.current_revision(url), migrate.head_revision(url)
    console.print(
        f"Revision: {current or 'none'} (head {head})"
        + ("" if current == head else " — run `akhbar db upgrade`")
    )
    if current:
        with session_scope(get_engine(url)) as session:
            for name, count in corpus_counts(session).items():
                console.print(f"  {name}: {count}")
    _print_safety(url, embedded)


def _print_safety(url: str, embedded: bool) -> None:
    """The durability and authentication settings the server runs with."""
    import psycopg

    from db.embedded import ADMIN_ROLE, EmbeddedPostgres

    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        settings = {
            name: conn.execute(f"SHOW {name}").fetchone()[0]
            for name in (
                "fsync",
                "full_page_writes",
                "synchronous_commit",
                "data_checksums",
                "password_encryption",
            )
        }
        superuser = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        settings["this role is superuser"] = "yes" if superuser.fetchone()[0] else "no"
    console.print("Durability and access: " + ", ".join(f"{k} {v}" for k, v in settings.items()))
    # pg_hba_file_rules is for superusers: the embedded cluster's, or whoever DATABASE_URL is.
    hba_conn = (
        psycopg.connect(**EmbeddedPostgres().conninfo(ADMIN_ROLE), autocommit=True)
        if embedded
        else psycopg.connect(conninfo, autocommit=True)
    )
    try:
        with hba_conn as conn:
            rules = conn.execute(
                "SELECT type, coalesce(address, ''), auth_method FROM pg_hba_file_rules "
                "ORDER BY line_number"
            ).fetchall()
    except psycopg.errors.InsufficientPrivilege:
        console.print("Authentication rules: not visible to this role (pg_hba_file_rules).")
        return
    console.print(
        "Authentication: "
        + "; ".join(
            f"{kind} {address} {method}".replace("  ", " ") for kind, address, method in rules
        )
    )


def _url_or_exit(factory) -> str:  # noqa: ANN001
    from db.embedded import EmbeddedDatabaseError

    try:
        return factory()
    except EmbeddedDatabaseError as exc:
        raise fail(str(exc), 1) from None


def _check_or_exit(url: str) -> None:
    from db.engine import DatabaseUnavailable, check_connection, get_engine

    try:
        check_connection(get_engine(url))
    except DatabaseUnavailable as exc:
        raise fail(str(exc), 1) from None
