"""Per-site liveness: which onion hosts answer, which are down, which vanished mid-crawl.

Two Scrapy components share one :class:`LivenessRegistry` per crawler:

* :class:`LivenessMiddleware` (downloader middleware, above ``RetryMiddleware`` so it sees
  every failed attempt before a retry is scheduled) records, per onion host, each response
  and each connection-level failure (SOCKS/Tor reply codes, timeouts, refused or lost
  connections). A host that answered earlier in the crawl and then fails ``K`` times in a
  row (``ONIONLAB_GONE_AFTER``, default 5) is declared **gone** — it disappeared mid-crawl,
  as in an exit scam or a seizure — and logged once. From then on its requests are not
  downloaded: they fail with :class:`SiteGone`, which reaches the spider's errback like any
  other failure, so ``errors.ndjson`` lists them with kind ``site_gone`` and the summary
  counts them. The cost of a vanished site is thus bounded by ``K`` plus the attempts that
  were already in flight. A host that never answered stays **down** (it is never cut off).
* :class:`LivenessExtension` writes ``sites.json`` to the run directory (``ONIONLAB_RUN_DIR``)
  when the spider closes, merged with the history already there (a resumed crawl keeps each
  host's ``first_seen``), and sets the ``onionlab/liveness/*`` stats.

Mirrors: ``ONIONLAB_MIRRORS`` may seed host → official addresses (e.g. from the lab's
``lab.json``: the instructor's own state, trusted as given). Beyond those, a site's own
``/mirrors.txt`` is believed only when it proves itself, because a hostile site can name
any other site as its "mirror" and then go dark (the crawl once sent 2,906 requests under a
hostile site's URLs to another lab site). The rules, checked by
:class:`onionlab.crawler.mirrors.SignatureChecker` (gpg):

1. **The site's key is pinned on first contact**: the key the site itself publishes at
   ``/pgp.txt`` (fetched when a mirror list needs it), or a fingerprint configured in
   ``ONIONLAB_SITE_KEYS`` (host → fingerprint), which then wins. The pin is kept in
   ``sites.json`` (``key_fingerprint``), so a resumed crawl refuses a site whose key changed.
2. **The list must be clearsigned by that key**, and name the address it was served from
   (a list copied from another site does not). Only the signed text is read.
3. **A mirror must prove the same identity**: its own ``/mirrors.txt``, fetched from the
   mirror, must be signed by the same key fingerprint and name the mirror. A list naming
   another, differently keyed (or unsigned) site is therefore refused: a key offered by the
   same hostile page proves nothing by itself, since a hostile site can sign its own list.
   One fetch per named mirror (at most 8), one attempt, 30 s; a mirror that cannot be
   reached then is not trusted this session (``unreachable_<kind>``).

An unsigned list is trusted only with ``ONIONLAB_TRUST_UNSIGNED_MIRRORS`` (default off);
a list with a signature that does not verify never is. Every refused list and every refused
mirror counts as ``onionlab/dropped/mirror_unverified`` (by reason in
``onionlab/mirrors/refused/<reason>``), is logged, and shows in ``sites.json``
(``mirror_list``: ``verified`` or why not; ``mirrors_refused``: address → reason).

When a site is declared gone but one of its official addresses answers, the site has
**moved**: its state is ``moved``, ``moved_to`` names the mirror, and its remaining
requests are sent to the mirror under their original URLs (``meta["onionlab_via"]``, see
:mod:`onionlab.crawler.tor.handler`), so pages keep their identity and nothing is fetched twice.
Site identity is the site (its key), not the address.

``sites.json`` maps each host to ``first_seen``/``last_seen`` (UTC ISO time of its first and
latest answer, null if it never answered), ``last_attempt``, ``responses``, ``failures`` (by
kind: ``tor_F0``, ``timeout``, ``connection``, ``dns``, ``cancelled``, ``dataloss``,
``site_gone``, or an exception's class name: see :func:`failure_kind`; ``cancelled``,
``dataloss`` and ``stopped`` mean the site did answer), ``consecutive_failures``,
``gone_at``, ``mirrors`` (its trusted official addresses), ``mirrors_refused``,
``mirror_list``, ``key_fingerprint``, ``moved_to`` and ``state``
(``up``/``down``/``gone``/``moved``).
"""

from __future__ import annotations

import json
import logging
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import (
    CannotResolveHostError,
    DontCloseSpider,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    NotSupported,
    ResponseDataLossError,
    StopDownload,
    UnsupportedURLSchemeError,
)
from scrapy.http import Response
from twisted.internet import defer
from twisted.internet.error import (
    ConnectError,
    ConnectionDone,
    ConnectionLost,
    DNSLookupError,
    TimeoutError,
)
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from onionlab.crawler.mirrors import (
    KEY_PATH,
    MAX_SIGNED_FILE,
    MIRRORS_PATH,
    SignatureChecker,
    Verified,
    is_key_file,
    is_mirror_list,
    parse_mirror_list,
)
from onionlab.crawler.runs import notsaved
from onionlab.crawler.runs.rundir import RunDir, WriteFailed
from onionlab.crawler.tor.errors import SocksError
from onionlab.crawler.tor.handler import VIA

logger = logging.getLogger(__name__)

SITES_FILE = "sites.json"
DEFAULT_GONE_AFTER = 5
STATS = "onionlab/liveness"
UP, DOWN, GONE, MOVED = "up", "down", "gone", "moved"
SITE_GONE = "site_gone"
PROBE = "onionlab_mirror_probe"  # request meta: the registry's own fetch (key, mirror proof)
MAX_PROBES = 8  # mirrors checked per list; a list naming more is a flood, not a site
PROBE_TIMEOUT = 30  # seconds per proof fetch (one attempt, no retries)
UNVERIFIED = "onionlab/dropped/mirror_unverified"
Fetch = Callable[[Request], Awaitable[Response]]


class SiteGone(IgnoreRequest):
    """A request to a host that vanished mid-crawl: not downloaded, recorded as an error."""

    def __init__(self, host: str, url: str) -> None:
        super().__init__(f"{host} disappeared mid-crawl; not fetching {url}")
        self.host = host


# The spider's errback records ``type(error).__name__`` as the error kind: name the class
# after the kind so these failures appear as ``site_gone`` in errors.ndjson and the summary.
SiteGone.__name__ = SiteGone.__qualname__ = SITE_GONE


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _url_host(request: Request) -> str | None:
    """The onion host of a request's URL (the site), or None for anything else."""
    host = (urlsplit(request.url).hostname or "").lower()
    return host if host.endswith(".onion") else None


def _host(request: Request) -> str | None:
    """The onion host a request goes to (a mirror when sent via one), or None."""
    return request.meta.get(VIA) or _url_host(request)


# Failures that prove the site answered (its bytes arrived, too many or cut short): counted
# by kind like every failure, but evidence of life, never a step towards "gone".
ANSWERED_KINDS = frozenset({"cancelled", "dataloss", "stopped"})


def _with_path(url: str, path: str) -> str:
    """``url``'s scheme, host and port with another path (no query)."""
    parts = urlsplit(url)
    return parts._replace(path=path, query="", fragment="").geturl()


def _text(response: Any) -> str:
    body = getattr(response, "body", b"") or b""
    return body[: MAX_SIGNED_FILE + 1].decode("utf-8", errors="replace")


async def _in_thread(function: Callable[..., Any], *args: Any) -> Any:
    """Run a blocking call (gpg) in Twisted's thread pool, off the crawl's event loop."""
    from scrapy.utils.defer import maybe_deferred_to_future
    from twisted.internet.threads import deferToThread

    return await maybe_deferred_to_future(deferToThread(function, *args))


def failure_kind(exc: BaseException) -> str | None:
    """The liveness kind of a failed download; None only for the crawl's own refusals.

    Every failure that is not an HTTP response has a named kind: SOCKS/Tor replies
    (``tor_F0`` …), ``timeout`` (Twisted's or Scrapy 2.19's ``DownloadTimeoutError``),
    ``connection`` (refused, lost, failed: ``DownloadFailedError``,
    ``DownloadConnectionRefusedError``, Twisted's connection errors), ``dns``, and the
    answered kinds ``cancelled`` (``DownloadCancelledError``: the body passed ``DOWNLOAD_MAXSIZE``),
    ``dataloss`` and ``stopped``. Anything else is named after its exception class, so a
    new kind of failure is counted, never ignored. ``IgnoreRequest`` (a request the crawl
    itself refused: site gone, out of scope) and an unsupported scheme say nothing of the
    site and return None.
    """
    if isinstance(exc, IgnoreRequest | UnsupportedURLSchemeError | NotSupported):
        return None
    if isinstance(exc, SocksError):
        return "tor_no_reply" if exc.code is None else f"tor_{exc.code:02X}"
    if isinstance(exc, TimeoutError | defer.TimeoutError | DownloadTimeoutError):
        return "timeout"
    if isinstance(exc, CannotResolveHostError | DNSLookupError):
        return "dns"
    if isinstance(exc, DownloadCancelledError | defer.CancelledError):
        return "cancelled"
    if isinstance(exc, ResponseDataLossError):
        return "dataloss"
    if isinstance(exc, StopDownload):
        return "stopped"
    if isinstance(
        exc,
        ConnectError
        | ConnectionLost
        | ConnectionDone
        | ResponseNeverReceived
        | ResponseFailed
        | DownloadFailedError
        | DownloadConnectionRefusedError
        | ConnectionError,
    ):
        return "connection"
    return type(exc).__name__


@dataclass
class HostRecord:
    """What is known about one onion host; the JSON fields of its ``sites.json`` entry."""

    first_seen: str | None = None
    last_seen: str | None = None
    last_attempt: str | None = None
    responses: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    consecutive_failures: int = 0
    gone_at: str | None = None
    mirrors: list[str] = field(default_factory=list)
    mirrors_refused: dict[str, str] = field(default_factory=dict)
    mirror_list: str | None = None
    key_fingerprint: str | None = None
    moved_to: str | None = None
    state: str = DOWN

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HostRecord:
        record = cls()
        record.first_seen = data.get("first_seen")
        record.last_seen = data.get("last_seen")
        record.last_attempt = data.get("last_attempt")
        record.responses = int(data.get("responses", 0))
        record.failures = {str(k): int(v) for k, v in dict(data.get("failures", {})).items()}
        record.consecutive_failures = int(data.get("consecutive_failures", 0))
        record.gone_at = data.get("gone_at")
        record.mirrors = [str(h) for h in data.get("mirrors", [])]
        refused = data.get("mirrors_refused") or {}
        record.mirrors_refused = {str(k): str(v) for k, v in dict(refused).items()}
        record.mirror_list = data.get("mirror_list")
        fingerprint = data.get("key_fingerprint")
        record.key_fingerprint = str(fingerprint).upper() if fingerprint else None
        record.moved_to = data.get("moved_to")
        record.state = str(data.get("state", DOWN))
        return record


class LivenessRegistry:
    """Per-host liveness of one crawl, seeded from the run directory's earlier ``sites.json``."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        assert crawler.stats is not None
        self.stats = crawler.stats
        self.gone_after = crawler.settings.getint("ONIONLAB_GONE_AFTER", DEFAULT_GONE_AFTER)
        run_dir = crawler.settings.get("ONIONLAB_RUN_DIR")
        self.path: Path | None = Path(run_dir) / SITES_FILE if run_dir else None
        self.hosts: dict[str, HostRecord] = self._load_history()
        # Hosts gone in an earlier run of this crawl get one probe before being cut off again.
        self._probe = {host for host, r in self.hosts.items() if r.state in (GONE, MOVED)}
        # Each site's official addresses: seeded by settings, learnt from its mirrors.txt.
        self.mirrors: dict[str, list[str]] = {
            host: list(record.mirrors) for host, record in self.hosts.items() if record.mirrors
        }
        for host, hosts in crawler.settings.getdict("ONIONLAB_MIRRORS").items():
            self.learn_mirrors(host.lower(), hosts)
        settings = crawler.settings
        self.trust_unsigned = settings.getbool("ONIONLAB_TRUST_UNSIGNED_MIRRORS", False)
        self.configured_keys = {
            host.lower(): str(fp).replace(" ", "").upper()
            for host, fp in settings.getdict("ONIONLAB_SITE_KEYS").items()
        }
        self.checker = SignatureChecker()
        self.keys: dict[str, tuple[str, str]] = {}  # host -> (fingerprint, armored key)
        self.run_blocking: Callable[..., Awaitable[Any]] = _in_thread

    def _load_history(self) -> dict[str, HostRecord]:
        if self.path is None or not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return {host: HostRecord.from_json(entry) for host, entry in data.items()}
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            logger.warning("ignoring unreadable site history %s: %s", self.path, exc)
            return {}

    def _record(self, host: str) -> HostRecord:
        record = self.hosts.get(host)
        if record is None:
            record = self.hosts[host] = HostRecord(mirrors=list(self.mirrors.get(host, [])))
        record.last_attempt = _now()
        return record

    def is_gone(self, host: str) -> bool:
        record = self.hosts.get(host)
        if record is None or record.state not in (GONE, MOVED):
            return False
        if host in self._probe:
            self._probe.discard(host)
            return False
        return True

    def answered(self, host: str) -> None:
        record = self._record(host)
        record.first_seen = record.first_seen or record.last_attempt
        record.last_seen = record.last_attempt
        record.responses += 1
        record.consecutive_failures = 0
        if record.state in (GONE, MOVED):
            logger.warning("site %s answers again after it was declared %s", host, record.state)
            self.stats.inc_value(f"{STATS}/returned")
        record.state = UP
        record.gone_at = None
        record.moved_to = None

    def failed(self, host: str, kind: str) -> None:
        record = self._record(host)
        record.failures[kind] = record.failures.get(kind, 0) + 1
        self.stats.inc_value(f"{STATS}/failures/{kind}")
        if kind in ANSWERED_KINDS:  # the site sent bytes: alive, however bad the answer
            record.first_seen = record.first_seen or record.last_attempt
            record.last_seen = record.last_attempt
            record.consecutive_failures = 0
            return
        record.consecutive_failures += 1
        # "Answered earlier in the crawl": this run, or an earlier run of a resumed crawl.
        answered_before = record.last_seen is not None
        if (
            record.state not in (GONE, MOVED)
            and answered_before
            and self.gone_after > 0
            and record.consecutive_failures >= self.gone_after
        ):
            self._declare_gone(host, record, kind)

    def learn_mirrors(self, host: str, hosts: list[str] | tuple[str, ...]) -> None:
        """Record ``hosts`` as official addresses of the site at ``host`` (its mirror list)."""
        known = self.mirrors.setdefault(host, [])
        for mirror in hosts:
            mirror = mirror.lower()
            if mirror != host and mirror not in known:
                known.append(mirror)
        record = self.hosts.get(host)
        if record is not None:
            record.mirrors = list(known)
            if record.state == GONE and self.mirror_for(host) is not None:
                # Declared gone before its mirror was proven: it has moved after all.
                record.state, record.moved_to = MOVED, self.mirror_for(host)
                self.stats.inc_value(f"{STATS}/moved")
                logger.error("SITE MOVED: %s continues at its mirror %s", host, record.moved_to)

    def mirror_for(self, host: str) -> str | None:
        """An official address of ``host``'s site to use instead, or None.

        One that answers now comes first; one never tried is worth a try; a mirror that is
        itself gone or failing is not.
        """
        best: tuple[int, str] | None = None
        for mirror in self.mirrors.get(host, []):
            record = self.hosts.get(mirror)
            if record is None:
                rank = 1
            elif record.state == UP and record.consecutive_failures < self.gone_after:
                rank = 0
            else:
                continue
            if best is None or (rank, mirror) < best:
                best = (rank, mirror)
        return best[1] if best else None

    def _entry(self, host: str) -> HostRecord:
        """``host``'s record, created (never answered, not attempted) if new."""
        record = self.hosts.get(host)
        if record is None:
            record = self.hosts[host] = HostRecord(mirrors=list(self.mirrors.get(host, [])))
        return record

    # --- mirror lists: pinned key, valid signature, mirrors proving the same key ---------

    def pin_for(self, host: str) -> str | None:
        """The fingerprint ``host``'s key must have: configured, else pinned earlier."""
        record = self.hosts.get(host)
        return self.configured_keys.get(host) or (record.key_fingerprint if record else None)

    async def offer_key(self, host: str, armored: str) -> tuple[str, str] | None:
        """A key ``host`` publishes (its ``/pgp.txt``): pinned on first contact, then held
        to the pin. Returns ``(fingerprint, armored)`` when it is the site's key."""
        fingerprint = await self.run_blocking(self.checker.key_fingerprint, armored)
        if fingerprint is None:
            self.stats.inc_value("onionlab/mirrors/key_unreadable")
            return None
        pinned = self.pin_for(host)
        if pinned is not None and pinned != fingerprint:
            self.stats.inc_value("onionlab/mirrors/key_mismatch")
            logger.error(
                "KEY CHANGED: %s publishes key %s but its pinned key is %s; its mirror "
                "lists are not trusted.",
                host,
                fingerprint,
                pinned,
            )
            return None
        record = self._entry(host)
        if record.key_fingerprint != fingerprint:
            record.key_fingerprint = fingerprint
            self.stats.inc_value("onionlab/mirrors/key_pinned")
            logger.info("pinned the key of %s: %s", host, fingerprint)
        self.keys[host] = (fingerprint, armored)
        return self.keys[host]

    async def key_for(self, host: str, url: str, fetch: Fetch) -> tuple[str, str] | None:
        """``host``'s pinned key, fetching its ``/pgp.txt`` the first time it is needed."""
        if host in self.keys:
            return self.keys[host]
        request = Request(
            _with_path(url, KEY_PATH),
            dont_filter=True,
            meta={PROBE: True, "download_timeout": PROBE_TIMEOUT},
        )
        try:
            response = await fetch(request)
        except Exception as exc:
            logger.info("could not fetch the key of %s: %s", host, exc or type(exc).__name__)
            return None
        if host in self.keys:  # the crawl's own fetch of /pgp.txt was quicker
            return self.keys[host]
        if getattr(response, "status", None) != 200:
            return None
        return await self.offer_key(host, _text(response))

    def _refuse_list(self, host: str, reason: str, hosts: tuple[str, ...]) -> None:
        self.stats.inc_value(UNVERIFIED)
        self.stats.inc_value(f"onionlab/mirrors/refused/{reason}")
        self._entry(host).mirror_list = reason
        logger.warning(
            "NOT FOLLOWING the mirror list of %s (%s): %s. Set ONIONLAB_TRUST_UNSIGNED_MIRRORS "
            "only for sites you trust.",
            host,
            reason,
            ", ".join(hosts) or "no addresses",
        )

    def _refuse_mirror(self, host: str, mirror: str, reason: str) -> None:
        self.stats.inc_value(UNVERIFIED)
        self.stats.inc_value(f"onionlab/mirrors/refused/{reason}")
        self._entry(host).mirrors_refused[mirror] = reason
        logger.warning(
            "NOT A MIRROR: %s names %s as its mirror, but %s does not prove the same key "
            "(%s); no request of %s will go there.",
            host,
            mirror,
            mirror,
            reason,
            host,
        )

    async def check_mirror_list(
        self, host: str, served: str, url: str, text: str, fetch: Fetch
    ) -> None:
        """Trust the mirrors a ``mirrors.txt`` of ``host`` (served by ``served``) names, or
        refuse them, by the rules in the module docstring."""
        listed = parse_mirror_list(text)
        if not listed.signed:
            if self.trust_unsigned:
                self._entry(host).mirror_list = "unsigned_trusted"
                self.stats.inc_value("onionlab/mirrors/unsigned_trusted")
                self.learn_mirrors(host, listed.hosts)
            else:
                self._refuse_list(host, "unsigned", listed.hosts)
            return
        key = await self.key_for(host, url, fetch)
        if key is None:
            self._refuse_list(host, "no_key", listed.hosts)
            return
        fingerprint, armored = key
        verified: Verified = await self.run_blocking(
            self.checker.verify, text, armored, fingerprint
        )
        if not verified.ok:
            self._refuse_list(host, verified.reason, listed.hosts)
            return
        if served not in verified.hosts:  # another site's list, replayed here
            self._refuse_list(host, "not_listed", verified.hosts)
            return
        self._entry(host).mirror_list = "verified"
        self.stats.inc_value("onionlab/mirrors/verified")
        known = self.mirrors.get(host, [])
        candidates = [h for h in verified.hosts if h not in (host, served) and h not in known]
        for mirror in candidates[MAX_PROBES:]:
            self._refuse_mirror(host, mirror, "too_many")
        for mirror in candidates[:MAX_PROBES]:
            reason = await self._prove(mirror, url, key, fetch)
            if reason is None:
                self._entry(host).mirrors_refused.pop(mirror, None)
                self.stats.inc_value("onionlab/mirrors/proven")
                self.learn_mirrors(host, [mirror])
            else:
                self._refuse_mirror(host, mirror, reason)

    async def _prove(self, mirror: str, url: str, key: tuple[str, str], fetch: Fetch) -> str | None:
        """None when ``mirror`` serves a mirror list signed by ``key`` that names it."""
        request = Request(
            _with_path(url, MIRRORS_PATH),
            dont_filter=True,
            headers={"Host": mirror},
            meta={VIA: mirror, PROBE: True, "dont_retry": True, "download_timeout": PROBE_TIMEOUT},
        )
        try:
            response = await fetch(request)
        except Exception as exc:
            return f"unreachable_{failure_kind(exc) or type(exc).__name__}"
        status = getattr(response, "status", None)
        if status != 200:
            return f"http_{status}"
        verified = await self.run_blocking(self.checker.verify, _text(response), key[1], key[0])
        if not verified.ok:
            return verified.reason
        return None if mirror in verified.hosts else "not_listed"

    def _declare_gone(self, host: str, record: HostRecord, kind: str) -> None:
        record.gone_at = record.last_attempt
        mirror = self.mirror_for(host)
        if mirror is not None:
            record.state, record.moved_to = MOVED, mirror
            self.stats.inc_value(f"{STATS}/moved")
            logger.error(
                "SITE MOVED: %s stopped answering (%d failures in a row, last: %s); its "
                "official mirror %s takes its remaining requests (same URLs, same pages).",
                host,
                record.consecutive_failures,
                kind,
                mirror,
            )
            return
        record.state = GONE
        self.stats.inc_value(f"{STATS}/declared_gone")
        logger.error(
            "SITE GONE: %s disappeared mid-crawl — exit scam or seizure? It answered %d "
            "time(s), last at %s, then failed %d times in a row (last: %s). Its remaining "
            "requests are not fetched; they are recorded as '%s' errors.",
            host,
            record.responses,
            record.last_seen,
            record.consecutive_failures,
            kind,
            SITE_GONE,
        )

    def skipped(self, host: str) -> None:
        record = self._record(host)
        record.failures[SITE_GONE] = record.failures.get(SITE_GONE, 0) + 1
        self.stats.inc_value(f"{STATS}/skipped")

    def to_json(self) -> dict[str, dict[str, Any]]:
        return {host: asdict(record) for host, record in sorted(self.hosts.items())}

    def counts(self) -> dict[str, int]:
        counts = {UP: 0, DOWN: 0, GONE: 0, MOVED: 0}
        for record in self.hosts.values():
            counts[record.state] = counts.get(record.state, 0) + 1
        return counts


_registries: weakref.WeakKeyDictionary[Crawler, LivenessRegistry] = weakref.WeakKeyDictionary()


def registry_for(crawler: Crawler) -> LivenessRegistry:
    """The crawler's one registry, shared by the middleware and the extension."""
    registry = _registries.get(crawler)
    if registry is None:
        registry = _registries[crawler] = LivenessRegistry(crawler)
    return registry


class LivenessMiddleware:
    """Downloader middleware: records answers and failures per host; cuts off gone hosts."""

    def __init__(self, registry: LivenessRegistry) -> None:
        self.registry = registry
        self._pending: set[Any] = set()
        self._checking: dict[str, Any] = {}  # site -> the check of its mirror list

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
        self.registry.answered(host)
        if getattr(response, "status", None) != 200 or request.meta.get(PROBE):
            return response
        site = _url_host(request) or host
        if is_key_file(response.url):
            self._background(self.registry.offer_key(site, _text(response)))
        elif is_mirror_list(response.url):
            self._background(
                self.registry.check_mirror_list(
                    site, host, request.url, _text(response), self._fetch
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
