"""Data only: the Elasticsearch component templates and per-kind mappings, as JSON files.

Read by :mod:`onionlab.crawler.sinks.elastic.templates` through :mod:`importlib.resources`.
"""
