"""Dedup core: content hashes, MinHash signatures, LSH band keys and the decision rules.

No database here: ``db/dedup_index.py`` persists the band keys and ``db/article_store.py``
writes articles; both decide with ``DedupEngine`` below, as ``akhbar dedup`` does on a JSONL
file (``CorpusDeduplicator``). ``MinHashIndex`` is the in-memory LSH index the engine uses.
Settings were chosen on the labelled set (``bench/dedup_quality.py``, ``docs/dedup.md``).

Rules, in order:

1. exact duplicate: same ``content_hash`` (sha256 of the whole normalised body);
2. recurring text: paragraphs found in ``RECURRING_STORIES`` different stories (notices,
   sign-offs, statements quoted everywhere; learned by ``RecurringText``) are left out of the
   signature, so they cannot make two articles similar;
3. near duplicate: LSH candidates (articles sharing at least one band key) are verified with
   the Jaccard similarity estimated from the *full* signature; the best one at or above
   ``THRESHOLD`` is the original, provided both texts carry at least ``MIN_SHINGLES``
   distinct shingles (estimated from the signatures); shorter texts only match exactly;
4. which copy is kept: the earliest published; equal or unknown dates keep the one seen
   first (see ``should_replace``).
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import numpy as np

from akhbar.normalize import needs_nfkc, normalize_arabic

NUM_PERM = 128
BANDS = 32
ROWS = 4  # BANDS * ROWS <= NUM_PERM; every value still counts in the similarity estimate
THRESHOLD = 0.35  # estimated Jaccard (normalised word 2-grams) at or above which a page is a copy
SHINGLE = "word"  # "word" or "char" n-grams
SHINGLE_SIZE = 2
NORMALIZE = True
# Below this many distinct shingles (estimated from the signature of the text without its
# recurring paragraphs) an article is too short for a near-duplicate verdict: only exact.
MIN_SHINGLES = 20
# A paragraph seen in this many different stories is recurring text (N of docs/dedup.md).
RECURRING_STORIES = 2
# Stored articles remembered per paragraph while it is not recurring (``RecurringText.carriers``),
# to sign them again when it turns recurring. A paragraph reaches it only when that many kept
# articles of one story share it; later ones are left to ``akhbar dedup-index rebuild``.
MAX_CARRIERS = 100
# Paragraphs of fewer words are not tracked (they hold too few shingles to matter).
MIN_PARAGRAPH_WORDS = 3
# The "story" a paragraph appears in is the rest of its article, as a small MinHash: two
# rests with at least CONTEXT_SAME of CONTEXT_PERM values equal (estimated Jaccard >= 0.19)
# are one story.
CONTEXT_PERM = 16
CONTEXT_SAME = 3
_CONTEXT_SEED = 2
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
    min_shingles: int = MIN_SHINGLES  # 0: no minimum (the rule before issue 15)
    recurring: int = RECURRING_STORIES  # 0: recurring text counts (the rule before issue 15)
    # False: stored articles keep a paragraph that turns recurring after them in their
    # signature (the rule before revision 0012).
    resign: bool = True
    # False: the first LSH candidate is the original, unchecked (for comparisons only).
    verify: bool = True

    def __post_init__(self) -> None:
        if self.shingle not in ("word", "char"):
            raise ValueError(f"shingle must be 'word' or 'char', not {self.shingle!r}")
        if self.bands * self.rows > self.num_perm:
            raise ValueError(
                f"{self.bands} bands x {self.rows} rows > {self.num_perm} permutations"
            )


DEFAULT = Settings()
# The rule before recurring text and the short-text minimum (kept for comparisons).
PLAIN = Settings(min_shingles=0, recurring=0)


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
    # Chunked so a book-length page does not allocate num_perm x 100k values at once.
    step = 4096
    mins = None
    for start in range(0, len(hashes), step):
        # (shingles x num_perm): the minimum over rows is about 10% faster than over columns.
        vals = hashes[start : start + step, None] * p.a.T
        vals += p.b.T
        # The minimum before the shift: x >> 32 never reorders, and it spares a pass.
        low = vals.min(axis=0)
        mins = low if mins is None else np.minimum(mins, low)
    return (mins >> np.uint64(32)).astype(np.uint32)


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


def band_key_pairs(sig: np.ndarray, settings: Settings = DEFAULT) -> list[tuple[int, int]]:
    """(band number, signed 64-bit hash of the band's rows), one per band (the hash alone,
    band mixed in, is the persisted key: ``db.dedup_index.lsh_keys``)."""
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


def estimated_shingles(sig: np.ndarray) -> float:
    """Distinct shingles behind a signature, estimated from its minima (each value is the
    least of n uniform 32-bit hashes; relative error about 1/sqrt(num_perm), 9 % at 128).
    The same number wherever the signature is, so every entry point applies the same rule."""
    u = sig.astype(np.float64) / 2.0**32
    total = float(-np.log1p(-u).sum())
    if total <= 0.0 or sig[0] == _EMPTY and np.all(sig == _EMPTY):
        return 0.0
    return (len(sig) - 1) / total


def decide(
    sig: np.ndarray,
    candidates: Iterable[tuple[int | str, np.ndarray]],
    threshold: float = THRESHOLD,
    min_shingles: float = MIN_SHINGLES,
) -> Decision:
    """Verify LSH candidates on the full signature: the most similar one at or above the
    threshold is the original (ties: the first candidate, i.e. the one stored first).
    Texts below ``min_shingles`` distinct shingles (either side) are never near copies."""
    best_id, best, best_sig = None, 0.0, None
    for cand_id, cand_sig in candidates:
        sim = similarity(sig, cand_sig)
        if sim > best:
            best_id, best, best_sig = cand_id, sim, cand_sig
    if best_id is not None and best >= threshold:
        if min_shingles and (
            estimated_shingles(sig) < min_shingles or estimated_shingles(best_sig) < min_shingles
        ):
            return Decision(None, best)
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

    def __contains__(self, key: object) -> bool:
        return key in self._sigs

    def add(
        self,
        key: int | str,
        sig: np.ndarray,
        chash: bytes | None = None,
        keys: list[tuple[int, int]] | None = None,
    ) -> None:
        """Index ``key``; ``keys`` are ``band_key_pairs(sig)`` when already computed."""
        if key in self._sigs:
            raise KeyError(f"{key!r} is already indexed")
        self._sigs[key] = sig
        self._keys[key] = keys if keys is not None else band_key_pairs(sig, self.settings)
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

    def replace(
        self, key: int | str, sig: np.ndarray, keys: list[tuple[int, int]] | None = None
    ) -> None:
        """Index ``key`` under a new signature, keeping its place in insertion order (its age:
        a representative that takes a new copy keeps its id)."""
        if key not in self._sigs:
            self.add(key, sig, keys=keys)
            return
        for bk in self._keys[key]:
            bucket = self._buckets[bk]
            bucket.remove(key)
            if not bucket:
                del self._buckets[bk]
        self._sigs[key] = sig  # an existing key: its position in the dict is kept
        self._keys[key] = keys if keys is not None else band_key_pairs(sig, self.settings)
        for bk in self._keys[key]:
            self._buckets.setdefault(bk, []).append(key)

    def exact(self, chash: bytes) -> int | str | None:
        return self._hashes.get(chash)

    def signature(self, key: int | str) -> np.ndarray | None:
        """The signature ``key`` is indexed under (None when it is not indexed)."""
        return self._sigs.get(key)

    def candidates(
        self, sig: np.ndarray, keys: list[tuple[int, int]] | None = None
    ) -> list[tuple[int | str, np.ndarray]]:
        """Indexed articles sharing at least one band key with ``sig``, in insertion order."""
        seen: dict[int | str, None] = {}
        for bk in keys if keys is not None else band_key_pairs(sig, self.settings):
            for key in self._buckets.get(bk, ()):
                seen.setdefault(key, None)
        order = {k: i for i, k in enumerate(self._sigs)} if len(seen) > 1 else {}
        keys = sorted(seen, key=order.get) if order else list(seen)
        return [(k, self._sigs[k]) for k in keys]

    def check(self, sig: np.ndarray, chash: bytes | None = None) -> Decision:
        """The decision for a new article, without adding it."""
        if chash is not None and (orig := self.exact(chash)) is not None:
            return Decision(orig, 1.0, "exact")
        return decide(
            sig, self.candidates(sig), self.settings.threshold, self.settings.min_shingles
        )

    def check_and_add(
        self, key: int | str, sig: np.ndarray, chash: bytes | None = None
    ) -> Decision:
        """Decide, and index the article when it is kept."""
        decision = self.check(sig, chash)
        if decision.duplicate_of is None:
            self.add(key, sig, chash)
        return decision


# --- Recurring text -------------------------------------------------------------------------
#
# A paragraph that different stories share verbatim (an agency's rights notice, a site's
# sign-off, a statement quoted by every report) says nothing about whether two articles are
# copies. ``RecurringText`` learns such paragraphs: for each paragraph hash it keeps the
# "stories" it was seen in, each as a small MinHash of the rest of its article (the article
# without that paragraph and without already recurring ones); when ``Settings.recurring``
# different rests have been seen, the paragraph is recurring and is left out of signatures
# from then on. Copies of one story have similar rests, so republishing a wire story never
# makes its own paragraphs recurring. The article being decided is counted before its
# decision, so the second brief ending with a notice already finds the notice recurring.


# An article's key in the engine: a database id, a corpus id, or a writer's placeholder.
Key = int | str | tuple


@dataclass(frozen=True, slots=True)
class Paragraphs:
    """What recurring-text learning needs of one text (no text kept)."""

    hashes: np.ndarray  # int64, distinct tracked paragraphs, in first-appearance order
    sketches: np.ndarray  # (len(hashes), CONTEXT_PERM) uint32: MinHash of each one's shingles
    rest: np.ndarray  # CONTEXT_PERM uint32: MinHash of the untracked (short) paragraphs

    def __reduce__(self) -> tuple[Any, tuple[bytes, bytes, bytes]]:
        # As raw bytes: a crawl worker sends one per page, and pickling three numpy arrays
        # as arrays costs several times more (each carries its dtype and reconstructor).
        return _paragraphs_from_bytes, (
            self.hashes.astype(np.int64, copy=False).tobytes(),
            self.sketches.astype(np.uint32, copy=False).tobytes(),
            self.rest.astype(np.uint32, copy=False).tobytes(),
        )


def _paragraphs_from_bytes(hashes: bytes, sketches: bytes, rest: bytes) -> Paragraphs:
    return Paragraphs(
        np.frombuffer(hashes, dtype=np.int64).copy(),
        np.frombuffer(sketches, dtype=np.uint32).reshape(-1, CONTEXT_PERM).copy(),
        np.frombuffer(rest, dtype=np.uint32).copy(),
    )


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs are lines (``Article.text`` joins them with blank lines)."""
    return [line for line in (raw.strip() for raw in text.splitlines()) if line]


def paragraph_hash(normalised: str) -> int:
    """Signed 64-bit hash of a normalised paragraph (a bigint in the database)."""
    digest = hashlib.blake2b(normalised.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


_CONTEXT = Settings(
    normalize=False, num_perm=CONTEXT_PERM, bands=CONTEXT_PERM, rows=1, seed=_CONTEXT_SEED
)


def paragraphs(text: str) -> Paragraphs:
    """Hashes and sketches of the text's tracked paragraphs."""
    return paragraphs_of_forms([normalize_arabic(raw) for raw in split_paragraphs(text)])


def signature_and_paragraphs(
    text: str, settings: Settings = DEFAULT
) -> tuple[np.ndarray, Paragraphs]:
    """``signature(text)`` and ``paragraphs(text)`` with one normalisation pass (the whole
    text's normal form is its lines' normal forms joined, unless NFKC must run)."""
    if not settings.normalize or needs_nfkc(text):
        return signature(text, settings), paragraphs(text)
    lines = [normalize_arabic(raw) for raw in split_paragraphs(text)]
    whole = " ".join(line for line in lines if line)
    return signature(whole, replace(settings, normalize=False)), paragraphs_of_forms(lines)


def paragraphs_of_forms(normalised_lines: list[str]) -> Paragraphs:
    """``paragraphs(text)`` from the ``normalize_arabic`` form of each of its lines
    (``split_paragraphs``), for a caller that has them already."""
    hashes: list[int] = []
    shingles: list[np.ndarray] = []
    short: list[np.ndarray] = []
    for normalised in normalised_lines:
        if not normalised:
            continue
        if normalised.count(" ") + 1 < MIN_PARAGRAPH_WORDS:
            short.append(shingle_hashes(normalised, _CONTEXT))
            continue
        h = paragraph_hash(normalised)
        if h in hashes:
            continue
        hashes.append(h)
        shingles.append(shingle_hashes(normalised, _CONTEXT))
    return _sketched(hashes, shingles, short)


def _sketched(hashes: list[int], shingles: list[np.ndarray], short: list[np.ndarray]) -> Paragraphs:
    """Paragraphs from the tracked paragraphs' hashes and shingle hashes, and the short
    ones' shingle hashes (repeated values allowed: a sketch is a minimum)."""
    # One (CONTEXT_PERM x all shingles) matrix, reduced per paragraph; short ones last.
    groups = [*shingles, np.concatenate(short) if short else np.empty(0, np.uint64)]
    sizes = np.array([len(g) for g in groups])
    sketches = np.full((len(groups), CONTEXT_PERM), _EMPTY, dtype=np.uint32)
    if sizes.sum():
        p = _perms(CONTEXT_PERM, _CONTEXT_SEED)
        values = p.a * np.concatenate(groups)
        values += p.b
        nonempty = sizes > 0
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))[nonempty]
        # Minima before the shift (x >> 32 never reorders them): one pass less.
        low = np.minimum.reduceat(values, starts, axis=1)
        sketches[nonempty] = (low >> np.uint64(32)).astype(np.uint32).T
    return Paragraphs(np.array(hashes, dtype=np.int64), sketches[:-1], sketches[-1])


def signature_and_paragraphs_of_forms(normalised_lines: list[str]) -> tuple[np.ndarray, Paragraphs]:
    """``signature`` (DEFAULT settings) of the text whose normal form is ``normalised_lines``
    joined by spaces, and ``paragraphs_of_forms(normalised_lines)``.

    The words are hashed once for both: a paragraph's shingles are the text's word pairs
    inside it (a one-word paragraph: its word), and the text's shingles are all the pairs.
    Shingles are not made distinct: MinHash takes minima, which repeats do not change."""
    if not (DEFAULT.shingle == _CONTEXT.shingle == "word" and DEFAULT.size == _CONTEXT.size == 2):
        whole = " ".join(line for line in normalised_lines if line)
        return signature(whole, replace(DEFAULT, normalize=False)), paragraphs_of_forms(
            normalised_lines
        )
    forms = [line for line in normalised_lines if line]
    whole = " ".join(forms).encode("utf-8")
    # _unit_hashes' crc32 of each word; normal forms separate words by single spaces, so
    # splitting the encoded text gives the words' bytes (twice faster than word by word).
    crcs = list(map(zlib.crc32, whole.split(b" "))) if whole else []
    units = _mix64(np.array(crcs, dtype=np.uint64))
    pairs = _mix64(units[:-1] * _GOLDEN + units[1:])  # pairs[i]: words i and i + 1
    sig = signature_from_shingles(pairs if len(units) > 1 else units)
    # Each paragraph's sketch is the minimum of the CONTEXT_PERM hashes over its pairs: one
    # reduceat over all pairs, cut at each multi-word paragraph's first pair and at the pair
    # that spans the break after it (reduced too, and ignored).
    hashes: list[int] = []
    tracked: list[int] = []  # their columns in the reduceat
    short: list[int] = []  # columns of the short paragraphs of two words
    one_word: list[int] = []  # the word of each one-word paragraph
    cuts: list[int] = []
    start = 0
    for form in forms:
        words = form.count(" ") + 1  # a normalised form: words split by single spaces
        end = start + words
        column = len(cuts)
        if words > 1:
            cuts += (start, end - 1)
        if words < MIN_PARAGRAPH_WORDS:
            if words > 1:
                short.append(column)
            else:
                one_word.append(start)
        elif (h := paragraph_hash(form)) not in hashes:
            hashes.append(h)
            tracked.append(column)
        start = end
    p = _perms(CONTEXT_PERM, _CONTEXT_SEED)
    # Minima before the shift (x >> 32 never reorders them), as in signature_from_shingles.
    if cuts:
        if cuts[-1] == len(pairs):  # the last paragraph's pairs run to the end
            cuts.pop()
        values = p.a * pairs
        values += p.b
        mins = np.minimum.reduceat(values, cuts, axis=1).T
    else:
        mins = np.empty((0, CONTEXT_PERM), dtype=np.uint64)
    sketches = (mins[tracked] >> np.uint64(32)).astype(np.uint32)
    rest = np.full(CONTEXT_PERM, _EMPTY, dtype=np.uint32)
    if short or one_word:
        low = mins[short].min(axis=0, initial=np.uint64(2**64 - 1))
        if one_word:
            values = p.a * units[one_word]
            values += p.b
            low = np.minimum(low, values.min(axis=1))
        rest = (low >> np.uint64(32)).astype(np.uint32)
    return sig, Paragraphs(np.array(hashes, dtype=np.int64), sketches, rest)


def without_paragraphs(text: str, recurring: Iterable[int]) -> str:
    """The text without the paragraphs whose hash is in ``recurring``."""
    drop = set(recurring)
    kept = [p for p in split_paragraphs(text) if paragraph_hash(normalize_arabic(p)) not in drop]
    return "\n\n".join(kept)


def paragraph_texts(text: str, hashes: Iterable[int]) -> dict[int, str]:
    """The paragraphs of ``text`` whose hash is in ``hashes`` (to keep a recurring one's text)."""
    wanted = set(hashes)
    found = {}
    for raw in split_paragraphs(text):
        h = paragraph_hash(normalize_arabic(raw))
        if h in wanted:
            found[h] = raw
    return found


class RecurringText:
    """The learned set, in memory: the whole of it (``akhbar dedup``) or the rows of the
    paragraphs at hand, loaded from ``recurring_text`` (the database is the source of truth).

    ``stories[h]`` holds the rests (CONTEXT_PERM-value sketches, one row per different story)
    of a paragraph that is not recurring yet; ``recurring`` the paragraphs that are;
    ``changed`` what ``observe`` changed since the last ``take_changes``."""

    def __init__(self, stories: int = RECURRING_STORIES) -> None:
        self.stories_needed = stories
        self.stories: dict[int, np.ndarray] = {}
        self.recurring: set[int] = set()
        self.changed: set[int] = set()
        self.stored: set[int] = set()  # loaded from the database (the others are new rows)
        self.last_new: list[int] = []  # paragraphs that became recurring in the last observe
        # The kept articles carrying each paragraph while it is not recurring (database ids,
        # or an engine's keys until the writer names them): signed again when it turns.
        self.carriers: dict[int, list[Key]] = {}

    def load(
        self, h: int, stories: np.ndarray, recurring: bool, carriers: Iterable[Key] = ()
    ) -> None:
        self.stored.add(h)
        if recurring:
            self.recurring.add(h)
        else:
            self.stories[h] = stories
            if carriers:
                self.carriers[h] = list(carriers)

    def add_carrier(self, hashes: Iterable[int], key: Key) -> None:
        """``key``, a kept article, carries these (not recurring) paragraphs."""
        for h in hashes:
            known = self.carriers.setdefault(h, [])
            if key not in known and len(known) < MAX_CARRIERS:
                known.append(key)
                self.changed.add(h)

    def rename_carriers(self, names: dict[Key, Key]) -> None:
        """Engine keys become database ids (after the writer drew them)."""
        for h, keys in self.carriers.items():
            if any(k in names for k in keys):
                self.carriers[h] = list(dict.fromkeys(names.get(k, k) for k in keys))

    def recurring_in(self, found: Paragraphs) -> list[int]:
        return [h for h in found.hashes.tolist() if h in self.recurring]

    def observe(self, found: Paragraphs) -> list[int]:
        """Count this article's paragraphs (each in the story told by the rest of the
        article) and return its recurring paragraphs, this article included."""
        self.last_new = []
        if not self.stories_needed or not len(found.hashes):
            return []
        hashes = found.hashes.tolist()
        live = [i for i, h in enumerate(hashes) if h not in self.recurring]
        if live:
            sketches = found.sketches[live] if len(live) < len(hashes) else found.sketches
            # The rest of the article for each live paragraph: the least of the other live
            # paragraphs' values (the column minimum, or the second smallest where the
            # paragraph holds the minimum) and of the short paragraphs'.
            first = sketches.argmin(axis=0)
            cols = np.arange(CONTEXT_PERM)
            lowest = sketches[first, cols]
            if len(live) > 1:
                masked = sketches.copy()
                masked[first, cols] = _EMPTY
                second = masked.min(axis=0)
            else:
                second = np.full(CONTEXT_PERM, _EMPTY, dtype=np.uint32)
            own = np.arange(len(live))[:, None] == first[None, :]
            contexts = np.minimum(np.where(own, second, lowest), found.rest)
            empty = (contexts == _EMPTY).all(axis=1).tolist()
            for k, i in enumerate(live):
                if empty[k]:
                    continue  # nothing else in the article: no story to tell it apart by
                h = hashes[i]
                known = self.stories.get(h)
                context = contexts[k : k + 1]
                if known is None or not len(known):
                    self.stories[h] = context
                    self.changed.add(h)
                    continue
                if (known == context).sum(axis=1).max() >= CONTEXT_SAME:
                    continue  # a story already counted (a copy of it, or the same article)
                known = np.vstack([known, context])
                self.changed.add(h)
                if len(known) >= self.stories_needed:
                    del self.stories[h]
                    self.recurring.add(h)
                    self.last_new.append(h)
                else:
                    self.stories[h] = known
        return self.recurring_in(found)

    def take_changes(self) -> list[tuple[int, np.ndarray | None, list[Key] | None]]:
        """Rows changed since the last call, as (hash, stories, carriers), stories and carriers
        None when recurring (a paragraph only carried so far has no story rows)."""
        none = np.empty((0, CONTEXT_PERM), dtype=np.uint32)
        out = [
            (h, None, None)
            if h in self.recurring
            else (h, self.stories.get(h, none), self.carriers.get(h, []))
            for h in self.changed
        ]
        self.changed = set()
        return out


def stories_to_bytes(stories: np.ndarray) -> bytes:
    return stories.astype("<u4").tobytes()


def stories_from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<u4").astype(np.uint32).reshape(-1, CONTEXT_PERM)


def residual_signature(
    text: str,
    recurring: Iterable[int],
    full: np.ndarray | None = None,
    settings: Settings = DEFAULT,
) -> np.ndarray:
    """The signature used for near-duplicate decisions: of the text without its recurring
    paragraphs (``full``, the whole text's signature, when none is recurring)."""
    drop = set(recurring)
    if not drop:
        return signature(text, settings) if full is None else full
    if settings.normalize and not needs_nfkc(text):
        # normalize_arabic works character by character and folds whitespace (NFKC aside),
        # so the kept lines' forms joined by spaces are the residual text's own form: each
        # line is normalised once, not again inside the residual text.
        forms = (normalize_arabic(line) for line in split_paragraphs(text))
        kept = " ".join(form for form in forms if form and paragraph_hash(form) not in drop)
        return signature(kept, _prenormalised(settings))
    return signature(without_paragraphs(text, drop), settings)


@lru_cache(maxsize=64)
def _prenormalised(settings: Settings) -> Settings:
    """``settings`` for a text that is already normalised."""
    return replace(settings, normalize=False)


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What a corpus run keeps of an article: its signature, content hash, paragraphs, and
    its text compressed (to sign it again should some of its paragraphs turn out recurring)."""

    signature: np.ndarray
    content_hash: bytes
    paragraphs: Paragraphs
    text_zlib: bytes

    @property
    def text(self) -> str:
        return zlib.decompress(self.text_zlib).decode("utf-8")


def fingerprint(text: str, settings: Settings = DEFAULT) -> Fingerprint:
    sig, found = signature_and_paragraphs(text, settings)
    return Fingerprint(sig, content_hash(text), found, zlib.compress(text.encode("utf-8"), 1))


@dataclass(frozen=True, slots=True)
class Signed:
    """An article as the decision rules see it: its text (signed again without recurring
    paragraphs when it has some), the whole text's signature and content hash, and its
    paragraphs (computed from the text when None). ``Fingerprint`` serves the same way."""

    text: str
    signature: np.ndarray
    content_hash: bytes
    paragraphs: Paragraphs | None = None


@dataclass(frozen=True, slots=True)
class Stored:
    """A stored article a lookup found (a possible original)."""

    key: Key
    signature: np.ndarray | None
    content_hash: bytes | None = None
    published: datetime | None = None
    text: str | None = None  # given for articles to sign again (carriers of a paragraph)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The engine's decision for one article."""

    decision: Decision  # duplicate_of: the key of a known article or of one kept earlier
    signature: np.ndarray  # the signature decided with (without recurring paragraphs)
    # Published strictly before the representative (``should_replace``): the article takes
    # the representative's place (same key), and the representative becomes the copy.
    replace: bool = False


def publication_order(published: Sequence[datetime | None]) -> list[int]:
    """Decision order of a batch: earliest published first, undated last, then given order
    (so within a batch the kept copy is the one one-by-one storing would keep in the end)."""

    def key(i: int) -> tuple[int, int, int]:
        # Whole microseconds since the epoch: comparing aware datetimes directly calls
        # utcoffset() on both sides of every comparison (5x slower on a batch of 100).
        when = published[i]
        if when is None:
            return (1, 0, i)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return (0, (when - _EPOCH) // _MICROSECOND, i)

    return sorted(range(len(published)), key=key)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class DedupEngine:
    """The decision rules in one place, with no database: every writer (crawl, import,
    reprocess) and ``akhbar dedup`` decide through it.

    Known articles (``know``: the stored candidates a database lookup found, in id order, so
    that ties go to the one stored first) and known URLs (``know_url``) come first; then
    ``decide`` takes articles one at a time, in the order given, and remembers each kept one
    (and each representative it replaces) for the next. Rules, in order: URL already known
    -> count the paragraphs (``RecurringText``) and sign the text without its recurring ones
    -> exact (content hash) -> near (LSH candidates verified on the signature)."""

    def __init__(self, settings: Settings = DEFAULT, recurring: RecurringText | None = None):
        self.settings = settings
        self.index = MinHashIndex(settings)
        self.recurring = recurring if recurring is not None else RecurringText(settings.recurring)
        self.recurring_texts: dict[int, str] = {}  # texts of paragraphs that became recurring
        # Known articles signed again because a paragraph of theirs turned recurring, with
        # their new signature (the writer stores it: ``articles.minhash`` and bands).
        self.resigned: dict[Key, np.ndarray] = {}
        self.turned: list[int] = []  # paragraphs that turned recurring, in counting order
        self._just_turned: list[int] = []  # ... in the last ``sign``
        self._later: set[int] = set()  # in a batch: turned by an item not decided yet
        self._texts: dict[Key, Signed | Fingerprint | str] = {}  # what each member says
        self._found: dict[Key, Paragraphs] = {}  # paragraphs of the stored texts among them
        self._urls: dict[str, Key] = {}
        self._exact: dict[bytes, Key] = {}
        self._hash_of: dict[Key, bytes] = {}
        self._published: dict[Key, datetime | None] = {}
        self.compared = 0  # LSH candidates compared (the index's work)

    def know(
        self,
        key: Key,
        sig: np.ndarray | None,
        content_hash: bytes | None = None,
        published: datetime | None = None,
        pairs: list[tuple[int, int]] | None = None,
        text: str | None = None,
    ) -> None:
        """A stored article that can be an original (call in id order; ``pairs``: its band
        key pairs when computed; ``text``: its body, to sign it again should one of its
        paragraphs turn recurring)."""
        if text is not None:
            self._texts.setdefault(key, text)
        if key in self._published:
            return
        self._published[key] = published
        if sig is not None:
            self.index.add(key, sig, keys=pairs)
        if content_hash is not None:
            self._exact.setdefault(content_hash, key)
            self._hash_of[key] = content_hash

    def know_url(self, url: str, key: Key) -> None:
        self._urls.setdefault(url, key)

    def know_all(self, rows: Iterable[Stored], extra: Iterable[Stored] = ()) -> None:
        """``know`` the rows a lookup found (in id order) and ``extra`` ones (carriers to sign
        again, with their text), all in key order so that ties still go to the oldest."""
        rows = list(rows)
        extra = list(extra)
        if extra:
            merged = {row.key: row for row in rows}
            for row in extra:
                merged[row.key] = replace(merged.get(row.key, row), text=row.text)
            rows = sorted(merged.values(), key=lambda row: row.key)
        with_sig = [k for k, row in enumerate(rows) if row.signature is not None]
        pairs = dict(zip(with_sig, self._pairs([rows[k].signature for k in with_sig]), strict=True))
        for k, row in enumerate(rows):
            self.know(
                row.key, row.signature, row.content_hash, row.published, pairs.get(k), row.text
            )

    def carriers_to_fetch(self, hashes: Iterable[int]) -> list[Key]:
        """Known-by-id articles carrying these paragraphs whose text the engine lacks (the
        writer reads them from the database before ``resign``)."""
        keys = {k for h in hashes for k in self.recurring.carriers.get(h, ())}
        return sorted(k for k in keys if isinstance(k, int) and k not in self._texts)

    def resign(self, hashes: Iterable[int]) -> None:
        """Paragraphs ``hashes`` just turned recurring: the members carrying them are signed
        again without their recurring paragraphs (the index swaps their signature in place:
        their age and decisions stay; only the fingerprint changes)."""
        if not self.settings.resign:
            return
        keys = {k: None for h in hashes for k in self.recurring.carriers.get(h, ())}
        for key in keys:
            current = self.index.signature(key)
            said = self._texts.get(key)
            if current is None or said is None:
                continue  # a copy, or a stored article not read (left to the rebuild)
            sig = self.residual(said, key)
            if not np.array_equal(sig, current):
                self.index.replace(key, sig)
                self.resigned[key] = sig

    def stored_paragraphs(self, key: Key, text: str) -> Paragraphs:
        """The paragraphs of a stored article's text (computed once)."""
        if key not in self._found:
            self._found[key] = paragraphs(text)
        return self._found[key]

    def residual(self, said: Signed | Fingerprint | str, key: Key | None = None) -> np.ndarray:
        """The signature of a member's text without its paragraphs recurring by now."""
        if isinstance(said, str):
            found = paragraphs(said) if key is None else self.stored_paragraphs(key, said)
            body, full = said, None
        else:
            body, found, full = said.text, said.paragraphs, said.signature
            if found is None:
                found = paragraphs(body)
        drop = [h for h in found.hashes.tolist() if self._is_recurring(h)]
        return residual_signature(body, drop, full, self.settings)

    def relearn(self, keys: Sequence[Key], articles: Sequence[Signed | Fingerprint]) -> None:
        """Stored articles read again, oldest first (``akhbar dedup-index rebuild``): count
        their paragraphs as their storing did (a story counted already counts once) and
        remember each as carrying its paragraphs that are still not recurring. Their
        signatures are then ``residual(article)``; ``turned`` lists what turned recurring."""
        for article in articles:
            self.sign(article)
        for key, article in zip(keys, articles, strict=True):
            self._remember(key, article)

    def _is_recurring(self, h: int) -> bool:
        return h in self.recurring.recurring and h not in self._later

    def _remember(self, key: Key, article: Signed | Fingerprint) -> None:
        """``key`` (kept, or the representative a copy took over) now says ``article``: it
        carries its paragraphs that are not recurring."""
        if not (self.settings.recurring and self.settings.resign):
            return
        self._texts[key] = article
        found = article.paragraphs
        if found is None:
            found = paragraphs(article.text)
        live = [h for h in found.hashes.tolist() if not self._is_recurring(h)]
        if live:
            self.recurring.add_carrier(live, key)

    def decide(
        self,
        key: Key,
        article: Signed | Fingerprint,
        published: datetime | None = None,
        urls: Iterable[str] = (),
    ) -> Verdict:
        """Decide one article (URL, counting, exact, near) and remember it."""
        urls = tuple(urls)
        known = next((self._urls[u] for u in urls if u in self._urls), None)
        if known is not None:  # a URL repeat: neither counted nor decided on its text
            return Verdict(Decision(known, 1.0, "url"), article.signature)
        sig = self.sign(article)
        if self._just_turned:
            self.resign(self._just_turned)
        return self.judge(key, article, sig, published, urls)

    def decide_batch(
        self,
        keys: Sequence[Key],
        articles: Sequence[Signed | Fingerprint],
        published: Sequence[datetime | None],
        urls: Sequence[tuple[str, ...]],
        lookup: Callable[[np.ndarray, list[bytes]], Iterable[Stored]] | None = None,
        fetch: Callable[[list[Key]], Iterable[Stored]] | None = None,
    ) -> list[Verdict]:
        """Decide a batch in publication order, as ``decide`` one by one would; results in
        the given order. Counting runs first (it does not depend on decisions), so the
        signatures to decide with are known before ``lookup`` is asked for the stored
        articles that can match them (``lookup(signatures, content_hashes)``, rows to
        ``know`` in id order). When a paragraph turns recurring, ``fetch(ids)`` gives the
        stored articles carrying it (with their text); they are signed again just before
        the item that turned it is decided, as one-by-one storing would have it."""
        order = publication_order(published)
        turned_by: dict[int, list[int]] = {}
        repeats_known: dict[int, Key] = {}  # URL repeats of a known article
        repeats_item: dict[int, int] = {}  # URL repeats of an earlier item of the batch
        sigs: dict[int, np.ndarray] = {}
        seen: dict[str, int] = {}
        for i in order:
            known = next((self._urls[u] for u in urls[i] if u in self._urls), None)
            earlier = next((seen[u] for u in urls[i] if u in seen), None)
            if known is not None:
                repeats_known[i] = known
                continue
            if earlier is not None:
                repeats_item[i] = earlier
                continue
            for u in urls[i]:
                seen.setdefault(u, i)
            sigs[i] = self.sign(articles[i])
            if self._just_turned:
                turned_by[i] = self._just_turned
        pending = sorted(sigs)
        # Band keys of the whole batch at once (vectorised), then of what the lookup found.
        pairs = dict(zip(pending, self._pairs([sigs[i] for i in pending]), strict=True))
        self._later = {h for hs in turned_by.values() for h in hs}
        if lookup is not None and sigs:
            rows = lookup(
                np.stack([sigs[i] for i in pending]), [articles[i].content_hash for i in pending]
            )
            wanted = self.carriers_to_fetch(self._later)
            self.know_all(rows, fetch(wanted) if fetch is not None and wanted else ())
        verdicts: list[Verdict | None] = [None] * len(articles)
        for i in order:
            if i in turned_by:  # the members carrying them are signed again first
                self._later.difference_update(turned_by[i])
                self.resign(turned_by[i])
            if i in repeats_item:  # the article that item was kept as, or its original
                first = verdicts[repeats_item[i]]
                assert first is not None
                dup = first.decision.duplicate_of
                repeats_known[i] = keys[repeats_item[i]] if dup is None else dup
            if i in repeats_known:
                verdicts[i] = Verdict(Decision(repeats_known[i], 1.0, "url"), articles[i].signature)
                continue
            verdicts[i] = self.judge(keys[i], articles[i], sigs[i], published[i], urls[i], pairs[i])
        self._later = set()
        return verdicts  # type: ignore[return-value]

    def _pairs(self, sigs: list[np.ndarray]) -> list[list[tuple[int, int]]]:
        """``band_key_pairs`` of many signatures in one vectorised pass."""
        if not sigs:
            return []
        return [list(enumerate(row)) for row in band_hashes(np.stack(sigs), self.settings).tolist()]

    def sign(self, article: Signed | Fingerprint) -> np.ndarray:
        """Count the article's paragraphs and return the signature to decide it with (of
        the text without its recurring paragraphs)."""
        self._just_turned = []
        if not self.settings.recurring:
            return article.signature
        found = article.paragraphs
        if found is None:
            found = paragraphs(article.text)
        recurring = self.recurring.observe(found)
        self._just_turned = list(self.recurring.last_new)
        if self._just_turned:
            self.turned.extend(self._just_turned)
            self.recurring_texts.update(paragraph_texts(article.text, self._just_turned))
        if not recurring:
            return article.signature
        return residual_signature(article.text, recurring, None, self.settings)

    def judge(
        self,
        key: Key,
        article: Signed | Fingerprint,
        sig: np.ndarray,
        published: datetime | None,
        urls: tuple[str, ...] = (),
        pairs: list[tuple[int, int]] | None = None,
    ) -> Verdict:
        """Decide an article already counted (``sig`` from ``sign``; ``pairs`` its band key
        pairs when computed), and remember it."""
        if pairs is None:
            pairs = band_key_pairs(sig, self.settings)
        original = self._exact.get(article.content_hash)
        if original is not None:
            decision = Decision(original, 1.0, "exact")
        else:
            candidates = self.index.candidates(sig, pairs)
            self.compared += len(candidates)
            if not self.settings.verify:
                first = candidates[0] if candidates else None
                decision = (
                    Decision(None, 0.0)
                    if first is None
                    else Decision(first[0], similarity(sig, first[1]), "near")
                )
            else:
                decision = decide(
                    sig, candidates, self.settings.threshold, self.settings.min_shingles
                )
        if decision.duplicate_of is not None:
            rep = decision.duplicate_of
            replace = should_replace(published, self._published.get(rep))
            if replace:  # the representative now holds this copy (as the writer does)
                self._take_over(rep, sig, article.content_hash, published, pairs)
                self._remember(rep, article)
            for url in urls:
                self.know_url(url, rep)
            return Verdict(decision, sig, replace)
        self.know(key, sig, article.content_hash, published, pairs)
        self._remember(key, article)
        for url in urls:
            self.know_url(url, key)
        return Verdict(decision, sig)

    def _take_over(
        self,
        key: Key,
        sig: np.ndarray,
        chash: bytes,
        published: datetime | None,
        pairs: list[tuple[int, int]],
    ) -> None:
        self.index.replace(key, sig, pairs)
        self.resigned.pop(key, None)  # it holds another text now (the writer rewrites it)
        old = self._hash_of.get(key)
        if old is not None and self._exact.get(old) == key:
            del self._exact[old]
        self._exact.setdefault(chash, key)
        self._hash_of[key] = chash
        self._published[key] = published


class CorpusDeduplicator:
    """Decisions for a corpus in memory (``akhbar dedup``, the quality bench): the engine
    with nothing stored, applied in the order articles are given."""

    def __init__(self, settings: Settings = DEFAULT) -> None:
        self.settings = settings
        self.engine = DedupEngine(settings)
        self.index = self.engine.index
        self.recurring = self.engine.recurring

    def check_and_add(self, key: int | str, article: Fingerprint) -> tuple[Decision, np.ndarray]:
        """Decide one article (counting its paragraphs first), index it when kept; returns
        the decision and the signature it was decided (and is indexed) with."""
        verdict = self.engine.decide(key, article)
        return verdict.decision, verdict.signature
