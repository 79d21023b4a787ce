"""Extraction benchmark: trafilatura alone vs ``akhbar.extract.extract``.

1. The 181-page article-extraction benchmark (mostly English): F1/precision/recall/accuracy
   for both, and median/p90 ms per page, measured interleaved in one process (same pages,
   alternating order) so machine noise hits both equally.
2. The sample-site pages (samples/truth.json, Arabic): body token F1, exact titles, correct
   dates, authors found, boilerplate strings leaked.

    python -m bench.extraction_bench [--json] [--samples DIR]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import trafilatura

from akhbar.extract import EXTRACTOR_VERSION, extract
from bench.score import load_benchmark, score_page, summarize

logging.getLogger("trafilatura").setLevel(logging.ERROR)
ROOT = Path(__file__).resolve().parent.parent


def trafilatura_alone(html: bytes, url: str) -> str:
    # The baseline the README publishes: decode as UTF-8, include_comments=False.
    return (
        trafilatura.extract(
            html.decode("utf-8", "replace"), url=url, include_comments=False, deduplicate=False
        )
        or ""
    )


def ours(html: bytes, url: str) -> str:
    return "\n".join(extract(html, url).paragraphs)


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def run_benchmark() -> dict[str, Any]:
    pages = load_benchmark()
    scores: dict[str, list] = {"trafilatura": [], "akhbar": []}
    times: dict[str, list[float]] = {"trafilatura": [], "akhbar": []}
    runners = {"trafilatura": trafilatura_alone, "akhbar": ours}
    for i, (_key, url, html, truth) in enumerate(pages):
        order = ["trafilatura", "akhbar"] if i % 2 == 0 else ["akhbar", "trafilatura"]
        for name in order:
            t0 = time.perf_counter()
            out = runners[name](html, url)
            times[name].append((time.perf_counter() - t0) * 1000)
            scores[name].append(score_page(out, truth))
    result: dict[str, Any] = {"pages": len(pages)}
    for name in runners:
        s = summarize(scores[name])
        result[name] = {
            "f1": round(s.f1, 4),
            "precision": round(s.precision, 4),
            "recall": round(s.recall, 4),
            "accuracy": round(s.accuracy, 4),
            "median_ms": round(statistics.median(times[name]), 2),
            "p90_ms": round(_pct(times[name], 0.9), 2),
        }
    result["time_ratio_median"] = round(
        result["akhbar"]["median_ms"] / result["trafilatura"]["median_ms"], 3
    )
    return result


# ---- sample sites --------------------------------------------------------------------


def _same_minute(a: str | None, b: Any) -> bool:
    from datetime import datetime

    if not a or b is None:
        return False
    want = datetime.fromisoformat(a)
    if want.tzinfo is None or (want.hour, want.minute, want.second) == (0, 0, 0):
        return b.date() == want.date() if want.tzinfo is None else b.date() == want.date()
    return abs((b - want).total_seconds()) < 60


def load_samples(samples_dir: Path) -> list[dict[str, Any]]:
    truth_path = samples_dir / "truth.json"
    if not truth_path.exists():
        return []
    data = json.loads(truth_path.read_text(encoding="utf-8"))
    pages = data["pages"] if isinstance(data, dict) and "pages" in data else data
    if isinstance(pages, dict):
        pages = [dict(v, path=k) for k, v in pages.items()]
    return pages


def sample_page_html(samples_dir: Path, page: dict[str, Any]) -> bytes:
    path = samples_dir / page["file"] if "file" in page else samples_dir / page["path"]
    if not path.exists():
        path = samples_dir / "sites" / page["path"]
    return path.read_bytes().replace(b"{{BASE}}", b"http://127.0.0.11:8000")


def run_samples(samples_dir: Path) -> dict[str, Any] | None:
    pages = load_samples(samples_dir)
    if not pages:
        return None
    return score_samples(samples_dir, pages)


def score_samples(samples_dir: Path, pages: list[dict[str, Any]]) -> dict[str, Any]:
    from akhbar.normalize import normalize_arabic

    ours_scores, traf_scores, leaked, failures = [], [], [], []
    titles = dates_ok = dates_total = authors_ok = authors_total = kind_ok = 0
    articles = [p for p in pages if p.get("is_article", True)]
    for page in pages:
        html = sample_page_html(samples_dir, page)
        url = page.get("url", "http://127.0.0.11:8000/").replace("{{BASE}}", "http://127.0.0.11:8000")
        art = extract(html, url, timezone=page.get("timezone", "UTC"))
        if art.is_article == page.get("is_article", True):
            kind_ok += 1
        else:
            failures.append((page.get("path") or page.get("file"), "is_article", art.reason))
        if not page.get("is_article", True):
            continue
        truth_text = "\n".join(page.get("paragraphs") or [])
        s = score_page("\n".join(art.paragraphs), truth_text)
        ours_scores.append(s)
        traf_scores.append(score_page(trafilatura_alone(html, url), truth_text))
        if s.precision < 0.97 or s.recall < 0.97:
            failures.append((page.get("path") or page.get("file"), "body", f"P={s.precision:.3f} R={s.recall:.3f}"))
        if (art.title or "").strip() == (page.get("title") or "").strip():
            titles += 1
        else:
            failures.append((page.get("path") or page.get("file"), "title", art.title))
        if page.get("published"):
            dates_total += 1
            if _same_minute(page["published"], art.published_at):
                dates_ok += 1
            else:
                failures.append((page.get("path") or page.get("file"), "date", str(art.published_at)))
        if page.get("author"):
            authors_total += 1
            if art.author and normalize_arabic(art.author) == normalize_arabic(page["author"]):
                authors_ok += 1
            else:
                failures.append((page.get("path") or page.get("file"), "author", art.author))
        body = normalize_arabic(art.text)
        for bp in page.get("boilerplate") or []:
            if normalize_arabic(bp) and normalize_arabic(bp) in body:
                leaked.append((page.get("path") or page.get("file"), bp))
    so, st = summarize(ours_scores), summarize(traf_scores)
    n = len(articles) or 1
    return {
        "pages": len(pages),
        "articles": len(articles),
        "akhbar_f1": round(so.f1, 4),
        "akhbar_precision": round(so.precision, 4),
        "akhbar_recall": round(so.recall, 4),
        "trafilatura_f1": round(st.f1, 4),
        "titles_exact_pct": round(100 * titles / n, 1),
        "dates_correct_pct": round(100 * dates_ok / dates_total, 1) if dates_total else None,
        "authors_found_pct": round(100 * authors_ok / authors_total, 1) if authors_total else None,
        "is_article_correct_pct": round(100 * kind_ok / (len(pages) or 1), 1),
        "boilerplate_leaked": len(leaked),
        "leaks": leaked[:20],
        "failures": failures[:30],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--samples", type=Path, default=ROOT / "samples")
    parser.add_argument("--skip-benchmark", action="store_true")
    args = parser.parse_args(argv)
    out: dict[str, Any] = {"extractor_version": EXTRACTOR_VERSION}
    if not args.skip_benchmark:
        out["benchmark"] = run_benchmark()
    out["samples"] = run_samples(args.samples)
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2, default=str))
        return 0
    print(f"extractor {EXTRACTOR_VERSION}")
    if "benchmark" in out:
        b = out["benchmark"]
        print(f"181-page benchmark ({b['pages']} pages), interleaved in one process:")
        print(f"  {'':12} {'F1':>6} {'prec':>6} {'recall':>6} {'acc':>6} {'med ms':>7} {'p90 ms':>7}")
        for name in ("trafilatura", "akhbar"):
            r = b[name]
            print(
                f"  {name:12} {r['f1']:6.4f} {r['precision']:6.4f} {r['recall']:6.4f} "
                f"{r['accuracy']:6.4f} {r['median_ms']:7.2f} {r['p90_ms']:7.2f}"
            )
        print(f"  time ratio (median, akhbar/trafilatura): {b['time_ratio_median']:.2f}x (target <= 1.3x)")
    s = out["samples"]
    if s is None:
        print(f"sample sites: none found under {args.samples}")
    else:
        print(f"sample sites: {s['pages']} pages, {s['articles']} articles")
        print(
            f"  body F1 akhbar {s['akhbar_f1']:.4f} (P {s['akhbar_precision']:.4f} R {s['akhbar_recall']:.4f})"
            f", trafilatura alone {s['trafilatura_f1']:.4f}"
        )
        print(
            f"  titles exact {s['titles_exact_pct']}%  dates correct {s['dates_correct_pct']}%  "
            f"authors found {s['authors_found_pct']}%  is_article right {s['is_article_correct_pct']}%"
        )
        print(f"  boilerplate strings leaked: {s['boilerplate_leaked']}")
        for leak in s["leaks"]:
            print(f"    leak {leak}")
        for fail in s["failures"]:
            print(f"    miss {fail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
