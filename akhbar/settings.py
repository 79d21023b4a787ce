"""Every setting of akhbar, declared once: its name, type, default and meaning.

Settings are environment variables (``DATABASE_URL`` and ``AKHBAR_*``). Scrapy's settings
module (``crawlers/settings.py``) takes the crawl settings from here, so each can also be given
to Scrapy as ``-s NAME=VALUE``. The README's configuration table is generated from this module
(``python -m akhbar.settings``), and a test checks that the two agree and that the code reads
no ``AKHBAR_*`` variable that is not declared here.

Values are read when asked for (``value(NAME)``), never at import time, so a test or a parent
process that sets a variable is always seen.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any


class SettingError(ValueError):
    """A setting has a value that does not parse; the message is one sentence for the user."""


@dataclass(frozen=True)
class Setting:
    name: str
    kind: type  # str, int, float or bool
    default: Any  # None: unset
    doc: str
    group: str
    shown_default: str | None = None  # how the README shows a computed default
    internal: bool = False  # set by akhbar for its own child processes, not by users

    def parse(self, raw: str) -> Any:
        if self.kind is bool:
            lowered = raw.strip().lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off", ""}:
                return False
            raise SettingError(f"{self.name}={raw!r} is not a boolean (use 1 or 0).")
        if self.kind in (int, float):
            try:
                return self.kind(raw)
            except ValueError:
                raise SettingError(
                    f"{self.name}={raw!r} is not a{'n integer' if self.kind is int else ' number'}."
                ) from None
        return raw

    def value(self, environ: dict[str, str] | os._Environ[str] | None = None) -> Any:
        environ = os.environ if environ is None else environ
        raw = environ.get(self.name)
        if raw is None or (raw == "" and self.kind is not str):
            return self.default() if callable(self.default) else self.default
        return self.parse(raw)


SETTINGS: dict[str, Setting] = {}


def _declare(
    name: str,
    kind: type,
    default: Any,
    doc: str,
    group: str,
    *,
    shown_default: str | None = None,
    internal: bool = False,
) -> None:
    assert name not in SETTINGS, name
    SETTINGS[name] = Setting(name, kind, default, doc, group, shown_default, internal)


def _cores() -> int:
    return os.cpu_count() or 2


# --- where things are ----------------------------------------------------------------------
_declare(
    "DATABASE_URL",
    str,
    None,
    "`postgresql+psycopg://user:pass@host:port/db`. When it is set, nothing is started and "
    "migrations run only with `akhbar db upgrade`.",
    "storage",
    shown_default="unset: embedded server",
)
_declare(
    "AKHBAR_SOURCES",
    str,
    None,
    "The source registry file. `samples/sources.toml` is the one for the sample sites.",
    "storage",
    shown_default="`sources.toml`",
)
_declare(
    "AKHBAR_VAR_DIR",
    str,
    None,
    "Where run logs go (resume journals are in the database, table `crawl_frontier`).",
    "storage",
    shown_default="`var/`",
)
_declare(
    "AKHBAR_READER_URL",
    str,
    None,
    "The read-only URL that `akhbar serve` connects with.",
    "storage",
    shown_default="unset: the embedded `akhbar_reader`",
)

# --- the crawl -----------------------------------------------------------------------------
_declare(
    "AKHBAR_USER_AGENT",
    str,
    "akhbar-bot/0.1 (+https://github.com/akhbar/akhbar; news archiving)",
    "The User-Agent, which names the bot.",
    "crawl",
    shown_default="`akhbar-bot/0.1 (+…)`",
)
_declare("AKHBAR_CONCURRENT_REQUESTS", int, 32, "Requests in flight in one crawl.", "crawl")
_declare("AKHBAR_CONCURRENT_PER_DOMAIN", int, 4, "Requests in flight per site.", "crawl")
_declare("AKHBAR_DOWNLOAD_DELAY", float, 0.25, "Seconds between requests to one site.", "crawl")
_declare(
    "AKHBAR_AUTOTHROTTLE",
    bool,
    True,
    "AutoThrottle adapts the delay to the site's response times.",
    "crawl",
)
_declare(
    "AKHBAR_AUTOTHROTTLE_TARGET",
    float,
    2.0,
    "AutoThrottle's target of requests in flight per site.",
    "crawl",
)
_declare(
    "AKHBAR_MAX_RESPONSE_BYTES",
    int,
    8 * 1024 * 1024,
    "Larger responses are dropped (bytes, after decompression).",
    "crawl",
    shown_default="8 MiB",
)
_declare("AKHBAR_DOWNLOAD_TIMEOUT", int, 30, "Seconds before a request is given up.", "crawl")
_declare(
    "AKHBAR_MAX_DECOMPRESSED_BYTES",
    int,
    50 * 1024 * 1024,
    "Sitemaps and feeds, gzipped or not, are read up to this many bytes after decompression "
    "(the sitemap protocol's own limit). Reading stops there with a warning, and "
    "`akhbar/discovery_too_large` counts it; the entries read before the cut are used. "
    "Documents with more than 100,000 entries stop the same way.",
    "crawl",
    shown_default="50 MiB",
)
_declare(
    "AKHBAR_RETRY_TIMES",
    int,
    3,
    "Retries of a failed request (connection errors, 5xx, 408, 429) before it counts as failed.",
    "crawl",
)
_declare(
    "AKHBAR_RETRY_BACKOFF_BASE",
    float,
    1.0,
    "Seconds before the first retry; each retry waits twice as long. `Retry-After` is honoured.",
    "crawl",
)
_declare("AKHBAR_RETRY_BACKOFF_MAX", float, 60.0, "The longest wait between retries (s).", "crawl")
_declare(
    "AKHBAR_WORKERS",
    int,
    _cores,
    "Worker processes for CPU-heavy work: a crawl's extraction and MinHash, and the default of"
    " `dedup-index rebuild --workers`. 0: in the calling process (a crawl's: Scrapy's thread).",
    "crawl",
    shown_default="number of cores",
)
_declare("AKHBAR_MIN_WORDS", int, 40, "Shorter bodies are not stored as articles.", "crawl")
_declare(
    "AKHBAR_INCREMENTAL",
    bool,
    True,
    "Read only feed and sitemap entries newer than the last successful run (less the overlap).",
    "crawl",
)
_declare(
    "AKHBAR_INCREMENTAL_OVERLAP_HOURS",
    float,
    24.0,
    "How far before the last success incremental reads start.",
    "crawl",
)
_declare(
    "AKHBAR_SKIP_KNOWN",
    bool,
    True,
    "Do not fetch URLs already stored or recorded as duplicates.",
    "crawl",
)
_declare(
    "AKHBAR_RESUME",
    bool,
    True,
    "Keep a journal of the frontier so a killed crawl resumes where it was.",
    "crawl",
)
_declare(
    "AKHBAR_STORE",
    bool,
    True,
    "0 fetches and extracts without writing anything (`akhbar crawl --dry-run`).",
    "crawl",
)
_declare(
    "AKHBAR_STORE_BATCH_SIZE",
    int,
    100,
    "Processed pages a crawl stores in one transaction (one dedup decision pass, COPY).",
    "crawl",
)
_declare(
    "AKHBAR_STORE_BATCH_SECONDS",
    float,
    1.0,
    "Longest a processed page waits for its batch to fill before the batch is stored anyway.",
    "crawl",
)
_declare(
    "AKHBAR_RUN_FLUSH_INTERVAL",
    float,
    5.0,
    "Seconds between updates of a running crawl's counters in `crawl_runs`.",
    "crawl",
)
_declare(
    "AKHBAR_DB_WAIT_SECONDS",
    float,
    30.0,
    "How long opening or closing a run waits for an unreachable database.",
    "crawl",
)
_declare(
    "AKHBAR_RUN_LEASE_SECONDS",
    float,
    300.0,
    "A `running` run whose heartbeat is older is closed as `interrupted` by whoever looks next.",
    "crawl",
)
_declare(
    "AKHBAR_OUTCOME_FAILED_SHARE",
    float,
    0.5,
    "Share of failed requests from which a run is `failed` (docs/operations.md).",
    "crawl",
)
_declare(
    "AKHBAR_OUTCOME_DEGRADED_SHARE",
    float,
    0.05,
    "Share of failed requests from which a run is `degraded` (docs/operations.md).",
    "crawl",
)
_declare(
    "AKHBAR_RUN_TRIGGER",
    str,
    "manual",
    "What started a crawl (`manual`, `schedule`, `demo`), recorded in `crawl_runs.trigger`.",
    "crawl",
    internal=True,
)
_declare(
    "AKHBAR_POOL_PARENT",
    int,
    None,
    "The crawl process id, passed to its extraction workers so they die with it.",
    "internal",
    internal=True,
)
_declare("AKHBAR_LOG_LEVEL", str, "INFO", "Log level of crawls and the scheduler.", "observability")
_declare(
    "AKHBAR_LOG_FORMAT",
    str,
    "json",
    "Run log files: `json` (one JSON object a line) or `text` (Scrapy's format).",
    "observability",
)
_declare(
    "AKHBAR_METRICS_PORT",
    int,
    0,
    "Serves Prometheus metrics on 127.0.0.1 at this port (0: off).",
    "observability",
)

_declare(
    "AKHBAR_HEALTH_DUE_HOURS",
    float,
    26.0,
    "`akhbar health` flags a source not crawled for longer.",
    "observability",
)
_declare(
    "AKHBAR_IMPORT_MAX_BODY_CHARS",
    int,
    1_000_000,
    "`akhbar import` rejects a line whose body is longer (in characters).",
    "storage",
    shown_default="1,000,000",
)

# --- the nightly schedule (scheduler.py) -----------------------------------------------------
_declare(
    "AKHBAR_SCHEDULE_CONFIG",
    str,
    None,
    "The schedule file (format in `scheduler.py`'s docstring).",
    "schedule",
    shown_default="`schedule.toml` if present",
)
_declare("AKHBAR_SCHEDULE_TIME", str, "03:00", "Daily start time (HH:MM).", "schedule")
_declare("AKHBAR_SCHEDULE_TZ", str, "Asia/Riyadh", "Time zone of the start time.", "schedule")
_declare(
    "AKHBAR_SCHEDULE_SOURCES",
    str,
    "",
    "Comma-separated sources to crawl (empty: all).",
    "schedule",
    shown_default="all",
)
_declare(
    "AKHBAR_SCHEDULE_EVERY",
    float,
    0.0,
    "Crawl every this many seconds instead of daily (0: daily).",
    "schedule",
)
_declare("AKHBAR_SCHEDULE_MAX_PARALLEL", int, 2, "Crawls running at once.", "schedule")
_declare(
    "AKHBAR_SCHEDULE_MISFIRE_GRACE",
    int,
    3600,
    "A run missed by less than this many seconds (a restart) still happens.",
    "schedule",
)
_declare(
    "AKHBAR_SCHEDULE_FULL",
    bool,
    False,
    "Scheduled crawls ignore the incremental window.",
    "schedule",
)
_declare(
    "AKHBAR_CRAWL_TIMEOUT",
    float,
    4 * 3600.0,
    "A crawl running longer is stopped and recorded as failed (s).",
    "schedule",
)
_declare(
    "AKHBAR_STOP_GRACE",
    float,
    60.0,
    "Seconds a crawl gets to close after SIGTERM before it is killed.",
    "schedule",
)

_declare(
    "AKHBAR_SCHEDULE_ENQUEUE",
    bool,
    False,
    "The scheduler queues the crawls for `akhbar worker`s instead of running them.",
    "schedule",
)

# --- crawl workers on the queue (crawlers/queue.py) -------------------------------------------
_declare(
    "AKHBAR_WORKER_CONCURRENCY",
    int,
    2,
    "Crawl slots of one `akhbar worker` (`--concurrency`).",
    "queue",
)
_declare("AKHBAR_WORKER_HEARTBEAT", float, 10.0, "A worker's heartbeat interval (s).", "queue")
_declare(
    "AKHBAR_WORKER_STALLED_AFTER",
    float,
    60.0,
    "Silence (s) after which a worker's jobs go back to the queue; more than twice the heartbeat.",
    "queue",
)
_declare(
    "AKHBAR_QUEUE_MAX_ATTEMPTS",
    int,
    3,
    "Runs of a crawl job at most (a lost worker's run counts); then it stays `failed`.",
    "queue",
)
_declare(
    "AKHBAR_QUEUE_RETRY_WAIT",
    float,
    300.0,
    "Wait (s) before a failed crawl job is tried again.",
    "queue",
)

# --- the embedded database (db/embedded.py) ---------------------------------------------------
_declare(
    "AKHBAR_PG_BIN",
    str,
    None,
    "Directory of the PostgreSQL server binaries (initdb, pg_ctl).",
    "embedded database",
    shown_default="found",
)
_declare(
    "AKHBAR_PG_USER",
    str,
    "postgres",
    "The unprivileged account the server runs as when akhbar runs as root.",
    "embedded database",
)
_declare(
    "AKHBAR_PG_HOME",
    str,
    None,
    "Where the embedded cluster lives.",
    "embedded database",
    shown_default="`var/postgres`",
)
_declare(
    "AKHBAR_PG_PORT",
    int,
    None,
    "The embedded server's port, when it is first created.",
    "embedded database",
    shown_default="a free port",
)

# --- the sample sites --------------------------------------------------------------------------
_declare(
    "AKHBAR_SAMPLES_PORT",
    int,
    None,
    "The port of the bundled sample sites (the registry's `${AKHBAR_SAMPLES_PORT}`).",
    "samples",
    shown_default="48123 for the demo",
)


def setting(name: str) -> Setting:
    try:
        return SETTINGS[name]
    except KeyError:
        raise KeyError(f"{name} is not a declared setting (akhbar/settings.py)") from None


def value(name: str, environ: dict[str, str] | None = None) -> Any:
    """The typed value of a setting now (the environment, else the default)."""
    return setting(name).value(environ)


def scrapy_settings(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """The crawl settings as Scrapy settings, under their own names (``AKHBAR_WORKERS``...)."""
    return {
        s.name: s.value(environ) for s in SETTINGS.values() if s.group in ("crawl", "observability")
    }


def _shown_default(s: Setting) -> str:
    if s.shown_default is not None:
        return s.shown_default
    if s.kind is bool:
        return "on" if s.default else "off"
    if isinstance(s.default, str):
        return f"`{s.default}`" if s.default else "empty"
    return f"{s.default:g}" if isinstance(s.default, float) else str(s.default)


def markdown_table() -> str:
    """The README's configuration table (one row a user-facing setting)."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for s in SETTINGS.values():
        if not s.internal:
            rows.append(f"| `{s.name}` | {_shown_default(s)} | {s.doc} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
