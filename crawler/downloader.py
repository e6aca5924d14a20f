"""Scrapy's downloader, its global concurrency not taken up by pages waiting for a worker
nor by a paused site.

Scrapy counts a request against ``CONCURRENT_REQUESTS`` from the moment it enters the
downloader until its response has passed every downloader middleware. Two kinds of request
took network concurrency away that way, measured:

- pages waiting for an extraction worker: onionlab's obstacle gate
  (:mod:`onionlab.crawler.downloadermiddlewares.gate`) has each page worked on while it is
  still in the middlewares (the page is parsed once, for the gate and for its items and
  links); at ``--concurrency 32`` about 13 of the 32 were such pages, and the crawl got
  205 pages/s where Tor carried 358 (``bench/transport_ceiling.py``);
- requests queued for a paused site (``Retry-After``:
  :mod:`onionlab.crawler.downloadermiddlewares.politeness`): beside the hostile lab, the
  hostile site's requests filled the downloader while it was paused for 60 s, and the
  last normal site waited out the whole pause with it (34 pages/s instead of 105).

:class:`OnionDownloader` counts against ``CONCURRENT_REQUESTS`` the requests not yet
answered, except, for a site paused for over :data:`PAUSED` seconds, as many of its queued
requests as its own concurrency. Answered pages still in the middlewares have a bound of
their own, ``CONCURRENT_REQUESTS``, and the downloader never holds more than :data:`HELD`
times that. Requests queued for a site beyond what it may send at once still count: a site
that dies keeps no more of them than before, each of which would wait its turn to fail
(a mirror-move test ran past its time bound when they did not count). The engine is asked
for the next request as soon as one is answered, not once its page has left the
middlewares. Set as Scrapy's ``DOWNLOADER`` by the add-on.
Depends on Scrapy.
"""

from __future__ import annotations

from time import monotonic
from typing import Any

from scrapy import Request, signals
from scrapy.core.downloader import Downloader
from scrapy.crawler import Crawler

PAUSED = 1.0  # seconds: a site whose next request waits longer than this is paused
HELD = 2  # times CONCURRENT_REQUESTS: the most requests ever in the downloader


class OnionDownloader(Downloader):
    """A :class:`scrapy.core.downloader.Downloader` whose ``CONCURRENT_REQUESTS`` leaves out
    pages waiting for a worker and a paused site's queue (see the module)."""

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

    @property
    def ready(self) -> int:
        """What counts against ``CONCURRENT_REQUESTS``: the requests not answered yet, but
        of a paused site's queue only what is over its own concurrency."""
        free = 0
        now = monotonic()
        for slot in self.slots.values():
            if slot.latercall is not None and slot.lastseen + slot.delay - now > PAUSED:
                free += min(len(slot.active), slot.concurrency)  # nothing of it is sent
        return self.unanswered - free

    def needs_backout(self) -> bool:
        limit = self.total_concurrency
        if limit <= 0:  # Scrapy's: 0 means no limit
            return False
        return (
            len(self.answered) >= limit or len(self.active) >= HELD * limit or self.ready >= limit
        )
