"""Per-site liveness: which onion hosts answer, which are down, which vanished mid-crawl.

Two Scrapy components share one :class:`onionlab.crawler.sitestate.LivenessRegistry` per crawler:

* :class:`LivenessMiddleware` (downloader middleware, above ``RetryMiddleware`` so it sees
  every failed attempt before a retry is scheduled) records, per onion host, each response
  and each connection-level failure (SOCKS/Tor reply codes, timeouts, refused or lost
  connections). A host that answered earlier in the crawl and then fails ``K`` times in a
  row (``ONIONLAB_GONE_AFTER``, default 5) is declared **gone** — it disappeared mid-crawl,
  as in an exit scam or a seizure — and logged once. From then on its requests are not
  downloaded: they fail with :class:`SiteGone`, which reaches the spider's errback like any
  other failure, so ``errors.ndjson`` lists them with kind ``site_gone`` and the summary
  counts them. The cost of a vanished site is thus bounded by ``K`` plus the attempts that
  were already in flight. A request that fails after its site was declared gone while the
  site's mirror list is still being checked waits for the verdict like the ones not yet sent.
  A host that never answered stays **down** (it is never cut off).
* :class:`LivenessExtension` writes ``sites.json`` to the run directory (``ONIONLAB_RUN_DIR``)
  when the spider closes, merged with the history already there (a resumed crawl keeps each
  host's ``first_seen``), and sets the ``onionlab/liveness/*`` stats.

Which mirrors are trusted: :mod:`onionlab.crawler.mirrortrust`. When a site is declared gone but
one of its official addresses answers, the site has **moved**: its state is ``moved``,
``moved_to`` names the mirror, and its remaining requests are sent to the mirror under their
original URLs (``meta["onionlab_via"]``, see :mod:`onionlab.crawler.tor.handler`), so pages keep
their identity and nothing is fetched twice. Site identity is the site (its key), not the
address. What ``sites.json`` holds: :mod:`onionlab.crawler.sitestate`. Depends on Scrapy,
Twisted, :mod:`onionlab.crawler.sitestate` and :mod:`onionlab.crawler.runs`.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import Response
from twisted.internet import defer
from twisted.python.failure import Failure

from onionlab.crawler.failurekinds import failure_kind
from onionlab.crawler.mirrors import is_key_file, is_mirror_list
from onionlab.crawler.mirrortrust import PROBE, response_text
from onionlab.crawler.runs import notsaved
from onionlab.crawler.runs.rundir import RunDir, WriteFailed
from onionlab.crawler.sitestate import GONE, MOVED, SITE_GONE, STATS, LivenessRegistry, registry_for
from onionlab.crawler.tor.handler import VIA

logger = logging.getLogger(__name__)

# Seconds a mirror-list check may take (a key fetch and proofs of 30 s each, gpg): requests
# of a site declared gone wait for its verdict, so it must come, whatever hangs.
CHECK_TIMEOUT = 120.0
SENT_AT = "onionlab_sent_at"  # request meta: when it passed this middleware (time.monotonic)


class SiteGone(IgnoreRequest):
    """A request to a host that vanished mid-crawl: not downloaded, recorded as an error."""

    def __init__(self, host: str, url: str) -> None:
        super().__init__(f"{host} disappeared mid-crawl; not fetching {url}")
        self.host = host


# The spider's errback records ``type(error).__name__`` as the error kind: name the class
# after the kind so these failures appear as ``site_gone`` in errors.ndjson and the summary.
SiteGone.__name__ = SiteGone.__qualname__ = SITE_GONE


def _url_host(request: Request) -> str | None:
    """The onion host of a request's URL (the site), or None for anything else."""
    host = (urlsplit(request.url).hostname or "").lower()
    return host if host.endswith(".onion") else None


def _host(request: Request) -> str | None:
    """The onion host a request goes to (a mirror when sent via one), or None."""
    return request.meta.get(VIA) or _url_host(request)


class LivenessMiddleware:
    """Downloader middleware: records answers and failures per host; cuts off gone hosts."""

    def __init__(self, registry: LivenessRegistry) -> None:
        self.registry = registry
        self._pending: set[Any] = set()
        self._checking: dict[str, Any] = {}  # site -> the check of its mirror list
        self.clock: Any = None  # what times a check out: Twisted's reactor unless set

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LivenessMiddleware:
        middleware = cls(registry_for(crawler))
        crawler.signals.connect(middleware.spider_idle, signal=signals.spider_idle)
        return middleware

    def spider_idle(self, spider: Any = None) -> None:
        """Keep the crawl open while a mirror list is still being checked."""
        if self._pending:
            raise DontCloseSpider("a mirror list is being checked")

    def process_request(self, request: Request) -> Any:
        host = _host(request)
        request.meta[SENT_AT] = time.monotonic()  # an answer to it counts from now on
        if host is None or not self.registry.is_gone(host):
            return None
        if request.meta.get(VIA) is None and host in self._checking:
            # Its mirror list is still being checked: wait for the verdict, then decide.
            return self._after_check(request, host)
        mirror = None if request.meta.get(VIA) else self.registry.mirror_for(host)
        if mirror is None:
            self.registry.skipped(host)
            raise SiteGone(host, request.url)
        request.meta[VIA] = mirror  # the same URL, through the site's official mirror
        request.headers[b"Host"] = mirror.encode("ascii")
        self.registry.stats.inc_value(f"{STATS}/via_mirror")
        return None

    async def _after_check(self, request: Request, host: str) -> None:
        from scrapy.utils.defer import maybe_deferred_to_future

        while host in self._checking:
            waiter: defer.Deferred[None] = defer.Deferred()
            self._checking[host].addBoth(lambda result, w=waiter: (w.callback(None), result)[1])
            await maybe_deferred_to_future(waiter)
        self.process_request(request)

    def process_response(self, request: Request, response: Response) -> Response:
        host = _host(request)
        if host is None:
            return response
        self.registry.answered(host, request.meta.get(SENT_AT))
        if getattr(response, "status", None) != 200 or request.meta.get(PROBE):
            return response
        site = _url_host(request) or host
        if is_key_file(response.url):
            self._background(self.registry.offer_key(site, response_text(response)))
        elif is_mirror_list(response.url):
            self._background(
                self.registry.check_mirror_list(
                    site, host, request.url, response_text(response), self._fetch
                ),
                site,
            )
        return response

    async def _fetch(self, request: Request) -> Response:
        engine = self.registry.crawler.engine
        if engine is None:
            raise IgnoreRequest("the crawl is not running")
        return await engine.download_async(request)

    def _background(self, coroutine: Any, site: str | None = None) -> None:
        """Check keys and mirror lists beside the crawl: the page goes on at once. While
        ``site``'s list is checked, its requests that would be cut off wait for the verdict."""
        from scrapy.utils.defer import deferred_from_coro

        deferred = deferred_from_coro(coroutine)
        if site is not None:  # requests wait for this verdict: it comes, at the latest now
            from twisted.internet import reactor

            clock = self.clock or reactor
            deferred.addTimeout(CHECK_TIMEOUT, clock, self._check_timed_out(site))
        self._pending.add(deferred)
        if site is not None and not deferred.called:
            self._checking[site] = deferred

        def done(result: Any) -> Any:
            self._pending.discard(deferred)
            if site is not None and self._checking.get(site) is deferred:
                del self._checking[site]
            if isinstance(result, Failure):
                logger.error("checking a mirror list failed: %s", result.getTraceback())

        deferred.addBoth(done)

    def _check_timed_out(self, site: str) -> Any:
        def timed_out(result: Any, timeout: float) -> Any:
            self.registry.stats.inc_value(f"{STATS}/mirror_check_timeout")
            logger.error(
                "checking the mirror list of %s took over %.0f s: stopped; its mirrors are "
                "not followed in this crawl",
                site,
                timeout,
            )
            return None

        return timed_out

    def process_exception(self, request: Request, exception: BaseException) -> Request | None:
        host = _host(request)
        kind = failure_kind(exception)
        if host is None or kind is None:
            return None
        self.registry.failed(host, kind)
        record = self.registry.hosts.get(host)
        if request.meta.get(VIA) is None and record is not None and record.state == MOVED:
            # The site moved while this request was out: send it to the mirror straight away
            # rather than spend its retries on the dead address.
            mirror = self.registry.mirror_for(host)
            if mirror is not None:
                retry = request.replace(dont_filter=True)
                retry.meta[VIA] = mirror
                retry.headers[b"Host"] = mirror.encode("ascii")
                self.registry.stats.inc_value(f"{STATS}/via_mirror")
                return retry
        checking = host in self._checking and record is not None and record.state == GONE
        if request.meta.get(VIA) is None and checking:
            # Declared gone while its mirror list is still being checked: this request may
            # have just spent its last retry. Send it round again: process_request holds it
            # for the verdict, then sends it to the proven mirror or records it as
            # site_gone. Never a lost page because a failure beat the check.
            self.registry.stats.inc_value(f"{STATS}/held_for_mirror_check")
            return request.replace(dont_filter=True)
        return None


class LivenessExtension:
    """Extension: writes ``sites.json`` and the ``onionlab/liveness/*`` stats at the end."""

    def __init__(self, registry: LivenessRegistry) -> None:
        self.registry = registry

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LivenessExtension:
        extension = cls(registry_for(crawler))
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_closed(self, spider: Any = None, reason: str = "") -> None:
        registry = self.registry
        for state, count in registry.counts().items():
            registry.stats.set_value(f"{STATS}/{state}", count)
        gone = sorted(host for host, r in registry.hosts.items() if r.state == GONE)
        if gone:
            logger.warning("sites gone during the crawl: %s", ", ".join(gone))
        if registry.path is not None:
            try:
                RunDir(registry.path.parent).write_json(registry.path, registry.to_json())
            except WriteFailed as exc:  # disk full: counted, and the CLI exits 6
                notsaved.note(registry.stats, "sites", exc)
                logger.error("results not saved: %s", exc)
