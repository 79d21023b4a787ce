"""Source registry (provisional minimal loader; the full one with validation lands from wt-dates)."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parents[1]


class SourceRegistryError(ValueError):
    pass


@dataclass(frozen=True)
class Source:
    name: str
    base_url: str
    domains: tuple[str, ...]
    title: str = ""
    language: str = "ar"
    timezone: str = "UTC"
    sitemaps: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    listings: tuple[str, ...] = ()
    article_url_patterns: tuple[re.Pattern[str], ...] = ()
    listing_url_patterns: tuple[re.Pattern[str], ...] = ()
    verified: bool = False
    notes: str = field(default="")

    def is_article_url(self, url: str) -> bool:
        return any(p.search(url) for p in self.article_url_patterns)

    def is_listing_url(self, url: str) -> bool:
        return any(p.search(url) for p in self.listing_url_patterns)

    def allows(self, url: str) -> bool:
        return (urlsplit(url).hostname or "") in self.domains


def registry_path(path: str | Path | None = None) -> Path:
    return Path(path or os.environ.get("AKHBAR_SOURCES") or REPO_ROOT / "sources.toml")


def load_sources(path: str | Path | None = None) -> dict[str, Source]:
    data = tomllib.loads(registry_path(path).read_text(encoding="utf-8"))
    sources = {}
    for entry in data.get("sources", []):
        base = os.path.expandvars(entry["base_url"]).rstrip("/")
        urls = {
            k: tuple(u.replace("{base}", base) for u in entry.get(k, []))
            for k in ("sitemaps", "feeds", "listings")
        }
        sources[entry["name"]] = Source(
            name=entry["name"],
            base_url=base,
            domains=tuple(entry["domains"]),
            title=entry.get("title", ""),
            language=entry.get("language", "ar"),
            timezone=entry.get("timezone", "UTC"),
            article_url_patterns=tuple(
                re.compile(p) for p in entry.get("article_url_patterns", [])
            ),
            listing_url_patterns=tuple(
                re.compile(p) for p in entry.get("listing_url_patterns", [])
            ),
            verified=entry.get("verified", False),
            notes=entry.get("notes", ""),
            **urls,
        )
    return sources


def get_source(name: str, path: str | Path | None = None) -> Source:
    sources = load_sources(path)
    if name not in sources:
        raise SourceRegistryError(
            f"Unknown source {name!r}. Known sources: {', '.join(sorted(sources))}."
        )
    return sources[name]
