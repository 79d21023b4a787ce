"""Arabic search text: the Python twin of the SQL functions behind ``articles.search_vector``.

The database can compute the search document itself (revision 0007: ``akhbar_search_normalize``,
``akhbar_search_stem``, ``akhbar_search_text``, ``akhbar_search_vector``); writers send it
computed here instead. This module mirrors those functions exactly (tests/test_search.py
compares them on every test text) so that vectors are computed by the writers, and queries
are built and hits highlighted in the original text, with the same rules:

* normalisation as in :func:`akhbar.normalize.normalize_arabic` (diacritics, tatweel,
  alef/hamza, ى/ي, ة/ه, digits), with word characters spelled out: Latin letters, digits,
  Arabic letters; everything else separates words;
* names (akhbar/data/names.txt: countries, cities, people, organisations) are kept whole:
  a word that is a name's spelling (or a place's nisba adjective) after proclitics
  (و ف, ب ك ل, ال and their combinations) is indexed as the name, so «ولبنان», «للبنان»,
  «اللبنانية» all give «لبنان» and never meet «لبن» (milk);
* otherwise a light stemmer: proclitics و ف, the article forms (ال وال فال بال كال لل ...),
  then ال once more (normalised «الألعاب» is «العاب»), ب ك ل (only before 5 letters), و ف
  again, then the longest of a few suffixes, twice, except that no suffix is stripped when
  a name would be left («قطرة» stays off «قطر»); minimum stem lengths keep short words
  whole.

«والمفاوضات» and «مفاوضات» both become «مفاوض», so either finds the other.

Cost is linear in the text's length, and what is indexed is capped (see ``search_vector``):
the first MAX_INDEXED_CHARS characters of the title and of the body, words of at most
MAX_WORD_CHARS characters, the first MAX_INDEXED_WORDS of those words (title first).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from akhbar.normalize import (
    BEYOND_TABLE,
    TABLE_SIZE,
    TRANSLATION,
    WORDS_TABLE,
    needs_nfkc,
    translate_table,
)

_NON_WORD = re.compile(
    "[^0-9a-zA-Z\u00c0-\u024f\u0621-\u063a\u0641-\u064a\u066e-\u06d3\u06fa-\u06ff]+"
)
# TRANSLATION and "_NON_WORD is a space" in one translate (its letters and digits are word
# characters); the regex still runs for characters above the table (none is a word one).
_SEARCH_TABLE = translate_table(TRANSLATION, lambda ch: bool(_NON_WORD.match(ch)), TABLE_SIZE)


def _unshared_characters() -> re.Pattern[str]:
    """The characters normalize_arabic and search normalisation map differently (a word
    character for one, a separator for the other: × ÷, Greek, Hebrew, superscripts ...),
    and everything above their tables. Text without them has the same words either way."""
    ranges: list[list[int]] = []
    for code in range(TABLE_SIZE):
        ours, theirs = WORDS_TABLE[code], _SEARCH_TABLE[code]
        ours = chr(ours) if isinstance(ours, int) else ours or ""
        theirs = chr(theirs) if isinstance(theirs, int) else theirs or ""
        if ours == theirs or (ours.isspace() and theirs.isspace()):
            continue
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    spans = "".join(
        re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "") for a, b in ranges
    )
    return re.compile(f"[{spans}{chr(TABLE_SIZE)}-\U0010ffff]")


_UNSHARED = _unshared_characters()

_CONJUNCTIONS = "وف"
_PREPOSITIONS = "بكل"
# Longest first: the SQL takes the longest article form that leaves a 2-letter stem.
_ARTICLES = sorted(
    {c + p + "ال" for c in ("", "و", "ف") for p in ("", "ب", "ك", "ل")}
    | {c + "لل" for c in ("", "و", "ف")},
    key=len,
    reverse=True,
)
_SUFFIXES = sorted(["ها", "ان", "ات", "ون", "ين", "يه", "ه", "ي"], key=len, reverse=True)
# What may stand before a name: a conjunction, then a preposition and/or the article.
NAME_PROCLITICS = frozenset(
    c + m for c in ("", "و", "ف") for m in ("", "ب", "ك", "ل", "ال", "بال", "كال", "لل")
)
_MAX_PROCLITIC = max(map(len, NAME_PROCLITICS))
# Endings of a place's nisba adjective, after its base (لبناني: لبناني لبنانيه لبنانيون ...).
_NISBA_ENDINGS = ("", "ه", "ون", "ين", "ات")
_MIN_NAME = 3

# Caps on what is indexed (documented in docs/schema.md): they bound the work and keep the
# vector under PostgreSQL's limits (1 MB, positions up to 16383).
MAX_INDEXED_CHARS = 200_000  # of the title, and of the body, before normalisation
MAX_WORD_CHARS = 40  # longer normalised words are not indexed
MAX_INDEXED_WORDS = 10_000  # title words first, then body words


def search_normalize(text: str) -> str:
    """Mirror of SQL ``akhbar_search_normalize``: NFKC, then akhbar.normalize's table
    (diacritics and tatweel deleted, letter variants and digits unified), then anything but
    a word character is a space."""
    return " ".join(_search_words(text))


def _search_words(text: str) -> list[str]:
    """``search_normalize(text).split()``: the NFKC, translate, ``_NON_WORD.sub(" ")``,
    lower and strip it spells out, with the middle two as one table."""
    text = unicodedata.normalize("NFKC", text).translate(_SEARCH_TABLE)
    if BEYOND_TABLE.search(text):
        text = _NON_WORD.sub(" ", text)
    return text.lower().split()


def _nisba_base(base: str) -> str:
    """The stem of a place's nisba adjective: سوريا -> سوري, فرنسا -> فرنسي, سعوديه ->
    سعودي, لبنان -> لبناني."""
    if base.endswith("يا") or base.endswith("يه"):
        return base[:-1]
    if base.endswith("ا"):
        return base[:-1] + "ي"
    if base.endswith("ي"):
        return base
    return base + "ي"


def parse_names(text: str) -> dict[str, str]:
    """{normalised form: indexed name} from names.txt's text (format: see that file)."""
    forms: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        kind, spellings = fields[0], fields[1:]
        if kind not in ("place", "name") or not spellings:
            raise ValueError(f"names line {number}: expected 'place|name SPELLING...'")
        bases = []
        for spelling in spellings:
            norm = search_normalize(spelling)
            if spelling.startswith("ال") and len(norm) - 2 >= _MIN_NAME:
                norm = norm[2:]
            if " " in norm or len(norm) < _MIN_NAME:
                raise ValueError(f"names line {number}: {spelling!r} is not one word of 3+ letters")
            bases.append(norm)
        key = bases[0]
        line_forms = set(bases)
        if kind == "place":
            line_forms |= {_nisba_base(b) + end for b in bases for end in _NISBA_ENDINGS}
        for form in line_forms:
            if forms.get(form, key) != key:
                raise ValueError(f"names line {number}: {form!r} is already {forms[form]!r}")
            forms[form] = key
    return forms


NAME_FORMS: dict[str, str] = parse_names(
    resources.files("akhbar").joinpath("data/names.txt").read_text(encoding="utf-8")
)


def _name(word: str) -> str | None:
    """The name ``word`` spells after its proclitics (the shortest that leave one), if any."""
    for n in range(min(_MAX_PROCLITIC, len(word) - _MIN_NAME) + 1):
        if word[:n] in NAME_PROCLITICS and (name := NAME_FORMS.get(word[n:])) is not None:
            return name
    return None


@lru_cache(maxsize=262144)
def stem_word(word: str) -> str:
    """One normalised word through the light stemmer (mirror of SQL ``akhbar_search_stem``)."""
    if (name := _name(word)) is not None:
        return name
    if word[:1] in _CONJUNCTIONS and len(word) - 1 >= 3:
        word = word[1:]
    for prefix in _ARTICLES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 2:
            word = word[len(prefix) :]
            break
    # Once more: normalisation made أل (ألعاب, التزام) look like the article, so «الألعاب»
    # must lose both to meet «ألعاب».
    if word.startswith("ال") and len(word) - 2 >= 2:
        word = word[2:]
    if word[:1] in _PREPOSITIONS and len(word) - 1 >= 5:
        word = word[1:]
    if word[:1] in _CONJUNCTIONS and len(word) - 1 >= 3:
        word = word[1:]
    for _ in range(2):
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 2:
                if word[: -len(suffix)] not in NAME_FORMS:
                    word = word[: -len(suffix)]
                break
    return word


def search_text(text: str) -> str:
    """Mirror of SQL ``akhbar_search_text``: the words that go into the tsvector."""
    return " ".join(stem_word(w) for w in search_normalize(text).split())


@lru_cache(maxsize=65536)
def word_stems(word: str) -> tuple[str, ...]:
    """The stems of one whitespace-separated word of original text (cached: snippets look
    up the same words again and again)."""
    return tuple(search_text(word).split())


def indexed_words(text: str | None, max_words: int, normalised: str | None = None) -> list[str]:
    """The stems of ``text`` that go into the vector, capped (mirror of SQL
    ``akhbar_search_words``). ``normalised``: ``normalize_arabic(text)``, if the caller has
    it: where no character tells the two normalisations apart, its words are the words
    searched (``_shared_words``), which saves normalising the text again."""
    words = _shared_words(text or "", normalised)
    if words is None:
        words = _search_words((text or "")[:MAX_INDEXED_CHARS])
    short = [word for word in words if len(word) <= MAX_WORD_CHARS]
    return list(map(stem_word, short[:max_words]))


def _shared_words(text: str, normalised: str | None) -> list[str] | None:
    """``normalised``'s words, when they are ``_search_words(text)``, else None.

    Both NFKC (normalize_arabic when ``needs_nfkc``, so then the same text is translated,
    and otherwise only if NFKC changes nothing), translate with tables that agree on every
    character but the ``_UNSHARED`` ones, lower and split; and the text is not capped."""
    if normalised is None or len(text) > MAX_INDEXED_CHARS:
        return None
    nfkc = unicodedata.normalize("NFKC", text)
    if (nfkc == text or needs_nfkc(text)) and not _UNSHARED.search(nfkc):
        return normalised.split()
    return None


def search_document(
    title: str | None, body: str, normalised_body: str | None = None
) -> tuple[list[str], list[str]]:
    """The title and body stems the database indexes with weights A and B (capped).
    ``normalised_body``: ``normalize_arabic(body)``, if the caller has it (it saves work)."""
    title_words = indexed_words(title, MAX_INDEXED_WORDS)
    body_words = indexed_words(body, MAX_INDEXED_WORDS - len(title_words), normalised_body)
    return title_words, body_words


# Words the database's text-search parser might split or fold otherwise than str.split and
# str.lower (Latin-1 and Latin Extended letters, and the × ÷ among them).
_PARSER_UNSURE = re.compile("[\u00c0-\u024f]")
# PostgreSQL keeps a lexeme's first 255 positions in to_tsvector, and at most 256 when ||
# joins the title's and the body's (title's first).
MAX_POSITIONS = 255
MAX_JOINED_POSITIONS = 256


# Position labels ("17A", "17B") by weight and position, made once per process: formatting
# them anew was most of search_vector's time.
_LABELS: dict[str, list[str]] = {"A": [""], "B": [""]}


def _labels(weight: str, first: int, count: int) -> list[str]:
    """The labels of positions ``first`` .. ``first + count - 1`` with ``weight``."""
    made = _LABELS[weight]
    if len(made) < first + count:  # a new, longer list: a thread still reading the old is fine
        made = made + [f"{n}{weight}" for n in range(len(made), first + count)]
        _LABELS[weight] = made
    return made[first : first + count]


def search_vector(title: str | None, body: str, normalised_body: str | None = None) -> str | None:
    """The ``articles.search_vector`` value as tsvector text: the twin of SQL
    ``akhbar_search_vector(title, body)``, i.e. the capped title stems with weight A followed
    by the body stems with weight B (positions 1, 2, ... across both), computed here so
    that crawler workers, not the database, pay for it. None when the text holds letters
    the database's parser could split or fold otherwise: the database then computes it (a
    NULL search_vector always means "compute it"). ``tests/test_search.py`` compares the two.

    A stem keeps its first MAX_POSITIONS positions in the title and in the body, and at most
    MAX_JOINED_POSITIONS in all (the title's first), as PostgreSQL's to_tsvector and || do.
    ``normalised_body``: ``normalize_arabic(body)``, if the caller has it (it saves work).
    """
    title_words, body_words = search_document(title, body, normalised_body)
    if _PARSER_UNSURE.search(" ".join(title_words)) or _PARSER_UNSURE.search(" ".join(body_words)):
        return None
    positions: dict[str, list[str]] = {}  # stem -> its position labels, in first-seen order
    for word, label in zip(title_words, _labels("A", 1, len(title_words)), strict=True):
        where = positions.get(word)
        if where is None:
            positions[word] = [label]
        elif len(where) < MAX_POSITIONS:
            where.append(label)
    body_labels = _labels("B", len(title_words) + 1, len(body_words))
    for word, label in zip(body_words, body_labels, strict=True):
        where = positions.get(word)
        if where is None:
            positions[word] = [label]
        elif len(where) < MAX_POSITIONS or (
            # A title stem: its body positions fill up to the joined cap.
            len(where) < MAX_JOINED_POSITIONS and where[0][-1] == "A"
        ):
            where.append(label)
    return " ".join([f"{word}:{','.join(where)}" for word, where in positions.items()])


_QUERY_PART = re.compile(r'(-?)"([^"]*)"?|(\S+)')


def websearch_query(query: str) -> str:
    """Rewrite a user query for ``websearch_to_tsquery('simple', ...)`` in stemmed form.

    Keeps websearch syntax: ``"a phrase"``, ``-excluded``, ``OR`` (also ``أو``).
    Returns "" when nothing searchable is left.
    """
    parts: list[str] = []
    for match in _QUERY_PART.finditer(query):
        negate, phrase, word = match.group(1), match.group(2), match.group(3)
        if word is not None and word in ("OR", "or", "أو", "او"):
            if parts and parts[-1] != "or":
                parts.append("or")
            continue
        if word is not None:
            negate = "-" if word.startswith("-") else ""
            phrase = word.lstrip("-")
        words = search_text(phrase or "").split()
        if not words:
            continue
        parts.append(negate + (words[0] if len(words) == 1 else '"' + " ".join(words) + '"'))
    while parts and parts[-1] == "or":
        parts.pop()
    return " ".join(parts)


def query_terms(query: str) -> set[str]:
    """The stems a query looks for (excluded terms left out): what a snippet highlights."""
    terms: set[str] = set()
    for match in _QUERY_PART.finditer(query):
        negate, phrase, word = match.group(1), match.group(2), match.group(3)
        if word is not None:
            if word in ("OR", "or", "أو", "او") or word.startswith("-"):
                continue
            phrase = word
        if negate:
            continue
        terms.update(search_text(phrase or "").split())
    return terms


@dataclass(frozen=True, slots=True)
class Snippet:
    text: str
    hits: int


def highlight(
    text: str,
    terms: set[str],
    *,
    max_words: int = 30,
    start: str = "<b>",
    stop: str = "</b>",
    ellipsis: str = "…",
) -> Snippet:
    """A window of ``max_words`` words of the original ``text`` with the most query terms,
    matched words wrapped in ``start``/``stop``.

    This is ts_headline's job, done here because ts_headline re-parses the original text
    with a text search configuration that knows nothing of our clitic stripping, so
    «والمفاوضات» would never be marked for «مفاوضات».
    """
    words = text.split()
    if not words:
        return Snippet("", 0)
    stems = [word_stems(w) for w in words]
    hit_terms = [terms.intersection(st) for st in stems]
    marks = [bool(h) for h in hit_terms]
    best_start, best_score = 0, (-1, -1)
    if len(words) > max_words:
        # Candidate windows open a few words before each hit, for a little context.
        for i in sorted(
            {max(0, min(i - 3, len(words) - max_words)) for i, m in enumerate(marks) if m}
        ):
            window = range(i, i + max_words)
            distinct = set().union(*(hit_terms[j] for j in window))
            score = (len(distinct), sum(marks[j] for j in window))
            if score > best_score:
                best_start, best_score = i, score
    end = min(len(words), best_start + max_words)
    out = [f"{start}{words[i]}{stop}" if marks[i] else words[i] for i in range(best_start, end)]
    snippet = " ".join(out)
    if best_start > 0:
        snippet = ellipsis + " " + snippet
    if end < len(words):
        snippet += " " + ellipsis
    return Snippet(snippet, sum(marks[best_start:end]))
