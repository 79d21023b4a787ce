"""``articles.body`` and ``articles.search_vector`` are compressed with lz4 instead of pglz.

Every stored article's body and search vector are long enough to be compressed by the
server (TOAST). pglz was about a fifth of the server's CPU for a crawl's COPY into
``articles`` (and fails to shrink most search vectors after trying); lz4 takes about a
third of that and reads back faster, for about the same table size (bodies a little
larger, search vectors smaller). Rows stored before this revision keep pglz until they are
rewritten; both read the same. Nothing a client sees changes.

Skipped on a server built without lz4 (or older than PostgreSQL 14): columns stay pglz.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 15:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("body", "search_vector")


def _lz4_available() -> bool:
    if context.is_offline_mode():  # a script for a server we cannot ask: PostgreSQL 15
        return True
    return bool(
        op.get_bind()
        .execute(
            sa.text(
                "SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                "WHERE name = 'default_toast_compression'"
            )
        )
        .scalar()
    )


def upgrade() -> None:
    if _lz4_available():
        for column in COLUMNS:
            op.execute(f"ALTER TABLE articles ALTER COLUMN {column} SET COMPRESSION lz4")


def downgrade() -> None:
    if _lz4_available():
        for column in COLUMNS:
            op.execute(f"ALTER TABLE articles ALTER COLUMN {column} SET COMPRESSION default")
