"""The run log: one JSON object a line from the very first line.

Scrapy writes its start-up block (version, overridden settings, enabled components) while
the CrawlerProcess is being built, before any extension exists. So the JSON-lines handler
is installed before that: by `scrapy crawl` (crawlers/commands/crawl.py) and by
`akhbar crawl` (crawlers/runner.py). With ``LOG_FILE`` set, Scrapy's own plain-text handler
for it is not installed at all; without it (a bare `scrapy crawl`), the console keeps
Scrapy's format and the run gets its own file in var/logs/<source>/.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from akhbar.logging import use_json_lines

REPO_ROOT = Path(__file__).resolve().parents[1]

_installed: tuple[logging.Handler, Path] | None = None


def var_dir() -> Path:
    """Where run logs (var/logs) live: AKHBAR_VAR_DIR or ./var."""
    return Path(os.environ.get("AKHBAR_VAR_DIR") or REPO_ROOT / "var")


def run_log_path(source: str, when: datetime | None = None) -> Path:
    """A fresh log file path for one run of ``source`` (its directory is created)."""
    when = when or datetime.now(UTC)
    path = var_dir() / "logs" / source / f"{when:%Y%m%dT%H%M%S}-{os.getpid()}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def install_run_log(settings: Any, label: str) -> Path | None:
    """Install the JSON-lines root handler for this process's run log; return its path.

    Call before the CrawlerProcess is created. None when AKHBAR_LOG_FORMAT is "text".
    """
    global _installed
    if settings.get("AKHBAR_LOG_FORMAT", "json") != "json":
        return None
    if _installed is not None:
        return _installed[1]
    if settings.get("LOG_FILE"):
        path = Path(settings["LOG_FILE"]).resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        # Scrapy's handler for LOG_FILE would write plain text: ours replaces it.
        settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
        logging.root.setLevel(logging.NOTSET)  # what Scrapy does when it installs its own
    else:
        path = run_log_path(label)
    handler = logging.FileHandler(path, mode="a", encoding="utf-8")
    handler.setLevel(settings.get("LOG_LEVEL", "INFO"))
    use_json_lines(handler)
    logging.root.addHandler(handler)
    _installed = (handler, path)
    return path


def installed_run_log() -> Path | None:
    return _installed[1] if _installed is not None else None
