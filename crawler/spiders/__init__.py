"""Scrapy spiders of the crawler core."""
