"""The date grammar: dates in strings, as Arabic news sites print them.

* ``parse_date`` turns one date string (as printed by Arabic, Levantine, Maghrebi or English
  sites, or in ISO 8601) into an aware datetime.
* ``find_dates`` finds every date in a block of text, with offsets.
* ``url_date`` reads the date in an article URL.

Picking a page's own publication date from its markup is ``akhbar.pagedates``.

The grammar is our own (regexes over a normalised copy of the text) because we need match
offsets, microsecond speed and control over partial dates; dateparser is only the last
resort in ``parse_date`` for forms the grammar does not know. No Scrapy here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from akhbar.normalize import DIACRITICS, DIGITS, LETTER_VARIANTS
from akhbar.vocabulary import HIJRI_MONTH_NAMES, MONTH_NAMES, WEEKDAY_NAMES

__all__ = [
    "DateMatch",
    "aware_now",
    "as_tzinfo",
    "find_dates",
    "is_plausible",
    "normalize_date_text",
    "parse_date",
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
# Month and weekday names (akhbar.vocabulary), in normalised form
# --------------------------------------------------------------------------------------

_MONTHS: dict[str, int] = {
    normalize_date_text(name).lower(): month
    for month, names in MONTH_NAMES.items()
    for name in names
}
_HIJRI_MONTHS = [normalize_date_text(n) for n in HIJRI_MONTH_NAMES]
# Arabic weekdays, normalised («الجمعه»): the ones printed next to Arabic dates.
_WEEKDAYS = "|".join(
    dict.fromkeys(normalize_date_text(d) for d in WEEKDAY_NAMES if not d.isascii())
)


def _alternation(names: list[str]) -> str:
    # Longest first so "مايو" wins over "ماي" and "تشرين الاول" over any prefix.
    parts = sorted({re.escape(n).replace(r"\ ", r"\s+") for n in names}, key=len, reverse=True)
    return "|".join(parts)


_MONTH_ALT = _alternation(list(_MONTHS))
_HIJRI_ALT = _alternation(_HIJRI_MONTHS)

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
    rf"(?:(?:يوم\s+)?(?:{_WEEKDAYS})[\s,]*)?\Z",
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
    rf"(?:[\s,]*(?:{_WEEKDAYS}))?"
    r"(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def as_tzinfo(tz: str | tzinfo) -> tzinfo:
    if isinstance(tz, str):
        try:
            return _zone(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {tz!r}") from exc
    return tz


def aware_now(now: datetime | None, tz: tzinfo) -> datetime | None:
    if now is None:
        return None
    return now.replace(tzinfo=tz) if now.tzinfo is None else now


def is_plausible(value: datetime, now: datetime | None) -> bool:
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
        if is_plausible(value, now):
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
    zone = as_tzinfo(tz)
    now_aware = aware_now(now, zone)
    norm, index = _normalise(text)
    found = list(_iter_matches(norm, zone, now_aware)) if _HAS_DIGIT.search(norm) else []
    if now_aware is not None and ("منذ" in norm or "قبل" in norm or "ago" in norm.lower()):
        taken = [(s, e) for s, e, _, _ in found]
        for s, e, v, t in _relative(norm, zone, now_aware, allow_qabl=_single):
            if not any(s < te and ts < e for ts, te in taken) and is_plausible(v, now_aware):
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
    zone = as_tzinfo(tz)
    now_aware = aware_now(now, zone)

    if _ISO_HINT.match(text):
        try:
            value = datetime.fromisoformat(text.strip().replace(" ", "T", 1))
        except ValueError:
            value = None
        if value is not None:
            if value.tzinfo is None:
                value = value.replace(tzinfo=zone)
            return value if is_plausible(value, now_aware) else None

    matches = find_dates(text, tz=zone, now=now_aware, _single=True)
    if matches:
        with_time = [m for m in matches if m.has_time]
        return (with_time or matches)[0].value

    norm = normalize_date_text(text)
    if now_aware is not None:
        value = _day_word(norm, zone, now_aware)
        if value is not None:
            return value if is_plausible(value, now_aware) else None
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
    return value if is_plausible(value, now) else None


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
