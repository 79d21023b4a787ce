"""Cleanup rules on paragraph lists, the site-level TemplateFilter, metadata helpers and the
``akhbar extract`` command."""

from __future__ import annotations

import json

import pytest
import typer
from lxml import html as lxml_html
from typer.testing import CliRunner

from akhbar import metadata as meta
from akhbar.cleanup import TemplateFilter, clean_paragraphs, drop_repeats, parse_attribution
from akhbar.parsed import ParsedPage

P1 = "أعرب وزير الخارجية الروسي سيرغي لافروف عن أمله في استمرار التعاون بين روسيا والولايات المتحدة لحل الأزمة في سورية وغيرها من الأزمات."
P2 = "وقال لافروف خلال لقائه نظيره الأمريكي جون كيري في موسكو اليوم إن المباحثات ستركز على التعاون بين البلدين حول الأزمة في سورية."
P3 = "وأشار كيري إلى أن وقف إطلاق النار في سوريا فتح الباب أمام إيصال المساعدات الإنسانية بشكل أكبر خلال الأسابيع الماضية."
TITLE = "كيري ولافروف يتفقان على مواصلة العمل المشترك بشأن سوريا"


def clean(paras, title=TITLE, **kw):
    return clean_paragraphs(paras, title, **kw)


def test_real_paragraphs_survive():
    assert clean([P1, P2, P3]).paragraphs == [P1, P2, P3]


def test_source_mentioned_mid_sentence_stays():
    p = "وقال المصدر: إن المفاوضات ستستمر حتى نهاية الأسبوع المقبل، مضيفا أن الوفدين اتفقا على جدول أعمال مفصل للجولة."
    mid = "وأكد المصدر الذي طلب عدم الكشف عن اسمه أن الاجتماع المقبل سيعقد في جنيف بحضور ممثلين عن الأطراف كافة."
    res = clean([P1, p, mid, P2])
    assert res.paragraphs == [P1, p, mid, P2]
    assert res.source_credit is None


def test_attribution_line_becomes_metadata():
    res = clean([P1, P2, "المصدر: شبكة شام الكاتب: فريق التحرير", "مشاركة:", "اقرأ أيضاً:"])
    assert res.paragraphs == [P1, P2]
    assert res.source_credit == "شبكة شام"
    assert res.author == "فريق التحرير"
    assert parse_attribution("المصدر : الجزيرة + وكالات") == {"source": "الجزيرة + وكالات"}


def test_read_also_block_between_paragraphs():
    res = clean(
        [P1, "اقرأ أيضاً", "بدء موسم تسويق القمح في حماة", "معرض الكتاب يفتح أبوابه", P2, P3]
    )
    assert res.paragraphs == [P1, P2, P3]
    res = clean([P1, "اقرأ أيضا: بدء موسم تسويق القمح في حماة وتوقعات باستلام 300 الف طن", P2])
    assert res.paragraphs == [P1, P2]


def test_tail_blocks_cut_the_rest():
    related = "قال نشطاء ودبلوماسيون إن المبعوث الأممي لسوريا يضع اللمسات النهائية على وثيقة لرؤى المشاركين."
    res = clean(
        [P1, P2, P3, "حول هذه القصة", related, "Published On 24/3/2016", related + " ثانية"]
    )
    assert res.paragraphs == [P1, P2, P3]
    res = clean(
        [P1, P2, "الأكثر قراءة", "No stories found.", "logo", "إرم نيوز", "www.eremnews.com"]
    )
    assert res.paragraphs == [P1, P2]


def test_widgets_copyright_share_captions_datelines():
    junk = [
        "ٍ جميع الحقوق محفوظة لموقع سيريانديز سياسة © 2024",
        "مواقيت الصلاة",
        "الفجر 4:08 الظهر 12:37 العصر 4:19 المغرب 7:57 العشاء 9:25",
        "تابعونا على فيسبوك",
        "مشاركة: فيسبوك تويتر",
        "الوزيران يتصافحان قبل مباحثاتهما (الأوروبية)",
        "تصوير: أحمد علي",
        "Russian Foreign Minister Sergei Lavrov (R) shakes hands with US Secretary of State John Kerry prior to their talks in Moscow.",
        "U.N. envoy arrives in Geneva, March 23, 2016. REUTERS/Martial Trezzini/Pool",
        "الخميس 2016-03-24 05:45:17 عربي ودولي",
        "التعليقات المنشورة لا تعبر بالضرورة عن رأي الموقع",
        "اشترك في النشرة البريدية",
    ]
    res = clean([junk[0], P1, *junk[1:6], P2, *junk[6:], P3])
    assert res.paragraphs == [P1, P2, P3]


def test_latin_paragraphs_stay_in_english_articles():
    en = [
        "The minister said the talks would continue next week, adding that both sides agreed on an agenda.",
        "Officials in Geneva confirmed the date of the next round and said more delegations would attend.",
    ]
    assert clean(en, "Talks to continue").paragraphs == en


def test_title_repeats_glued_title_and_header_lines():
    res = clean(["عدد اليوم", "الأخبار العالمية", TITLE, TITLE + TITLE, P1, P2])
    assert res.paragraphs == [P1, P2]
    # A paragraph that merely starts like the title stays.
    longer = TITLE + " في اجتماع عقد في سوتشي أمس بحضور وفدين رفيعي المستوى من البلدين."
    assert clean([longer, P1]).paragraphs == [longer, P1]


def test_body_printed_twice_is_kept_once():
    res = clean([P1, P2, P3, P1, P2, P3])
    assert res.paragraphs == [P1, P2, P3]


def test_short_structured_repeats_stay():
    items = ["Meal 1", "Eat every 2–3 hours", "Meal 2", "Eat every 2–3 hours"]
    assert drop_repeats(items)[0] == items


class TestTemplateFilter:
    SHORT = "تابعوا آخر الأخبار على تطبيقنا المجاني"

    def test_paragraph_on_three_pages_is_template(self):
        tf = TemplateFilter()
        for i in range(3):
            tf.learn("site", f"p{i}", [f"{P1} {i}", self.SHORT])
        assert tf.is_template("site", self.SHORT)
        assert tf.filter("site", [P1, self.SHORT]) == [P1]

    def test_quote_shared_by_two_articles_stays(self):
        tf = TemplateFilter()
        tf.learn("site", "a", [P1, P2])
        tf.learn("site", "b", [P3, P2])
        tf.learn("site", "c", [P1 + " ج"])
        assert not tf.is_template("site", P2)
        assert tf.filter("site", [P2, P3]) == [P2, P3]

    def test_short_quote_on_a_few_pages_of_a_big_source_stays(self):
        tf = TemplateFilter()
        quote = "وقال الوزير إن الحكومة ستواصل دعم المزارعين خلال الموسم المقبل."
        for i in range(100):
            tf.learn("site", f"p{i}", [quote, f"{P1} {i}"] if i < 4 else [f"{P2} {i}", self.SHORT])
        assert tf.pages_with("site", quote) == 4
        assert not tf.is_template("site", quote)
        assert tf.is_template("site", self.SHORT)  # label-like, on 96 of 100 pages

    def test_long_paragraph_on_few_pages_of_a_big_source_stays(self):
        tf = TemplateFilter()
        long_quote = " ".join([P1, P2, P3])  # > 30 words
        for i in range(20):
            tf.learn("site", f"p{i}", [long_quote] if i < 3 else [f"{P3} {i}"])
        assert tf.pages_with("site", long_quote) == 3
        assert not tf.is_template("site", long_quote)
        # ...but on most pages of the source it is template text.
        for i in range(3, 15):
            tf.learn("site", f"p{i}", [long_quote])
        assert tf.is_template("site", long_quote)

    def test_sources_are_separate_and_normalised(self):
        tf = TemplateFilter()
        for i in range(3):
            tf.learn("a", str(i), [self.SHORT])
        assert not tf.is_template("b", self.SHORT)
        assert tf.is_template("a", "  تابعوا آخر الأخبار على تطبيقنا المجاني!  ")
        # The same page learned twice counts once.
        tf.learn("b", "x", [self.SHORT])
        tf.learn("b", "x", [self.SHORT])
        tf.learn("b", "y", [self.SHORT])
        assert not tf.is_template("b", self.SHORT)

    def test_min_pages_below_three_refused(self):
        with pytest.raises(ValueError):
            TemplateFilter(min_pages=2)


# ---- metadata ---------------------------------------------------------------------------


def _tree(head: str, body: str = "", url: str = "https://www.example-news.com/a/1") -> ParsedPage:
    html = f"<html><head>{head}</head><body>{body}</body></html>"
    return ParsedPage(lxml_html.document_fromstring(html), url)


@pytest.mark.parametrize(
    "head,body,want",
    [
        (
            "<title>موسكو وواشنطن: هدفنا محاربة الإرهاب - الاتحاد</title>"
            "<meta property='og:site_name' content='الاتحاد'>",
            "",
            "موسكو وواشنطن: هدفنا محاربة الإرهاب",
        ),
        (
            "<title>الجزيرة نت | كيري ولافروف يثنيان على نجاح تعاونهما</title>"
            "<meta property='og:site_name' content='الجزيرة نت'>",
            "",
            "كيري ولافروف يثنيان على نجاح تعاونهما",
        ),
        (
            "<title>سيريانديز - التعاون الروسي الأمريكي أثمر نتائج</title>",
            "<h1>التعاون الروسي الأمريكي أثمر نتائج</h1>",
            "التعاون الروسي الأمريكي أثمر نتائج",
        ),
        ("", f"<h1>{TITLE}{TITLE}</h1>", TITLE),
        ("<title>Kerry - Lavrov talks end</title>", "", "Kerry - Lavrov talks end"),
    ],
)
def test_title_without_site_name(head, body, want):
    tree = _tree(head, body)
    assert meta.find_title(tree) == want


def test_canonical_url():
    tree = _tree(
        "<link rel='canonical' href='/news/1?utm_source=x&id=5&fbclid=abc#top'>",
        url="https://www.site.com/news/1?ref=rss",
    )
    assert meta.find_canonical(tree) == "https://www.site.com/news/1?id=5"
    offsite = _tree(
        "<link rel='canonical' href='https://other.org/x'>", url="https://site.com/a?utm_medium=m"
    )
    assert meta.find_canonical(offsite) == "https://site.com/a"


def test_author_section_language():
    tree = _tree(
        '<script type=\'application/ld+json\'>{"@type":"NewsArticle","author":{"name":"بقلم: سامر الشغري"},'
        '"articleSection":"سياسة"}</script>',
        "<p>نص</p>",
    )
    assert meta.find_byline(tree)[0] == "سامر الشغري"
    assert meta.find_section(tree, None) == "سياسة"
    byline = _tree("", "<div class='writer'><a href='/a'>محمد عبدالسميع</a> (أبوظبي)</div>")
    assert meta.find_byline(byline)[0] == "محمد عبدالسميع"
    crumbs = _tree(
        "", "<nav class='breadcrumb'><a href='/'>الرئيسية</a><a href='/eco'>اقتصاد</a></nav>"
    )
    assert meta.find_section(crumbs, None) == "اقتصاد"
    en_declared = ParsedPage.parse("<html lang='en'><body><p>x</p></body></html>")
    declared = meta.declared_language(en_declared)
    assert declared == "en"
    assert meta.language_of(declared, P1) == "ar"
    assert meta.language_of(declared, "Some English words here for the test only.") == "en"


# ---- CLI --------------------------------------------------------------------------------


def test_extract_command(tmp_path):
    from cli.commands.extract import register

    app = typer.Typer()

    @app.callback()
    def _root() -> None:  # force sub-command mode even with one command
        pass

    register(app)
    page = tmp_path / "a.html"
    page.write_text(
        f"<html lang='ar'><head><title>{TITLE}</title></head><body><h1>{TITLE}</h1>"
        f"<time datetime='2024-06-02T10:30:00+03:00'>2 يونيو</time><p>{P1} {P2}</p><p>{P3}</p>"
        "<p>جميع الحقوق محفوظة ©</p></body></html>",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        app, ["extract", str(page), str(tmp_path / "missing.html"), "--url", "https://s.com/n/1"]
    )
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1
    row = lines[0]
    assert row["title"] == TITLE
    assert row["text"] == f"{P1} {P2}\n\n{P3}"
    assert row["published"] == "2024-06-02T10:30:00+03:00"
    assert row["language"] == "ar" and row["is_article"] is True
    assert set(row) >= {"file", "url", "author", "section"}
    assert "missing.html" in result.stderr


def test_follow_prompts_and_long_credit_lines():
    prompts = ["تابعوا آخر الأخبار عبر قناتنا على تلغرام", "حمّل تطبيق الجزيرة للأخبار"]
    assert clean([P1, *prompts, P2]).paragraphs == [P1, P2]
    # Sentences that merely start with the same verbs, or end with an agency credit, stay.
    keep = [
        "تابع الوزير حديثه قائلا إن التطبيق الكامل للاتفاق سيبدأ الشهر المقبل في جميع المناطق.",
        "وأضاف المتحدث أن الحكومة ستواصل دعم المزارعين خلال الموسم المقبل وتأمين المازوت والأسمدة "
        "بالكميات الكافية لجميع المحافظات وفق الخطة المعتمدة (الأناضول)",
    ]
    assert clean([P1, *keep]).paragraphs == [P1, *keep]


def test_link_only_runs_go_single_links_stay():
    from akhbar.cleanup import drop_link_runs

    related = ["أسعار الذهب تواصل الارتفاع في دمشق", "معرض الكتاب يفتح أبوابه بمشاركة مئتي دار"]
    anchors = [*related, "  الرئيسية ", "وزير الخارجية الروسي"]
    assert drop_link_runs([P1, *related, P2], anchors) == [P1, P2]
    assert drop_link_runs([P1, "- " + related[0], related[1]], anchors) == [P1]
    # One linked line between paragraphs is kept: it can be part of the story.
    assert drop_link_runs([P1, related[0], P2], anchors) == [P1, related[0], P2]
    # Short lines that are not link texts are kept even in a run.
    lines = ["Meal 1", "Eat every 2–3 hours"]
    assert drop_link_runs(lines, anchors) == lines


# ---- furniture of table-era layouts (issue 14) ------------------------------------------


def test_top_link_bar_with_render_date_goes():
    bars = [
        "| الأربعاء، 5 حزيران 2024 | من نحن | اتصل بنا | أعلن معنا | RSS |",
        "من نحن - اتصل بنا - أعلن معنا",
        "| الأربعاء، 5 حزيران 2024 |",
    ]
    res = clean([bars[0], P1, P2, bars[1], P3, bars[2]])
    assert res.paragraphs == [P1, P2, P3]
    # The same links printed one per line.
    assert clean(["من نحن", "اتصل بنا", "أعلن معنا", P1, P2]).paragraphs == [P1, P2]
    # A sentence that mentions the same words is prose, not a bar.
    sentence = "وقال المدير: من نحن لنحكم على الناس؟ اتصل بنا كثيرون يسألون عن موعد المعرض."
    assert clean([P1, sentence]).paragraphs == [P1, sentence]


def test_poll_block_goes_and_questions_in_the_story_stay():
    poll = [
        "| استطلاع الرأي |",
        "| هل تتوقع تحسن الوضع المعيشي خلال الأشهر المقبلة؟ |",
        "نعم، بشكل ملحوظ",
        "لا أعرف",
        "| عرض النتائج |",
    ]
    assert clean([P1, P2, *poll, P3]).paragraphs == [P1, P2, P3]
    # The same question without a poll heading is part of the story.
    question = "هل تتوقع تحسن الوضع المعيشي خلال الأشهر المقبلة؟"
    assert clean([P1, question, P2]).paragraphs == [P1, question, P2]
    # A heading without buttons takes only the question after it.
    assert clean([P1, "استطلاع", question, P2, P3]).paragraphs == [P1, P2, P3]


def test_comment_notice_and_the_comments_after_it_go():
    notice = "| الآراء الواردة أدناه لا تعبر عن رأي الموقع وإنما عن رأي أصحابها | |"
    comments = [
        "| - جبلة | 2024-06-01 |",
        "| الكلام نفسه يتكرر كل موسم ولا أحد يسمع | |",
        "| أم علي - طرطوس | 2024-06-02 |",
        "| الليمون عندنا يباع بأرخص من كلفة الصناديق | |",
    ]
    res = clean([P1, P2, P3, notice, *comments])
    assert res.paragraphs == [P1, P2, P3]
    assert {rule for _p, rule in res.removed} == {"comments block"}
    # Without a notice, a comments heading does the same.
    assert clean([P1, P2, P3, "آراء القراء", *comments]).paragraphs == [P1, P2, P3]
    # A notice followed by the story's own prose takes only itself.
    assert clean([P1, notice, P2, P3]).paragraphs == [P1, P2, P3]
    # «لا تعبر عن رأي» about someone else is a sentence of the story.
    sentence = "وقال الوزير إن هذه التصريحات لا تعبر عن رأي الحكومة بل عن موقف شخصي لقائلها."
    assert clean([P1, sentence, P2]).paragraphs == [P1, sentence, P2]
    sentence = "وأكد المتحدث أن هذه الآراء لا تمثل الموقف الرسمي للوزارة"
    assert clean([P1, sentence, P2]).paragraphs == [P1, sentence, P2]
    for notice in (
        "التعليقات المنشورة لا تعبر بالضرورة عن رأي الموقع",
        "ملاحظة: التعليقات تعبر عن آراء أصحابها ولا تعبر عن رأي الشروق أونلاين",
    ):
        assert clean([P1, P2, notice]).paragraphs == [P1, P2]


# ---- bylines that are not authors (issue 14) -----------------------------------------------


@pytest.mark.parametrize(
    "byline,author,dateline",
    [
        ("لندن: «الشرق الأوسط»", None, "لندن: «الشرق الأوسط»"),
        ("اللاذقية: سامر الحلبي", "سامر الحلبي", "اللاذقية"),
        ("بقلم: سامر الشغري", "سامر الشغري", None),
        ("محمد عبدالسميع (أبوظبي)", "محمد عبدالسميع", None),
        ("«الشرق الأوسط»", None, None),
        ("المصدر: النهار العربي", None, None),
        ("By Jane Doe", "Jane Doe", None),
        ("الكاتبة: سارة يوسف", "سارة يوسف", None),
        ("ترجمة: منى خليل", "منى خليل", None),
        ("by Jeff FoustMonday, November 18, 2019", "Jeff Foust", None),
        ("20 Nov 2019 08:00 GMT", None, None),
    ],
)
def test_split_byline(byline, author, dateline):
    assert meta.split_byline(byline) == (author, dateline)


def test_commenter_section_label_and_site_name_are_not_authors():
    comments = (
        "<div class='comments'><div class='comment'><span class='comment-author'>أبو سامر</span>"
        "<p>تعليق</p></div></div>"
    )
    microdata = (
        "<table><tr itemprop='comment' itemscope itemtype='http://schema.org/Comment'>"
        "<td><b itemprop='author'>خالد العلي</b></td></tr></table>"
    )
    table_era = "<table class='tbl_comm'><tr><td class='comm_name'><span class='author'>ريم</span></td></tr></table>"
    for markup in (comments, microdata, table_era):
        assert meta.find_byline(_tree("", "<h1>عنوان</h1><p>نص</p>" + markup))[0] is None
    # The article's own byline still wins over the commenters.
    byline = "<div class='writer'>اللاذقية: سامر الحلبي</div>"
    assert meta.find_byline(_tree("", byline + comments))[0] == "سامر الحلبي"
    # A page wrapper flagged for comments still holds the article's own byline.
    wrapped = "<article class='post has-comments'><span class='author'>رنا سعيد</span></article>"
    assert meta.find_byline(_tree("", wrapped))[0] == "رنا سعيد"
    # «recommended» is not a comment box.
    recommended = "<div class='recommended'><span class='author'>رنا سعيد</span></div>"
    assert meta.find_byline(_tree("", recommended))[0] == "رنا سعيد"
    # The template's author slot holding the section link, or the section's name.
    section_slot = (
        "<h1>عنوان</h1><span class='writer'><a href='/news/category/15/'>منوعات</a></span>"
    )
    tree = _tree("", section_slot)
    assert meta.find_section(tree, "عنوان") == "منوعات"
    assert meta.find_byline(tree, section="منوعات")[0] is None
    plain_slot = _tree("", "<span class='author'>منوعات</span>")
    assert meta.find_byline(plain_slot, section="منوعات")[0] is None
    # The publisher named as the author (JSON-LD Organization) is the site, not a byline.
    ld = _tree(
        "<meta property='og:site_name' content='إرم نيوز'>"
        '<script type=\'application/ld+json\'>{"@type":"NewsArticle",'
        '"author":{"@type":"Organization","name":"إرم نيوز"}}</script>',
        url="https://www.eremnews.com/news/1",
    )
    sites = meta.site_names(ld)
    assert meta.find_byline(ld, sites=sites)[0] is None
    assert meta.find_byline(ld)[0] == "إرم نيوز"  # without the site names it cannot tell


def test_only_the_site_name_itself_is_not_an_author():
    sites = ["The Telegraph", "telegraph.co.uk", "telegraph", "BBC News", "إرم نيوز"]
    assert meta.not_an_author("BBC News", None, sites)
    assert meta.not_an_author("إرم  نيوز", None, sites)
    assert meta.not_an_author("منوعات", "منوعات", sites)
    # A desk, or a person with the paper's name after theirs, is a byline.
    assert not meta.not_an_author("Telegraph Sport", None, sites)
    assert not meta.not_an_author("Troy L. Smith, telegraph.co.uk", None, sites)
    # A byline slot that names the site ends the search: no guess from other markup.
    page = _tree(
        "<meta property='og:site_name' content='BBC News'>",
        "<span class='author'>BBC News</span><div class='author-box'>Follow us on Twitter</div>",
        url="https://www.bbc.com/news/1",
    )
    sites = meta.site_names(page)
    assert meta.find_byline(page, sites=sites)[0] is None


def test_template_keys_only_skip_paragraphs_light_normalisation_empties():
    """template_fingerprints decides "never learned" with _n only when normalize_arabic left
    nothing: a character that survives normalize_arabic survives _n, and the characters _n
    removes leave nothing to normalize_arabic, even two together under NFKC."""
    import sys

    from akhbar.cleanup import _n, template_fingerprints
    from akhbar.normalize import normalize_arabic

    codes = [c for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    assert not [hex(c) for c in codes if normalize_arabic(chr(c)) and not _n(chr(c))]
    removed = [chr(c) for c in codes if not _n(chr(c))]
    assert len(removed) > 100  # whitespace, diacritics, tatweel, the label punctuation
    assert not [(a, b) for a in removed for b in removed if normalize_arabic("\u00a0" + a + b)]
    paragraphs = ["نص الخبر هنا", "«»", "★★★", "", "…"]
    keys = template_fingerprints(paragraphs)
    assert [k is None for k in keys] == [False, True, False, True, True]
    assert keys == template_fingerprints(paragraphs, [normalize_arabic(p) for p in paragraphs])


def test_light_normalisation_and_squash_by_their_definitions():
    """_n (a list table) and _squash (a regex) give what their dict definitions give."""
    import sys

    from akhbar.cleanup import _LIGHT_MAP, _n, _squash

    marks = dict.fromkeys((0x200F, 0x200E, 0x200B, 0xFEFF))
    codes = [c for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    for i in range(0, len(codes), 61):
        text = "ب " + "".join(map(chr, codes[i : i + 61])) + "\u200f x"
        assert _n(text) == " ".join(text.translate(_LIGHT_MAP).lower().split()), hex(codes[i])
        assert _squash(text) == " ".join(text.translate(marks).split()), hex(codes[i])
