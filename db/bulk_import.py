"""Bulk import of articles from JSON lines, deduplicated against the database.

Input: one JSON object per line, as ``akhbar export --format jsonl`` writes them (so one
database's export loads into another) or as ``akhbar dedup`` reads them:

* ``url`` (required), ``body`` or ``text`` (required), ``source`` (required unless a default
  source is given; unknown sources are created), ``canonical_url`` (default: ``url``),
  ``title``, ``author``, ``section``, ``language``, ``published_at`` or ``published`` and
  ``fetched_at`` (ISO 8601; no offset means UTC; ``fetched_at`` defaults to now);
* other fields (an exported ``id``, ``word_count``, ...) are ignored: ids are this
  database's own.

The whole file is checked before anything is stored, so a bad line stops the import with
its line number and nothing half done. Then articles go through ``store_batch`` batch by
batch (one transaction each, so an interrupted import keeps every finished batch and a
re-run skips what is stored as kind ``url``). Signatures, content hashes and search vectors
are computed in worker processes.
An article published before the stored copy it matches takes that row over in place, as
in a crawl.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from akhbar import dedup
from akhbar.jsonl import iso_date_field, object_line
from akhbar.search import search_vector
from db import dedup_index

TEXT_FIELDS = ("title", "author", "section", "language")
MAX_ERRORS = 20


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
    published_name = "published_at" if "published_at" in row else "published"
    values["published_at"] = iso_date_field(row.get(published_name), published_name, where)
    values["fetched_at"] = iso_date_field(
        row.get("fetched_at"), "fetched_at", where
    ) or datetime.now(UTC)
    values["word_count"] = len(body.split())
    return values


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
    pool = None
    if workers > 0:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["db.bulk_import"])
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    try:
        batch: list[dict[str, Any]] = []
        waiting: tuple[list[dict[str, Any]], Callable[[], Any]] | None = None
        for lineno, line in _lines(path):
            values = parse_line(line, f"{path}:{lineno}", default_source)
            values["source_id"] = source_ids[values.pop("source")]
            # Not from a crawl run or from our extractor (and cleared if the row is taken over).
            values["crawl_run_id"] = values["extractor_version"] = None
            batch.append(values)
            if len(batch) >= batch_size:
                started = (batch, _fingerprints(batch, pool))
                if waiting:
                    _store(engine, *waiting, report, progress)
                waiting, batch = started, []
        if batch:
            started = (batch, _fingerprints(batch, pool))
            if waiting:
                _store(engine, *waiting, report, progress)
            waiting = started
        if waiting:
            _store(engine, *waiting, report, progress)
    finally:
        if pool is not None:
            pool.shutdown()
    return report


def _store(
    engine: Engine,
    batch: list[dict[str, Any]],
    fingerprinted: Callable[[], tuple[np.ndarray, list[dedup.Paragraphs]]],
    report: ImportReport,
    progress: Callable[[ImportReport], None] | None,
) -> None:
    sigs, paragraphs = fingerprinted()
    with Session(engine) as session:
        results = dedup_index.store_batch(session, batch, sigs=sigs, paragraphs=paragraphs)
        # Earlier originals of stored articles: the earliest of each takes the row over.
        takeover: dict[int, int] = {}
        for i, result in enumerate(results):
            if result.article_id is not None:
                report.stored += 1
                continue
            report.kinds[result.decision.kind or "near"] += 1
            if result.replace_stored:
                stored_id = int(result.decision.duplicate_of)
                j = takeover.get(stored_id)
                if j is None or batch[i]["published_at"] < batch[j]["published_at"]:
                    takeover[stored_id] = i
        for stored_id, i in takeover.items():
            sig = results[i].signature  # without recurring paragraphs
            dedup_index.swap_representative(session, stored_id, batch[i], sig=sig)
            # The fetched page belonged to the copy that is now a duplicate.
            session.execute(
                text("DELETE FROM article_html WHERE article_id = :a"), {"a": stored_id}
            )
        report.replaced += len(takeover)
        session.commit()
    report.lines += len(batch)
    if progress:
        progress(report)
