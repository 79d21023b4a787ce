"""Scorer for the article-extraction benchmark, as its README states it.

Tokens are ``\\w+`` runs; each text becomes a multiset of overlapping 4-token shingles
(1-3 tokens: one shorter shingle). Per page, matched/extra/missed counts are divided by
their sum. Precision is averaged over pages with a non-empty prediction, recall over pages
with a non-empty truth; F1 is the harmonic mean of the two averages. Accuracy is the share
of pages whose predicted token sequence equals the true one.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent / "data" / "article-extraction-benchmark"
_TOKEN = re.compile(r"\w+", re.UNICODE)


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text or "")


def shingles(tokens: list[str], n: int = 4) -> Counter[tuple[str, ...]]:
    if not tokens:
        return Counter()
    if len(tokens) < n:
        return Counter([tuple(tokens)])
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


@dataclass
class PageScore:
    matched: float
    extra: float
    missed: float
    exact: bool
    pred_empty: bool
    truth_empty: bool

    @property
    def precision(self) -> float:
        d = self.matched + self.extra
        return self.matched / d if d else 0.0

    @property
    def recall(self) -> float:
        d = self.matched + self.missed
        return self.matched / d if d else 0.0


def score_page(pred: str, truth: str) -> PageScore:
    pt, tt = tokenize(pred), tokenize(truth)
    ps, ts = shingles(pt), shingles(tt)
    matched = sum((ps & ts).values())
    extra = sum((ps - ts).values())
    missed = sum((ts - ps).values())
    total = matched + extra + missed
    if total:
        matched, extra, missed = matched / total, extra / total, missed / total
    return PageScore(matched, extra, missed, pt == tt, not pt, not tt)


@dataclass
class Summary:
    f1: float
    precision: float
    recall: float
    accuracy: float
    n: int


def summarize(pages: list[PageScore]) -> Summary:
    precs = [p.precision for p in pages if not p.pred_empty]
    recs = [p.recall for p in pages if not p.truth_empty]
    prec = sum(precs) / len(precs) if precs else 0.0
    rec = sum(recs) / len(recs) if recs else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    acc = sum(p.exact for p in pages) / len(pages) if pages else 0.0
    return Summary(f1, prec, rec, acc, len(pages))


def score(predictions: Mapping[str, str], truths: Mapping[str, str]) -> Summary:
    return summarize([score_page(predictions.get(k, ""), t) for k, t in truths.items()])


def load_benchmark(bench_dir: Path = BENCH_DIR) -> list[tuple[str, str, bytes, str]]:
    """(id, url, html bytes, true body) for every page, sorted by id."""
    truth = json.loads((bench_dir / "ground-truth.json").read_text(encoding="utf-8"))
    out = []
    for key in sorted(truth):
        html = gzip.decompress((bench_dir / "html" / f"{key}.html.gz").read_bytes())
        out.append((key, truth[key]["url"], html, truth[key]["articleBody"]))
    return out
