"""Arabic text normalisation shared by dedup, search and cleanup.

One definition of "the same text" for every stage: diacritics and tatweel removed,
alef/hamza forms, ى/ي and ة/ه unified, Arabic-Indic digits mapped to ASCII,
punctuation dropped, whitespace folded.
"""

from __future__ import annotations

import re
import unicodedata

# Harakat, Quranic marks and superscript alef (all "diacritics" for matching), and tatweel:
# deleted. Letter variants and digits: unified. One str.translate does all of it.
_DELETED = [*range(0x0610, 0x061B), *range(0x064B, 0x0660), 0x0670, *range(0x06D6, 0x06EE), 0x0640]
_LETTERS = {
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
TRANSLATION: dict[int, str | None] = {
    **dict.fromkeys(_DELETED),
    **{ord(src): dst for src, dst in _LETTERS.items()},
    # Arabic-Indic and Extended Arabic-Indic (Persian) digits.
    **{0x0660 + i: str(i) for i in range(10)},
    **{0x06F0 + i: str(i) for i in range(10)},
}
# Presentation forms and other compatibility characters need NFKC first; most text has none,
# and NFKC is the costliest step, so it runs only when needed.
_NEEDS_NFKC = re.compile("[\ufb50-\ufdff\ufe70-\ufeff\u00a0-\u00bf\u2000-\u206f\uff00-\uffef]")
# Anything that is not a letter, digit or whitespace is punctuation here (Arabic comma,
# semicolon and question mark included).
_NON_WORD = re.compile(r"[^\w\s]|_", re.UNICODE)


def strip_diacritics(text: str) -> str:
    return text.translate(dict.fromkeys(_DELETED))


def normalize_arabic(text: str, *, keep_punctuation: bool = False) -> str:
    """Return ``text`` in the canonical form used for hashing, shingling and search."""
    if _NEEDS_NFKC.search(text):
        text = unicodedata.normalize("NFKC", text)
    text = text.translate(TRANSLATION)
    if not keep_punctuation:
        text = _NON_WORD.sub(" ", text)
    return " ".join(text.lower().split())


def tokens(text: str) -> list[str]:
    """Normalised word tokens."""
    return normalize_arabic(text).split()
