"""Recurring text: paragraphs that different stories share, left out of near-duplicate checks.

``recurring_text`` holds one row per paragraph (normalised, hashed) seen in a stored or
checked article. Each row keeps the "stories" the paragraph appeared in, as small MinHash
sketches of the rest of the article; when ``akhbar.dedup.RECURRING_STORIES`` different ones
have been seen, ``recurring_since`` is set, the sketches are dropped and the paragraph's text
is kept for inspection. Writers lock the rows' hashes (advisory locks) before reading them, so
every process and machine learns one set. Internal: not granted to readers. Issue 15.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 09:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recurring_text",
        sa.Column("hash", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("stories", sa.SmallInteger(), nullable=False),
        sa.Column("contexts", sa.LargeBinary(), nullable=True),
        sa.Column("recurring_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column(
            "first_seen", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("hash", name=op.f("pk_recurring_text")),
    )


def downgrade() -> None:
    op.drop_table("recurring_text")
