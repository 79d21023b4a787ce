"""One spider class per registry source, so `scrapy list` and `scrapy crawl NAME` work.

The registry is read when Scrapy loads this module: ``AKHBAR_SOURCES`` picks the file.
"""

from __future__ import annotations

from akhbar.sources import load_sources
from crawlers.spiders.news import NewsSpider

for _source in load_sources().values():
    _cls = type(
        f"{_source.name.title().replace('_', '')}Spider",
        (NewsSpider,),
        {"name": _source.name, "source": _source, "__module__": __name__},
    )
    globals()[_cls.__name__] = _cls

# The loop variables would otherwise be found as one more spider class.
del _cls, _source
