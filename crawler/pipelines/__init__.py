"""Scrapy item pipelines of the crawler core."""
