"""Scrapy's scheduler, its queue in memory up to a bound and on disk beyond it.

With ``JOBDIR`` set (every onionlab crawl has one, ``<run>/jobdir``), Scrapy's scheduler puts
every request in its disk queue: each one is turned into a dict (``Request.to_dict``, which
looks its callback up with ``inspect.getmembers`` over the whole spider), pickled, written,
read back, unpickled, and a priority's queue directory is created and removed each time it
fills and empties. On the open lab that was 7 % of the crawl process's CPU (py-spy,
concurrency 32), on the path from a page's answer to the next request going out.

The disk queue is not what makes a crawl resumable: the resume ledger is
(:mod:`onionlab.crawler.spidermiddlewares.resume` rebuilds the frontier from it alone and
discards Scrapy's persisted queue). The disk queue is what keeps memory bounded when the
frontier is large. So :class:`OnionScheduler` keeps up to ``ONIONLAB_SCHEDULER_MEMORY``
requests in memory (Scrapy's memory priority queue, the same order) and puts the next ones
on disk, as before; it takes from memory first, then from disk (as Scrapy's does). Bounded
at the default 2,000 requests (a few MB, the whole frontier of a scale-1 lab) whatever the
crawl's size; 0 puts every request on disk, as Scrapy does. Set as Scrapy's ``SCHEDULER``
by the add-on. Depends on Scrapy.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy.core.scheduler import Scheduler

from onionlab.crawler import default_settings


class OnionScheduler(Scheduler):
    """:class:`scrapy.core.scheduler.Scheduler` keeping a bounded number of requests in
    memory before it uses its disk queue (see the module)."""

    memory_limit = 0
    in_memory = 0

    @classmethod
    def from_crawler(cls, crawler: Any) -> OnionScheduler:
        scheduler = super().from_crawler(crawler)
        scheduler.memory_limit = max(
            0, default_settings.getint(crawler.settings, "ONIONLAB_SCHEDULER_MEMORY")
        )
        scheduler.in_memory = 0
        return scheduler

    def _dqpush(self, request: Request) -> bool:
        if self.in_memory < self.memory_limit:
            return False  # Scrapy's enqueue_request then keeps it in memory (_mqpush)
        return super()._dqpush(request)

    def _mqpush(self, request: Request) -> None:
        super()._mqpush(request)
        self.in_memory += 1

    def next_request(self) -> Request | None:
        request = super().next_request()
        # Scrapy's takes from memory first: while ``in_memory`` (every request pushed there,
        # an unserialisable one too, less those taken) is above 0, this one came from there.
        if request is not None and self.in_memory > 0:
            self.in_memory -= 1
        return request
