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
from collections.abc import Iterable
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
    """The registry file is missing, malformed, or describes a source wrongly. ``errors`` lists
    every problem found (one line each); the message joins them."""

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or [message]


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
    # Every mistake in the file is reported at once, not only the first.
    errors: list[str] = []
    out: dict[str, Source] = {}
    first_line: dict[str, int] = {}
    for i, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            errors.append(f"{where}: sources entry #{i} is not a table")
            continue
        name = entry.get("name")
        if isinstance(name, str) and name.strip() in first_line:
            errors.append(
                f"{where}: duplicate source name {name.strip()!r} (source #{i}, first as "
                f"#{first_line[name.strip()]}); names must be unique"
            )
        elif isinstance(name, str):
            first_line[name.strip()] = i
        src = _build(entry, f"{where}: source #{i}", errors)
        if src is not None and src.name not in out:
            out[src.name] = src
    if errors:
        raise SourceRegistryError("\n".join(errors), errors)
    return out


def unknown_names_error(names: Iterable[str], known: Iterable[str]) -> str | None:
    """The one sentence every interface prints for names that are not sources (None when
    all are), with the valid names listed."""
    valid = sorted(set(known))
    unknown = [n for n in names if n not in valid]
    if not unknown:
        return None
    return (
        f"Unknown source{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. "
        f"Known sources: {', '.join(valid) or '(none)'}."
    )


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


class _Invalid(Exception):
    """A field that cannot be read; its message is already recorded."""


def _build(entry: dict, where: str, errors: list[str]) -> Source | None:
    """The Source an entry describes, or None after appending every problem to ``errors``."""
    found: list[str] = []

    def check(ok: bool, message: str) -> bool:
        if not ok:
            found.append(f"{where}: {message}")
        return ok

    def read(fn, *args):  # noqa: ANN001, ANN202 - a field reader; its error is recorded
        try:
            return fn(*args)
        except SourceRegistryError as exc:
            found.append(str(exc))
            raise _Invalid from None

    name = entry.get("name")
    if isinstance(name, str):
        where = f"{where} ({name!r})"
    missing = [k for k in _REQUIRED if k not in entry]
    check(not missing, f"missing required field(s): {', '.join(missing)}")
    unknown = sorted(set(entry) - _KNOWN)
    check(
        not unknown, f"unknown field(s): {', '.join(unknown)} (known: {', '.join(sorted(_KNOWN))})"
    )

    def field_or_none(fn, key: str, *extra):  # noqa: ANN001, ANN202
        if key not in entry:
            return None
        try:
            return read(fn, entry, key, where, *extra)
        except _Invalid:
            return None

    name = field_or_none(_string, "name")
    if name is not None:
        check(
            bool(_NAME_RE.fullmatch(name)),
            f"name {name!r} is not a valid spider name "
            "(use lowercase letters, digits and underscores only: [a-z0-9_]+)",
        )
    title = field_or_none(_string, "title")
    base = field_or_none(_string, "base_url")
    host = None
    if base is not None:
        try:
            base = read(_expand, base, "base_url", where).rstrip("/")
            parts = urlsplit(base)
            if check(
                parts.scheme in ("http", "https") and bool(parts.hostname),
                f"base_url {base!r} is not an http(s) URL with a host",
            ):
                host = parts.hostname
            else:
                base = None
        except _Invalid:
            base = None
    tz = field_or_none(_string, "timezone")
    if tz is not None:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            check(False, f"unknown time zone {tz!r} (use an IANA name such as 'Asia/Damascus')")

    domains: tuple[str, ...] = ()
    raw_domains = field_or_none(_strings, "domains")
    if raw_domains is not None:
        check(bool(raw_domains), "domains is empty; list the hosts to follow")
        if host is None:  # base_url is wrong (already reported): {base} cannot be expanded
            raw_domains = [d for d in raw_domains if "{base}" not in d]
        domains = tuple(d.replace("{base}", host or "").strip().lower() for d in raw_domains)
        for d in domains:
            check(
                bool(d) and "/" not in d and ":" not in d,
                f"domains entry {d!r} must be a bare host name",
            )

    urls: dict[str, tuple[str, ...]] = {}
    for key in _URL_LISTS:
        values = []
        for u in field_or_none(_strings, key) or []:
            if base is None and "{base}" in u:
                continue  # base_url is wrong (already reported)
            try:
                u = read(_expand, u.replace("{base}", base or ""), key, where)
            except _Invalid:
                continue
            if check(
                urlsplit(u).scheme in ("http", "https"), f"{key} entry {u!r} is not an http(s) URL"
            ):
                values.append(u)
        urls[key] = tuple(values)
    if all(key not in entry for key in _URL_LISTS) or not any(entry.get(key) for key in _URL_LISTS):
        check(False, "no discovery URL; give at least one of sitemaps, feeds, listings")

    patterns: dict[str, tuple[re.Pattern[str], ...]] = {}
    for key in _PATTERN_LISTS:
        compiled = []
        for p in field_or_none(_strings, key) or []:
            try:
                compiled.append(re.compile(p))
            except re.error as exc:
                check(False, f"bad regex in {key}: {p!r}: {exc}")
        patterns[key] = tuple(compiled)
    if "article_url_patterns" in entry and isinstance(entry["article_url_patterns"], list):
        check(bool(entry["article_url_patterns"]), "article_url_patterns is empty")

    verified = entry.get("verified", False)
    check(isinstance(verified, bool), "verified must be true or false")
    language = field_or_none(_string, "language") or "ar"
    notes = field_or_none(_string, "notes") or ""
    parser = field_or_none(_string, "parser")
    if parser is not None:
        try:
            load_parser(parser)
        except SiteParserError as exc:
            check(False, str(exc))

    if found:
        errors.extend(found)
        return None
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
