"""Resumable crawls: an append-only ledger that survives ``kill -9``, and the Scrapy component
that writes it and replays it.

Scrapy's ``JOBDIR`` (``<run>/jobdir``) keeps the scheduler's queue on disk and the
dupefilter's seen set, but its queue is only consistent after a graceful stop, and a request
that was in flight at the stop is in the seen set and in no queue: it would be lost. The
ledger (``<run>/resume.ndjson``, one JSON object a line, each line flushed to the OS as
it is written) closes that gap. Events:

- ``queued``  a request the spider yielded (start requests included), with its fingerprint,
  URL and the request itself (Scrapy's ``Request.to_dict``, pickled, base64);
- ``started`` a queued request reached the downloader;
- ``done``    every item of that request's page has left the item pipelines (written);
- ``failed``  the page failed for good (the spider's ``page_failed`` signal);
- ``open``/``closed`` a session began / ended cleanly (with Scrapy's finish reason).

Invariant: a page's items are passed on only after every request its callback yielded has
been written as ``queued`` (:class:`ResumeMiddleware` holds the items back until the callback
is exhausted), so ``done`` (or the page in ``items.ndjson``) implies its links are recorded.
On resume the frontier is rebuilt from the ledger alone: every queued request that is
neither done nor failed is scheduled again with ``dont_filter=True`` (queued, in flight,
or left in Scrapy's queue: one source of truth, no double scheduling), Scrapy's persisted
queue is discarded, and any request for a page already done is dropped before download
(``onionlab/resume/skipped_done``). Truncated last lines (a kill during a write) of the
ledger, ``items.ndjson`` and ``errors.ndjson`` are cut off first.

fsync: off by default. A flushed write is in the kernel's page cache and survives the death
of the process (``kill -9``, a crash, OOM), which is what resuming is for; fsync would only
add power-loss safety at the cost of a disk sync per request. ``ONIONLAB_RESUME_FSYNC=True``
turns it on. Depends on Scrapy and :mod:`crawler.rundir`.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import pickle
import shutil
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.utils.request import request_from_dict

from crawler.items import Page
from crawler.rundir import RunDir
from crawler.spiders.onion import page_failed

logger = logging.getLogger(__name__)

LEDGER_NAME = "resume.ndjson"
FINISHED = "finished"


def ledger_path(run_dir: Path) -> Path:
    return run_dir / LEDGER_NAME


def _complete_lines(path: Path) -> tuple[list[bytes], int]:
    """The file's newline-terminated lines and the byte length they cover."""
    if not path.exists():
        return [], 0
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    return data[:end].splitlines(keepends=True), end


def _truncate(path: Path, length: int) -> bool:
    """Cut ``path`` to ``length`` bytes; True if anything was cut."""
    if not path.exists() or path.stat().st_size <= length:
        return False
    with path.open("r+b") as handle:
        handle.truncate(length)
    logger.warning("cut a partly written tail off %s (%d bytes kept)", path, length)
    return True


def _json_or_none(line: bytes) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        return None


def repair_items(path: Path) -> set[str]:
    """Cut ``items.ndjson`` after its last complete (action, document) pair; return the URLs
    of the pages it holds."""
    lines, _ = _complete_lines(path)
    good = 0
    urls: set[str] = set()
    for index in range(0, len(lines) - 1, 2):
        action, doc = _json_or_none(lines[index]), _json_or_none(lines[index + 1])
        if not isinstance(action, dict) or not isinstance(doc, dict):
            break
        good += len(lines[index]) + len(lines[index + 1])
        if doc.get("kind") == "page" and doc.get("url"):
            urls.add(doc["url"])
    _truncate(path, good)
    return urls


@dataclass
class LedgerState:
    """What a run's ledger says about its earlier sessions."""

    queued: dict[str, dict[str, Any]] = field(default_factory=dict)  # fp -> event, first wins
    started: set[str] = field(default_factory=set)
    done: set[str] = field(default_factory=set)
    done_urls: set[str] = field(default_factory=set)
    failed_urls: set[str] = field(default_factory=set)
    sessions: int = 0
    last_close: str | None = None  # the last session's finish reason; None if it was killed

    def pending(self) -> list[dict[str, Any]]:
        """Queued events whose page is neither done nor failed, in the order queued."""
        return [
            event
            for fp, event in self.queued.items()
            if fp not in self.done
            and event["url"] not in self.done_urls
            and event["url"] not in self.failed_urls
        ]

    def in_flight(self) -> set[str]:
        """Fingerprints that reached the downloader and never finished."""
        return {fp for fp in self.started - self.done if fp in self.queued} - {
            fp for fp, event in self.queued.items() if event["url"] in self.failed_urls
        }


def read_ledger(path: Path, repair: bool = False) -> LedgerState:
    """Parse the ledger (a truncated last line is ignored, and cut off with ``repair``)."""
    state = LedgerState()
    lines, length = _complete_lines(path)
    if repair:
        _truncate(path, length)
    for line in lines:
        event = _json_or_none(line)
        if not isinstance(event, dict):
            continue
        kind, fp = event.get("ev"), event.get("fp", "")
        if kind == "queued":
            state.queued.setdefault(fp, event)
        elif kind == "started":
            state.started.add(fp)
        elif kind == "done":
            state.done.add(fp)
            state.done_urls.update(event.get("urls", ()))
        elif kind == "failed":
            state.failed_urls.add(event.get("url", ""))
        elif kind == "open":
            state.sessions += 1
            state.last_close = None
        elif kind == "closed":
            state.last_close = event.get("reason", "")
    return state


def run_status(run_dir: Path) -> str:
    """``"new"`` (no ledger), ``"finished"`` (last session finished the crawl) or
    ``"interrupted"`` (killed, stopped, or ended by a limit: resumable)."""
    path = ledger_path(run_dir)
    if not path.exists():
        return "new"
    return FINISHED if read_ledger(path).last_close == FINISHED else "interrupted"


class Ledger:
    """The append-only ledger file: one JSON line per event, flushed (and fsynced if asked)."""

    def __init__(self, path: Path, fsync: bool = False) -> None:
        self.path = path
        self.fsync = fsync
        self._handle: IO[str] = path.open("a", encoding="utf-8")

    def append(self, event: dict[str, Any]) -> None:
        self._handle.write(json.dumps(event, separators=(",", ":")) + "\n")
        self._handle.flush()
        if self.fsync:
            os.fsync(self._handle.fileno())

    def close(self) -> None:
        self._handle.close()


def _serialize(request: Request, spider: Any) -> str | None:
    try:
        return base64.b64encode(pickle.dumps(request.to_dict(spider=spider), protocol=4)).decode()
    except Exception:  # an unpicklable meta value or callback: the URL alone will do
        return None


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
            _truncate(run.errors, _complete_lines(run.errors)[1])
            jobdir = crawler.settings.get("JOBDIR")
            if jobdir:  # the frontier comes from the ledger; Scrapy's queue would duplicate it
                shutil.rmtree(Path(jobdir) / "requests.queue", ignore_errors=True)
        self.ledger = Ledger(path, fsync=crawler.settings.getbool("ONIONLAB_RESUME_FSYNC"))
        self.tracked: set[str] = set(self.previous.queued)
        self.rescheduled: set[str] = set()
        self.pages: dict[int, _PageItems] = {}
        self.ledger.append({"ev": "open", "session": self.previous.sessions + 1})
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
        connect(middleware.page_failed, signal=page_failed)
        connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def fingerprint(self, request: Request) -> str:
        return self.crawler.request_fingerprinter.fingerprint(request).hex()  # type: ignore[union-attr]

    # -- writing the ledger ------------------------------------------------------------
    def _track(self, request: Request) -> None:
        fp = self.fingerprint(request)
        if fp in self.tracked:
            return
        self.tracked.add(fp)
        event = {"ev": "queued", "fp": fp, "url": request.url}
        serialized = _serialize(request, self.crawler.spider)
        if serialized is not None:
            event["req"] = serialized
        self.ledger.append(event)

    def _hold_items(self, response: Response, output: Iterable[Any]) -> Iterator[Any]:
        """Pass requests on (recorded first); collect the items, page item last."""
        items: list[Any] = []
        for entry in output:
            if isinstance(entry, Request):
                self._track(entry)
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
                self._track(entry)
                yield entry
            else:
                items.append(entry)
        for item in self._release(response, items):
            yield item

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        for request in self._replay():
            yield request
        async for entry in start:
            if isinstance(entry, Request):
                self._track(entry)
            yield entry

    def request_reached_downloader(self, request: Request, **_: Any) -> None:
        fp = self.fingerprint(request)
        if fp in self.tracked:
            self.ledger.append({"ev": "started", "fp": fp})

    def item_left_pipeline(self, response: Response | None = None, **_: Any) -> None:
        page = self.pages.get(id(response))
        if page is None:
            return
        page.remaining -= 1
        if page.remaining <= 0:
            del self.pages[id(response)]
            self._done(page)

    def _done(self, page: _PageItems) -> None:
        self.ledger.append({"ev": "done", "fp": page.fp, "urls": page.urls})

    def page_failed(self, url: str, **_: Any) -> None:
        self.ledger.append({"ev": "failed", "url": url})

    def spider_closed(self, reason: str, **_: Any) -> None:
        self.ledger.append({"ev": "closed", "reason": reason})
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
        if "req" in event:
            try:
                data = pickle.loads(base64.b64decode(event["req"]))  # our own ledger
                return request_from_dict(data, spider=self.crawler.spider).replace(dont_filter=True)
            except Exception as exc:
                logger.warning("rebuilding %s from its URL only: %s", event["url"], exc)
        return Request(event["url"], dont_filter=True)

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
