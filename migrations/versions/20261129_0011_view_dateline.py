"""``v_articles.dateline``: the view downstream teams read carries the dateline too.

Revision 0008 added ``articles.dateline`` but left the view as it was, so readers of
``v_articles`` (and of ``akhbar_search``, which returns its rows) could not see it. The
column is appended, so ``SELECT`` lists naming columns keep working.

Revision ID: 0011
Revises: 0009
Create Date: 2026-11-29 12:00:00

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = """
SELECT a.id, s.name AS source, s.title AS source_title, a.url, a.canonical_url, a.title,
       a.body, a.published_at, a.author, a.section, a.language, a.word_count,
       a.fetched_at, a.first_seen_at, a.updated_at, a.crawl_run_id, a.extractor_version{extra}
FROM articles a JOIN sources s ON s.id = a.source_id
"""


def upgrade() -> None:
    # Appending a column is what CREATE OR REPLACE VIEW allows without dropping dependants
    # (akhbar_search returns SETOF v_articles).
    op.execute("CREATE OR REPLACE VIEW v_articles AS" + _COLUMNS.format(extra=", a.dateline"))


def downgrade() -> None:
    # A view cannot lose a column in place: drop and recreate it with its dependant.
    op.execute("DROP FUNCTION akhbar_search(text, integer)")
    op.execute("DROP VIEW v_articles")
    op.execute("CREATE VIEW v_articles AS" + _COLUMNS.format(extra=""))
    op.execute(
        """
CREATE FUNCTION akhbar_search(q text, max_rows integer DEFAULT 100) RETURNS SETOF v_articles
LANGUAGE sql STABLE PARALLEL SAFE AS $fn$
SELECT v.*
FROM articles a
JOIN v_articles v ON v.id = a.id
CROSS JOIN akhbar_search_query(q) AS query
WHERE a.search_vector @@ query
ORDER BY ts_rank_cd(a.search_vector, query, 32) DESC, a.published_at DESC NULLS LAST, a.id DESC
LIMIT max_rows
$fn$
"""
    )
