"""The bundled sample sites, served for real on 127.0.0.x by akhbar.samples.SampleSites."""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import time
import tomllib
import urllib.error
import urllib.request
import urllib.robotparser
import xml.etree.ElementTree as ET
from collections import defaultdict
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from akhbar.samples import DEFAULT_SAMPLES_DIR, SampleSites, load_truth, read_page

TRUTH = json.loads((DEFAULT_SAMPLES_DIR / "truth.json").read_text(encoding="utf-8"))
with (DEFAULT_SAMPLES_DIR / "sources.toml").open("rb") as fh:
    REGISTRY = {s["name"]: s for s in tomllib.load(fh)["sources"]}


@pytest.fixture(scope="module")
def sites():
    s = SampleSites(port=0).start()
    yield s
    s.stop()


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)  # also html.unescape()s the text
        self.text: list[str] = []
        self.links: list[str] = []
        self.next: list[str] = []
        self.meta_charset: str | None = None
        self._skip = 0
        self._in_a: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "style"):
            self._skip += 1
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
            self._in_a = a["href"]
        if tag == "link" and a.get("rel") == "next":
            self.next.append(a["href"])
        if tag == "meta" and "charset" in a:
            self.meta_charset = a["charset"]

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1
        if tag == "a":
            self._in_a = None

    def handle_data(self, data):
        if self._skip:
            return
        self.text.append(data)
        if self._in_a and data.strip() == "التالي":
            self.next.append(self._in_a)


def parse(html_text: str) -> _Page:
    p = _Page()
    p.feed(html_text)
    return p


def norm(s: str) -> str:
    return re.sub(r"\s+", " ", s.replace("\xa0", " ")).strip()


def decode(body: bytes, encoding: str) -> str:
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    return body.decode(encoding)


def expand(site: SampleSites, name: str, template: str) -> str:
    return template.replace("{base}", site.base_url(name))


# ---------------------------------------------------------------------------------------
def test_every_site_serves_robots_on_its_own_address(sites):
    assert len(sites.names) >= 8
    hosts = set()
    for name in sites.names:
        base = sites.base_url(name)
        host = urlsplit(base).hostname
        assert [host] == REGISTRY[name]["domains"]
        hosts.add(host)
        status, headers, body = fetch(base + "/robots.txt")
        assert status == 200 and headers["Content-Type"].startswith("text/plain")
        text = body.decode()
        assert "Disallow: /search" in text
        sitemap = re.search(r"^Sitemap: (\S+)$", text, re.M).group(1)
        assert sitemap.startswith(base + "/")
        assert fetch(sitemap)[0] == 200
    assert len(hosts) == len(sites.names)  # one loopback address per site


def test_robots_disallows_the_search_page_the_site_links_to(sites):
    for name in sites.names:
        base = sites.base_url(name)
        rp = urllib.robotparser.RobotFileParser(base + "/robots.txt")
        rp.parse(fetch(base + "/robots.txt")[2].decode().splitlines())
        home = parse(fetch(base + "/")[2].decode())
        search_links = [urljoin(base + "/", h) for h in home.links if "/search" in h]
        assert search_links, name
        assert all(fetch(u)[0] == 200 for u in search_links)  # the page exists...
        assert not any(rp.can_fetch("akhbar", u) for u in search_links)  # ...but is disallowed
        article = next(k for k, t in TRUTH.items() if t["source"] == name and t["is_article"])
        assert rp.can_fetch("akhbar", base + TRUTH[article]["url_path"])


def test_placeholder_is_replaced_with_the_site_address(sites):
    status, _, body = fetch(sites.url("aljazeera", "/sitemap.xml"))
    assert status == 200
    assert b"{{BASE}}" not in body
    assert sites.base_url("aljazeera").encode() + b"/sitemaps/news-sitemap.xml" in body


def _discover(sites: SampleSites, name: str) -> tuple[set[str], set[str]]:
    """Follow the registry's discovery paths; return (article URLs, every URL seen)."""
    src = REGISTRY[name]
    art_re = [re.compile(p) for p in src["article_url_patterns"]]
    list_re = [re.compile(p) for p in src["listing_url_patterns"]]
    articles: set[str] = set()
    seen: set[str] = set()

    def visit(url: str) -> bytes:
        status, _, body = fetch(url)
        assert status == 200, url
        seen.add(url)
        return body

    def add(url: str) -> None:
        seen.add(url)
        if any(r.search(urlsplit(url).path) for r in art_re):
            articles.add(url)

    todo = [expand(sites, name, u) for u in src["sitemaps"]]
    while todo:
        root = ET.fromstring(visit(todo.pop()))
        locs = [el.text.strip() for el in root.iter() if el.tag.endswith("}loc")]
        if root.tag.endswith("sitemapindex"):
            todo.extend(locs)
        else:
            for loc in locs:
                add(loc)
    for feed in src["feeds"]:
        root = ET.fromstring(visit(expand(sites, name, feed)))
        for el in root.iter():
            if el.tag == "link" and el.text:  # RSS
                add(el.text.strip())
            elif el.tag.endswith("}link") and el.get("rel") == "alternate":  # Atom
                add(el.get("href"))
    pages = [expand(sites, name, u) for u in src["listings"]]
    done: set[str] = set()
    while pages:
        url = pages.pop()
        if url in done:
            continue
        done.add(url)
        page = parse(visit(url).decode())
        for href in page.links + page.next:
            absolute = urljoin(url, href)
            if urlsplit(absolute).hostname != urlsplit(url).hostname:
                continue
            path = urlsplit(absolute).path
            if any(r.search(path) for r in list_re):
                pages.append(absolute)
            elif any(r.search(path) for r in art_re):
                add(absolute)
    return articles, seen


def test_discovery_paths_reach_every_article_and_every_url_resolves(sites):
    for name in sites.names:
        articles, seen = _discover(sites, name)
        base = sites.base_url(name)
        expected = {
            base + t["url_path"] for t in TRUTH.values() if t["source"] == name and t["is_article"]
        }
        assert articles == expected, name
        for url in seen:
            assert fetch(url)[0] == 200, url


def test_discovery_paths_are_spread_across_sites():
    only = defaultdict(list)
    for name, src in REGISTRY.items():
        kinds = tuple(k for k in ("sitemaps", "feeds", "listings") if src[k])
        only[kinds].append(name)
    assert only[("sitemaps",)] and only[("feeds",)] and only[("listings",)]
    assert sum(len(v) for k, v in only.items() if len(k) > 1) >= 4


def test_listing_pagination_uses_rel_next_and_the_arabic_next_link(sites):
    first = parse(fetch(sites.url("eremnews", "/news/world"))[2].decode())
    assert any(n.endswith("/news/world/page/2") for n in first.next)
    status, _, body = fetch(sites.url("annahar", "/arabic/section/world"))
    assert status == 200
    assert b'rel="next"' not in body  # only the «التالي» text link
    assert any(n.endswith("/arabic/section/world/page/2") for n in parse(body.decode()).next)


def test_windows_1256_page_declared_only_by_meta(sites):
    [(key, t)] = [
        (k, t)
        for k, t in TRUTH.items()
        if t["encoding"] == "windows-1256" and t["source"] == "syriandays"
    ]
    status, headers, body = fetch(sites.url("syriandays", t["url_path"]))
    assert status == 200
    assert headers["Content-Type"] == "text/html"  # no charset in HTTP
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    text = body.decode("cp1256")
    assert parse(text).meta_charset == "windows-1256"
    assert t["title"] in text
    assert norm(t["paragraphs"][0]) in norm("".join(parse(text).text))


def test_page_with_charset_only_in_http_header(sites):
    [t] = [t for t in TRUTH.values() if t["source"] == "alittihad" and t["encoding"] != "utf-8"]
    _, headers, body = fetch(sites.url("alittihad", t["url_path"]))
    assert headers["Content-Type"] == "text/html; charset=windows-1256"
    page = parse(body.decode("cp1256"))
    assert page.meta_charset is None and b"charset" not in body
    assert norm(t["title"]) in norm("".join(page.text))


def test_utf8_bom_page(sites):
    [t] = [t for t in TRUTH.values() if t["bom"]]
    _, _, body = fetch(sites.url(t["source"], t["url_path"]))
    assert body.startswith(b"\xef\xbb\xbf<!doctype html>")


def test_every_truth_page_is_served_with_its_text(sites):
    assert sum(t["is_article"] for t in TRUTH.values()) >= 45
    for key, t in TRUTH.items():
        assert key == t["source"] + t["url_path"]
        status, headers, body = fetch(sites.url(t["source"], t["url_path"]))
        assert status == 200, key
        assert headers["Content-Type"].startswith("text/html"), key
        assert b"{{BASE}}" not in body
        page = parse(decode(body, t["encoding"]))
        text = norm("".join(page.text))
        assert norm(t["title"]) in text, key
        for para in t["paragraphs"]:
            assert norm(para) in text, (key, para[:50])
        for b in t["boilerplate"]:
            assert norm(b) in text, (key, b)
            assert all(norm(b) not in norm(p) for p in t["paragraphs"]), (key, b)


def test_truth_groups_story_copies_and_same_event_reports():
    stories, events = defaultdict(list), defaultdict(list)
    for t in TRUTH.values():
        if t["story"]:
            stories[t["story"]].append(t)
        if t["same_event"]:
            events[t["same_event"]].append(t)
    wire = max(stories.values(), key=len)
    assert len({t["source"] for t in wire}) == 3
    assert len({tuple(t["paragraphs"]) for t in wire}) == 3  # edited copies, not identical
    exact = [g for g in stories.values() if len({tuple(t["paragraphs"]) for t in g}) == 1]
    assert exact and len({t["source"] for t in exact[0]}) == 2
    assert len(events) >= 2 and all(len(g) == 2 for g in events.values())
    for g in events.values():  # independent reports: different text, never one story
        assert g[0]["story"] is None and g[0]["paragraphs"] != g[1]["paragraphs"]


def test_old_table_layout_pages_carry_their_furniture(sites):
    """The syriandays pages in the older template hold what single-page extraction must
    drop: a top bar with the render date and the site's links, a poll with radio buttons,
    a comment-policy notice, named readers' comments, and a byline slot that is a section
    label or a dateline; one of them also names a reporter."""
    old = {k: t for k, t in TRUTH.items() if t.get("old_layout")}
    assert len(old) >= 3 and all(t["is_article"] for t in old.values())
    slots = set()
    for key, t in old.items():
        _status, _headers, body = fetch(sites.url(t["source"], t["url_path"]))
        html = body.decode("utf-8")
        assert html.count("<table") >= 5, key
        assert "من نحن</a> | <a" in html and "أعلن معنا" in html, key
        assert html.count('type="radio"') >= 2 and "؟" in html, key
        assert "لا تعبر عن رأي الموقع" in html, key
        slots.add(re.search(r'<span class="writer">(.*?)</span>', html).group(1))
        # Commenters' names are listed as boilerplate, never as the author.
        assert t["author"] not in t["boilerplate"]
    assert any("/category/" in s for s in slots)  # the section label in the author slot
    assert "لندن: «الشرق الأوسط»" in slots
    assert any(t["author"] for t in old.values()) and any(not t["author"] for t in old.values())


def test_truth_dates_carry_the_site_offset():
    assert TRUTH["syriandays/news/details/40123.html"]["published"] == "2016-03-24T05:45:17+02:00"
    assert (
        TRUTH["alittihad/article/7589/2017/moscow-washington-terrorism-syria"]["published"]
        == "2017-04-13T10:48:00+04:00"
    )
    for t in TRUTH.values():
        if t["is_article"]:
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", t["published"])
        else:
            assert t["published"] is None and t["paragraphs"] == []


def test_missing_page_is_a_small_html_404(sites):
    status, headers, body = fetch(sites.url("shaam", "/no/such/page.html"))
    assert status == 404 and headers["Content-Type"].startswith("text/html")
    assert b"404" in body and len(body) < 1000


def test_requests_are_logged(sites):
    fetch(sites.url("sana", "/ar/feed.rss"))
    assert ("sana", "/ar/feed.rss") in sites.request_log


def test_read_page_matches_what_is_served(sites):
    key = "aljazeera/news/2016/3/24/%D9%83%D9%8A%D8%B1%D9%8A-%D9%88%D9%84%D8%A7%D9%81%D8%B1%D9%88%D9%81-%D9%8A%D8%AB%D9%86%D9%8A%D8%A7%D9%86-%D8%B9%D9%84%D9%89-%D9%86%D8%AC%D8%A7%D8%AD-%D8%AA%D8%B9%D8%A7%D9%88%D9%86%D9%87%D9%85%D8%A7"
    assert load_truth()[key]["is_article"]
    path = TRUTH[key]["url_path"]
    served = fetch(sites.url("aljazeera", path))[2]
    assert read_page("aljazeera", path, sites.base_url("aljazeera")) == served
    with pytest.raises(FileNotFoundError):
        read_page("aljazeera", "/../../sources.toml", "http://x")


def test_stop_closes_every_port_and_keep_alive_connection():
    s = SampleSites().start()
    port = s.port
    hosts = [s.host(n) for n in s.names]
    conn = http.client.HTTPConnection(hosts[0], port, timeout=5)  # keep-alive, left open
    conn.request("GET", "/robots.txt")
    assert conn.getresponse().read()
    s.stop()
    time.sleep(0.2)
    assert not [t for t in threading.enumerate() if "process_request" in t.name]
    conn.close()
    for host in hosts:
        with pytest.raises(OSError), socket.create_connection((host, port), timeout=1):
            pass
