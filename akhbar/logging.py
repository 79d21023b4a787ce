"""Structured log lines: one JSON object per line in each run's log file.

Records logged with ``extra={"akhbar_event": KIND, ...}`` become
``{"event": KIND, "url": ..., "source": ..., "run_id": ..., ...}``; records at ERROR or
above without a kind get ``"event": "error"``. Everything else is kept too, as
``{"ts", "level", "logger", "msg"}`` (plus ``source``/``run_id`` when the record is about one
source), so one file tells the whole run. Every kind (``stored``, ``replaced``, ``exact``,
``near``, ``url``, ``non_article``, ``fetch_failed``, ``store_failed``, ``run_started``,
``run_finished``, ...) is listed in docs/operations.md, "Log events".

    jq -c 'select(.event)' var/logs/<source>/<run>.log
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

# LogRecord attributes that are not "extra" fields.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
_SKIP_EXTRA = {"spider", "crawler"}


def _url_in(record: logging.LogRecord) -> str | None:
    args = record.args if isinstance(record.args, tuple) else ()
    for arg in args:
        if isinstance(arg, str) and arg.startswith(("http://", "https://")):
            return arg
    return None


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


class JsonLinesFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        event = getattr(record, "akhbar_event", None)
        if event is None and record.levelno >= logging.ERROR:
            event = "error"
        if event is not None:
            entry["event"] = event
            if url := _url_in(record):
                entry["url"] = url
        for key, value in vars(record).items():
            if key in _STANDARD or key in _SKIP_EXTRA or key == "akhbar_event":
                continue
            entry[key] = _plain(value)
        entry["msg"] = record.getMessage()
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


class RunContextFilter(logging.Filter):
    """Stamps ``source`` and ``run_id`` on records.

    Scrapy passes the spider in ``extra`` for most of its own records; for the rest (our
    pipelines), a process that crawls exactly one source stamps that one.
    """

    def __init__(self) -> None:
        super().__init__()
        self.runs: dict[str, int | None] = {}

    def register(self, source: str, run_id: int | None) -> None:
        self.runs[source] = run_id

    def filter(self, record: logging.LogRecord) -> bool:
        source = record_source(record)
        if source is None and len(self.runs) == 1:
            source = next(iter(self.runs))
        if source is not None:
            record.source = source
            if getattr(record, "run_id", None) is None and self.runs.get(source) is not None:
                record.run_id = self.runs[source]
        return True


def record_source(record: logging.LogRecord) -> str | None:
    """The source a record is about: its ``source`` extra, else the spider Scrapy passed."""
    source = getattr(record, "source", None)
    if source is None:
        source = getattr(getattr(record, "spider", None), "name", None)
    return source if isinstance(source, str) else None


_filter = RunContextFilter()


def use_json_lines(handler: logging.Handler) -> None:
    """Render ``handler``'s records as JSON lines stamped with the source and run id."""
    if not isinstance(handler.formatter, JsonLinesFormatter):
        handler.setFormatter(JsonLinesFormatter())
    if _filter not in handler.filters:
        handler.addFilter(_filter)


def register_run(source: str, run_id: int | None) -> None:
    _filter.register(source, run_id)
