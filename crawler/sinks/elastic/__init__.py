"""The Elasticsearch sink: index design, bulk indexing with a spool, crawl events.

Framework core: depends on :mod:`onionlab.crawler.items`, :mod:`onionlab.crawler.runs.rundir` and
``elasticsearch``, never on plugins or the lab. docs/elasticsearch.md describes the indices and
fields; ``onionlab index`` is :mod:`onionlab.crawler.commands.index`.
"""
