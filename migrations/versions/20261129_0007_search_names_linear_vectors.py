"""Search: names kept whole, search vectors in linear time with a cap, akhbar_search().

* ``akhbar_search_names`` (form, name): the protected names of akhbar/data/names.txt as
  ``akhbar.search.parse_names`` expands them (a frozen copy, in the .tsv next to this file,
  written from ``sorted(akhbar.search.NAME_FORMS.items())``; a later revision that changes
  the names writes its own copy).
  A word that is one of these forms after its proclitics is indexed as the name, and no
  suffix is stripped when a name would be left: «لبنان» no longer meets «لبن» (milk).
* ``akhbar_search_stem`` works word by word on the set of distinct words (0002's regexes
  over the whole text used lookbehind, which PostgreSQL evaluates from the start of the
  string: quadratic, 120 s for 120,000 words). Same rules as before otherwise.
* ``akhbar_search_tokens(doc, max_words)``: the capped normalised words that are indexed
  (the first 200,000 characters, words of at most 40 characters, the first max_words of
  them); ``akhbar_search_words`` their stems;
  ``akhbar_search_vector`` indexes at most 10,000 words, title first.
* ``akhbar_search_query(q)`` and ``akhbar_search(q)``: the analysts' entry point
  (docs/schema.md).
* Every stored ``search_vector`` is recomputed.

The functions read a table, so they are STABLE now (0002/0004 declared them IMMUTABLE);
nothing indexes an expression over them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 09:00:00

"""

from collections.abc import Sequence
from pathlib import Path

from alembic import op
from sqlalchemy import text

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAMES_FILE = Path(__file__).with_name("20261129_0007_search_names.tsv")

NAMES_TABLE = """
CREATE TABLE akhbar_search_names (
    form text NOT NULL,
    name text NOT NULL,
    CONSTRAINT pk_akhbar_search_names PRIMARY KEY (form)
)
"""

# Mirror of akhbar.search.stem_word, applied to each distinct word once:
# 1. a name: the shortest proclitic (NAME_PROCLITICS) that leaves a form of the table;
# 2. else the light stemmer of revision 0002, written with string functions, with ال
#    stripped once more after the article (normalised «الألعاب» is «العاب»), and a suffix
#    kept when stripping it would leave a name's form.
STEM_WORDS = r"""
CREATE FUNCTION akhbar_search_stem_words(words text[]) RETURNS text[]
LANGUAGE plpgsql STABLE PARALLEL SAFE RETURNS NULL ON NULL INPUT AS $fn$
BEGIN
RETURN (
WITH distinct_words AS MATERIALIZED (
    SELECT DISTINCT w FROM unnest(words) AS w
), named AS MATERIALIZED (
    SELECT DISTINCT ON (d.w) d.w, n.name
    FROM distinct_words d
    CROSS JOIN generate_series(0, 4) AS k
    JOIN akhbar_search_names n ON n.form = substr(d.w, k + 1)
    WHERE left(d.w, k) = ANY ('{"",ب,ف,ك,ل,و,ال,فب,فك,فل,لل,وب,وك,ول,بال,فال,فلل,كال,وال,ولل,فبال,فكال,وبال,وكال}'::text[])
    ORDER BY d.w, k
), s1 AS MATERIALIZED (
    SELECT w, CASE WHEN left(w, 1) IN ('و', 'ف') AND length(w) >= 4 THEN substr(w, 2) ELSE w END AS s
    FROM distinct_words
), s2 AS MATERIALIZED (
    SELECT w, CASE
        WHEN length(s) >= 6 AND left(s, 4) IN ('وبال', 'وكال', 'ولال', 'فبال', 'فكال', 'فلال')
            THEN substr(s, 5)
        WHEN length(s) >= 5 AND left(s, 3) IN ('وال', 'فال', 'بال', 'كال', 'لال', 'ولل', 'فلل')
            THEN substr(s, 4)
        WHEN length(s) >= 4 AND left(s, 2) IN ('ال', 'لل') THEN substr(s, 3)
        ELSE s END AS s
    FROM s1
), s2b AS MATERIALIZED (
    SELECT w, CASE WHEN left(s, 2) = 'ال' AND length(s) >= 4 THEN substr(s, 3) ELSE s END AS s
    FROM s2
), s3 AS MATERIALIZED (
    SELECT w, CASE WHEN left(s, 1) IN ('ب', 'ك', 'ل') AND length(s) >= 6 THEN substr(s, 2) ELSE s END AS s
    FROM s2b
), s4 AS MATERIALIZED (
    SELECT w, CASE WHEN left(s, 1) IN ('و', 'ف') AND length(s) >= 4 THEN substr(s, 2) ELSE s END AS s
    FROM s3
), c5 AS MATERIALIZED (
    SELECT w, s, CASE
        WHEN length(s) >= 4 AND right(s, 2) IN ('ها', 'ان', 'ات', 'ون', 'ين', 'يه') THEN left(s, -2)
        WHEN length(s) >= 3 AND right(s, 1) IN ('ه', 'ي') THEN left(s, -1)
        END AS cut
    FROM s4
), s5 AS MATERIALIZED (
    SELECT w, CASE WHEN cut IS NULL OR (SELECT true FROM akhbar_search_names WHERE form = cut) THEN s
                   ELSE cut END AS s
    FROM c5
), c6 AS MATERIALIZED (
    SELECT w, s, CASE
        WHEN length(s) >= 4 AND right(s, 2) IN ('ها', 'ان', 'ات', 'ون', 'ين', 'يه') THEN left(s, -2)
        WHEN length(s) >= 3 AND right(s, 1) IN ('ه', 'ي') THEN left(s, -1)
        END AS cut
    FROM s5
), stemmed AS MATERIALIZED (
    SELECT w, CASE WHEN cut IS NULL OR (SELECT true FROM akhbar_search_names WHERE form = cut) THEN s
                   ELSE cut END AS s
    FROM c6
)
SELECT coalesce(array_agg(coalesce(n.name, st.s) ORDER BY t.i), '{}')
FROM unnest(words) WITH ORDINALITY AS t(w, i)
LEFT JOIN named n ON n.w = t.w
LEFT JOIN stemmed st ON st.w = t.w
);
END
$fn$
"""

STEM = r"""
CREATE OR REPLACE FUNCTION akhbar_search_stem(doc text) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE RETURNS NULL ON NULL INPUT AS $fn$
BEGIN
RETURN array_to_string(akhbar_search_stem_words(string_to_array(doc, ' ')), ' ');
END
$fn$
"""

SEARCH_TEXT = """
CREATE OR REPLACE FUNCTION akhbar_search_text(doc text) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE RETURNS NULL ON NULL INPUT AS $fn$
BEGIN
RETURN akhbar_search_stem(akhbar_search_normalize(doc));
END
$fn$
"""

# The caps are akhbar.search.MAX_INDEXED_CHARS, MAX_WORD_CHARS and MAX_INDEXED_WORDS.
SEARCH_TOKENS = """
CREATE FUNCTION akhbar_search_tokens(doc text, max_words integer) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
SELECT ARRAY(
    SELECT w
    FROM unnest(string_to_array(akhbar_search_normalize(left(coalesce(doc, ''), 200000)), ' '))
         WITH ORDINALITY AS t(w, i)
    WHERE length(w) <= 40
    ORDER BY i
    LIMIT greatest(max_words, 0))
$fn$
"""

SEARCH_WORDS = """
CREATE FUNCTION akhbar_search_words(doc text, max_words integer) RETURNS text[]
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $fn$
BEGIN
RETURN akhbar_search_stem_words(akhbar_search_tokens(doc, max_words));
END
$fn$
"""

# Title and body are stemmed in one call (half the fixed cost of a call), then split.
SEARCH_VECTOR = """
CREATE OR REPLACE FUNCTION akhbar_search_vector(title text, body text) RETURNS tsvector
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $fn$
DECLARE
    title_words text[] := akhbar_search_tokens(title, 10000);
    n integer := cardinality(title_words);
    stems text[] := akhbar_search_stem_words(
        title_words || akhbar_search_tokens(body, 10000 - n));
BEGIN
    RETURN setweight(to_tsvector('simple'::regconfig, array_to_string(stems[1:n], ' ')), 'A')
        || setweight(to_tsvector('simple'::regconfig, array_to_string(stems[n + 1:], ' ')), 'B');
END
$fn$
"""

# The analysts' entry point (docs/schema.md): every word of q must match, in any form.
SEARCH_QUERY = """
CREATE FUNCTION akhbar_search_query(q text) RETURNS tsquery
LANGUAGE sql STABLE PARALLEL SAFE RETURNS NULL ON NULL INPUT AS $fn$
SELECT plainto_tsquery('simple'::regconfig, akhbar_search_text(q))
$fn$
"""

SEARCH = """
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

RECOMPUTE = "UPDATE articles SET search_vector = akhbar_search_vector(title, body)"

# Revision 0002's stemmer and 0002/0004's functions, for the downgrade.
STEM_0002 = r"""
CREATE OR REPLACE FUNCTION akhbar_search_stem(doc text) RETURNS text
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

SEARCH_TEXT_0002 = """
CREATE OR REPLACE FUNCTION akhbar_search_text(doc text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURNS NULL ON NULL INPUT AS $fn$
SELECT akhbar_search_stem(akhbar_search_normalize(doc))
$fn$
"""

SEARCH_VECTOR_0004 = """
CREATE OR REPLACE FUNCTION akhbar_search_vector(title text, body text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
SELECT setweight(to_tsvector('simple'::regconfig, akhbar_search_text(COALESCE(title, ''))), 'A')
    || setweight(to_tsvector('simple'::regconfig, akhbar_search_text(COALESCE(body, ''))), 'B')
$fn$
"""


def _names() -> list[dict[str, str]]:
    rows = []
    for line in NAMES_FILE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            form, name = line.split("\t")
            rows.append({"form": form, "name": name})
    return rows


def upgrade() -> None:
    op.execute(NAMES_TABLE)
    op.get_bind().execute(
        text("INSERT INTO akhbar_search_names (form, name) VALUES (:form, :name)"), _names()
    )
    op.execute(STEM_WORDS)
    op.execute(STEM)
    op.execute(SEARCH_TEXT)
    op.execute(SEARCH_TOKENS)
    op.execute(SEARCH_WORDS)
    op.execute(SEARCH_VECTOR)
    op.execute(SEARCH_QUERY)
    op.execute(SEARCH)
    op.execute(RECOMPUTE)


def downgrade() -> None:
    op.execute("DROP FUNCTION akhbar_search(text, integer)")
    op.execute("DROP FUNCTION akhbar_search_query(text)")
    op.execute(SEARCH_VECTOR_0004)
    op.execute("DROP FUNCTION akhbar_search_words(text, integer)")
    op.execute("DROP FUNCTION akhbar_search_tokens(text, integer)")
    op.execute(SEARCH_TEXT_0002)
    op.execute(STEM_0002)
    op.execute("DROP FUNCTION akhbar_search_stem_words(text[])")
    op.execute("DROP TABLE akhbar_search_names")
    op.execute(RECOMPUTE)
