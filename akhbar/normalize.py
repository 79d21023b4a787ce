"""Arabic text normalisation shared by dedup, search and cleanup.

One definition of "the same text" for every stage: diacritics and tatweel removed,
alef/hamza forms, ى/ي and ة/ه unified, Arabic-Indic digits mapped to ASCII,
punctuation dropped, whitespace folded.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

# The one definition of Arabic character equivalence; dates (which must keep offsets) and
# search build their own translate tables from these, for their own purpose.
# Harakat, Quranic marks and superscript alef (all "diacritics" for matching), and tatweel:
# deleted. Letter variants and digits: unified. One str.translate does all of it.
DIACRITICS: tuple[int, ...] = (
    *range(0x0610, 0x061B),
    *range(0x064B, 0x0660),
    0x0670,
    *range(0x06D6, 0x06EE),
    0x0640,
)
LETTER_VARIANTS: dict[str, str] = {
    "أ": "ا",
    "إ": "ا",
    "آ": "ا",
    "ٱ": "ا",
    "ى": "ي",
    "ئ": "ي",
    "ؤ": "و",
    "ة": "ه",
    "ک": "ك",  # Persian kaf
    "ی": "ي",  # Persian yeh
}
# Arabic-Indic and Extended Arabic-Indic (Persian) digits.
DIGITS: dict[str, str] = {
    **{chr(0x0660 + i): str(i) for i in range(10)},
    **{chr(0x06F0 + i): str(i) for i in range(10)},
}
TRANSLATION: dict[int, str | None] = {
    **dict.fromkeys(DIACRITICS),
    **{ord(src): dst for src, dst in LETTER_VARIANTS.items()},
    **{ord(src): dst for src, dst in DIGITS.items()},
}
# Presentation forms and other compatibility characters need NFKC first; most text has none,
# and NFKC is the costliest step, so it runs only when needed.
_NEEDS_NFKC = re.compile("[\ufb50-\ufdff\ufe70-\ufeff\u00a0-\u00bf\u2000-\u206f\uff00-\uffef]")
# Anything that is not a letter, digit or whitespace is punctuation here (Arabic comma,
# semicolon and question mark included).
_NON_WORD = re.compile(r"[^\w\s]|_", re.UNICODE)


def translate_table(
    translation: dict[int, str | None], separator: Callable[[str], bool], size: int
) -> list[int | str | None]:
    """``translation`` followed by "``separator`` characters become a space", as one table
    for ``str.translate`` over the code points below ``size`` (those above are left as they
    are). A list, not a dict: a dict raises and clears a KeyError for every character it
    does not map, which made translate 3x slower on Arabic text."""
    table: list[int | str | None] = list(range(size))
    for code in range(size):
        if code in translation:
            table[code] = translation[code]
        elif separator(chr(code)):
            table[code] = " "
    return table


# normalize_arabic's table and _NON_WORD in one pass over the text: the table's letters and
# digits are word characters, so nothing is left for _NON_WORD below TABLE_SIZE. Above it
# (CJK, emoji: rare here) the regex still runs.
TABLE_SIZE = 0x3000
BEYOND_TABLE = re.compile(f"[{chr(TABLE_SIZE)}-\U0010ffff]")
WORDS_TABLE = translate_table(
    TRANSLATION, lambda ch: _NON_WORD.match(ch) is not None and not ch.isspace(), TABLE_SIZE
)
_TRANSLATION_TABLE = translate_table(TRANSLATION, lambda ch: False, max(TRANSLATION) + 1)


def needs_nfkc(text: str) -> bool:
    """Whether ``text`` has presentation forms or other characters NFKC folds (rare)."""
    return _NEEDS_NFKC.search(text) is not None


def normalize_arabic(text: str, *, keep_punctuation: bool = False) -> str:
    """Return ``text`` in the canonical form used for hashing, shingling and search.

    Spelled out: NFKC (when needed), ``text.translate(TRANSLATION)``, then (unless
    ``keep_punctuation``) every ``_NON_WORD`` character a space, lowercase, whitespace folded.
    tests/test_normalize.py checks the table-driven steps below against those, character by
    character."""
    if _NEEDS_NFKC.search(text):
        text = unicodedata.normalize("NFKC", text)
    if keep_punctuation:
        text = text.translate(_TRANSLATION_TABLE)
    else:
        text = text.translate(WORDS_TABLE)
        if BEYOND_TABLE.search(text):
            text = _NON_WORD.sub(" ", text)
    return " ".join(text.lower().split())
