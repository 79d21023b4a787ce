"""Reading JSON-lines input (``akhbar dedup``, ``akhbar import``): one object a line, with
errors that name the file and line."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from akhbar.timebounds import parse_timestamp


def object_line(line: str, where: str) -> dict[str, Any]:
    """The JSON object on ``line``; ValueError naming ``where`` (``FILE:LINE``) otherwise."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{where}: malformed JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(row, dict):
        raise ValueError(f"{where}: expected a JSON object, got {type(row).__name__}")
    return row


def iso_date_field(value: object, name: str, where: str) -> datetime | None:
    """A date field: ISO 8601, no offset meaning UTC, null or "" meaning unknown;
    ValueError naming ``where`` otherwise."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError(f"{where}: '{name}' must be an ISO 8601 string, got {value!r}")
    try:
        return parse_timestamp(value)
    except ValueError:
        raise ValueError(f"{where}: '{name}' is not an ISO 8601 date: {value!r}") from None
