"""The scheduler's queues: requests in memory up to a bound shared by all of them, on disk
beyond it.

With ``JOBDIR`` set (every onionlab crawl has one, ``<run>/jobdir``), Scrapy's scheduler puts
every request in a disk queue: each one is turned into a dict (``Request.to_dict``, which
looks its callback up with ``inspect.getmembers`` over the whole spider), pickled, written,
read back, unpickled, and a queue file is made and removed each time a site's priority
level fills and empties. On the open lab that was 7 % of the crawl process's CPU (py-spy,
concurrency 32), on the path from a page's answer to the next request going out.

The disk queue is not what makes a crawl resumable: the resume ledger is
(:mod:`onionlab.crawler.spidermiddlewares.resume` rebuilds the frontier from it alone and
discards Scrapy's persisted queue). It is what keeps memory bounded when the frontier is
large. So :class:`MemoryFirstDiskQueue`, Scrapy's ``SCHEDULER_DISK_QUEUE`` here, keeps a
request in memory while the crawl holds fewer than ``ONIONLAB_SCHEDULER_MEMORY`` there
(2,000 by default: a few MB, the whole frontier of a scale-1 lab), and on disk (Scrapy's
LIFO disk queue, made only when needed) beyond. It is one queue per site and priority as
before, under Scrapy's priority queues: which site goes next is Scrapy's choice exactly as
before (the site with the fewest requests in flight), wherever its requests are kept. A
first version kept the memory requests in a queue of their own, taken first: beside the
hostile lab the hostile site's newest requests filled it and the normal sites' waited on
disk (the e2e pace test failed). Set by the add-on. Depends on Scrapy.
"""

from __future__ import annotations

import os
import weakref
from typing import Any

from scrapy import Request
from scrapy.squeues import PickleLifoDiskQueue
from scrapy.utils.misc import build_from_crawler

from onionlab.crawler import default_settings

# Per crawl: [requests held in memory by all its queues, the bound].
_HELD: weakref.WeakKeyDictionary[Any, list[int]] = weakref.WeakKeyDictionary()


class MemoryFirstDiskQueue:
    """A LIFO queue of requests for one site and priority: in memory while the crawl's
    queues hold fewer than ``ONIONLAB_SCHEDULER_MEMORY`` requests there, else on disk."""

    def __init__(self, crawler: Any, key: str) -> None:
        self.crawler = crawler
        self.key = key
        self.memory: list[Request] = []
        self.disk: Any = None
        held = _HELD.get(crawler)
        if held is None:
            bound = default_settings.getint(crawler.settings, "ONIONLAB_SCHEDULER_MEMORY")
            held = _HELD[crawler] = [0, max(0, bound)]
        self.held = held
        if os.path.exists(key):  # a queue Scrapy saved at a graceful stop
            self._open_disk()

    @classmethod
    def from_crawler(cls, crawler: Any, key: str, *_: Any, **__: Any) -> MemoryFirstDiskQueue:
        return cls(crawler, key)

    def _open_disk(self) -> Any:
        if self.disk is None:
            self.disk = build_from_crawler(PickleLifoDiskQueue, self.crawler, self.key)
        return self.disk

    def push(self, request: Request) -> None:
        if self.held[0] < self.held[1]:
            self.memory.append(request)
            self.held[0] += 1
            return
        self._open_disk().push(request)  # ValueError if it cannot be: Scrapy keeps it in memory
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("onionlab/scheduler/on_disk")

    def pop(self) -> Request | None:
        if self.memory:
            self.held[0] -= 1
            return self.memory.pop()
        return self.disk.pop() if self.disk is not None else None

    def peek(self) -> Request | None:
        if self.memory:
            return self.memory[-1]
        return self.disk.peek() if self.disk is not None else None

    def __len__(self) -> int:
        return len(self.memory) + (len(self.disk) if self.disk is not None else 0)

    def close(self) -> None:
        # What memory holds at a stop is in the resume ledger, which a resume replays.
        self.held[0] -= len(self.memory)
        self.memory = []
        if self.disk is not None:
            self.disk.close()
