"""Scrapy commands overridden for akhbar (COMMANDS_MODULE in crawlers/settings.py)."""
