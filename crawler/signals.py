"""onionlab's own Scrapy signals, beside Scrapy's (``scrapy.signals``).

Send one with ``crawler.signals.send_catch_log(signal=..., **arguments)``; receive it with
``crawler.signals.connect(handler, signal=...)``. A handler takes the arguments by name (and
``**kwargs`` for the rest, as Scrapy's handlers do). Depends on nothing.
"""

from __future__ import annotations

page_failed = object()
"""Sent when a page could not be fetched for good (after Scrapy's retries), or when a
redirect or meta refresh leaving the crawl was not followed.

Sent by the spider's errback (:meth:`onionlab.crawler.spiders.onion.OnionSpider.on_error`)
and :class:`onionlab.crawler.downloadermiddlewares.offsite.OffsiteRefreshMiddleware`;
received by the run directory pipeline (``errors.ndjson``), the Elasticsearch pipeline and
the progress display. Arguments: ``url`` (str, the page), ``kind`` (str: ``http_<status>``,
an exception's class name such as ``site_gone``, or ``offsite_redirect``), ``message``
(str, one line), ``spider``.
"""

failure_saved = object()
"""Sent once a page failure is written to ``errors.ndjson``: the resume ledger records the
page as failed only then (:class:`onionlab.crawler.spidermiddlewares.resume.ResumeMiddleware`).

Sent by :class:`onionlab.crawler.pipelines.rundir.RunDirPipeline`. Arguments: ``url`` (str).
"""
