"""Storage with dedup (`db.article_store`) against the real PostgreSQL server."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, pool, select

from akhbar import dedup
from akhbar.article import Article
from akhbar.page import FetchedPage, ProcessedPage
from akhbar.sources import Source
from db.article_store import StoreResult, row_from_processed, store_articles
from db.engine import session_scope
from db.models import Article as ArticleRow
from db.models import ArticleHtml, Duplicate, MinhashBand
from db.queries import known_urls, upsert_source
from tests.crawl_helpers import fingerprinted

# The five seed pages, copied into the repository (tests/data/seeds).
SEEDS = Path(__file__).resolve().parent / "data" / "seeds"

WIRE = [
    "أعلنت وزارة الصحة اليوم افتتاح مستشفى جديد في مدينة حمص بسعة مئتي سرير، وذلك ضمن خطة لتوسيع الخدمات الطبية في المحافظة.",
    "وقال وزير الصحة في مؤتمر صحفي إن المستشفى يضم أقساما للجراحة والعناية المركزة وطب الأطفال، ويخدم أكثر من نصف مليون نسمة.",
    "وأضاف أن الوزارة تعمل على تأهيل الكوادر الطبية وتزويد المستشفى بأحدث الأجهزة التشخيصية خلال الأشهر المقبلة.",
    "وأشار إلى أن كلفة المشروع بلغت نحو عشرة ملايين دولار بتمويل مشترك من الحكومة ومنظمات دولية.",
    "ومن المقرر أن يستقبل المستشفى أول المرضى مطلع الشهر المقبل بعد استكمال إجراءات التشغيل التجريبي.",
]


def processed(url: str, paragraphs: list[str], title: str = "عنوان") -> ProcessedPage:
    article = Article(url=url, canonical_url=url, title=title, paragraphs=paragraphs)
    text = article.text
    page = FetchedPage(
        source="test",
        url=url,
        body=f"<html><body>{text}</body></html>".encode(),
        headers={"Content-Type": "text/html"},
        fetched_at=datetime.now(UTC),
    )
    return fingerprinted(page, article)


@pytest.fixture
def engine(database_url: str):
    eng = create_engine(database_url, poolclass=pool.NullPool)
    yield eng
    eng.dispose()


@pytest.fixture
def source_id(engine) -> int:
    with session_scope(engine) as session:
        return upsert_source(
            session,
            Source(name="test", title="test", base_url="http://127.0.0.1", domains=("127.0.0.1",)),
        )


def store_processed(session, item: ProcessedPage, *, source_id: int) -> StoreResult:
    """One crawled page through the writer (a batch of one)."""
    return store_articles(session, [row_from_processed(item, source_id=source_id, run_id=None)])[0]


def store(engine, item: ProcessedPage, source_id: int) -> StoreResult:
    with session_scope(engine) as session:
        return store_processed(session, item, source_id=source_id)


def test_store_then_recognise_url_exact_and_near_copies(engine, source_id: int) -> None:
    original = processed("http://a.test/1", WIRE)
    first = store(engine, original, source_id)
    assert first.kind == "stored"

    again = store(engine, processed("http://a.test/1", WIRE), source_id)
    assert (again.kind, again.article_id) == ("url", first.article_id)

    # The same text in another site's markup, with diacritics and hamza variants.
    variant = [p.replace("أعلنت", "اعلنت").replace("الصحة", "الصِّحة") for p in WIRE]
    exact = store(engine, processed("http://b.test/9", variant), source_id)
    assert (exact.kind, exact.article_id) == ("exact", first.article_id)

    # A republished copy: new dateline, last paragraph dropped.
    near_text = ["دمشق - سانا: " + WIRE[0], *WIRE[1:4]]
    near = store(engine, processed("http://c.test/x", near_text), source_id)
    assert near.kind == "near" and near.article_id == first.article_id
    assert 0.5 <= near.similarity < 1.0

    with session_scope(engine) as session:
        assert session.scalar(select(ArticleRow.url)) == "http://a.test/1"
        assert len(session.scalars(select(ArticleRow)).all()) == 1
        stored = session.get(ArticleRow, first.article_id)
        assert stored.word_count == len(stored.body.split()) > 0  # counted by the store
        rows = {d.url: (d.kind, d.duplicate_of) for d in session.scalars(select(Duplicate))}
        assert rows == {
            "http://b.test/9": ("exact", first.article_id),
            "http://c.test/x": ("near", first.article_id),
        }
        html = session.get(ArticleHtml, first.article_id)
        assert zlib.decompress(html.html_zlib) == original.page.body
        assert (html.headers, html.status) == ({"Content-Type": "text/html"}, 200)
        bands = session.scalars(
            select(MinhashBand).where(MinhashBand.article_id == first.article_id)
        ).all()
        assert len(bands) == dedup.BANDS

    assert known_urls(engine, ["http://a.test/1", "http://c.test/x", "http://new.test/"]) == {
        "http://a.test/1",
        "http://c.test/x",
    }


def test_independent_reports_of_one_event_are_both_stored(engine, source_id: int) -> None:
    """Seeds 000 and 003 report the same Lavrov-Kerry meeting: not duplicates."""
    texts = []
    for name in ("000_4e639f07dc94885c.txt", "003_98d78d77fcb958ba.txt"):
        lines = [line for line in (SEEDS / name).read_text().splitlines() if len(line.split()) > 12]
        texts.append(lines)
    outcomes = [
        store(engine, processed(f"http://s.test/{i}", t), source_id) for i, t in enumerate(texts)
    ]
    assert [o.kind for o in outcomes] == ["stored", "stored"]


def test_a_later_arriving_earlier_original_takes_over_the_article(engine, source_id: int) -> None:
    """The copy seen first was published later: the original replaces it in place."""
    copy = processed("http://copy.test/1", ["بيروت (وكالات) - " + WIRE[0], *WIRE[1:4]])
    copy.article.published_at = datetime(2024, 6, 2, 12, 0, tzinfo=UTC)
    first = store(engine, copy, source_id)
    assert first.kind == "stored"

    original = processed("http://wire.test/1", WIRE, title="الأصل")
    original.article.published_at = datetime(2024, 6, 2, 9, 0, tzinfo=UTC)
    outcome = store(engine, original, source_id)
    assert (outcome.kind, outcome.article_id) == ("replaced", first.article_id)

    with session_scope(engine) as session:
        row = session.get(ArticleRow, first.article_id)  # same id: downstream references hold
        assert (row.url, row.title, row.published_at) == (
            "http://wire.test/1",
            "الأصل",
            datetime(2024, 6, 2, 9, 0, tzinfo=UTC),
        )
        assert row.body == "\n\n".join(WIRE)
        assert zlib.decompress(session.get(ArticleHtml, row.id).html_zlib) == original.page.body
        dup = session.scalars(select(Duplicate)).one()
        assert (dup.url, dup.duplicate_of, dup.kind) == ("http://copy.test/1", row.id, "near")
        assert dup.published_at == datetime(2024, 6, 2, 12, 0, tzinfo=UTC)

    # A later copy of the story now finds the original's row.
    late = processed("http://late.test/1", WIRE[:4])
    late.article.published_at = datetime(2024, 6, 3, tzinfo=UTC)
    assert store(engine, late, source_id).article_id == first.article_id


def test_the_workers_search_vector_is_stored_as_sent(engine, source_id: int) -> None:
    """The crawler sends the search vector its workers computed (judge_and_fingerprint);
    the database computes one only when none is sent."""
    from sqlalchemy import text

    from akhbar.processing import judge_and_fingerprint
    from akhbar.search import search_vector

    page = judge_and_fingerprint(processed("https://a.test/sv", WIRE, title="افتتاح مستشفى"))
    assert page.search_vector == search_vector("افتتاح مستشفى", page.article.text)
    page.search_vector = "'sent':1"  # a marker: proves this value, not a recomputed one, is kept
    other = [
        "فاز المنتخب الوطني لكرة القدم على نظيره في المباراة الودية التي أقيمت مساء أمس.",
        "وسجل المهاجم هدفين في الشوط الثاني بعد تمريرات متقنة من خط الوسط أمام جمهور كبير.",
        "ويستعد الفريق للمشاركة في البطولة القارية الشهر المقبل بقائمة تضم عددا من اللاعبين الشباب.",
    ]
    bare = processed("https://b.test/other", other)
    assert bare.search_vector is None
    with session_scope(engine) as session:
        sent = store_processed(session, page, source_id=source_id)
        computed = store_processed(session, bare, source_id=source_id)
    assert (sent.kind, computed.kind) == ("stored", "stored")
    with engine.connect() as conn:
        rows = dict(
            conn.execute(
                text(
                    "SELECT id, search_vector = akhbar_search_vector(title, body) "
                    "OR search_vector = CAST(:sent AS tsvector) FROM articles"
                ),
                {"sent": "'sent':1"},
            ).all()
        )
        stored = conn.execute(
            text("SELECT search_vector::text FROM articles WHERE id = :a"),
            {"a": sent.article_id},
        ).scalar()
    assert stored == "'sent':1"
    assert rows == {sent.article_id: True, computed.article_id: True}


def test_a_page_the_database_refuses_fails_alone(engine, source_id: int) -> None:
    """The crawl's batch call: a page whose text PostgreSQL cannot hold (a NUL character)
    fails alone; the other pages of its batch are stored."""
    from pipelines.storage import store_pages

    texts = [
        WIRE,
        [
            "فاز المنتخب الوطني لكرة القدم على نظيره في المباراة الودية التي أقيمت مساء أمس.\x00",
            "وسجل المهاجم هدفين في الشوط الثاني بعد تمريرات متقنة من خط الوسط أمام جمهور كبير.",
        ],
        [
            "ارتفعت أسعار الذهب في الأسواق المحلية اليوم بنسبة اثنين في المئة بعد قرار البنك.",
            "وعزا التجار الارتفاع إلى زيادة الطلب قبل موسم الأعراس وتراجع سعر صرف العملة.",
        ],
    ]
    pages = [processed(f"http://a.test/{i}", text) for i, text in enumerate(texts)]
    rows = [row_from_processed(p, source_id=source_id, run_id=None) for p in pages]
    results = store_pages(engine, rows)
    assert isinstance(results[1], Exception)
    assert [results[0].kind, results[2].kind] == ["stored", "stored"]
    with session_scope(engine) as session:
        urls = set(session.scalars(select(ArticleRow.url)))
    assert urls == {"http://a.test/0", "http://a.test/2"}
