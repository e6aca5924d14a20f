"""Resumable crawls: the Scrapy spider middleware that writes the run's ledger and replays it.

The ledger itself (``<run>/resume.ndjson``: its events, their validation, reading it back) is
:mod:`onionlab.crawler.runs.ledger`. Invariant: a page's items are passed on only after every
request its callback yielded has been written as ``queued`` (:class:`ResumeMiddleware` holds
the items back until the callback is exhausted), so ``done`` (or the page in
``items.ndjson``) implies its links are recorded. On resume the frontier is rebuilt from the
ledger alone: every queued request that is neither done nor failed is scheduled again with
``dont_filter=True`` (queued, in flight, or left in Scrapy's queue: one source of truth, no
double scheduling), Scrapy's persisted queue is discarded, and any request for a page already
done is dropped before download (``onionlab/resume/skipped_done``). Truncated last lines (a
kill during a write) of the ledger, ``items.ndjson`` and ``errors.ndjson`` are cut off first.

Results that cannot be written (disk full): see :mod:`onionlab.crawler.runs.notsaved`. From the
first failed write on, no ``done``/``failed`` event is written, so every page whose items were not
all written is fetched again on resume. Depends on Scrapy, :mod:`onionlab.crawler.frontier`
and :mod:`onionlab.crawler.runs` (rundir, notsaved, ledger, requestdata).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response

from onionlab.crawler.frontier import DigestSet, digest_of_hex
from onionlab.crawler.items import Page
from onionlab.crawler.runs import notsaved
from onionlab.crawler.runs.ledger import (
    Ledger,
    cut_torn_tail,
    ledger_path,
    read_ledger,
    repair_items,
)
from onionlab.crawler.runs.requestdata import check_request, request_from_data, request_to_data
from onionlab.crawler.runs.rundir import RunDir, WriteFailed
from onionlab.crawler.signals import failure_saved

logger = logging.getLogger(__name__)


@dataclass
class _PageItems:
    fp: str
    urls: list[str]
    remaining: int


class ResumeMiddleware:
    """Spider middleware writing the ledger and replaying it when the run is resumed.

    Enabled when ``ONIONLAB_RUN_DIR`` is set. Stats: ``onionlab/resume/sessions``,
    ``onionlab/resume/rescheduled``, ``onionlab/resume/in_flight`` (requests in flight when
    the last session ended), ``onionlab/resume/skipped_done`` and
    ``onionlab/resume/skipped_rescheduled`` (a rediscovered link to a page already
    rescheduled). Setting: ``ONIONLAB_RESUME_FSYNC`` (False).
    """

    def __init__(self, crawler: Crawler, run: RunDir) -> None:
        assert crawler.stats is not None
        self.crawler = crawler
        self.stats = crawler.stats
        path = ledger_path(run.path)
        self.resuming = path.exists()
        # Repair before the item pipeline opens items.ndjson for appending.
        self.previous = read_ledger(path, repair=True)
        if self.resuming:
            self.previous.done_urls |= repair_items(run.items)
            cut_torn_tail(run.errors)
            jobdir = crawler.settings.get("JOBDIR")
            if jobdir:  # the frontier comes from the ledger; Scrapy's queue would duplicate it
                shutil.rmtree(Path(jobdir) / "requests.queue", ignore_errors=True)
        self.ledger = Ledger(path, fsync=crawler.settings.getbool("ONIONLAB_RESUME_FSYNC"))
        self.broken = False
        # The fingerprints written as queued, compactly (onionlab.crawler.frontier).
        self.tracked = DigestSet()
        for fp in self.previous.queued:
            self.tracked.add_digest(digest_of_hex(fp))
        self.rescheduled: set[str] = set()
        self.pages: dict[int, _PageItems] = {}
        self._append({"ev": "open", "session": self.previous.sessions + 1})
        self.stats.set_value("onionlab/resume/sessions", self.previous.sessions + 1)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ResumeMiddleware:
        path = crawler.settings.get("ONIONLAB_RUN_DIR")
        if not path:
            raise NotConfigured("ONIONLAB_RUN_DIR is not set")
        middleware = cls(crawler, RunDir(Path(path)))
        connect = crawler.signals.connect
        connect(middleware.request_scheduled, signal=signals.request_scheduled)
        connect(middleware.request_reached_downloader, signal=signals.request_reached_downloader)
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            connect(middleware.item_left_pipeline, signal=signal)
        connect(middleware.page_failed, signal=failure_saved)
        connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def fingerprint(self, request: Request) -> str:
        return self.crawler.request_fingerprinter.fingerprint(request).hex()  # type: ignore[union-attr]

    # -- writing the ledger ------------------------------------------------------------
    def _append(self, event: dict[str, Any]) -> bool:
        """Write one event; on a failed write, stop the crawl (see
        :mod:`~onionlab.crawler.runs.notsaved`) and write nothing more. True if it was written."""
        if self.broken:
            notsaved.count(self.stats, "ledger")
            return False
        try:
            self.ledger.append(event)
        except WriteFailed as exc:
            self.broken = True
            notsaved.record(self.crawler, "ledger", exc)
            return False
        return True

    def _track(self, request: Request) -> bool:
        """Record ``request`` as queued before it goes on. False once results cannot be
        saved: the request is then held back (were it scheduled, Scrapy's persisted seen
        set would filter it out on resume without the ledger knowing it); the page that
        yielded it is not done, so the resume fetches that page and finds it again."""
        if notsaved.is_stopped(self.stats):
            return False
        fp = self.fingerprint(request)
        if not self.tracked.add_digest(digest_of_hex(fp)):
            return True
        event: dict[str, Any] = {"ev": "queued", "fp": fp, "url": request.url}
        data = request_to_data(request, self.crawler.spider)
        if data is not None:
            event["request"] = data
        return self._append(event)

    def _hold_items(self, response: Response, output: Iterable[Any]) -> Iterator[Any]:
        """Pass requests on (recorded first); collect the items, page item last."""
        items: list[Any] = []
        for entry in output:
            if isinstance(entry, Request):
                if self._track(entry):
                    yield entry
            else:
                items.append(entry)
        yield from self._release(response, items)

    def _release(self, response: Response, items: list[Any]) -> Iterator[Any]:
        items.sort(key=lambda item: isinstance(item, Page))  # the page item is written last
        request = response.request
        if request is None:
            yield from items
            return
        urls = [request.url, *request.meta.get("redirect_urls", ())]
        page = _PageItems(self.fingerprint(request), urls, len(items))
        if not items:
            self._done(page)
            return
        self.pages[id(response)] = page
        yield from items

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterator[Any]:
        yield from self._hold_items(response, result)

    async def process_spider_output_async(
        self, response: Response, result: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        items: list[Any] = []
        async for entry in result:
            if isinstance(entry, Request):
                if self._track(entry):
                    yield entry
            else:
                items.append(entry)
        for item in self._release(response, items):
            yield item

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        for request in self._replay():
            yield request
        async for entry in start:
            if isinstance(entry, Request) and not self._track(entry):
                continue
            yield entry

    def request_reached_downloader(self, request: Request, **_: Any) -> None:
        fp = self.fingerprint(request)
        if self.tracked.has_digest(digest_of_hex(fp)):
            self._append({"ev": "started", "fp": fp})

    def item_left_pipeline(self, response: Response | None = None, **_: Any) -> None:
        page = self.pages.get(id(response))
        if page is None:
            return
        page.remaining -= 1
        if page.remaining <= 0:
            del self.pages[id(response)]
            self._done(page)

    def _done(self, page: _PageItems) -> None:
        # Once a result could not be written, no page counts as done: a page whose items
        # were not all written is fetched again on resume.
        if notsaved.is_stopped(self.stats):
            return
        self._append({"ev": "done", "fp": page.fp, "urls": page.urls})

    def page_failed(self, url: str, **_: Any) -> None:
        if not notsaved.is_stopped(self.stats):
            self._append({"ev": "failed", "url": url})

    def spider_closed(self, reason: str, **_: Any) -> None:
        if notsaved.is_stopped(self.stats):
            reason = notsaved.REASON
        self._append({"ev": "closed", "reason": reason})
        self.ledger.close()

    # -- resuming ----------------------------------------------------------------------
    def _replay(self) -> Iterator[Request]:
        if not self.resuming:
            return
        pending = self.previous.pending()
        in_flight = self.previous.in_flight()
        self.stats.set_value("onionlab/resume/in_flight", len(in_flight))
        logger.info(
            "resuming: %d requests to schedule again (%d were in flight), %d pages done",
            len(pending),
            len(in_flight),
            len(self.previous.done),
        )
        for event in pending:
            request = self._rebuild(event)
            self.rescheduled.add(event["fp"])
            self.stats.inc_value("onionlab/resume/rescheduled")
            yield request

    def _rebuild(self, event: dict[str, Any]) -> Request:
        """The request of a ``queued`` event, from its (already checked) data: never code."""
        spider = self.crawler.spider
        if "request" in event:
            kwargs = check_request(event["request"], ledger_path(Path(".")), 0)
            return request_from_data(kwargs, spider).replace(dont_filter=True)
        callbacks = {}
        for key, name in (("callback", "parse"), ("errback", "on_error")):
            method = getattr(spider, name, None)
            if callable(method):
                callbacks[key] = method
        return Request(event["url"], dont_filter=True, **callbacks)

    def request_scheduled(self, request: Request, **_: Any) -> None:
        """Drop, before download, a request for a page an earlier session finished, and a
        rediscovered link to a page this session already scheduled again."""
        fp = self.fingerprint(request)
        if fp in self.previous.done or (
            request.method == "GET" and request.url in self.previous.done_urls
        ):
            self.stats.inc_value("onionlab/resume/skipped_done")
            raise IgnoreRequest(f"already done in an earlier session: {request.url}")
        if fp in self.rescheduled and not request.dont_filter:
            self.stats.inc_value("onionlab/resume/skipped_rescheduled")
            raise IgnoreRequest(f"already scheduled again: {request.url}")
