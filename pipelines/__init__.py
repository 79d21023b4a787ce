"""Scrapy item pipelines: thin adapters over the akhbar core (extraction -> quality
filter -> dedup and storage). Each stage only hands its result forward."""
