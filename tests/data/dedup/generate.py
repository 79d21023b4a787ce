"""Generate ``articles.jsonl``, the labelled near-duplicate set, from the hand-written bases.

    python tests/data/dedup/generate.py        # rewrites articles.jsonl next to this file

Every base in ``bases.txt`` is kept once as the original; ``copies`` republications are made
from it by scripted edits (dateline swap, dropped closing paragraphs, light rewording,
diacritics, spelling variants, Arabic-Indic digits, site boilerplate, exact copies) with a
fixed seed, so the labels are exact: a copy shares ``cluster`` (the base id) with its base,
and ``event`` with any independent report on the same event. Output order is shuffled
(seeded) so copies often come before their original in the file.

After them come the hard cases of issue 15 (the ``#### HARD CASES`` part of ``bases.txt``,
their own seed, shuffled among themselves), each row's ``case`` naming its type:

* ``brief``: different 30-50-word briefs ending with the same agency rights notice or site
  sign-off (different stories: never merged), and republications of some of them;
* ``quote``: different stories quoting the same two long paragraphs, and copies of them;
* ``update``: a story updated later the same day (lead trimmed, two paragraphs added, in two
  of them the closing paragraph dropped; Jaccard 0.4-0.7 with the base): must merge;
* ``flash``: a breaking brief that is the lead of a longer article: its own story (kept);
* ``tiny``: 15-word templated items (a day's exchange rate): different days are different
  stories; a republication with a dateline is a copy.

Rows of the original set have ``case`` = ``original``.
"""

from __future__ import annotations

import json
import random
import re
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20261123

REPUBLISHERS = [
    "alwatan", "tishreen", "alquds", "almasryalyoum", "alkhaleej", "albawaba", "elaph",
    "arabi21", "alsharq", "almadapaper", "assabah", "alayam", "addustour", "alittihad",
    "youm7", "alarab", "rudaw", "echorouk", "alyaum", "hibapress",
]  # fmt: skip

# Datelines a republishing site may put in front of a wire story instead of the original one.
DATELINES = [
    "بيروت (رويترز) -", "(وكالات) -", "دمشق - سانا", "القاهرة - أ ف ب:", "أنقرة/ الأناضول",
    "متابعات -", "عواصم - وكالات:", "(أ ف ب) -",
]  # fmt: skip

BOILERPLATE = [
    "تابعونا على فيسبوك وتويتر وتلغرام لمعرفة آخر الأخبار العاجلة لحظة بلحظة، واشتركوا في "
    "نشرتنا البريدية اليومية لتصلكم أهم العناوين كل صباح.",
    "جميع الحقوق محفوظة لموقعنا، ولا يجوز نقل هذا المحتوى أو إعادة نشره دون ذكر المصدر "
    "وإرفاق رابط المادة الأصلية.",
    "المصدر: وكالات الأنباء. الآراء الواردة في التعليقات تعبر عن أصحابها ولا تعبر بالضرورة "
    "عن رأي الموقع أو سياسته التحريرية.",
    "اقرأ أيضا: أسعار الذهب اليوم في الأسواق المحلية، وتوقعات الطقس لنهاية الأسبوع، "
    "ونتائج مباريات الدوري.",
    "حمل تطبيقنا المجاني على الهواتف الذكية لمتابعة التغطية الحية والتنبيهات الفورية "
    "للأخبار العاجلة في المنطقة والعالم.",
]

# Light rewording: the substitutions a copy editor makes in one sentence.
SYNONYMS = {
    "وقال": "وأفاد", "قال": "أفاد", "وأضاف": "وتابع", "وأضافت": "وتابعت", "أكد": "شدد",
    "وأكد": "وشدد", "وأشار": "ولفت", "وأشارت": "ولفتت", "مشيرا": "لافتا", "أعلن": "كشف",
    "وأعلن": "وكشف", "أعلنت": "كشفت", "بحسب": "وفق", "اليوم": "هذا اليوم", "كبيرة": "واسعة",
    "عدد": "جملة", "أكثر": "ما يزيد", "نحو": "قرابة", "إن": "بأن", "الذي": "والذي",
}  # fmt: skip

HARAKAT = ["\u064e", "\u064f", "\u0650", "\u0652", "\u0651"]
INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


HARD_CASES = "#### HARD CASES"


def parse_bases(path: Path) -> list[dict]:
    bases = []
    text = path.read_text(encoding="utf-8").split(HARD_CASES)[0]
    for block in re.split(r"(?m)^(?=@@ )", text):
        if not block.startswith("@@ "):
            continue
        header, _, body = block.partition("\n")
        bid, event, source, published, copies, dateline = (f.strip() for f in header[3:].split("|"))
        parts = [p.strip() for p in body.strip().split("\n\n") if p.strip()]
        bases.append(
            {
                "id": bid,
                "event": bid if event == "-" else event,
                "source": source,
                "published": published,
                "copies": int(copies),
                "dateline": None if dateline == "-" else dateline,
                "title": parts[0],
                "paragraphs": parts[1:],
            }
        )
    return bases


def with_dateline(paragraphs: list[str], dateline: str | None) -> list[str]:
    if not dateline:
        return list(paragraphs)
    return [f"{dateline} {paragraphs[0]}", *paragraphs[1:]]


def add_diacritics(text: str, rng: random.Random, rate: float) -> str:
    out = []
    for word in text.split(" "):
        if rng.random() < rate and len(word) > 2:
            i = rng.randrange(1, len(word))
            if "\u0621" <= word[i - 1] <= "\u064a":
                word = word[:i] + rng.choice(HARAKAT) + word[i:]
        out.append(word)
    return " ".join(out)


def spelling_variants(text: str, rng: random.Random, rate: float) -> str:
    def vary(word: str) -> str:
        if rng.random() >= rate:
            return word
        if word[:1] in "أإ":
            return "ا" + word[1:]
        if word.endswith("ى"):
            return word[:-1] + "ي"
        if word.endswith("ي") and len(word) > 3:
            return word[:-1] + "ى"
        if word.endswith("ة"):
            return word[:-1] + "ه"
        return word

    return " ".join(vary(w) for w in text.split(" "))


def reword(paragraph: str, rng: random.Random) -> str:
    words = paragraph.split(" ")
    hits = [i for i, w in enumerate(words) if w in SYNONYMS]
    rng.shuffle(hits)
    for i in hits[:3]:
        words[i] = SYNONYMS[words[i]]
    if not hits:  # nothing to swap: the editor adds a short attribution instead
        words.insert(len(words) // 2, "بحسب ما ذكرت المصادر")
    return " ".join(words)


def make_copy(base: dict, k: int, rng: random.Random) -> tuple[dict, list[str]]:
    """One republication of ``base``; returns the article and the names of the edits made."""
    paragraphs = list(base["paragraphs"])
    edits: list[str] = []
    # Severity spreads the similarities from identical to about half the shingles shared.
    tier = rng.choices(["exact", "form", "light", "medium", "heavy"], [2, 2, 3, 3, 3])[0]
    dateline = base["dateline"]
    if tier != "exact":
        if dateline and rng.random() < 0.7:
            dateline = rng.choice([d for d in DATELINES if d != dateline] + [None])
            edits.append("dateline")
        if tier in ("medium", "heavy"):
            drop = 1 if tier == "medium" else rng.choice([1, 2, 2])
            drop = min(drop, len(paragraphs) - 3)
            if drop > 0:
                paragraphs = paragraphs[:-drop]
                edits.append(f"drop{drop}")
            for _ in range(1 if tier == "medium" else 2):
                i = rng.randrange(len(paragraphs))
                paragraphs[i] = reword(paragraphs[i], rng)
            edits.append("reword")
        if tier in ("light", "medium", "heavy") and rng.random() < 0.8:
            paragraphs.append(rng.choice(BOILERPLATE))
            edits.append("boilerplate")
    text = "\n\n".join(with_dateline(paragraphs, dateline))
    if tier != "exact":
        if tier == "form" or rng.random() < 0.4:
            text = add_diacritics(text, rng, rng.uniform(0.1, 0.4))
            edits.append("diacritics")
        if tier == "form" or rng.random() < 0.4:
            text = spelling_variants(text, rng, rng.uniform(0.1, 0.3))
            edits.append("spelling")
        if re.search(r"\d", text) and (tier == "form" or rng.random() < 0.4):
            text = text.translate(INDIC)
            edits.append("indic-digits")
    if not edits:
        edits.append("exact")
    site = rng.choice([s for s in REPUBLISHERS if s != base["source"]])
    title = base["title"] if rng.random() < 0.5 else f"{base['title']} | {site}"
    published = datetime.fromisoformat(base["published"]) + timedelta(
        minutes=rng.randint(5, 3 * 24 * 60)
    )
    article = {
        "id": f"{base['id']}~c{k}",
        "title": title,
        "text": text,
        "url": f"https://{site}.example/news/{rng.randint(10000, 999999)}",
        "source": site,
        "published": published.isoformat(),
        "cluster": base["id"],
        "event": base["event"],
    }
    return article, edits


def generate() -> list[dict]:
    rng = random.Random(SEED)
    rows = []
    for base in parse_bases(HERE / "bases.txt"):
        rows.append(
            {
                "id": base["id"],
                "title": base["title"],
                "text": "\n\n".join(with_dateline(base["paragraphs"], base["dateline"])),
                "url": f"https://{base['source']}.example/article/{base['id']}",
                "source": base["source"],
                "published": base["published"],
                "cluster": base["id"],
                "event": base["event"],
                "edits": ["original"],
            }
        )
        for k in range(1, base["copies"] + 1):
            article, edits = make_copy(base, k, rng)
            article["edits"] = edits
            rows.append(article)
    rng.shuffle(rows)
    for row in rows:
        row["case"] = "original"
    return rows + hard_cases(parse_bases(HERE / "bases.txt"))


def parse_cases(path: Path) -> list[tuple[list[str], list[str]]]:
    """The hard-case blocks: (header fields, paragraphs)."""
    text = path.read_text(encoding="utf-8").split(HARD_CASES)[1]
    blocks = []
    for block in re.split(r"(?m)^(?=%% )", text):
        if not block.startswith("%% "):
            continue
        header, _, body = block.partition("\n")
        fields = [f.strip() for f in header[3:].split("|")]
        blocks.append((fields, [p.strip() for p in body.strip().split("\n\n") if p.strip()]))
    return blocks


def _title(paragraph: str) -> str:
    return " ".join(paragraph.split()[:8])


def hard_cases(bases: list[dict]) -> list[dict]:
    rng = random.Random(SEED + 15)
    by_id = {b["id"]: b for b in bases}
    shared: dict[str, list[str]] = {}
    rows: list[dict] = []

    def add(row: dict, base: dict | None, case: str) -> None:
        rows.append({**row, "case": case})
        for k in range(1, (base or {}).get("copies", 0) + 1):
            article, edits = make_copy(base, k, rng)  # type: ignore[arg-type]
            rows.append({**article, "edits": edits, "case": case})

    for fields, paragraphs in parse_cases(HERE / "bases.txt"):
        kind = fields[0]
        if kind in ("notice", "signoff", "quote"):
            shared[fields[1]] = paragraphs
        elif kind in ("brief", "quoting"):
            if kind == "brief":
                bid, source, published, dateline, furniture, copies = fields[1:]
                event, body = bid, [paragraphs[0], *shared[furniture]]
            else:
                bid, event, source, published, dateline, copies = fields[1:]
                body = []
                for p in paragraphs:
                    body.extend(shared["un-statement"] if p == "{quote}" else [p])
            base = {
                "id": bid, "event": event, "source": source, "published": published,
                "copies": int(copies), "dateline": None if dateline == "-" else dateline,
                "title": _title(paragraphs[0]), "paragraphs": body,
            }  # fmt: skip
            row = {
                "id": bid, "title": base["title"],
                "text": "\n\n".join(with_dateline(body, base["dateline"])),
                "url": f"https://{source}.example/news/{bid}", "source": source,
                "published": published, "cluster": bid, "event": event, "edits": ["original"],
            }  # fmt: skip
            add(row, base, "brief" if kind == "brief" else "quote")
        elif kind == "update":
            base = by_id[fields[1]]
            lead = base["paragraphs"][0].split()
            trimmed = " ".join(lead[: len(lead) - int(fields[2])]).rstrip("،,") + "."
            closing = len(base["paragraphs"]) - int(fields[4])
            body = [trimmed, *base["paragraphs"][1:closing], *paragraphs]
            row = {
                "id": f"{base['id']}~update", "title": base["title"],
                "text": "\n\n".join(with_dateline(body, base["dateline"])),
                "url": f"https://{base['source']}.example/article/{base['id']}-updated",
                "source": base["source"], "published": fields[3], "cluster": base["id"],
                "event": base["event"],
                "edits": ["lead-trimmed", f"drop{fields[4]}", "two-paragraphs-added"],
            }  # fmt: skip
            add(row, None, "update")
        elif kind == "flash":
            base = by_id[fields[1]]
            published = datetime.fromisoformat(base["published"]) + timedelta(
                minutes=int(fields[2])
            )
            row = {
                "id": f"{base['id']}~flash", "title": f"عاجل: {_title(base['paragraphs'][0])}",
                "text": with_dateline(base["paragraphs"][:1], base["dateline"])[0],
                "url": f"https://{base['source']}.example/flash/{base['id']}",
                "source": base["source"], "published": published.isoformat(),
                "cluster": f"{base['id']}~flash", "event": base["event"], "edits": ["lead-only"],
            }  # fmt: skip
            add(row, None, "flash")
        elif kind == "tiny":
            bid, family, source, published, copies = fields[1:]
            text = paragraphs[0]
            row = {
                "id": bid, "title": _title(text), "text": text,
                "url": f"https://{source}.example/{family}/{bid}", "source": source,
                "published": published, "cluster": bid, "event": bid, "edits": ["original"],
            }  # fmt: skip
            add(row, None, "tiny")
            for k, edit in enumerate(c for c in copies.split(",") if c != "-"):
                site = REPUBLISHERS[k]
                rows.append({
                    **row, "id": f"{bid}~c{k + 1}", "source": site,
                    "url": f"https://{site}.example/economy/{bid}-{k}",
                    "text": text if edit == "exact" else f"دمشق - سانا: {text}",
                    "published": (datetime.fromisoformat(published) + timedelta(hours=k + 1)).isoformat(),
                    "edits": [edit], "case": "tiny",
                })  # fmt: skip
        else:
            raise ValueError(f"unknown hard-case block {kind!r}")
    rng.shuffle(rows)
    return rows


def main() -> None:
    rows = generate()
    with open(HERE / "articles.jsonl", "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} articles to {HERE / 'articles.jsonl'}")


if __name__ == "__main__":
    main()
