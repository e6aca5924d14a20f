"""Scrapy's downloader, its global concurrency counting the requests still to be answered.

Scrapy counts a request against ``CONCURRENT_REQUESTS`` from the moment it enters the
downloader until its response has passed every downloader middleware. onionlab's obstacle
gate (:mod:`onionlab.crawler.downloadermiddlewares.gate`) has each page worked on by an
extraction worker while it is still in the middlewares (the page is parsed once, for the
gate and for its items and links), so with Scrapy's count the pages waiting for a worker
took network concurrency away: at ``--concurrency 32`` about 13 of the 32 were such pages,
and the crawl got 205 pages/s where Tor carried 358 (``bench/transport_ceiling.py``).

:class:`OnionDownloader` counts the requests not yet answered (queued for their site, or
on the network) against ``CONCURRENT_REQUESTS``, and those answered and still in the
middlewares against a bound of their own of the same size: at most twice
``CONCURRENT_REQUESTS`` requests are ever in the downloader, and never more than
``CONCURRENT_REQUESTS`` on the network; and the engine is asked for the next request as soon
as one is answered, not once its page has left the middlewares. Set as Scrapy's
``DOWNLOADER`` by the add-on.
Depends on Scrapy.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request, signals
from scrapy.core.downloader import Downloader
from scrapy.crawler import Crawler


class OnionDownloader(Downloader):
    """A :class:`scrapy.core.downloader.Downloader` whose ``CONCURRENT_REQUESTS`` bounds the
    requests not yet answered; answered ones still in the middlewares are bounded apart."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.answered: set[Request] = set()  # downloaded (or failed), still in the middlewares
        crawler.signals.connect(self._answered, signal=signals.request_left_downloader)

    def _answered(self, request: Request, **_: Any) -> None:
        if request in self.active:
            self.answered.add(request)
            # Scrapy's engine asks for the next request only once a fetch has passed every
            # middleware: ask now, the network slot being free (the engine's private slot:
            # the Scrapy minor version is pinned).
            try:
                engine = self.crawler.engine
            except RuntimeError:  # no crawl running (Scrapy's "engine is not set yet")
                return
            nextcall = getattr(getattr(engine, "_slot", None), "nextcall", None)
            if nextcall is not None:
                nextcall.schedule()

    def fetch(self, request: Request, spider: Any = None) -> Any:
        deferred = super().fetch(request)

        def forget(result: Any) -> Any:
            self.answered.discard(request)
            return result

        deferred.addBoth(forget)
        return deferred

    @property
    def unanswered(self) -> int:
        """Requests in the downloader not answered yet: queued for their site or on the wire."""
        return len(self.active) - len(self.answered)

    def needs_backout(self) -> bool:
        limit = self.total_concurrency
        if limit <= 0:  # Scrapy's: 0 means no limit
            return False
        return self.unanswered >= limit or len(self.answered) >= limit
