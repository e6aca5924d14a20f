"""The onion spider: follows links within the given onion sites and asks plugins for items.

Scope is Scrapy's own (``allowed_domains`` + the offsite middleware); the Tor layer refuses
anything non-onion on top. Links hidden from humans (a honeypot) are never followed; every
followed link then passes :class:`crawler.scope.ScopeMiddleware` (canonical URL, budgets).
Every fetched page becomes a :class:`crawler.items.Page`; every plugin's items follow it.
Failures are counted and written, never dropped silently.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from twisted.python.failure import Failure

from crawler.extraction import extract_items
from crawler.items import Item, Page
from crawler.mirrors import is_mirror_list
from crawler.plugins import get_plugins
from crawler.scope import OffsiteRedirect
from crawler.siteprofiles import SiteProfiles, from_settings

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_STYLE = f"translate(@style, '{_UPPER} \t\n\r', '{_UPPER.lower()}')"
# An element a human cannot see: the ``hidden`` attribute or an inline style hiding it.
HIDDEN = f"@hidden or contains({_STYLE}, 'display:none') or contains({_STYLE}, 'visibility:hidden')"
VISIBLE_LINKS = f"//*[self::a or self::area][not(ancestor-or-self::*[{HIDDEN}])]"
HIDDEN_LINKS = f"//*[self::a or self::area][@href][ancestor-or-self::*[{HIDDEN}]]"
MIRROR_LIST_PRIORITY = 50


class OnionSpider(scrapy.Spider):
    """Crawl ``start_urls`` and every page they link to on the same onion hosts."""

    name = "onion"

    def __init__(self, start_urls: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.start_urls = list(start_urls)
        self.allowed_domains = sorted({urlsplit(u).hostname or "" for u in self.start_urls})
        # Scrapy's link extractor compares the netloc, port included: list both forms.
        netlocs = {urlsplit(u).netloc.lower() for u in self.start_urls}
        self.link_extractor = LinkExtractor(
            allow_domains=sorted(netlocs | set(self.allowed_domains)),
            restrict_xpaths=VISIBLE_LINKS,
            unique=True,
        )
        self.plugins = get_plugins()

    @property
    def profiles(self) -> SiteProfiles:
        """Each site's crawl profile (which plugins extract; see :mod:`crawler.siteprofiles`)."""
        return from_settings(self.crawler.settings)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.start_urls:
            yield scrapy.Request(url, callback=self.parse, errback=self.on_error)

    def parse(self, response: Response) -> Iterator[Item | scrapy.Request]:
        yield self._page_item(response)
        if not isinstance(response, TextResponse):
            return
        profile = self.profiles.for_host(urlsplit(response.url).hostname)
        yield from extract_items(
            self.plugins.manager, response, self.crawler.stats, only=profile.plugins.allows
        )
        hidden = len(response.xpath(HIDDEN_LINKS))
        if hidden:
            self.crawler.stats.inc_value("onionlab/scope/hidden", hidden)
        for link in self.link_extractor.extract_links(response):
            # A site's signed mirror list first: if its address dies mid-crawl, the crawl
            # can carry on through a mirror (crawler.liveness).
            priority = MIRROR_LIST_PRIORITY if is_mirror_list(link.url) else 0
            yield response.follow(
                link, callback=self.parse, errback=self.on_error, priority=priority
            )

    def _page_item(self, response: Response) -> Page:
        title = ""
        if isinstance(response, TextResponse):
            title = (response.css("title::text").get() or "").strip()
        return Page(
            url=response.url,
            site=(urlsplit(response.url).hostname or "").lower(),
            status=response.status,
            title=title,
            content_type=(response.headers.get("Content-Type") or b"").decode("latin-1"),
            length=len(response.body),
            depth=int(response.meta.get("depth", 0)),
            fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )

    def on_error(self, failure: Failure) -> None:
        """Count and record a request that failed for good (after Scrapy's retries).

        A redirect the crawl does not follow (:class:`crawler.scope.OffsiteRedirect`) is
        recorded the same way, with kind ``offsite_redirect``, but it is a drop (counted as
        ``onionlab/dropped/offsite_redirect`` where it happened), not a fetch error.
        """
        request = failure.request  # type: ignore[attr-defined]
        error = failure.value
        if isinstance(error, OffsiteRedirect):
            self.crawler.signals.send_catch_log(
                signal=page_failed,
                url=request.url,
                kind=error.reason,
                message=str(error),
                spider=self,
            )
            self.logger.info("not following %s", error)
            return
        status = getattr(getattr(error, "response", None), "status", None)
        kind = f"http_{status}" if status else type(error).__name__
        message = str(error)
        if not message:  # an exception without words (a cancel, a stop): say what it is
            doc = (type(error).__doc__ or "").strip().splitlines()
            message = f"{type(error).__name__}: {doc[0] if doc else 'no message'}"
        self.crawler.stats.inc_value("onionlab/errors/total")
        self.crawler.stats.inc_value(f"onionlab/errors/{kind}")
        self.crawler.signals.send_catch_log(
            signal=page_failed, url=request.url, kind=kind, message=message, spider=self
        )
        self.logger.warning("giving up on %s: %s", request.url, message)


page_failed = object()
"""Signal sent with ``url``, ``kind`` and ``message`` when a page could not be fetched."""
