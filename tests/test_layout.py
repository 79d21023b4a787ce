"""Checks on the shape of the repository: the core stays free of the outer layers, and nothing
the tests or the demo need lives outside the clone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Packages the core must not load: the outer layers and the libraries they are built on.
FORBIDDEN = (
    "scrapy",
    "twisted",
    "sqlalchemy",
    "psycopg",
    "typer",
    "fastapi",
    "prometheus_client",
    "db",
    "crawlers",
    "pipelines",
    "api",
    "cli",
    "scheduler",
)


def _core_modules() -> list[str]:
    """Every module of the akhbar package, sub-packages included."""
    names = []
    for path in sorted((REPO / "akhbar").rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_core_imports_none_of_the_outer_layers() -> None:
    """Import every core module in a fresh interpreter and list what it pulled in."""
    modules = _core_modules()
    assert "akhbar.extract" in modules and "akhbar.dedup" in modules
    probe = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    loaded = json.loads(out)
    leaked = sorted(
        name for name in loaded if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    )
    assert leaked == [], f"the core imports outer layers: {leaked}"


# Built from parts so that this file does not match itself.
_SHARED = "sha" + "red"
_OUTSIDE_MARKERS = (f"/work/{_SHARED}", f'"{_SHARED}" / ', f"../{_SHARED}")


def test_nothing_reads_outside_the_clone() -> None:
    """A user's clone has no shared folder beside it: no test, sample, demo or service code may
    read it."""
    offenders = []
    for folder in (
        "akhbar",
        "crawlers",
        "pipelines",
        "db",
        "api",
        "cli",
        "samples",
        "tests",
        "migrations",
    ):
        for path in (REPO / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if any(marker in text for marker in _OUTSIDE_MARKERS):
                offenders.append(str(path.relative_to(REPO)))
    assert offenders == []


def test_repository_carries_the_test_data() -> None:
    seeds = sorted((REPO / "tests" / "data" / "seeds").glob("*.txt"))
    assert len(seeds) == 5
    bench = REPO / "bench" / "data" / "article-extraction-benchmark"
    assert len(list((bench / "html").glob("*.html.gz"))) == 181
    assert len(json.loads((bench / "ground-truth.json").read_text(encoding="utf-8"))) == 181
