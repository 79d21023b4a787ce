"""`akhbar demo`: the whole service on the bundled sample sites and the embedded database."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from cli.commands._common import console, fail

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLES_REGISTRY = REPO_ROOT / "samples" / "sources.toml"
DEMO_PORT = 48123


def register(app: typer.Typer) -> None:
    app.command()(demo)


def demo() -> None:
    """Serve the sample news sites on 127.0.0.x, crawl them all, print what was stored."""
    from akhbar.samples import SampleSites
    from akhbar.sources import load_sources
    from cli.commands._common import ready_database
    from cli.commands.crawl import run_and_report
    from db.engine import get_engine, mask_url, session_scope
    from db.queries import corpus_counts

    url = ready_database()
    # A fixed port keeps the sample URLs the same from one demo run to the next, so a
    # second run finds everything already stored.
    port = _demo_port()
    sites = SampleSites(port=port)
    try:
        sites.start()
    except OSError as exc:
        raise fail(
            f"Cannot serve the sample sites on port {port} ({exc.strerror or exc}); "
            "set AKHBAR_SAMPLES_PORT to a free port."
        ) from None
    with sites:
        os.environ.update(sites.env())
        os.environ["AKHBAR_SOURCES"] = str(SAMPLES_REGISTRY)
        names = sorted(load_sources(SAMPLES_REGISTRY))
        console.print(f"Serving {len(names)} sample sites on port {sites.port}.")
        # Local sites: no need to be gentle with ourselves.
        totals = run_and_report(
            names,
            trigger="demo",
            settings={
                "AUTOTHROTTLE_ENABLED": False,
                "DOWNLOAD_DELAY": 0,
                "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
            },
        )
    with session_scope(get_engine(url)) as session:
        counts = corpus_counts(session)
    if totals.get("stored", 0) == 0:
        console.print(
            f"Nothing new: every article on the sample sites is already stored "
            f"({totals.get('known', 0)} known URLs skipped)."
        )
    console.print(
        f"\nThe data is in {mask_url(url)}: {counts['articles']} articles, "
        f"{counts['duplicates']} duplicates recorded, {counts['sources']} sources.\n"
        'Query it with: psql "$(.venv/bin/akhbar db url)" (tables: docs/schema.md).'
    )


def _demo_port() -> int:
    value = os.environ.get("AKHBAR_SAMPLES_PORT", str(DEMO_PORT))
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise fail(f"AKHBAR_SAMPLES_PORT={value!r} is not a port number (1-65535).")
    return int(value)
