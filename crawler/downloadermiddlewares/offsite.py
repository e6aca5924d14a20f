"""Off-site redirects: downloader middlewares that never follow a redirect leaving the crawl.

**Off-site redirects** (:class:`OffsiteRedirectMiddleware`, just below Scrapy's
``RedirectMiddleware``; :class:`OffsiteRefreshMiddleware` for ``<meta
http-equiv=refresh>``): a redirect to a host the crawl does not cover (another onion, a
clearnet or loopback host) or to another scheme (``file:``, ``ftp:``, ``data:``…) is never
followed — Scrapy would drop the first without a word, and answer the second with the 3xx
page. Each is counted as ``onionlab/dropped/offsite_redirect`` and recorded in
``errors.ndjson`` with kind ``offsite_redirect`` and the message ``<url> -> <target>: …``
(not an error of the crawl: ``onionlab/errors/*`` does not count it). A page whose meta
refresh points off-site is kept as it is.
Depends on Scrapy, w3lib, :mod:`~.metarefresh` and :mod:`onionlab.crawler.signals` (the
refresh is recorded through ``page_failed``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urljoin, urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.response import get_meta_refresh
from w3lib.url import safe_url_string

from onionlab.crawler.downloadermiddlewares.metarefresh import may_refresh
from onionlab.crawler.signals import page_failed

OFFSITE_REDIRECT = "offsite_redirect"
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})


class OffsiteRedirect(IgnoreRequest):
    """A redirect the crawl does not follow; the spider's errback records it (not an error)."""

    reason = OFFSITE_REDIRECT

    def __init__(self, url: str, target: str, why: str) -> None:
        super().__init__(f"{url} -> {target}: redirect to {why} not followed")
        self.url = url
        self.target = target


def offsite_why(url: str, target: str, allowed: Iterable[str] = ()) -> str | None:
    """Why a redirect from ``url`` to ``target`` leaves the crawl, or None if it does not.

    It stays when ``target`` is http(s) on ``url``'s host or on a host the crawl covers
    (``allowed``, the spider's ``allowed_domains``, subdomains included).
    """
    try:
        parts = urlsplit(target)
        host = (parts.hostname or "").lower().rstrip(".")
    except ValueError:
        return "a malformed address"
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return f"another scheme ({scheme or 'none'}:)"
    if not host:
        return "a malformed address"
    own = (urlsplit(url).hostname or "").lower()
    domains = {d.lower() for d in allowed if d}
    if host == own or any(host == d or host.endswith("." + d) for d in domains):
        return None
    return "another onion site" if host.endswith(".onion") else "a non-onion host"


class _OffsiteRedirectBase:
    def __init__(self, crawler: Crawler) -> None:
        assert crawler.stats is not None
        self.crawler = crawler
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        return cls(crawler)

    def _allowed(self) -> list[str]:
        return list(getattr(self.crawler.spider, "allowed_domains", None) or [])

    def _count(self, url: str, target: str, why: str) -> None:
        self.stats.inc_value(f"onionlab/dropped/{OFFSITE_REDIRECT}")
        self.stats.inc_value(f"onionlab/redirects/offsite/{(urlsplit(url).hostname or '')}")


class OffsiteRedirectMiddleware(_OffsiteRedirectBase):
    """Downloader middleware (above ``RedirectMiddleware``, 600): a 3xx leaving the crawl
    fails with :class:`OffsiteRedirect` instead of being followed or dropped unsaid."""

    def process_response(self, request: Request, response: Response) -> Response:
        if (
            response.status not in REDIRECT_CODES
            or request.meta.get("dont_redirect")
            or request.meta.get("handle_httpstatus_all")
            or response.status in request.meta.get("handle_httpstatus_list", ())
        ):
            return response
        location = response.headers.get("Location")
        if not location:
            return response
        text = safe_url_string(location)
        if text.startswith("//"):
            text = f"{urlsplit(request.url).scheme}:{text}"
        target = urljoin(request.url, text)
        why = offsite_why(request.url, target, self._allowed())
        if why is None:
            return response
        self._count(request.url, target, why)
        raise OffsiteRedirect(request.url, target, why)


class OffsiteRefreshMiddleware(_OffsiteRedirectBase):
    """Downloader middleware (between HttpCompression, 590, and MetaRefresh, 580): a meta
    refresh leaving the crawl is not followed; the page itself is kept and the refresh
    recorded."""

    def process_response(self, request: Request, response: Response) -> Response:
        if request.meta.get("dont_redirect") or not may_refresh(response):
            return response
        try:
            _interval, url = get_meta_refresh(response)
        except (ValueError, TypeError):
            return response
        if not url:
            return response
        why = offsite_why(request.url, url, self._allowed())
        if why is None:
            return response
        self._count(request.url, url, why)
        request.meta["dont_redirect"] = True  # MetaRefreshMiddleware leaves the page alone
        self.crawler.signals.send_catch_log(
            signal=page_failed,
            url=request.url,
            kind=OFFSITE_REDIRECT,
            message=f"{request.url} -> {url}: meta refresh to {why} not followed",
            spider=self.crawler.spider,
        )
        return response
