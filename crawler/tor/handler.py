"""Scrapy download handler for http/https that always goes through Tor's SOCKS port.

Fail-closed by construction: there is no code path that opens a direct connection.
Requests for hosts outside ``.onion`` are refused unless ``TOR_ALLOW_CLEARNET`` is set,
``meta["proxy"]`` and environment proxies are ignored, and ``Proxy-Authorization`` is
stripped so SOCKS credentials can never reach a site. Everything else (connection pool,
TLS, ``DOWNLOAD_TIMEOUT``/``DOWNLOAD_MAXSIZE``, ``download_latency``, signals) is
Scrapy's own HTTP/1.1 machinery. It subclasses Scrapy's private ``_ScrapyAgent``, which
is why ``pyproject.toml`` pins Scrapy's minor version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler, _ScrapyAgent
from scrapy.exceptions import (
    DownloadCancelledError,
    IgnoreRequest,
    NotConfigured,
    ResponseDataLossError,
)
from scrapy.utils._download_handlers import get_dataloss_msg, wrap_twisted_exceptions
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.endpoints import TCP4ClientEndpoint, wrapClientTLS
from twisted.web.client import Agent
from zope.interface import implementer

from onionlab.crawler.tor.socks import SocksClientEndpoint

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.internet.interfaces import IStreamClientEndpoint
    from twisted.web.client import URI
    from twisted.web.iweb import IPolicyForHTTPS

from twisted.web.iweb import IAgentEndpointFactory

ISOLATION_PASSWORD = b"onionlab"
"""The SOCKS password sent with an onion host as user name (``TOR_ISOLATE_BY_HOST``): Tor's
``IsolateSOCKSAuth`` gives each distinct user name and password a circuit of its own."""

VIA = "onionlab_via"
"""Request meta key: the onion host to connect to instead of the URL's (an official mirror
of the site, see :mod:`onionlab.crawler.downloadermiddlewares.liveness`); the URL, and so the
page's identity, is kept."""


class OutOfScope(IgnoreRequest):
    """A request the Tor layer refuses to send (a non-onion host, a bad URL)."""


def parse_socks_address(value: str) -> tuple[str, int]:
    """Parse ``"127.0.0.1:9050"`` into ``("127.0.0.1", 9050)``; the host must be an IP literal.

    An IP literal keeps the proxy connection itself free of name lookups.
    """
    import ipaddress

    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not port.isdigit():
        raise ValueError(f"TOR_SOCKS must look like 127.0.0.1:9050, not {value!r}")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(
            f"TOR_SOCKS host must be an IP address (got {host!r}); a name would be "
            "looked up outside Tor"
        ) from None
    return host, int(port)


def human_size(size: int) -> str:
    """``16 MiB``, ``512 KiB``, ``100 bytes``: a byte count as the settings are written."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            value = size / scale
            return f"{value:.0f} {unit}" if value.is_integer() else f"{value:.1f} {unit}"
    return f"{size} bytes"


def is_onion_host(host: str) -> bool:
    """True for ``<anything>.onion`` host names (case-insensitive)."""
    return host.lower().rstrip(".").endswith(".onion")


@implementer(IAgentEndpointFactory)
class _SocksEndpointFactory:
    def __init__(
        self,
        socks: tuple[str, int],
        policy: IPolicyForHTTPS,
        timeout: float,
        isolate: bool,
        via: str | None = None,
    ) -> None:
        self._socks = socks
        self._policy = policy
        self._timeout = timeout
        self._isolate = isolate
        self._via = via

    def endpointForURI(self, uri: URI) -> IStreamClientEndpoint:
        from twisted.internet import reactor

        host = self._via or uri.host.decode("ascii")
        proxy = TCP4ClientEndpoint(reactor, self._socks[0], self._socks[1], timeout=self._timeout)
        # One circuit per onion host (IsolateSOCKSAuth): sites cannot be linked by circuit.
        username = host.encode("ascii") if self._isolate else None
        endpoint: IStreamClientEndpoint = SocksClientEndpoint(
            proxy,
            host,
            uri.port,
            username=username,
            password=ISOLATION_PASSWORD if username else None,
            proxy_label=f"{self._socks[0]}:{self._socks[1]}",
        )
        if uri.scheme == b"https":
            endpoint = wrapClientTLS(self._policy.creatorForNetloc(uri.host, uri.port), endpoint)
        return endpoint


class _SocksScrapyAgent(_ScrapyAgent):
    def __init__(self, *, socks: tuple[str, int], isolate: bool, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._socks = socks
        self._isolate = isolate

    def _get_agent(self, request: Request, timeout: float) -> Agent:
        from twisted.internet import reactor

        factory = _SocksEndpointFactory(
            self._socks, self._contextFactory, timeout, self._isolate, request.meta.get(VIA)
        )
        return Agent.usingEndpointFactory(reactor, factory, pool=self._pool)


class TorDownloadHandler(HTTP11DownloadHandler):
    """http/https through ``TOR_SOCKS`` with remote name resolution; nothing goes direct.

    Settings: ``TOR_SOCKS`` (``"127.0.0.1:9050"``, required), ``TOR_ALLOW_CLEARNET``
    (default False: only ``.onion`` hosts), ``TOR_ISOLATE_BY_HOST`` (default True).
    """

    def __init__(self, crawler: Crawler) -> None:
        socks = crawler.settings.get("TOR_SOCKS")
        if not socks:
            # NotConfigured leaves the scheme without a handler: requests fail, never go direct.
            raise NotConfigured("TOR_SOCKS is not set: refusing to download anything")
        self._socks = parse_socks_address(socks)
        super().__init__(crawler)
        self._allow_clearnet = crawler.settings.getbool("TOR_ALLOW_CLEARNET", False)
        self._isolate = crawler.settings.getbool("TOR_ISOLATE_BY_HOST", True)

    async def download_request(self, request: Request) -> Response:
        host = urlparse_cached(request).hostname or ""
        if not host:
            raise OutOfScope(f"no host in {request.url}")
        via = request.meta.get(VIA)
        for name in (host, via) if via else (host,):
            if not self._allow_clearnet and not is_onion_host(name):
                self._crawler.stats.inc_value("onionlab/refused/non_onion")
                raise OutOfScope(f"refusing {name}: only .onion hosts go through the lab crawler")
        # SOCKS credentials live in the handshake; nothing proxy-related may reach the site.
        request.headers.pop(b"Proxy-Authorization", None)
        agent = _SocksScrapyAgent(
            socks=self._socks,
            isolate=self._isolate,
            contextFactory=self._contextFactory,
            pool=self._pool,
            maxsize=self._default_maxsize,
            warnsize=self._default_warnsize,
            fail_on_dataloss=self._fail_on_dataloss,
            crawler=self._crawler,
            tls_verbose_logging=self._tls_verbose_logging,
        )
        try:
            with wrap_twisted_exceptions():
                return await maybe_deferred_to_future(agent.download_request(request))
        except DownloadCancelledError as exc:
            if str(exc):
                raise
            # Scrapy cancels a body that grows past DOWNLOAD_MAXSIZE without a word: say so.
            maxsize = int(request.meta.get("download_maxsize", self._default_maxsize) or 0)
            if maxsize:
                message = (
                    f"body larger than DOWNLOAD_MAXSIZE ({human_size(maxsize)}): download cancelled"
                )
            else:
                message = "download cancelled before the body was complete"
            raise DownloadCancelledError(message) from exc
        except ResponseDataLossError:
            if not self._fail_on_dataloss_warned:
                self._fail_on_dataloss_warned = True
                import logging

                logging.getLogger(__name__).warning(get_dataloss_msg(request.url))
            raise
