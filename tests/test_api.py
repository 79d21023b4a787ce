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

from akhbar.commands.roles import DEFAULT_ROLE, create_reader
from api.app import create_app
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
        [sys.executable, "-m", "akhbar.cli", "serve", "--port", str(port)],
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
