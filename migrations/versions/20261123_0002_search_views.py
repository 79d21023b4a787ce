"""Downstream access: Arabic full-text search column, reporting views.

* SQL functions that normalise Arabic text and strip clitics and common suffixes (a light
  stemmer), mirrored in Python by ``akhbar.search.search_text`` (a test keeps them equal).
* ``articles.search_vector``: a stored generated column (title weight A, body weight B) over
  that text with the ``simple`` configuration, so the database keeps it current for every
  writer (crawler, reprocess, manual SQL); a GIN index on it.
* Views ``v_articles``, ``v_syndication``, ``v_daily_counts`` (documented in docs/schema.md).

The SQL here is frozen on purpose: later changes go in new revisions, not in shared code.
Changing a search function later needs ``UPDATE articles SET body = body`` (or a column
re-create) because stored generated values are not recomputed by themselves.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 12:10:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Same steps as akhbar.normalize.normalize_arabic, with "word characters" spelled out as
# Latin letters, digits and Arabic letters (regex classes depend on the server's locale).
NORMALIZE = r"""
CREATE FUNCTION akhbar_search_normalize(doc text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURNS NULL ON NULL INPUT AS $fn$
SELECT btrim(regexp_replace(lower(regexp_replace(translate(
    regexp_replace(normalize(doc, NFKC),
        '[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]', '', 'g'),
    'أإآٱىئؤةکی٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹',
    'ااااييوهكي01234567890123456789'),
  '[^0-9a-zA-Z\u00c0-\u024f\u0621-\u063a\u0641-\u064a\u066e-\u06d3\u06fa-\u06ff]+', ' ', 'g')),
  '\s+', ' ', 'g'))
$fn$
"""

# Light stemming of normalised text, word by word: conjunction و/ف, the article forms
# (وال فال بال كال لل ...), prepositions ب/ك/ل before a 5-letter rest (لبنان stays), و/ف again (so الوزير, وزير, والوزير
# agree), then the longest of a few suffixes, twice. Minimum stem lengths keep short words.
STEM = r"""
CREATE FUNCTION akhbar_search_stem(doc text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURNS NULL ON NULL INPUT AS $fn$
SELECT btrim(
  regexp_replace(regexp_replace(
    regexp_replace(regexp_replace(regexp_replace(regexp_replace(' ' || doc || ' ',
      ' [وف](?=[^ ]{3})', ' ', 'g'),
      ' (?:[وف]?[بكل]?ال|[وف]?لل)(?=[^ ]{2})', ' ', 'g'),
      ' [بكل](?=[^ ]{5})', ' ', 'g'),
      ' [وف](?=[^ ]{3})', ' ', 'g'),
    '(?<=[^ ]{2})(ها|ان|ات|ون|ين|يه|ه|ي) ', ' ', 'g'),
    '(?<=[^ ]{2})(ها|ان|ات|ون|ين|يه|ه|ي) ', ' ', 'g'))
$fn$
"""

SEARCH_TEXT = """
CREATE FUNCTION akhbar_search_text(doc text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURNS NULL ON NULL INPUT AS $fn$
SELECT akhbar_search_stem(akhbar_search_normalize(doc))
$fn$
"""

# Kept identical to db.models.SEARCH_VECTOR_SQL (the models test compares them).
SEARCH_VECTOR_SQL = (
    "setweight(to_tsvector('simple'::regconfig, akhbar_search_text(COALESCE(title, ''::text))), 'A'::\"char\")"
    " || setweight(to_tsvector('simple'::regconfig, akhbar_search_text(body)), 'B'::\"char\")"
)

V_ARTICLES = """
CREATE VIEW v_articles AS
SELECT a.id, s.name AS source, s.title AS source_title, a.url, a.canonical_url, a.title,
       a.body, a.published_at, a.author, a.section, a.language, a.word_count,
       a.fetched_at, a.first_seen_at, a.updated_at, a.crawl_run_id, a.extractor_version
FROM articles a JOIN sources s ON s.id = a.source_id
"""

V_SYNDICATION = """
CREATE VIEW v_syndication AS
SELECT a.id AS article_id, sa.name AS article_source, a.url AS article_url,
       a.title AS article_title, a.published_at AS article_published_at,
       'original'::varchar(8) AS kind, sa.name AS source, a.url AS url,
       1.0::double precision AS similarity, a.published_at AS published_at,
       a.first_seen_at AS seen_at
FROM articles a JOIN sources sa ON sa.id = a.source_id
UNION ALL
SELECT a.id, sa.name, a.url, a.title, a.published_at,
       d.kind, sd.name, d.url, d.similarity, d.published_at, d.seen_at
FROM duplicates d
JOIN articles a ON a.id = d.duplicate_of
JOIN sources sa ON sa.id = a.source_id
JOIN sources sd ON sd.id = d.source_id
"""

V_DAILY_COUNTS = """
CREATE VIEW v_daily_counts AS
WITH a AS (
    SELECT source_id, (COALESCE(published_at, first_seen_at) AT TIME ZONE 'UTC')::date AS day,
           count(*) AS articles, sum(word_count)::bigint AS words
    FROM articles GROUP BY 1, 2
), d AS (
    SELECT source_id, (COALESCE(published_at, seen_at) AT TIME ZONE 'UTC')::date AS day,
           count(*) AS duplicates
    FROM duplicates GROUP BY 1, 2
)
SELECT s.name AS source, COALESCE(a.day, d.day) AS day,
       COALESCE(a.articles, 0) AS articles, COALESCE(d.duplicates, 0) AS duplicates,
       COALESCE(a.words, 0) AS words
FROM a FULL JOIN d ON d.source_id = a.source_id AND d.day = a.day
JOIN sources s ON s.id = COALESCE(a.source_id, d.source_id)
"""


def upgrade() -> None:
    op.execute(NORMALIZE)
    op.execute(STEM)
    op.execute(SEARCH_TEXT)
    op.add_column(
        "articles",
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed(SEARCH_VECTOR_SQL, persisted=True),
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
    op.execute(V_ARTICLES)
    op.execute(V_SYNDICATION)
    op.execute(V_DAILY_COUNTS)


def downgrade() -> None:
    op.execute("DROP VIEW v_daily_counts")
    op.execute("DROP VIEW v_syndication")
    op.execute("DROP VIEW v_articles")
    op.drop_index("ix_articles_search_vector", table_name="articles", postgresql_using="gin")
    op.drop_column("articles", "search_vector")
    op.execute("DROP FUNCTION akhbar_search_text(text)")
    op.execute("DROP FUNCTION akhbar_search_stem(text)")
    op.execute("DROP FUNCTION akhbar_search_normalize(text)")
