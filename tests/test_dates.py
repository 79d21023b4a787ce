"""Dates as Arabic news sites print them, and the article's own date from whole pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import lxml.html
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from akhbar.dates import DateMatch, find_dates, parse_date, url_date
from akhbar.pagedates import detect_published, published_date

DATA = Path(__file__).parent / "data" / "dates"
DUBAI = ZoneInfo("Asia/Dubai")
DAMASCUS = ZoneInfo("Asia/Damascus")
CAIRO = ZoneInfo("Africa/Cairo")
UTC = UTC
# A fixed "now" for relative forms: Wednesday 24 April 2024, 12:00 in Dubai.
NOW = datetime(2024, 4, 24, 12, 0, tzinfo=DUBAI)


def D(y, mo, d, h=0, mi=0, s=0, tz=DUBAI):  # noqa: N802 - reads like a literal in the table
    return datetime(y, mo, d, h, mi, s, tzinfo=tz)


def off(hours: int) -> timezone:
    return timezone(timedelta(hours=hours))


# (text, expected) parsed with tz=Asia/Dubai and now=NOW.
CASES: list[tuple[str, datetime | None]] = [
    # ISO 8601
    ("2016-03-24T05:45:17+03:00", D(2016, 3, 24, 5, 45, 17, tz=off(3))),
    ("2016-03-24T05:45:17Z", D(2016, 3, 24, 5, 45, 17, tz=UTC)),
    ("2016-03-24T05:45:17.250+0300", datetime(2016, 3, 24, 5, 45, 17, 250000, tzinfo=off(3))),
    ("2016-03-24T05:45:17", D(2016, 3, 24, 5, 45, 17)),
    ("2016-03-24 05:45", D(2016, 3, 24, 5, 45)),
    ("2016-03-24", D(2016, 3, 24)),
    ("الخميس 2016-03-24 05:45:17", D(2016, 3, 24, 5, 45, 17)),
    ("2016-03-24 10:48:00 GMT+3", D(2016, 3, 24, 10, 48, tz=off(3))),
    ("Thu, 24 Mar 2016 10:48:00 +0000", D(2016, 3, 24, 10, 48, tz=UTC)),
    # Egyptian / Gulf month names and spellings
    ("13 ابريل 2017 10:48", D(2017, 4, 13, 10, 48)),
    ("13 أبريل 2017", D(2017, 4, 13)),
    ("13 إبريل 2017", D(2017, 4, 13)),
    ("الأربعاء 24 ابريل 2024", D(2024, 4, 24)),
    ("1 يناير 2020", D(2020, 1, 1)),
    ("8 فبراير 2015", D(2015, 2, 8)),
    ("24 مارس 2016", D(2016, 3, 24)),
    ("3 مايو 2016", D(2016, 5, 3)),
    ("7 يونيو 2018", D(2018, 6, 7)),
    ("7 يونيه 2018", D(2018, 6, 7)),
    ("9 يوليو 2019", D(2019, 7, 9)),
    ("9 يوليه 2019", D(2019, 7, 9)),
    ("15 أغسطس 2021", D(2021, 8, 15)),
    ("15 اغسطس 2021", D(2021, 8, 15)),
    ("30 سبتمبر 2022", D(2022, 9, 30)),
    ("6 أكتوبر 2023", D(2023, 10, 6)),
    ("6 اكتوبر 2023", D(2023, 10, 6)),
    ("11 نوفمبر 2011", D(2011, 11, 11)),
    ("31 ديسمبر 1999", D(1999, 12, 31)),
    ("24مارس2016", D(2016, 3, 24)),
    ("24 من شهر مارس 2016", D(2016, 3, 24)),
    ("24-مارس-2016", D(2016, 3, 24)),
    # diacritics and tatweel
    ("24 مـارس 2016 - 10:48 مساءً", D(2016, 3, 24, 22, 48)),
    # Arabic-Indic and Persian digits
    ("٨ فبراير ٢٠١٥", D(2015, 2, 8)),
    ("۸ فبراير ۲۰۱۵", D(2015, 2, 8)),
    ("٢٠١٥/٠٢/٠٨ ١٤:٣٠", D(2015, 2, 8, 14, 30)),
    # Levantine
    ("5 كانون الثاني 2016", D(2016, 1, 5)),
    ("5 كانون ثاني 2016", D(2016, 1, 5)),
    ("14 شباط 2017", D(2017, 2, 14)),
    ("24 آذار 2016", D(2016, 3, 24)),
    ("24 اذار 2016", D(2016, 3, 24)),
    ("10 نيسان 2018", D(2018, 4, 10)),
    ("10 أيار 2018", D(2018, 5, 10)),
    ("10 ايار 2018", D(2018, 5, 10)),
    ("2 حزيران 2019", D(2019, 6, 2)),
    ("2 تموز 2019", D(2019, 7, 2)),
    ("2 آب 2019", D(2019, 8, 2)),
    ("2 أيلول 2019", D(2019, 9, 2)),
    ("2 ايلول 2019", D(2019, 9, 2)),
    ("5 تشرين الأول 2016", D(2016, 10, 5)),
    ("5 تشرين اول 2016", D(2016, 10, 5)),
    ("5 تشرين الثاني 2016", D(2016, 11, 5)),
    ("25 كانون الأول 2016", D(2016, 12, 25)),
    # double forms
    ("24 مارس آذار 2016", D(2016, 3, 24)),
    ("24 مارس/آذار 2016", D(2016, 3, 24)),
    ("24 آذار (مارس) 2016", D(2016, 3, 24)),
    # Maghrebi
    ("12 جانفي 2016", D(2016, 1, 12)),
    ("12 فيفري 2016", D(2016, 2, 12)),
    ("12 أفريل 2016", D(2016, 4, 12)),
    ("3 ماي 2016", D(2016, 5, 3)),
    ("12 جوان 2016", D(2016, 6, 12)),
    ("12 جويلية 2016", D(2016, 7, 12)),
    ("3 أوت 2016", D(2016, 8, 3)),
    ("3 غشت 2016", D(2016, 8, 3)),
    ("3 شتنبر 2016", D(2016, 9, 3)),
    ("3 دجنبر 2016", D(2016, 12, 3)),
    # weekday prefixes and 12h times in Arabic
    ("الخميس 24 مارس 2016 - 10:48 ص", D(2016, 3, 24, 10, 48)),
    ("الخميس 24 مارس 2016 10:48 م", D(2016, 3, 24, 22, 48)),
    ("الجمعة، 25 مارس 2016 12:15 ص", D(2016, 3, 25, 0, 15)),
    ("السبت 26 مارس 2016 الساعة 05:30 صباحاً", D(2016, 3, 26, 5, 30)),
    ("10:48 ص - الخميس 24 مارس 2016", D(2016, 3, 24, 10, 48)),
    ("نشر في: 24 مارس 2016 - 21:05", D(2016, 3, 24, 21, 5)),
    # numeric orders and separators
    ("24/3/2016", D(2016, 3, 24)),
    ("24-03-2016", D(2016, 3, 24)),
    ("24.03.2016", D(2016, 3, 24)),
    ("2016/3/24", D(2016, 3, 24)),
    ("2016.03.24", D(2016, 3, 24)),
    ("24/03/2016 - 14:05", D(2016, 3, 24, 14, 5)),
    ("3/24/2016", D(2016, 3, 24)),  # only the US order is possible
    # English
    ("Published On 24/3/2016", D(2016, 3, 24)),
    ("March 24, 2016", D(2016, 3, 24)),
    ("Mar 24, 2016 10:30 PM", D(2016, 3, 24, 22, 30)),
    ("24 March 2016", D(2016, 3, 24)),
    ("Thursday 24th March 2016 at 9:05 a.m.", D(2016, 3, 24, 9, 5)),
    # relative forms against NOW
    ("منذ 3 ساعات", NOW - timedelta(hours=3)),
    ("منذ ٣ ساعات", NOW - timedelta(hours=3)),
    ("منذ ساعتين", NOW - timedelta(hours=2)),
    ("منذ ساعة", NOW - timedelta(hours=1)),
    ("منذ دقيقة", NOW - timedelta(minutes=1)),
    ("منذ 15 دقيقة", NOW - timedelta(minutes=15)),
    ("منذ دقيقتين", NOW - timedelta(minutes=2)),
    ("منذ يومين", NOW - timedelta(days=2)),
    ("منذ 3 أيام", NOW - timedelta(days=3)),
    ("منذ ثلاث ساعات", NOW - timedelta(hours=3)),
    ("قبل 5 دقائق", NOW - timedelta(minutes=5)),
    ("2 hours ago", NOW - timedelta(hours=2)),
    ("أمس", D(2024, 4, 23)),
    ("امس 10:30 م", D(2024, 4, 23, 22, 30)),
    ("اليوم", D(2024, 4, 24)),
    ("اليوم الأربعاء", D(2024, 4, 24)),
    ("اليوم 09:15", D(2024, 4, 24, 9, 15)),
    ("أول أمس", D(2024, 4, 22)),
    ("yesterday", D(2024, 4, 23)),
    # Hijri beside Gregorian: the Gregorian one counts
    ("15 جمادى الآخرة 1437 هـ الموافق 24 مارس 2016", D(2016, 3, 24)),
    ("10:48-24 مارس 2016 م ـ 15 جمادى الآخرة 1437 هـ", D(2016, 3, 24, 10, 48)),
    ("الخميس 16 رمضان 1445 هـ - 26 مارس 2024", D(2024, 3, 26)),
    ("1 ذو الحجة 1444 / 19 يونيو 2023", D(2023, 6, 19)),
    # Hijri alone, partial, out of range, garbage
    ("15 جمادى الآخرة 1437 هـ", None),
    ("1437/6/15 هـ", None),
    ("15 رمضان 1445", None),
    ("مارس 2016", None),
    ("2016", None),
    ("2099-01-01", None),
    ("1 يناير 2099", None),
    ("1985-01-01", None),
    ("31 فبراير 2016", None),
    ("", None),
    ("   ", None),
    ("garbage", None),
    ("ليس هناك تاريخ في هذا النص", None),
    ("منذ فترة طويلة", None),
    ("99/99/9999", None),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] or "<empty>" for c in CASES])
def test_parse_date_table(text, expected):
    got = parse_date(text, tz="Asia/Dubai", now=NOW)
    if expected is None:
        assert got is None
    else:
        assert got is not None
        assert got.tzinfo is not None
        assert got == expected
        assert got.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize("text", ["منذ 3 ساعات", "أمس", "اليوم", "منذ يومين", "2 hours ago"])
def test_relative_forms_need_now(text):
    assert parse_date(text, tz="Asia/Dubai") is None


def test_time_zone_argument_applies_only_without_offset():
    assert parse_date("24 مارس 2016 10:00", tz="Africa/Cairo") == D(2016, 3, 24, 10, tz=CAIRO)
    assert parse_date("24 مارس 2016 10:00", tz=DAMASCUS).utcoffset() == timedelta(hours=2)
    # An explicit offset wins over the tz argument.
    assert parse_date("2016-03-24T10:00:00+01:00", tz="Asia/Dubai").utcoffset() == timedelta(
        hours=1
    )
    with pytest.raises(ValueError, match="Mars/Olympus"):
        parse_date("24 مارس 2016", tz="Mars/Olympus")


def test_naive_now_is_read_in_tz_and_future_is_rejected():
    naive_now = datetime(2016, 3, 24, 12, 0)
    assert parse_date("منذ ساعتين", tz="Asia/Dubai", now=naive_now) == D(2016, 3, 24, 10, 0)
    # Later than now + 1 day is refused; within a day is kept (time zones, clock skew).
    assert parse_date("26 مارس 2016", tz="Asia/Dubai", now=naive_now) is None
    assert parse_date("25 مارس 2016", tz="Asia/Dubai", now=naive_now) == D(2016, 3, 25)


def test_find_dates_offsets_order_and_hijri():
    text = (
        "نشر في ١٥ جمادى الآخرة ١٤٣٧ هـ الموافق 24 مارس 2016 - 10:48 ص، "
        "وكان الاجتماع السابق في 8 شباط 2015 بينما عُقد آخر في 2015-11-03."
    )
    found = find_dates(text, tz="Asia/Damascus")
    assert [m.value for m in found] == [
        D(2016, 3, 24, 10, 48, tz=DAMASCUS),
        D(2015, 2, 8, tz=DAMASCUS),
        D(2015, 11, 3, tz=DAMASCUS),
    ]
    assert [m.has_time for m in found] == [True, False, False]
    for m in found:
        assert isinstance(m, DateMatch)
        assert text[m.start : m.end] == m.text
    assert found[0].text == "24 مارس 2016 - 10:48 ص"
    assert found[1].text == "8 شباط 2015"


def test_find_dates_offsets_survive_diacritics_and_relative_forms():
    text = "كُتِبَ الخبرُ منذ ساعتين، ونُشِر الأصل في ٢٤ مـــارس ٢٠١٦م."
    found = find_dates(text, tz="UTC", now=datetime(2016, 3, 30, 12, tzinfo=UTC))
    assert [m.text for m in found] == ["منذ ساعتين", "٢٤ مـــارس ٢٠١٦"]
    assert found[0].value == datetime(2016, 3, 30, 10, tzinfo=UTC)
    assert found[0].has_time
    # Without now, only the absolute date; «قبل يومين» in running text is not a timestamp.
    assert [m.text for m in find_dates(text)] == ["٢٤ مـــارس ٢٠١٦"]
    assert find_dates("قال قبل يومين إنه سيعود", now=NOW) == []


def test_find_dates_ignores_plain_numbers_and_bare_years():
    text = "قتل 24 شخصا في 2016 وأصيب 300 آخرون، والهاتف 0501234567 والنسبة 85% إلى 90%."
    assert find_dates(text, now=NOW) == []


def test_url_date():
    assert str(url_date("https://www.aljazeera.net/news/2016/3/24/slug")) == "2016-03-24"
    assert str(url_date("https://www.youm7.com/story/2016/3/24/slug/2645123")) == "2016-03-24"
    assert str(url_date("https://www.france24.com/ar/x/20160324-slug")) == "2016-03-24"
    assert str(url_date("https://example.com/2016-03-24-slug")) == "2016-03-24"
    assert url_date("https://example.com/news/12345678") is None
    assert url_date("https://example.com/2016/13/45/") is None
    assert url_date(None) is None


_ARABIC = st.characters(min_codepoint=0x0600, max_codepoint=0x06FF)
_TEXT = st.text(
    alphabet=st.one_of(_ARABIC, st.sampled_from(list("0123456789/-.: ,TZ+صم")), st.characters()),
    max_size=80,
)


@settings(max_examples=300, deadline=None)
@given(text=_TEXT)
def test_never_raises_on_arbitrary_text(text):
    value = parse_date(text, tz="Asia/Dubai", now=NOW)
    if value is not None:
        assert value.tzinfo is not None
        assert value.year >= 1990
        assert value <= NOW + timedelta(days=1)
    for m in find_dates(text, tz="Asia/Dubai", now=NOW):
        assert text[m.start : m.end] == m.text
        assert m.value.year >= 1990 and m.value <= NOW + timedelta(days=1)


@settings(max_examples=100, deadline=None)
@given(
    day=st.integers(1, 28),
    month=st.integers(1, 12),
    year=st.integers(1990, 2023),
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
)
def test_round_trip_generated_arabic_dates(day, month, year, hour, minute):
    names = ["يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو"]
    names += ["يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"]
    digits = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
    text = f"{day} {names[month - 1]} {year} {hour:02d}:{minute:02d}".translate(digits)
    assert parse_date(text, tz="Asia/Dubai") == D(year, month, day, hour, minute)


# --------------------------------------------------------------------------------------
# published_date on whole pages
# --------------------------------------------------------------------------------------


def page(body: str, head: str = "") -> str:
    return (
        '<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8">'
        f"<title>خبر</title>{head}</head><body>{body}</body></html>"
    )


ARTICLE_BODY = (
    "<p>أعرب وزير الخارجية الروسي سيرغي لافروف عن أمله في استمرار التعاون بين روسيا والولايات "
    "المتحدة لحل الأزمة في سورية وغيرها من الأزمات في العالم.</p>"
    "<p>وقال لافروف خلال لقائه نظيره الأمريكي جون كيري في موسكو اليوم إن المباحثات ستركز على "
    "التعاون بين البلدين.</p>"
)


def test_seed002_header_render_date_ignored_for_date_under_headline():
    html = (DATA / "seed002_alittihad.html").read_text(encoding="utf-8")
    found = detect_published(html, tz="Asia/Dubai", now=NOW)
    assert found is not None and found.method == "text" and found.has_time
    assert found.value == D(2017, 4, 13, 10, 48)
    # Without the date under the headline, the top-bar render date must not be taken.
    without = html.replace("<span>13 ابريل 2017 10:48</span>", "")
    assert published_date(without, tz="Asia/Dubai", now=NOW) is None


def test_seed004_bullet_section_and_arabic_indic_date():
    html = (DATA / "seed004_shaam.html").read_text(encoding="utf-8")
    assert published_date(html, tz="Asia/Damascus") == D(2015, 2, 8, tz=DAMASCUS)


def test_seed003_related_items_never_win():
    html = (DATA / "seed003_aljazeera_meta.html").read_text(encoding="utf-8")
    found = detect_published(html, tz="Asia/Qatar", now=NOW)
    assert found is not None and found.method == "meta"
    assert found.value == D(2016, 3, 24, 9, 37, tz=off(3))
    # Without the meta tag: «اليوم الخميس» gives no date, the related items' "Published On"
    # must not be used; the canonical URL's date is the fallback.
    no_meta = html.replace(
        '<meta property="article:published_time" content="2016-03-24T09:37:00+03:00">', ""
    )
    found = detect_published(no_meta, tz="Asia/Qatar", now=NOW)
    assert found is not None and found.method == "url"
    assert found.value == datetime(2016, 3, 24, tzinfo=ZoneInfo("Asia/Qatar"))
    no_url = no_meta.replace('<link rel="canonical"', '<link rel="alternate"')
    assert published_date(no_url, tz="Asia/Qatar", now=NOW) is None


def test_jsonld_in_graph_wins_and_related_itemlist_is_ignored():
    head = """
    <script type="application/ld+json">
    {"@context": "https://schema.org", "@type": "ItemList", "itemListElement": [
      {"@type": "NewsArticle", "datePublished": "2024-04-20T08:00:00+03:00"}]}
    </script>
    <script type="application/ld+json">
    {"@context": "https://schema.org", "@graph": [
      {"@type": "WebSite", "name": "العربية"},
      {"@type": "WebPage", "datePublished": "2016-03-24T06:00:00Z"},
      {"@type": ["NewsArticle"], "headline": "كيري ولافروف", "datePublished": "2016-03-24T09:30:00+04:00",
       "dateModified": "2016-03-25T10:00:00+04:00"}]}
    </script>
    <meta property="article:published_time" content="2016-03-23T00:00:00Z">"""
    html = page(f"<h1>كيري ولافروف</h1><p>الخميس 20 مارس 2016</p>{ARTICLE_BODY}", head)
    found = detect_published(html, tz="Asia/Dubai", now=NOW)
    assert found is not None and found.method == "jsonld"
    assert found.value == D(2016, 3, 24, 9, 30)


def test_jsonld_broken_json_and_future_dates():
    broken = """<script type="application/ld+json">
    {"@type": "NewsArticle", "datePublished": "2016-03-24T09:30:00+04:00", "headline": "x",}
    </script>"""
    assert published_date(page("<h1>عنوان</h1>", broken), now=NOW) == D(2016, 3, 24, 9, 30)
    future = """<script type="application/ld+json">
    {"@type": "ReportageNewsArticle", "datePublished": "2031-01-01T00:00:00Z"}</script>
    <meta name="pubdate" content="2016-03-24">"""
    found = detect_published(page("<h1>عنوان</h1>", future), tz="Asia/Dubai", now=NOW)
    assert found is not None and found.method == "meta" and found.value == D(2016, 3, 24)


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ('<meta property="og:published_time" content="2016-03-24T09:30:00+02:00">', off(2)),
        ('<meta name="publish-date" content="2016-03-24 09:30">', CAIRO),
        ('<meta name="DC.date.issued" content="2016-03-24T09:30">', CAIRO),
        ('<meta name="sailthru.date" content="2016-03-24 09:30:00">', CAIRO),
        ('<meta itemprop="datePublished" content="2016-03-24T09:30:00+02:00">', off(2)),
        ('<meta name="date" content="24/03/2016 09:30">', CAIRO),
    ],
)
def test_meta_only(meta, expected):
    html = page(f"<h1>عنوان الخبر</h1>{ARTICLE_BODY}", meta)
    found = detect_published(html, tz="Africa/Cairo", now=NOW)
    assert found is not None and found.method == "meta"
    assert found.value == datetime(2016, 3, 24, 9, 30, tzinfo=expected)


def test_time_element_in_article_not_in_header():
    html = page(
        '<header><time datetime="2024-04-24">الأربعاء 24 أبريل 2024</time></header>'
        '<article><h1>عنوان الخبر</h1><div class="byline">'
        '<time datetime="2016-03-24T10:48:00+02:00">24 آذار 2016</time></div>'
        f"{ARTICLE_BODY}</article>"
        '<aside class="related"><time datetime="2024-04-23T09:00:00Z">أمس</time></aside>'
    )
    found = detect_published(html, tz="Asia/Damascus", now=NOW)
    assert found is not None and found.method == "time"
    assert found.value == D(2016, 3, 24, 10, 48, tz=off(2))


def test_text_only_page_ignores_header_date_and_related_story_dates():
    html = page(
        '<header><div class="date">الأربعاء 24 أبريل 2024 | 12:03</div><h1 class="logo">'
        '<img src="logo.png" alt="الموقع"></h1></header>'
        '<div class="article"><h1>التعاون الروسي الأمريكي أثمر نتائج</h1>'
        f'<div class="info">القاهرة - 14 تشرين الثاني 2015</div>{ARTICLE_BODY}</div>'
        '<div class="box"><h3>اقرأ أيضاً</h3><p>خبر آخر - 23 أبريل 2024 08:15 م</p></div>'
        "<footer>24/04/2024</footer>"
    )
    found = detect_published(html, tz="Africa/Cairo", now=NOW)
    assert found is not None and found.method == "text"
    assert found.value == D(2015, 11, 14, tz=CAIRO)


def test_seed000_date_just_above_headline_inside_article():
    html = page(
        '<header class="site-header">الأحد 24 أبريل 2024</header>'
        '<div class="post"><div class="post-meta">الخميس 2016-03-24 05:45:17 عربي ودولي</div>'
        f"<h1>التعاون الروسي الأمريكي لحل الأزمة في سورية أثمر نتائج مهمة</h1>{ARTICLE_BODY}</div>"
    )
    found = detect_published(html, tz="Asia/Damascus", now=NOW)
    assert found is not None and found.value == D(2016, 3, 24, 5, 45, 17, tz=DAMASCUS)


def test_prefers_date_with_time_and_url_tie_break():
    body = (
        "<h1>عنوان</h1><p>الكاتب: فلان | 23 مارس 2016</p><p>آخر تحديث 24 مارس 2016 - 14:20</p>"
        f"{ARTICLE_BODY}"
    )
    assert published_date(page(body), tz="Asia/Dubai", now=NOW) == D(2016, 3, 24, 14, 20)
    # The URL says the 23rd: that date wins the tie.
    url = "https://www.example.com/news/2016/03/23/slug"
    assert published_date(page(body), tz="Asia/Dubai", now=NOW, url=url) == D(2016, 3, 23)


def test_relative_byline_and_hijri_gregorian_byline():
    rel = page(f"<h1>عنوان</h1><span class='time'>منذ 3 ساعات</span>{ARTICLE_BODY}")
    assert published_date(rel, tz="Asia/Dubai", now=NOW) == NOW - timedelta(hours=3)
    assert published_date(rel, tz="Asia/Dubai") is None  # relative needs now
    hijri = page(
        "<h1>عنوان</h1><div>نُشر: 10:48-24 مارس 2016 م ـ 15 جمادى الآخرة 1437 هـ</div>"
        f"{ARTICLE_BODY}"
    )
    assert published_date(hijri, tz="Europe/London") == D(
        2016, 3, 24, 10, 48, tz=ZoneInfo("Europe/London")
    )


def test_english_byline_and_element_input():
    html = page(f"<h1>Title</h1><p>Published On 24/3/2016</p>{ARTICLE_BODY}")
    tree = lxml.html.document_fromstring(html)
    assert published_date(tree, tz="Asia/Qatar") == datetime(
        2016, 3, 24, tzinfo=ZoneInfo("Asia/Qatar")
    )


def test_og_title_is_the_headline_when_there_is_no_h1():
    html = page(
        '<div class="top">الأربعاء 24 أبريل 2024</div><div class="x">عنوان الخبر الطويل هنا</div>'
        f"<div>الخميس 24 مارس 2016</div>{ARTICLE_BODY}",
        '<meta property="og:title" content="عنوان الخبر الطويل هنا">',
    )
    assert published_date(html, tz="Asia/Dubai", now=NOW) == D(2016, 3, 24)


@pytest.mark.parametrize("html", ["", "   ", "<html></html>", "لا شيء", b"<p>\xff\xfe</p>"])
def test_empty_or_dateless_pages(html):
    assert published_date(html, now=NOW) is None
