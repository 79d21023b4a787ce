"""A leaner LSH index: ``minhash_bands (key, article_id)``, no per-row foreign key.

Measured at 1,000,000 stored articles (bench/dedup_scale.py, docs/dedup.md "Scale"): the
row-level foreign key (one primary-key probe and row lock on ``articles`` per band row, 32
per article) and the redundant ``band`` column made bulk inserts about three times slower
than the index itself needs. This revision:

* drops ``band``: the band number is already mixed into the hash (``akhbar.dedup.band_hashes``),
  so the hash alone is unique across bands; ``hash`` is renamed ``key``;
* replaces the primary key ``(band, hash, article_id)`` by ``(key, article_id)``;
* drops the foreign key and keeps its ``ON DELETE CASCADE`` behaviour with one
  statement-level trigger on ``articles`` (a transition table of the deleted rows), so a
  deletion of any size, by any writer, including cascades from ``sources``, removes the
  bands in one statement that uses ``ix_minhash_bands_article_id``.

Existing rows keep their values (``hash`` becomes ``key``); nothing is recomputed.
Downgrade recomputes the band numbers from ``articles.minhash`` with the current
``akhbar.dedup`` settings.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 13:40:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DROP_BANDS_FUNCTION = """
CREATE FUNCTION akhbar_drop_minhash_bands() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM minhash_bands b USING deleted_articles d WHERE b.article_id = d.id;
    RETURN NULL;
END
$fn$
"""

DROP_BANDS_TRIGGER = """
CREATE TRIGGER articles_drop_minhash_bands
AFTER DELETE ON articles
REFERENCING OLD TABLE AS deleted_articles
FOR EACH STATEMENT EXECUTE FUNCTION akhbar_drop_minhash_bands()
"""


def upgrade() -> None:
    op.drop_constraint("fk_minhash_bands_article_id_articles", "minhash_bands", type_="foreignkey")
    op.drop_constraint("pk_minhash_bands", "minhash_bands", type_="primary")
    op.drop_column("minhash_bands", "band")
    op.alter_column("minhash_bands", "hash", new_column_name="key")
    op.create_primary_key("pk_minhash_bands", "minhash_bands", ["key", "article_id"])
    op.execute(DROP_BANDS_FUNCTION)
    op.execute(DROP_BANDS_TRIGGER)


def downgrade() -> None:
    import numpy as np

    from akhbar import dedup

    op.execute("DROP TRIGGER articles_drop_minhash_bands ON articles")
    op.execute("DROP FUNCTION akhbar_drop_minhash_bands()")
    op.drop_constraint("pk_minhash_bands", "minhash_bands", type_="primary")
    op.alter_column("minhash_bands", "key", new_column_name="hash")
    op.add_column("minhash_bands", sa.Column("band", sa.SmallInteger(), nullable=True))
    # The band of each key, recomputed from the stored signatures in batches.
    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(
            sa.text(
                "SELECT id, minhash FROM articles WHERE id > :last AND minhash IS NOT NULL "
                "ORDER BY id LIMIT 5000"
            ),
            {"last": last},
        ).all()
        if not rows:
            break
        last = rows[-1][0]
        sigs = np.stack([dedup.signature_from_bytes(mh) for _, mh in rows])
        hashes = dedup.band_hashes(sigs)
        conn.execute(
            sa.text(
                "UPDATE minhash_bands b SET band = k.band FROM unnest(CAST(:ids AS bigint[]), "
                "CAST(:bands AS smallint[]), CAST(:hashes AS bigint[])) AS k(id, band, hash) "
                "WHERE b.article_id = k.id AND b.hash = k.hash"
            ),
            {
                "ids": np.repeat([r[0] for r in rows], hashes.shape[1]).tolist(),
                "bands": np.tile(np.arange(hashes.shape[1]), len(rows)).tolist(),
                "hashes": hashes.reshape(-1).tolist(),
            },
        )
    op.execute("DELETE FROM minhash_bands WHERE band IS NULL")  # keys of other settings
    op.alter_column("minhash_bands", "band", nullable=False)
    op.create_primary_key("pk_minhash_bands", "minhash_bands", ["band", "hash", "article_id"])
    op.execute(
        "DELETE FROM minhash_bands b WHERE NOT EXISTS (SELECT 1 FROM articles a "
        "WHERE a.id = b.article_id)"
    )
    op.create_foreign_key(
        "fk_minhash_bands_article_id_articles",
        "minhash_bands",
        "articles",
        ["article_id"],
        ["id"],
        ondelete="CASCADE",
    )
