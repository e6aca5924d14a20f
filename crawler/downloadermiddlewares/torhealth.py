"""Tor health: survive a Tor restart in the middle of a crawl (a Scrapy downloader middleware).

Crawler layer, next to :mod:`onionlab.crawler.tor.handler`. When a download fails because Tor's
SOCKS port itself refuses or drops the connection (the handler raises
:class:`~onionlab.crawler.tor.errors.SocksTransientError` with no reply code), Tor is treated as
down for the whole crawl, not for one site:

1. one log line says so ("Tor's SOCKS port 127.0.0.1:N stopped answering — waiting up to
   180 s for it to come back"); every new request waits in :meth:`TorHealth.process_request`
   and every request that failed that way waits in :meth:`TorHealth.process_exception`;
2. the SOCKS port is probed every ``TOR_PROBE_INTERVAL`` seconds with the "Tor is not an
   HTTP Proxy" check of :mod:`onionlab.crawler.tor.check` (in a thread: it is blocking);
3. when Tor answers again, held requests go on and the failed ones are sent again
   (``dont_filter=True``): no page is lost. After ``TOR_OUTAGE_MAX_SECONDS`` without an
   answer, they fail with :class:`TorUnreachable` and the spider's errback records them;
   until a download succeeds again, later Tor-down failures are recorded at once.

Order 575: exceptions travel from high orders to low ones, so it must sit above Scrapy's
``RetryMiddleware`` (550; ``SocksTransientError`` is a ``ConnectError`` it would burn its
``RETRY_TIMES`` on in milliseconds) and above :mod:`onionlab.crawler.downloadermiddlewares.liveness`
(570), which would otherwise count a Tor outage against every site and declare healthy sites gone. A
failure it handles (re-sent or :class:`TorUnreachable`) never reaches the lower middlewares.

It also asks Tor for new circuits (``NEWNYM``) after ``TOR_NEWNYM_AFTER`` transient onion
failures in a row (F0/F2/F3/F7) for one host, when ``TOR_CONTROL`` (``"127.0.0.1:PORT"``)
and ``TOR_CONTROL_COOKIE`` are set; Tor's NEWNYM rate limit is respected. Without a control
port this is skipped quietly.

Stats (``onionlab/tor/*``): ``outages``, ``outage_seconds``, ``longest_outage_seconds``,
``held``, ``rescheduled``, ``probes``, ``gave_up``, ``failed``, ``newnym``,
``newnym_rate_limited``, ``newnym_errors``. Settings: ``TOR_HEALTH_ENABLED`` (True),
``TOR_SOCKS``, ``TOR_OUTAGE_MAX_SECONDS`` (180), ``TOR_PROBE_INTERVAL`` (1.0),
``TOR_OUTAGE_MAX_RESCHEDULES`` (5 per request), ``TOR_NEWNYM_AFTER`` (3),
``TOR_CONTROL``, ``TOR_CONTROL_COOKIE``. Depends on Scrapy, Twisted, :mod:`onionlab.crawler.tor`.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import sleep
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThread

from onionlab.crawler.tor.check import TorUnavailable, check_socks_is_tor
from onionlab.crawler.tor.errors import SocksTransientError
from onionlab.crawler.tor.handler import parse_socks_address

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from onionlab.crawler.tor.manager import NewnymResult, TorController

logger = logging.getLogger(__name__)

# Tor's onion-service failures that a fresh circuit may cure (see onionlab.crawler.tor.errors).
ONION_TRANSIENT_CODES = frozenset({0xF0, 0xF2, 0xF3, 0xF7})
RESCHEDULES = "onionlab_tor_reschedules"  # meta: times this request was re-sent after an outage
PROBE_TIMEOUT = 3.0  # seconds for one "is it Tor?" probe


class TorUnreachable(SocksTransientError):
    """Tor's SOCKS port stayed silent past ``TOR_OUTAGE_MAX_SECONDS``: the page is an error."""


def is_tor_down(exc: BaseException) -> bool:
    """True when ``exc`` says the SOCKS proxy itself is unreachable (no reply code at all)."""
    return (
        isinstance(exc, SocksTransientError)
        and exc.code is None
        and not isinstance(exc, TorUnreachable)
    )


def onion_failure_host(exc: BaseException) -> str | None:
    """The onion host of a transient onion-service failure (F0/F2/F3/F7), else None."""
    if isinstance(exc, SocksTransientError) and exc.code in ONION_TRANSIENT_CODES and exc.host:
        return exc.host.lower()
    return None


@dataclass
class Outage:
    """One period during which Tor's SOCKS port did not answer."""

    started: float
    deadline: float
    waiters: list[Deferred[bool]] = field(default_factory=list)
    failed: int = 0  # requests that failed because of it and wait to be re-sent
    back: bool | None = None  # None while it lasts; then whether Tor came back

    async def wait(self) -> bool:
        """Until the outage ends; True when Tor came back."""
        if self.back is not None:
            return self.back
        waiter: Deferred[bool] = Deferred()
        self.waiters.append(waiter)
        return bool(await maybe_deferred_to_future(waiter))

    def end(self, back: bool) -> None:
        self.back = back
        waiters, self.waiters = self.waiters, []
        for waiter in waiters:
            waiter.callback(back)


class TorHealth:
    """Downloader middleware: hold the crawl while Tor is away, re-send what failed, NEWNYM."""

    def __init__(
        self,
        crawler: Crawler,
        *,
        socks: tuple[str, int],
        max_seconds: float = 180.0,
        probe_interval: float = 1.0,
        max_reschedules: int = 5,
        newnym_after: int = 3,
        control: str | None = None,
        control_cookie: str | None = None,
    ) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.socks = socks
        self.label = f"{socks[0]}:{socks[1]}"
        self.max_seconds = max_seconds
        self.probe_interval = probe_interval
        self.max_reschedules = max_reschedules
        self.newnym_after = newnym_after
        self.control = control
        self.control_cookie = control_cookie
        self.outage: Outage | None = None
        self.lost = False  # the last outage outlived the bound and nothing succeeded since
        self.closing = False
        self.onion_failures: dict[str, int] = {}
        self._controller: TorController | None = None
        self._controller_lock = threading.Lock()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> TorHealth:
        settings = crawler.settings
        if not settings.getbool("TOR_HEALTH_ENABLED", True):
            raise NotConfigured("TOR_HEALTH_ENABLED is off")
        socks = settings.get("TOR_SOCKS")
        if not socks:
            raise NotConfigured("TOR_SOCKS is not set")
        control = settings.get("TOR_CONTROL") or None
        if control:
            parse_socks_address(control)  # an IP literal, like the SOCKS port
        middleware = cls(
            crawler,
            socks=parse_socks_address(socks),
            max_seconds=max(0.0, settings.getfloat("TOR_OUTAGE_MAX_SECONDS", 180.0)),
            probe_interval=max(0.1, settings.getfloat("TOR_PROBE_INTERVAL", 1.0)),
            max_reschedules=max(0, settings.getint("TOR_OUTAGE_MAX_RESCHEDULES", 5)),
            newnym_after=max(1, settings.getint("TOR_NEWNYM_AFTER", 3)),
            control=control,
            control_cookie=settings.get("TOR_CONTROL_COOKIE") or None,
        )
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def _inc(self, key: str, count: float = 1) -> None:
        if self.stats is not None:
            self.stats.inc_value(f"onionlab/tor/{key}", count)

    # --- downloader middleware hooks ------------------------------------------------------

    async def process_request(self, request: Request) -> None:
        outage = self.outage
        if outage is not None:
            self._inc("held")
            await outage.wait()  # either way the request goes on; a failure is handled below
        return None

    async def process_response(self, request: Request, response: Response) -> Response:
        self.lost = False
        if self.onion_failures:
            self.onion_failures.pop((urlsplit(request.url).hostname or "").lower(), None)
        return response

    async def process_exception(self, request: Request, exception: Exception) -> Request | None:
        if is_tor_down(exception):
            return await self._tor_down(request, exception)
        host = onion_failure_host(exception)
        if host is not None:
            await self._onion_failure(host)
        return None  # RetryMiddleware and the errback take it from here

    def spider_closed(self) -> None:
        self.closing = True
        if self.outage is not None:
            self.outage.end(False)
        with self._controller_lock:
            controller, self._controller = self._controller, None
        if controller is not None:
            controller.close()

    # --- Tor down -------------------------------------------------------------------------

    async def _tor_down(self, request: Request, exc: SocksTransientError) -> Request:
        reschedules = int(request.meta.get(RESCHEDULES, 0))
        if self.closing or reschedules >= self.max_reschedules:
            raise self._give_up(request, exc, f"re-sent {reschedules} time(s)")
        outage = self.outage
        if outage is None:
            if self.lost:
                raise self._give_up(request, exc, "it stayed away past the last wait")
            outage = self._start_outage()
        outage.failed += 1
        if not await outage.wait():
            raise self._give_up(request, exc, f"no answer for {self.max_seconds:g} s")
        self._inc("rescheduled")
        retry = request.replace(dont_filter=True, priority=request.priority + 1)
        retry.meta[RESCHEDULES] = reschedules + 1
        return retry

    def _give_up(self, request: Request, exc: SocksTransientError, why: str) -> TorUnreachable:
        self._inc("failed")
        return TorUnreachable(
            f"Tor's SOCKS port {self.label} did not answer for {request.url} ({why}): {exc}",
            None,
            exc.host,
        )

    def _start_outage(self) -> Outage:
        now = time.monotonic()
        outage = Outage(started=now, deadline=now + self.max_seconds)
        self.outage = outage
        self._inc("outages")
        logger.warning(
            "Tor's SOCKS port %s stopped answering — waiting up to %g s for it to come back",
            self.label,
            self.max_seconds,
        )
        watching = deferred_from_coro(self._watch(outage))
        watching.addErrback(lambda failure: logger.error("Tor health watch failed: %s", failure))
        return outage

    async def _watch(self, outage: Outage) -> None:
        """Probe every ``probe_interval`` until Tor answers or the outage's deadline passes."""
        back = False
        probes = int(self.max_seconds / self.probe_interval) + 1  # a hard bound on the loop
        try:
            for _ in range(probes):
                if self.closing or outage.back is not None:
                    break
                remaining = outage.deadline - time.monotonic()
                if remaining <= 0:
                    break
                await sleep(min(self.probe_interval, remaining))
                if self.closing or outage.back is not None:
                    break
                if await self._probe():
                    back = True
                    break
        finally:
            self._end_outage(outage, back)

    async def _probe(self) -> bool:
        self._inc("probes")
        host, port = self.socks
        try:
            await maybe_deferred_to_future(
                deferToThread(check_socks_is_tor, host, port, timeout=PROBE_TIMEOUT)
            )
        except TorUnavailable:
            return False
        return True

    def _end_outage(self, outage: Outage, back: bool) -> None:
        if self.outage is outage:
            self.outage = None
        if outage.back is not None:  # already ended (the spider closed)
            return
        seconds = time.monotonic() - outage.started
        self._inc("outage_seconds", round(seconds, 1))
        if self.stats is not None:
            self.stats.max_value("onionlab/tor/longest_outage_seconds", round(seconds, 1))
        if back:
            self.lost = False
            logger.warning(
                "Tor's SOCKS port %s answers again after %.1f s — re-sending %d failed request(s)",
                self.label,
                seconds,
                outage.failed,
            )
        else:
            self.lost = True
            self._inc("gave_up")
            logger.error(
                "Tor's SOCKS port %s did not come back within %g s — %d request(s) recorded "
                "as errors; is tor still running? (`onionlab status`)",
                self.label,
                self.max_seconds,
                outage.failed,
            )
        outage.end(back)

    # --- NEWNYM ---------------------------------------------------------------------------

    async def _onion_failure(self, host: str) -> None:
        count = self.onion_failures.get(host, 0) + 1
        if count < self.newnym_after:
            self.onion_failures[host] = count
            return
        self.onion_failures[host] = 0
        if not self.control or self.closing:
            return  # no control port: nothing to ask Tor, and nothing to complain about
        try:
            result: NewnymResult = await maybe_deferred_to_future(deferToThread(self._newnym))
        except Exception as exc:  # stem/socket errors: log and go on, the retry still happens
            self._inc("newnym_errors")
            logger.warning("NEWNYM through Tor's control port %s failed: %s", self.control, exc)
            return
        if result.sent:
            self._inc("newnym")
            logger.info("%s failed %d times in a row: asked Tor for new circuits", host, count)
        else:
            self._inc("newnym_rate_limited")
            logger.debug("NEWNYM for %s skipped: Tor allows the next in %.1f s", host, result.wait)

    def _newnym(self) -> NewnymResult:
        """Blocking (runs in a thread): attach to the control port once, then NEWNYM."""
        from onionlab.crawler.tor.manager import TorController

        assert self.control is not None
        with self._controller_lock:
            if self._controller is None:
                self._controller = TorController.attach(self.control, cookie=self.control_cookie)
            return self._controller.newnym()
