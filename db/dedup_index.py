"""The persisted dedup index: LSH keys of stored articles (``minhash_bands``), the learned
recurring text (``recurring_text``), and the lock that serialises the writers.

Only lookups and writes of those tables live here; ``db.article_store`` is the writer that
uses them (the decisions are ``akhbar.dedup.DedupEngine``'s).

Concurrency: every writer (crawl batches, imports, reprocess) takes ``INDEX_LOCK``
exclusively for its transaction (``lock_index``) before it reads anything it decides on.
Two crawlers storing copies of one story in two processes therefore decide one after the
other, the second seeing the first's committed rows; transactions stay short (one batch).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from akhbar import dedup
from akhbar.dedup import DEFAULT, Settings

# The whole-index lock, in the two-int advisory key space: ('akhb', 1).
INDEX_LOCK = (0x616B6862, 1)
_LOCK_INDEX = text("SELECT pg_advisory_xact_lock(:c, :o)")
# Stored articles sharing a band key or the content hash, oldest id first (ties between
# equally similar originals go to the one stored first). Keys go as one binary array.
# (A UNION, not an OR, so both lookups use their indexes rather than a scan of articles.)
CANDIDATES = (
    "SELECT id, minhash, content_hash, published_at FROM articles WHERE id IN ("
    "SELECT article_id FROM minhash_bands WHERE key = ANY(%b::bigint[]) "
    "UNION SELECT id FROM articles WHERE content_hash = ANY(%b::bytea[])) "
    "AND id <> %b ORDER BY id"
)
_READ_RECURRING = (
    "SELECT hash, contexts, recurring_since IS NOT NULL FROM recurring_text "
    "WHERE hash = ANY(%b::bigint[])"
)
_SAVE_RECURRING = text(
    """
    INSERT INTO recurring_text (hash, stories, contexts, recurring_since, text)
    SELECT h, s, c, CASE WHEN r THEN now() END, t
    FROM unnest(CAST(:h AS bigint[]), CAST(:s AS smallint[]), CAST(:c AS bytea[]),
                CAST(:r AS boolean[]), CAST(:t AS text[])) AS v(h, s, c, r, t)
    ON CONFLICT (hash) DO UPDATE SET
        stories = EXCLUDED.stories,
        contexts = EXCLUDED.contexts,
        recurring_since = COALESCE(recurring_text.recurring_since, EXCLUDED.recurring_since),
        text = COALESCE(recurring_text.text, EXCLUDED.text)
    """
)
PGCOPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
PGCOPY_TRAILER = struct.pack(">h", -1)
_BAND_ROW = np.dtype(
    [("fields", ">i2"), ("l1", ">i4"), ("key", ">i8"), ("l2", ">i4"), ("aid", ">i8")]
)
_RECURRING_ROW = np.dtype(
    [("fields", ">i2"), ("l1", ">i4"), ("hash", ">i8"), ("l2", ">i4"), ("stories", ">i2"),
     ("l3", ">i4"), ("contexts", "<u4", (dedup.CONTEXT_PERM,))]
)  # fmt: skip


def lsh_keys(sigs: np.ndarray, settings: Settings = DEFAULT) -> list[int]:
    """The persisted LSH keys of one or many signatures (one per band, the band number mixed
    into the hash, so a key is unique across bands), sorted and distinct."""
    return np.unique(dedup.band_hashes(sigs, settings)).tolist()


def _raw(session: Session):  # noqa: ANN202
    """The session's own psycopg connection (binary parameters, COPY)."""
    return session.connection().connection.driver_connection


def lock_index(session: Session) -> None:
    """Take the index lock exclusively until the transaction ends."""
    session.execute(_LOCK_INDEX, {"c": INDEX_LOCK[0], "o": INDEX_LOCK[1]})


def stored_candidates(
    session: Session,
    sigs: np.ndarray,
    hashes: Iterable[bytes],
    *,
    exclude: int = 0,
    settings: Settings = DEFAULT,
) -> list[dedup.Stored]:
    """Stored articles that can be the original of one of ``sigs`` (a shared band key) or
    ``hashes`` (the same content hash), oldest id first, except ``exclude``; one query."""
    rows = _raw(session).execute(CANDIDATES, (lsh_keys(sigs, settings), list(hashes), exclude))
    return [
        dedup.Stored(
            aid, None if mh is None else dedup.signature_from_bytes(mh), bytes(chash), published
        )
        for aid, mh, chash, published in rows
    ]


def read_recurring(session: Session, hashes: np.ndarray, state: dedup.RecurringText) -> None:
    """Load the ``recurring_text`` rows of ``hashes`` into ``state`` (one query)."""
    if not len(hashes):
        return
    for h, contexts, recurring in _raw(session).execute(
        _READ_RECURRING, (np.unique(hashes).tolist(),)
    ):
        stories = (
            dedup.stories_from_bytes(contexts)
            if contexts is not None
            else np.empty((0, dedup.CONTEXT_PERM), dtype=np.uint32)
        )
        state.load(h, stories, recurring)


def save_recurring(
    session: Session,
    state: dedup.RecurringText,
    texts: dict[int, str] | None = None,
    *,
    copy_new: bool = False,
) -> int:
    """Write the rows ``state`` changed; ``texts`` gives the text of the paragraphs that
    became recurring. One upsert; with ``copy_new`` (only under the exclusive index lock,
    when no other writer can add the same rows) new rows seen in one story go by COPY.
    Returns the number of rows written."""
    changes = state.take_changes()
    if not changes:
        return 0
    texts = texts or {}
    now = datetime.now(UTC)
    rows = [
        (
            h,
            state.stories_needed if stories is None else len(stories),
            None if stories is None else stories.astype("<u4").tobytes(),
            now if stories is None else None,
            texts.get(h) if stories is None else None,
        )
        for h, stories in changes
    ]
    if copy_new:
        single = [
            (h, stories)
            for h, stories in changes
            if h not in state.stored and stories is not None and len(stories) == 1
        ]
        done = {h for h, _ in single}
        rows = [row for row in rows if row[0] not in done]
        if single:
            with (
                _raw(session).cursor() as cur,
                cur.copy("COPY recurring_text (hash, stories, contexts) FROM STDIN BINARY") as copy,
            ):
                copy.write(_recurring_copy_payload(single))
    if rows:
        h, stories, contexts, since, paragraph = (list(c) for c in zip(*rows, strict=True))
        session.execute(
            _SAVE_RECURRING,
            {
                "h": h,
                "s": stories,
                "c": contexts,
                "r": [x is not None for x in since],
                "t": paragraph,
            },
        )
    return len(changes)


def _recurring_copy_payload(rows: list[tuple[int, np.ndarray]]) -> bytes:
    """Binary COPY payload for ``recurring_text (hash, stories, contexts)``: new paragraphs
    seen in one story (contexts as little-endian uint32, the ``stories_to_bytes`` format)."""
    out = np.empty(len(rows), dtype=_RECURRING_ROW)
    out["fields"], out["l1"], out["l2"], out["stories"] = 3, 8, 2, 1
    out["l3"] = 4 * dedup.CONTEXT_PERM
    out["hash"] = [h for h, _ in rows]
    out["contexts"] = np.concatenate([stories for _, stories in rows])
    out = out[np.argsort(out["hash"])]  # in key order: each index leaf visited once
    return PGCOPY_HEADER + out.tobytes() + PGCOPY_TRAILER


def add_bands(
    session: Session, article_ids: list[int], sigs: np.ndarray, settings: Settings = DEFAULT
) -> None:
    """Index stored articles: one ``minhash_bands`` row per band key, by binary COPY."""
    if not article_ids:
        return
    payload = bands_copy_payload(np.array(article_ids), dedup.band_hashes(sigs, settings))
    with (
        _raw(session).cursor() as cur,
        cur.copy("COPY minhash_bands (key, article_id) FROM STDIN BINARY") as copy,
    ):
        copy.write(payload)


def remove_bands(session: Session, article_ids: list[int]) -> None:
    """Un-index articles whose text is about to change (deletes need not: a trigger does)."""
    if article_ids:
        session.execute(
            text("DELETE FROM minhash_bands WHERE article_id = ANY(CAST(:a AS bigint[]))"),
            {"a": article_ids},
        )


def bands_copy_payload(article_ids: np.ndarray, hashes: np.ndarray) -> bytes:
    """Binary COPY payload for ``minhash_bands (key, article_id)``, in key order (each index
    leaf is then visited once per batch, not at random)."""
    n, b = hashes.shape
    rows = np.empty(n * b, dtype=_BAND_ROW)
    rows["fields"], rows["l1"], rows["l2"] = 2, 8, 8
    rows["key"] = hashes.reshape(-1)
    rows["aid"] = np.repeat(np.asarray(article_ids, dtype=np.int64), b)
    rows = rows[np.lexsort((rows["aid"], rows["key"]))]
    # A key twice in one article (two bands hashing alike) would repeat a primary key.
    same = (rows["key"][1:] == rows["key"][:-1]) & (rows["aid"][1:] == rows["aid"][:-1])
    rows = rows[np.concatenate(([True], ~same))]
    return PGCOPY_HEADER + rows.tobytes() + PGCOPY_TRAILER
