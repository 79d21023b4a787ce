"""The one grammar for time bounds (``--since``/``--until`` on every command, ``since``/``until``
in the API, dates in JSON-lines input) and the lenient reader for dates found in sitemaps and
feeds.

A bound is one of:

- a date, ``2024-05-01``: the start of that day in UTC (for an upper bound, the start of the
  next day, so the whole day is included);
- an ISO 8601 timestamp, ``2024-05-01T08:30``, ``2024-05-01T08:30:00+03:00`` or ``...Z``
  (no offset means UTC);
- a relative age, ``3d`` or ``12h``: that long before now.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parsedate_to_datetime

__all__ = [
    "GRAMMAR",
    "TimeBoundError",
    "parse_bound",
    "parse_document_date",
    "parse_timestamp",
]

GRAMMAR = "a date (2024-05-01), an ISO timestamp (2024-05-01T08:30:00+03:00) or an age (3d, 12h)"

_RELATIVE = re.compile(r"(\d{1,6})([dh])")
_LATEST = datetime.max.replace(tzinfo=UTC)


class TimeBoundError(ValueError):
    """A value that is not in the bound grammar; the message is a sentence for a person."""


def parse_timestamp(value: str) -> datetime:
    """An ISO 8601 date or timestamp (``Z`` allowed; no offset means UTC). ValueError otherwise."""
    text = value.strip()
    if text[-1:] in {"Z", "z"}:
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_bound(
    value: str | date | datetime | None,
    *,
    end: bool = False,
    name: str | None = None,
    now: datetime | None = None,
) -> datetime | None:
    """A since (``end=False``) or until (``end=True``) bound as an aware timestamp; None for
    no bound. ``name`` (``--since``, ``until``) is used in the error message."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return _day_bound(value, end)
    text = value.strip()
    label = f"{name}={value!r}" if name else repr(value)
    relative = _RELATIVE.fullmatch(text)
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2)
        delta = timedelta(days=amount) if unit == "d" else timedelta(hours=amount)
        try:
            return (now or datetime.now(UTC)) - delta
        except OverflowError:
            raise TimeBoundError(f"{label} reaches before the year 1; use {GRAMMAR}.") from None
    try:
        if len(text) == 10:  # 2024-05-01: a day, not its midnight
            return _day_bound(date.fromisoformat(text), end)
        return parse_timestamp(text)
    except ValueError:
        raise TimeBoundError(f"{label} is not a valid time bound; use {GRAMMAR}.") from None


def _day_bound(day: date, end: bool) -> datetime:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    if not end:
        return start
    try:
        return start + timedelta(days=1)
    except OverflowError:  # until 9999-12-31: everything
        return _LATEST


def parse_document_date(value: str | None) -> datetime | None:
    """A date as sitemaps and feeds write it (ISO 8601 or RFC 2822); None when unreadable."""
    if not value:
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        pass
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
