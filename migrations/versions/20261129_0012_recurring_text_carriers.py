"""``recurring_text.article_ids``: the stored articles that carry a not-yet-recurring paragraph.

When the paragraph turns recurring, those articles are signed again without it in the same
transaction (their ``articles.minhash`` and ``minhash_bands`` rows), so the first article
carrying a notice cannot be merged with later briefs that share only the notice. NULL once
the paragraph is recurring (nothing left to re-sign), and for rows written before this
revision: ``akhbar dedup-index rebuild`` fills them in (docs/operations.md).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 13:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "recurring_text",
        sa.Column("article_ids", postgresql.ARRAY(sa.BigInteger()), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("recurring_text", "article_ids")
