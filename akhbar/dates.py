"""Publication dates for Arabic news pages.

Three layers:

* ``parse_date`` turns one date string (as printed by Arabic, Levantine, Maghrebi or English
  sites, or in ISO 8601) into an aware datetime.
* ``find_dates`` finds every date in a block of text, with offsets.
* ``published_date`` picks the article's own publication date from a whole page:
  JSON-LD, then meta tags, then ``<time>``, then dates printed near the headline, with the
  date in the URL as tie-breaker and fallback.

The grammar is our own (regexes over a normalised copy of the text) because we need match
offsets, microsecond speed and control over partial dates; dateparser is only the last
resort in ``parse_date`` for forms the grammar does not know. No Scrapy here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import lxml.html
from lxml import etree

from akhbar.normalize import DIACRITICS, DIGITS, LETTER_VARIANTS

__all__ = [
    "DateMatch",
    "PublishedDate",
    "detect_published",
    "find_dates",
    "normalize_date_text",
    "parse_date",
    "published_date",
    "url_date",
]

MIN_YEAR = 1990
# Dates more than this far beyond "now" are rejected (time zone slack, clock skew).
FUTURE_SLACK = timedelta(days=1)


@dataclass(frozen=True)
class DateMatch:
    value: datetime
    start: int
    end: int
    text: str
    has_time: bool


@dataclass(frozen=True)
class PublishedDate:
    value: datetime
    method: str  # "jsonld" | "meta" | "time" | "text" | "url"
    has_time: bool


# --------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------

# normalize.py's letter and digit equivalences as a one-to-one mapping, so offsets in the
# normalised text equal offsets in the input; plus the separators dates are written with.
_CHAR_MAP = str.maketrans(
    {
        **LETTER_VARIANTS,
        **DIGITS,
        "\u00a0": " ",
        "\u200f": " ",  # RLM / LRM: invisible marks around dates in RTL text
        "\u200e": " ",
        "\u061c": " ",  # Arabic letter mark
        "\u202b": " ",
        "\u202a": " ",
        "\u202c": " ",
        "٫": ".",  # Arabic decimal separator, used by some sites in times and dates
        "٬": ",",
        "،": ",",
        "؛": ";",
        "–": "-",
        "—": "-",
    }
)
# Diacritics and tatweel: removed (this changes lengths, so offsets are re-mapped).
_DROP = re.compile("[" + "".join(chr(c) for c in DIACRITICS) + "]")


def _normalise(text: str) -> tuple[str, list[int] | None]:
    """Return the normalised text and, if its length changed, a map back to input offsets."""
    mapped = text.translate(_CHAR_MAP)
    if not _DROP.search(mapped):
        return mapped, None
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(mapped):
        if _DROP.match(ch):
            continue
        out.append(ch)
        index.append(i)
    index.append(len(mapped))
    return "".join(out), index


def normalize_date_text(text: str) -> str:
    """The canonical form the date grammar works on (digits ASCII, hamza-less, no harakat)."""
    return _normalise(text)[0]


# --------------------------------------------------------------------------------------
# Month names (written in normalised form: no hamza on alef, ة -> ه, ى -> ي)
# --------------------------------------------------------------------------------------

_MONTHS: dict[str, int] = {}


def _add(month: int, *names: str) -> None:
    for n in names:
        _MONTHS[normalize_date_text(n).lower()] = month


# Egyptian / Gulf (transliterated) names and spelling variants.
_add(1, "يناير", "كانون الثاني", "كانون ثاني", "جانفي", "جانفييه", "ينار")
_add(2, "فبراير", "شباط", "فيفري", "فبرير")
_add(3, "مارس", "آذار", "اذار")
_add(4, "أبريل", "إبريل", "ابريل", "ابرِيل", "نيسان", "أفريل", "افريل")
_add(5, "مايو", "أيار", "ايار", "ماي")
_add(6, "يونيو", "يونيه", "حزيران", "جوان")
_add(7, "يوليو", "يوليه", "تموز", "جويلية", "جويلييه", "يوليوز", "جويليه")
_add(8, "أغسطس", "اغسطس", "آب", "أوت", "اوت", "غشت", "اغسطوس")
_add(9, "سبتمبر", "أيلول", "ايلول", "شتنبر", "سيبتمبر")
_add(10, "أكتوبر", "اكتوبر", "تشرين الأول", "تشرين أول", "تشرين الاول", "أوكتوبر")
_add(11, "نوفمبر", "تشرين الثاني", "تشرين ثاني", "نونبر", "نوفمبير")
_add(12, "ديسمبر", "كانون الأول", "كانون أول", "دجنبر", "دسمبر")
# English, full and abbreviated.
for _i, _n in enumerate(
    [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ],
    start=1,
):
    _add(_i, _n)
    _add(_i, _n[:3])
_add(9, "sept")

_HIJRI_MONTHS = [
    "محرم",
    "صفر",
    "ربيع الأول",
    "ربيع أول",
    "ربيع الثاني",
    "ربيع الآخر",
    "ربيع ثاني",
    "ربيع الاخر",
    "جمادى الأولى",
    "جمادى الاولى",
    "جمادى الأول",
    "جمادى الآخرة",
    "جمادى الثانية",
    "جمادى الاخرة",
    "جمادى الثاني",
    "رجب",
    "شعبان",
    "رمضان",
    "شوال",
    "ذو القعدة",
    "ذي القعدة",
    "ذو الحجة",
    "ذي الحجة",
]


def _alternation(names: list[str]) -> str:
    # Longest first so "مايو" wins over "ماي" and "تشرين الاول" over any prefix.
    parts = sorted({re.escape(n).replace(r"\ ", r"\s+") for n in names}, key=len, reverse=True)
    return "|".join(parts)


_MONTH_ALT = _alternation(list(_MONTHS))
_HIJRI_ALT = _alternation([normalize_date_text(n) for n in _HIJRI_MONTHS])

# Letters that can never be part of a month word (Arabic or Latin): a word boundary that
# also works for Arabic, where \b is fine but prefixes like "ب" in "بمارس" are not allowed.
_NB = r"(?<![^\W\d_])"
_NA = r"(?![^\W\d_])"

# A month, optionally doubled («مارس آذار», «مارس/آذار», «آذار (مارس)»): the first one counts.
_MON = (
    rf"{_NB}(?P<mon>{_MONTH_ALT}){_NA}"
    rf"(?:\s*[/(\-]?\s*(?:{_MONTH_ALT}){_NA}\s*\)?)?"
)
_DAY = r"(?P<d>[0-3]?\d)(?:st|nd|rd|th|er)?"
_YEAR = r"(?P<y>(?:19|20)\d\d)"

# Time: 10:48, 10:48:05, 5.45 (only with a meridiem), then AM/PM words and an offset.
_MERIDIEM = (
    r"(?P<mer>صباحا|صباحًا|صباح|ص|مساءا|مساء|مساءً|م|ظهرا|ظهر|عصرا|ليلا|فجرا|"
    r"a\.m\.|p\.m\.|am|pm)"
)
_OFFSET = (
    r"(?P<off>Z(?![\w])|[+-]\d\d:?\d\d(?!\d)|"
    r"(?:GMT|UTC|غرينتش|جرينتش|بتوقيت\s+غرينتش)(?:\s*(?P<offsign>[+-])\s*(?P<offh>\d{1,2})(?::?(?P<offm>\d\d))?)?)"
)
_TIME_CORE = (
    r"(?P<H>[0-2]?\d):(?P<M>[0-5]\d)(?::(?P<S>[0-5]\d)(?:\.\d{1,6})?)?"
    rf"(?:\s*{_MERIDIEM}(?![\w.]))?(?:\s*{_OFFSET})?"
)
# Between a date and its time: separators and a few words (الساعة، at, في، -).
_GAP = r"(?:[\s,;|/•·\-T]|الساعه|الساعة|الساعة:|at|في|بتوقيت|:)*"
_TIME_AFTER = re.compile(rf"{_GAP}{_TIME_CORE}", re.IGNORECASE)
_TIME_BEFORE = re.compile(
    rf"{_TIME_CORE}(?:[\s,;|/•·\-]|الساعه)*"
    r"(?:(?:يوم\s+)?(?:الاحد|الاثنين|الإثنين|الثلاثاء|الاربعاء|الخميس|الجمعه|السبت)[\s,]*)?\Z",
    re.IGNORECASE,
)

_DATE_BRANCHES = {
    # 24 مارس 2016 / 24 من شهر مارس 2016 / 24-مارس-2016 / 24th March, 2016
    "dmy": rf"(?P<dmy>(?<!\d){_DAY}\s*[\-/.]?\s*(?:من\s+)?(?:شهر\s+)?{_MON}[\s,\-/.]*{_YEAR}(?!\d))",
    # March 24, 2016 / مارس 24، 2016
    "mdy": rf"(?P<mdy>{_MON.replace('mon>', 'mon2>')}\s*(?P<d2>[0-3]?\d)(?:st|nd|rd|th)?[\s,]+(?P<y2>(?:19|20)\d\d)(?!\d))",
    # 2016-03-24, 2016/3/24, 2016.03.24 (ISO's T and time are taken by _TIME_AFTER)
    "ymd": r"(?P<ymd>(?<![\d.])(?P<y3>(?:19|20)\d\d)(?P<s3>[-/.])(?P<m3>[01]?\d)(?P=s3)(?P<d3>[0-3]?\d)(?!\d))",
    # 24/3/2016, 24-03-2016, 24.03.2016 (and 3/24/2016, swapped later)
    "dmyn": r"(?P<dmyn>(?<![\d.])(?P<d4>[0-3]?\d)(?P<s4>[-/.])(?P<m4>[0-3]?\d)(?P=s4)(?P<y4>(?:19|20)\d\d)(?![\d]))",
}
_DATE_RE = re.compile("|".join(_DATE_BRANCHES.values()), re.IGNORECASE)
# Every branch but month-first starts with a digit and fails fast; the month-first branch
# tries ~90 month names at each position, so it only runs when a word is followed by a
# day and a year somewhere in the text.
_DATE_RE_DIGIT_FIRST = re.compile(
    "|".join(v for k, v in _DATE_BRANCHES.items() if k != "mdy"), re.IGNORECASE
)
_MDY_HINT = re.compile(r"[^\W\d_]\.?[\s,]*[0-3]?\d(?:st|nd|rd|th)?[\s,]+(?:19|20)\d\d(?!\d)")

# Hijri dates are found first and their spans blanked, so their numbers are never read as
# Gregorian ones (e.g. "15 جمادى الآخرة 1437 هـ").
_HIJRI_RE = re.compile(
    rf"(?:(?<!\d)[0-3]?\d\s*)?{_NB}(?:{_HIJRI_ALT}){_NA}\s*(?:1[34]\d\d)?\s*(?:ه{_NA}|هجريه)?"
    r"|(?<!\d)1[34]\d\d\s*[-/.]\s*[01]?\d\s*[-/.]\s*[0-3]?\d(?!\d)\s*(?:ه(?![\w])|هجريه)?"
    r"|(?<!\d)[0-3]?\d\s*[-/.]\s*[01]?\d\s*[-/.]\s*1[34]\d\d(?!\d)\s*(?:ه(?![\w])|هجريه)?"
    r"|(?<!\d)1[34]\d\d\s*(?:ه(?![\w])|هجريه)",
)

_HIJRI_HINT = re.compile(rf"{_NB}(?:{_HIJRI_ALT}){_NA}|\d\s*(?:ه(?![\w])|هجري)")

# A cheap pre-filter: no digit, no date.
_HAS_DIGIT = re.compile(r"[0-9\u0660-\u0669\u06f0-\u06f9]")

# --------------------------------------------------------------------------------------
# Relative forms
# --------------------------------------------------------------------------------------

_NUM_WORDS = {
    "واحد": 1,
    "واحده": 1,
    "اثنين": 2,
    "اثنتين": 2,
    "ثلاث": 3,
    "ثلاثه": 3,
    "اربع": 4,
    "اربعه": 4,
    "خمس": 5,
    "خمسه": 5,
    "ست": 6,
    "سته": 6,
    "سبع": 7,
    "سبعه": 7,
    "ثماني": 8,
    "ثمان": 8,
    "ثمانيه": 8,
    "تسع": 9,
    "تسعه": 9,
    "عشر": 10,
    "عشره": 10,
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
}
# unit word -> (timedelta unit, implied count or None)
_UNITS: dict[str, tuple[timedelta, int | None]] = {}
for _words, _delta in [
    (("ثانيه", "ثوان", "ثواني", "ثوانٍ", "second", "seconds", "sec", "secs"), timedelta(seconds=1)),
    (("دقيقه", "دقائق", "دقايق", "minute", "minutes", "min", "mins"), timedelta(minutes=1)),
    (("ساعه", "ساعات", "hour", "hours", "hr", "hrs"), timedelta(hours=1)),
    (("يوم", "ايام", "day", "days"), timedelta(days=1)),
    (("اسبوع", "اسابيع", "week", "weeks"), timedelta(weeks=1)),
]:
    for _w in _words:
        _UNITS[normalize_date_text(_w)] = (_delta, None)
for _w, _delta in [
    ("ثانيتين", timedelta(seconds=1)),
    ("دقيقتين", timedelta(minutes=1)),
    ("دقيقتان", timedelta(minutes=1)),
    ("ساعتين", timedelta(hours=1)),
    ("ساعتان", timedelta(hours=1)),
    ("يومين", timedelta(days=1)),
    ("يومان", timedelta(days=1)),
    ("اسبوعين", timedelta(weeks=1)),
]:
    _UNITS[_w] = (_delta, 2)

_UNIT_ALT = _alternation(list(_UNITS))
_NUMW_ALT = _alternation(list(_NUM_WORDS))
_AGO_RE = re.compile(
    rf"{_NB}(?P<kw>منذ|قبل)\s+(?:(?P<n>\d{{1,3}})|(?P<nw>{_NUMW_ALT}))?\s*(?P<unit>{_UNIT_ALT}){_NA}",
)
_AGO_EN_RE = re.compile(
    rf"{_NB}(?:(?P<n>\d{{1,3}})|(?P<nw>a|an|one|two|three|four|five))\s+(?P<unit>{_UNIT_ALT})\s+ago{_NA}",
    re.IGNORECASE,
)
_DAYWORD_RE = re.compile(
    r"^\s*(?:نشر\s*:?\s*)?(?P<word>اول\s+امس|امس\s+الاول|امس|البارحه|اليوم|yesterday|today)"
    r"(?:[\s,]*(?:الاحد|الاثنين|الثلاثاء|الاربعاء|الخميس|الجمعه|السبت))?"
    r"(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _tzinfo(tz: str | tzinfo) -> tzinfo:
    if isinstance(tz, str):
        try:
            return _zone(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {tz!r}") from exc
    return tz


def _now(now: datetime | None, tz: tzinfo) -> datetime | None:
    if now is None:
        return None
    return now.replace(tzinfo=tz) if now.tzinfo is None else now


def _ok(value: datetime, now: datetime | None) -> bool:
    if value.year < MIN_YEAR:
        return False
    limit = now if now is not None else datetime.now(UTC)
    return value <= limit + FUTURE_SLACK


def _hour(h: int, mer: str | None) -> int | None:
    if mer:
        m = normalize_date_text(mer).lower().rstrip(".").replace(".", "")
        if m in ("ص", "صباحا", "صباح", "am", "فجرا"):
            if h > 12:
                return None
            return 0 if h == 12 else h
        if m in ("م", "مساء", "مساءا", "pm", "عصرا"):
            if h > 12:
                return None
            return h if h == 12 else h + 12
        if m in ("ظهرا", "ظهر"):
            return h + 12 if 1 <= h <= 5 else h
        if m == "ليلا":
            return h + 12 if 6 <= h <= 11 else (0 if h == 12 else h)
    return h if h < 24 else None


def _offset(m: re.Match[str]) -> tzinfo | None:
    off = m.group("off")
    if not off:
        return None
    if off.upper() == "Z":
        return UTC
    if off[0] in "+-" and off[1:2].isdigit():
        digits = off[1:].replace(":", "")
        delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        return timezone(-delta if off[0] == "-" else delta)
    if m.group("offh"):
        delta = timedelta(hours=int(m.group("offh")), minutes=int(m.group("offm") or 0))
        if delta > timedelta(hours=14):
            return None
        return timezone(-delta if m.group("offsign") == "-" else delta)
    return UTC  # bare GMT / UTC


def _date_parts(m: re.Match[str]) -> tuple[int, int, int] | None:
    kind = m.lastgroup  # the branch's outer group closes last
    if kind == "dmy":
        return int(m.group("y")), _MONTHS[_month_key(m.group("mon"))], int(m.group("d"))
    if kind == "mdy":
        return int(m.group("y2")), _MONTHS[_month_key(m.group("mon2"))], int(m.group("d2"))
    if kind == "ymd":
        return int(m.group("y3")), int(m.group("m3")), int(m.group("d3"))
    d, mo = int(m.group("d4")), int(m.group("m4"))
    if mo > 12 and d <= 12:  # US order (3/24/2016) on English pages
        d, mo = mo, d
    return int(m.group("y4")), mo, d


def _month_key(name: str) -> str:
    return re.sub(r"\s+", " ", name).lower()


def _build(
    ymd: tuple[int, int, int], tm: re.Match[str] | None, tz: tzinfo
) -> tuple[datetime, bool] | None:
    y, mo, d = ymd
    try:
        if tm is None:
            return datetime(y, mo, d, tzinfo=tz), False
        h = _hour(int(tm.group("H")), tm.group("mer"))
        if h is None:
            return None
        off = _offset(tm)
        return datetime(
            y, mo, d, h, int(tm.group("M")), int(tm.group("S") or 0), tzinfo=off or tz
        ), True
    except ValueError:
        return None


def _blank_hijri(norm: str) -> str:
    if not _HIJRI_HINT.search(norm):
        return norm
    return _HIJRI_RE.sub(lambda m: " " * len(m.group(0)), norm)


def _iter_matches(
    norm: str, tz: tzinfo, now: datetime | None
) -> Iterator[tuple[int, int, datetime, bool]]:
    """Absolute dates in normalised text: (start, end, value, has_time)."""
    work = _blank_hijri(norm)
    regex = _DATE_RE if _MDY_HINT.search(work) else _DATE_RE_DIGIT_FIRST
    for m in regex.finditer(work):
        ymd = _date_parts(m)
        if ymd is None:
            continue
        start, end = m.start(), m.end()
        tm = _TIME_AFTER.match(work, end, min(len(work), end + 40))
        if tm is not None and not _time_plausible(tm, work, end):
            tm = None
        if tm is not None:
            end = tm.end()
        else:
            before = work[max(0, start - 40) : start]
            tb = _TIME_BEFORE.search(before)
            if tb is not None:
                tm = tb
                start = start - len(before) + tb.start()
        built = _build(ymd, tm, tz)
        if built is None:
            # The time was impossible (25:61): keep the date alone.
            built = _build(ymd, None, tz)
            if built is None:
                continue
        value, has_time = built
        if _ok(value, now):
            yield start, end, value, has_time


def _time_plausible(tm: re.Match[str], work: str, date_end: int) -> bool:
    # "2016 10:48" is a time; "24 مارس 2016 5:3" is not (minutes need two digits, checked
    # by the regex); reject a time glued to a following digit run like a phone number.
    nxt = work[tm.end() : tm.end() + 1]
    return not nxt.isdigit()


def _relative(
    norm: str, tz: tzinfo, now: datetime, *, allow_qabl: bool
) -> Iterator[tuple[int, int, datetime, bool]]:
    matches = list(_AGO_RE.finditer(norm)) if ("منذ" in norm or "قبل" in norm) else []
    if "ago" in norm.lower():
        matches += _AGO_EN_RE.finditer(norm)
    for m in matches:
        if m.groupdict().get("kw") == "قبل" and not allow_qabl:
            continue  # «قبل يومين» in running text is narrative, not a timestamp
        unit_word = m.group("unit")
        unit, implied = _UNITS[normalize_date_text(unit_word).lower()]
        raw_n = m.group("n")
        word_n = m.group("nw")
        if raw_n:
            n = int(raw_n)
        elif word_n:
            n = _NUM_WORDS[word_n.lower()]
        else:
            n = implied or 1
        yield m.start(), m.end(), (now - n * unit).astimezone(tz), unit < timedelta(days=1)


def _to_input(index: list[int] | None, pos: int) -> int:
    return pos if index is None else index[pos]


# --------------------------------------------------------------------------------------
# Public: strings
# --------------------------------------------------------------------------------------


def find_dates(
    text: str,
    *,
    tz: str | tzinfo = "UTC",
    now: datetime | None = None,
    _single: bool = False,
) -> list[DateMatch]:
    """Every date in ``text``, in order of appearance.

    Absolute dates (any written form ``parse_date`` knows) always; "منذ 3 ساعات"-style
    relative forms only when ``now`` is given. Bare «اليوم»/«أمس» are not reported here:
    in running text they are words, not dates (``parse_date`` resolves them in a date field).
    Hijri dates are recognised and skipped.
    """
    if not text or not _HAS_DIGIT.search(text) and now is None:
        return []
    zone = _tzinfo(tz)
    now_aware = _now(now, zone)
    norm, index = _normalise(text)
    found = list(_iter_matches(norm, zone, now_aware)) if _HAS_DIGIT.search(norm) else []
    if now_aware is not None and ("منذ" in norm or "قبل" in norm or "ago" in norm.lower()):
        taken = [(s, e) for s, e, _, _ in found]
        for s, e, v, t in _relative(norm, zone, now_aware, allow_qabl=_single):
            if not any(s < te and ts < e for ts, te in taken) and _ok(v, now_aware):
                found.append((s, e, v, t))
        found.sort(key=lambda x: x[0])
    out = []
    for s, e, v, t in found:
        a, b = _to_input(index, s), _to_input(index, e)
        out.append(DateMatch(value=v, start=a, end=b, text=text[a:b], has_time=t))
    return out


_ISO_HINT = re.compile(
    r"^\s*\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?)?\s*(?:Z|[+-]\d\d:?\d\d)?\s*$"
)


def parse_date(
    text: str, *, tz: str | tzinfo = "UTC", now: datetime | None = None
) -> datetime | None:
    """One date string -> aware datetime (``tz`` when the text has no offset), or None.

    Relative forms (منذ 3 ساعات، أمس، اليوم، 2 hours ago) need ``now``. A date with only a
    month and year, or only a year, gives None rather than an invented first day. Never
    returns a date before 1990 or later than ``now`` (or the current time) plus one day.
    """
    if not text or not isinstance(text, str):
        return None
    text = text.strip()
    if not text or len(text) > 2000:
        return None
    zone = _tzinfo(tz)
    now_aware = _now(now, zone)

    if _ISO_HINT.match(text):
        try:
            value = datetime.fromisoformat(text.strip().replace(" ", "T", 1))
        except ValueError:
            value = None
        if value is not None:
            if value.tzinfo is None:
                value = value.replace(tzinfo=zone)
            return value if _ok(value, now_aware) else None

    matches = find_dates(text, tz=zone, now=now_aware, _single=True)
    if matches:
        with_time = [m for m in matches if m.has_time]
        return (with_time or matches)[0].value

    norm = normalize_date_text(text)
    if now_aware is not None:
        value = _day_word(norm, zone, now_aware)
        if value is not None:
            return value if _ok(value, now_aware) else None
    return _dateparser_fallback(text, norm, zone, now_aware)


def _day_word(norm: str, tz: tzinfo, now: datetime) -> datetime | None:
    m = _DAYWORD_RE.match(norm)
    if m is None:
        return None
    word = re.sub(r"\s+", " ", m.group("word").lower())
    back = {"اليوم": 0, "today": 0, "امس": 1, "البارحه": 1, "yesterday": 1}.get(word, 2)
    local = now.astimezone(tz)
    day = (local - timedelta(days=back)).date()
    rest = m.group("rest")
    tm = _TIME_AFTER.match(rest) if rest.strip() else None
    if rest.strip() and tm is None:
        return None  # "اليوم" followed by something we do not understand
    if tm is not None and rest[tm.end() :].strip(" ,.-"):
        return None
    built = _build((day.year, day.month, day.day), tm, tz)
    return built[0] if built else None


_DATEPARSER_SETTINGS_BASE = {
    "RETURN_AS_TIMEZONE_AWARE": True,
    "REQUIRE_PARTS": ["day", "month", "year"],
    "PREFER_DATES_FROM": "past",
    "DATE_ORDER": "DMY",
    # Relative forms are ours (they need `now`); dateparser would resolve them against the
    # wall clock.
    "PARSERS": ["custom-formats", "absolute-time"],
}


def _dateparser_fallback(text: str, norm: str, tz: tzinfo, now: datetime | None) -> datetime | None:
    # Only short strings with a digit: dateparser is ~1 ms a call, and ~90 ms on failure
    # without `languages`, so we pass them and pre-filter.
    if len(norm) > 120 or not _HAS_DIGIT.search(norm):
        return None
    try:
        import dateparser  # imported lazily: it costs ~0.3 s at import time
    except ImportError:  # pragma: no cover - dateparser is a declared dependency
        return None
    settings = dict(_DATEPARSER_SETTINGS_BASE)
    settings["TIMEZONE"] = getattr(tz, "key", None) or "UTC"
    if now is not None:
        settings["RELATIVE_BASE"] = now.astimezone(tz).replace(tzinfo=None)
    try:
        value = dateparser.parse(norm, languages=["ar", "en", "fr"], settings=settings)
    except Exception:  # dateparser raises assorted errors on odd input
        return None
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value if _ok(value, now) else None


# --------------------------------------------------------------------------------------
# URL dates
# --------------------------------------------------------------------------------------

_URL_DATE_RE = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d\d)(?P<s>[/_-])(?P<m>[01]?\d)(?P=s)(?P<d>[0-3]?\d)(?!\d)"
    r"|/(?P<y2>(?:19|20)\d\d)(?P<m2>[01]\d)(?P<d2>[0-3]\d)(?=[/_.\-]|$)"
    r"|[/-](?P<y3>(?:19|20)\d\d)(?P<m3>[01]\d)(?P<d3>[0-3]\d)-"
)


def url_date(url: str | None) -> date | None:
    """The date in a URL path (/2016/03/24/, /2016-3-24-, /20160324-), or None."""
    if not url:
        return None
    for m in _URL_DATE_RE.finditer(url):
        y = m.group("y") or m.group("y2") or m.group("y3")
        mo = m.group("m") or m.group("m2") or m.group("m3")
        d = m.group("d") or m.group("d2") or m.group("d3")
        try:
            value = date(int(y), int(mo), int(d))
        except ValueError:
            continue
        if value.year >= MIN_YEAR:
            return value
    return None


# --------------------------------------------------------------------------------------
# Public: pages
# --------------------------------------------------------------------------------------

_ARTICLE_TYPES = {
    "newsarticle",
    "article",
    "reportagenewsarticle",
    "reportagenews",
    "analysisnewsarticle",
    "opinionnewsarticle",
    "backgroundnewsarticle",
    "reviewnewsarticle",
    "blogposting",
    "liveblogposting",
    "socialmediaposting",
    "report",
    "videoobject",
}
_META_KEYS = [
    "article:published_time",
    "og:published_time",
    "og:article:published_time",
    "article:published",
    "published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    "published-date",
    "parsely-pub-date",
    "sailthru.date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date.created",
    "dcterms.created",
    "dc.date",
    "date",
    "created",
    "article.published",
    "original-publish-date",
]
_META_RANK = {k: i for i, k in enumerate(_META_KEYS)}

# Blocks whose dates are never the article's own: the site's chrome and lists of other stories.
_EXCLUDED_TAGS = {"header", "footer", "nav", "aside", "menu", "form"}
_EXCLUDED_CLASS = re.compile(
    r"related|most[-_]?read|mostread|popular|read[-_]?more|readmore|read[-_]?also|also[-_]?read|"
    r"more[-_]?(?:news|stories|articles)|recommend|trending|sidebar|side[-_]bar|widget|footer|"
    r"(?<![\w-])(?:site|main|top|global|page)?[-_]?header(?:[-_](?:top|bar|main|wrap|wrapper|inner))?(?![\w-])|"
    r"top[-_]?bar|topbar|masthead|navbar|(?<![a-z])nav(?![a-z])|menu|breadcrumb|"
    r"comment|ticker|breaking|newsletter|taboola|outbrain|(?<![a-z])ads?(?![a-z])|advert|"
    r"latest|weather|prayer|currency",
    re.IGNORECASE,
)
# Headings after which the page lists other stories: stop reading there.
_STOP_HEADINGS = [
    normalize_date_text(s)
    for s in [
        "اقرأ أيضا",
        "اقرأ ايضاً",
        "إقرأ أيضا",
        "اقرأ المزيد",
        "الأكثر قراءة",
        "الأكثر مشاهدة",
        "الأكثر تداولا",
        "الأكثر تعليقا",
        "ذات صلة",
        "أخبار ذات صلة",
        "مواضيع ذات صلة",
        "مقالات ذات صلة",
        "حول هذه القصة",
        "المزيد من",
        "شاهد أيضا",
        "قد يهمك",
        "قد يعجبك",
        "اخترنا لك",
        "آخر الأخبار",
        "أخبار متعلقة",
        "تابعونا",
        "related",
        "read more",
        "read also",
        "most read",
        "more stories",
        "more from",
    ]
]
_STOP_RE = re.compile(
    r"^\s*(?:"
    + "|".join(re.escape(s.strip("ً")).replace(r"\ ", r"\s+") for s in _STOP_HEADINGS)
    + r")",
    re.IGNORECASE,
)
_SKIP_TAGS = {"script", "style", "noscript", "template", "svg", "iframe", "select", "option"}
_TEXT_AFTER_H1 = 1200  # characters of page text after the headline searched for a date
_TEXT_BEFORE_H1 = 400


def published_date(
    html: str | bytes | lxml.html.HtmlElement,
    *,
    tz: str | tzinfo = "UTC",
    now: datetime | None = None,
    url: str | None = None,
) -> datetime | None:
    """The article's own publication date from a whole page, or None. See ``detect_published``."""
    found = detect_published(html, tz=tz, now=now, url=url)
    return found.value if found else None


def detect_published(
    html: str | bytes | lxml.html.HtmlElement,
    *,
    tz: str | tzinfo = "UTC",
    now: datetime | None = None,
    url: str | None = None,
) -> PublishedDate | None:
    """Like ``published_date`` but also says where the date came from.

    Order: JSON-LD ``datePublished`` of an article type (also in ``@graph``), meta tags,
    ``<time datetime>`` near the headline, dates printed near the headline (not in the
    header/footer/nav/aside or in related-story blocks), then the date in the URL.
    """
    zone = _tzinfo(tz)
    now_aware = _now(now, zone)
    root = _as_tree(html)
    if root is None:
        return None
    if url is None:
        url = _page_url(root)
    udate = url_date(url)

    for method, finder in (("jsonld", _from_jsonld), ("meta", _from_meta)):
        value = finder(root, zone, now_aware)
        if value is not None:
            return PublishedDate(value, method, _has_time_value(value))

    h1 = _headline(root)
    h1_chain = set(h1.iterancestors()) | {h1} if h1 is not None else set()

    value = _from_time_elements(root, h1, h1_chain, zone, now_aware, udate)
    if value is not None:
        return PublishedDate(value[0], "time", value[1])

    text_hit = _from_text(root, h1, h1_chain, zone, now_aware, udate)
    if text_hit is not None:
        return PublishedDate(text_hit[0], "text", text_hit[1])

    if udate is not None:
        value = datetime(udate.year, udate.month, udate.day, tzinfo=zone)
        if _ok(value, now_aware):
            return PublishedDate(value, "url", False)
    return None


def _has_time_value(value: datetime) -> bool:
    return (value.hour, value.minute, value.second) != (0, 0, 0)


def _as_tree(html: str | bytes | lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    if isinstance(html, etree._Element):
        return html.getroottree().getroot()
    if not html or (isinstance(html, str) and not html.strip()):
        return None
    try:
        if isinstance(html, str) and html.lstrip().startswith("<?xml"):
            html = html.encode("utf-8")  # lxml refuses str with an encoding declaration
        return lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return None


def _page_url(root: lxml.html.HtmlElement) -> str | None:
    for xp in ("//link[@rel='canonical']/@href", "//meta[@property='og:url']/@content"):
        got = root.xpath(xp)
        if got:
            return str(got[0])
    return None


# ---- JSON-LD --------------------------------------------------------------------------

_JSONLD_DATE_RE = re.compile(r'"datePublished"\s*:\s*"([^"]{6,40})"')


def _from_jsonld(root, tz: tzinfo, now: datetime | None) -> datetime | None:
    best: tuple[int, datetime] | None = None
    for script in root.xpath(
        "//script[@type='application/ld+json' or @type='application/json+ld']"
    ):
        raw = (script.text or "").strip()
        if not raw:
            continue
        try:
            data = json.loads(raw)
        except ValueError:
            # Broken JSON is common (trailing commas, raw newlines): fall back to a regex.
            for m in _JSONLD_DATE_RE.finditer(raw):
                value = parse_date(m.group(1), tz=tz, now=now)
                if value is not None and (best is None or best[0] > 5):
                    best = (5, value)
            continue
        for rank, raw_date in _jsonld_dates(data):
            if best is not None and best[0] <= rank:
                continue
            value = parse_date(str(raw_date), tz=tz, now=now)
            if value is not None:
                best = (rank, value)
    return best[1] if best else None


def _jsonld_dates(data, depth: int = 0) -> Iterator[tuple[int, object]]:
    """(rank, datePublished) for article-like objects; lower rank is better."""
    if depth > 6:
        return
    if isinstance(data, list):
        for item in data:
            yield from _jsonld_dates(item, depth + 1)
        return
    if not isinstance(data, dict):
        return
    types = data.get("@type")
    type_names = {str(t).lower() for t in (types if isinstance(types, list) else [types])}
    published = data.get("datePublished") or data.get("dateCreated")
    if published:
        if type_names & _ARTICLE_TYPES:
            yield 0, published
        elif type_names & {"webpage", "itempage", "collectionpage"}:
            yield 3, published  # the page, usually the same date; worse than an article's
    # Not itemListElement / hasPart: those are other stories.
    for key in ("@graph", "mainEntity", "mainEntityOfPage"):
        sub = data.get(key)
        if isinstance(sub, (list, dict)):
            yield from _jsonld_dates(sub, depth + 1)


# ---- meta -----------------------------------------------------------------------------


def _from_meta(root, tz: tzinfo, now: datetime | None) -> datetime | None:
    best: tuple[int, datetime] | None = None
    for meta in root.iter("meta"):
        key = (
            meta.get("property")
            or meta.get("name")
            or meta.get("itemprop")
            or meta.get("http-equiv")
        )
        if not key:
            continue
        rank = _META_RANK.get(key.strip().lower())
        if rank is None or (best is not None and best[0] <= rank):
            continue
        content = meta.get("content")
        if not content:
            continue
        value = parse_date(content, tz=tz, now=now)
        if value is not None:
            best = (rank, value)
    # itemprop=datePublished on any element (microdata)
    if best is None:
        for el in root.xpath("//*[@itemprop='datePublished']"):
            content = el.get("content") or el.get("datetime") or el.text_content()
            value = parse_date((content or "").strip(), tz=tz, now=now)
            if value is not None:
                return value
    return best[1] if best else None


# ---- <time> and page text -------------------------------------------------------------


def _headline(root) -> lxml.html.HtmlElement | None:
    """The article's h1 (not the logo's), else the element that repeats og:title."""
    best = None
    best_penalty = 99
    for h in root.iter("h1"):
        if not h.text_content().strip():
            continue
        ancestors = list(h.iterancestors())
        tags = {a.tag for a in ancestors}
        penalty = 0
        if _is_logo(h):
            penalty += 4
        if tags & {"nav", "footer", "aside"}:
            penalty += 2
        if "header" in tags and not tags & {"article", "main"}:
            penalty += 1
        if penalty < best_penalty:
            best, best_penalty = h, penalty
    if best is not None:
        return best
    og = root.xpath("//meta[@property='og:title']/@content")
    title = normalize_date_text(str(og[0])).strip() if og else ""
    if title:
        key = title[:40]
        for el in root.iter("h2", "h3", "div", "p", "span"):
            txt = (el.text or "").strip()
            if txt and normalize_date_text(txt).startswith(key):
                return el
    return None


def _is_logo(h) -> bool:
    cls = (h.get("class") or "") + " " + (h.get("id") or "")
    return "logo" in cls.lower() or (h.find(".//img") is not None and len(h.text_content()) < 20)


def _excluded(el, h1_chain: set) -> bool:
    if el in h1_chain:
        return False
    if el.tag in _EXCLUDED_TAGS:
        return True
    cls = f"{el.get('class') or ''} {el.get('id') or ''} {el.get('role') or ''}"
    return bool(cls.strip()) and bool(_EXCLUDED_CLASS.search(cls))


def _in_excluded(el, h1_chain: set) -> bool:
    for a in [el, *el.iterancestors()]:
        if a.tag in ("body", "html"):
            return False
        if _excluded(a, h1_chain):
            return True
    return False


def _from_time_elements(root, h1, h1_chain, tz, now, udate) -> tuple[datetime, bool] | None:
    times = root.xpath("//time[@datetime or @pubdate]")
    if not times:
        return None
    order = {el: i for i, el in enumerate(root.iter())} if h1 is not None else {}
    h1_pos = order.get(h1, 0)
    scored: list[tuple[float, datetime, bool]] = []
    for el in times:
        if _in_excluded(el, h1_chain):
            continue
        raw = el.get("datetime") or el.text_content()
        value = parse_date((raw or "").strip(), tz=tz, now=now)
        if value is None:
            continue
        has_time = _has_time_value(value)
        score = 0.0
        if order:
            pos = order.get(el, 0)
            score = (pos - h1_pos) if pos >= h1_pos else 2 * (h1_pos - pos) + 50
        if el.get("pubdate") is not None or "publish" in (el.get("class") or "").lower():
            score -= 1000
        if "updat" in (el.get("class") or "").lower() or "modif" in (el.get("class") or ""):
            score += 500
        if not has_time:
            score += 20
        if udate is not None and value.date() == udate:
            score -= 100
        scored.append((score, value, has_time))
    if not scored:
        return None
    scored.sort(key=lambda s: s[0])
    return scored[0][1], scored[0][2]


_BLOCK_TAGS = {"br", "p", "div", "li", "h1", "h2", "h3", "h4", "tr", "td", "span", "time"}


def _text_chunks(root, h1, h1_chain: set) -> Iterator[tuple[str, bool, bool]]:
    """Document-order text: (chunk, excluded, is_h1_start_marker).

    Excluded blocks (site chrome, related stories) and scripts are skipped whole, which
    also keeps this cheap on pages with big menus; they leave one excluded "\n" behind.
    """
    body = root.find("body")
    if body is None:
        body = root
    walker = etree.iterwalk(body, events=("start", "end"))
    for event, el in walker:
        if not isinstance(el.tag, str):  # comments, processing instructions
            if event == "end" and el.tail:
                yield el.tail, False, False
            continue
        if event == "start":
            if el.tag in _SKIP_TAGS:
                walker.skip_subtree()
                continue
            if _excluded(el, h1_chain):
                walker.skip_subtree()
                yield "\n", True, False
                continue
            if el is h1:
                yield "", False, True
            if el.text:
                yield el.text, False, False
            if el.tag in _BLOCK_TAGS:
                yield "\n", False, False
        else:
            yield "\n", False, False
            if el.tail:
                yield el.tail, False, False


def _from_text(root, h1, h1_chain, tz, now, udate) -> tuple[datetime, bool] | None:
    before: list[str] = []  # text before the headline (not excluded), kept short
    after: list[str] = []
    seen_h1 = h1 is None  # without a headline, read from the top of the body
    after_len = 0
    for chunk, excluded, marker in _text_chunks(root, h1, h1_chain):
        if marker:
            seen_h1 = True
            continue
        if excluded:
            if not seen_h1:
                before.append("\n")  # chrome breaks the "just before the headline" block
            continue
        if not seen_h1:
            before.append(chunk)
            continue
        stripped = chunk.strip()
        if stripped and len(stripped) < 60 and _STOP_RE.match(normalize_date_text(stripped)):
            break
        after.append(chunk)
        after_len += len(chunk)
        if after_len > _TEXT_AFTER_H1:
            break

    candidates: list[tuple[float, datetime, bool]] = []
    after_text = "".join(after)
    for m in find_dates(after_text, tz=tz, now=now):
        candidates.append((m.start, m.value, m.has_time))
    before_text = "".join(before)[-_TEXT_BEFORE_H1:]
    if h1 is not None and before_text.strip():
        for m in find_dates(before_text, tz=tz, now=now):
            distance = len(before_text) - m.end
            penalty = 2 * distance + 100
            if now is not None and not m.has_time and m.value.date() == now.astimezone(tz).date():
                penalty += 300  # today's date above the headline: the site's render date
            candidates.append((penalty, m.value, m.has_time))
    if not candidates:
        return None
    ranked = []
    for pos, value, has_time in candidates:
        score = pos + (0 if has_time else 150)
        if udate is not None and value.date() == udate:
            score -= 1000
        ranked.append((score, value, has_time))
    ranked.sort(key=lambda r: r[0])
    return ranked[0][1], ranked[0][2]
