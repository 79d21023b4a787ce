"""The ``slow`` marker: tests that start real processes (a crawl, the CLI, the scheduler,
workers). Loaded with ``-p tests.markers`` (pyproject.toml), so ``make test-fast`` can run the
rest alone while working; ``make test`` and CI run everything."""

from __future__ import annotations

import pytest

# Fixtures that exist to hand an environment to subprocesses.
_PROCESS_FIXTURES = {"subprocess_env"}
# Modules whose tests are crawls, schedulers, workers or clusters of their own throughout.
_PROCESS_MODULES = {
    "test_crawl",
    "test_resume",
    "test_scheduler",
    "test_cli",
    "test_template_text",
    "test_embedded_db",
    "test_outage",
    "test_clean_kill",
    "test_run_log",
    "test_outcomes",
    "test_queue",
    "test_discovery_bombs",
    "test_cli_errors",
    "test_dedup_cli",
    "test_siteparsers",
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: starts real processes (crawls, CLI, scheduler, workers)"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1] if item.module else ""
        if module in _PROCESS_MODULES or _PROCESS_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
