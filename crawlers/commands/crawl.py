"""`scrapy crawl` that tells the truth: a JSON-lines run log from the first line, and a
non-zero exit code when the run's outcome is ``failed`` or ``interrupted``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from scrapy.commands.crawl import Command as ScrapyCrawlCommand

from crawlers.runlog import install_run_log

# Outcomes after which `scrapy crawl` (and `akhbar crawl`) exit non-zero.
FAILING_OUTCOMES = frozenset({"failed", "interrupted"})


class Command(ScrapyCrawlCommand):
    def __init__(self) -> None:
        super().__init__()
        self._crawlers: list[Any] = []

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        if args:
            install_run_log(self.settings, args[0])

    def _create_crawler(self, spname: Any) -> Any:
        crawler = super()._create_crawler(spname)
        self._crawlers.append(crawler)  # the process forgets finished crawlers
        return crawler

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        super().run(args, opts)
        if self.exitcode:
            return
        for crawler in self._crawlers:
            outcome = getattr(crawler, "akhbar_outcome", None)
            if outcome is None:
                print(f"{crawler.spidercls.name}: the crawl did not run.", file=sys.stderr)
                self.exitcode = 1
            elif outcome.status in FAILING_OUTCOMES:
                reasons = "; ".join(outcome.reasons)
                print(f"{crawler.spidercls.name}: {outcome.status}: {reasons}", file=sys.stderr)
                self.exitcode = 1
