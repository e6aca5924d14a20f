"""The obstacle gate: a downloader middleware that passes queues, CAPTCHAs and login walls.

Crawler layer (Scrapy). Plugins say what a page is (``onionlab_page_state``) and how to
pass it (``onionlab_gate_request``); this middleware does the rest, per onion host:

- one solve at a time per host: while a host's gate is being passed, that host's other
  requests wait in :meth:`ObstacleGate.process_request` (no 16 parallel CAPTCHA answers);
  a page that met an obstacle already passed since it was sent is simply fetched again;
- the solving request goes out through the engine (every downloader middleware applies:
  cookies, redirects) in the original request's cookie jar, then the original request is
  fetched again; ``{"wait": s}`` sleeps ``s`` seconds (at most ``ONIONLAB_GATE_MAX_WAIT``);
- a mirror proof (:data:`onionlab.crawler.mirrortrust.PROBE`) is neither held nor classified;
- bounded: ``ONIONLAB_GATE_MAX_ATTEMPTS`` gate retries per page, and after
  ``ONIONLAB_GATE_MAX_FAILURES`` solves in a row that did not get past one kind of obstacle
  the host's gate gives up on it; such pages fail with :class:`GateFailed` (the spider's
  errback records them, nothing is dropped silently).

Stats: ``onionlab/gate/<state>`` (solves sent), ``onionlab/gate/<state>/pages`` (obstacle
pages met), ``onionlab/gate/retries``, ``onionlab/gate/held``, ``onionlab/gate/errors``,
``onionlab/gate/failed``, ``onionlab/gate/given_up/<state>``. Settings:
``ONIONLAB_GATE_ENABLED``, ``ONIONLAB_GATE_MAX_ATTEMPTS``, ``ONIONLAB_GATE_MAX_FAILURES``,
``ONIONLAB_GATE_MAX_WAIT``, ``ONIONLAB_GATE_WAIT_MARGIN``, ``ONIONLAB_CREDENTIALS``,
``ONIONLAB_GATE_MAX_BYTES`` (1 MiB): a page larger than that is no queue, CAPTCHA or login
page, so gate plugins never parse it in the crawl's own process (a hostile site's
megabytes of markup would cost the crawl hundreds of MB and seconds of its event loop);
counted as ``onionlab/gate/not_checked_large``. Extraction parses it in a bounded worker.
A spider that offers ``async classify_page(response) -> state | None`` (onionlab's own:
:meth:`onionlab.crawler.spiders.onion.OnionSpider.classify_page`) is asked instead of the
plugins being called here: it parses each page once, off the crawl's process, for the gate and
for its own work. Depends on Scrapy, :mod:`onionlab.crawler.pluginmanager`,
:mod:`onionlab.crawler.credentials` and :mod:`onionlab.crawler.mirrortrust` (its meta key).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response, TextResponse
from scrapy.utils.asyncio import sleep
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred

from onionlab.crawler import default_settings
from onionlab.crawler.credentials import CredentialsError, CredentialStore, load_credentials
from onionlab.crawler.mirrortrust import PROBE
from onionlab.crawler.pluginmanager import call_first, get_plugins
from onionlab.crawler.sitepolicy import from_settings

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

GATE_REQUEST = "onionlab_gate"  # meta: this request solves an obstacle; never held or classified
ATTEMPTS = "onionlab_gate_attempts"  # meta: gate retries of this page so far
STATE = "onionlab_gate_state"  # meta: the obstacle this page met last
GENERATION = "onionlab_gate_generation"  # meta: the host's gate generation when it was sent


class GateFailed(IgnoreRequest):
    """A page stayed behind an obstacle the gate could not (or may no longer) pass."""


@dataclass
class HostGate:
    """The gate state of one onion host."""

    generation: int = 0  # bumped after every solve: responses sent earlier may be stale
    solving: bool = False
    waiters: list[Deferred[None]] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)  # state → solves in a row
    given_up: set[str] = field(default_factory=set)

    async def wait(self) -> None:
        """Until the solve in progress ends."""
        waiter: Deferred[None] = Deferred()
        self.waiters.append(waiter)
        await maybe_deferred_to_future(waiter)

    def release(self) -> None:
        waiters, self.waiters = self.waiters, []
        for waiter in waiters:
            waiter.callback(None)


DEFAULT_MAX_BYTES: int = default_settings.default("ONIONLAB_GATE_MAX_BYTES")
"""Obstacle pages (a queue, a CAPTCHA, a login form) are a few KiB; 1 MiB leaves room for
an inline image and is far below what a hostile page uses to exhaust a parser."""


def _host(request: Request) -> str:
    return (urlsplit(request.url).hostname or "").lower()


class ObstacleGate:
    """Downloader middleware: classify each page through plugins and pass obstacles."""

    def __init__(
        self,
        crawler: Crawler,
        *,
        credentials: CredentialStore,
        max_attempts: int = 5,
        max_failures: int = 5,
        max_wait: float = 60.0,
        wait_margin: float = 0.5,
    ) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.credentials = credentials
        self.max_attempts = max_attempts
        self.max_failures = max_failures
        self.max_wait = max_wait
        self.wait_margin = wait_margin
        self.plugins = get_plugins().manager
        self.profiles = from_settings(crawler.settings)
        self.gates: dict[str, HostGate] = {}
        self.max_bytes = default_settings.getint(crawler.settings, "ONIONLAB_GATE_MAX_BYTES")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ObstacleGate:
        settings = crawler.settings
        if not default_settings.getbool(settings, "ONIONLAB_GATE_ENABLED"):
            raise NotConfigured("ONIONLAB_GATE_ENABLED is off")
        try:
            credentials = load_credentials(default_settings.get(settings, "ONIONLAB_CREDENTIALS"))
        except CredentialsError as exc:
            # Loud, not fatal: the crawl still gets every page that needs no account.
            logger.error("gate: no site accounts: %s", exc)
            credentials = CredentialStore()
        if credentials.source:
            logger.info("gate: %d site account(s) from %s", len(credentials), credentials.source)
        return cls(
            crawler,
            credentials=credentials,
            max_attempts=max(0, default_settings.getint(settings, "ONIONLAB_GATE_MAX_ATTEMPTS")),
            max_failures=max(1, default_settings.getint(settings, "ONIONLAB_GATE_MAX_FAILURES")),
            max_wait=max(0.0, default_settings.getfloat(settings, "ONIONLAB_GATE_MAX_WAIT")),
            wait_margin=max(0.0, default_settings.getfloat(settings, "ONIONLAB_GATE_WAIT_MARGIN")),
        )

    def _inc(self, key: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(f"onionlab/gate/{key}")

    def _first(self, hook: str, host: str, **kwargs: Any) -> Any:
        """The first non-None answer of ``hook`` from the plugins ``host``'s crawl profile
        names under ``gate``, through the plugin manager
        (:func:`onionlab.crawler.pluginmanager.call_first`: hookwrappers and
        ``ONIONLAB_TRACE_PLUGINS`` see the call; a plugin that raises is logged, counted under
        ``plugins/<name>/errors`` and skipped, so the next one may still answer)."""
        allowed = self.profiles.for_host(host).gate.allows
        return call_first(self.plugins, hook, stats=self.stats, only=allowed, **kwargs)

    async def _wait_for_solve(self, gate: HostGate) -> None:
        # Another solve may start the moment one ends (queue, then CAPTCHA): wait, bounded.
        for _ in range(self.max_attempts + 1):
            if not gate.solving:
                return
            await gate.wait()

    async def process_request(self, request: Request) -> None:
        # A mirror proof (PROBE) is never held: a solve held by the liveness middleware for
        # the verdict of that very proof had waited for it for ever (a site that moved in
        # the middle of its login).
        if request.meta.get(GATE_REQUEST) or request.meta.get(PROBE):
            return None
        gate = self.gates.get(_host(request))
        if gate is not None:
            if gate.solving:
                self._inc("held")
                await self._wait_for_solve(gate)
            request.meta[GENERATION] = gate.generation
        else:
            request.meta[GENERATION] = 0
        return None

    async def process_response(self, request: Request, response: Response) -> Response | Request:
        if request.meta.get(GATE_REQUEST) or request.meta.get(PROBE):
            return response
        if not isinstance(response, TextResponse):
            return response
        if self.max_bytes > 0 and len(response.body) > self.max_bytes:
            self._inc("not_checked_large")
            return response
        host = _host(request)
        classify = getattr(self.crawler.spider, "classify_page", None)
        if classify is not None:  # the spider parses the page once, in a worker, for both
            state = await classify(response)
        else:
            state = self._first("onionlab_page_state", host, response=response)
        previous = request.meta.get(STATE)
        gate = self.gates.setdefault(host, HostGate())
        if previous and previous != state:
            gate.failures.pop(previous, None)  # the last solve got this page past it
        if state is None:
            return response
        state = str(state)
        self._inc(f"{state}/pages")
        attempts = int(request.meta.get(ATTEMPTS, 0))
        if attempts >= self.max_attempts:
            raise self._fail(request, state, f"still behind it after {attempts} gate attempts")
        if state in gate.given_up:
            raise self._fail(request, state, "the gate gave up on this site's obstacle")
        if gate.solving:
            await self._wait_for_solve(gate)
        elif gate.generation == request.meta.get(GENERATION, 0):
            await self._solve(gate, host, request, response, state)
        # else: the gate was passed after this page was sent; just fetch it again.
        return self._retry(request, state, attempts)

    def _retry(self, request: Request, state: str, attempts: int) -> Request:
        self._inc("retries")
        retry = request.replace(dont_filter=True, priority=request.priority + 10)
        retry.meta[ATTEMPTS] = attempts + 1
        retry.meta[STATE] = state
        return retry

    def _fail(self, request: Request, state: str, why: str) -> GateFailed:
        self._inc("failed")
        message = f"{state} page at {request.url}: {why}"
        logger.error("gate: %s", message)
        return GateFailed(message)

    async def _solve(
        self, gate: HostGate, host: str, request: Request, response: TextResponse, state: str
    ) -> None:
        """Pass ``state`` on ``host`` once, holding the host's other requests meanwhile."""
        if gate.failures.get(state, 0) >= self.max_failures:
            gate.given_up.add(state)
            self._inc(f"given_up/{state}")
            logger.error(
                "gate: %s: %d %s solves in a row did not pass; giving up on it",
                host,
                gate.failures[state],
                state,
            )
            raise self._fail(request, state, "the gate gave up on this site's obstacle")
        answer = self._first(
            "onionlab_gate_request",
            host,
            response=response,
            state=state,
            credentials=self.credentials.for_host(host),
        )
        if answer is None:
            raise self._fail(request, state, "no plugin knows how to pass it")
        gate.solving = True
        try:
            gate.failures[state] = gate.failures.get(state, 0) + 1
            self._inc(state)
            if isinstance(answer, dict):
                try:
                    seconds = float(answer.get("wait", 0)) + self.wait_margin
                except (TypeError, ValueError):
                    raise self._fail(request, state, f"a plugin answered {answer!r}") from None
                seconds = min(seconds, self.max_wait)
                logger.info("gate: %s: %s, waiting %.1f s", host, state, seconds)
                await sleep(max(0.0, seconds))
            elif isinstance(answer, Request):
                await self._send(answer, request, host, state)
            else:
                raise self._fail(request, state, f"a plugin answered {type(answer).__name__}")
        finally:
            gate.generation += 1
            gate.solving = False
            gate.release()

    async def _send(self, answer: Request, original: Request, host: str, state: str) -> None:
        meta = {GATE_REQUEST: True, "dont_retry": True}
        if "cookiejar" in original.meta:
            meta["cookiejar"] = original.meta["cookiejar"]  # the same site session
        solving = answer.replace(dont_filter=True, priority=original.priority + 100)
        solving.meta.update(meta)
        logger.info("gate: %s: %s, sending %s %s", host, state, solving.method, solving.url)
        engine = self.crawler.engine
        assert engine is not None
        try:
            result = await engine.download_async(solving)
        except Exception as exc:  # the page is fetched again and met again: bounded there
            self._inc("errors")
            logger.warning("gate: %s: %s request failed: %s", host, state, exc)
            return
        logger.debug("gate: %s: %s answered %s at %s", host, state, result.status, result.url)
