"""Scrapy's downloader, its global concurrency counting the requests that can be on the wire.

Scrapy counts a request against ``CONCURRENT_REQUESTS`` from the moment it enters the
downloader until its response has passed every downloader middleware. Three kinds of
request took network concurrency away that way, measured:

- pages waiting for an extraction worker: onionlab's obstacle gate
  (:mod:`onionlab.crawler.downloadermiddlewares.gate`) has each page worked on while it is
  still in the middlewares (the page is parsed once, for the gate and for its items and
  links); at ``--concurrency 32`` about 13 of the 32 were such pages, and the crawl got
  205 pages/s where Tor carried 358 (``bench/transport_ceiling.py``);
- requests queued for a site already at its own concurrency (a page gives a dozen links
  of its own site at once): queued, they counted as if on the wire;
- requests queued for a paused site (``Retry-After``:
  :mod:`onionlab.crawler.downloadermiddlewares.politeness`): beside the hostile lab, the
  hostile site's requests filled the downloader while it was paused for 60 s, and the
  last normal site waited out the whole pause with it.

:class:`OnionDownloader` counts against ``CONCURRENT_REQUESTS`` only the requests that can
be on the wire: those still in the request middlewares, and of each site's requests not
yet answered at most its concurrency, none while it is paused for over
:data:`PAUSED` seconds. The others have bounds of their own: answered pages still in the
middlewares at most ``CONCURRENT_REQUESTS``, and all requests in the downloader at most
:data:`HELD` times that (each is a few KB: 128 of them hold no memory to speak of). The
engine is asked for the next request as soon as one is answered, not once its page has left
the middlewares. Set as Scrapy's ``DOWNLOADER`` by the add-on.
Depends on Scrapy.
"""

from __future__ import annotations

from time import monotonic
from typing import Any

from scrapy import Request, signals
from scrapy.core.downloader import Downloader
from scrapy.crawler import Crawler

PAUSED = 1.0  # seconds: a site whose next request waits longer than this is paused
HELD = 4  # times CONCURRENT_REQUESTS: the most requests ever in the downloader


class OnionDownloader(Downloader):
    """A :class:`scrapy.core.downloader.Downloader` whose ``CONCURRENT_REQUESTS`` bounds the
    requests that can be on the wire; the others are bounded apart (see the module)."""

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
        """Requests that can be on the wire: those in the request middlewares, and of each
        site's (its slot's) at most its concurrency, none while it is paused."""
        in_slots = 0
        ready = 0
        now = monotonic()
        for slot in self.slots.values():
            waiting = len(slot.active)
            if not waiting:
                continue
            in_slots += waiting
            if slot.latercall is not None and slot.lastseen + slot.delay - now > PAUSED:
                continue  # paused: nothing of it goes on the wire for a while
            ready += min(waiting, slot.concurrency)
        return self.unanswered - in_slots + ready

    def needs_backout(self) -> bool:
        limit = self.total_concurrency
        if limit <= 0:  # Scrapy's: 0 means no limit
            return False
        return (
            len(self.answered) >= limit or len(self.active) >= HELD * limit or self.ready >= limit
        )
