"""Cleanup of what trafilatura leaves in an article body.

Plain functions over a list of paragraphs (plus the title). Every rule is generic: it
looks at the shape of a paragraph (short, label-like, at the edges of the body) and never
at a site name. Rules that could hit a real sentence require the paragraph to be short or
the phrase to stand alone, so «المصدر» in the middle of a sentence stays.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field

from akhbar.normalize import TRANSLATION, normalize_arabic, translate_table
from akhbar.vocabulary import (
    ARABIC_SCRIPT,
    AUTHOR_LABELS,
    MONTH_NAMES,
    MORE_FROM_HEADINGS,
    READ_ALSO_HEADINGS,
    RELATED_HEADINGS,
    SOURCE_LABELS,
    WEEKDAY_NAMES,
)

_WS = re.compile(r"\s+")
_WORD = re.compile(r"\w+", re.UNICODE)
_ARABIC = re.compile(f"[{ARABIC_SCRIPT}]")
_LATIN = re.compile("[A-Za-z]")
_NO_WORDS = re.compile(r"^[\W_\u0640]*$", re.UNICODE)


def _build_light_table() -> dict[int, str | None]:
    # normalize_arabic's character table, plus the punctuation our label lines use.
    table = dict(TRANSLATION)
    for ch in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~،؛؟«»“”‘’…–—•·|\u00a0\u200f\u200e":
        table[ord(ch)] = " "
    return table


# As a list for str.translate (see akhbar.normalize.translate_table: 3x faster than a dict).
_LIGHT_MAP = _build_light_table()
_LIGHT = translate_table(_LIGHT_MAP, lambda ch: False, max(_LIGHT_MAP) + 1)


def _n(text: str) -> str:
    """normalize_arabic's result for the short label-like lines we test, about 10x faster
    (one translate instead of NFKC + regex passes)."""
    return " ".join(text.translate(_LIGHT).lower().split())


def _words(text: str) -> int:
    # Whitespace-separated words: the thresholds below are rough, and this is 5x cheaper
    # than counting \w+ runs.
    return len(text.split())


def _alt(*phrases: str) -> str:
    # Phrases are matched on normalised text (no hamza forms, ه for ة): normalise them too.
    return "|".join(re.escape(_n(p)).replace(r"\ ", r"\s+") for p in phrases)


# ---- block headings: the heading and the list of links after it go ------------------

# Headings after which the rest of the body is never the story: lists of other stories,
# reader comments, tags.
_TAIL_HEADINGS = _alt(
    *RELATED_HEADINGS,
    "التعليقات",
    "تعليقات القراء",
    "أضف تعليقك",
    "أضف تعليق",
    "أضف تعليقا",
    "آراء القراء",
    "تعليقات الزوار",
    "اترك تعليقا",
    "اترك تعليقاً",
    "leave a comment",
    "leave a reply",
    "comments",
    "tags",
    "الوسوم",
    "وسوم",
    "كلمات مفتاحية",
    "الكلمات المفتاحية",
    "filed under",
)
_TAIL_RE = re.compile(rf"^(?:{_TAIL_HEADINGS})\s*$")
# «المزيد من أزمات» — "more from <section>" as a heading.
_MORE_FROM_RE = re.compile(rf"^(?:{_alt(*MORE_FROM_HEADINGS)})\b.{{0,30}}$")

# Inline headings: «اقرأ أيضاً» may sit between body paragraphs, followed by link titles.
# Alone on their line these words are headings too («شاهد», "watch" before a video).
_INLINE_HEADINGS = _alt(
    *READ_ALSO_HEADINGS,
    "شاهد",
    "للمزيد",
    "لمزيد من المعلومات",
    "watch",
    "don't miss",
    "dont miss",
    "لا تفوت",
    "لا يفوتك",
)
_INLINE_RE = re.compile(rf"^(?:{_INLINE_HEADINGS})\s*$")
# The heading and the linked title on one line: «اقرأ أيضاً: عنوان مقال آخر».
_INLINE_WITH_TEXT_RE = re.compile(rf"^(?:{_alt(*READ_ALSO_HEADINGS, 'also on')})\b")
# Contact and follow lines: "Write to X at x@y.com", "Follow @BGRDeals on Twitter",
# «للتواصل مع الكاتب: ...». Need both a contact verb and an address/handle.
_CONTACT_VERB = re.compile(
    r"\b(?:follow|email|e-mail|write to|contact|reached at|reach (?:him|her|them)|tweet)\b|تابعوا|تابعونا|للتواصل|راسلونا",
    re.IGNORECASE,
)
_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+|(?<![\w@])@\w{2,}")
# «تابعوا آخر الأخبار عبر قناتنا على تلغرام», «حمّل تطبيق ...»: follow/app prompts.
_FOLLOW_PROMPT = re.compile(
    rf"^(?:{_alt('تابعوا', 'تابعونا', 'تابعنا', 'تابع', 'لمتابعة', 'للمتابعة', 'اشترك', 'اشتركوا', 'انضم', 'انضموا', 'حمل', 'حملوا', 'نزل', 'للاشتراك', 'follow', 'join', 'download', 'get')})\b.*\b"
    rf"(?:{_alt('قناتنا', 'قناة', 'تلغرام', 'تيليجرام', 'واتساب', 'تطبيق', 'فيسبوك', 'تويتر', 'يوتيوب', 'انستغرام', 'اخبار جوجل', 'google news', 'telegram', 'whatsapp', 'app', 'our channel')})\b"
)
_SHARE_PROMPT = re.compile(
    r"\b(?:share (?:it|this)(?: story| article)? with|like this (?:story|article)|click here to get the)\b",
    re.IGNORECASE,
)

# ---- single boilerplate lines --------------------------------------------------------

_LABELS = re.compile(
    rf"^(?:{_alt('مشاركة', 'شارك', 'شاركها', 'شارك الخبر', 'شارك المقال', 'مشاركة الخبر', 'تابعونا', 'تابعنا', 'تابعونا على', 'تابعنا على', 'تابعوا', 'طباعة', 'إرسال', 'أرسل لصديق', 'حفظ', 'نسخ الرابط', 'تم نسخ الرابط', 'شارك على فيسبوك', 'share', 'share this', 'share this article', 'share on facebook', 'share on twitter', 'tweet', 'email', 'print', 'facebook', 'twitter', 'whatsapp', 'telegram', 'linkedin', 'copy link', 'follow us', 'logo', 'advertisement', 'إعلان', 'اعلان', 'no stories found', 'loading', 'جار التحميل', 'تحميل المزيد', 'load more', 'skip to content', 'back to top', 'الصفحة الرئيسية', 'الرئيسية', 'home')})"
    r"(?:\s*(?:على|on|via)?\s*(?:فيسبوك|تويتر|واتساب|تلغرام|facebook|twitter|whatsapp|telegram|x|email|linkedin|\s)*)*$"
)
# Share/follow bars: several network names and nothing else.
_NETWORKS = re.compile(
    r"\b(?:facebook|twitter|whatsapp|telegram|linkedin|instagram|youtube|tiktok|pinterest|reddit|email|"
    r"فيسبوك|فيس بوك|تويتر|واتساب|واتس اب|تلغرام|تيليجرام|انستغرام|انستجرام|يوتيوب|لينكد ان)\b",
    re.IGNORECASE,
)
_COPYRIGHT = re.compile(
    rf"(?:{_alt('جميع الحقوق محفوظة', 'كل الحقوق محفوظة', 'حقوق النشر محفوظة', 'الحقوق محفوظة', 'حقوق الطبع', 'جميع حقوق النشر', 'all rights reserved', 'copyright')})|©|\(c\)\s*\d{{4}}",
    re.IGNORECASE,
)
_NEWSLETTER = re.compile(
    rf"(?:{_alt('النشرة البريدية', 'النشرة الإخبارية', 'اشترك في النشرة', 'اشترك الآن', 'اشترك في', 'سجل بريدك', 'أدخل بريدك', 'البريد الإلكتروني', 'ملفات تعريف الارتباط', 'ملفات الكوكيز', 'الكوكيز', 'سياسة الخصوصية', 'شروط الاستخدام', 'subscribe to our', 'sign up for our', 'sign up to our', 'sign up for the newsletter', 'our newsletter', 'newsletter', 'we use cookies', 'cookie policy', 'accept cookies', 'privacy policy', 'terms of use', 'terms of service')})",
    re.IGNORECASE,
)
_COMMENTS = re.compile(
    rf"(?:{_alt('التعليقات المنشورة', 'سياسة التعليقات', 'شروط التعليق', 'التعليقات لا تعبر', 'لا تعبر عن رأي الموقع', 'لا تعبر بالضرورة عن رأي', 'يرجى الالتزام', 'أضف تعليقك', 'اكتب تعليقك', 'عدد التعليقات', 'تعليق', 'تعليقات', 'comment policy', 'comments are closed', 'post a comment', 'add a comment', 'comments')})",
    re.IGNORECASE,
)
_PRAYER_WORDS = ("الفجر", "الشروق", "الظهر", "العصر", "المغرب", "العشاء")
_PRAYER_HEAD = re.compile(rf"^(?:{_alt('مواقيت الصلاة', 'أوقات الصلاة', 'مواعيد الصلاة')})")
_WEATHER = re.compile(
    rf"(?:{_alt('حالة الطقس', 'الطقس اليوم', 'درجة الحرارة', 'درجات الحرارة', 'weather')})|°",
    re.IGNORECASE,
)

# ---- page furniture of table-era layouts ---------------------------------------------

# The links of a site's top or bottom bar («من نحن | اتصل بنا | أعلن معنا»), longest first
# so that «الصفحة الرئيسية» is not read as «الرئيسية» plus a stray word.
_SITE_LINKS = sorted(
    (
        "من نحن", "اتصل بنا", "اتصلوا بنا", "تواصل معنا", "أعلن معنا", "أعلن لدينا", "للإعلان",
        "الإعلان معنا", "هيئة التحرير", "أسرة التحرير", "خريطة الموقع", "سياسة الخصوصية",
        "شروط الاستخدام", "الأرشيف", "الرئيسية", "الصفحة الرئيسية", "rss", "about us",
        "contact us", "advertise", "advertise with us", "sitemap", "privacy policy",
        "terms of use", "archive", "home",
    ),
    key=len,
    reverse=True,
)  # fmt: skip
_SITE_LINKS_RE = re.compile(rf"(?<!\S)(?:{_alt(*_SITE_LINKS)})(?!\S)")
# A reader poll: its heading, then the question, the options and the vote/results buttons.
_POLL_HEAD = re.compile(
    rf"^(?:{_alt('استطلاع الرأي', 'استطلاع رأي', 'استطلاع', 'استفتاء', 'استفتاء الموقع', 'شارك في الاستطلاع', 'شارك برأيك', 'رأيك يهمنا', 'صوت الآن', 'poll', 'quick poll', 'reader poll', 'cast your vote')})$"
)
_POLL_END = re.compile(
    rf"^(?:{_alt('تصويت', 'صوت', 'عرض النتائج', 'النتائج', 'نتائج التصويت', 'نتائج الاستطلاع', 'vote', 'results', 'view results')})(?:\s+(?:{_alt('تصويت', 'صوت', 'عرض النتائج', 'النتائج', 'vote', 'results', 'view results')}))*$"
)
# Comment-policy notices printed above reader comments: «الآراء الواردة أدناه لا تعبر عن رأي
# الموقع», «التعليقات تعبر عن آراء أصحابها». A denial of responsibility plus who is meant.
# Vote and results buttons on their own line («تصويت», «عرض النتائج»); a bare «النتائج» is
# also a sports subheading, so it only goes inside a poll block.
_POLL_BUTTON = re.compile(
    rf"^(?:{_alt('تصويت', 'صوت', 'عرض النتائج', 'نتائج التصويت', 'نتائج الاستطلاع', 'vote', 'view results')})$"
)
_NOTICE_DENIAL = re.compile(
    rf"(?:{_alt('لا تعبر', 'لا تمثل', 'لا يعبر', 'لا يمثل', 'تعبر عن رأي أصحابها', 'تعبر عن آراء أصحابها', 'تعبر عن رأي كاتبيها', 'مسؤولية أصحابها', 'مسؤولية كاتبيها')})"
)
# ... about the site or the writers ...
_NOTICE_WHO = re.compile(
    rf"(?:{_alt('الموقع', 'الصحيفة', 'الجريدة', 'الشبكة', 'إدارة', 'أسرة التحرير', 'أصحابها', 'كاتبيها')})"
)
# ... and about what readers post.
_NOTICE_WHAT = re.compile(
    rf"(?:{_alt('التعليقات', 'تعليقات', 'التعليق', 'الآراء', 'آراء', 'المشاركات', 'مشاركات')})"
)


def is_site_links_bar(norm: str) -> bool:
    """A row of the site's own links (about, contact, advertise), maybe with today's date,
    or one such link alone on its line."""
    if not _SITE_LINKS_RE.search(norm):
        return False
    return all(_CALENDAR_TOKEN.match(t) for t in _SITE_LINKS_RE.sub(" ", norm).split())


def is_comment_notice(norm: str, nwords: int) -> bool:
    """«الآراء الواردة أدناه لا تعبر عن رأي الموقع…» (normalised text)."""
    return (
        nwords <= 40
        and _NOTICE_DENIAL.search(norm) is not None
        and _NOTICE_WHO.search(norm) is not None
        and _NOTICE_WHAT.search(norm) is not None
    )


def _single_cell(text: str) -> str:
    """The one non-empty cell of a table row trafilatura printed as «| text | |»."""
    if "|" not in text:
        return text
    cells = [c.strip() for c in text.split("|") if c.strip()]
    return cells[0] if len(cells) == 1 else text


# ---- captions and photo credits ------------------------------------------------------

_AGENCY = (
    "رويترز|الأوروبية|الفرنسية|أسوشيتد برس|أسوشيتد|الأناضول|د ب أ|أ ف ب|أ ب|غيتي|غيتي إيميجز|"
    "شينخوا|إفي|سبوتنيك|أرشيفية|أرشيف|مواقع التواصل|مواقع تواصل|وسائل التواصل|الجزيرة|"
    "AFP|Reuters|AP|EPA|Getty|Getty Images|Anadolu|Xinhua|Shutterstock"
)
# Case matters: "(EPA)" is an agency, "(ePA)" is an abbreviation in a sentence.
_CAPTION_TAIL = re.compile(
    rf"[\(\[]\s*(?:{_AGENCY})(?:\s*[-/\u060c,]\s*[^)\]]{{0,40}})?\s*[\)\]]\s*\.?$"
)
_CREDIT = re.compile(
    r"^\s*(?:تصوير|صورة|الصورة|الصور|صور|مصدر الصورة|حقوق الصورة|photo|photograph|image|picture|"
    r"credit|photo credit|image source|source image)\s*[:：]",
    re.IGNORECASE,
)
_PHOTO_AGENCY = re.compile(
    r"\b(?:REUTERS|AFP|EPA|AP Photo|Getty Images|ANADOLU|XINHUA|SHUTTERSTOCK)\b\s*/|"
    r"/\s*(?:REUTERS|AFP|EPA|Getty Images|AP)\b|\((?:Photo|Image|Credit)\b[^)]*\)|"
    r"\b(?:Photo|Image|Picture) (?:by|credit|courtesy)\b|\bvia Getty Images\b|\bfile photo\b"
)

# ---- dates and render headers --------------------------------------------------------

# Month and weekday names (akhbar.vocabulary) as an alternation: as written, normalised
# (hamza-less «اب»), and each word of two-word names («كانون», «تشرين»).
_MONTHS = "|".join(
    sorted(
        {
            form
            for names in MONTH_NAMES.values()
            for name in names
            for form in (name, _n(name), *name.split(), *_n(name).split())
        },
        key=len,
        reverse=True,
    )
)
_DAYS = "|".join(WEEKDAY_NAMES)
_DATE_WORDS = (
    "published|updated|last updated|posted|on|at|am|pm|gmt|utc|ص|م|صباحا|مساء|نشر|نشر في|"
    "تاريخ النشر|آخر تحديث|اخر تحديث|محدث|تحديث|بتوقيت|مكة|غرينتش|"
    "هـ|ه|الموافق|منذ|ساعة|ساعات|دقيقة|دقائق|يوم|أيام|hours|minutes|ago|"
)
_DATE_TOKEN = re.compile(
    rf"^(?:\d+|{_n(_MONTHS).replace(' ', '|')}|{_n(_DAYS)}|{_n(_DATE_WORDS)})$", re.IGNORECASE
)
_HAS_DIGIT = re.compile(r"\d")
# One token of a calendar date: a number, a month or a weekday (normalised).
_CALENDAR_TOKEN = re.compile(
    rf"^(?:\d+|{'|'.join(map(re.escape, (_n(_MONTHS) + ' ' + _n(_DAYS)).split()))})$"
)

# ---- attribution lines ---------------------------------------------------------------

_ATTRIB = re.compile(
    r"(?P<key>"
    + "|".join(sorted((*AUTHOR_LABELS, *SOURCE_LABELS), key=len, reverse=True))
    + r")\s*[:：]\s*",
    re.IGNORECASE,
)
_AUTHOR_KEYS = {label.lower() for label in AUTHOR_LABELS}


@dataclass
class CleanResult:
    paragraphs: list[str]
    author: str | None = None
    source_credit: str | None = None
    removed: list[tuple[str, str]] = field(default_factory=list)  # (paragraph, rule)


# Direction marks, zero-width space and BOM: deleted. A regex, not translate with a dict,
# which raised a KeyError for every other character (5x slower).
_MARKS = re.compile("[\u200f\u200e\u200b\ufeff]")


def _squash(text: str) -> str:
    return " ".join(_MARKS.sub("", text).split())


def is_latin_caption(text: str, arabic_doc: bool) -> bool:
    """A Latin-script paragraph in an Arabic article is a caption, credit or widget."""
    if not arabic_doc:
        return False
    latin = len(_LATIN.findall(text))
    arabic = len(_ARABIC.findall(text))
    return latin > 15 and arabic < 0.1 * latin


_DATE_SHAPE = re.compile(
    rf"\b\d{{1,4}}[-/.]\d{{1,2}}[-/.]\d{{1,4}}\b|\b\d{{1,2}}:\d{{2}}\b|(?:{_MONTHS})|(?:{_DAYS})",
    re.IGNORECASE,
)
_ISO_STAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
_BARE_URL = re.compile(r"^(?:https?://|www\.)\S+$")
_IMAGE_URL = re.compile(r"\.(?:jpe?g|png|gif|webp|svg)(?:\?\S*)?$", re.IGNORECASE)


def is_date_line(text: str) -> bool:
    """A line that is a date/time stamp, maybe with a label or a section name."""
    # Table rows and embedded tweets ("— Name (@handle) November 18, 2019") are content.
    if len(text) > 120 or not _HAS_DIGIT.search(text) or "|" in text or "@" in text:
        return False
    if not _DATE_SHAPE.search(text):
        return False
    if _ISO_STAMP.match(text.strip()):
        return True
    toks = _n(text).split()
    if not toks or len(toks) > 12:
        return False
    date_toks = sum(1 for t in toks if _DATE_TOKEN.match(t))
    return (
        date_toks >= 2
        and date_toks >= 0.6 * len(toks)
        or (date_toks >= 3 and len(toks) - date_toks <= 3)
    )


def parse_attribution(text: str) -> dict[str, str] | None:
    """«المصدر: شبكة شام الكاتب: فريق التحرير» -> {"source": ..., "author": ...}.

    Only a short line that *starts* with the label counts.
    """
    if _words(text) > 16:
        return None
    matches = list(_ATTRIB.finditer(text))
    if not matches or matches[0].start() != 0:
        return None
    out: dict[str, str] = {}
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        value = text[m.end() : end].strip(" \t-–—|،,.")
        if not value:
            continue
        key = m.group("key")
        if key.lower() in _AUTHOR_KEYS:
            out.setdefault("author", value)
        else:
            out.setdefault("source", value)
    return out or None


# Substrings that must be present for the matching regex to have a chance.
_COPYRIGHT_HINTS = ("©", "حقوق", "right", "copyright", "(c)", "c 1", "c 2")
_NEWSLETTER_HINTS = (
    "نشر", "اشترك", "سجل", "بريد", "ارتباط", "كوكيز", "خصوصي", "شروط",
    "newsletter", "subscribe", "sign up", "cookie", "privacy", "terms",
)  # fmt: skip
_SHARE_HINTS = ("share", "like this", "click here")
_COMMENT_HINTS = ("تعليق", "comment")
_PHOTO_HINTS = ("/", "(", "Photo", "Image", "Picture", "Getty", "file photo")


_HINT_RES: dict[tuple[str, ...], re.Pattern[str]] = {}


def _has_any(text: str, needles: tuple[str, ...]) -> bool:
    # One compiled alternation of literals: a single C-level scan instead of a Python loop.
    pattern = _HINT_RES.get(needles)
    if pattern is None:
        pattern = _HINT_RES[needles] = re.compile("|".join(map(re.escape, needles)))
    return pattern.search(text) is not None


def boilerplate_rule(
    text: str, *, arabic_doc: bool, site_names: tuple[str, ...] = (), norm: str | None = None
) -> str | None:
    """Name of the rule that makes one paragraph boilerplate, or None."""
    if _NO_WORDS.match(text):
        return "no words"
    nwords = _words(text)
    if nwords > 40:
        # Long paragraphs are prose; only credits/captions written at length can match.
        if arabic_doc and (
            (_has_any(text, _PHOTO_HINTS) and _PHOTO_AGENCY.search(text))
            or is_latin_caption(text, arabic_doc)
        ):
            return "photo credit"
        return None
    norm = _n(text) if norm is None else norm
    if nwords <= 12 and (_LABELS.match(norm) or _TAIL_RE.match(norm) or _INLINE_RE.match(norm)):
        return "label"
    if nwords <= 4 and _POLL_BUTTON.match(norm):
        return "poll button"
    if nwords <= 30 and is_site_links_bar(norm):
        return "site links"
    if nwords <= 40 and is_comment_notice(norm, nwords):
        return "comment notice"
    if (
        nwords <= 8
        and len(_NETWORKS.findall(text)) >= 2
        and len(_NETWORKS.findall(text)) >= nwords / 2
    ):
        return "share bar"
    # Cheap substring tests gate the slower regexes (most paragraphs match none of them).
    if nwords <= 40 and "@" in text and _ADDRESS.search(text) and _CONTACT_VERB.search(text):
        return "contact line"
    if nwords <= 20 and _has_any(norm, _SHARE_HINTS) and _SHARE_PROMPT.search(text):
        return "share prompt"
    if nwords <= 14 and _FOLLOW_PROMPT.search(norm):
        return "follow prompt"
    if nwords <= 25 and _has_any(norm, _COPYRIGHT_HINTS) and _COPYRIGHT.search(text):
        return "copyright"
    if nwords <= 25 and _has_any(norm, _NEWSLETTER_HINTS) and _NEWSLETTER.search(norm):
        return "newsletter/cookie"
    if (
        nwords <= 20
        and _has_any(norm, _COMMENT_HINTS)
        and _COMMENTS.search(norm)
        and not text.rstrip().endswith((".", "؟", "!"))
    ):
        return "comments"
    if nwords <= 30 and (_PRAYER_HEAD.match(norm) or sum(w in text for w in _PRAYER_WORDS) >= 4):
        return "prayer times"
    if nwords <= 15 and _WEATHER.search(norm) and _HAS_DIGIT.search(text):
        return "weather"
    # Captions are short; a longer paragraph ending in «(رويترز)» is the story's last line.
    if nwords <= 20 and _CAPTION_TAIL.search(text):
        return "caption"
    if nwords <= 30 and _CREDIT.match(text):
        return "photo credit"
    if _has_any(text, _PHOTO_HINTS) and _PHOTO_AGENCY.search(text):
        return "photo credit"
    if is_latin_caption(text, arabic_doc):
        return "latin caption"
    if is_date_line(_single_cell(text)):
        return "date line"
    if nwords <= 6 and re.fullmatch(r"(?:https?://)?(?:www\.)?[\w-]+(?:\.[\w-]+)+/?", text.strip()):
        return "domain"
    if _BARE_URL.match(text.strip()) and _IMAGE_URL.search(text):
        return "image url"
    if site_names and nwords <= 6:
        compact = norm.replace(" ", "")
        for site in site_names:
            s = _n(site).replace(" ", "")
            if s and compact == s:
                return "site name"
    return None


def _is_link_title(text: str) -> bool:
    """Shape of a related-story link: short, no sentence punctuation at the end."""
    return _words(text) <= 22 and not text.rstrip().endswith((".", "؟", "!", ":", "»", '"', "”"))


def _title_key(text: str) -> str:
    return _n(text).replace(" ", "")


def strip_title_repeats(paragraphs: list[str], title: str | None) -> tuple[list[str], list[str]]:
    """Drop the title repeated (or glued to itself) in the first lines, and short header
    lines before such a repeat (date bars, menus) — they precede the headline."""
    if not title or not paragraphs:
        return paragraphs, []
    tkey = _title_key(title)
    if len(tkey) < 6:
        return paragraphs, []

    tlen = len(title)

    def is_title(p: str) -> bool:
        # Length first: only a paragraph about 1-4 titles long can be the title repeated.
        if not tlen // 2 <= len(p) <= 4 * tlen + 8:
            return False
        k = _title_key(p)
        return bool(k) and (
            k == tkey or (len(k) % len(tkey) == 0 and k == tkey * (len(k) // len(tkey)))
        )

    last = -1
    for i, p in enumerate(paragraphs[:12]):
        if is_title(p):
            last = i
    if last < 0:
        return paragraphs, []
    head = paragraphs[: last + 1]
    # Everything before the last title repeat must be short header material.
    if all(is_title(p) or _words(p) <= 12 for p in head):
        return paragraphs[last + 1 :], head
    kept = [p for p in paragraphs if not is_title(p)]
    return kept, [p for p in paragraphs if is_title(p)]


def _fingerprint(text: str) -> str:
    return _key(normalize_arabic(text))


def _key(normalised: str) -> str:
    return hashlib.blake2b(normalised.encode("utf-8"), digest_size=8).hexdigest()


def template_fingerprints(
    paragraphs: list[str], normalised: list[str] | None = None
) -> list[str | None]:
    """``TemplateFilter``'s key for each paragraph, None for one it never learns (nothing
    left once normalised). ``normalised``: the paragraphs' ``normalize_arabic`` forms when
    already computed (the crawl's workers compute them once for this and the fingerprints)."""
    if normalised is None:
        normalised = [normalize_arabic(p) for p in paragraphs]
    # A paragraph with a normal form always has a non-empty _n (normalize_arabic removes
    # what _n removes and more; tests/test_cleanup.py checks it for every character), so
    # _n only decides for the rare paragraph whose form is empty («★★★» is learned).
    return [
        _key(form) if form or _n(p) else None
        for p, form in zip(paragraphs, normalised, strict=True)
    ]


# Sentence end, maybe followed by closing quotes: prose, not a list/recipe item.
_PROSE_END = re.compile(r"[.!?؟…][\"'”»)\]]*\s*$")


def drop_repeats(paragraphs: list[str]) -> tuple[list[str], list[str]]:
    """Drop paragraphs that repeat earlier ones when the page prints the body (or a
    block) twice. Structured pages repeat short items legitimately (an interview's
    questions, a table header, a recipe's "Eat every 2-3 hours"), so a repeat goes only
    when it is long, or when it repeats together with its neighbour (a repeated run)."""
    keys = [_WS.sub(" ", p).strip().casefold() for p in paragraphs]
    seen: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    drop = [False] * len(paragraphs)
    for i, key in enumerate(keys):
        if not key:
            continue
        nxt = keys[i + 1] if i + 1 < len(keys) else None
        prev = keys[i - 1] if i > 0 else None
        if key in seen:
            n = _words(paragraphs[i])
            # A run of long paragraphs printed again; list items and short lines repeat
            # legitimately (two meal plans sharing items).
            in_run = (prev is not None and (prev, key) in pairs and len(prev.split()) >= 12) or (
                nxt is not None and (key, nxt) in pairs and len(nxt.split()) >= 12
            )
            prose = _PROSE_END.search(paragraphs[i]) is not None
            if prose and (n >= 25 or (in_run and n >= 12)):
                drop[i] = True
        seen.add(key)
        if prev is not None:
            pairs.add((prev, key))
    kept = [p for p, d in zip(paragraphs, drop, strict=True) if not d]
    dropped = [p for p, d in zip(paragraphs, drop, strict=True) if d]
    return kept, dropped


def _looks_like_comments(lines: list[str]) -> bool:
    """Reader comments after a comment-policy notice: short entries, dated («أبو سامر -
    دمشق 2024-06-04») or mostly without a sentence end; an article's next paragraph is prose."""
    if not lines or any(_words(r) > 60 for r in lines):
        return False
    dated = any(_DATE_SHAPE.search(r) and _HAS_DIGIT.search(r) for r in lines)
    unpunctuated = sum(not _PROSE_END.search(r.rstrip(" |")) for r in lines)
    return dated or unpunctuated * 2 > len(lines)


def _poll_block_end(paras: list[str], head: int) -> int:
    """Index after a poll that starts with the heading at ``head``: short lines up to the
    vote/results button, if one of them is the question; else just the heading (and the
    question right after it)."""
    question = False
    for j in range(head + 1, min(len(paras), head + 10)):
        line = paras[j].strip(" |")
        if _words(line) > 20 or line.endswith("."):
            break
        question = question or line.endswith(("؟", "?"))
        if _POLL_END.match(_n(line)):
            return j + 1 if question else head + 1
    nxt = paras[head + 1].strip(" |") if head + 1 < len(paras) else ""
    if nxt.endswith(("؟", "?")) and _words(nxt) <= 20:
        return head + 2
    return head + 1


def clean_paragraphs(
    paragraphs: list[str],
    title: str | None = None,
    *,
    language: str | None = None,
    site_names: tuple[str, ...] = (),
) -> CleanResult:
    """Remove boilerplate from body paragraphs; return attribution lines as metadata."""
    result = CleanResult([])
    paras = [_squash(p) for p in paragraphs]
    paras = [p for p in paras if p]
    sample = " ".join(paras)[:3000]
    arabic_text = len(_ARABIC.findall(sample))
    latin_text = len(_LATIN.findall(sample))
    arabic_doc = language == "ar" or arabic_text > latin_text

    paras, removed = strip_title_repeats(paras, title)
    result.removed += [(p, "title repeat") for p in removed]

    total_words = sum(_words(p) for p in paras) or 1
    kept: list[str] = []
    words_before = 0
    i = 0
    while i < len(paras):
        p = paras[i]
        nwords = _words(p)
        norm = _n(p) if nwords <= 40 else ""
        # Tail blocks: the rest of the page is related links, most-read lists, comments.
        if nwords <= 8 and (_TAIL_RE.match(norm) or _MORE_FROM_RE.match(norm)):
            rest = paras[i + 1 :]
            rest_words = sum(_words(r) for r in rest)
            if kept and (words_before >= rest_words or all(_is_link_title(r) for r in rest)):
                result.removed += [(r, "tail block") for r in paras[i:]]
                break
            result.removed.append((p, "block heading"))
            i += 1
            while i < len(paras) and _is_link_title(paras[i]) and _words(paras[i]) <= 15:
                result.removed.append((paras[i], "block link"))
                i += 1
            continue
        # A comment-policy notice: what follows it to the end of the page is reader comments.
        if nwords <= 40 and is_comment_notice(norm, nwords):
            rest = paras[i + 1 :]
            rest_words = sum(_words(r) for r in rest)
            if kept and words_before >= rest_words and _looks_like_comments(rest):
                result.removed += [(r, "comments block") for r in paras[i:]]
                break
            result.removed.append((p, "comment notice"))
            i += 1
            continue
        # A reader poll: its heading, the question, the options and the vote button.
        if nwords <= 6 and _POLL_HEAD.match(norm):
            end = _poll_block_end(paras, i)
            result.removed += [(q, "poll") for q in paras[i:end]]
            i = end
            continue
        # Inline «اقرأ أيضاً»: the heading and the link titles right after it.
        if nwords <= 4 and _INLINE_RE.match(norm):
            result.removed.append((p, "read-also heading"))
            i += 1
            while i < len(paras) and _is_link_title(paras[i]):
                result.removed.append((paras[i], "read-also link"))
                i += 1
            continue
        if (
            nwords <= 30
            and _INLINE_WITH_TEXT_RE.match(norm)
            and _is_link_title(p.split(":", 1)[-1])
        ):
            result.removed.append((p, "read-also line"))
            i += 1
            continue
        attrib = parse_attribution(p) if nwords <= 16 else None
        if attrib:
            result.author = result.author or attrib.get("author")
            result.source_credit = result.source_credit or attrib.get("source")
            result.removed.append((p, "attribution"))
            i += 1
            continue
        rule = boilerplate_rule(p, arabic_doc=arabic_doc, site_names=site_names, norm=norm)
        if rule:
            result.removed.append((p, rule))
            i += 1
            continue
        kept.append(p)
        words_before += nwords
        i += 1

    kept, dropped = drop_repeats(kept)
    result.removed += [(p, "repeat") for p in dropped]
    result.paragraphs = kept
    del total_words
    return result


_BYLINE_LABEL = re.compile(rf"^(?:{_alt(*sorted(AUTHOR_LABELS, key=len, reverse=True))})\s+")


def drop_author_lines(paragraphs: list[str], author: str) -> list[str]:
    """Remove short paragraphs that are just the byline (the author's name, maybe with
    «بقلم»/«كتب» or a place in parentheses)."""
    key = _n(author)
    if not key:
        return paragraphs
    out = []
    for p in paragraphs:
        if _words(p) <= len(key.split()) + 4:
            bare = _n(re.sub(r"[(\[][^)\]]*[)\]]", " ", p))
            bare = _BYLINE_LABEL.sub("", bare)
            if bare == key:
                continue
        out.append(p)
    return out


_BULLET = re.compile(r"^[-•*·▪►]\s+")


def drop_link_runs(paragraphs: list[str], anchor_texts: list[str]) -> list[str]:
    """Remove runs of two or more consecutive paragraphs that are each the whole text of a
    link on the page: related-story and most-read lists that reached the body. A single
    linked line stays (a sentence can be a link)."""
    short = [_words(p) <= 25 for p in paragraphs]
    if not any(a and b for a, b in zip(short, short[1:], strict=False)):
        return paragraphs
    anchors = {" ".join(a.split()).casefold() for a in anchor_texts if len(a) > 3}
    anchors.discard("")
    is_link = [
        s and _BULLET.sub("", p).casefold() in anchors
        for s, p in zip(short, paragraphs, strict=True)
    ]
    n = len(paragraphs)
    return [
        p
        for i, p in enumerate(paragraphs)
        if not (is_link[i] and ((i > 0 and is_link[i - 1]) or (i + 1 < n and is_link[i + 1])))
    ]


# ---- site-level template text --------------------------------------------------------


class TemplateFilter:
    """Learns paragraph fingerprints per source across pages and flags template text.

    A paragraph is template text when it was seen on at least ``min_pages`` distinct pages
    of the same source (so a quote shared by two articles always stays) and either
    - it is label-like (short and no sentence end, or <= 8 words) and on at least
      ``label_share`` of the source's pages, or
    - it is on at least ``min_share`` of the source's pages whatever its shape (site
      disclaimers printed under every article).
    A real sentence quoted by a few articles of a big source is neither.
    Fingerprints are hashes of akhbar.normalize.normalize_arabic text.
    """

    def __init__(
        self,
        min_pages: int = 3,
        max_words: int = 30,
        min_share: float = 0.5,
        label_share: float = 0.05,
    ) -> None:
        if min_pages < 3:
            raise ValueError("min_pages must be >= 3 so that a quote shared by two articles stays")
        self.min_pages = min_pages
        self.max_words = max_words
        self.min_share = min_share
        self.label_share = label_share
        self._pages: dict[str, set[str]] = defaultdict(set)
        self._seen: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))

    @staticmethod
    def fingerprint(paragraph: str) -> str:
        return _fingerprint(paragraph)

    def learn(
        self,
        source: str,
        page_id: str,
        paragraphs: list[str],
        keys: list[str | None] | None = None,
    ) -> None:
        """Count a page's paragraphs; ``keys``: their ``template_fingerprints`` when already
        computed."""
        self._pages[source].add(page_id)
        seen = self._seen[source]
        for key in keys if keys is not None else template_fingerprints(paragraphs):
            if key is not None:
                seen[key].add(page_id)

    def pages_with(self, source: str, paragraph: str, key: str | None = None) -> int:
        return len(self._seen[source].get(key or _fingerprint(paragraph), ()))

    def is_template(self, source: str, paragraph: str, key: str | None = None) -> bool:
        count = self.pages_with(source, paragraph, key)
        if count < self.min_pages:
            return False
        share = count / max(len(self._pages[source]), 1)
        words = _words(paragraph)
        label_like = words <= 8 or (words <= self.max_words and not _PROSE_END.search(paragraph))
        if label_like and share >= self.label_share:
            return True
        return share >= self.min_share

    def filter(
        self, source: str, paragraphs: list[str], keys: list[str | None] | None = None
    ) -> list[str]:
        if keys is None:
            return [p for p in paragraphs if not self.is_template(source, p)]
        return [
            p
            for p, key in zip(paragraphs, keys, strict=True)
            if key is None or not self.is_template(source, p, key)
        ]
