"""Scrapy spider middlewares of the crawler core: scope, per-site limits, the resume ledger."""
