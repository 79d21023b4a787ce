"""Run outcomes that tell the truth, and a lease on running crawls.

* ``crawl_runs.status`` gains ``degraded`` (stored, but part of the crawl failed) and
  ``empty`` (reachable, but nothing matched the source's article patterns); see
  docs/operations.md for how each outcome is decided.
* ``crawl_runs.heartbeat_at``: a running crawl renews it every flush
  (AKHBAR_RUN_FLUSH_INTERVAL). A ``running`` row whose heartbeat is older than the lease
  belongs to a process that is gone, on whatever host: whoever looks next closes it as
  ``interrupted``.
* ``crawl_frontier``: the resume journal of interrupted crawls, in the database instead of
  a file under var/jobs, so a crawl can resume on another machine.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 09:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_STATUSES = "('running', 'finished', 'degraded', 'empty', 'failed', 'interrupted')"
OLD_STATUSES = "('running', 'finished', 'failed', 'interrupted')"


def upgrade() -> None:
    op.drop_constraint(op.f("ck_crawl_runs_status"), "crawl_runs", type_="check")
    op.create_check_constraint(
        op.f("ck_crawl_runs_status"), "crawl_runs", f"status IN {NEW_STATUSES}"
    )
    op.add_column("crawl_runs", sa.Column("heartbeat_at", sa.DateTime(timezone=True)))
    op.execute("UPDATE crawl_runs SET heartbeat_at = coalesce(finished_at, started_at)")
    op.create_table(
        "crawl_frontier",
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("callback", sa.Text(), nullable=True),
        sa.Column("priority", sa.Integer(), server_default="0", nullable=False),
        sa.Column("meta", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("state IN ('pending', 'done')", name=op.f("ck_crawl_frontier_state")),
        sa.PrimaryKeyConstraint("source", "url", name=op.f("pk_crawl_frontier")),
    )


def downgrade() -> None:
    op.drop_table("crawl_frontier")
    op.drop_column("crawl_runs", "heartbeat_at")
    # The old constraint knows neither outcome: both were failures of a kind it calls so.
    op.execute("UPDATE crawl_runs SET status = 'failed' WHERE status IN ('degraded', 'empty')")
    op.drop_constraint(op.f("ck_crawl_runs_status"), "crawl_runs", type_="check")
    op.create_check_constraint(
        op.f("ck_crawl_runs_status"), "crawl_runs", f"status IN {OLD_STATUSES}"
    )
