"""The crawl job queue (procrastinate) and the scheduler's claims.

* procrastinate's own schema (its tables ``procrastinate_*``, types, functions and triggers),
  exactly the SQL the pinned version ships (``migrations/sql/procrastinate_3.10.0_schema.sql``,
  compared with the installed package by ``tests/test_queue.py``). ``akhbar db upgrade`` is
  the one way it arrives; a later procrastinate version brings its migration files through a
  new revision.
* ``schedule_claims``: one row per (source, scheduled fire time) that a scheduler took, so
  two schedulers sharing the database never crawl or enqueue one source twice for one
  trigger (an insert that conflicts means another scheduler has it).
* ``queue_workers``: where each ``akhbar worker`` runs (host, pid, slots), beside
  procrastinate's ``procrastinate_workers`` row (which holds only an id and a heartbeat).

These tables belong to the queue, not to the models: ``db.foreign_tables`` keeps them out
of autogenerate comparisons.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 09:00:00

"""

from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PROCRASTINATE_SCHEMA = (
    Path(__file__).resolve().parents[1] / "sql" / "procrastinate_3.10.0_schema.sql"
)

CLAIMS = """
CREATE TABLE schedule_claims (
    source varchar(64) NOT NULL,
    fire_time timestamptz NOT NULL,
    action varchar(16) NOT NULL CHECK (action IN ('crawl', 'enqueue')),
    claimed_by text NOT NULL,
    claimed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, fire_time)
);
CREATE INDEX ix_schedule_claims_claimed_at ON schedule_claims (claimed_at);

CREATE TABLE queue_workers (
    worker_id bigint PRIMARY KEY REFERENCES procrastinate_workers (id) ON DELETE CASCADE,
    hostname text NOT NULL,
    pid integer NOT NULL,
    concurrency integer NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now()
);
"""


def upgrade() -> None:
    op.execute(PROCRASTINATE_SCHEMA.read_text(encoding="utf-8"))
    op.execute(CLAIMS)


def downgrade() -> None:
    op.execute("DROP TABLE queue_workers")
    op.execute("DROP TABLE schedule_claims")
    op.execute(
        "DROP TABLE procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,"
        " procrastinate_workers CASCADE"
    )
    # Every function the schema created (names and signatures read from the catalogue).
    op.execute(
        """
        DO $$
        DECLARE f regprocedure;
        BEGIN
            FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
                     JOIN pg_namespace n ON n.oid = p.pronamespace
                     WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%'
            LOOP
                EXECUTE 'DROP FUNCTION ' || f;
            END LOOP;
        END $$;
        """
    )
    op.execute(
        "DROP TYPE procrastinate_job_to_defer_v1, procrastinate_job_event_type,"
        " procrastinate_job_status"
    )
