"""Search quality and query speed, on a PostgreSQL cluster of the benchmark's own.

Quality (the default): the Arabic corpus and judged queries in tests/data/search/ are loaded
into a fresh database at the head revision (articles.jsonl and judged_articles.jsonl: 100
articles; queries.jsonl: each query with its kind, a common word or a name of a place, person
or organisation, and its relevant articles, judged before the run), and each query is run four
ways:

* ``simple (plain)``: PostgreSQL's ``simple`` configuration on the raw text (words as written);
* ``arabic (plain)``: PostgreSQL's ``arabic`` Snowball configuration on the raw text;
* ``arabic + normalised``: the same after our normalisation (no clitic stripping);
* ``akhbar``: the ``search_vector`` column (normalisation + light stemming, ``simple``
  configuration), through ``db.search.search`` as the API and the CLI use it.

It prints precision@10 (relevant hits / results shown, at most 10; a query with no result
counts 0), recall@10 (relevant hits / relevant articles) and MRR, for all queries, the word
queries and the name queries, and how many name queries show an article that is not about
the name (``--details`` lists every query that shows a non-relevant article or misses one).

Speed (``--articles N``): N synthetic articles (words drawn with a Zipf law from the
corpus's vocabulary, with clitics attached) are COPYed in, then a search and a filtered
listing first page are timed; median and p95 in ms are printed (warm cache).

Vector cost (``--vector-words 15000,30000,60000,120000``): for bodies of those many words
(drawn like the speed corpus), the seconds SQL ``akhbar_search_vector`` takes, the Python
twin ``akhbar.search.search_vector`` takes (and whether it gave a vector or left it to the
database), and an INSERT of the article whose vector the trigger computes.

    python bench/search_bench.py                  # quality table
    python bench/search_bench.py --articles 1000000 --words 120
    python bench/search_bench.py --vector-words 600,15000,30000,60000,120000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from sqlalchemy import create_engine, pool, text

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from db import migrate  # noqa: E402
from db.embedded import ADMIN_ROLE, EmbeddedPostgres, free_port  # noqa: E402

DATA = REPO / "tests" / "data" / "search"


def start_cluster(keep: Path | None) -> EmbeddedPostgres:
    home = keep or Path(tempfile.mkdtemp(prefix="akhbar-bench-pg-", dir="/tmp"))
    home.mkdir(parents=True, exist_ok=True)
    home.chmod(0o755)
    server = EmbeddedPostgres(home=home, port=free_port())
    server.start()
    return server


def fresh_database(server: EmbeddedPostgres, name: str) -> str:
    with psycopg.connect(**server.conninfo(ADMIN_ROLE), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = server.url_for(ADMIN_ROLE, name)
    migrate.upgrade(url)
    return url


def load_corpus(url: str) -> dict[int, str]:
    """Insert tests/data/search/articles.jsonl and judged_articles.jsonl; return {id: key}."""
    articles = [
        json.loads(line)
        for name in ("articles.jsonl", "judged_articles.jsonl")
        for line in (DATA / name).open(encoding="utf-8")
    ]
    engine = create_engine(url, poolclass=pool.NullPool)
    ids: dict[int, str] = {}
    with engine.begin() as conn:
        for name in sorted({a["source"] for a in articles}):
            conn.execute(text("INSERT INTO sources (name) VALUES (:n)"), {"n": name})
        for a in articles:
            new_id = conn.execute(
                text(
                    "INSERT INTO articles (source_id, url, canonical_url, title, body, "
                    "published_at, content_hash, fetched_at) "
                    "SELECT id, :u, :u, :t, :b, :p, sha256(convert_to(:b, 'UTF8')), now() "
                    "FROM sources WHERE name = :s RETURNING id"
                ),
                {
                    "u": f"http://{a['source']}.test/{a['key']}",
                    "t": a["title"],
                    "b": a["body"],
                    "p": a["published_at"],
                    "s": a["source"],
                },
            ).scalar_one()
            ids[new_id] = a["key"]
    engine.dispose()
    return ids


BASELINES = {
    "simple (plain)": (
        "setweight(to_tsvector('simple', coalesce(title, '')), 'A') || "
        "setweight(to_tsvector('simple', body), 'B')",
        "websearch_to_tsquery('simple', :q)",
    ),
    "arabic (plain)": (
        "setweight(to_tsvector('arabic', coalesce(title, '')), 'A') || "
        "setweight(to_tsvector('arabic', body), 'B')",
        "websearch_to_tsquery('arabic', :q)",
    ),
    "arabic + normalised": (
        "setweight(to_tsvector('arabic', akhbar_search_normalize(coalesce(title, ''))), 'A') || "
        "setweight(to_tsvector('arabic', akhbar_search_normalize(body)), 'B')",
        "websearch_to_tsquery('arabic', akhbar_search_normalize(:q))",
    ),
}


Row = tuple[str, str, float, float, float, int, int]


def quality(url: str, details: bool = False) -> list[Row]:
    """(configuration, query kind, P@10, R@10, MRR, queries missing a relevant article,
    queries showing a non-relevant one) for kinds all, word and name."""
    from db.search import search

    keys = load_corpus(url)
    queries = [json.loads(line) for line in (DATA / "queries.jsonl").open(encoding="utf-8")]
    engine = create_engine(url, poolclass=pool.NullPool)
    runners = {}
    for name, (doc, query) in BASELINES.items():
        sql = text(
            f"SELECT id FROM (SELECT id, published_at, {doc} AS v FROM articles) d, {query} q "
            "WHERE v @@ q ORDER BY ts_rank_cd(v, q, 32) DESC, published_at DESC, id DESC LIMIT 10"
        )
        runners[name] = lambda conn, q, sql=sql: [r[0] for r in conn.execute(sql, {"q": q})]
    runners["akhbar"] = lambda conn, q: [h.id for h in search(conn, q, limit=10)]
    table: list[Row] = []
    with engine.connect() as conn:
        for name, run in runners.items():
            per_query = []
            for item in queries:
                got = [keys[i] for i in run(conn, item["query"])]
                relevant = set(item["relevant"])
                hits = len(relevant.intersection(got))
                wrong = [k for k in got if k not in relevant]
                per_query.append(
                    (
                        "word" if item["kind"] == "word" else "name",
                        hits / len(got) if got else 0.0,
                        hits / len(relevant),
                        next((1 / (n + 1) for n, k in enumerate(got) if k in relevant), 0.0),
                        hits < len(relevant),
                        bool(wrong),
                    )
                )
                if details and name == "akhbar" and (wrong or hits < len(relevant)):
                    missing = sorted(relevant.difference(got))
                    print(f"  {item['query']} ({item['kind']}): shown {got}, not relevant "
                          f"{wrong}, missing {missing}")  # fmt: skip
            for kind in ("all", "word", "name"):
                rows = [q for q in per_query if kind in ("all", q[0])]
                n = len(rows)
                table.append(
                    (
                        name,
                        f"{kind} ({n})",
                        sum(q[1] for q in rows) / n,
                        sum(q[2] for q in rows) / n,
                        sum(q[3] for q in rows) / n,
                        sum(q[4] for q in rows),
                        sum(q[5] for q in rows),
                    )
                )
    engine.dispose()
    return table


def print_quality(table: list[Row], queries: int) -> None:
    print(f"Search quality on tests/data/search ({queries} queries, 100 articles)")
    print(
        f"| {'configuration':<20} | {'queries':<11} | P@10  | R@10  | MRR   "
        "| missing a relevant | showing a non-relevant |"
    )
    print(
        f"|{'-' * 22}|{'-' * 13}|-------|-------|-------|--------------------|------------------------|"
    )
    for name, kind, p, r, mrr, missed, wrong in table:
        print(
            f"| {name:<20} | {kind:<11} | {p:.3f} | {r:.3f} | {mrr:.3f} | {missed:>18} | {wrong:>22} |"
        )


# --- speed ----------------------------------------------------------------------------------

CLITICS = ["", "", "", "ال", "ال", "وال", "بال", "لل", "و", "ب"]


def vocabulary() -> list[str]:
    from akhbar.search import search_normalize

    words: set[str] = set()
    for line in (DATA / "articles.jsonl").open(encoding="utf-8"):
        a = json.loads(line)
        for w in search_normalize(a["title"] + " " + a["body"]).split():
            for prefix in ("وال", "بال", "لل", "ال", "و", "ب"):
                if w.startswith(prefix) and len(w) - len(prefix) >= 3:
                    w = w[len(prefix) :]
                    break
            if len(w) >= 3 and not w.isdigit():
                words.add(w)
    rng = random.Random(7)
    base = sorted(words)
    rng.shuffle(base)
    # Synthetic extra stems so the vocabulary has a long tail, as real news does.
    letters = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
    tail = {"".join(rng.choice(letters) for _ in range(rng.randint(4, 7))) for _ in range(20000)}
    return base + sorted(tail - words)


def _vectors(rows: list[tuple[str, str]]) -> list[str | None]:
    from akhbar.search import search_vector

    return [search_vector(title, body) for title, body in rows]


def load_synthetic(url: str, n: int, words_per_article: int, sources: int) -> None:
    """COPY ``n`` synthetic articles in, with their search vectors computed in Python in worker
    processes, as the crawler and ``akhbar import`` send them (the trigger computes a vector
    only for writers that leave it out)."""
    from concurrent.futures import ProcessPoolExecutor

    import numpy as np

    vocab = vocabulary()
    ranks = np.arange(1, len(vocab) + 1)
    weights = 1.0 / ranks**1.05
    weights /= weights.sum()
    rng = np.random.default_rng(11)
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    workers = os.cpu_count() or 2
    with psycopg.connect(conninfo, autocommit=True) as conn, ProcessPoolExecutor(workers) as pool:
        conn.execute(
            "INSERT INTO sources (name) SELECT 'site' || g FROM generate_series(1, %s) g",
            (sources,),
        )
        ids = [r[0] for r in conn.execute("SELECT id FROM sources ORDER BY id")]
        t0 = time.perf_counter()
        chunk = 20000
        start = 1_700_000_000
        span = 365 * 86400
        for offset in range(0, n, chunk):
            m = min(chunk, n - offset)
            picks = rng.choice(len(vocab), size=(m, words_per_article + 8), p=weights)
            prefixes = rng.integers(0, len(CLITICS), size=picks.shape)
            stamps = rng.integers(start, start + span, size=m)
            srcs = rng.integers(0, len(ids), size=m)
            texts = []
            for i in range(m):
                row_words = [
                    CLITICS[p] + vocab[w] for w, p in zip(picks[i], prefixes[i], strict=True)
                ]
                texts.append((" ".join(row_words[:8]), " ".join(row_words[8:])))
            step = -(-m // (workers * 4))
            vectors = [
                v
                for part in pool.map(_vectors, [texts[j : j + step] for j in range(0, m, step)])
                for v in part
            ]
            with conn.cursor().copy(
                "COPY articles (source_id, url, canonical_url, title, body, published_at, "
                "word_count, content_hash, fetched_at, search_vector) FROM STDIN"
            ) as copy:
                for i in range(m):
                    k = offset + i
                    url_ = f"http://site{srcs[i]}.test/a/{k}"
                    published = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(stamps[i])))
                    copy.write_row(
                        (
                            ids[srcs[i]],
                            url_,
                            url_,
                            texts[i][0],
                            texts[i][1],
                            published,
                            words_per_article,
                            k.to_bytes(32, "big"),
                            published,
                            vectors[i],
                        )
                    )
            done = offset + m
            rate = done / (time.perf_counter() - t0)
            print(f"  loaded {done:,} articles ({rate:,.0f}/s)", file=sys.stderr, flush=True)
        conn.execute("VACUUM ANALYZE articles")
        conn.execute("ANALYZE sources")


def timed(fn, repeat: int) -> tuple[float, float]:  # noqa: ANN001
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]


def _plan_tree(node: dict) -> str:
    name = node["Node Type"].replace(" ", "")
    if "Index Name" in node:
        name += f"[{node['Index Name']}]"
    kids = node.get("Plans", [])
    return name + (f"({', '.join(_plan_tree(k) for k in kids)})" if kids else "")


def stage1_plans(conn, run, full: bool = False) -> list[str]:  # noqa: ANN001
    """Run one search recording its SQL, then EXPLAIN (ANALYZE, BUFFERS) each statement that
    reads matches (``@@``), under the settings search() gave it: one line each (plan shape,
    ms, rows, buffers), or the full text."""
    from sqlalchemy import event

    seen: list[tuple[str, object]] = []

    def record(c, cursor, statement, params, context, many) -> None:  # noqa: ANN001
        # The settings search() makes for a statement are replayed before explaining it.
        if "set_config" in statement or (
            statement.lstrip().upper().startswith(("SELECT", "WITH")) and "@@" in statement
        ):
            seen.append((statement, params))

    event.listen(conn, "before_cursor_execute", record)
    try:
        run()
    finally:
        event.remove(conn, "before_cursor_execute", record)
    lines = []
    for statement, params in seen:
        if "set_config" in statement:
            conn.exec_driver_sql(statement, params)
            continue
        if full:
            plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
            lines.append("\n".join(r[0] for r in plan))
            continue
        plan = conn.exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, params
        ).scalar()
        top = plan[0]["Plan"]
        lines.append(
            f"{plan[0]['Execution Time']:.1f} ms, {top['Actual Rows']} rows, "
            f"buffers hit {top.get('Shared Hit Blocks', 0)} read {top.get('Shared Read Blocks', 0)}"
            f": {_plan_tree(top)}"
        )
    conn.rollback()  # end the transaction search() opened (SET LOCAL)
    return lines


def speed(url: str, repeat: int, explain: bool = False) -> None:
    from db.search import search
    from db.views import list_articles, parse_bound

    engine = create_engine(url)
    vocab = vocabulary()
    rng = random.Random(3)
    with engine.connect() as conn:
        total = conn.execute(text("SELECT count(*) FROM articles")).scalar_one()
        # Queries of three frequencies: a head word, a mid-frequency word, a rare word, and
        # a two-word AND; the article counts they match are printed alongside.
        cases = {
            "search: common word (rank 20)": vocab[20],
            "search: mid word (rank 300)": vocab[300],
            "search: rare word (rank 5000)": vocab[5000],
            "search: two words AND": f"{vocab[40]} {vocab[120]}",
            "search: phrase of two common words": f'"{vocab[20]} {vocab[40]}"',
            "search: two mid words OR": f"{vocab[300]} OR {vocab[310]}",
        }
        print(f"Speed on {total:,} articles (median / p95 ms over {repeat} runs, warm cache)")
        for label, q in cases.items():
            matches = conn.execute(
                text(
                    "SELECT count(*) FROM articles WHERE search_vector @@ "
                    "websearch_to_tsquery('simple', :q)"
                ),
                {"q": __import__("akhbar.search").search.websearch_query(q)},
            ).scalar_one()
            search(conn, q, limit=10)  # warm
            med, p95 = timed(lambda q=q: search(conn, q, limit=10), repeat)
            print(f"  {label:<40} {med:8.1f} / {p95:8.1f}   ({matches:,} matches)")
            for line in stage1_plans(conn, lambda q=q: search(conn, q, limit=10)):
                print(f"      plan: {line}")
            if explain and label.startswith("search: mid"):
                for plan in stage1_plans(conn, lambda q=q: search(conn, q, limit=10), full=True):
                    print("      " + plan.replace("\n", "\n      "))
        source = f"site{rng.randint(0, 9)}"
        listing = {
            "listing: newest 20": {},
            "listing: source, newest 20": {"source": source},
            "listing: source + since/until, 20": {
                "source": source,
                "since": parse_bound("2024-03-01"),
                "until": parse_bound("2024-03-31", end=True),
            },
            "listing: q + source, 20": {"source": source, "q": vocab[300]},
        }
        for label, kwargs in listing.items():
            list_articles(conn, limit=20, **kwargs)
            med, p95 = timed(lambda kw=kwargs: list_articles(conn, limit=20, **kw), repeat)
            print(f"  {label:<40} {med:8.1f} / {p95:8.1f}")
        page = list_articles(conn, limit=20, source=source)
        med, p95 = timed(
            lambda: list_articles(conn, limit=20, source=source, cursor=page.next_cursor), repeat
        )
        print(f"  {'listing: source, second page (cursor)':<40} {med:8.1f} / {p95:8.1f}")
    engine.dispose()


def synthetic_body(n_words: int, seed: int = 5) -> str:
    """A body of ``n_words`` words drawn like the speed corpus (Zipf, clitics attached)."""
    import numpy as np

    vocab = vocabulary()
    weights = 1.0 / np.arange(1, len(vocab) + 1) ** 1.05
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(vocab), size=n_words, p=weights / weights.sum())
    prefixes = rng.integers(0, len(CLITICS), size=n_words)
    return " ".join(CLITICS[p] + vocab[w] for w, p in zip(picks, prefixes, strict=True))


def vector_cost(url: str, sizes: list[int]) -> None:
    from akhbar.search import search_vector

    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    print("Search-vector cost by body length (seconds; one run each)")
    print(
        f"| {'words':>7} | SQL akhbar_search_vector | Python search_vector | INSERT, trigger computes |"
    )
    print(
        "|--------:|-------------------------:|---------------------:|-------------------------:|"
    )
    with psycopg.connect(conninfo, autocommit=True) as conn:
        source = conn.execute("INSERT INTO sources (name) VALUES ('long') RETURNING id").fetchone()
        for n in sizes:
            body = synthetic_body(n)
            t0 = time.perf_counter()
            conn.execute("SELECT akhbar_search_vector('عنوان', %s)::text", (body,))
            sql_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            vector = search_vector("عنوان", body)
            py_s = time.perf_counter() - t0
            py = f"{py_s:.3f}" + ("" if vector is not None else " (None: DB)")
            t0 = time.perf_counter()
            conn.execute(
                "INSERT INTO articles (source_id, url, canonical_url, title, body, content_hash, "
                "fetched_at) VALUES (%s, %s, %s, 'عنوان', %s, sha256(%s), now())",
                (source[0], f"u{n}", f"u{n}", body, str(n).encode()),
            )
            insert_s = time.perf_counter() - t0
            print(f"| {n:>7,} | {sql_s:>24.3f} | {py:>20} | {insert_s:>24.3f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=0, help="synthetic articles for speed")
    parser.add_argument("--words", type=int, default=120, help="words per synthetic body")
    parser.add_argument("--sources", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--keep", type=Path, help="cluster directory to keep (reuse with --reuse)")
    parser.add_argument("--reuse", action="store_true", help="skip loading: database exists")
    parser.add_argument(
        "--explain", action="store_true", help="print EXPLAIN (ANALYZE, BUFFERS) of the mid word"
    )
    parser.add_argument(
        "--details", action="store_true", help="list queries showing or missing articles"
    )
    parser.add_argument(
        "--vector-words", help="comma-separated body lengths in words: time the search vector"
    )
    args = parser.parse_args()

    server = start_cluster(args.keep)
    try:
        if args.vector_words:
            url = fresh_database(server, "bench_vector")
            vector_cost(url, [int(n) for n in args.vector_words.split(",")])
        elif args.articles:
            name = "bench_speed"
            url = server.url_for(ADMIN_ROLE, name)
            if not args.reuse:
                url = fresh_database(server, name)
                t0 = time.perf_counter()
                load_synthetic(url, args.articles, args.words, args.sources)
                print(f"Loaded {args.articles:,} articles in {time.perf_counter() - t0:.0f} s")
            speed(url, args.repeat, args.explain)
        else:
            url = fresh_database(server, "bench_quality")
            queries = sum(1 for _ in (DATA / "queries.jsonl").open(encoding="utf-8"))
            print_quality(quality(url, args.details), queries)
    finally:
        if args.keep:
            server.stop()
        else:
            server.destroy()


if __name__ == "__main__":
    main()
