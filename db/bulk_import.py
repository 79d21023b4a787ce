"""Bulk import of articles from JSON lines, deduplicated against the database.

Input: one JSON object per line, as ``akhbar export --format jsonl`` writes them (so one
database's export loads into another) or as ``akhbar dedup`` reads them:

* ``url`` (required), ``body`` or ``text`` (required), ``source`` (required unless a default
  source is given; unknown sources are created), ``canonical_url`` (default: ``url``),
  ``title``, ``author``, ``section``, ``language``, ``published_at`` or ``published`` and
  ``fetched_at`` (ISO 8601; no offset means UTC; ``fetched_at`` defaults to now);
* other fields (an exported ``id``, ``word_count``, ...) are ignored: ids are this
  database's own.

Validated, then batched. The whole file is checked before anything is stored, against
every limit the database would enforce (column lengths from db/models.py, no NUL characters,
no lone surrogates, URLs short enough for their unique indexes, text small enough for a
tsvector) and against our own cap on body size (``MAX_BODY_CHARS``): a bad line stops the
import with its line number and one sentence, and nothing is stored. Over-long values are
rejected, never truncated. Then articles go through ``db.article_store.store_articles`` batch by batch (one
transaction each, so an interrupted import keeps every finished batch and a re-run skips
what is stored as kind ``url``); a database error in a batch the checks did not foresee
(the server going away, say) stops the import with ``ImportFailed``, naming the lines of
the batch and how many earlier articles stayed stored. Signatures, content hashes and
search vectors are computed in worker processes.
An article published before the stored copy it matches takes that row over in place, as
in a crawl.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from akhbar import dedup
from akhbar.jsonl import iso_date_field, object_line
from akhbar.processes import worker_pool
from akhbar.search import search_vector
from db.article_store import ArticleRow, store_articles
from db.models import Article, Source

TEXT_FIELDS = ("title", "author", "section", "language")
MAX_ERRORS = 20
# Longest body accepted, in characters (about 160,000 Arabic words, some 250 typical articles;
# the crawler stores nothing near it). Beyond that text costs the database minutes to index.
MAX_BODY_CHARS = int(os.environ.get("AKHBAR_IMPORT_MAX_BODY_CHARS", "1000000"))
# Unique btree indexes (url, canonical_url) hold at most 2,704 bytes per entry.
MAX_URL_BYTES = 2000
# PostgreSQL refuses a tsvector over 1 MiB ("string is too long for tsvector"); we estimate
# from the distinct words, generously (lexemes are never longer than the words they come
# from), and leave room.
MAX_TSVECTOR_BYTES = 1_000_000
# Column lengths of the varchar columns an import fills (db/models.py).
COLUMN_CHARS = {
    "source": Source.__table__.c.name.type.length,
    "language": Article.__table__.c.language.type.length,
}
_WORD = re.compile(r"\w+")
# A line longer than this cannot hold an acceptable body even fully \u-escaped: rejected
# before JSON parsing.
MAX_LINE_CHARS = 6 * MAX_BODY_CHARS + 1024 * 1024


class ImportFailed(RuntimeError):
    """The database refused a batch the checks let through; the message says which lines and
    what stays stored."""


class ImportError_(ValueError):
    """The file cannot be imported; ``errors`` holds one sentence per bad line."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class ImportReport:
    lines: int = 0
    stored: int = 0
    replaced: int = 0  # earlier originals that took a stored copy's row over
    kinds: dict[str, int] = field(default_factory=lambda: {"url": 0, "exact": 0, "near": 0})


def parse_line(line: str, where: str, default_source: str | None) -> dict[str, Any]:
    """One input line as ``articles`` values plus ``source`` (a name); ValueError with
    ``where`` in the message when the line is not usable."""
    if len(line) > MAX_LINE_CHARS:
        raise ValueError(
            f"{where}: the line is {len(line):,} characters long, more than any acceptable "
            f"article (bodies up to {MAX_BODY_CHARS:,} characters, AKHBAR_IMPORT_MAX_BODY_CHARS)"
        )
    row = object_line(line, where)
    body = row.get("body", row.get("text"))
    url = row.get("url")
    source = row.get("source") or default_source
    for name, value in (("url", url), ("body (or text)", body), ("source", source)):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{where}: '{name}' is missing or not a non-empty string")
    canonical = row.get("canonical_url") or url
    if not isinstance(canonical, str):
        raise ValueError(f"{where}: 'canonical_url' must be a string")
    values: dict[str, Any] = {"source": source, "url": url, "canonical_url": canonical}
    for name in TEXT_FIELDS:
        value = row.get(name)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{where}: '{name}' must be a string or null")
        values[name] = value
    values["body"] = body
    _check_storable(values, where)
    published_name = "published_at" if "published_at" in row else "published"
    values["published_at"] = iso_date_field(row.get(published_name), published_name, where)
    values["fetched_at"] = iso_date_field(
        row.get("fetched_at"), "fetched_at", where
    ) or datetime.now(UTC)
    values["word_count"] = len(body.split())
    return values


def _check_storable(values: dict[str, Any], where: str) -> None:
    """ValueError (one sentence naming ``where``) for a value PostgreSQL would refuse, or a
    body over our cap."""
    for name, value in values.items():
        if not isinstance(value, str):
            continue
        label = "body (or text)" if name == "body" else name
        if "\x00" in value:
            raise ValueError(
                f"{where}: '{label}' contains a NUL character (\\u0000), which PostgreSQL "
                "text cannot hold"
            )
        try:
            encoded = value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(
                f"{where}: '{label}' contains a lone surrogate "
                f"(\\u{ord(value[exc.start]):04x}), which is not valid Unicode text"
            ) from None
        if (limit := COLUMN_CHARS.get(name)) and len(value) > limit:
            raise ValueError(
                f"{where}: '{label}' is {len(value)} characters long; the database holds "
                f"at most {limit}"
            )
        if name in ("url", "canonical_url") and len(encoded) > MAX_URL_BYTES:
            raise ValueError(
                f"{where}: '{label}' is {len(encoded):,} bytes long; at most "
                f"{MAX_URL_BYTES:,} are accepted"
            )
    body = values["body"]
    if len(body) > MAX_BODY_CHARS:
        raise ValueError(
            f"{where}: 'body (or text)' is {len(body):,} characters long; at most "
            f"{MAX_BODY_CHARS:,} are accepted (AKHBAR_IMPORT_MAX_BODY_CHARS)"
        )
    words = set(_WORD.findall(body))
    if values.get("title"):
        words.update(_WORD.findall(values["title"]))
    # Per distinct lexeme: its bytes, a 4-byte entry, a position and alignment.
    estimate = sum(len(word.encode("utf-8")) + 8 for word in words)
    if estimate > MAX_TSVECTOR_BYTES:
        raise ValueError(
            f"{where}: 'body (or text)' has {len(words):,} distinct words, too many for one "
            f"full-text index entry (PostgreSQL's tsvector holds at most 1 MiB)"
        )


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if line.strip():
                yield lineno, line


def check_file(path: Path, default_source: str | None) -> tuple[int, set[str]]:
    """Read the whole file once: (articles, source names); ImportError_ on bad lines."""
    errors: list[str] = []
    sources: set[str] = set()
    count = 0
    try:
        for lineno, line in _lines(path):
            try:
                sources.add(parse_line(line, f"{path}:{lineno}", default_source)["source"])
                count += 1
            except ValueError as exc:
                errors.append(str(exc))
                if len(errors) >= MAX_ERRORS:
                    errors.append(f"{path}: stopped checking after {MAX_ERRORS} bad lines")
                    break
    except UnicodeDecodeError as exc:
        errors.append(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})")
    if errors:
        raise ImportError_(errors)
    return count, sources


Fingerprint = tuple[np.ndarray, bytes, str | None, dedup.Paragraphs]


def fingerprint(title: str | None, body: str) -> Fingerprint:
    """What the database would otherwise compute per article: signature, content hash,
    search vector, and the paragraphs for recurring-text counting (run in worker processes)."""
    sig, paragraphs = dedup.signature_and_paragraphs(body)
    return sig, dedup.content_hash(body), search_vector(title, body), paragraphs


def _fingerprints(
    batch: list[dict[str, Any]], pool: ProcessPoolExecutor | None
) -> Callable[[], tuple[np.ndarray, list[dedup.Paragraphs]]]:
    """Start fingerprinting ``batch`` (in the pool, if any); the returned call waits, fills
    each item's content_hash and search_vector and returns the signatures. With a pool the
    next batch is fingerprinted while this one is being stored."""
    titles, bodies = [v["title"] for v in batch], [v["body"] for v in batch]
    if pool is None:
        pending: Any = list(map(fingerprint, titles, bodies))
    else:
        futures = [
            pool.submit(_fingerprint_chunk, titles[i : i + 64], bodies[i : i + 64])
            for i in range(0, len(batch), 64)
        ]
        pending = futures

    def collect() -> tuple[np.ndarray, list[dedup.Paragraphs]]:
        results = pending if pool is None else [r for f in pending for r in f.result()]
        for values, (_, chash, vector, _) in zip(batch, results, strict=True):
            values["content_hash"], values["search_vector"] = chash, vector
        return np.stack([r[0] for r in results]), [r[3] for r in results]

    return collect


def _fingerprint_chunk(titles: list[str | None], bodies: list[str]) -> list[Fingerprint]:
    return list(map(fingerprint, titles, bodies))


def import_file(
    engine: Engine,
    path: Path,
    *,
    default_source: str | None = None,
    batch_size: int = 2000,
    workers: int = 0,
    progress: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Check then import ``path``; see the module docstring."""
    _, source_names = check_file(path, default_source)
    with Session(engine) as session:
        for name in sorted(source_names):
            session.execute(
                text("INSERT INTO sources (name) VALUES (:n) ON CONFLICT (name) DO NOTHING"),
                {"n": name},
            )
        source_ids = dict(
            session.execute(
                text("SELECT name, id FROM sources WHERE name = ANY(:n)"),
                {"n": sorted(source_names)},
            ).all()
        )
        session.commit()
    report = ImportReport()
    pool = worker_pool(workers, ["db.bulk_import"])
    try:
        batch: list[dict[str, Any]] = []
        first_line = last_line = 0
        waiting: tuple[list[dict[str, Any]], Callable[[], Any], str] | None = None
        for lineno, line in _lines(path):
            values = parse_line(line, f"{path}:{lineno}", default_source)
            values["source_id"] = source_ids[values.pop("source")]
            first_line = first_line if batch else lineno
            last_line = lineno
            batch.append(values)
            if len(batch) >= batch_size:
                started = (batch, _fingerprints(batch, pool), f"{path}:{first_line}-{last_line}")
                if waiting:
                    _store(engine, *waiting, report, progress)
                waiting, batch = started, []
        if batch:
            started = (batch, _fingerprints(batch, pool), f"{path}:{first_line}-{last_line}")
            if waiting:
                _store(engine, *waiting, report, progress)
            waiting = started
        if waiting:
            _store(engine, *waiting, report, progress)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return report


def _store(
    engine: Engine,
    batch: list[dict[str, Any]],
    fingerprinted: Callable[[], tuple[np.ndarray, list[dedup.Paragraphs]]],
    lines: str,
    report: ImportReport,
    progress: Callable[[ImportReport], None] | None,
) -> None:
    """Store one batch in one transaction; ImportFailed when the database refuses it."""
    try:
        _store_batch(engine, batch, fingerprinted, report)
    except (SQLAlchemyError, psycopg.Error) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise ImportFailed(
            f"{lines}: the database refused this batch ({reason}); nothing of it was stored, "
            f"the {report.lines:,} articles of earlier lines stay stored, and a re-run skips them"
        ) from None
    report.lines += len(batch)
    if progress:
        progress(report)


def _store_batch(
    engine: Engine,
    batch: list[dict[str, Any]],
    fingerprinted: Callable[[], tuple[np.ndarray, list[dedup.Paragraphs]]],
    report: ImportReport,
) -> None:
    sigs, paragraphs = fingerprinted()
    rows = [
        ArticleRow(**values, signature=sig, paragraphs=found)
        for values, sig, found in zip(batch, sigs, paragraphs, strict=True)
    ]
    with Session(engine) as session:
        results = store_articles(session, rows)
        session.commit()
    # Counted once committed: a refused batch adds nothing.
    for result in results:
        if result.kind == "stored":
            report.stored += 1
        else:
            report.replaced += result.kind == "replaced"
            report.kinds[result.match or "near"] += 1
