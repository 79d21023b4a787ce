"""The one writer of articles: crawl batches, imports and reprocessing all store through it.

``store_articles(session, rows)`` takes typed ``ArticleRow`` values and, in the caller's
transaction (the caller commits):

1. takes the index lock exclusively (``db.dedup_index.lock_index``), so writers in other
   processes decide one after the other, each seeing what the others committed;
2. fetches what the decisions need: stored URLs (articles and duplicates), the
   ``recurring_text`` rows of the batch's paragraphs, and, once the paragraphs are counted
   and the signatures to decide with known, the stored articles sharing a band key or a
   content hash (one query each);
3. decides with ``akhbar.dedup.DedupEngine`` in publication order (URL -> recurring text ->
   exact -> near; the earliest-published copy represents a story);
4. writes: kept articles by COPY (ids drawn in decision order, so "oldest id" still means
   "kept first"), their band keys and fetched HTML, copies as ``duplicates`` rows, and a
   later-arriving earlier original takes its representative's row over in place (the id
   downstream users hold stays valid; the page stored until then becomes the duplicate);
   then the recurring-text counts.

``reprocess_article`` re-decides a stored article whose text changed (``db.reprocess``)
with the same engine: unique, its row is updated in place; a copy of another stored
article, the two merge (the id stored first survives).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

import numpy as np
from psycopg.types.json import Jsonb
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from akhbar import dedup
from akhbar import settings as akhbar_settings
from akhbar.dedup import DEFAULT, Settings
from akhbar.page import ProcessedPage, compress_html
from akhbar.processes import worker_pool
from db import dedup_index
from db.engine import session_scope


@dataclass(frozen=True, slots=True)
class PageHtml:
    """The fetched page kept with an article (``article_html``), so it can be re-extracted."""

    html_zlib: bytes
    headers: dict[str, Any] | None = None
    status: int = 200


@dataclass(frozen=True, slots=True)
class ArticleRow:
    """One article to store: the ``articles`` columns, and what the writer would otherwise
    compute (the whole body's signature and paragraphs, the content hash, the search vector
    as tsvector text: left None, the database computes it)."""

    source_id: int
    url: str
    canonical_url: str
    body: str
    fetched_at: datetime
    title: str | None = None
    published_at: datetime | None = None
    author: str | None = None
    dateline: str | None = None
    section: str | None = None
    language: str | None = None
    crawl_run_id: int | None = None
    extractor_version: str | None = None
    word_count: int | None = None
    content_hash: bytes | None = None
    search_vector: str | None = None
    signature: np.ndarray | None = None
    paragraphs: dedup.Paragraphs | None = None
    html: PageHtml | None = None

    def signed(self, settings: Settings = DEFAULT) -> dedup.Signed:
        """The article as the decision rules see it (computing what was not given)."""
        sig, found = self.signature, self.paragraphs
        if sig is None and found is None and settings.recurring:
            sig, found = dedup.signature_and_paragraphs(self.body, settings)
        if sig is None:
            sig = dedup.signature(self.body, settings)
        if found is None and settings.recurring:
            found = dedup.paragraphs(self.body)
        chash = self.content_hash or dedup.content_hash(self.body)
        return dedup.Signed(self.body, sig, chash, found)


# The columns a row writes, in COPY order (id, content_hash and minhash added by the writer).
COLUMNS = (
    "source_id",
    "url",
    "canonical_url",
    "title",
    "body",
    "published_at",
    "author",
    "dateline",
    "section",
    "language",
    "word_count",
    "fetched_at",
    "crawl_run_id",
    "extractor_version",
    "search_vector",
)


@dataclass(frozen=True, slots=True)
class StoreResult:
    # 'stored'; 'url' (already stored or known as a duplicate); 'exact' or 'near' (recorded
    # as a duplicate); or 'replaced' (an earlier original: it now holds the story's row).
    kind: str
    article_id: int  # the stored article, or the one this article duplicates
    similarity: float = 1.0
    match: str | None = None  # 'url', 'exact' or 'near' unless stored (replaced included)


def row_from_processed(
    processed: ProcessedPage, *, source_id: int, run_id: int | None, keep_html: bool = True
) -> ArticleRow:
    """The row of a processed page, its HTML kept for reprocessing unless ``keep_html`` is
    false (reprocessing itself: the stored HTML stays)."""
    page, article = processed.page, processed.article
    html = None
    if keep_html:
        html = PageHtml(processed.html_zlib or compress_html(page.body), page.headers, page.status)
    return ArticleRow(
        source_id=source_id,
        url=page.url,
        canonical_url=article.canonical_url,
        title=article.title,
        body=article.text,
        published_at=article.published_at,
        author=article.author,
        dateline=article.dateline,
        section=article.section,
        language=article.language,
        fetched_at=page.fetched_at or datetime.now(UTC),
        crawl_run_id=run_id,
        extractor_version=processed.extractor_version,
        word_count=processed.word_count,
        content_hash=processed.content_hash,
        search_vector=processed.search_vector,
        signature=(
            None if processed.signature is None else dedup.signature_from_bytes(processed.signature)
        ),
        paragraphs=processed.paragraphs,
        html=html,
    )


def _values(row: ArticleRow, signed: dedup.Signed, sig: np.ndarray) -> dict[str, Any]:
    """The row's column values, fingerprints included (``sig``: the one decided with)."""
    values = {name: getattr(row, name) for name in COLUMNS}
    if values["word_count"] is None:
        values["word_count"] = len(row.body.split())
    values["content_hash"] = signed.content_hash
    values["minhash"] = dedup.signature_to_bytes(sig)
    return values


def store_articles(
    session: Session, rows: Sequence[ArticleRow], settings: Settings = DEFAULT
) -> list[StoreResult]:
    """Decide and write ``rows`` in the caller's transaction (see the module docstring);
    results in the order of ``rows``."""
    if not rows:
        return []
    dedup_index.lock_index(session)
    signed = [row.signed(settings) for row in rows]
    engine = dedup.DedupEngine(settings)
    urls = [(row.url, row.canonical_url) for row in rows]
    _know_urls(session, engine, sorted({u for pair in urls for u in pair}))
    if settings.recurring:
        found = [s.paragraphs for s in signed if s.paragraphs is not None]
        hashes = np.concatenate([f.hashes for f in found]) if found else np.empty(0, np.int64)
        dedup_index.read_recurring(session, hashes, engine.recurring)

    def lookup(sigs: np.ndarray, chashes: list[bytes]) -> list[dedup.Stored]:
        return dedup_index.stored_candidates(session, sigs, chashes, settings=settings)

    keys = [("new", i) for i in range(len(rows))]
    verdicts = engine.decide_batch(
        keys,
        signed,
        [row.published_at for row in rows],
        urls,
        lookup,
        lambda ids: _read_carriers(session, engine, ids),
    )
    ids = _write(session, rows, signed, verdicts, engine, settings)
    engine.recurring.rename_carriers(ids)
    dedup_index.save_recurring(session, engine.recurring, engine.recurring_texts, copy_new=True)

    results = []
    for key, verdict in zip(keys, verdicts, strict=True):
        decision = verdict.decision
        if decision.duplicate_of is None:
            results.append(StoreResult("stored", ids[key], decision.similarity))
            continue
        rep = ids.get(decision.duplicate_of, decision.duplicate_of)
        match = decision.kind or "near"
        kind = "replaced" if verdict.replace else match
        results.append(StoreResult(kind, int(rep), decision.similarity, match))
    return results


def _read_carriers(
    session: Session, engine: dedup.DedupEngine, ids: list[int]
) -> list[dedup.Stored]:
    """Stored articles carrying a paragraph that just turned recurring, with their body; the
    ``recurring_text`` rows of all their paragraphs are loaded too (to sign them again
    without every recurring one)."""
    rows = dedup_index.read_carriers(session, ids)
    found = [engine.stored_paragraphs(row.key, row.text).hashes for row in rows if row.text]
    if found:
        dedup_index.read_recurring(session, np.concatenate(found), engine.recurring)
    return rows


def _save_resigned(
    session: Session, engine: dedup.DedupEngine, rewritten: set[int], settings: Settings
) -> None:
    """Stored articles the engine signed again (except ``rewritten``, whose rows this writer
    replaced with their final signature already): their minhash and bands."""
    sigs = {
        key: sig
        for key, sig in engine.resigned.items()
        if isinstance(key, int) and key not in rewritten
    }
    dedup_index.save_signatures(session, sigs, settings)


def _know_urls(session: Session, engine: dedup.DedupEngine, urls: list[str]) -> None:
    """Tell the engine which of ``urls`` are stored: as an article, or as a duplicate (then
    they stand for its representative)."""
    for aid, url, canonical in session.execute(
        text(
            "SELECT id, url, canonical_url FROM articles "
            "WHERE url = ANY(CAST(:u AS text[])) OR canonical_url = ANY(CAST(:u AS text[]))"
        ),
        {"u": urls},
    ):
        engine.know_url(url, aid)
        engine.know_url(canonical, aid)
    for url, aid in session.execute(
        text("SELECT url, duplicate_of FROM duplicates WHERE url = ANY(CAST(:u AS text[]))"),
        {"u": urls},
    ):
        engine.know_url(url, aid)


_RECORD_DUPLICATES = text(
    "INSERT INTO duplicates (url, source_id, duplicate_of, kind, similarity, title, "
    "published_at, crawl_run_id) VALUES (:url, :source_id, :dup, :kind, :sim, "
    ":title, :published_at, :crawl_run_id) ON CONFLICT (url) DO NOTHING"
)


def _duplicate(row: Any, rep: int, decision: dedup.Decision) -> dict[str, Any]:
    """A ``duplicates`` row for the page ``row`` (an ``ArticleRow`` or a stored row)."""
    return {
        "url": row.url,
        "source_id": row.source_id,
        "dup": rep,
        "kind": decision.kind,
        "sim": decision.similarity,
        "title": row.title,
        "published_at": row.published_at,
        "crawl_run_id": row.crawl_run_id,
    }


def _write(
    session: Session,
    rows: Sequence[ArticleRow],
    signed: list[dedup.Signed],
    verdicts: list[dedup.Verdict],
    engine: dedup.DedupEngine,
    settings: Settings,
) -> dict[Any, int]:
    """Write the decided batch; returns the ids of the kept rows by their engine key. Each
    row gets its final signature: the one it is indexed under once the whole batch is
    decided (a kept article may have been signed again later in the batch)."""

    def final(key: Any, decided: np.ndarray) -> np.ndarray:
        sig = engine.index.signature(key)
        return decided if sig is None else sig

    order = dedup.publication_order([row.published_at for row in rows])
    kept = [i for i in order if verdicts[i].decision.duplicate_of is None]
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
    ids: dict[Any, int] = {("new", i): aid for i, aid in zip(kept, new_ids, strict=True)}
    raw = session.connection().connection.driver_connection
    if kept:
        names = ["id", *COLUMNS, "content_hash", "minhash"]
        with raw.cursor() as cur, cur.copy(f"COPY articles ({', '.join(names)}) FROM STDIN") as cp:
            sigs = [final(("new", i), verdicts[i].signature) for i in kept]
            for i, sig in zip(kept, sigs, strict=True):
                values = _values(rows[i], signed[i], sig)
                cp.write_row([ids[("new", i)], *(values[n] for n in names[1:])])
        dedup_index.add_bands(session, new_ids, np.stack(sigs), settings)
        _save_html(session, [(ids[("new", i)], rows[i].html) for i in kept if rows[i].html])

    duplicates, takeovers = [], []
    for i in order:
        decision = verdicts[i].decision
        if decision.duplicate_of is None or decision.kind == "url":
            continue
        rep = ids.get(decision.duplicate_of, decision.duplicate_of)
        if verdicts[i].replace:
            takeovers.append((i, int(rep), decision.duplicate_of))
        else:
            duplicates.append(_duplicate(rows[i], int(rep), decision))
    if takeovers:
        # Each stored page taken over becomes a duplicate; its row takes the new page's
        # content (in publication order: a later takeover of the same row records the page
        # an earlier one put there, and its content is the one kept).
        held: dict[int, Any] = {
            row.id: row
            for row in session.execute(
                text(
                    "SELECT id, url, source_id, title, published_at, crawl_run_id FROM articles "
                    "WHERE id = ANY(CAST(:ids AS bigint[])) ORDER BY id FOR UPDATE"
                ),
                {"ids": sorted({rep for _, rep, _ in takeovers})},
            )
        }
        content: dict[int, tuple[ArticleRow, dedup.Signed, np.ndarray]] = {}
        for i, rep, rep_key in takeovers:
            duplicates.append(_duplicate(held[rep], rep, verdicts[i].decision))
            held[rep] = rows[i]
            content[rep] = (rows[i], signed[i], final(rep_key, verdicts[i].signature))
        _replace_contents(session, [(rep, *new) for rep, new in content.items()], settings)
    if duplicates:
        session.execute(_RECORD_DUPLICATES, duplicates)
    _save_resigned(session, engine, {rep for _, rep, _ in takeovers}, settings)
    return ids


def _replace_content(
    session: Session,
    article_id: int,
    row: ArticleRow,
    signed: dedup.Signed,
    sig: np.ndarray,
    settings: Settings,
    *,
    html: bool = True,
) -> None:
    """Article ``article_id`` now holds ``row`` (same id): see ``_replace_contents``."""
    _replace_contents(session, [(article_id, row, signed, sig)], settings, html=html)


def _replace_contents(
    session: Session,
    replaced: Sequence[tuple[int, ArticleRow, dedup.Signed, np.ndarray]],
    settings: Settings,
    *,
    html: bool = True,
) -> None:
    """Each article ``(article_id, row, signed, sig)`` now holds ``row`` (same id): columns,
    fingerprints, bands and, with ``html``, the fetched page (removed when ``row`` has none:
    the page kept until now belonged to the other copy). A few statements for all of them."""
    if not replaced:
        return
    params = [
        {**_values(row, signed, sig), "article_id": article_id}
        for article_id, row, signed, sig in replaced
    ]
    assignments = ", ".join(
        f"{name} = CAST(:{name} AS tsvector)" if name == "search_vector" else f"{name} = :{name}"
        for name in params[0]
        if name != "article_id"
    )
    session.execute(
        text(f"UPDATE articles SET {assignments}, updated_at = now() WHERE id = :article_id"),
        params,
    )
    ids = [article_id for article_id, *_ in replaced]
    dedup_index.remove_bands(session, ids)
    dedup_index.add_bands(session, ids, np.stack([sig for *_, sig in replaced]), settings)
    if html:
        session.execute(
            text("DELETE FROM article_html WHERE article_id = ANY(CAST(:a AS bigint[]))"),
            {"a": ids},
        )
        _save_html(
            session,
            [(article_id, row.html) for article_id, row, *_ in replaced if row.html is not None],
        )


def _save_html(session: Session, pages: list[tuple[int, PageHtml]]) -> None:
    if not pages:
        return
    raw = session.connection().connection.driver_connection
    # Binary: the compressed page goes as its bytes, not as hex text for the server to decode.
    with (
        raw.cursor() as cur,
        cur.copy(
            "COPY article_html (article_id, html_zlib, headers, status) FROM STDIN BINARY"
        ) as cp,
    ):
        cp.set_types(["int8", "bytea", "jsonb", "int2"])
        for aid, page in pages:
            headers = None if page.headers is None else Jsonb(page.headers)
            cp.write_row([aid, page.html_zlib, headers, page.status])


# --- Reprocessing ------------------------------------------------------------------------


def _stored_row(session: Session, article_id: int) -> tuple[ArticleRow, np.ndarray | None, Any]:
    """A stored article as a row (HTML included), its stored signature, and its
    (first_seen_at, id) order key."""
    names = ", ".join("search_vector::text" if n == "search_vector" else n for n in COLUMNS)
    found = session.execute(
        text(
            f"SELECT {names}, content_hash, minhash, first_seen_at, h.html_zlib, h.headers, "
            "h.status FROM articles a LEFT JOIN article_html h ON h.article_id = a.id "
            "WHERE a.id = :id FOR UPDATE OF a"
        ),
        {"id": article_id},
    ).one()
    values = dict(zip(COLUMNS, found[: len(COLUMNS)], strict=True))
    chash, minhash, first_seen, html, headers, status = found[len(COLUMNS) :]
    page = None if html is None else PageHtml(bytes(html), headers, status)
    sig = None if minhash is None else dedup.signature_from_bytes(minhash)
    row = ArticleRow(**values, content_hash=bytes(chash), signature=sig, html=page)
    return row, sig, (first_seen, article_id)


def reprocess_article(
    session: Session, article_id: int, row: ArticleRow, settings: Settings = DEFAULT
) -> StoreResult:
    """Article ``article_id`` was re-extracted as ``row``: decide it again against every
    other stored article, in the caller's transaction.

    Unique: its row takes ``row`` in place (result ``stored``; its HTML stays). A copy of
    another stored article (``exact``/``near``): the two merge as the crawl would have
    decided; the row stored first keeps its id and holds the earliest-published copy
    (``should_replace``); the other copy becomes a ``duplicates`` row pointing at it, the
    deleted row's duplicates follow it, and the result names the surviving id."""
    dedup_index.lock_index(session)
    signed = row.signed(settings)
    engine = dedup.DedupEngine(settings)
    if settings.recurring and signed.paragraphs is not None:
        dedup_index.read_recurring(session, signed.paragraphs.hashes, engine.recurring)
    sig = engine.sign(signed)
    turned = engine.turned
    candidates = dedup_index.stored_candidates(
        session, sig[None, :], [signed.content_hash], exclude=article_id, settings=settings
    )
    wanted = [k for k in engine.carriers_to_fetch(turned) if k != article_id]
    engine.know_all(candidates, _read_carriers(session, engine, wanted))
    engine.resign(turned)
    verdict = engine.judge(article_id, signed, sig, row.published_at)
    decision = verdict.decision
    if decision.duplicate_of is None:
        _replace_content(session, article_id, row, signed, sig, settings, html=False)
        _save_resigned(session, engine, {article_id}, settings)
        dedup_index.save_recurring(session, engine.recurring, engine.recurring_texts)
        return StoreResult("stored", article_id, decision.similarity)

    other_id = int(decision.duplicate_of)
    this_stored, _, this_order = _stored_row(session, article_id)
    other, other_sig, other_order = _stored_row(session, other_id)
    first, second = (article_id, other_id) if this_order < other_order else (other_id, article_id)
    published = {article_id: row.published_at, other_id: other.published_at}
    kept = second if dedup.should_replace(published[second], published[first]) else first
    dropped = other if kept == article_id else row

    session.execute(
        text("UPDATE duplicates SET duplicate_of = :first WHERE duplicate_of = :second"),
        {"first": first, "second": second},
    )
    session.execute(text("DELETE FROM articles WHERE id = :a"), {"a": second})
    if kept == article_id:  # the new text, with its page, in the first row
        moved = replace(row, html=this_stored.html)
        _replace_content(session, first, moved, signed, sig, settings, html=first != article_id)
    elif first == article_id:  # the other copy, first stored elsewhere, moves into this row
        other_signed = other.signed(settings)
        kept_sig = other_sig if other_sig is not None else other_signed.signature
        _replace_content(session, first, other, other_signed, kept_sig, settings)
    session.execute(_RECORD_DUPLICATES, _duplicate(dropped, first, decision))
    # Whichever key the engine filed the kept text under, it is now row ``first``'s.
    engine.recurring.rename_carriers({article_id: first, other_id: first})
    _save_resigned(session, engine, {first, second}, settings)
    dedup_index.save_recurring(session, engine.recurring, engine.recurring_texts)
    match = decision.kind or "near"
    return StoreResult(match, first, decision.similarity, match)


# --- Rebuilding the index ----------------------------------------------------------------


@dataclass
class RebuildReport:
    """What ``rebuild_index`` did (``akhbar dedup-index rebuild --json`` prints it)."""

    examined: int = 0  # stored articles read
    resigned: int = 0  # of them, with a new signature (minhash and bands rewritten)
    rebanded: int = 0  # of them, same signature but band rows that differed (rewritten)
    earlier_resigned: int = 0  # articles of earlier batches signed again: a paragraph turned
    turned_recurring: int = 0  # paragraphs learned as recurring
    recurring_rows_written: int = 0
    batches: int = 0
    forgot_learned: int = 0  # recurring_text rows deleted first (--relearn)

    def as_json(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def _stored_bands(session: Session, ids: list[int]) -> dict[int, list[int]]:
    rows = session.execute(
        text(
            "SELECT article_id, array_agg(key ORDER BY key) FROM minhash_bands "
            "WHERE article_id = ANY(CAST(:ids AS bigint[])) GROUP BY article_id"
        ),
        {"ids": ids},
    )
    return {aid: list(keys) for aid, keys in rows}


SignedBody = tuple[np.ndarray, dedup.Paragraphs]
# Bodies per task sent to a worker: at most this many (few round trips), and few enough for
# every worker to get about 4 tasks of a batch (even shares with many workers).
SIGN_CHUNK = 64


def _sign_bodies(bodies: list[str], settings: Settings) -> list[SignedBody]:
    return [dedup.signature_and_paragraphs(body, settings) for body in bodies]


class BodySigner:
    """``dedup.signature_and_paragraphs`` of the bodies ``rebuild_batch`` reads. Without a
    pool, in this process. With one, in its workers, and ahead: once a batch is read, the
    next one's bodies are read too (same transaction, a plain SELECT) and signed while this
    batch is decided and written. The next batch uses a body's early result only if it reads
    the same body for that id again; any other row (a body replaced or an article stored or
    merged meanwhile) is signed then. So the decisions depend only on what that batch reads."""

    def __init__(self, settings: Settings, pool: Executor | None = None, workers: int = 0) -> None:
        self.settings = settings
        self.pool = pool
        self.workers = workers  # the pool's
        self._ahead: dict[int, tuple[str, int]] = {}  # id -> (body, position in the results)
        self._ahead_results: Callable[[], list[SignedBody]] = list

    def _start(self, bodies: list[str]) -> Callable[[], list[SignedBody]]:
        """Start signing ``bodies`` in the pool; the returned call waits for them, in order."""
        assert self.pool is not None
        size = max(1, min(SIGN_CHUNK, len(bodies) // (4 * max(self.workers, 1))))
        chunks = [bodies[i : i + size] for i in range(0, len(bodies), size)]
        pending = self.pool.map(partial(_sign_bodies, settings=self.settings), chunks)
        return lambda: [signed for chunk in pending for signed in chunk]

    def sign(self, session: Session, rows: Sequence[Any], limit: int) -> list[SignedBody]:
        """Signature and paragraphs of each row's body (``rows``: id and body first, as
        ``rebuild_batch`` reads them, at most ``limit``), in order."""
        if self.pool is None:
            return _sign_bodies([row[1] for row in rows], self.settings)
        ahead, ahead_results = self._ahead, self._ahead_results
        early: list[int | None] = []  # each row's position in the early results (None: none)
        for aid, body, *_ in rows:
            known = ahead.get(aid)
            early.append(known[1] if known is not None and known[0] == body else None)
        late = [row[1] for row, at in zip(rows, early, strict=True) if at is None]
        late_results = self._start(late) if late else list
        # Queued after this batch's bodies: the workers go on with them while this batch is
        # decided and written.
        self._read_ahead(session, rows[-1][0], limit)
        done, rest = ahead_results(), iter(late_results())
        return [done[at] if at is not None else next(rest) for at in early]

    def _read_ahead(self, session: Session, after_id: int, limit: int) -> None:
        rows = session.execute(
            text("SELECT id, body FROM articles WHERE id > :a ORDER BY id LIMIT :n"),
            {"a": after_id, "n": limit},
        ).all()
        self._ahead = {aid: (body, i) for i, (aid, body) in enumerate(rows)}
        self._ahead_results = self._start([body for _, body in rows]) if rows else list


def rebuild_batch(
    session: Session,
    after_id: int,
    limit: int,
    report: RebuildReport,
    settings: Settings = DEFAULT,
    signer: BodySigner | None = None,
) -> int | None:
    """One batch of ``rebuild_index``, in the caller's transaction: the stored articles after
    ``after_id`` (at most ``limit``, oldest id first) are counted into ``recurring_text`` as
    if stored again, and every one of them (and every earlier article carrying a paragraph
    that turns recurring now) gets the signature of its body without its recurring
    paragraphs, and the matching band rows. ``signer`` computes the bodies' signatures
    (default: in this process). Returns the last id read (None: no more)."""
    dedup_index.lock_index(session)
    rows = session.execute(
        text("SELECT id, body, minhash FROM articles WHERE id > :a ORDER BY id LIMIT :n"),
        {"a": after_id, "n": limit},
    ).all()
    if not rows:
        return None
    ids = [aid for aid, _, _ in rows]
    engine = dedup.DedupEngine(settings)
    signer = signer or BodySigner(settings)
    signed = [
        dedup.Signed(body, sig, b"", found)
        for (_, body, _), (sig, found) in zip(rows, signer.sign(session, rows, limit), strict=True)
    ]
    if settings.recurring:
        hashes = [s.paragraphs.hashes for s in signed if s.paragraphs is not None]
        if hashes:
            dedup_index.read_recurring(session, np.concatenate(hashes), engine.recurring)
    engine.relearn(ids, signed)
    report.examined += len(rows)
    report.turned_recurring += len(engine.turned)

    bands = _stored_bands(session, ids)
    changed: dict[int, np.ndarray] = {}
    for (aid, _, minhash), article in zip(rows, signed, strict=True):
        sig = engine.residual(article)
        if minhash is None or not np.array_equal(sig, dedup.signature_from_bytes(minhash)):
            report.resigned += 1
            changed[aid] = sig
        elif bands.get(aid, []) != dedup_index.lsh_keys(sig, settings):
            report.rebanded += 1
            changed[aid] = sig
    # Earlier articles carrying a paragraph that turned recurring in this batch.
    in_batch = set(ids)
    wanted = [k for k in engine.carriers_to_fetch(engine.turned) if k not in in_batch]
    for stored in _read_carriers(session, engine, wanted):
        if stored.text is None:
            continue
        sig = engine.residual(stored.text, stored.key)
        if stored.signature is None or not np.array_equal(sig, stored.signature):
            report.earlier_resigned += 1
            changed[int(stored.key)] = sig
    dedup_index.save_signatures(session, changed, settings)
    report.recurring_rows_written += dedup_index.save_recurring(
        session, engine.recurring, engine.recurring_texts, copy_new=True
    )
    report.batches += 1
    return ids[-1]


def forget_learned(session: Session) -> int:
    """Empty ``recurring_text`` (under the index lock), before learning it again."""
    dedup_index.lock_index(session)
    return session.execute(text("DELETE FROM recurring_text")).rowcount


def rebuild_index(
    engine: Engine,
    *,
    batch: int = 1000,
    relearn: bool = False,
    settings: Settings = DEFAULT,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
) -> RebuildReport:
    """Re-learn ``recurring_text`` from the stored bodies, oldest first, and re-sign and
    re-band every stored article: one transaction per ``batch`` articles, each under the
    index lock (a crawl storing meanwhile decides between two batches, against a consistent
    index). Safe to stop and run again: counting an article twice changes nothing, and an
    article whose signature and bands are right is not written. ``relearn`` empties the
    learned set first (after a change of ``RECURRING_STORIES`` or of the paragraph rules);
    ``progress(done, total)`` is called after each batch. The bodies' signatures, the bulk
    of the work, are computed by ``workers`` processes (default: ``AKHBAR_WORKERS``; 0: in
    this one); everything else happens here, in the same order, so the result is the same."""
    if workers is None:
        workers = akhbar_settings.value("AKHBAR_WORKERS")
    report = RebuildReport()
    with session_scope(engine) as session:
        total = session.execute(text("SELECT count(*) FROM articles")).scalar_one()
        if relearn:
            report.forgot_learned = forget_learned(session)
    pool = worker_pool(workers, ["db.article_store"])
    try:
        signer = BodySigner(settings, pool, workers)
        after: int | None = 0
        while after is not None:
            with session_scope(engine) as session:
                after = rebuild_batch(session, after, batch, report, settings, signer)
            if progress is not None:
                progress(report.examined, total)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return report


# --- Worker processes --------------------------------------------------------------------
