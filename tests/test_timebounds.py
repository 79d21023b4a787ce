"""The one time-bound grammar every command and the API use."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from akhbar.timebounds import TimeBoundError, parse_bound, parse_document_date

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "end", "expected"),
    [
        ("2024-05-01", False, datetime(2024, 5, 1, tzinfo=UTC)),
        ("2024-05-01", True, datetime(2024, 5, 2, tzinfo=UTC)),  # the whole day
        ("2024-05-01T08:30", False, datetime(2024, 5, 1, 8, 30, tzinfo=UTC)),
        ("2024-05-01T08:30:00Z", True, datetime(2024, 5, 1, 8, 30, tzinfo=UTC)),
        (
            "2024-05-01T08:30:00+03:00",
            False,
            datetime(2024, 5, 1, 8, 30, tzinfo=timezone(timedelta(hours=3))),
        ),
        ("3d", False, NOW - timedelta(days=3)),
        ("12h", True, NOW - timedelta(hours=12)),
        (" 0h ", False, NOW),
        ("9999-12-31", True, datetime.max.replace(tzinfo=UTC)),  # no overflow
        (date(2024, 5, 1), True, datetime(2024, 5, 2, tzinfo=UTC)),
        (datetime(2024, 5, 1, 3), False, datetime(2024, 5, 1, 3, tzinfo=UTC)),
        (None, False, None),
        ("", True, None),
    ],
)
def test_grammar(value, end, expected) -> None:
    assert parse_bound(value, end=end, now=NOW) == expected


@pytest.mark.parametrize("value", ["bogus", "3w", "-3d", "3 d", "d", "2024-13-01", "999999d"])
def test_mistakes_are_one_sentence(value: str) -> None:
    with pytest.raises(TimeBoundError) as err:
        parse_bound(value, name="--since", now=NOW)
    message = str(err.value)
    assert message.startswith(f"--since={value!r} ") and "3d, 12h" in message
    assert "\n" not in message


@given(st.text(max_size=40))
def test_any_text_is_a_bound_or_a_time_bound_error(text: str) -> None:
    for end in (False, True):
        try:
            bound = parse_bound(text, end=end)
        except TimeBoundError:
            continue
        assert bound is None or bound.tzinfo is not None


def test_document_dates_iso_and_rfc2822() -> None:
    assert parse_document_date("2024-05-01T08:30:00Z") == datetime(2024, 5, 1, 8, 30, tzinfo=UTC)
    assert parse_document_date("Wed, 01 May 2024 08:30:00 +0000") == datetime(
        2024, 5, 1, 8, 30, tzinfo=UTC
    )
    assert parse_document_date("yesterday") is None and parse_document_date(None) is None
