"""`akhbar db create-reader`: the read-only role downstream teams connect as (docs/schema.md)."""

from __future__ import annotations

import os

import typer
from rich.console import Console

console = Console()

DEFAULT_ROLE = "akhbar_reader"
# What readers may SELECT; article_html (raw pages), minhash_bands and recurring_text (dedup
# state) are internal.
READER_RELATIONS = (
    "sources",
    "crawl_runs",
    "articles",
    "duplicates",
    "alembic_version",
    "v_articles",
    "v_syndication",
    "v_daily_counts",
    "akhbar_search_names",  # read by the search functions (akhbar_search, akhbar_search_text)
)
INTERNAL_RELATIONS = ("article_html", "minhash_bands", "recurring_text")


def create_reader(url: str, role: str = DEFAULT_ROLE, password: str | None = None) -> None:
    """Create or refresh the read-only role in the database at ``url`` (idempotent)."""
    import psycopg
    from psycopg import sql

    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    ident = sql.Identifier(role)
    with psycopg.connect(conninfo) as conn:
        dbname = conn.info.dbname
        # Serialise concurrent runs: CREATE ROLE is cluster-wide.
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('akhbar create-reader'))")
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(ident))
        conn.execute(
            sql.SQL(
                "ALTER ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
            ).format(ident)
        )
        if password is not None:
            conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(ident, sql.Literal(password)))
        conn.execute(sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(ident))
        conn.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(dbname), ident)
        )
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        conn.execute(sql.SQL("REVOKE CREATE ON SCHEMA public FROM {}").format(ident))
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(ident))
        # Start from nothing on every table and view, then grant the documented list.
        conn.execute(sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {}").format(ident))
        conn.execute(sql.SQL("REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {}").format(ident))
        present = {
            r[0]
            for r in conn.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v')"
            )
        }
        missing = [name for name in READER_RELATIONS if name not in present]
        if missing:
            raise RuntimeError(
                f"{', '.join(missing)} missing: run `akhbar db upgrade` before create-reader."
            )
        conn.execute(
            sql.SQL("GRANT SELECT ON {} TO {}").format(
                sql.SQL(", ").join(sql.Identifier(n) for n in READER_RELATIONS), ident
            )
        )
        # Tables created later by this (migrating) role give the reader nothing by default.
        conn.execute(
            sql.SQL(
                "ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM {}"
            ).format(ident)
        )
        conn.commit()


def register(app: typer.Typer) -> None:
    """Adds ``create-reader`` to the ``db`` group (created here if the db module is absent)."""
    db_app = next(
        (g.typer_instance for g in app.registered_groups if g.name == "db" and g.typer_instance),
        None,
    )
    if db_app is None:
        db_app = typer.Typer(help="The database.", no_args_is_help=True)
        app.add_typer(db_app, name="db")

    db_app.command("create-reader")(create_reader_command)


def create_reader_command(
    role: str = typer.Option(DEFAULT_ROLE, help="role name"),
    password_env: str | None = typer.Option(
        None, help="environment variable holding the role's password (none: no password)"
    ),
) -> None:
    """Create or refresh the read-only role for downstream teams (idempotent)."""
    from db.engine import admin_url, mask_url

    password = None
    if password_env:
        password = os.environ.get(password_env)
        if not password:
            console.print(f"[red]{password_env} is not set or empty.[/red]")
            raise typer.Exit(2)
    url = admin_url()  # creating roles: the embedded cluster's superuser
    try:
        create_reader(url, role, password)
    except Exception as exc:  # a message a person can act on, not a traceback
        console.print(f"[red]create-reader failed: {exc}[/red]")
        raise typer.Exit(1) from None
    if password and not os.environ.get("DATABASE_URL"):
        from db.embedded import EmbeddedPostgres

        EmbeddedPostgres().remember_password(role, password)
    from sqlalchemy.engine import make_url

    reader = make_url(url).set(username=role, password=password)
    console.print(f"Role {role} can read {mask_url(url)}.")
    console.print(
        "Reader URL: "
        + reader.render_as_string(hide_password=True).replace("+psycopg", "")
        + "  (set AKHBAR_READER_URL to it for `akhbar serve`)"
    )
