"""`scrapy parse` only looks: it records no crawl run, stores nothing, keeps no journal."""

from __future__ import annotations

import argparse

from scrapy.commands.parse import Command as ScrapyParseCommand


class Command(ScrapyParseCommand):
    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        self.settings.set("AKHBAR_STORE", False, priority="cmdline")
        self.settings.set("AKHBAR_SKIP_KNOWN", False, priority="cmdline")
