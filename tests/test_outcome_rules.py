"""The outcome rules of akhbar/outcomes.py decide_outcome, case by case (the crawls that
produce these counters are in test_outcomes.py and test_outage.py)."""

from __future__ import annotations

import pytest

from akhbar.outcomes import Thresholds, decide_outcome

OK = {"akhbar/discovery_ok": 1, "akhbar/requests_ok": 20, "akhbar/article_urls_matched": 19}


@pytest.mark.parametrize(
    ("stats", "reason", "expected"),
    [
        (OK, "finished", "finished"),
        (OK, "closespider_itemcount", "finished"),
        (OK, "shutdown", "interrupted"),
        (OK, "memusage_exceeded", "failed"),
        ({**OK, "akhbar/store_failed": 1}, "finished", "failed"),
        ({**OK, "akhbar/database_errors": 2}, "finished", "failed"),
        ({"akhbar/discovery_failed": 1, "akhbar/requests_failed": 1}, "finished", "failed"),
        ({**OK, "akhbar/requests_failed": 20}, "finished", "failed"),  # 50 % failed
        ({**OK, "akhbar/requests_failed": 2}, "finished", "degraded"),  # 9 %
        ({**OK, "akhbar/discovery_failed": 1, "akhbar/requests_failed": 1}, "finished", "degraded"),
        ({**OK, "akhbar/errors": 1}, "finished", "degraded"),
        ({"akhbar/discovery_ok": 1, "akhbar/requests_ok": 1, "akhbar/links_seen": 7}, "finished", "empty"),
        ({}, "finished", "empty"),
        # every entry older than the incremental window: a quiet night, not an empty one
        ({"akhbar/discovery_ok": 1, "akhbar/requests_ok": 1, "akhbar/sitemaps_skipped_older_than_since": 3}, "finished", "finished"),
        ({"akhbar/resumed_pending": 4, "akhbar/requests_ok": 4}, "finished", "finished"),
    ],
)  # fmt: skip
def test_outcome(stats: dict, reason: str, expected: str) -> None:
    outcome = decide_outcome(stats, reason)
    assert outcome.status == expected, outcome.reasons
    assert bool(outcome.reasons) == (expected != "finished")


def test_thresholds_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AKHBAR_OUTCOME_FAILED_SHARE", "0.05")
    stats = {**OK, "akhbar/requests_failed": 2}
    assert decide_outcome(stats, "finished", Thresholds.from_env()).status == "failed"
