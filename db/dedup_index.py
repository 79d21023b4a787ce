"""The persisted LSH index: band keys of stored articles in ``minhash_bands``.

Protocol for storing one article without racing another process that stores a copy of
the same story (all in one transaction, READ COMMITTED is enough):

1. ``prepare``: a shared advisory lock on the whole index (so a bulk ``store_batch`` waits
   for in-flight single stores and they wait for it) and ``pg_advisory_xact_lock`` on the
   hash of every tracked paragraph, sorted, in one statement; then the paragraphs' rows of
   ``recurring_text`` are read and the article is counted (``akhbar.dedup.RecurringText``),
   which gives the signature to decide with (without recurring paragraphs);
2. ``lock_bands``: ``pg_advisory_xact_lock`` on every band key of that signature, in sorted
   order (two copies that could match share at least one band key, so the second waits for
   the first to commit; sorted, and always after the paragraph locks, so two transactions
   never wait on each other in a cycle); one statement;
3. exact check on ``articles.content_hash``, then ``find_candidates`` and
   ``akhbar.dedup.decide`` (each statement sees rows committed before the lock was granted);
4. save the changed ``recurring_text`` rows; insert the article and ``add_bands``, or record
   the duplicate; commit releases the locks.

``store_with_dedup`` is that routine (``db.store`` calls ``prepare`` first itself, to check
the URL under the locks).
``store_batch`` stores many articles at once (bulk imports, backfills): it takes the index
lock exclusively, reads the recurring-text rows of all its paragraphs in one query, decides
every article in memory against one lookup of all their band keys, and writes with COPY.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
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
        SELECT b.article_id FROM minhash_bands b WHERE b.key = ANY(CAST(:keys AS bigint[]))
    )
    ORDER BY a.id
    """
)
_FIND_MANY = (
    "SELECT b.key, a.id, a.minhash, a.published_at FROM minhash_bands b "
    "JOIN articles a ON a.id = b.article_id "
    "WHERE b.key = ANY(%b::bigint[]) AND a.minhash IS NOT NULL ORDER BY a.id"
)
# The whole-index lock, in the two-int advisory key space (distinct from the one-bigint
# space of band keys): ('akhb', 1).
INDEX_LOCK = (0x616B6862, 1)
# unnest WITH ORDINALITY yields the array in order: the index lock (shared) first, then
# the sorted band keys, so every transaction takes its locks in the same order.
_LOCK = text(
    "SELECT count(CASE WHEN t.i = 1 THEN pg_advisory_xact_lock_shared(:c, :o) "
    "ELSE pg_advisory_xact_lock(t.k) END) "
    "FROM unnest(CAST(:keys AS bigint[])) WITH ORDINALITY AS t(k, i)"
)
_RECORD_DUPLICATE = text(
    "INSERT INTO duplicates (url, source_id, duplicate_of, kind, similarity, title, "
    "published_at, crawl_run_id) VALUES (:url, :source_id, :dup, :kind, :sim, "
    ":title, :published_at, :crawl_run_id) ON CONFLICT (url) DO NOTHING"
)
_LOCK_ALL = text("SELECT pg_advisory_xact_lock(:c, :o)")
_ADD = text(
    "INSERT INTO minhash_bands (key, article_id) "
    "SELECT k, :article_id FROM unnest(CAST(:keys AS bigint[])) AS k ON CONFLICT DO NOTHING"
)
PGCOPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
PGCOPY_TRAILER = struct.pack(">h", -1)
_BAND_ROW = np.dtype(
    [("fields", ">i2"), ("l1", ">i4"), ("key", ">i8"), ("l2", ">i4"), ("aid", ">i8")]
)


_LOCK_PARAGRAPHS = text(
    "SELECT count(CASE WHEN t.i = 1 THEN pg_advisory_xact_lock_shared(:c, :o) "
    "ELSE pg_advisory_xact_lock(t.k) END) "
    "FROM unnest(CAST(:keys AS bigint[])) WITH ORDINALITY AS t(k, i)"
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


def band_keys(sig: np.ndarray, settings: Settings = DEFAULT) -> list[int]:
    """The signature's LSH keys (one per band, band number mixed in), sorted, distinct."""
    return sorted(set(dedup.band_hashes(sig, settings)[0].tolist()))


def _mark(column: str) -> str:
    """A bind marker for ``column``; a search vector is sent as tsvector text."""
    return f"CAST(:{column} AS tsvector)" if column == "search_vector" else f":{column}"


def find_candidates(
    session: Session, sig: np.ndarray, settings: Settings = DEFAULT
) -> list[tuple[int, np.ndarray]]:
    """Stored articles sharing at least one band key with ``sig``, with their signatures,
    oldest id first (one query on the ``minhash_bands`` primary key)."""
    rows = session.execute(_FIND, {"keys": band_keys(sig, settings)}).all()
    return [(aid, dedup.signature_from_bytes(mh)) for aid, mh in rows if mh is not None]


def lock_bands(session: Session, sig: np.ndarray, settings: Settings = DEFAULT) -> None:
    """Take the index lock (shared) and a transaction-scoped advisory lock on every band
    key of ``sig``, in sorted order, in one statement."""
    keys = [0, *band_keys(sig, settings)]  # the first element stands for the index lock
    session.execute(_LOCK, {"keys": keys, "c": INDEX_LOCK[0], "o": INDEX_LOCK[1]})


def read_recurring(session: Session, hashes: np.ndarray, state: dedup.RecurringText) -> None:
    """Load the ``recurring_text`` rows of ``hashes`` into ``state`` (one query, the hashes
    sent as one binary array)."""
    if not len(hashes):
        return
    raw = session.connection().connection.driver_connection
    for h, contexts, recurring in raw.execute(_READ_RECURRING, (np.unique(hashes).tolist(),)):
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
    when no other writer can add the same rows) new rows go by COPY, as most of a bulk
    load's rows are new. Returns the number of rows written."""
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
        # New rows with one story (nearly all of a bulk load's) go by binary COPY, built as
        # one numpy array; the others (recurring, several stories) by the upsert below.
        single = [
            (h, stories)
            for h, stories in changes
            if h not in state.stored and stories is not None and len(stories) == 1
        ]
        done = {h for h, _ in single}
        rows = [row for row in rows if row[0] not in done]
        if single:
            raw = session.connection().connection.driver_connection
            with (
                raw.cursor() as cur,
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


_RECURRING_ROW = np.dtype(
    [("fields", ">i2"), ("l1", ">i4"), ("hash", ">i8"), ("l2", ">i4"), ("stories", ">i2"),
     ("l3", ">i4"), ("contexts", "<u4", (dedup.CONTEXT_PERM,))]
)  # fmt: skip


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


@dataclass(frozen=True, slots=True)
class Prepared:
    """An article counted and locked for its decision (see ``prepare``)."""

    sig: np.ndarray  # the signature to decide with: the text without recurring paragraphs
    state: dedup.RecurringText  # its paragraphs' rows, counted, to save with the decision
    texts: dict[int, str]  # texts of paragraphs that became recurring with this article


def prepare(
    session: Session,
    body: str,
    sig: np.ndarray | None = None,
    *,
    found: dedup.Paragraphs | None = None,
    settings: Settings = DEFAULT,
) -> Prepared:
    """Steps 1 and 2 of the protocol: lock and count the article's paragraphs, compute the
    signature it is decided with, lock that signature's band keys. ``sig`` is the whole
    body's signature when already computed."""
    state = dedup.RecurringText(settings.recurring)
    texts: dict[int, str] = {}
    if settings.recurring:
        if found is None:
            found = dedup.paragraphs(body)
        hashes = sorted(set(found.hashes.tolist()))
        session.execute(
            _LOCK_PARAGRAPHS, {"keys": [0, *hashes], "c": INDEX_LOCK[0], "o": INDEX_LOCK[1]}
        )
        read_recurring(session, found.hashes, state)
        recurring = state.observe(found)
        if state.last_new:
            texts = dedup.paragraph_texts(body, state.last_new)
        sig = dedup.residual_signature(body, recurring, sig, settings)
    elif sig is None:
        sig = dedup.signature(body, settings)
    lock_bands(session, sig, settings)
    return Prepared(sig, state, texts)


def add_bands(
    session: Session, article_id: int, sig: np.ndarray, settings: Settings = DEFAULT
) -> None:
    """Index a stored article: one ``minhash_bands`` row per band key."""
    session.execute(_ADD, {"article_id": article_id, "keys": band_keys(sig, settings)})


def remove_bands(session: Session, article_id: int) -> None:
    """Un-index an article whose text is about to change (deletes need not: a trigger does)."""
    session.execute(text("DELETE FROM minhash_bands WHERE article_id = :a"), {"a": article_id})


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


@dataclass(frozen=True, slots=True)
class StoreResult:
    article_id: int | None  # the new article's id when it was stored
    decision: Decision
    # A copy published earlier than the stored representative (a later-arriving earlier
    # original): the caller may swap them; see akhbar.dedup.should_replace.
    replace_stored: bool = False
    # The signature the article was decided with (its text without recurring paragraphs):
    # the one to store if it takes a row over (swap_representative).
    signature: np.ndarray | None = None


def store_with_dedup(
    session: Session,
    values: dict[str, Any],
    *,
    sig: np.ndarray | None = None,
    prepared: Prepared | None = None,
    settings: Settings = DEFAULT,
) -> StoreResult:
    """Store an article unless it copies a stored one; record copies in ``duplicates``.

    ``values`` holds ``articles`` columns (``source_id``, ``url``, ``canonical_url``, ``body``,
    ``fetched_at``, optional others, among them ``search_vector`` as tsvector text from
    ``akhbar.search.search_vector``, else the database computes it); ``content_hash`` (unless
    given) and ``minhash`` are computed here (``sig``, the whole body's signature, may be
    passed when already computed; ``prepared`` when ``prepare`` was called already). Runs
    inside the caller's transaction; the locks are held until the caller commits.
    """
    body = values["body"]
    if prepared is None:
        prepared = prepare(session, body, sig, settings=settings)
    sig = prepared.sig
    chash = values.get("content_hash") or dedup.content_hash(body)
    exact = session.execute(
        text("SELECT id FROM articles WHERE content_hash = :h"), {"h": chash}
    ).scalar()
    if exact is not None:
        decision = Decision(exact, 1.0, "exact")
    else:
        decision = dedup.decide(
            sig, find_candidates(session, sig, settings), settings.threshold, settings.min_shingles
        )
    save_recurring(session, prepared.state, prepared.texts)
    if decision.duplicate_of is not None:
        stored_published: datetime | None = session.execute(
            text("SELECT published_at FROM articles WHERE id = :id"), {"id": decision.duplicate_of}
        ).scalar()
        session.execute(
            _RECORD_DUPLICATE,
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
        return StoreResult(None, decision, replace, sig)
    columns = {
        **values,
        "content_hash": chash,
        "minhash": dedup.signature_to_bytes(sig),
        "word_count": values.get("word_count", len(body.split())),
    }
    names = ", ".join(columns)
    marks = ", ".join(_mark(c) for c in columns)
    article_id = session.execute(
        text(f"INSERT INTO articles ({names}) VALUES ({marks}) RETURNING id"), columns
    ).scalar_one()
    add_bands(session, article_id, sig, settings)
    return StoreResult(article_id, decision, signature=sig)


def swap_representative(
    session: Session,
    stored_id: int,
    values: dict[str, Any],
    *,
    sig: np.ndarray,
    settings: Settings = DEFAULT,
) -> None:
    """A later-arriving earlier original takes over article ``stored_id`` in place (the id
    downstream teams hold stays valid): the row gets ``values`` (the new copy's columns) and
    its fingerprints, and the page stored until now becomes the ``duplicates`` row that was
    just recorded under the new copy's URL. Call it after ``store_with_dedup`` or
    ``store_batch`` flagged ``replace_stored``, in the same transaction."""
    old = session.execute(
        text(
            "SELECT url, source_id, title, published_at, crawl_run_id FROM articles "
            "WHERE id = :id FOR UPDATE"
        ),
        {"id": stored_id},
    ).one()
    session.execute(
        text(
            "UPDATE duplicates SET url = :old_url, source_id = :source_id, title = :title, "
            "published_at = :published_at, crawl_run_id = :crawl_run_id WHERE url = :new_url"
        ),
        {"old_url": old.url, "new_url": values["url"], **old._mapping},
    )
    columns = {
        **values,
        "content_hash": values.get("content_hash") or dedup.content_hash(values["body"]),
        "minhash": dedup.signature_to_bytes(sig),
        "word_count": values.get("word_count", len(values["body"].split())),
    }
    assignments = ", ".join(f"{name} = {_mark(name)}" for name in columns)
    session.execute(
        text(f"UPDATE articles SET {assignments}, updated_at = now() WHERE id = :stored_id"),
        {**columns, "stored_id": stored_id},
    )
    remove_bands(session, stored_id)
    add_bands(session, stored_id, sig, settings)


def _ordered(batch: Sequence[dict[str, Any]]) -> list[int]:
    """Decision order: earliest published first, undated last, then input order; so within a
    batch the kept copy is the one the single-article rule would keep in the end."""
    never = datetime.max.replace(tzinfo=UTC)
    return sorted(range(len(batch)), key=lambda i: (batch[i].get("published_at") or never, i))


def _age(member_id: Any, kept_at: dict[tuple[str, int], int]) -> tuple[int, int]:
    if isinstance(member_id, tuple):
        return (1, kept_at[member_id])
    return (0, member_id)


def _count_recurring(
    session: Session,
    batch: Sequence[dict[str, Any]],
    bodies: list[str],
    sigs: np.ndarray,
    paragraphs: Sequence[dedup.Paragraphs] | None,
    stored_urls: dict[str, int],
    settings: Settings,
) -> tuple[dedup.RecurringText, dict[int, str]]:
    """Count the batch's paragraphs in decision order, as one-by-one storing would (one
    query for all their rows), and replace ``sigs`` rows by the signature without recurring
    paragraphs where an article has some. Decisions do not change what is counted, so this
    runs before them and the band lookup uses the final signatures."""
    state = dedup.RecurringText(settings.recurring)
    texts: dict[int, str] = {}
    if not settings.recurring:
        return state, texts
    found = list(paragraphs) if paragraphs is not None else [dedup.paragraphs(b) for b in bodies]
    all_hashes = [f.hashes for f in found]
    read_recurring(session, np.concatenate(all_hashes) if all_hashes else np.empty(0), state)
    seen_urls: set[str] = set()
    for i in _ordered(batch):
        urls = (batch[i]["url"], batch[i]["canonical_url"])
        if any(u in stored_urls or u in seen_urls for u in urls):
            continue  # a URL repeat is not counted (nor decided on its text)
        seen_urls.update(urls)
        recurring = state.observe(found[i])
        if state.last_new:
            texts.update(dedup.paragraph_texts(bodies[i], state.last_new))
        if recurring:
            sigs[i] = dedup.residual_signature(bodies[i], recurring, None, settings)
    return state, texts


def store_batch(
    session: Session,
    batch: Sequence[dict[str, Any]],
    *,
    sigs: np.ndarray | None = None,
    paragraphs: Sequence[dedup.Paragraphs] | None = None,
    settings: Settings = DEFAULT,
) -> list[StoreResult]:
    """Store many articles in the caller's transaction with a few statements in all.

    Each item is what ``store_with_dedup`` takes (every item with the same columns). The
    decisions are those of calling ``store_with_dedup`` on the items in order of
    publication, plus a URL check: an item whose ``url`` or ``canonical_url`` is stored (or
    repeated in the batch) gets kind ``url`` and is not recorded. Copies are recorded in
    ``duplicates``; ``replace_stored`` flags an item published before the stored article it
    copies (the caller may swap them, as ``db.store`` does). Results are in input order.
    ``sigs`` (whole bodies) and ``paragraphs`` (``akhbar.dedup.paragraphs``) may be passed
    when already computed. Recurring text is counted as one-by-one storing counts it, in the
    same order (items whose URL is stored or repeated in the batch are not counted).

    Runs under the exclusive index lock, so single-article stores wait for the batch to
    commit and the batch for them. The caller commits.
    """
    n = len(batch)
    if n == 0:
        return []
    columns = list(batch[0])
    if any(set(item) != set(columns) for item in batch):
        raise ValueError("store_batch: every article of a batch needs the same columns")
    bodies = [item["body"] for item in batch]
    if sigs is None:
        sigs = np.stack([dedup.signature(body, settings) for body in bodies])
    sigs = np.array(sigs, dtype=np.uint32)  # a copy: rows change where text recurs
    chashes = [item.get("content_hash") or dedup.content_hash(item["body"]) for item in batch]
    session.execute(_LOCK_ALL, {"c": INDEX_LOCK[0], "o": INDEX_LOCK[1]})

    urls = sorted({item["url"] for item in batch} | {item["canonical_url"] for item in batch})
    stored_urls: dict[str, int] = {}
    for aid, url, canonical in session.execute(
        text(
            "SELECT id, url, canonical_url FROM articles "
            "WHERE url = ANY(CAST(:u AS text[])) OR canonical_url = ANY(CAST(:u AS text[]))"
        ),
        {"u": urls},
    ):
        stored_urls[url] = stored_urls[canonical] = aid
    state, recurring_texts = _count_recurring(
        session, batch, bodies, sigs, paragraphs, stored_urls, settings
    )
    hashes = dedup.band_hashes(sigs, settings)
    # Representatives by content hash and by band key: stored ones first (oldest id first),
    # then the batch's kept items as they are decided. A member is (id, signature, published);
    # a kept item's id is ("new", index) until ids are allocated.
    by_hash: dict[bytes, tuple[Any, datetime | None]] = {
        h: (aid, published)
        for h, aid, published in session.execute(
            text(
                "SELECT content_hash, id, published_at FROM articles "
                "WHERE content_hash = ANY(CAST(:h AS bytea[]))"
            ),
            {"h": chashes},
        )
    }
    # Only keys that can match something need buckets: stored ones and keys shared in the batch.
    unique_keys, counts = np.unique(hashes, return_counts=True)
    stored_members: dict[int, tuple[int, np.ndarray, datetime | None]] = {}
    buckets: dict[int, list[tuple[Any, np.ndarray, datetime | None]]] = {}
    # Hundreds of thousands of keys: sent in binary (%b) on the session's own connection,
    # which is 2-3x cheaper than SQLAlchemy's text parameters at this size.
    raw = session.connection().connection.driver_connection
    for key, aid, minhash, published in raw.execute(_FIND_MANY, (unique_keys.tolist(),)):
        if aid not in stored_members:
            stored_members[aid] = (aid, dedup.signature_from_bytes(minhash), published)
        buckets.setdefault(key, []).append(stored_members[aid])
    watched = np.union1d(unique_keys[counts > 1], np.fromiter(buckets, np.int64, len(buckets)))
    may_match = np.isin(hashes, watched)

    results: list[StoreResult | None] = [None] * n
    kept: list[int] = []
    kept_at: dict[tuple[str, int], int] = {}
    batch_urls: dict[str, Any] = {}
    duplicates: list[tuple[int, Decision, bool]] = []
    for i in _ordered(batch):
        item, published = batch[i], batch[i].get("published_at")
        known = next(
            (
                where[u]
                for u in (item["url"], item["canonical_url"])
                for where in (stored_urls, batch_urls)
                if u in where
            ),
            None,
        )
        if known is not None:
            results[i] = StoreResult(None, Decision(known, 1.0, "url"))
            continue
        if chashes[i] in by_hash:
            rep, rep_published = by_hash[chashes[i]]
            decision = Decision(rep, 1.0, "exact")
        else:
            members: dict[Any, tuple[Any, np.ndarray, datetime | None]] = {}
            for key in hashes[i][may_match[i]].tolist():
                for member in buckets.get(key, ()):
                    members.setdefault(member[0], member)
            # Oldest first, as find_candidates: stored by id, then the batch's kept items.
            ranked = sorted(members.values(), key=lambda m: _age(m[0], kept_at))
            decision = dedup.decide(
                sigs[i], [(m[0], m[1]) for m in ranked], settings.threshold, settings.min_shingles
            )
            rep = decision.duplicate_of
            rep_published = members[rep][2] if rep is not None else None
        if decision.duplicate_of is not None:
            replace = dedup.should_replace(published, rep_published)
            duplicates.append((i, decision, replace))
            continue
        placeholder = ("new", i)
        kept_at[placeholder] = len(kept)
        kept.append(i)
        by_hash[chashes[i]] = (placeholder, published)
        batch_urls[item["url"]] = batch_urls[item["canonical_url"]] = placeholder
        for key in hashes[i][may_match[i]].tolist():
            buckets.setdefault(key, []).append((placeholder, sigs[i], published))

    # Ids for the kept items, in decision order (so "oldest id" still means "kept first").
    new_ids = (
        session.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence('articles', 'id')) "
                "FROM generate_series(1, :n) ORDER BY 1"
            ),
            {"n": len(kept)},
        )
        .scalars()
        .all()
    )
    ids = {("new", i): aid for i, aid in zip(kept, new_ids, strict=True)}
    if kept:
        names = ["id", *(c for c in columns if c != "content_hash"), "content_hash", "minhash"]
        if "word_count" not in names:
            names.append("word_count")
        with raw.cursor() as cur:
            with cur.copy(f"COPY articles ({', '.join(names)}) FROM STDIN") as copy:
                for i in kept:
                    row = {
                        **batch[i],
                        "id": ids[("new", i)],
                        "content_hash": chashes[i],
                        "minhash": dedup.signature_to_bytes(sigs[i]),
                    }
                    row.setdefault("word_count", len(bodies[i].split()))
                    copy.write_row([row[name] for name in names])
            with cur.copy("COPY minhash_bands (key, article_id) FROM STDIN BINARY") as copy:
                copy.write(bands_copy_payload(np.array(new_ids), hashes[kept]))
        for i in kept:
            results[i] = StoreResult(ids[("new", i)], Decision(None, 0.0), signature=sigs[i])
    if duplicates:
        rows = []
        for i, decision, replace in duplicates:
            rep = ids.get(decision.duplicate_of, decision.duplicate_of)
            decision = Decision(rep, decision.similarity, decision.kind)
            results[i] = StoreResult(None, decision, replace, sigs[i])
            item = batch[i]
            rows.append(
                {
                    "url": item["url"],
                    "source_id": item["source_id"],
                    "dup": rep,
                    "kind": decision.kind,
                    "sim": decision.similarity,
                    "title": item.get("title"),
                    "published_at": item.get("published_at"),
                    "crawl_run_id": item.get("crawl_run_id"),
                }
            )
        session.execute(_RECORD_DUPLICATE, rows)
    for i, res in enumerate(results):  # URL repeats of kept items: their ids are known now
        if res is not None and isinstance(res.decision.duplicate_of, tuple):
            results[i] = StoreResult(None, Decision(ids[res.decision.duplicate_of], 1.0, "url"))
    save_recurring(session, state, recurring_texts, copy_new=True)
    assert all(r is not None for r in results)
    return results  # type: ignore[return-value]
