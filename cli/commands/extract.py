"""``akhbar extract FILE.html [FILE2 ...] [--url URL] [--timezone TZ]``.

Prints one JSON object per line per file: file, url, title, text (paragraphs joined by
blank lines), published (ISO 8601 with offset, or null), author, section, language,
is_article (and reason when it is not an article). A file that cannot be read is reported
on stderr; the others are still processed and the exit code is 1 at the end.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer


def article_json(path: Path, url: str, timezone: str) -> dict[str, Any]:
    from akhbar.extract import extract  # here, not at the top: every `akhbar` command starts faster

    art = extract(path.read_bytes(), url, timezone=timezone)
    out: dict[str, Any] = {
        "file": str(path),
        "url": url,
        "canonical_url": art.canonical_url,
        "title": art.title,
        "text": art.text,
        "published": art.published_at.isoformat() if art.published_at else None,
        "author": art.author,
        "section": art.section,
        "language": art.language,
        "is_article": art.is_article,
    }
    if not art.is_article:
        out["reason"] = art.reason
    return out


def extract_command(
    files: Annotated[list[Path], typer.Argument(help="HTML files to extract.")],
    url: Annotated[
        str | None,
        typer.Option(help="The page URL (for canonical URLs and dates in URLs); default file://."),
    ] = None,
    timezone: Annotated[
        str, typer.Option(help="IANA zone for dates printed without an offset.")
    ] = "UTC",
) -> None:
    """Extract articles from saved HTML files: one JSON object per line per file."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        typer.echo(f"error: unknown timezone {timezone!r}", err=True)
        raise typer.Exit(2) from None
    failed = 0
    for path in files:
        try:
            row = article_json(path, url or path.resolve().as_uri(), timezone)
        except OSError as exc:
            failed += 1
            typer.echo(f"error: cannot read {path}: {exc.strerror or exc}", err=True)
            continue
        sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("extract")(extract_command)
