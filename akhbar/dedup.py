"""Dedup core: content hashes, MinHash signatures, LSH band keys and the decision rules.

No database here: ``db/dedup_index.py`` persists the band keys; ``MinHashIndex`` below is the
in-memory equivalent that serves ``akhbar dedup`` on a JSONL file and the quality experiments.
Settings were chosen on the labelled set (``bench/dedup_quality.py``, ``docs/dedup.md``).

Rules, in order:

1. exact duplicate: same ``content_hash`` (sha256 of the normalised body);
2. near duplicate: LSH candidates (articles sharing at least one band key) are verified with
   the Jaccard similarity estimated from the *full* signature; the best one at or above
   ``THRESHOLD`` is the original;
3. which copy is kept: the earliest published; equal or unknown dates keep the one seen
   first (see ``should_replace``).
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from akhbar.normalize import normalize_arabic

NUM_PERM = 128
BANDS = 32
ROWS = 4  # BANDS * ROWS <= NUM_PERM; every value still counts in the similarity estimate
THRESHOLD = 0.35  # estimated Jaccard (normalised word 2-grams) at or above which a page is a copy
SHINGLE = "word"  # "word" or "char" n-grams
SHINGLE_SIZE = 2
NORMALIZE = True
_SEED = 1

_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)
_C1 = np.uint64(0xBF58476D1CE4E5B9)
_C2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_EMPTY = np.uint32(0xFFFFFFFF)


@dataclass(frozen=True, slots=True)
class Settings:
    """One point of the experiment grid; the module constants are the chosen one."""

    shingle: str = SHINGLE
    size: int = SHINGLE_SIZE
    normalize: bool = NORMALIZE
    num_perm: int = NUM_PERM
    bands: int = BANDS
    rows: int = ROWS
    threshold: float = THRESHOLD
    seed: int = _SEED

    def __post_init__(self) -> None:
        if self.shingle not in ("word", "char"):
            raise ValueError(f"shingle must be 'word' or 'char', not {self.shingle!r}")
        if self.bands * self.rows > self.num_perm:
            raise ValueError(
                f"{self.bands} bands x {self.rows} rows > {self.num_perm} permutations"
            )


DEFAULT = Settings()


def content_hash(text: str) -> bytes:
    """sha256 of the normalised text: equal for copies that differ only in form."""
    return hashlib.sha256(normalize_arabic(text).encode("utf-8")).digest()


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, vectorised (uint64 arithmetic wraps, as intended)."""
    x = x ^ (x >> np.uint64(30))
    x = x * _C1
    x = x ^ (x >> np.uint64(27))
    x = x * _C2
    return x ^ (x >> np.uint64(31))


def _unit_hashes(text: str, settings: Settings) -> np.ndarray:
    """One 64-bit hash per word (word shingles) or per character (char shingles)."""
    if settings.normalize:
        text = normalize_arabic(text)
    if settings.shingle == "word":
        # crc32 is deterministic across processes (Python's hash() is not) and runs in C.
        units = [zlib.crc32(w.encode("utf-8")) for w in text.split()]
        return _mix64(np.array(units, dtype=np.uint64))
    text = " ".join(text.split())
    return _mix64(np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64))


def shingle_hashes(text: str, settings: Settings = DEFAULT) -> np.ndarray:
    """Sorted distinct 64-bit hashes of the text's n-grams (the shingle *set*)."""
    units = _unit_hashes(text, settings)
    n = settings.size
    if len(units) == 0:
        return units
    if len(units) < n:  # a text shorter than one shingle is a single shingle
        n = len(units)
    m = len(units) - n + 1
    acc = units[:m].copy()
    for k in range(1, n):  # order-sensitive combination, one vector pass per position
        acc = _mix64(acc * _GOLDEN + units[k : k + m])
    return np.unique(acc)


@dataclass(frozen=True, slots=True)
class _Perms:
    a: np.ndarray
    b: np.ndarray


_PERMS: dict[tuple[int, int], _Perms] = {}


def _perms(num_perm: int, seed: int) -> _Perms:
    key = (num_perm, seed)
    if key not in _PERMS:
        rng = np.random.default_rng(seed)
        a = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
        b = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64)
        _PERMS[key] = _Perms(a[:, None], b[:, None])
    return _PERMS[key]


def signature_from_shingles(hashes: np.ndarray, settings: Settings = DEFAULT) -> np.ndarray:
    """MinHash over pre-hashed shingles: ``num_perm`` multiply-shift hash functions
    ``(a*x + b mod 2^64) >> 32`` applied as one (num_perm x shingles) matrix."""
    if len(hashes) == 0:
        return np.full(settings.num_perm, _EMPTY, dtype=np.uint32)
    p = _perms(settings.num_perm, settings.seed)
    out = np.empty(settings.num_perm, dtype=np.uint32)
    # Chunked so a book-length page does not allocate num_perm x 100k values at once.
    step = 4096
    mins = None
    for start in range(0, len(hashes), step):
        chunk = hashes[start : start + step][None, :]
        vals = ((p.a * chunk + p.b) >> np.uint64(32)).min(axis=1)
        mins = vals if mins is None else np.minimum(mins, vals)
    out[:] = mins
    return out


def signature(text: str, settings: Settings = DEFAULT) -> np.ndarray:
    """MinHash signature of the text as ``num_perm`` uint32 values."""
    return signature_from_shingles(shingle_hashes(text, settings), settings)


def signature_to_bytes(sig: np.ndarray) -> bytes:
    return sig.astype("<u4").tobytes()


def signature_from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<u4").astype(np.uint32)


def band_hashes(sigs: np.ndarray, settings: Settings = DEFAULT) -> np.ndarray:
    """Band hashes of many signatures at once: (n, num_perm) uint32 -> (n, bands) int64.

    The band number is mixed into the hash, so a hash alone is unique across bands and can
    serve as an advisory-lock key.
    """
    b, r = settings.bands, settings.rows
    sigs = np.atleast_2d(sigs)
    rows = sigs[:, : b * r].astype(np.uint64).reshape(len(sigs), b, r)
    acc = np.broadcast_to(_mix64(np.arange(b, dtype=np.uint64) + _GOLDEN), (len(sigs), b))
    for j in range(r):
        acc = _mix64(acc * _GOLDEN + rows[:, :, j])
    return acc.view(np.int64)


def band_keys(sig: np.ndarray, settings: Settings = DEFAULT) -> list[tuple[int, int]]:
    """(band, signed 64-bit hash of the band's rows): the persisted LSH keys."""
    return list(enumerate(band_hashes(sig, settings)[0].tolist()))


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures (fraction of equal values)."""
    if a[0] == _EMPTY and np.all(a == _EMPTY):
        return 0.0  # an empty text resembles nothing (exact hashing catches empty copies)
    return float(np.count_nonzero(a == b)) / len(a)


def lsh_probability(j: float, bands: int = BANDS, rows: int = ROWS) -> float:
    """Probability that two texts of Jaccard ``j`` share at least one band: 1-(1-j^r)^b."""
    return 1.0 - (1.0 - j**rows) ** bands


@dataclass(frozen=True, slots=True)
class Decision:
    duplicate_of: int | str | None
    similarity: float
    kind: str | None = None  # 'url', 'exact' or 'near' when duplicate_of is set


def decide(
    sig: np.ndarray,
    candidates: Iterable[tuple[int | str, np.ndarray]],
    threshold: float = THRESHOLD,
) -> Decision:
    """Verify LSH candidates on the full signature: the most similar one at or above the
    threshold is the original (ties: the first candidate, i.e. the one stored first)."""
    best_id, best = None, 0.0
    for cand_id, cand_sig in candidates:
        sim = similarity(sig, cand_sig)
        if sim > best:
            best_id, best = cand_id, sim
    if best_id is not None and best >= threshold:
        return Decision(best_id, best, "near")
    return Decision(None, best)


def should_replace(new_published: datetime | None, stored_published: datetime | None) -> bool:
    """Should a newly seen copy become the cluster's representative instead of the stored one?

    Only when it was published strictly earlier (a later-arriving earlier original). An
    unknown date never wins; equal dates keep the stored one (first seen).
    """
    if new_published is None:
        return False
    return stored_published is None or new_published < stored_published


class MinHashIndex:
    """In-memory LSH index, the same scheme as the persisted one: exact hashes plus band
    buckets of the *kept* articles (copies are never indexed, as in the database)."""

    def __init__(self, settings: Settings = DEFAULT) -> None:
        self.settings = settings
        self._buckets: dict[tuple[int, int], list[int | str]] = {}
        self._sigs: dict[int | str, np.ndarray] = {}
        self._keys: dict[int | str, list[tuple[int, int]]] = {}
        self._hashes: dict[bytes, int | str] = {}
        self._hash_of: dict[int | str, bytes] = {}

    def __len__(self) -> int:
        return len(self._sigs)

    def add(self, key: int | str, sig: np.ndarray, chash: bytes | None = None) -> None:
        if key in self._sigs:
            raise KeyError(f"{key!r} is already indexed")
        self._sigs[key] = sig
        self._keys[key] = band_keys(sig, self.settings)
        for bk in self._keys[key]:
            self._buckets.setdefault(bk, []).append(key)
        if chash is not None:
            self._hashes.setdefault(chash, key)
            self._hash_of[key] = chash

    def remove(self, key: int | str) -> None:
        del self._sigs[key]
        for bk in self._keys.pop(key):
            bucket = self._buckets[bk]
            bucket.remove(key)
            if not bucket:
                del self._buckets[bk]
        chash = self._hash_of.pop(key, None)
        if chash is not None and self._hashes.get(chash) == key:
            del self._hashes[chash]

    def exact(self, chash: bytes) -> int | str | None:
        return self._hashes.get(chash)

    def candidates(self, sig: np.ndarray) -> list[tuple[int | str, np.ndarray]]:
        """Indexed articles sharing at least one band key with ``sig``, in insertion order."""
        seen: dict[int | str, None] = {}
        for bk in band_keys(sig, self.settings):
            for key in self._buckets.get(bk, ()):
                seen.setdefault(key, None)
        order = {k: i for i, k in enumerate(self._sigs)} if len(seen) > 1 else {}
        keys = sorted(seen, key=order.get) if order else list(seen)
        return [(k, self._sigs[k]) for k in keys]

    def check(self, sig: np.ndarray, chash: bytes | None = None) -> Decision:
        """The decision for a new article, without adding it."""
        if chash is not None and (orig := self.exact(chash)) is not None:
            return Decision(orig, 1.0, "exact")
        return decide(sig, self.candidates(sig), self.settings.threshold)

    def check_and_add(
        self, key: int | str, sig: np.ndarray, chash: bytes | None = None
    ) -> Decision:
        """Decide, and index the article when it is kept."""
        decision = self.check(sig, chash)
        if decision.duplicate_of is None:
            self.add(key, sig, chash)
        return decision
