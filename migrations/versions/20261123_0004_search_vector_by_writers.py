"""search_vector supplied by the writers, computed by the database only when they do not.

Revision 0002 made ``articles.search_vector`` a stored generated column: the database ran
the Arabic normalisation and stemming regexes for every insert and update, about 2.7 ms of
server CPU for a 600-word article, which capped a bulk insert of real articles at about 180
articles/s on one server backend (bench: docs/dedup.md). Now:

* the column is a plain ``tsvector`` (``DROP EXPRESSION`` keeps every stored value);
* ``akhbar_search_vector(title, body)`` is the expression 0002 used, as a function;
* ``BEFORE INSERT`` and ``BEFORE UPDATE`` triggers compute it when the writer leaves it
  NULL, or changes ``title``/``body`` without setting it (conditions in WHEN clauses); so manual SQL, ``reprocess`` and any
  other writer keep it current as before;
* the crawler and ``akhbar import`` send it precomputed by ``akhbar.search.search_vector``
  (in worker processes), the twin of this function that ``tests/test_search.py`` checks.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 14:20:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCH_VECTOR_FUNCTION = """
CREATE FUNCTION akhbar_search_vector(title text, body text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
SELECT setweight(to_tsvector('simple'::regconfig, akhbar_search_text(COALESCE(title, ''))), 'A')
    || setweight(to_tsvector('simple'::regconfig, akhbar_search_text(COALESCE(body, ''))), 'B')
$fn$
"""

TRIGGER_FUNCTION = """
CREATE FUNCTION akhbar_articles_search_vector() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    NEW.search_vector := akhbar_search_vector(NEW.title, NEW.body);
    RETURN NEW;
END
$fn$
"""

# The conditions are in WHEN clauses, tested without calling the function, so a row that
# comes with its vector (a COPY of thousands) costs nothing here.
INSERT_TRIGGER = """
CREATE TRIGGER articles_search_vector_insert
BEFORE INSERT ON articles
FOR EACH ROW WHEN (NEW.search_vector IS NULL)
EXECUTE FUNCTION akhbar_articles_search_vector()
"""

UPDATE_TRIGGER = """
CREATE TRIGGER articles_search_vector_update
BEFORE UPDATE OF title, body, search_vector ON articles
FOR EACH ROW WHEN (
    NEW.search_vector IS NULL
    OR (NEW.search_vector IS NOT DISTINCT FROM OLD.search_vector
        AND (NEW.title IS DISTINCT FROM OLD.title OR NEW.body IS DISTINCT FROM OLD.body))
)
EXECUTE FUNCTION akhbar_articles_search_vector()
"""

# Revision 0002's generated expression, for the downgrade.
GENERATED_0002 = (
    "setweight(to_tsvector('simple'::regconfig, akhbar_search_text(COALESCE(title, ''::text))), 'A'::\"char\")"
    " || setweight(to_tsvector('simple'::regconfig, akhbar_search_text(body)), 'B'::\"char\")"
)


def upgrade() -> None:
    op.execute("ALTER TABLE articles ALTER COLUMN search_vector DROP EXPRESSION")
    op.execute(SEARCH_VECTOR_FUNCTION)
    op.execute(TRIGGER_FUNCTION)
    op.execute(INSERT_TRIGGER)
    op.execute(UPDATE_TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER articles_search_vector_update ON articles")
    op.execute("DROP TRIGGER articles_search_vector_insert ON articles")
    op.execute("DROP FUNCTION akhbar_articles_search_vector()")
    op.execute("DROP FUNCTION akhbar_search_vector(text, text)")
    # A column cannot become generated again: re-create it (values are recomputed).
    op.drop_index("ix_articles_search_vector", table_name="articles", postgresql_using="gin")
    op.drop_column("articles", "search_vector")
    op.add_column(
        "articles",
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed(GENERATED_0002, persisted=True),
            nullable=True,
        ),
    )
    op.create_index(
        "ix_articles_search_vector",
        "articles",
        ["search_vector"],
        unique=False,
        postgresql_using="gin",
    )
