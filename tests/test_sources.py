"""The source registry: the real sources.toml, and helpful errors for broken ones."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from akhbar.sources import (
    DEFAULT_REGISTRY,
    Source,
    SourceRegistryError,
    get_source,
    load_sources,
)

SEED_SITES = ["syriandays", "eremnews", "alittihad", "aljazeera", "shaam"]
OTHERS = [
    "alarabiya",
    "bbc_arabic",
    "skynewsarabia",
    "aawsat",
    "youm7",
    "masrawy",
    "ahram",
    "alquds",
    "annahar",
    "rt_arabic",
    "france24_ar",
    "cnn_arabic",
    "independent_arabia",
    "sana",
    "hespress",
]


@pytest.fixture(scope="module")
def registry() -> dict[str, Source]:
    return load_sources(DEFAULT_REGISTRY)


# --------------------------------------------------------------------------------------
# The real registry
# --------------------------------------------------------------------------------------


def test_real_registry_loads_with_every_expected_source(registry):
    assert len(registry) >= 15
    assert set(SEED_SITES + OTHERS) <= set(registry)
    # Names are unique in the file itself, not only in the dict we build from it.
    names = [s["name"] for s in tomllib.loads(DEFAULT_REGISTRY.read_text("utf-8"))["sources"]]
    assert len(names) == len(set(names)) == len(registry)


def test_real_registry_entries_are_sane(registry):
    for name, src in registry.items():
        assert re.fullmatch(r"[a-z0-9_]+", name)
        assert src.name == name and src.title
        assert isinstance(src.tzinfo, ZoneInfo)
        assert src.language == "ar"
        assert src.verified is False, f"{name}: nothing was checked against the live site"
        assert src.notes, f"{name}: say how sure the URLs are"
        assert src.start_urls, name
        assert all(isinstance(p, re.Pattern) for p in src.article_url_patterns)
        assert all(isinstance(p, re.Pattern) for p in src.listing_url_patterns)
        for url in src.start_urls:
            assert "{base}" not in url and "$" not in url
            # Every discovery URL must be on a followed host, or the offsite filter drops it.
            assert src.allows(url), (name, url)
            # And discovery URLs are not themselves taken for articles.
            assert not src.is_article_url(url), (name, url)


def test_real_registry_time_zones(registry):
    expected = {
        "syriandays": "Asia/Damascus",
        "shaam": "Asia/Damascus",
        "sana": "Asia/Damascus",
        "alittihad": "Asia/Dubai",
        "eremnews": "Asia/Dubai",
        "aljazeera": "Asia/Qatar",
        "youm7": "Africa/Cairo",
        "masrawy": "Africa/Cairo",
        "ahram": "Africa/Cairo",
        "annahar": "Asia/Beirut",
        "hespress": "Africa/Casablanca",
        "bbc_arabic": "Europe/London",
    }
    assert {k: registry[k].timezone for k in expected} == expected


ARTICLE_EXAMPLES = {
    "syriandays": (
        [
            "https://www.syriandays.com/index.php?page=show_det&category_id=6&id=42345",
            "http://syriandays.com/?page=show_det&id=12&category_id=1",
        ],
        [
            "https://www.syriandays.com/index.php?page=show&select_page=52",
            "https://www.syriandays.com/",
        ],
    ),
    "eremnews": (
        [
            "https://www.eremnews.com/news/world/1736542",
            "https://www.eremnews.com/news/arab-world/syria/1736542",
            "https://www.eremnews.com/stories/2022/10/19/%D9%85%D8%B5%D8%B1-10/",
        ],
        ["https://www.eremnews.com/news/world", "https://www.eremnews.com/sports"],
    ),
    "alittihad": (
        [
            "https://www.alittihad.ae/news/%D8%A7%D9%84%D8%B9%D8%A7%D9%84%D9%85/4110519/slug",
            "http://www.alittihad.ae/details.php?id=18566&y=2017",
        ],
        ["https://www.alittihad.ae/", "https://www.alittihad.ae/section/26"],
    ),
    "aljazeera": (
        [
            "https://www.aljazeera.net/news/2016/3/24/%D9%83%D9%8A%D8%B1%D9%8A",
            "https://www.aljazeera.net/politics/2024/1/5/slug",
            "https://www.aljazeera.net/news/arabic/2016/3/24/slug",
        ],
        [
            "https://www.aljazeera.net/news/",
            "https://www.aljazeera.com/news/2016/3/24/slug",  # the English site's host
            "https://www.aljazeera.net/where/mideast/",
        ],
    ),
    "shaam": (
        [
            "https://shaam.org/news/syria-news/%D9%84%D8%A7%D9%81%D8%B1%D9%88%D9%81-%D8%B1%D9%88%D8%B3%D9%8A%D8%A7",
            "https://www.shaam.org/business/%D8%AA%D9%82%D8%B1%D9%8A%D8%B1-%D8%B4%D8%A7%D9%85",
        ],
        ["https://shaam.org/news/syria-news", "https://shaam.org/"],
    ),
    "youm7": (
        ["https://www.youm7.com/story/2016/3/24/slug/2645123"],
        ["https://www.youm7.com/Section/أخبار-عاجلة/65/1"],
    ),
    "bbc_arabic": (
        [
            "https://www.bbc.com/arabic/articles/c4nn2k3y8xlo",
            "https://www.bbc.com/arabic/middleeast-35890123",
        ],
        ["https://www.bbc.com/news/articles/c4nn2k3y8xlo", "https://www.bbc.com/arabic"],
    ),
    "hespress": (
        ["https://www.hespress.com/%D8%B3%D9%84%D8%A7%D9%85-1234567.html"],
        ["https://www.hespress.com/politique"],
    ),
    "alquds": (
        [
            "https://www.alquds.co.uk/%D9%83%D9%8A%D8%B1%D9%8A-%D9%88%D9%84%D8%A7%D9%81%D8%B1%D9%88%D9%81/"
        ],
        ["https://www.alquds.co.uk/category/news/", "https://www.alquds.co.uk/tag/x/"],
    ),
}


@pytest.mark.parametrize("name", sorted(ARTICLE_EXAMPLES))
def test_is_article_url_examples(registry, name):
    yes, no = ARTICLE_EXAMPLES[name]
    src = registry[name]
    for url in yes:
        assert src.is_article_url(url), url
    for url in no:
        assert not src.is_article_url(url), url


def test_listing_urls_and_allows(registry):
    aj = registry["aljazeera"]
    assert aj.is_listing_url("https://www.aljazeera.net/news/")
    assert aj.is_listing_url("https://www.aljazeera.net/news")  # trailing slash ignored
    assert aj.is_listing_url("https://www.aljazeera.net/news/page/3")
    assert not aj.is_listing_url("https://www.aljazeera.net/news/2016/3/24/slug")
    assert not aj.is_listing_url("https://example.com/news/page/3")
    assert aj.allows("https://WWW.AlJazeera.net:443/x")
    assert not aj.allows("https://evil.example/www.aljazeera.net")
    assert not aj.allows("not a url")
    assert registry["syriandays"].is_listing_url(
        "https://www.syriandays.com/index.php?page=show&select_page=7"
    )


def test_get_source(registry):
    assert get_source("aljazeera", DEFAULT_REGISTRY) == registry["aljazeera"]
    with pytest.raises(SourceRegistryError) as err:
        get_source("jazeera", DEFAULT_REGISTRY)
    msg = str(err.value)
    assert "'jazeera'" in msg and "aljazeera" in msg and "youm7" in msg


# --------------------------------------------------------------------------------------
# Small registries written for the test: env, {base}, errors
# --------------------------------------------------------------------------------------

GOOD = """
[[sources]]
name = "local_site"
title = "موقع محلي"
base_url = "http://${AKHBAR_TEST_HOST}:${AKHBAR_TEST_PORT}/"
domains = ["{base}", "cdn.example.org"]
timezone = "Asia/Damascus"
sitemaps = ["{base}/sitemap.xml"]
feeds = ["{base}/rss.xml"]
listings = ["{base}/news/"]
article_url_patterns = ['/news/\\d{4}/\\d{1,2}/\\d{1,2}/']
listing_url_patterns = ['/news/page/\\d+']
notes = "local"
"""


def write(tmp_path: Path, text: str, name: str = "sources.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_env_expansion_and_base_substitution(tmp_path, monkeypatch):
    monkeypatch.setenv("AKHBAR_TEST_HOST", "127.0.0.11")
    monkeypatch.setenv("AKHBAR_TEST_PORT", "8765")
    src = load_sources(write(tmp_path, GOOD))["local_site"]
    assert src.base_url == "http://127.0.0.11:8765"
    assert src.sitemaps == ("http://127.0.0.11:8765/sitemap.xml",)
    assert src.feeds == ("http://127.0.0.11:8765/rss.xml",)
    assert src.listings == ("http://127.0.0.11:8765/news/",)
    assert src.domains == ("127.0.0.11", "cdn.example.org")
    assert src.language == "ar" and src.verified is False
    assert src.is_article_url("http://127.0.0.11:8765/news/2016/3/24/slug.html")
    assert not src.is_article_url("http://127.0.0.12:8765/news/2016/3/24/slug.html")
    assert src.is_listing_url("http://127.0.0.11:8765/news/page/2")


def test_akhbar_sources_env_var_selects_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("AKHBAR_TEST_HOST", "127.0.0.11")
    monkeypatch.setenv("AKHBAR_TEST_PORT", "80")
    path = write(tmp_path, GOOD, "other.toml")
    monkeypatch.setenv("AKHBAR_SOURCES", str(path))
    assert list(load_sources()) == ["local_site"]
    assert get_source("local_site").base_url == "http://127.0.0.11:80"
    monkeypatch.delenv("AKHBAR_SOURCES")
    assert "aljazeera" in load_sources()  # back to the repository's registry


def test_unset_env_var_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("AKHBAR_TEST_HOST", "127.0.0.11")
    monkeypatch.delenv("AKHBAR_TEST_PORT", raising=False)
    with pytest.raises(SourceRegistryError, match=r"AKHBAR_TEST_PORT.*not set"):
        load_sources(write(tmp_path, GOOD))


def test_missing_file_names_path_and_env_var(tmp_path):
    missing = tmp_path / "nowhere" / "sources.toml"
    with pytest.raises(SourceRegistryError) as err:
        load_sources(missing)
    assert str(missing) in str(err.value) and "AKHBAR_SOURCES" in str(err.value)


def test_toml_syntax_error_gives_line(tmp_path):
    bad = '[[sources]]\nname = "a"\ntitle = "b\nbase_url = "http://x"\n'
    with pytest.raises(SourceRegistryError, match=r"syntax error.*line 3"):
        load_sources(write(tmp_path, bad))


def entry(**fields) -> str:
    base = {
        "name": '"site_a"',
        "title": '"موقع"',
        "base_url": '"https://a.example"',
        "domains": '["a.example"]',
        "timezone": '"Asia/Beirut"',
        "feeds": '["{base}/feed"]',
        "article_url_patterns": "['/\\d+\\.html$']",
    }
    base.update(fields)
    lines = [f"{k} = {v}" for k, v in base.items() if v is not None]
    return "[[sources]]\n" + "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        (entry() + entry(), r"duplicate source name 'site_a'"),
        (entry(title=None, domains=None), r"'site_a'.*missing required field\(s\): title, domains"),
        (
            entry(article_url_patterns="['/news/(\\d+']"),
            r"bad regex in article_url_patterns: '/news/\(.*missing \)",
        ),
        (entry(timezone='"Asia/Atlantis"'), r"unknown time zone 'Asia/Atlantis'"),
        (entry(name='"Al-Jazeera"'), r"'Al-Jazeera' is not a valid spider name.*\[a-z0-9_\]\+"),
        (entry(name='"site a"'), r"not a valid spider name"),
        (entry(feed='["x"]'), r"unknown field\(s\): feed"),
        (entry(feeds=None), r"no discovery URL"),
        (entry(base_url='"a.example"'), r"base_url 'a.example' is not an http\(s\) URL"),
        (entry(domains='["https://a.example/"]'), r"must be a bare host name"),
        (entry(domains="[]"), r"domains is empty"),
        (entry(verified='"yes"'), r"verified must be true or false"),
        (entry(article_url_patterns="[]"), r"article_url_patterns is empty"),
        (entry(listings="[1, 2]"), r"listings must be a list of strings"),
        ('title = "no tables"\n', r"no \[\[sources\]\] tables"),
    ],
    ids=[
        "duplicate",
        "missing",
        "bad-regex",
        "bad-tz",
        "bad-name",
        "name-with-space",
        "unknown-field",
        "no-discovery",
        "bad-base",
        "bad-domain",
        "empty-domains",
        "bad-verified",
        "no-patterns",
        "bad-list",
        "no-sources",
    ],
)
def test_bad_registries(tmp_path, text, pattern):
    path = write(tmp_path, text)
    with pytest.raises(SourceRegistryError, match=pattern) as err:
        load_sources(path)
    assert str(path) in str(err.value)


def test_a_valid_minimal_entry_loads(tmp_path):
    src = load_sources(write(tmp_path, entry()))["site_a"]
    assert src.feeds == ("https://a.example/feed",)
    assert src.is_article_url("https://a.example/news/123.html")
    assert not src.is_article_url("https://b.example/news/123.html")


def test_every_error_of_a_registry_is_reported_at_once(tmp_path):
    text = (
        entry(timezone='"Asia/Atlantis"', article_url_patterns="['/news/[a-z-]+/(\\d+']")
        + entry(name='"site_b"', domains="[]", feeds=None)
        + entry()  # a duplicate of the first name
    )
    with pytest.raises(SourceRegistryError) as err:
        load_sources(write(tmp_path, text))
    errors = err.value.errors
    assert any("unknown time zone 'Asia/Atlantis'" in e for e in errors)
    assert any("bad regex in article_url_patterns: '/news/[a-z-]+/(\\\\d+'" in e for e in errors)
    assert any("'site_b'" in e and "domains is empty" in e for e in errors)
    assert any("'site_b'" in e and "no discovery URL" in e for e in errors)
    assert any("duplicate source name 'site_a' (source #3" in e for e in errors)
    assert len(errors) == 5, errors
    assert str(err.value) == "\n".join(errors)


# --------------------------------------------------------------------------------------
# akhbar sources check: a preview against the sample sites that stores nothing
# --------------------------------------------------------------------------------------


def test_sources_check_previews_a_sample_source_and_writes_nothing(
    database_url, subprocess_env, tmp_path
):
    import json

    from akhbar.samples import DEFAULT_SAMPLES_DIR, SampleSites
    from tests.crawl_helpers import akhbar, query

    registry = DEFAULT_SAMPLES_DIR / "sources.toml"
    # The same site with a pattern that matches none of its URLs.
    broken = tmp_path / "broken.toml"
    original = registry.read_text(encoding="utf-8")
    block = original[original.index('name = "eremnews"') :].split("[[sources]]")[0]
    broken.write_text(
        "[[sources]]\n"
        + block.replace(
            "article_url_patterns = ['/(news|economy|sports|health)/[a-z-]+/\\d{6,}$']",
            "article_url_patterns = ['/story/[a-z-]+/\\d+$']",
        ),
        encoding="utf-8",
    )
    with SampleSites() as sites:
        env = {**subprocess_env, **sites.env(), "AKHBAR_SOURCES": str(registry)}
        report = akhbar("sources", "check", "eremnews", "--limit", "3", "--json", env=env)
        assert report.returncode == 0, report.stdout + report.stderr
        preview = json.loads(report.stdout)
        by_url = {d["url"].split(":", 2)[2].split("/", 1)[1]: d for d in preview["documents"]}
        assert by_url["sitemap.xml"]["kind"] == "sitemap index"
        assert by_url["sitemaps/news.xml"]["articles"] == 5
        assert by_url["news/world"]["articles"] >= 1 and by_url["news/world"]["listings"] >= 1
        assert any("/tag/" in u for u in by_url["sitemaps/sections.xml"]["unmatched_examples"])
        assert len(preview["pages"]) == 3 and preview["problems"] == []
        for page in preview["pages"]:
            assert page["verdict"] == "article" and page["title"] and page["words"] > 40
            assert page["published_at"].startswith("2024-")
        assert any(page["author"] for page in preview["pages"])

        table = akhbar("sources", "check", "eremnews", "--limit", "1", env=env)
        assert table.returncode == 0, table.stderr
        # Rich markup must not eat the character class.
        assert "/(news|economy|sports|health)/[a-z-]+/\\d{6,}$" in table.stdout
        assert "Nothing was stored." in table.stdout

        bad = akhbar("sources", "check", "eremnews", env={**env, "AKHBAR_SOURCES": str(broken)})
        assert bad.returncode == 1, bad.stdout + bad.stderr
        assert "/story/[a-z-]+/\\d+$" in bad.stdout
        assert "Problem: no discovered URL matches article_url_patterns" in bad.stdout
        assert "Traceback" not in bad.stderr
    # Not a run, not a source row, not an article.
    for table_name in ("crawl_runs", "articles", "sources", "duplicates", "article_html"):
        assert query(database_url, f"SELECT count(*) FROM {table_name}") == [(0,)], table_name


def test_sources_check_names_an_unreachable_source(tmp_path, subprocess_env):
    from db.embedded import free_port
    from tests.crawl_helpers import akhbar

    port = free_port()  # nothing listens there
    registry = write(
        tmp_path,
        entry(
            base_url=f'"http://127.0.0.1:{port}"',
            domains='["127.0.0.1"]',
            feeds=None,
            sitemaps='["{base}/sitemap.xml"]',
        ),
    )
    result = akhbar(
        "sources", "check", "site_a", env={**subprocess_env, "AKHBAR_SOURCES": str(registry)}
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"Problem: sitemap http://127.0.0.1:{port}/sitemap.xml: cannot fetch" in result.stdout
    assert "Problem: no discovered URL matches article_url_patterns" in result.stdout
