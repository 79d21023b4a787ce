"""MinHash signatures per second for 600-word Arabic articles: ours vs datasketch.

    .venv/bin/python bench/minhash_speed.py [--articles 200]

Every variant starts from the raw text and uses the same shingles (normalised word n-grams,
``akhbar.dedup`` settings) and 128 permutations, so only the hashing differs:
ours = crc32 per word + vectorised n-gram combination + one (128 x shingles) multiply-shift
matrix; datasketch = sha1 per shingle + its permutations, via the plain ``update`` loop,
``update_batch`` and ``MinHash.bulk``. Normalisation alone is timed too: it is shared by all.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from datasketch import MinHash  # noqa: E402

from akhbar import dedup  # noqa: E402
from akhbar.normalize import normalize_arabic  # noqa: E402

DATA = ROOT / "tests" / "data" / "dedup" / "articles.jsonl"


def texts_of_600_words(n: int) -> list[str]:
    rows = [json.loads(line)["text"] for line in DATA.read_text(encoding="utf-8").splitlines()]
    words = " ".join(rows).split()
    out = []
    for i in range(n):
        start = (i * 211) % (len(words) - 600)
        out.append(" ".join(words[start : start + 600]))
    return out


def shingle_strings(text: str) -> list[bytes]:
    w = normalize_arabic(text).split()
    n = dedup.SHINGLE_SIZE
    return list({" ".join(w[i : i + n]).encode() for i in range(len(w) - n + 1)})


def ds_update(text: str) -> MinHash:
    mh = MinHash(num_perm=dedup.NUM_PERM, seed=1)
    for sh in shingle_strings(text):
        mh.update(sh)
    return mh


def ds_update_batch(text: str) -> MinHash:
    mh = MinHash(num_perm=dedup.NUM_PERM, seed=1)
    mh.update_batch(shingle_strings(text))
    return mh


def rate(fn, texts: list[str]) -> float:
    fn(texts[0])
    t = time.perf_counter()
    for text in texts:
        fn(text)
    return len(texts) / (time.perf_counter() - t)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200)
    args = parser.parse_args(argv)
    texts = texts_of_600_words(args.articles)
    print(f"{len(texts)} texts of 600 words, {dedup.NUM_PERM} permutations, word "
          f"{dedup.SHINGLE_SIZE}-grams, one core\n")  # fmt: skip
    rows = [
        ("normalize_arabic only (shared by all)", rate(normalize_arabic, texts)),
        ("datasketch MinHash.update loop", rate(ds_update, texts)),
        ("datasketch MinHash.update_batch", rate(ds_update_batch, texts)),
    ]
    t = time.perf_counter()
    MinHash.bulk([shingle_strings(x) for x in texts], num_perm=dedup.NUM_PERM, seed=1)
    rows.append(("datasketch MinHash.bulk", len(texts) / (time.perf_counter() - t)))
    rows.append(("ours: akhbar.dedup.signature", rate(dedup.signature, texts)))
    hashed = [dedup.shingle_hashes(x) for x in texts]
    t = time.perf_counter()
    for h in hashed:
        dedup.signature_from_shingles(h)
    rows.append(("ours: signature_from_shingles only (no text work)", len(texts) / (time.perf_counter() - t)))  # fmt: skip
    base = rows[1][1]
    width = max(len(r[0]) for r in rows)
    for name, r in rows:
        print(f"{name:<{width}}  {r:8,.0f} signatures/s  {1000 / r:6.3f} ms each  x{r / base:5.1f}")


if __name__ == "__main__":
    main()
