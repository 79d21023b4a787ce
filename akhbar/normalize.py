"""Arabic text normalisation shared by dedup, search and cleanup.

One definition of "the same text" for every stage: diacritics and tatweel removed,
alef/hamza forms, ى/ي and ة/ه unified, Arabic-Indic digits mapped to ASCII,
punctuation dropped, whitespace folded.
"""

from __future__ import annotations

import re
import unicodedata

# Harakat, Quranic marks, superscript alef: all "diacritics" for matching purposes.
_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_TATWEEL = "\u0640"
_CHAR_MAP = str.maketrans(
    {
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
        # Arabic-Indic and Extended Arabic-Indic (Persian) digits.
        **{chr(0x0660 + i): str(i) for i in range(10)},
        **{chr(0x06F0 + i): str(i) for i in range(10)},
    }
)
# Anything that is not a letter, digit or whitespace is punctuation here (Arabic comma,
# semicolon and question mark included).
_NON_WORD = re.compile(r"[^\w\s]|_", re.UNICODE)
_SPACES = re.compile(r"\s+")


def strip_diacritics(text: str) -> str:
    return _DIACRITICS.sub("", text).replace(_TATWEEL, "")


def normalize_arabic(text: str, *, keep_punctuation: bool = False) -> str:
    """Return ``text`` in the canonical form used for hashing, shingling and search."""
    text = unicodedata.normalize("NFKC", text)
    text = strip_diacritics(text)
    text = text.translate(_CHAR_MAP)
    if not keep_punctuation:
        text = _NON_WORD.sub(" ", text)
    return _SPACES.sub(" ", text).strip().lower()


def tokens(text: str) -> list[str]:
    """Normalised word tokens."""
    return normalize_arabic(text).split()
