"""`reprocess` re-extracts stored HTML, updates rows and finds duplicates the old text hid."""

from __future__ import annotations

import subprocess
import sys
import zlib
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, pool, select

from akhbar import dedup
from akhbar.sources import Source
from db.engine import session_scope
from db.models import Article, ArticleHtml, Duplicate
from db.queries import upsert_source
from db.reprocess import reprocess

REPO = Path(__file__).resolve().parents[1]

BODY = [
    "أعلنت وزارة الزراعة اليوم عن خطة وطنية لترشيد استهلاك المياه في الري، تشمل تحويل خمسين ألف هكتار إلى الري بالتنقيط خلال ثلاث سنوات.",
    "وقال وزير الزراعة في مؤتمر صحفي إن الخطة تستهدف خفض الهدر بنسبة ثلاثين في المئة، وتقديم قروض ميسرة للمزارعين لشراء المعدات الحديثة.",
    "وأوضح أن الوزارة ستنشئ مراكز إرشاد في المحافظات الزراعية الكبرى لتدريب المزارعين على تقنيات الري الحديثة وجدولة مواعيد السقاية.",
    "وأشار إلى أن المرحلة الأولى تبدأ في الربيع المقبل في ثلاث محافظات، على أن تعمم التجربة تدريجيا بعد تقييم نتائجها.",
    "ولفت إلى أن القطاع الزراعي يستهلك نحو ثمانين في المئة من الموارد المائية المتاحة، ما يجعل ترشيد استهلاكه أولوية وطنية.",
]


def page(site: str, widget: str) -> bytes:
    paragraphs = "".join(f"<p>{p}</p>" for p in BODY)
    return f"""<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>خطة وطنية لترشيد مياه الري - {site}</title></head><body>
<header><nav><a href="/">الرئيسية</a> <a href="/economy">اقتصاد</a></nav></header>
<main><article><h1>خطة وطنية لترشيد مياه الري</h1>{paragraphs}</article>
<aside><h3>الأكثر قراءة</h3><ul><li><a href="/a">{widget}</a></li></ul></aside></main>
<footer>جميع الحقوق محفوظة © {site} 2024</footer></body></html>""".encode()


def test_reprocess_updates_old_rows_and_merges_copies_it_uncovers(database_url: str) -> None:
    engine = create_engine(database_url, poolclass=pool.NullPool)
    with session_scope(engine) as session:
        source_id = upsert_source(
            session,
            Source(name="t", title="t", base_url="http://127.0.0.1", domains=("127.0.0.1",)),
        )
        ids = []
        for n, (site, widget) in enumerate(
            [("موقع الأول", "خبر عن الطقس"), ("موقع الثاني", "خبر عن الرياضة")]
        ):
            # What an old, naive extractor stored: the whole page text, boilerplate included.
            old_body = "\n\n".join(
                ["الرئيسية اقتصاد", *BODY, "الأكثر قراءة", widget, f"جميع الحقوق محفوظة © {site}"]
            )
            row = Article(
                source_id=source_id,
                url=f"http://127.0.0.1/{n}",
                canonical_url=f"http://127.0.0.1/{n}",
                title=f"خطة وطنية لترشيد مياه الري - {site}",
                body=old_body,
                content_hash=dedup.content_hash(old_body),
                minhash=dedup.signature_to_bytes(dedup.signature(old_body)),
                fetched_at=datetime(2024, 5, 1, tzinfo=UTC),
                extractor_version="0-old",
                published_at=datetime(2024, 5, 1, 8 + n, tzinfo=UTC),
            )
            session.add(row)
            session.flush()
            session.add(ArticleHtml(article_id=row.id, html_zlib=zlib.compress(page(site, widget))))
            ids.append(row.id)

    report = reprocess(engine)

    assert report.examined == 2
    assert report.new_duplicates == 1
    with session_scope(engine) as session:
        rows = session.scalars(select(Article)).all()
        assert [r.id for r in rows] == [ids[0]]  # the earlier-published copy is kept
        kept = rows[0]
        assert "الأكثر قراءة" not in kept.body and "جميع الحقوق" not in kept.body
        assert all(p in kept.body for p in BODY)
        assert kept.extractor_version != "0-old"
        dup = session.scalars(select(Duplicate)).one()
        assert (dup.url, dup.duplicate_of) == ("http://127.0.0.1/1", ids[0])

    # Running it again changes nothing.
    again = reprocess(engine)
    assert (again.updated, again.new_duplicates, again.unchanged) == (0, 0, 1)
    engine.dispose()


def test_reprocess_command_reports(subprocess_env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "akhbar.cli", "reprocess"],
        cwd=REPO,
        env=subprocess_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Examined 0 articles" in result.stdout
