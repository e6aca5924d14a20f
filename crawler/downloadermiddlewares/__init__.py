"""Scrapy downloader middlewares of the crawler core: obstacle gate, politeness, liveness, Tor."""
