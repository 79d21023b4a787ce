"""Per-site parsers (``akhbar.siteparsers.SiteParser`` subclasses), one module per site.

A registry source points at one with ``parser = "akhbar.site_parsers.MODULE:ClassName"``.
``example.py`` shows the shape; copy it for a real site.
"""
