"""`reprocess` re-extracts stored HTML, updates rows and finds duplicates the old text hid."""

from __future__ import annotations

import subprocess
import sys
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, pool, select, text

from akhbar import dedup
from akhbar.sources import Source
from db.dedup_index import lsh_keys
from db.engine import session_scope
from db.models import Article, ArticleHtml, Duplicate, MinhashBand
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


@pytest.mark.parametrize(
    "second_is_earlier", [False, True], ids=["first-earlier", "second-earlier"]
)
def test_reprocess_updates_old_rows_and_merges_copies_it_uncovers(
    database_url: str, second_is_earlier: bool
) -> None:
    """The two stored copies merge; the row stored first keeps its id either way, and holds
    the earliest-published copy (its URL, text and HTML), as a crawl would have decided."""
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
                published_at=datetime(
                    2024, 5, 1, (9 - n) if second_is_earlier else (8 + n), tzinfo=UTC
                ),
                first_seen_at=datetime(2024, 5, 1, 12, n, tzinfo=UTC),
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
        assert [r.id for r in rows] == [ids[0]]  # the id stored first stays valid
        kept = rows[0]
        earlier, later = (1, 0) if second_is_earlier else (0, 1)
        assert kept.url == f"http://127.0.0.1/{earlier}"
        assert kept.published_at == datetime(2024, 5, 1, 8, tzinfo=UTC)
        assert "الأكثر قراءة" not in kept.body and "جميع الحقوق" not in kept.body
        assert all(p in kept.body for p in BODY)
        assert kept.extractor_version != "0-old"
        assert kept.word_count == len(kept.body.split())
        html = zlib.decompress(session.get(ArticleHtml, kept.id).html_zlib).decode()
        site = "موقع الثاني" if second_is_earlier else "موقع الأول"
        assert site in html  # the HTML follows the copy the row now holds
        dup = session.scalars(select(Duplicate)).one()
        assert (dup.url, dup.duplicate_of) == (f"http://127.0.0.1/{later}", ids[0])
        # The index holds the kept row's bands, and only those.
        bands = session.scalars(select(MinhashBand.article_id)).all()
        assert set(bands) == {ids[0]}

    # Running it again changes nothing.
    again = reprocess(engine)
    assert (again.updated, again.new_duplicates, again.unchanged) == (0, 0, 1)
    engine.dispose()


def test_reprocess_command_reports(subprocess_env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cli", "reprocess"],
        cwd=REPO,
        env=subprocess_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Examined 0 articles" in result.stdout


def test_reprocess_of_a_unique_article_updates_every_derived_column(database_url: str) -> None:
    engine = create_engine(database_url, poolclass=pool.NullPool)
    with session_scope(engine) as session:
        source_id = upsert_source(
            session,
            Source(name="t", title="t", base_url="http://127.0.0.1", domains=("127.0.0.1",)),
        )
        old_body = "\n\n".join(["الرئيسية اقتصاد", *BODY, "الأكثر قراءة", "خبر عن الطقس"])
        row = Article(
            source_id=source_id,
            url="http://127.0.0.1/only",
            canonical_url="http://127.0.0.1/only",
            title="خطة وطنية لترشيد مياه الري",
            body=old_body,
            word_count=len(old_body.split()),
            content_hash=dedup.content_hash(old_body),
            minhash=dedup.signature_to_bytes(dedup.signature(old_body)),
            fetched_at=datetime(2024, 5, 1, tzinfo=UTC),
            extractor_version="0-old",
        )
        session.add(row)
        session.flush()
        session.add(ArticleHtml(article_id=row.id, html_zlib=zlib.compress(page("موقع", "طقس"))))
        row_id = row.id

    report = reprocess(engine)

    assert (report.updated, report.new_duplicates) == (1, 0)
    with session_scope(engine) as session:
        row = session.get(Article, row_id)
        assert row.word_count == len(row.body.split()) < len(old_body.split())
        assert row.extractor_version != "0-old"
        assert row.content_hash == dedup.content_hash(row.body)
        assert row.minhash == dedup.signature_to_bytes(dedup.signature(row.body))
        # The search vector and the index follow the new text.
        current = session.execute(
            text("SELECT search_vector = akhbar_search_vector(title, body) FROM articles")
        ).scalar_one()
        assert current
        bands = session.scalars(select(MinhashBand.key).where(MinhashBand.article_id == row_id))
        assert sorted(bands) == lsh_keys(dedup.signature(row.body)[None, :])
    engine.dispose()
