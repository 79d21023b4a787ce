"""Dedup core: content hashes, MinHash signatures, LSH band keys and the decision rule.

No database here: ``db/dedup_index.py`` persists the band keys; the in-memory index below
serves ``akhbar dedup`` on a JSONL file and the quality experiments.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from datasketch import MinHash

from akhbar.normalize import normalize_arabic

NUM_PERM = 128
BANDS = 16
ROWS = NUM_PERM // BANDS
THRESHOLD = 0.5  # estimated Jaccard at or above which a page is a near-duplicate
SHINGLE_SIZE = 3  # word n-grams
_SEED = 1


def content_hash(text: str) -> bytes:
    """sha256 of the normalised text: equal for copies that differ only in form."""
    return hashlib.sha256(normalize_arabic(text).encode("utf-8")).digest()


def shingles(text: str, size: int = SHINGLE_SIZE) -> set[bytes]:
    words = normalize_arabic(text).split()
    if len(words) < size:
        return {" ".join(words).encode()} if words else set()
    return {" ".join(words[i : i + size]).encode() for i in range(len(words) - size + 1)}


def signature(text: str) -> np.ndarray:
    """MinHash signature as ``NUM_PERM`` uint32 values."""
    mh = MinHash(num_perm=NUM_PERM, seed=_SEED)
    mh.update_batch(list(shingles(text)))
    return mh.hashvalues.astype(np.uint32)


def signature_to_bytes(sig: np.ndarray) -> bytes:
    return sig.astype("<u4").tobytes()


def signature_from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<u4")


def band_keys(sig: np.ndarray) -> list[tuple[int, int]]:
    """(band, signed 64-bit hash of the band's rows): the persisted LSH keys."""
    keys = []
    for band in range(BANDS):
        chunk = sig[band * ROWS : (band + 1) * ROWS].astype("<u4").tobytes()
        digest = hashlib.blake2b(chunk, digest_size=8).digest()
        keys.append((band, int.from_bytes(digest, "little", signed=True)))
    return keys


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures."""
    return float(np.count_nonzero(a == b)) / len(a)


@dataclass(frozen=True, slots=True)
class Decision:
    duplicate_of: int | str | None
    similarity: float
    kind: str | None = None  # 'exact' or 'near' when duplicate_of is set


def decide(sig: np.ndarray, candidates: list[tuple[int | str, np.ndarray]]) -> Decision:
    """Pick the most similar candidate at or above THRESHOLD, else keep the article."""
    best_id, best = None, 0.0
    for cand_id, cand_sig in candidates:
        sim = similarity(sig, cand_sig)
        if sim > best:
            best_id, best = cand_id, sim
    if best_id is not None and best >= THRESHOLD:
        return Decision(best_id, best, "exact" if best >= 1.0 else "near")
    return Decision(None, best)
