"""``articles.dateline``: the dateline printed in a byline slot, kept out of ``author``.

A byline such as «لندن: «الشرق الأوسط»» is a place plus the paper's own name, not an
author; «اللاذقية: سامر الحلبي» is a place plus the reporter. Extraction (akhbar.metadata.
split_byline) now stores the reporter in ``author`` and the place (or the whole line when
no person is named) here. Existing rows get NULL; ``akhbar reprocess`` fills the column.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 09:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("articles", sa.Column("dateline", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("articles", "dateline")
