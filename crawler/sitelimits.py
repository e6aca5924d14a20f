"""Applies each site's profile limits to the requests a spider yields (crawler layer).

A spider middleware placed after :class:`crawler.scope.ScopeMiddleware` (so it sees
canonical URLs) and after Scrapy's ``DepthMiddleware`` has set ``meta["depth"]``. Per site
(see :mod:`crawler.siteprofiles`): ``allow``/``deny`` regexes on path and query, ``depth``
(link depth from the start page) and ``max_pages`` (distinct URLs requested). Every request
it drops is counted under ``onionlab/site_limits/<reason>`` in Scrapy's stats, overall and
per site (``onionlab/site_limits/<reason>/<host>``), never silently. Per-site concurrency
and delay are Scrapy's own ``DOWNLOAD_SLOTS``, set by the runner from the same profiles.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector

from crawler.siteprofiles import SiteProfiles, from_settings


class SiteLimitsMiddleware:
    """Spider middleware: drop requests a site's profile does not allow, counting why."""

    def __init__(self, stats: StatsCollector, profiles: SiteProfiles) -> None:
        self.stats = stats
        self.profiles = profiles
        self.seen: dict[str, set[str]] = defaultdict(set)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SiteLimitsMiddleware:
        assert crawler.stats is not None
        return cls(crawler.stats, from_settings(crawler.settings))

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
        if profile.max_pages:
            seen = self.seen[host]
            if request.url not in seen:
                if len(seen) >= profile.max_pages:
                    return "max_pages"
                seen.add(request.url)
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
