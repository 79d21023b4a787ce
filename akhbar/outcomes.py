"""The outcome a crawl run earns from its close reason and its counters: ``finished``,
``degraded``, ``empty``, ``failed`` or ``interrupted`` (docs/operations.md says what each
means). A pure rule, no database: the crawl's recorder (crawlers/extensions.py) and the
resume logic (crawlers/resume.py) both apply it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

OUTCOMES = ("finished", "degraded", "empty", "failed", "interrupted")
SUCCESS = "finished"  # the only outcome that moves the incremental window


FAILED_SHARE = 0.5
DEGRADED_SHARE = 0.05


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Share of failed requests from which a run is ``failed`` / ``degraded``."""

    failed_share: float = FAILED_SHARE
    degraded_share: float = DEGRADED_SHARE

    @classmethod
    def from_env(cls) -> Thresholds:
        return cls(
            failed_share=float(os.environ.get("AKHBAR_OUTCOME_FAILED_SHARE") or FAILED_SHARE),
            degraded_share=float(os.environ.get("AKHBAR_OUTCOME_DEGRADED_SHARE") or DEGRADED_SHARE),
        )


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str
    reasons: tuple[str, ...]


def decide_outcome(
    stats: dict[str, Any], reason: str, thresholds: Thresholds | None = None
) -> Outcome:
    """The outcome of a run from its close reason and counters (docs/operations.md)."""
    t = thresholds or Thresholds()
    if reason in {"shutdown", "cancelled"}:
        return Outcome("interrupted", (f"stopped before the end ({reason})",))
    if not reason.startswith(("finished", "closespider")):
        return Outcome("failed", (f"the crawl ended with {reason!r}",))

    def n(key: str) -> int:
        return int(stats.get(key, 0) or 0)

    store_failed = n("akhbar/store_failed") + n("akhbar/database_errors")
    discovery_ok, discovery_failed = n("akhbar/discovery_ok"), n("akhbar/discovery_failed")
    ok, failed = n("akhbar/requests_ok"), n("akhbar/requests_failed")
    matched, seen = n("akhbar/article_urls_matched"), n("akhbar/links_seen")
    resumed = n("akhbar/resumed_pending")
    errors = n("akhbar/errors")
    attempted = ok + failed
    share = failed / attempted if attempted else 0.0

    failures = []
    if store_failed:
        failures.append(
            f"{store_failed} page(s) could not be stored or checked (database unavailable?)"
        )
    if discovery_failed and not discovery_ok:
        failures.append(f"no discovery document reachable ({discovery_failed} failed)")
    if attempted and share >= t.failed_share:
        failures.append(f"{failed} of {attempted} requests failed ({share:.0%})")
    if failures:
        return Outcome("failed", tuple(failures))
    # Entries skipped as older than the incremental window: a quiet night, not an empty one.
    quiet = n("akhbar/skipped_older_than_since") + n("akhbar/sitemaps_skipped_older_than_since")
    if not matched and not resumed and not quiet:
        if not attempted:
            return Outcome("empty", ("nothing to crawl: no discovery request was made",))
        return Outcome(
            "empty",
            (f"no URL matched the article patterns ({seen} candidate link(s) seen)",),
        )
    warnings = []
    if discovery_failed:
        warnings.append(f"{discovery_failed} discovery document(s) unreachable")
    if failed and share >= t.degraded_share:
        warnings.append(f"{failed} of {attempted} requests failed ({share:.0%})")
    if errors:
        warnings.append(f"{errors} error(s) logged")
    if warnings:
        return Outcome("degraded", tuple(warnings))
    return Outcome("finished", ())
