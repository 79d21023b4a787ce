"""Words and names that several page readers need: defined here once.

Plain data (no regexes): each reader compiles what it needs, in its own normal form.
Arabic character equivalence is ``akhbar.normalize``, not here.
"""

from __future__ import annotations

# schema.org types of a news article's JSON-LD object (its headline, author, section and
# date are the article's own). WebPage and VideoObject are not among them: readers that
# also accept those say so.
ARTICLE_TYPES: frozenset[str] = frozenset(
    {
        "Article",
        "NewsArticle",
        "ReportageNews",
        "ReportageNewsArticle",
        "AnalysisNewsArticle",
        "OpinionNewsArticle",
        "BackgroundNewsArticle",
        "ReviewNewsArticle",
        "BlogPosting",
        "LiveBlogPosting",
        "SocialMediaPosting",
        "Report",
    }
)
# The page itself: its date and headline are usually the article's, ranked after one.
PAGE_TYPES: frozenset[str] = frozenset({"WebPage", "ItemPage", "CollectionPage"})
# A list of other pages: a listing, not an article.
LISTING_TYPES: frozenset[str] = frozenset(
    {"CollectionPage", "ItemList", "SearchResultsPage", "ProfilePage"}
)

# Month names as Arabic sites print them (Egyptian/Gulf transliterations, Levantine/Iraqi,
# Maghrebi, spelling variants), by month number.
ARABIC_MONTH_NAMES: dict[int, tuple[str, ...]] = {
    1: ("يناير", "كانون الثاني", "كانون ثاني", "جانفي", "جانفييه", "ينار"),
    2: ("فبراير", "شباط", "فيفري", "فبرير"),
    3: ("مارس", "آذار", "اذار"),
    4: ("أبريل", "إبريل", "ابريل", "نيسان", "أفريل", "افريل"),
    5: ("مايو", "أيار", "ايار", "ماي"),
    6: ("يونيو", "يونيه", "حزيران", "جوان"),
    7: ("يوليو", "يوليه", "تموز", "جويلية", "جويلييه", "يوليوز", "جويليه"),
    8: ("أغسطس", "اغسطس", "آب", "أوت", "اوت", "غشت", "اغسطوس"),
    9: ("سبتمبر", "أيلول", "ايلول", "شتنبر", "سيبتمبر"),
    10: ("أكتوبر", "اكتوبر", "تشرين الأول", "تشرين أول", "تشرين الاول", "أوكتوبر"),
    11: ("نوفمبر", "تشرين الثاني", "تشرين ثاني", "نونبر", "نوفمبير"),
    12: ("ديسمبر", "كانون الأول", "كانون أول", "دجنبر", "دسمبر"),
}  # fmt: skip
ENGLISH_MONTH_NAMES: tuple[str, ...] = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
)  # fmt: skip
# Every name of each month: Arabic, English, and English abbreviated ("mar", "sept").
MONTH_NAMES: dict[int, tuple[str, ...]] = {
    month: (
        *names,
        ENGLISH_MONTH_NAMES[month - 1],
        ENGLISH_MONTH_NAMES[month - 1][:3],
        *(("sept",) if month == 9 else ()),
    )
    for month, names in ARABIC_MONTH_NAMES.items()
}

HIJRI_MONTH_NAMES: tuple[str, ...] = (
    "محرم", "صفر", "ربيع الأول", "ربيع أول", "ربيع الثاني", "ربيع الآخر", "ربيع ثاني",
    "ربيع الاخر", "جمادى الأولى", "جمادى الاولى", "جمادى الأول", "جمادى الآخرة",
    "جمادى الثانية", "جمادى الاخرة", "جمادى الثاني", "رجب", "شعبان", "رمضان", "شوال",
    "ذو القعدة", "ذي القعدة", "ذو الحجة", "ذي الحجة",
)  # fmt: skip

WEEKDAY_NAMES: tuple[str, ...] = (
    "السبت", "الأحد", "الاحد", "الاثنين", "الإثنين", "الثلاثاء", "الأربعاء", "الاربعاء",
    "الخميس", "الجمعة", "saturday", "sunday", "monday", "tuesday", "wednesday", "thursday",
    "friday",
)  # fmt: skip

# Labels before a byline («بقلم: …», «كتب …») and before a source credit («المصدر: …»).
AUTHOR_LABELS: tuple[str, ...] = (
    "بقلم", "كتب", "كتبت", "كتبه", "الكاتب", "الكاتبة", "كاتب", "كاتبة", "إعداد", "اعداد",
    "تحرير", "by", "written by", "author",
)  # fmt: skip
SOURCE_LABELS: tuple[str, ...] = ("المصدر", "المصادر", "مصدر الخبر", "source", "sources")

# Arabic script: letters, marks, presentation forms (a character class body, for regexes).
ARABIC_SCRIPT = "\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff"

# Headings of blocks that list other stories (most read, related, more news). What follows
# one is not the article: cleanup drops the block, the page-date reader stops there.
RELATED_HEADINGS: tuple[str, ...] = (
    "الأكثر قراءة", "الأكثر مشاهدة", "الأكثر تداولا", "الأكثر شعبية", "الأكثر تعليقا",
    "الأخبار الأكثر قراءة", "حول هذه القصة", "أخبار ذات صلة", "أخبار متعلقة",
    "مواضيع ذات صلة", "مقالات ذات صلة", "موضوعات ذات صلة", "ذات صلة", "قد يهمك", "قد يهمك أيضا",
    "قد يعجبك", "قد يعجبك أيضا", "شاهد أيضا", "اخترنا لك", "اقرأ في هذا الملف",
    "المزيد من الأخبار", "آخر الأخبار", "أحدث الأخبار",
    "most read", "most popular", "most viewed", "related articles", "related stories",
    "related news", "related posts", "related content", "you may also like", "more stories",
    "more from", "recommended", "trending now", "read next",
)  # fmt: skip
# «المزيد من <section>»: "more from" followed by a section's name.
MORE_FROM_HEADINGS: tuple[str, ...] = ("المزيد من", "more from", "more in")
# «اقرأ أيضاً»: a heading between body paragraphs, followed by links to other stories.
READ_ALSO_HEADINGS: tuple[str, ...] = (
    "اقرأ أيضا", "اقرأ ايضا", "إقرأ أيضا", "اقرا ايضا", "اقرأ المزيد", "إقرأ المزيد",
    "طالع أيضا", "شاهد أيضا", "read more", "read also", "also read", "see also", "see more",
    "related",
)  # fmt: skip
