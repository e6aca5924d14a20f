"""Scrapy extensions of the crawler core: live progress, AutoThrottle tuned for Tor."""
