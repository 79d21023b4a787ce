"""Site template text that no cleanup rule knows is learned across a crawl and removed,
while a real paragraph quoted by two articles of the same site stays."""

from __future__ import annotations

from pathlib import Path

from akhbar.samples import SampleSites
from tests.crawl_helpers import crawl_env, make_site, query, run_crawl

DISCLAIMER = "المقالات المنشورة في هذا القسم تعبر عن آراء كتابها وحدهم ولا تعكس بالضرورة وجهة نظر إدارة التحرير في الموقع."
QUOTE = "وقال المتحدث باسم الوزارة إن المفاوضات ستستأنف الأسبوع المقبل في العاصمة بحضور ممثلين عن جميع الأطراف المعنية."


def test_disclaimer_on_every_page_is_removed_and_a_shared_quote_stays(
    tmp_path: Path, database_url: str, subprocess_env: dict[str, str]
) -> None:
    root = make_site(tmp_path, articles=10)
    pages = sorted((root / "sites" / "tiny" / "news").glob("*.html"), key=lambda p: int(p.stem))
    for n, page in enumerate(pages):
        extra = f"<p>{DISCLAIMER}</p>" + (f"<p>{QUOTE}</p>" if n in (2, 7) else "")
        page.write_text(
            page.read_text(encoding="utf-8").replace("</article>", extra + "</article>"),
            encoding="utf-8",
        )
    with SampleSites(samples_dir=root) as sites:
        # One request at a time, in sitemap order, so "pages seen so far" is predictable.
        env = crawl_env(subprocess_env, sites, root, AKHBAR_CONCURRENT_REQUESTS="1")
        result = run_crawl(env, timeout=180)
        assert result.returncode == 0, result.stderr[-3000:]
    bodies = [row[0] for row in query(database_url, "SELECT body FROM articles ORDER BY id")]
    assert len(bodies) == 10
    with_disclaimer = [b for b in bodies if DISCLAIMER in b]
    # Learned from the third page on (a quote on two pages must never qualify).
    assert len(with_disclaimer) <= 2, len(with_disclaimer)
    assert sum(QUOTE in b for b in bodies) == 2
