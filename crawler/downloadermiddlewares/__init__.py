"""Scrapy downloader middlewares of the crawler core: obstacle gate, politeness, liveness,
Tor health, off-site redirects, timeouts."""
