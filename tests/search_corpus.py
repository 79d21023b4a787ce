"""Loads tests/data/search/articles.jsonl into a test database (shared by the search, API
and export tests): three sources, 42 articles, a crawl run per source and a few copies.

The judged query set (queries.jsonl) is judged against those 42 and the 58 articles of
judged_articles.jsonl (names next to the common words the stemmer could confuse them with:
لبنان and لبن, عمان and عمه, السودان and السود ...); ``load(url, judged=True)`` loads all 100."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg

DATA = Path(__file__).resolve().parent / "data" / "search"


def articles() -> list[dict]:
    return [json.loads(line) for line in (DATA / "articles.jsonl").open(encoding="utf-8")]


def judged_articles() -> list[dict]:
    """The 42 articles and the 58 added for the judged query set."""
    extra = (DATA / "judged_articles.jsonl").open(encoding="utf-8")
    return articles() + [json.loads(line) for line in extra]


def queries() -> list[dict]:
    return [json.loads(line) for line in (DATA / "queries.jsonl").open(encoding="utf-8")]


def load(url: str, *, judged: bool = False) -> dict[str, int]:
    """Insert the corpus (``judged``: with judged_articles.jsonl); return {article key: id}.
    s01 has two copies, s05 one."""
    ids: dict[str, int] = {}
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        items = judged_articles() if judged else articles()
        for name in sorted({a["source"] for a in items}):
            conn.execute("INSERT INTO sources (name, title) VALUES (%s, %s)", (name, name.title()))
            conn.execute(
                "INSERT INTO crawl_runs (source_id, spider, status, articles_stored) "
                "SELECT id, name, 'finished', 14 FROM sources WHERE name = %s",
                (name,),
            )
        for a in items:
            row = conn.execute(
                "INSERT INTO articles (source_id, url, canonical_url, title, body, published_at, "
                "word_count, content_hash, fetched_at) "
                "SELECT id, %(u)s, %(u)s, %(t)s, %(b)s, %(p)s, %(w)s, "
                "sha256(convert_to(%(b)s, 'UTF8')), now() FROM sources WHERE name = %(s)s "
                "RETURNING id",
                {
                    "u": f"http://{a['source']}.test/{a['key']}",
                    "t": a["title"],
                    "b": a["body"],
                    "p": a["published_at"],
                    "w": len(a["body"].split()),
                    "s": a["source"],
                },
            ).fetchone()
            ids[a["key"]] = row[0]
        copies = [
            ("http://beta.test/copy-s01", "beta", "s01", "near", 0.91),
            ("http://gamma.test/copy-s01", "gamma", "s01", "exact", 1.0),
            ("http://gamma.test/copy-s05", "gamma", "s05", "near", 0.85),
        ]
        for copy_url, source, key, kind, similarity in copies:
            conn.execute(
                "INSERT INTO duplicates (url, source_id, duplicate_of, kind, similarity, title, "
                "published_at) SELECT %s, s.id, a.id, %s, %s, a.title, a.published_at "
                "FROM sources s, articles a WHERE s.name = %s AND a.id = %s",
                (copy_url, kind, similarity, source, ids[key]),
            )
    return ids
