"""Checks on the shape of the repository: each layer imports only the layers below it (the
import-linter contracts of pyproject.toml), the core stays free of the outer layers even at run
time, and nothing the tests or the demo need lives outside the clone."""

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


LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
LAYER_PACKAGES = ("cli", "api", "crawlers", "pipelines", "db", "akhbar")


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=root, capture_output=True, text=True, timeout=120
    )


def test_import_contracts_hold() -> None:
    """The layers of pyproject.toml's [tool.importlinter]: cli > api > crawlers > pipelines >
    db > akhbar, the core free of the frameworks, and nothing below the interfaces importing
    the scheduler."""
    result = _lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


def test_import_contracts_catch_an_upward_import(tmp_path: Path) -> None:
    """The same check on a copy of the packages where the pipelines import the crawlers and
    the core imports SQLAlchemy: both contracts break, with the offending lines named."""
    import shutil

    for name in LAYER_PACKAGES:
        shutil.copytree(REPO / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    with (tmp_path / "pipelines" / "quality.py").open("a", encoding="utf-8") as fh:
        fh.write("\nimport crawlers.queue\n")
    with (tmp_path / "akhbar" / "outcomes.py").open("a", encoding="utf-8") as fh:
        fh.write("\nimport sqlalchemy\n")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert "pipelines.quality -> crawlers.queue" in result.stdout
    assert "akhbar.outcomes -> sqlalchemy" in result.stdout
    assert "1 kept, 2 broken" in result.stdout
