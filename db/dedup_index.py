"""The persisted LSH index: band keys of stored articles in ``minhash_bands``.

Protocol for storing one article without racing another process that stores a copy of
the same story (all in one transaction, READ COMMITTED is enough):

1. ``lock_bands``: ``pg_advisory_xact_lock`` on every band key of the signature, in sorted
   order (two copies that could match share at least one band key, so the second waits for
   the first to commit; sorted, so two transactions never wait on each other in a cycle);
2. exact check on ``articles.content_hash``, then ``find_candidates`` and
   ``akhbar.dedup.decide`` (each statement sees rows committed before the lock was granted);
3. insert the article and ``add_bands``, or record the duplicate; commit releases the locks.

``store_with_dedup`` is that routine; the storage pipeline may call the three pieces itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from akhbar import dedup
from akhbar.dedup import DEFAULT, Decision, Settings

_FIND = text(
    """
    SELECT a.id, a.minhash
    FROM articles a
    WHERE a.id IN (
        SELECT b.article_id
        FROM unnest(CAST(:bands AS smallint[]), CAST(:hashes AS bigint[])) AS k(band, hash)
        JOIN minhash_bands b ON b.band = k.band AND b.hash = k.hash
    )
    ORDER BY a.id
    """
)
# unnest WITH ORDINALITY yields the (sorted) array in order, so the locks are taken in order.
_LOCK = text(
    "SELECT count(pg_advisory_xact_lock(t.k)) "
    "FROM unnest(CAST(:keys AS bigint[])) WITH ORDINALITY AS t(k, i)"
)
_ADD = text(
    """
    INSERT INTO minhash_bands (band, hash, article_id)
    SELECT k.band, k.hash, :article_id
    FROM unnest(CAST(:bands AS smallint[]), CAST(:hashes AS bigint[])) AS k(band, hash)
    """
)


def _params(sig: np.ndarray, settings: Settings) -> dict[str, list[int]]:
    hashes = dedup.band_hashes(sig, settings)[0].tolist()
    return {"bands": list(range(len(hashes))), "hashes": hashes}


def find_candidates(
    session: Session, sig: np.ndarray, settings: Settings = DEFAULT
) -> list[tuple[int, np.ndarray]]:
    """Stored articles sharing at least one band key with ``sig``, with their signatures,
    oldest id first (one query on the ``minhash_bands`` primary key)."""
    rows = session.execute(_FIND, _params(sig, settings)).all()
    return [(aid, dedup.signature_from_bytes(mh)) for aid, mh in rows if mh is not None]


def lock_bands(session: Session, sig: np.ndarray, settings: Settings = DEFAULT) -> None:
    """Take a transaction-scoped advisory lock on every band key of ``sig``, in sorted order."""
    keys = sorted(set(dedup.band_hashes(sig, settings)[0].tolist()))
    session.execute(_LOCK, {"keys": keys})


def add_bands(
    session: Session, article_id: int, sig: np.ndarray, settings: Settings = DEFAULT
) -> None:
    """Index a stored article: one ``minhash_bands`` row per band."""
    session.execute(_ADD, {"article_id": article_id, **_params(sig, settings)})


@dataclass(frozen=True, slots=True)
class StoreResult:
    article_id: int | None  # the new article's id when it was stored
    decision: Decision
    # A copy published earlier than the stored representative (a later-arriving earlier
    # original): the caller may swap them; see akhbar.dedup.should_replace.
    replace_stored: bool = False


def store_with_dedup(
    session: Session,
    values: dict[str, Any],
    *,
    sig: np.ndarray | None = None,
    settings: Settings = DEFAULT,
) -> StoreResult:
    """Store an article unless it copies a stored one; record copies in ``duplicates``.

    ``values`` holds ``articles`` columns (``source_id``, ``url``, ``canonical_url``, ``body``,
    ``fetched_at``, optional others); ``content_hash`` and ``minhash`` are computed here
    (``sig`` may be passed when already computed). Runs inside the caller's transaction;
    the locks are held until the caller commits.
    """
    body = values["body"]
    if sig is None:
        sig = dedup.signature(body, settings)
    chash = dedup.content_hash(body)
    lock_bands(session, sig, settings)
    exact = session.execute(
        text("SELECT id FROM articles WHERE content_hash = :h"), {"h": chash}
    ).scalar()
    if exact is not None:
        decision = Decision(exact, 1.0, "exact")
    else:
        decision = dedup.decide(sig, find_candidates(session, sig, settings), settings.threshold)
    if decision.duplicate_of is not None:
        stored_published: datetime | None = session.execute(
            text("SELECT published_at FROM articles WHERE id = :id"), {"id": decision.duplicate_of}
        ).scalar()
        session.execute(
            text(
                "INSERT INTO duplicates (url, source_id, duplicate_of, kind, similarity, title, "
                "published_at, crawl_run_id) VALUES (:url, :source_id, :dup, :kind, :sim, "
                ":title, :published_at, :crawl_run_id) ON CONFLICT (url) DO NOTHING"
            ),
            {
                "url": values["url"],
                "source_id": values["source_id"],
                "dup": decision.duplicate_of,
                "kind": decision.kind,
                "sim": decision.similarity,
                "title": values.get("title"),
                "published_at": values.get("published_at"),
                "crawl_run_id": values.get("crawl_run_id"),
            },
        )
        replace = dedup.should_replace(values.get("published_at"), stored_published)
        return StoreResult(None, decision, replace)
    columns = {
        **values,
        "content_hash": chash,
        "minhash": dedup.signature_to_bytes(sig),
        "word_count": values.get("word_count", len(body.split())),
    }
    names = ", ".join(columns)
    marks = ", ".join(f":{c}" for c in columns)
    article_id = session.execute(
        text(f"INSERT INTO articles ({names}) VALUES ({marks}) RETURNING id"), columns
    ).scalar_one()
    add_bands(session, article_id, sig, settings)
    return StoreResult(article_id, decision)
