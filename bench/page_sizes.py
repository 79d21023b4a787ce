#!/usr/bin/env python
"""How the crawl bench's pages compare with real news pages.

    .venv/bin/python bench/page_sizes.py [--pages 181] [--rounds 2]

``bench/crawl_bench.py`` and ``bench/overhead_breakdown.py`` build their site from the sample
layouts, grown by default to a real news page's size (``--page-size news``). Their overhead
figures are a ratio to extraction's cost, so the pages must cost what real pages cost to
extract. This script prints, for the 181 real pages of bench/data/article-extraction-benchmark
and for the bench's "news" and "sample" pages: HTML size, the share of inline scripts, the
number of elements and links, the words ``extract()`` keeps, and ``extract()``'s CPU per page.
The real and generated pages are extracted in turn, page by page, so that a change in the
machine's speed hits both alike.
"""

from __future__ import annotations

import argparse
import gzip
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lxml import html as lxml_html

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from akhbar.extract import extract  # noqa: E402
from bench.crawl_bench import PAGE_SIZES, build_site  # noqa: E402

REAL_PAGES = REPO / "bench" / "data" / "article-extraction-benchmark" / "html"
BASE = "http://127.0.0.60:8000"
_SCRIPT = re.compile(rb"<script\b.*?</script>", re.S | re.I)


def shape(body: bytes) -> dict[str, float]:
    tree = lxml_html.fromstring(body)
    return {
        "KB": len(body) / 1024,
        "scripts": sum(len(m) for m in _SCRIPT.findall(body)) / len(body),
        "elements": sum(1 for _ in tree.iter()),
        "links": len(tree.xpath("//a")),
    }


def extract_cpu(body: bytes, k: int) -> tuple[float, int]:
    started = time.process_time()
    article = extract(
        body,
        f"{BASE}/news/{k}.html",
        {"Content-Type": "text/html; charset=utf-8"},
        timezone="Asia/Damascus",
    )
    return time.process_time() - started, len(article.text.split())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=181, help="pages of each kind")
    parser.add_argument("--rounds", type=int, default=2, help="timed passes over the pages")
    args = parser.parse_args()

    kinds: dict[str, list[bytes]] = {
        "real pages (bench/data)": [
            gzip.decompress(path.read_bytes())
            for path in sorted(REAL_PAGES.glob("*.html.gz"))[: args.pages]
        ]
    }
    with tempfile.TemporaryDirectory(prefix="akhbar-page-sizes-") as tmp:
        for size in PAGE_SIZES:
            files = build_site(Path(tmp) / size, args.pages, page_size=size)
            kinds[f"crawl bench, --page-size {size}"] = [
                f.read_bytes().replace(b"{{BASE}}", BASE.encode()) for f in files
            ]
    for bodies in kinds.values():  # warm-up: imports, caches
        for k, body in enumerate(bodies[:10]):
            extract_cpu(body, k)
    cpu: dict[str, list[float]] = {name: [] for name in kinds}
    words: dict[str, list[int]] = {name: [] for name in kinds}
    for _ in range(max(1, args.rounds)):
        for k in range(min(len(b) for b in kinds.values())):
            for name, bodies in kinds.items():
                seconds, kept = extract_cpu(bodies[k], k)
                cpu[name].append(seconds)
                words[name].append(kept)

    median = statistics.median
    print("medians per page")
    header = f"{'pages':<30}{'KB':>7}{'scripts':>9}{'elements':>10}{'links':>7}{'words':>7}"
    print(header + f"{'extract() ms':>14}")
    for name, bodies in kinds.items():
        shapes = [shape(body) for body in bodies]
        print(
            f"{name:<30}{median(s['KB'] for s in shapes):>7.1f}"
            f"{median(s['scripts'] for s in shapes):>9.0%}"
            f"{median(s['elements'] for s in shapes):>10.0f}"
            f"{median(s['links'] for s in shapes):>7.0f}"
            f"{median(words[name]):>7.0f}"
            f"{median(cpu[name]) * 1000:>14.2f}"
        )


if __name__ == "__main__":
    main()
