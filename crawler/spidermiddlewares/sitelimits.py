"""Applies each site's profile limits to the requests a spider yields (crawler layer).

A spider middleware placed after :class:`onionlab.crawler.spidermiddlewares.scope.ScopeMiddleware`
(so it sees canonical URLs) and after Scrapy's ``DepthMiddleware`` has set ``meta["depth"]``. Per
site (see :mod:`onionlab.crawler.sitepolicy`): ``allow``/``deny`` regexes on path and query,
``depth`` (link depth from the start page) and ``max_pages`` (distinct URLs requested). Every
request it drops is counted under ``onionlab/site_limits/<reason>`` in Scrapy's stats, overall and
per site (``onionlab/site_limits/<reason>/<host>``), and under the crawl's common drop
reasons ``onionlab/dropped/<reason>`` (``site_budget``, ``depth``, ``site_deny``,
``site_not_allowed``), never silently. Per-site concurrency and delay are Scrapy's own
``DOWNLOAD_SLOTS``, set by the runner from the same profiles.

**Every site has a page budget by default**: ``ONIONLAB_SITE_MAX_PAGES`` (50,000; a
profile's ``max_pages`` overrides it per site or in ``[defaults]``, 0 = none). Without one,
a site that generates unique pages (letters-only paths escape the trap budget of
:mod:`onionlab.crawler.spidermiddlewares.scope`) takes the whole global page cap
(``CLOSESPIDER_PAGECOUNT``, ``--max-pages``: 1,000,000) and no other site is fetched. Why
50,000: four times the largest site of a scale-25 lab (12,500 pages; 100 times the default
lab's) and above most real markets' listing counts, so no real site is cut short, while one
generator costs at most a twentieth of the global cap (a few minutes of crawling). The crawler's
memory no longer grows with the pages it has seen (:mod:`onionlab.crawler.frontier`), so the
caps are budgets of time, not of memory. A site that needs more is given its own
``max_pages``. The hosts over budget are listed in the stats
(``onionlab/site_limits/max_pages/<host>``) and the summary (``sites.over_budget``).

:class:`CrawlCapReport` (an extension) says what the global caps left undone: when the page
cap or the time cap (``CLOSESPIDER_TIMEOUT``) stops the crawl, the requests still in the
scheduler are counted as ``onionlab/dropped/page_cap`` and logged.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector

from onionlab.crawler import default_settings
from onionlab.crawler.frontier import DigestSet
from onionlab.crawler.sitepolicy import DEFAULT_SITE_MAX_PAGES, SiteProfiles, from_settings

logger = logging.getLogger(__name__)

# onionlab/site_limits/<reason> -> the crawl's common onionlab/dropped/<reason>
DROPPED = {
    "max_pages": "site_budget",
    "depth": "depth",
    "deny": "site_deny",
    "not_allowed": "site_not_allowed",
}
# Scrapy's CloseSpider reasons for the global caps (pages, time; items and errors too).
CAP_REASONS = frozenset(
    {
        "closespider_pagecount",
        "closespider_pagecount_no_item",
        "closespider_timeout",
        "closespider_timeout_no_item",
        "closespider_itemcount",
    }
)


class SiteLimitsMiddleware:
    """Spider middleware: drop requests a site's profile does not allow, counting why."""

    def __init__(
        self,
        stats: StatsCollector,
        profiles: SiteProfiles,
        site_max_pages: int = DEFAULT_SITE_MAX_PAGES,
    ) -> None:
        self.stats = stats
        self.profiles = profiles
        self.site_max_pages = site_max_pages
        self.requested = DigestSet()  # the URLs admitted (onionlab.crawler.frontier)
        self.counts: dict[str, int] = defaultdict(int)  # host -> distinct URLs admitted
        self.over_budget: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SiteLimitsMiddleware:
        assert crawler.stats is not None
        budget = default_settings.getint(crawler.settings, "ONIONLAB_SITE_MAX_PAGES")
        return cls(crawler.stats, from_settings(crawler.settings), max(0, budget))

    def reason(self, request: Request) -> str | None:
        """Why ``request`` must be dropped, or ``None`` when its site's profile admits it."""
        parts = urlsplit(request.url)
        host = (parts.hostname or "").lower()
        profile = self.profiles.for_host(host)
        refused = profile.admits_path(parts.path + (f"?{parts.query}" if parts.query else ""))
        if refused:
            return refused
        if profile.depth and int(request.meta.get("depth", 0)) > profile.depth:
            return "depth"
        budget = self.site_max_pages if profile.max_pages is None else profile.max_pages
        if budget and request.url not in self.requested:
            if self.counts[host] >= budget:
                if host not in self.over_budget:
                    self.over_budget.add(host)
                    logger.warning(
                        "site %s reached its page budget (%d pages; ONIONLAB_SITE_MAX_PAGES "
                        "or its profile's max_pages): its further pages are not requested",
                        host,
                        budget,
                    )
                return "max_pages"
            self.requested.add(request.url)
            self.counts[host] += 1
        return None

    def _filter(self, item: Any) -> Any:
        if not isinstance(item, Request):
            return item
        why = self.reason(item)
        if why is None:
            return item
        host = (urlsplit(item.url).hostname or "").lower()
        self.stats.inc_value(f"onionlab/site_limits/{why}")
        self.stats.inc_value(f"onionlab/site_limits/{why}/{host}")
        self.stats.inc_value(f"onionlab/dropped/{DROPPED.get(why, why)}")
        return None

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for item in start:
            if self._filter(item) is not None:
                yield item

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterator[Any]:
        for item in result:
            if self._filter(item) is not None:
                yield item

    async def process_spider_output_async(
        self, response: Response, result: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        async for item in result:
            if self._filter(item) is not None:
                yield item


class CrawlCapReport:
    """Extension: counts the requests a global cap left unfetched (``dropped/page_cap``).

    Scrapy's CloseSpider stops the crawl at ``CLOSESPIDER_PAGECOUNT`` pages or after
    ``CLOSESPIDER_TIMEOUT`` seconds and says nothing of what was still queued. Pending at
    the end = pending at the start (a resumed crawl's queue) + scheduled − dequeued in this
    session (Scrapy's own ``scheduler/*`` stats; the queue itself is closed by then).
    """

    def __init__(self, crawler: Crawler) -> None:
        assert crawler.stats is not None
        self.crawler = crawler
        self.stats = crawler.stats
        self.at_start = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlCapReport:
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Any = None) -> None:
        engine = self.crawler.engine
        slot = getattr(engine, "_slot", None) or getattr(engine, "slot", None)
        scheduler = getattr(slot, "scheduler", None)
        try:
            self.at_start = len(scheduler) if scheduler is not None else 0  # type: ignore[arg-type]
        except TypeError:
            self.at_start = 0

    def pending(self) -> int:
        enqueued = int(self.stats.get_value("scheduler/enqueued", 0))
        dequeued = int(self.stats.get_value("scheduler/dequeued", 0))
        return max(0, self.at_start + enqueued - dequeued)

    def spider_closed(self, spider: Any = None, reason: str = "") -> None:
        if reason not in CAP_REASONS:
            return
        pending = self.pending()
        if not pending:
            return
        self.stats.set_value("onionlab/dropped/page_cap", pending)
        logger.warning(
            "the crawl stopped at a global cap (%s) with %d requests not fetched: raise "
            "--max-pages / --max-seconds, or resume the run",
            reason,
            pending,
        )
