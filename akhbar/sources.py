"""The source registry: which sites we crawl and how to find their articles.

``sources.toml`` at the repository root lists the real sites; the ``AKHBAR_SOURCES``
environment variable points at another file (the demo and tests use
``samples/sources.toml``). Format (one ``[[sources]]`` table per site)::

    [[sources]]
    name = "aljazeera"                       # spider name: [a-z0-9_]+
    title = "الجزيرة نت"
    base_url = "https://www.aljazeera.net"   # may contain ${ENV_VARS}
    domains = ["www.aljazeera.net"]          # only these hosts are followed
    language = "ar"
    timezone = "Asia/Qatar"                  # for dates printed without an offset
    sitemaps = ["{base}/sitemap.xml"]
    feeds = ["{base}/rss.xml"]
    listings = ["{base}/news/"]
    article_url_patterns = ['/news/\\d{4}/\\d{1,2}/\\d{1,2}/']
    listing_url_patterns = ['/news/page/\\d+']
    verified = false
    notes = "..."
    parser = "akhbar.site_parsers.example:DataAttributeByline"  # optional, see below

``parser`` names a site parser (``akhbar.siteparsers``) that overrides fields the generic
extractor gets wrong for this site; without it the generic path is used.

``{base}`` in any URL is replaced by ``base_url`` (without its trailing slash); in
``domains`` it stands for the host of ``base_url``. Errors are ``SourceRegistryError`` and
say which file, which source and what to fix. No Scrapy here.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from akhbar.siteparsers import SiteParserError, load_parser

__all__ = [
    "DEFAULT_REGISTRY",
    "ENV_VAR",
    "Source",
    "SourceRegistryError",
    "get_source",
    "load_sources",
    "registry_path",
]

ENV_VAR = "AKHBAR_SOURCES"
DEFAULT_REGISTRY = Path(__file__).resolve().parent.parent / "sources.toml"

_NAME_RE = re.compile(r"[a-z0-9_]+")
_UNEXPANDED_RE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")
_REQUIRED = ("name", "title", "base_url", "domains", "timezone", "article_url_patterns")
_URL_LISTS = ("sitemaps", "feeds", "listings")
_PATTERN_LISTS = ("article_url_patterns", "listing_url_patterns")
_KNOWN = {*_REQUIRED, *_URL_LISTS, *_PATTERN_LISTS, "language", "verified", "notes", "parser"}


class SourceRegistryError(ValueError):
    """The registry file is missing, malformed, or describes a source wrongly."""


@dataclass(frozen=True)
class Source:
    name: str
    title: str
    base_url: str
    domains: tuple[str, ...]
    language: str = "ar"
    timezone: str = "UTC"
    sitemaps: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    listings: tuple[str, ...] = ()
    article_url_patterns: tuple[re.Pattern[str], ...] = ()
    listing_url_patterns: tuple[re.Pattern[str], ...] = ()
    verified: bool = False
    notes: str = ""
    parser: str | None = None  # "package.module:ClassName", a SiteParser (akhbar.siteparsers)
    _hosts: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hosts", frozenset(d.lower() for d in self.domains))

    @property
    def tzinfo(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def start_urls(self) -> tuple[str, ...]:
        """Every discovery URL: sitemaps, then feeds, then listing pages."""
        return self.sitemaps + self.feeds + self.listings

    def allows(self, url: str) -> bool:
        """Is the URL on one of this source's hosts (port ignored)?"""
        try:
            host = urlsplit(url).hostname
        except ValueError:
            return False
        return host is not None and host.lower() in self._hosts

    def is_article_url(self, url: str) -> bool:
        return self.allows(url) and any(p.search(url) for p in self.article_url_patterns)

    def is_listing_url(self, url: str) -> bool:
        """A section page to follow: one of ``listings`` or a pagination pattern match."""
        if not self.allows(url):
            return False
        if url in self.listings or url.rstrip("/") in {u.rstrip("/") for u in self.listings}:
            return True
        return any(p.search(url) for p in self.listing_url_patterns)


def registry_path(path: str | Path | None = None) -> Path:
    """The file ``load_sources`` reads: ``path``, else $AKHBAR_SOURCES, else the repo's."""
    if path is not None:
        return Path(path)
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else DEFAULT_REGISTRY


def load_sources(path: str | Path | None = None) -> dict[str, Source]:
    """Read and validate a registry; sources by name, in file order."""
    where = registry_path(path)
    try:
        raw = where.read_bytes()
    except FileNotFoundError:
        raise SourceRegistryError(
            f"source registry not found: {where} "
            f"(pass a path, or set {ENV_VAR} to point at another registry file)"
        ) from None
    except OSError as exc:
        raise SourceRegistryError(f"cannot read source registry {where}: {exc}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise SourceRegistryError(f"{where}: not UTF-8 text ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        # The message carries "(at line N, column M)".
        raise SourceRegistryError(f"{where}: TOML syntax error: {exc}") from exc

    entries = data.get("sources")
    if not isinstance(entries, list) or not entries:
        raise SourceRegistryError(
            f"{where}: no [[sources]] tables found (each site is one [[sources]] table)"
        )
    out: dict[str, Source] = {}
    for i, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise SourceRegistryError(f"{where}: sources entry #{i} is not a table")
        src = _build(entry, f"{where}: source #{i}")
        if src.name in out:
            raise SourceRegistryError(
                f"{where}: duplicate source name {src.name!r} (source #{i}); names must be unique"
            )
        out[src.name] = src
    return out


def get_source(name: str, path: str | Path | None = None) -> Source:
    sources = load_sources(path)
    try:
        return sources[name]
    except KeyError:
        known = ", ".join(sorted(sources)) or "(none)"
        raise SourceRegistryError(
            f"unknown source {name!r} in {registry_path(path)}; known sources: {known}"
        ) from None


# --------------------------------------------------------------------------------------


def _build(entry: dict, where: str) -> Source:
    name = entry.get("name")
    if isinstance(name, str):
        where = f"{where} ({name!r})"
    missing = [k for k in _REQUIRED if k not in entry]
    if missing:
        raise SourceRegistryError(f"{where}: missing required field(s): {', '.join(missing)}")
    unknown = sorted(set(entry) - _KNOWN)
    if unknown:
        raise SourceRegistryError(
            f"{where}: unknown field(s): {', '.join(unknown)} (known: {', '.join(sorted(_KNOWN))})"
        )

    name = _string(entry, "name", where)
    if not _NAME_RE.fullmatch(name):
        raise SourceRegistryError(
            f"{where}: name {name!r} is not a valid spider name "
            "(use lowercase letters, digits and underscores only: [a-z0-9_]+)"
        )
    title = _string(entry, "title", where)
    base = _expand(_string(entry, "base_url", where), "base_url", where).rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceRegistryError(f"{where}: base_url {base!r} is not an http(s) URL with a host")

    tz = _string(entry, "timezone", where)
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise SourceRegistryError(
            f"{where}: unknown time zone {tz!r} (use an IANA name such as 'Asia/Damascus')"
        ) from None

    domains = tuple(
        d.replace("{base}", parts.hostname).strip().lower()
        for d in _strings(entry, "domains", where)
    )
    if not domains:
        raise SourceRegistryError(f"{where}: domains is empty; list the hosts to follow")
    for d in domains:
        if not d or "/" in d or ":" in d:
            raise SourceRegistryError(f"{where}: domains entry {d!r} must be a bare host name")

    urls: dict[str, tuple[str, ...]] = {}
    for key in _URL_LISTS:
        values = []
        for u in _strings(entry, key, where) if key in entry else []:
            u = _expand(u.replace("{base}", base), key, where)
            if urlsplit(u).scheme not in ("http", "https"):
                raise SourceRegistryError(f"{where}: {key} entry {u!r} is not an http(s) URL")
            values.append(u)
        urls[key] = tuple(values)
    if not any(urls.values()):
        raise SourceRegistryError(
            f"{where}: no discovery URL; give at least one of sitemaps, feeds, listings"
        )

    patterns: dict[str, tuple[re.Pattern[str], ...]] = {}
    for key in _PATTERN_LISTS:
        compiled = []
        for p in _strings(entry, key, where) if key in entry else []:
            try:
                compiled.append(re.compile(p))
            except re.error as exc:
                raise SourceRegistryError(f"{where}: bad regex in {key}: {p!r}: {exc}") from None
        patterns[key] = tuple(compiled)
    if not patterns["article_url_patterns"]:
        raise SourceRegistryError(f"{where}: article_url_patterns is empty")

    verified = entry.get("verified", False)
    if not isinstance(verified, bool):
        raise SourceRegistryError(f"{where}: verified must be true or false")
    language = _string(entry, "language", where) if "language" in entry else "ar"
    notes = _string(entry, "notes", where) if "notes" in entry else ""
    parser = _string(entry, "parser", where) if "parser" in entry else None
    if parser is not None:
        try:
            load_parser(parser)
        except SiteParserError as exc:
            raise SourceRegistryError(f"{where}: {exc}") from None

    return Source(
        name=name,
        title=title,
        base_url=base,
        domains=domains,
        language=language,
        timezone=tz,
        sitemaps=urls["sitemaps"],
        feeds=urls["feeds"],
        listings=urls["listings"],
        article_url_patterns=patterns["article_url_patterns"],
        listing_url_patterns=patterns["listing_url_patterns"],
        verified=verified,
        notes=notes,
        parser=parser,
    )


def _string(entry: dict, key: str, where: str) -> str:
    value = entry[key]
    if not isinstance(value, str) or not value.strip():
        raise SourceRegistryError(f"{where}: {key} must be a non-empty string")
    return value.strip()


def _strings(entry: dict, key: str, where: str) -> list[str]:
    value = entry[key]
    if isinstance(value, str):
        value = [value]  # a lone string is a list of one: an easy slip in TOML
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SourceRegistryError(f"{where}: {key} must be a list of strings")
    return value


def _expand(value: str, key: str, where: str) -> str:
    expanded = os.path.expandvars(value)
    left = _UNEXPANDED_RE.search(expanded)
    if left:
        raise SourceRegistryError(
            f"{where}: {key} uses environment variable {left.group(1)} which is not set ({value!r})"
        )
    return expanded
