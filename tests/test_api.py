"""The read-only HTTP API against the real database: in-process with FastAPI's TestClient,
and once under uvicorn (`akhbar serve`) as the read-only role."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import search_corpus
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from api.app import create_app
from cli.commands.roles import DEFAULT_ROLE, create_reader
from db import migrate
from db.embedded import free_port

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def corpus(database_url: str) -> dict[str, int]:
    return search_corpus.load(database_url)


@pytest.fixture
def client(database_url: str, corpus) -> TestClient:
    with TestClient(create_app(database_url)) as test_client:
        yield test_client


def _newest_first(keys: list[str]) -> list[str]:
    items = {a["key"]: a for a in search_corpus.articles()}
    return sorted(keys, key=lambda k: items[k]["published_at"], reverse=True)


def test_walk_all_pages_newest_first(client: TestClient, corpus) -> None:
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 5, **({"cursor": cursor} if cursor else {})}
        response = client.get("/articles", params=params)
        assert response.status_code == 200
        body = response.json()
        seen += [item["id"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 9  # 42 articles, 5 a page
    keys = {v: k for k, v in corpus.items()}
    assert [keys[i] for i in seen] == _newest_first(list(corpus))


def test_filters_and_full_text(client: TestClient, corpus) -> None:
    keys = {v: k for k, v in corpus.items()}
    body = client.get(
        "/articles", params={"source": "alpha", "since": "2026-10-10", "until": "2026-10-31"}
    ).json()
    expected = [
        a["key"] for a in search_corpus.articles()
        if a["source"] == "alpha" and "2026-10-10" <= a["published_at"][:10] <= "2026-10-31"
    ]  # fmt: skip
    assert [keys[i["id"]] for i in body["items"]] == _newest_first(expected)
    assert {i["source"] for i in body["items"]} == {"alpha"}
    found = client.get("/articles", params={"q": "مستشفى"}).json()["items"]
    assert [keys[i["id"]] for i in found] == _newest_first(["s05", "s06", "s32"])


def test_article_with_its_copies_and_errors(client: TestClient, corpus) -> None:
    article = client.get(f"/articles/{corpus['s01']}").json()
    assert article["title"] == "استئناف والمفاوضات السورية في جنيف"
    assert "جنيف" in article["body"]
    assert {(d["source"], d["kind"]) for d in article["duplicates"]} == {
        ("beta", "near"),
        ("gamma", "exact"),
    }
    assert client.get(f"/articles/{corpus['s02']}").json()["duplicates"] == []
    assert client.get("/articles/999999").status_code == 404
    assert client.get("/articles", params={"cursor": "not-a-cursor"}).status_code == 400
    assert client.get("/articles", params={"since": "yesterday"}).status_code == 422
    assert client.get("/articles", params={"limit": 0}).status_code == 422


def test_search_pages_sources_runs_and_docs(client: TestClient, corpus) -> None:
    first = client.get("/search", params={"q": "وزير", "limit": 3}).json()
    assert len(first["items"]) == 3 and first["next_cursor"]
    second = client.get("/search", params={"q": "وزير", "limit": 3, "cursor": first["next_cursor"]})
    ids = [i["id"] for i in first["items"]] + [i["id"] for i in second.json()["items"]]
    assert len(ids) == len(set(ids))
    ranks = [i["rank"] for i in first["items"]] + [i["rank"] for i in second.json()["items"]]
    assert ranks == sorted(ranks, reverse=True)
    hit = client.get("/search", params={"q": "مفاوضات", "source": "alpha"}).json()["items"]
    assert [h["id"] for h in hit] == [corpus["s01"]] and "<b>" in hit[0]["snippet"]

    assert [s["name"] for s in client.get("/sources").json()] == ["alpha", "beta", "gamma"]
    runs = client.get("/runs", params={"limit": 2}).json()
    assert len(runs["items"]) == 2 and runs["next_cursor"]
    rest = client.get("/runs", params={"cursor": runs["next_cursor"]}).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert client.get("/runs", params={"source": "beta"}).json()["items"][0]["source"] == "beta"

    health = client.get("/health").json()
    # The revision the database is at, which the tests' template database has at head.
    head = migrate.head_revision("postgresql+psycopg://unused")
    assert head is not None and head >= "0003"
    assert (health["status"], health["schema_revision"]) == ("ok", head)
    assert "/articles/{article_id}" in client.get("/openapi.json").json()["paths"]
    assert "swagger" in client.get("/docs").text.lower()


def test_serve_under_uvicorn_as_the_reader_role(database_url: str, corpus) -> None:
    create_reader(database_url, password="reader-pw")
    reader = (
        make_url(database_url)
        .set(username=DEFAULT_ROLE, password="reader-pw")
        .render_as_string(hide_password=False)
    )
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "AKHBAR_READER_URL": reader}
    server = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"{base}/health", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read().decode()
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert response.status_code == 200
        assert response.json()["role"] == DEFAULT_ROLE  # it really reads as the reader
        body = httpx.get(f"{base}/articles", params={"limit": 50}, timeout=10).json()
        assert len(body["items"]) == len(corpus)
        found = httpx.get(f"{base}/search", params={"q": "والمنتخب"}, timeout=10).json()
        assert {i["id"] for i in found["items"]} == {corpus["s14"], corpus["s42"]}
    finally:
        server.terminate()
        server.wait(timeout=20)


def _cursor(payload: object) -> str:
    import base64
    import json

    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


# Every row: a request a client could craft, and the 4xx it must get (never a 5xx).
BAD_REQUESTS = [
    ("/articles", {"until": "9999-12-31"}, 200),  # the end of time is a valid bound
    ("/articles", {"since": "0001-01-01", "until": "9999-12-31T23:59:59"}, 200),
    ("/articles", {"since": "3d", "until": "12h"}, 200),  # the CLI's grammar
    ("/articles", {"since": "2024-05-01T08:30:00Z"}, 200),
    ("/articles", {"since": "3w"}, 422),
    ("/articles", {"since": "999999d"}, 422),
    ("/articles", {"until": "2024-13-01"}, 422),
    ("/articles", {"cursor": _cursor({"p": 5, "i": 1})}, 400),
    ("/articles", {"cursor": _cursor({"p": "2024-01-01"})}, 400),
    ("/articles", {"cursor": _cursor({"p": "2024-01-01", "i": 10**30})}, 400),
    ("/articles", {"cursor": _cursor({"p": None, "i": "x"})}, 400),
    ("/articles", {"cursor": _cursor({"p": "tomorrow", "i": 3})}, 400),
    ("/articles", {"cursor": _cursor([1, 2])}, 400),
    ("/articles", {"cursor": "%%%"}, 400),
    ("/articles", {"source": "nosuch"}, 422),
    ("/articles", {"limit": 10**30}, 422),
    ("/articles/99999999999999999999", {}, 422),
    ("/articles/0", {}, 422),
    ("/articles/-1", {}, 422),
    ("/articles/abc", {}, 422),
    ("/search", {"q": "وزير", "cursor": _cursor({"o": -5})}, 400),
    ("/search", {"q": "وزير", "cursor": _cursor({"o": 10**30})}, 400),
    ("/search", {"q": "وزير", "cursor": _cursor({"o": 2**63 - 1})}, 400),
    ("/search", {"q": "وزير", "cursor": _cursor({"o": "5"})}, 400),
    ("/search", {"q": "وزير", "until": "9999-12-31"}, 200),
    ("/search", {"q": "وزير", "source": "nosuch"}, 422),
    ("/search", {"q": ""}, 422),
    ("/runs", {"status": "bogus"}, 422),
    ("/runs", {"source": "nosuch"}, 422),
    ("/runs", {"cursor": _cursor({"i": 10**30})}, 400),
    ("/runs", {"cursor": _cursor({"i": True})}, 400),
    ("/runs", {"cursor": _cursor({})}, 400),
]


@pytest.mark.parametrize(("path", "params", "status"), BAD_REQUESTS)
def test_bad_parameters_are_4xx_with_a_json_message(
    client: TestClient, path: str, params: dict, status: int
) -> None:
    response = client.get(path, params=params)
    assert response.status_code == status, response.text
    if status != 200:
        assert response.json()["detail"], response.text


def test_fuzzed_cursors_and_bounds_never_give_5xx(client: TestClient) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**30), max_value=10**30),
        st.floats(allow_nan=True),
        st.text(max_size=30),
        st.datetimes().map(lambda d: d.isoformat()),
    )
    payloads = st.dictionaries(st.sampled_from(["p", "i", "o", "x"]), scalars, max_size=3)
    bounds = st.one_of(st.none(), st.text(max_size=25), st.dates().map(str))

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(payload=payloads, since=bounds, until=bounds, path=st.sampled_from(["a", "s", "r"]))
    def check(payload: dict, since: str | None, until: str | None, path: str) -> None:
        params: dict = {"cursor": _cursor(payload)}
        if since is not None:
            params["since"] = since
        if until is not None:
            params["until"] = until
        url = {"a": "/articles", "s": "/search", "r": "/runs"}[path]
        if path == "s":
            params["q"] = "وزير"
        response = client.get(url, params=params)
        assert response.status_code < 500, (url, params, response.text)

    check()


def test_runs_status_filter(client: TestClient, database_url: str) -> None:
    from tests.crawl_helpers import query

    query(
        database_url,
        "INSERT INTO crawl_runs (source_id, spider, status) "
        "SELECT id, name, 'failed' FROM sources WHERE name = 'beta'",
    )
    failed = client.get("/runs", params={"status": "failed"}).json()["items"]
    assert [(r["source"], r["status"]) for r in failed] == [("beta", "failed")]
    finished = client.get("/runs", params={"status": "finished"}).json()["items"]
    assert {r["status"] for r in finished} == {"finished"} and len(finished) == 3
    message = client.get("/runs", params={"status": "bogus"}).text
    assert "finished" in message and "interrupted" in message  # the valid values are listed


def test_dead_database_is_503_json(database_url: str) -> None:
    dead = f"postgresql+psycopg://akhbar@127.0.0.1:{free_port()}/news"
    with TestClient(create_app(dead)) as dead_client:
        for path in ("/articles", "/runs", "/health", "/articles/1"):
            response = dead_client.get(path)
            assert response.status_code == 503, (path, response.text)
            assert "unavailable" in response.json()["detail"]


def test_unmigrated_database_is_503_json(empty_database_url: str) -> None:
    with TestClient(create_app(empty_database_url)) as bare:
        response = bare.get("/articles")
        assert response.status_code == 503
        assert "akhbar db upgrade" in response.json()["detail"]


def test_docs_are_served_without_a_cdn(client: TestClient) -> None:
    import re

    page = client.get("/docs").text
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page)
    scripts = [a for a in assets if a.endswith((".js", ".css"))]
    assert scripts and all(a.startswith("/") for a in scripts), assets  # no http(s)://
    for asset in scripts:
        response = client.get(asset)
        assert response.status_code == 200 and len(response.content) > 1000, asset
    redoc = client.get("/redoc").text
    assert "cdn." not in redoc and "googleapis" not in redoc


def test_endpoints_are_functions_a_test_can_call(database_url: str, corpus) -> None:
    """The endpoints of api/routes.py called directly with a connection, without an app or
    HTTP: the same answers, and bad input raises the HTTPException the client would get."""
    from fastapi import HTTPException
    from sqlalchemy import create_engine

    from api import routes

    keys = {v: k for k, v in corpus.items()}
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            page = routes.list_articles(conn, source="alpha", limit=50)
            expected = [a["key"] for a in search_corpus.articles() if a["source"] == "alpha"]
            assert [keys[item["id"]] for item in page.items] == _newest_first(expected)
            assert page.next_cursor is None
            found = routes.search(conn, q="مستشفى", limit=10)
            assert {keys[hit["id"]] for hit in found["items"]} == {"s05", "s06", "s32"}
            with pytest.raises(HTTPException) as unknown:
                routes.list_articles(conn, source="nowhere")
            assert unknown.value.status_code == 422
            assert "known sources: alpha" in unknown.value.detail
            with pytest.raises(HTTPException) as missing:
                routes.get_article(conn, article_id=2**40)
            assert missing.value.status_code == 404
    finally:
        engine.dispose()
