"""akhbar core: extraction, Arabic normalisation, dates and dedup, with no Scrapy import.

Scrapy spiders and item pipelines (``crawlers/``, ``pipelines/``) are thin adapters over
these functions, so stored HTML can be re-processed without crawling again.
"""

__version__ = "0.1.0"
