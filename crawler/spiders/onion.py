"""The onion spider: follows links within the given onion sites and asks plugins for items.

Scope is Scrapy's own (``allowed_domains`` + the offsite middleware); the Tor layer refuses
anything non-onion on top. Links hidden from humans (a honeypot) are never followed; every
followed link then passes :class:`onionlab.crawler.spidermiddlewares.scope.ScopeMiddleware`
(canonical URL, budgets). Every fetched page becomes a :class:`onionlab.crawler.items.Page`; every
plugin's items follow it. Failures are counted and written, never dropped silently.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from onionlab.crawler.default_settings import from_env
from onionlab.crawler.downloadermiddlewares.offsite import OffsiteRedirect
from onionlab.crawler.extraction.items import MAX_ITEMS_PER_PAGE
from onionlab.crawler.extraction.page import (
    HIDDEN,
    MAX_LINKS_PER_PAGE,
    PageOutcome,
    link_extractor_for,
    work_on_page,
)
from onionlab.crawler.extraction.pool import ExtractPool
from onionlab.crawler.extraction.process import (
    ExtractFailed,
    apply_result_stats,
    replay_logs,
)
from onionlab.crawler.extraction.protocol import task_of
from onionlab.crawler.extraction.runitems import item_from_doc
from onionlab.crawler.frontier import KnownLinks
from onionlab.crawler.items import Item, Page
from onionlab.crawler.mirrors import is_mirror_list
from onionlab.crawler.pluginmanager import get_plugins
from onionlab.crawler.signals import page_failed
from onionlab.crawler.sitepolicy import SiteProfiles, from_settings

# Kept for compatibility: the spider no longer evaluates these per link (see
# onionlab.crawler.extraction.page.cut_hidden, which finds the same links in one pass).
VISIBLE_LINKS = f"//*[self::a or self::area][not(ancestor-or-self::*[{HIDDEN}])]"
HIDDEN_LINKS = f"//*[self::a or self::area][@href][ancestor-or-self::*[{HIDDEN}]]"
MIRROR_LIST_PRIORITY = 50


def _now() -> str:
    """UTC now as ISO 8601 with milliseconds (pages' ``fetched_at``)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class OnionSpider(scrapy.Spider):
    """Crawl ``start_urls`` and every page they link to on the same onion hosts.

    Each text page's work (title, plugins, hidden links, links) runs in the extraction
    pool (:mod:`onionlab.crawler.extraction.pool`): bounded in time and memory, off the event
    loop.
    """

    name = "onion"

    def __init__(self, start_urls: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.start_urls = list(start_urls)
        self.allowed_domains = sorted({urlsplit(u).hostname or "" for u in self.start_urls})
        # Scrapy's link extractor compares the netloc, port included: list both forms.
        netlocs = {urlsplit(u).netloc.lower() for u in self.start_urls}
        self.link_domains = sorted(netlocs | set(self.allowed_domains))
        self.link_extractor = link_extractor_for(self.link_domains)
        self.plugins = get_plugins()
        self.pool: ExtractPool | None = None
        self.max_items = MAX_ITEMS_PER_PAGE
        self.max_links = MAX_LINKS_PER_PAGE
        self._allowed: dict[tuple[str, str], list[str] | None] = {}
        self.known = KnownLinks()
        # Pages the obstacle gate had worked on (classify_page), until parse takes them.
        self._done: WeakKeyDictionary[Response, tuple[str, PageOutcome | None]] = (
            WeakKeyDictionary()
        )

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> OnionSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        workers = from_env(settings, "ONIONLAB_EXTRACT_WORKERS", int)
        spider.max_items = from_env(settings, "ONIONLAB_MAX_ITEMS_PER_PAGE", int)
        spider.max_links = from_env(settings, "ONIONLAB_MAX_LINKS_PER_PAGE", int)
        if workers >= 0:
            spider.pool = ExtractPool(
                workers or max(2, os.cpu_count() or 1),
                timeout=from_env(settings, "ONIONLAB_EXTRACT_TIMEOUT", float),
                memory_mb=from_env(settings, "ONIONLAB_EXTRACT_MEMORY_MB", int),
                expected_plugins=[p.name for p in spider.plugins.plugins if not p.error],
            )
            # Now, before the crawl starts: a worker takes a second or two to load plugins.
            spider.pool.start()
        crawler.signals.connect(spider.known.scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(spider._open_pool, signal=signals.spider_opened)
        crawler.signals.connect(spider._close_pool, signal=signals.spider_closed)
        return spider

    def _open_pool(self) -> None:
        if self.pool is not None:
            self.pool.start()  # their pipes join the event loop, now running

    def _close_pool(self) -> None:
        if self.pool is not None:
            stats = self.crawler.stats
            stats.set_value("onionlab/extract/workers_started", self.pool.started_workers)
            stats.set_value("onionlab/extract/workers_recycled", self.pool.recycled)
            stats.set_value("onionlab/extract/workers_demoted", self.pool.demoted)
            stats.set_value("onionlab/extract/queued_max", self.pool.queued_max)
            for key, ms in self.pool.timing.items():
                stats.set_value(f"onionlab/extract/{key}", round(ms))
            if self.pool.peak_rss_kb:
                stats.max_value("onionlab/extract/worker_peak_rss_kb", self.pool.peak_rss_kb)
            self.pool.close()

    @property
    def profiles(self) -> SiteProfiles:
        """Each site's crawl profile (which plugins extract: :mod:`onionlab.crawler.sitepolicy`)."""
        return from_settings(self.crawler.settings)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.start_urls:
            yield scrapy.Request(url, callback=self.parse, errback=self.on_error)

    def _allowed_plugins(self, host: str) -> list[str] | None:
        """The names of the plugins a site's profile lets extract (``None``: all)."""
        return self._plugin_names(host, "plugins")

    def _gate_plugins(self, host: str) -> list[str] | None:
        """The names of the plugins a site's profile lets classify pages (``None``: all)."""
        return self._plugin_names(host, "gate")

    def _plugin_names(self, host: str, role: str) -> list[str] | None:
        """The plugins a site's profile names for ``role`` (``plugins``, ``gate``)."""
        key = (host, role)
        if key not in self._allowed:
            choice = getattr(self.profiles.for_host(host), role)
            names = [p.name for p in self.plugins.plugins if not p.error]
            allowed = [name for name in names if choice.allows(name)]
            self._allowed[key] = None if len(allowed) == len(names) else allowed
        return self._allowed[key]

    async def classify_page(self, response: TextResponse) -> str | None:
        """What the gate plugins say ``response`` is (``onionlab_page_state``), for
        :class:`onionlab.crawler.downloadermiddlewares.gate.ObstacleGate`.

        The page is parsed once, in a worker: the same parse answers the gate and, when the
        page is no obstacle, does its whole work (title, items, links), kept for
        :meth:`parse`. A page whose work was cut off is no obstacle (its drop is counted here,
        as in :meth:`parse`)."""
        host = (urlsplit(response.url).hostname or "").lower()
        fetched = _now()
        outcome = await self._work(response, host, classify=True)
        self._done[response] = (fetched, outcome)
        return outcome.state if outcome is not None else None

    async def parse(self, response: Response) -> AsyncIterator[Item | scrapy.Request]:
        if not isinstance(response, TextResponse):
            yield self._page_item(response, "")
            return
        host = (urlsplit(response.url).hostname or "").lower()
        done = self._done.pop(response, None)
        if done is not None:  # the gate had the page worked on already
            fetched, outcome = done
        else:
            fetched = _now()  # when the page came in, not when a worker was done with it
            outcome = await self._work(response, host)
        stats = self.crawler.stats
        yield self._page_item(response, outcome.title if outcome else "", fetched)
        if outcome is None:
            return
        for doc in outcome.docs:
            item = item_from_doc(json.loads(doc))
            if item is not None:
                yield item
        if outcome.hidden:
            stats.inc_value("onionlab/scope/hidden", outcome.hidden)
        known = self.known
        skipped = 0
        for url in outcome.links:
            if url in known:  # already given to the engine: its duplicate filter would drop it
                skipped += 1
                continue
            # A site's signed mirror list first: if its address dies mid-crawl, the crawl
            # can carry on through a mirror (onionlab.crawler.downloadermiddlewares.liveness).
            priority = MIRROR_LIST_PRIORITY if is_mirror_list(url) else 0
            yield scrapy.Request(url, callback=self.parse, errback=self.on_error, priority=priority)
        if skipped:
            stats.inc_value("onionlab/frontier/known_links", skipped)

    async def _work(
        self, response: TextResponse, host: str, *, classify: bool = False
    ) -> PageOutcome | None:
        """The page's work, in the pool (or in this process); ``None`` when it was cut off.
        With ``classify``, the gate plugins say first whether it is an obstacle page."""
        stats = self.crawler.stats
        allowed = self._allowed_plugins(host)
        gate = self._gate_plugins(host) if classify else None
        if self.pool is None:
            only = None if allowed is None else frozenset(allowed).__contains__
            try:
                return work_on_page(
                    self.plugins.manager,
                    response,
                    self.link_extractor,
                    stats=stats,
                    only=only,
                    max_items=self.max_items,
                    max_links=self.max_links,
                    gate=None if gate is None else frozenset(gate).__contains__,
                    classify=classify,
                )
            except MemoryError:
                stats.inc_value("onionlab/dropped/extract_memory")
                return None
        header, body = task_of(response)
        _forget_parse(response)
        header.update(
            domains=self.link_domains,
            plugins=allowed,
            max_items=self.max_items,
            max_links=self.max_links,
            classify=classify,
            gate=gate,
        )
        try:
            result = await self.pool.run(host, header, body)
        except ExtractFailed as failed:
            apply_result_stats(stats, failed.stats)
            stats.inc_value(f"onionlab/dropped/extract_{failed.reason}")
            culprit = failed.culprit
            if culprit and not culprit.startswith("("):
                kind = {"timeout": "timeouts", "memory": "memory"}.get(failed.reason, "crashes")
                stats.inc_value(f"plugins/{culprit}/{kind}")
            self.logger.warning(
                "%s: page cut off (%s%s); its Page item is kept, without items or links",
                response.url,
                failed.reason,
                f", in {culprit}" if culprit else "",
            )
            return None
        apply_result_stats(stats, result.get("stats", {}))
        replay_logs(result.get("logs", ()))
        return PageOutcome(
            title=str(result.get("title", "")),
            docs=list(result.get("docs", ())),
            hidden=int(result.get("hidden", 0)),
            links=list(result.get("links", ())),
            state=None if result.get("state") is None else str(result["state"]),
        )

    def _page_item(self, response: Response, title: str, fetched: str = "") -> Page:
        return Page(
            url=response.url,
            site=(urlsplit(response.url).hostname or "").lower(),
            status=response.status,
            title=title,
            content_type=(response.headers.get("Content-Type") or b"").decode("latin-1"),
            length=len(response.body),
            depth=int(response.meta.get("depth", 0)),
            fetched_at=fetched or _now(),
        )

    def on_error(self, failure: Failure) -> None:
        """Count and record a request that failed for good (after Scrapy's retries).

        A redirect the crawl does not follow
        (:class:`onionlab.crawler.downloadermiddlewares.offsite.OffsiteRedirect`) is recorded the
        same way, with kind ``offsite_redirect``, but it is a drop (counted as
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


def _forget_parse(response: TextResponse) -> None:
    """Drop what this process parsed of the page (the obstacle gate asks plugins about every
    page here): the page waits for a worker, which parses it again, and a held parse tree
    costs about 1 MB a page, so 200 waiting pages would cost 200 MB. Scrapy 2.19's cache
    attributes (the minor version is pinned); a later ``.css()`` simply parses again."""
    for name in ("_cached_selector", "_cached_ubody"):
        if getattr(response, name, None) is not None:
            setattr(response, name, None)
