"""The LSH index persisted in PostgreSQL (provisional; refined on wt-dedup).

Two crawler processes storing copies of one story at the same moment must not both store
it: each takes a transaction-scoped advisory lock on every band key of its signature, in
sorted order (no deadlocks), before looking for candidates. Copies similar enough to be
found share at least one band, so they serialise on that lock.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from akhbar import dedup


def _lock_key(band: int, band_hash: int) -> int:
    # Fold (band, hash) into one signed 64-bit advisory-lock key.
    key = (band_hash ^ (band * 0x9E3779B97F4A7C15)) & 0xFFFFFFFFFFFFFFFF
    return key - (1 << 64) if key >= 1 << 63 else key


def lock_bands(session: Session, sig: np.ndarray) -> None:
    keys = sorted({_lock_key(b, h) for b, h in dedup.band_keys(sig)})
    session.execute(
        text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k"),
        {"keys": keys},
    )


def find_candidates(session: Session, sig: np.ndarray) -> list[tuple[int, np.ndarray]]:
    keys = dedup.band_keys(sig)
    rows = session.execute(
        text(
            "SELECT DISTINCT a.id, a.minhash FROM minhash_bands b JOIN articles a ON a.id = b.article_id "
            "WHERE (b.band, b.hash) IN (SELECT * FROM unnest(CAST(:bands AS smallint[]), CAST(:hashes AS bigint[])))"
        ),
        {"bands": [k[0] for k in keys], "hashes": [k[1] for k in keys]},
    )
    return [(row[0], dedup.signature_from_bytes(row[1])) for row in rows if row[1] is not None]


def add_bands(session: Session, article_id: int, sig: np.ndarray) -> None:
    keys = dedup.band_keys(sig)
    session.execute(
        text(
            "INSERT INTO minhash_bands (band, hash, article_id) "
            "SELECT b, h, :aid FROM unnest(CAST(:bands AS smallint[]), CAST(:hashes AS bigint[])) AS t(b, h) "
            "ON CONFLICT DO NOTHING"
        ),
        {"aid": article_id, "bands": [k[0] for k in keys], "hashes": [k[1] for k in keys]},
    )
