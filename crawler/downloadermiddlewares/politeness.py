"""Politeness: honour ``429``/``503`` + ``Retry-After`` per site (a Scrapy downloader middleware).

Crawler layer, next to Scrapy's own ``RetryMiddleware`` (it must sit at a higher order so it
sees the response first). On a ``429`` (or a ``503`` that carries ``Retry-After``) it:

1. pauses the site's download slot for the ``Retry-After`` time (seconds or an HTTP date;
   a ``429`` without the header waits ``POLITENESS_DEFAULT_WAIT``), so the other queued
   requests to that site wait too. A site decides this number, so it is capped:
   ``ONIONLAB_RETRY_AFTER_MAX`` (60 s; ``POLITENESS_MAX_WAIT`` is its older name) is the
   longest one wait and also the most one request waits **in all** its retries together
   (a ``Retry-After: 99999999`` answered every time once stalled a site for 13 minutes: 6
   retries of 120 s). A ``Retry-After`` above the cap is counted as
   ``onionlab/dropped/retry_after_capped`` (the crawl waited the cap instead). Only a site's
   first answer over the cap costs the cap: a site that says it again (a broken or hostile
   one: it would stall its own crawl by the cap each time) then waits
   ``POLITENESS_DEFAULT_WAIT`` (5 s) per answer, still slowed as in 2.;
2. slows the slot: a floor under its download delay, doubled at most once per pause from
   ``POLITENESS_SLOWDOWN_DELAY`` up to ``POLITENESS_MAX_DELAY``, held for
   ``POLITENESS_SLOWDOWN_SECONDS`` after the last pause (AutoThrottle cannot undercut it);
3. sleeps that long (without blocking the reactor) and retries the request, at most
   ``POLITENESS_MAX_RETRIES`` times. After that the response goes on with ``dont_retry``
   set: Scrapy's ``HttpErrorMiddleware`` hands it to the spider's errback, which records it.

Stats: ``onionlab/politeness/retry_after`` (waits), ``…/wait_seconds`` (their sum),
``…/slowdowns``, ``…/gave_up``. ``POLITENESS_ENABLED`` (True) switches it off.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.utils.asyncio import sleep

from onionlab.crawler import default_settings

logger = logging.getLogger(__name__)

RETRIES_KEY = "politeness_retries"
WAITED_KEY = "politeness_waited"  # seconds this request has waited in all its retries
# A minute: the longest lockout the lab's obstacles give (the CAPTCHA's), and what real
# onion rate limits ask for; one request of a site never waits longer than this in all.
DEFAULT_RETRY_AFTER_MAX: float = default_settings.default("POLITENESS_MAX_WAIT")
MAX_DELAY_CEILING = 600.0  # seconds: no setting makes a pause longer


def parse_retry_after(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or HTTP date); None if bad."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    wall = time.time() if now is None else now
    return max(0.0, when.timestamp() - wall)


@dataclass
class SlotState:
    """What the middleware remembers about one download slot (one site)."""

    floor: float = 0.0
    original_delay: float | None = None
    paused_until: float = 0.0
    slow_until: float = 0.0


class RetryAfterMiddleware:
    """Downloader middleware: wait as told by ``Retry-After``, slow the site, retry, bounded."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        assert crawler.stats is not None
        self.stats = crawler.stats
        self.codes = {int(c) for c in default_settings.getlist(settings, "POLITENESS_HTTP_CODES")}
        self.max_retries = default_settings.getint(settings, "POLITENESS_MAX_RETRIES")
        cap = default_settings.getfloat(settings, "POLITENESS_MAX_WAIT")
        if default_settings.get(settings, "ONIONLAB_RETRY_AFTER_MAX") is not None:
            cap = settings.getfloat("ONIONLAB_RETRY_AFTER_MAX")
        self.max_wait = max(0.0, min(cap, MAX_DELAY_CEILING))
        self.default_wait = default_settings.getfloat(settings, "POLITENESS_DEFAULT_WAIT")
        self.slowdown_delay = default_settings.getfloat(settings, "POLITENESS_SLOWDOWN_DELAY")
        self.max_delay = min(
            default_settings.getfloat(settings, "POLITENESS_MAX_DELAY"), MAX_DELAY_CEILING
        )
        self.slowdown_seconds = default_settings.getfloat(settings, "POLITENESS_SLOWDOWN_SECONDS")
        self.slots: dict[str, SlotState] = {}
        self.over_cap_hosts: set[str] = set()  # sites that asked for more than the cap

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        if not crawler.settings.getbool("POLITENESS_ENABLED", True):
            raise NotConfigured("POLITENESS_ENABLED is off")
        return cls(crawler)

    def wait_for(self, response: Response) -> float | None:
        """How long ``response`` asks us to wait, or None when it is not a back-off answer."""
        if response.status not in self.codes:
            return None
        told = parse_retry_after(response.headers.get("Retry-After"))
        if told is None:
            if response.status != 429:
                return None  # a plain 503 is Scrapy's RetryMiddleware's business
            told = self.default_wait
        if told > self.max_wait:
            self.stats.inc_value("onionlab/dropped/retry_after_capped")
            host = response.url.split("/")[2] if "//" in response.url else response.url
            self.stats.inc_value(f"onionlab/politeness/capped/{host}")
            again = host in self.over_cap_hosts
            self.over_cap_hosts.add(host)
            cap = min(self.default_wait, self.max_wait) if again else self.max_wait
            logger.info(
                "%s asked to wait %.0f s (Retry-After); waiting %.0f s (%s)",
                response.url,
                told,
                cap,
                "it asked for more than the cap before" if again else "ONIONLAB_RETRY_AFTER_MAX",
            )
            return cap
        return told

    def _slot(self, request: Request) -> tuple[str, Any] | None:
        engine = self.crawler.engine
        downloader = getattr(engine, "downloader", None)
        if downloader is None:
            return None
        key = request.meta.get("download_slot") or downloader.get_slot_key(request)
        slot = downloader.slots.get(key)
        return (key, slot) if slot is not None else None

    def _slow_down(self, request: Request, wait: float) -> None:
        found = self._slot(request)
        if found is None:
            return
        key, slot = found
        state = self.slots.setdefault(key, SlotState())
        now = time.monotonic()
        if state.original_delay is None:
            state.original_delay = slot.delay
        if now >= state.paused_until:  # one step per pause, not one per in-flight 429
            state.floor = min(max(state.floor * 2, self.slowdown_delay), self.max_delay)
            self.stats.inc_value("onionlab/politeness/slowdowns")
        state.paused_until = max(state.paused_until, now + wait)
        state.slow_until = state.paused_until + self.slowdown_seconds
        slot.delay = max(slot.delay, state.floor)
        # Scrapy's slot sends its next request ``delay`` after ``lastseen``: move that point
        # to the end of the pause so queued requests to this site wait as well.
        slot.lastseen = max(slot.lastseen, state.paused_until - slot.delay)

    def _keep_floor(self, request: Request) -> None:
        found = self._slot(request)
        if found is None or found[0] not in self.slots:
            return
        key, slot = found
        state = self.slots[key]
        if time.monotonic() < state.slow_until:
            slot.delay = max(slot.delay, state.floor)  # runs after AutoThrottle's adjustment
        else:
            if state.original_delay is not None:
                slot.delay = max(state.original_delay, 0.0)
            del self.slots[key]

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        wait = self.wait_for(response)
        if wait is None:
            self._keep_floor(request)
            return response
        self._slow_down(request, wait)
        retries = int(request.meta.get(RETRIES_KEY, 0))
        waited = float(request.meta.get(WAITED_KEY, 0.0))
        remaining = self.max_wait - waited  # all its waits together stay under the cap
        exhausted = wait > 0 and remaining <= 0
        wait = max(0.0, min(wait, remaining))
        if retries >= self.max_retries or request.meta.get("dont_retry") or exhausted:
            self.stats.inc_value("onionlab/politeness/gave_up")
            request.meta["dont_retry"] = True  # Scrapy's RetryMiddleware must not hammer on
            return response  # HttpErrorMiddleware → the spider's errback records it
        self.stats.inc_value("onionlab/politeness/retry_after")
        self.stats.inc_value("onionlab/politeness/wait_seconds", round(wait, 3))
        await sleep(wait)
        retry = request.copy()
        retry.meta[RETRIES_KEY] = retries + 1
        retry.meta[WAITED_KEY] = waited + wait
        retry.dont_filter = True
        retry.priority = request.priority + 1
        return retry
