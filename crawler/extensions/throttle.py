"""AutoThrottle for onion services: Scrapy's own, tuned for Tor, never below a site's delay.

Scrapy's AutoThrottle adapts each site's download delay to its latency (delay ≈ latency /
``AUTOTHROTTLE_TARGET_CONCURRENCY``). Through Tor a page costs tens to hundreds of
milliseconds of circuit latency, so the add-on starts at a short delay (0.1 s, not
Scrapy's 5 s) and aims at a high concurrency per site (32, see ``onionlab.crawler.addon``): it slows
a site down only when its answers really get slow. This subclass adds one rule:
a site's profile delay (:mod:`onionlab.crawler.sitepolicy`, Scrapy's ``DOWNLOAD_SLOTS``) is a
floor AutoThrottle never goes under, so an instructor's "be gentle with this site" holds.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from scrapy.core.downloader import Slot
from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import Response


class OnionAutoThrottle(AutoThrottle):
    """AutoThrottle that keeps each slot at or above its ``DOWNLOAD_SLOTS`` delay."""

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self.floors: dict[Slot, float] = {}
        self.slot_delays = {
            key: float(value.get("delay", 0.0))
            for key, value in crawler.settings.getdict("DOWNLOAD_SLOTS").items()
            if isinstance(value, dict)
        }

    def _adjust_delay(self, slot: Slot, latency: float, response: Response) -> None:
        super()._adjust_delay(slot, latency, response)
        floor = self.floors.get(slot)
        if floor is None:
            host = (urlsplit(response.url).hostname or "").lower()
            floor = self.floors[slot] = self.slot_delays.get(host, 0.0)
        slot.delay = max(slot.delay, floor)
