"""Bytes -> str for fetched HTML.

Order: BOM, HTTP Content-Type charset, ``<meta charset>`` / http-equiv, then detection.
w3lib's ``html_to_unicode`` does the first three (as browsers do, including the
ISO-8859-1 -> windows-1252 style overrides); we only supply the detector, which knows
that undeclared legacy Arabic pages are almost always windows-1256.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from w3lib.encoding import html_to_unicode

# Arabic letters as windows-1256 encodes them (0xC1-0xFE minus the few Latin ones it keeps).
_CP1256_LATIN = set(b"\xd7\xe0\xe2\xe7\xe8\xe9\xea\xeb\xee\xef\xf4\xf7\xf9\xfb\xfc")
_HIGH = re.compile(rb"[\x80-\xff]")


def header(headers: Mapping[str, str] | None, name: str) -> str | None:
    """Case-insensitive header lookup; tolerates bytes values (Scrapy headers)."""
    if not headers:
        return None
    lname = name.lower()
    for key, value in headers.items():
        k = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        if k.lower() == lname:
            if isinstance(value, list | tuple):
                value = value[0] if value else ""
            return value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return None


def detect_encoding(body: bytes) -> str | None:
    """Guess for pages that declare nothing: UTF-8 if it decodes, else cp1256 when the
    high bytes look like Arabic letters, else windows-1252."""
    sample = body[:200_000]
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A truncated multi-byte sequence at the very end still means UTF-8.
        if exc.start >= len(sample) - 3 and len(body) > len(sample) - 3:
            return "utf-8"
    high = _HIGH.findall(sample)
    if not high:
        return "utf-8"
    arabic = sum(1 for b in high if 0xC1 <= b[0] <= 0xFE and b[0] not in _CP1256_LATIN)
    return "cp1256" if arabic / len(high) > 0.5 else "cp1252"


def decode_html(body: bytes | str, headers: Mapping[str, str] | None = None) -> tuple[str, str]:
    """Return (text, encoding name). Never raises: undecodable bytes become U+FFFD."""
    if isinstance(body, str):
        return body, "unicode"
    content_type = header(headers, "content-type")
    # Servers often send a default "charset=ISO-8859-1" for UTF-8 pages. A real Latin-1
    # page with non-ASCII bytes is practically never valid UTF-8, so trust the bytes then.
    if content_type and _LATIN_DEFAULT.search(content_type) and _is_utf8(body):
        content_type = None
    encoding, text = html_to_unicode(content_type, body, auto_detect_fun=detect_encoding)
    return text, encoding


_LATIN_DEFAULT = re.compile(r"charset=[\"']?(iso-?8859-1|latin-?1|windows-1252|us-ascii)\b", re.I)


def _is_utf8(body: bytes) -> bool:
    if not _HIGH.search(body):
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
