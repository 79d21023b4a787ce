"""normalize_arabic's table-driven steps give what its definition says, for every character."""

from __future__ import annotations

import re
import sys
import unicodedata

import pytest

from akhbar.normalize import TRANSLATION, needs_nfkc, normalize_arabic

_NON_WORD = re.compile(r"[^\w\s]|_", re.UNICODE)


def reference(text: str, *, keep_punctuation: bool = False) -> str:
    """normalize_arabic as defined (the module docstring's steps, one regex pass each)."""
    if needs_nfkc(text):
        text = unicodedata.normalize("NFKC", text)
    text = text.translate(TRANSLATION)
    if not keep_punctuation:
        text = _NON_WORD.sub(" ", text)
    return " ".join(text.lower().split())


def _chunks(size: int = 97) -> list[str]:
    """Every code point (surrogates left out), in runs of ``size``, each run between two
    letters so that a character's effect on its neighbours shows."""
    codes = [c for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    return ["ب" + "".join(map(chr, codes[i : i + size])) + "a" for i in range(0, len(codes), size)]


@pytest.mark.parametrize("keep_punctuation", [False, True])
def test_every_character_normalises_as_defined(keep_punctuation: bool) -> None:
    for chunk in _chunks():
        assert normalize_arabic(chunk, keep_punctuation=keep_punctuation) == reference(
            chunk, keep_punctuation=keep_punctuation
        ), [hex(ord(c)) for c in chunk[1:3]]
    for code in range(0x3100):  # one at a time below the table's end (NFKC per character)
        ch = chr(code)
        if not 0xD800 <= code <= 0xDFFF:
            for text in (ch, f"x{ch}y", f"ب{ch}{ch}ت"):
                got = normalize_arabic(text, keep_punctuation=keep_punctuation)
                assert got == reference(text, keep_punctuation=keep_punctuation), hex(code)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "  ",
        "نصٌّ عربيٌّ، مع تشكيل! والأرقام ١٢٣ و۴۵۶",
        "ﻻ إله إلا الله ﷺ",  # presentation forms: NFKC
        "Café crème brûlée, İstanbul ǅ ΟΔΟΣ ΣΟΦΙΑΣ",  # Latin accents, dotted I, final sigma
        "e\u0301 a\u0308 أحمد\u0654",  # combining marks
        "日本語 😀 emoji_and_underscore 한국어",  # beyond the table
        "tab\there\u00a0nbsp\u2003emsp\u200bzw\u200fmarks\u2028line",
    ],
)
def test_texts_normalise_as_defined(text: str) -> None:
    assert normalize_arabic(text) == reference(text)
    assert normalize_arabic(text, keep_punctuation=True) == reference(text, keep_punctuation=True)


def test_nfkc_works_piecewise_between_line_breaks() -> None:
    """What processing.normalised_text relies on to join paragraph forms under NFKC: a line
    break never combines with, or reorders around, the character on either side."""
    for code in range(sys.maxunicode + 1):
        if not 0xD800 <= code <= 0xDFFF:
            ch = chr(code)
            nfkc = unicodedata.normalize("NFKC", ch)
            assert unicodedata.normalize("NFKC", f"{ch}\n\n{ch}") == f"{nfkc}\n\n{nfkc}", hex(code)


def test_text_form_from_paragraph_forms_under_nfkc() -> None:
    """normalised_text joins the paragraphs' forms whenever NFKC allows it, and gives
    normalize_arabic(text) for random mixes of presentation forms, combining marks,
    compatibility characters, Greek and plain Arabic."""
    import random

    from akhbar.processing import normalised_text

    pieces = [
        "كلمة", "النص", "ﻻ", "ﷺ", "…", "\u00a0", "e\u0301", "\u0301", "ا\u0653", "ΣΑΣ", "σ",
        "ﬁ", "①", "²", "Ⅻ", "“", "”", "—", " ", " ", "İ", "\u200f", "ﺍﻟ", "٣", "x", "«»", "_",
    ]  # fmt: skip
    rng = random.Random(5)
    joined = 0
    for _ in range(3000):
        paragraphs = [
            "".join(rng.choice(pieces) for _ in range(rng.randint(0, 6)))
            for _ in range(rng.randint(1, 4))
        ]
        text = "\n\n".join(paragraphs)
        forms = [normalize_arabic(p) for p in paragraphs]
        assert normalised_text(text, forms, paragraphs) == normalize_arabic(text), paragraphs
        joined += needs_nfkc(text) and all(
            needs_nfkc(p) or unicodedata.is_normalized("NFKC", p) for p in paragraphs
        )
    assert joined > 500  # the shortcut was taken under NFKC, not only skipped
