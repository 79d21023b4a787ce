"""Extraction benchmark: trafilatura alone vs ``akhbar.extract.extract``.

1. The 181-page article-extraction benchmark (mostly English): F1/precision/recall/accuracy
   for both, and median/p90 ms per page, measured interleaved in one process (same pages,
   alternating order) so machine noise hits both equally.
2. The sample-site pages (samples/truth.json, Arabic): body token F1, exact titles, correct
   dates, authors found, boilerplate strings leaked.

3. With ``--dump FILE``: every field ``extract`` gives for all of those pages, as JSON, plus
   the CPU ms per page. Dump before and after a change and diff the files: a change meant to
   keep the output must leave them byte-for-byte equal.

    python -m bench.extraction_bench [--json] [--samples DIR] [--dump FILE]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

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
    # CPU time of this thread too: on a shared machine wall time includes waiting for a core.
    cpu: dict[str, list[float]] = {"trafilatura": [], "akhbar": []}
    runners = {"trafilatura": trafilatura_alone, "akhbar": ours}
    for i, (_key, url, html, truth) in enumerate(pages):
        order = ["trafilatura", "akhbar"] if i % 2 == 0 else ["akhbar", "trafilatura"]
        for name in order:
            t0, c0 = time.perf_counter(), time.thread_time()
            out = runners[name](html, url)
            times[name].append((time.perf_counter() - t0) * 1000)
            cpu[name].append((time.thread_time() - c0) * 1000)
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
            "median_cpu_ms": round(statistics.median(cpu[name]), 2),
            "p90_cpu_ms": round(_pct(cpu[name], 0.9), 2),
            "total_cpu_s": round(sum(cpu[name]) / 1000, 2),
        }
    result["time_ratio_median"] = round(
        result["akhbar"]["median_ms"] / result["trafilatura"]["median_ms"], 3
    )
    result["cpu_ratio_median"] = round(
        result["akhbar"]["median_cpu_ms"] / result["trafilatura"]["median_cpu_ms"], 3
    )
    result["cpu_ratio_total"] = round(
        result["akhbar"]["total_cpu_s"] / result["trafilatura"]["total_cpu_s"], 3
    )
    return result


# ---- output dump -------------------------------------------------------------------

DUMP_FIELDS = (
    "title", "text", "author", "published_at", "section", "dateline", "canonical_url",
    "language", "is_article", "reason", "source_credit",
)  # fmt: skip


def dump_outputs(samples_dir: Path, path: Path) -> dict[str, Any]:
    """Write extract()'s fields for the 181 benchmark pages and every sample-site page
    (as served, with headers) to ``path``; return CPU ms per page."""
    out: dict[str, dict[str, Any]] = {}
    cpu: dict[str, list[float]] = {"benchmark": [], "samples": []}

    def record(key: str, kind: str, run: Any) -> None:
        c0 = time.thread_time()
        art = run()
        cpu[kind].append((time.thread_time() - c0) * 1000)
        fields = {name: getattr(art, name) for name in DUMP_FIELDS}
        if art.published_at is not None:
            fields["published_at"] = art.published_at.isoformat()
        out[key] = fields

    for key, url, html, _truth in load_benchmark():
        record(f"benchmark/{key}", "benchmark", lambda html=html, url=url: extract(html, url))
    for case in sample_cases(samples_dir):
        record(
            f"samples/{case.key}",
            "samples",
            lambda c=case: extract(c.html, c.url, c.headers, timezone=c.timezone),
        )
    path.write_text(
        json.dumps(out, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    return {
        kind: {
            "pages": len(v),
            "median_cpu_ms": round(statistics.median(v), 2) if v else None,
            "mean_cpu_ms": round(statistics.mean(v), 2) if v else None,
        }
        for kind, v in cpu.items()
    }


# ---- sample sites --------------------------------------------------------------------


def _date_ok(want: str | None, precision: str | None, got: Any) -> bool:
    from datetime import datetime

    if not want or got is None:
        return False
    w = datetime.fromisoformat(want)
    if precision == "day":
        # Day-only pages: the calendar day in the site's zone must match.
        return got.astimezone(w.tzinfo).date() == w.date()
    return abs((got - w).total_seconds()) < (60 if precision == "minute" else 1)


@dataclass
class SampleCase:
    key: str
    source: str
    url: str
    html: bytes
    headers: dict[str, str]
    timezone: str
    truth: dict[str, Any]


def sample_cases(samples_dir: Path = ROOT / "samples") -> list[SampleCase]:
    """Every page of samples/truth.json as the server would send it (bytes + headers)."""
    if not (samples_dir / "truth.json").exists():
        return []
    import tomllib

    from akhbar.samples import _load_headers, load_specs, load_truth, read_page

    with (samples_dir / "sources.toml").open("rb") as fh:
        zones = {s["name"]: s.get("timezone", "UTC") for s in tomllib.load(fh)["sources"]}
    specs = {spec.name: spec for spec in load_specs(samples_dir)}
    cases = []
    for key, truth in sorted(load_truth(samples_dir).items()):
        source = truth["source"]
        base = f"http://{specs[source].host}:8000"
        headers = _load_headers(specs[source].root).get(unquote(truth["url_path"]), {})
        html = read_page(source, truth["url_path"], base, samples_dir)
        cases.append(
            SampleCase(key, source, base + truth["url_path"], html, headers, zones[source], truth)
        )
    return cases


def run_samples(samples_dir: Path) -> dict[str, Any] | None:
    cases = sample_cases(samples_dir)
    return score_samples(cases) if cases else None


def template_filter_check(cases: list[SampleCase]) -> tuple[int, int]:
    """TemplateFilter learned per source on what trafilatura alone leaves on every page:
    (paragraph occurrences flagged as template text, of which true body paragraphs)."""
    from akhbar.cleanup import TemplateFilter
    from akhbar.normalize import normalize_arabic

    tf = TemplateFilter()
    outputs = []
    for case in cases:
        paras = [p for p in trafilatura_alone(case.html, case.url).split("\n") if p.strip()]
        tf.learn(case.source, case.key, paras)
        outputs.append((case, paras))
    flagged = false = 0
    for case, paras in outputs:
        truth = {normalize_arabic(p) for p in case.truth.get("paragraphs") or []}
        for p in paras:
            if tf.is_template(case.source, p):
                flagged += 1
                false += normalize_arabic(p) in truth
    return flagged, false


def score_samples(cases: list[SampleCase]) -> dict[str, Any]:
    from akhbar.normalize import normalize_arabic

    ours_scores, traf_scores, leaked, failures, false_authors = [], [], [], [], []
    old_scores: list = []
    old_leaked = old_false = old_articles = 0
    titles = dates_ok = dates_total = authors_ok = authors_total = kind_ok = 0
    sections_ok = sections_total = 0
    articles = [c for c in cases if c.truth.get("is_article", True)]
    for case in cases:
        page, key = case.truth, case.key
        art = extract(case.html, case.url, case.headers, timezone=case.timezone)
        if art.is_article == page.get("is_article", True):
            kind_ok += 1
        else:
            failures.append((key, "is_article", art.reason))
        if not page.get("is_article", True):
            continue
        truth_text = "\n".join(page.get("paragraphs") or [])
        s = score_page("\n".join(art.paragraphs), truth_text)
        ours_scores.append(s)
        old_layout = bool(page.get("old_layout"))
        if old_layout:
            old_articles += 1
            old_scores.append(s)
        traf_scores.append(score_page(trafilatura_alone(case.html, case.url), truth_text))
        if s.precision < 0.999 or s.recall < 0.999:
            failures.append((key, "body", f"P={s.precision:.3f} R={s.recall:.3f}"))
        if (
            normalize_arabic(art.title or "") == normalize_arabic(page.get("title") or "")
            and (art.title or "").strip() == (page.get("title") or "").strip()
        ):
            titles += 1
        else:
            failures.append((key, "title", art.title))
        if page.get("published"):
            dates_total += 1
            if _date_ok(page["published"], page.get("date_precision"), art.published_at):
                dates_ok += 1
            else:
                failures.append((key, "date", f"{art.published_at} != {page['published']}"))
        if page.get("author"):
            authors_total += 1
            if art.author and normalize_arabic(art.author) == normalize_arabic(page["author"]):
                authors_ok += 1
            else:
                failures.append((key, "author", f"{art.author!r} != {page['author']!r}"))
        # A false author: a name where the page names none, or a different name.
        if art.author and normalize_arabic(art.author) != normalize_arabic(
            page.get("author") or ""
        ):
            false_authors.append((key, art.author, page.get("author")))
            old_false += old_layout
        if page.get("section"):
            sections_total += 1
            if art.section == page["section"]:
                sections_ok += 1
            else:
                failures.append((key, "section", f"{art.section!r} != {page['section']!r}"))
        body = normalize_arabic(art.text)
        for bp in page.get("boilerplate") or []:
            if normalize_arabic(bp) and normalize_arabic(bp) in body:
                leaked.append((key, bp))
                old_leaked += old_layout
    so, st = summarize(ours_scores), summarize(traf_scores)
    old_summary = summarize(old_scores) if old_scores else None
    tf_flagged, tf_false = template_filter_check(cases)
    n = len(articles) or 1
    return {
        "pages": len(cases),
        "articles": len(articles),
        "akhbar_f1": round(so.f1, 4),
        "akhbar_precision": round(so.precision, 4),
        "akhbar_recall": round(so.recall, 4),
        "trafilatura_f1": round(st.f1, 4),
        "titles_exact_pct": round(100 * titles / n, 1),
        "dates_correct_pct": round(100 * dates_ok / dates_total, 1) if dates_total else None,
        "authors_found_pct": round(100 * authors_ok / authors_total, 1) if authors_total else None,
        "sections_correct_pct": round(100 * sections_ok / sections_total, 1)
        if sections_total
        else None,
        "is_article_correct_pct": round(100 * kind_ok / (len(cases) or 1), 1),
        "boilerplate_leaked": len(leaked),
        "false_authors": len(false_authors),
        "false_author_cases": false_authors,
        "old_layout": {
            "articles": old_articles,
            "f1": round(old_summary.f1, 4) if old_summary else None,
            "boilerplate_leaked": old_leaked,
            "false_authors": old_false,
        },
        "template_flagged": tf_flagged,
        "template_false_positives": tf_false,
        "leaks": leaked,
        "failures": failures,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--samples", type=Path, default=ROOT / "samples")
    parser.add_argument("--skip-benchmark", action="store_true")
    parser.add_argument(
        "--dump", type=Path, metavar="FILE", help="write every page's extract() fields to FILE"
    )
    args = parser.parse_args(argv)
    if args.dump:
        timing = dump_outputs(args.samples, args.dump)
        print(f"wrote {args.dump}: {json.dumps(timing)}")
        return 0
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
        print(
            f"  {'':12} {'F1':>6} {'prec':>6} {'recall':>6} {'acc':>6} {'med ms':>7} {'p90 ms':>7}"
        )
        for name in ("trafilatura", "akhbar"):
            r = b[name]
            print(
                f"  {name:12} {r['f1']:6.4f} {r['precision']:6.4f} {r['recall']:6.4f} "
                f"{r['accuracy']:6.4f} {r['median_ms']:7.2f} {r['p90_ms']:7.2f}"
                f" {r['median_cpu_ms']:7.2f} {r['p90_cpu_ms']:7.2f}"
            )
        print(
            f"  time ratio akhbar/trafilatura: median wall {b['time_ratio_median']:.2f}x, "
            f"median CPU {b['cpu_ratio_median']:.2f}x, total CPU {b['cpu_ratio_total']:.2f}x "
            "(target <= 1.3x)"
        )
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
            f"authors found {s['authors_found_pct']}%  sections right {s['sections_correct_pct']}%  "
            f"is_article right {s['is_article_correct_pct']}%"
        )
        print(
            f"  boilerplate strings leaked: {s['boilerplate_leaked']}  "
            f"false authors: {s['false_authors']}"
        )
        o = s["old_layout"]
        if o["articles"]:
            print(
                f"  old table-layout pages (top bar, poll, comments): {o['articles']} articles, "
                f"body F1 {o['f1']:.4f}, leaked strings {o['boilerplate_leaked']}, "
                f"false authors {o['false_authors']}"
            )
        print(
            f"  TemplateFilter on trafilatura-alone output: {s['template_flagged']} paragraphs "
            f"flagged as template text, {s['template_false_positives']} of them real body text"
        )
        for leak in s["leaks"][:30]:
            print(f"    leak {leak}")
        for case in s["false_author_cases"][:30]:
            print(f"    false author {case}")
        for fail in s["failures"][:40]:
            print(f"    miss {fail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
