"""Resumable crawls: an append-only ledger that survives ``kill -9``, and the Scrapy component
that writes it and replays it.

Scrapy's ``JOBDIR`` (``<run>/jobdir``) keeps the scheduler's queue on disk and the
dupefilter's seen set, but its queue is only consistent after a graceful stop, and a request
that was in flight at the stop is in the seen set and in no queue: it would be lost. The
ledger (``<run>/resume.ndjson``, one JSON object a line, each line flushed to the OS as
it is written) closes that gap. Events:

- ``queued``  a request the spider yielded (start requests included), with its fingerprint,
  URL and the request itself as plain JSON data (``request``: method, headers, body in
  base64, priority, the few JSON-safe ``meta`` keys onionlab and Scrapy need, callback and
  errback by *name*, checked against the spider's allow-list; see :func:`request_to_data`);
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

Run directories are passed around, so the ledger is untrusted input: nothing in it is code
(no pickle: an old ledger holding pickled requests is refused, never unpickled), and every
event and request is validated on load (types, http/https only, sizes). Anything else is
:class:`onionlab.crawler.runs.rundir.RunDirDamaged`: one line naming the file and line (exit 7).

Results that cannot be written (disk full): see :mod:`onionlab.crawler.runs.notsaved`. From the
first failed write on, no ``done``/``failed`` event is written, so every page whose items were not
all written is fetched again on resume.

fsync: off by default. A flushed write is in the kernel's page cache and survives the death
of the process (``kill -9``, a crash, OOM), which is what resuming is for; fsync would only
add power-loss safety at the cost of a disk sync per request. ``ONIONLAB_RESUME_FSYNC=True``
turns it on. Depends on Scrapy, :mod:`onionlab.crawler.runs.rundir` and
:mod:`onionlab.crawler.runs.notsaved`.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import logging
import re
import shutil
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response

from onionlab.crawler.items import Page
from onionlab.crawler.runs import notsaved
from onionlab.crawler.runs.rundir import (
    AppendFile,
    RunDir,
    RunDirDamaged,
    WriteFailed,
    bulk_pairs,
    bulk_target,
    dumps_line,
    failure_saved,
    ndjson_lines,
    read_json,
)

logger = logging.getLogger(__name__)

LEDGER_NAME = "resume.ndjson"
FINISHED = "finished"
REPAIR_HINT = "remove the line (or the file, to crawl again from the start), or start a new crawl"
PICKLE_HINT = (
    "it holds requests in the old pickled format, which onionlab never loads (a pickle can "
    "run code); start a new crawl (onionlab crawl)"
)

# Limits of a request read back from the ledger.
MAX_URL = 8192
MAX_BODY = 1024 * 1024
MAX_HEADERS = 64
MAX_HEADER_VALUE = 8192
MAX_FLAGS = 16
MAX_FLAG = 256
MAX_COOKIES = 64
MAX_PRIORITY = 1_000_000
MAX_REDIRECT_URLS = 64
METHODS = frozenset({"GET", "HEAD", "POST"})
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}")
_FP = re.compile(r"[0-9a-f]{1,128}")
_ENCODING = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,39}")
# The JSON-safe ``meta`` keys onionlab and Scrapy need again on resume, with their types.
META_TYPES: dict[str, tuple[type, ...]] = {
    "depth": (int,),
    "cookiejar": (str, int),
    "download_slot": (str,),
    "dont_retry": (bool,),
    "dont_redirect": (bool,),
    "dont_merge_cookies": (bool,),
    "onionlab_via": (str,),
}
CALLBACKS = frozenset({"parse", "on_error"})
"""Spider methods a ledger request may name as its callback or errback (a spider may widen
it with a ``resume_callbacks`` attribute)."""
REQUEST_KEYS = frozenset(
    {"url", "method", "headers", "body", "meta", "priority", "callback", "errback",
     "dont_filter", "flags", "cookies", "encoding"}
)  # fmt: skip
EVENT_KINDS = frozenset({"queued", "started", "done", "failed", "open", "closed"})


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


def repair_items(path: Path) -> set[str]:
    """Cut a partly written last pair off ``items.ndjson`` (a last line without its newline,
    an action without its document); return the URLs of the pages it holds. Damage anywhere
    else raises :class:`RunDirDamaged`."""
    lines, _ = _complete_lines(path)
    ends = [0]
    for line in lines:
        ends.append(ends[-1] + len(line))
    good = 0
    urls: set[str] = set()
    action_line = 0
    for number, data in ndjson_lines(path, torn_tail_ok=True):
        if number > len(lines):  # a torn last line that happens to parse: still torn
            break
        if not action_line:
            bulk_target(data, path, number)
            action_line = number
            continue
        action_line = 0
        good = ends[number]
        if data.get("kind") == "page" and isinstance(data.get("url"), str):
            urls.add(data["url"])
    _truncate(path, good)
    return urls


def _damaged(path: Path, line: int, problem: str) -> RunDirDamaged:
    return RunDirDamaged(path, problem, line, REPAIR_HINT)


def check_url(url: Any, path: Path, line: int, what: str = "url") -> str:
    """``url`` if it is an http(s) URL with a host, of bounded size."""
    if not isinstance(url, str) or not url:
        raise _damaged(path, line, f"{what} is not a string")
    if len(url) > MAX_URL:
        raise _damaged(path, line, f"{what} longer than {MAX_URL} characters")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise _damaged(path, line, f"{what} contains whitespace or control characters")
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise _damaged(path, line, f"{what} is not a URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise _damaged(path, line, f"{what} is not an http/https URL with a host")
    return url


def _callback_name(method: Any, spider: Any) -> str | None:
    """The name of a spider method (None for none); ValueError for anything else."""
    if method is None:
        return None
    name = getattr(method, "__name__", None)
    allowed = _allowed_callbacks(spider)
    if (
        name not in allowed
        or getattr(method, "__self__", None) is not spider
        or getattr(spider, name, None) != method
    ):
        raise ValueError(f"callback {method!r} is not one of the spider's {sorted(allowed)}")
    return name


def _allowed_callbacks(spider: Any) -> frozenset[str]:
    return frozenset(getattr(spider, "resume_callbacks", CALLBACKS))


def request_to_data(request: Request, spider: Any) -> dict[str, Any] | None:
    """``request`` as plain JSON data, or None if it carries what cannot be kept as data
    (a callback that is not an allowed spider method, callback kwargs): it is then replayed
    from its URL alone. ``meta`` keeps only the keys of :data:`META_TYPES`."""
    try:
        callback = _callback_name(request.callback, spider)
        errback = _callback_name(request.errback, spider)
    except ValueError:
        return None
    if request.cb_kwargs:
        return None
    meta = {
        key: value
        for key, value in request.meta.items()
        if key in META_TYPES and type(value) in META_TYPES[key]
    }
    if isinstance(request.meta.get("redirect_urls"), list):
        meta["redirect_urls"] = [u for u in request.meta["redirect_urls"] if isinstance(u, str)]
    headers = {
        name.decode("latin-1"): [value.decode("latin-1") for value in values]
        for name, values in request.headers.items()
    }
    data: dict[str, Any] = {
        "url": request.url,
        "method": request.method,
        "headers": headers,
        "body": base64.b64encode(request.body).decode("ascii"),
        "meta": meta,
        "priority": request.priority,
        "callback": callback,
        "errback": errback,
        "dont_filter": request.dont_filter,
        "flags": [str(flag) for flag in request.flags],
        "encoding": request.encoding,
    }
    cookies = request.cookies
    if isinstance(cookies, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in cookies.items()
    ):
        data["cookies"] = dict(cookies)
    return data


def check_request(data: Any, path: Path, line: int) -> dict[str, Any]:
    """The keyword arguments of :class:`scrapy.Request` (callbacks still by name) that the
    ledger's ``request`` data describes, every field checked."""

    def bad(problem: str) -> RunDirDamaged:
        return _damaged(path, line, f"request {problem}")

    if not isinstance(data, dict):
        raise bad("is not a JSON object")
    unknown = set(data) - REQUEST_KEYS
    if unknown:
        raise bad(f"has unknown fields {sorted(unknown)}")
    url = check_url(data.get("url"), path, line, "request url")
    method = data.get("method", "GET")
    if method not in METHODS:
        raise bad(f"method {method!r} is not one of {sorted(METHODS)}")
    headers = data.get("headers", {})
    if not isinstance(headers, dict) or len(headers) > MAX_HEADERS:
        raise bad(f"headers are not an object of at most {MAX_HEADERS} names")
    for name, values in headers.items():
        if not _TOKEN.fullmatch(name):
            raise bad(f"header name {name[:40]!r} is not a token")
        if not isinstance(values, list) or len(values) > 8:
            raise bad(f"header {name} is not a list of at most 8 values")
        for value in values:
            if (
                not isinstance(value, str)
                or len(value) > MAX_HEADER_VALUE
                or any(ch in value for ch in "\r\n\0")
            ):
                raise bad(f"header {name} has a value that is not one bounded line")
    body_text = data.get("body", "")
    if not isinstance(body_text, str) or len(body_text) > MAX_BODY * 4 // 3 + 4:
        raise bad(f"body is not base64 text of at most {MAX_BODY} bytes")
    try:
        body = base64.b64decode(body_text, validate=True)
    except (binascii.Error, ValueError):
        raise bad("body is not base64") from None
    meta = data.get("meta", {})
    if not isinstance(meta, dict):
        raise bad("meta is not an object")
    for key, value in meta.items():
        if key == "redirect_urls":
            if not isinstance(value, list) or len(value) > MAX_REDIRECT_URLS:
                raise bad("meta redirect_urls is not a short list")
            for entry in value:
                check_url(entry, path, line, "request meta redirect_urls entry")
        elif key not in META_TYPES:
            raise bad(f"meta key {key[:40]!r} is not one onionlab keeps")
        elif type(value) not in META_TYPES[key]:
            raise bad(f"meta {key} is not a {' or '.join(t.__name__ for t in META_TYPES[key])}")
        elif isinstance(value, str) and len(value) > MAX_URL:
            raise bad(f"meta {key} is too long")
    if isinstance(meta.get("depth"), int) and not 0 <= meta["depth"] <= 1_000_000:
        raise bad("meta depth out of range")
    priority = data.get("priority", 0)
    if type(priority) is not int or abs(priority) > MAX_PRIORITY:
        raise bad(f"priority is not an integer within ±{MAX_PRIORITY}")
    for key in ("callback", "errback"):
        name = data.get(key)
        if name is not None and (not isinstance(name, str) or name not in CALLBACKS):
            raise bad(f"{key} {str(name)[:40]!r} is not one of {sorted(CALLBACKS)}")
    if type(data.get("dont_filter", False)) is not bool:
        raise bad("dont_filter is not true/false")
    flags = data.get("flags", [])
    if (
        not isinstance(flags, list)
        or len(flags) > MAX_FLAGS
        or not all(isinstance(f, str) and len(f) <= MAX_FLAG for f in flags)
    ):
        raise bad(f"flags are not a list of at most {MAX_FLAGS} short strings")
    cookies = data.get("cookies", {})
    if (
        not isinstance(cookies, dict)
        or len(cookies) > MAX_COOKIES
        or not all(
            isinstance(k, str) and isinstance(v, str) and len(k) + len(v) <= MAX_HEADER_VALUE
            for k, v in cookies.items()
        )
    ):
        raise bad(f"cookies are not an object of at most {MAX_COOKIES} strings")
    encoding = data.get("encoding", "utf-8")
    if not isinstance(encoding, str) or not _ENCODING.fullmatch(encoding):
        raise bad("encoding is not a codec name")
    try:
        codecs.lookup(encoding)  # a page's own charset, e.g. cp1251 (response.follow)
    except LookupError:
        raise bad(f"encoding {encoding!r} is not a known codec") from None
    return {
        "url": url,
        "method": method,
        "headers": headers,
        "body": body,
        "meta": meta,
        "priority": priority,
        "callback": data.get("callback"),
        "errback": data.get("errback"),
        "dont_filter": data.get("dont_filter", False),
        "flags": list(flags),
        "cookies": dict(cookies),
        "encoding": encoding,
    }


def request_from_data(kwargs: dict[str, Any], spider: Any) -> Request:
    """A Request from :func:`check_request`'s result; callbacks resolved on ``spider`` (a name
    it does not allow or lacks leaves the default)."""
    kwargs = dict(kwargs)
    allowed = _allowed_callbacks(spider)
    for key in ("callback", "errback"):
        name = kwargs.pop(key)
        method = getattr(spider, name, None) if name in allowed else None
        if callable(method):
            kwargs[key] = method
    return Request(**kwargs)


def _check_event(event: dict[str, Any], path: Path, line: int) -> None:
    """Raise RunDirDamaged unless ``event`` is a ledger event onionlab writes."""
    if "req" in event:
        raise RunDirDamaged(path, "a request in the old pickled format", line, PICKLE_HINT)
    kind = event.get("ev")
    if kind not in EVENT_KINDS:
        raise _damaged(path, line, f"unknown event {str(kind)[:40]!r}")
    if kind in ("queued", "started", "done"):
        fp = event.get("fp")
        if not isinstance(fp, str) or not _FP.fullmatch(fp):
            raise _damaged(path, line, "fp is not a request fingerprint (hex)")
    if kind in ("queued", "failed"):
        check_url(event.get("url"), path, line)
    if kind == "queued" and "request" in event:
        check_request(event["request"], path, line)
    if kind == "done":
        urls = event.get("urls", [])
        if not isinstance(urls, list) or len(urls) > MAX_REDIRECT_URLS + 1:
            raise _damaged(path, line, "urls is not a short list")
        for url in urls:
            check_url(url, path, line, "urls entry")
    if kind == "open" and type(event.get("session", 1)) is not int:
        raise _damaged(path, line, "session is not an integer")
    if kind == "closed" and not isinstance(event.get("reason", ""), str):
        raise _damaged(path, line, "reason is not a string")


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
    """Parse and check the ledger. A last line without its newline (a kill mid-write) is
    left out, and cut off with ``repair``; any other damage raises :class:`RunDirDamaged`."""
    state = LedgerState()
    _lines, length = _complete_lines(path)
    for line, event in ndjson_lines(path, torn_tail_ok=True):
        if line > len(_lines):  # a torn last line that happens to parse: still torn
            break
        _check_event(event, path, line)
        kind, fp = event["ev"], event.get("fp", "")
        if kind == "queued":
            state.queued.setdefault(fp, event)
        elif kind == "started":
            state.started.add(fp)
        elif kind == "done":
            state.done.add(fp)
            state.done_urls.update(event.get("urls", ()))
        elif kind == "failed":
            state.failed_urls.add(event["url"])
        elif kind == "open":
            state.sessions += 1
            state.last_close = None
        elif kind == "closed":
            state.last_close = event.get("reason", "")
    if repair:
        _truncate(path, length)
    return state


def run_status(run_dir: Path) -> str:
    """``"new"`` (no ledger), ``"finished"`` (last session finished the crawl) or
    ``"interrupted"`` (killed, stopped, or ended by a limit: resumable)."""
    path = ledger_path(run_dir)
    if not path.exists():
        return "new"
    return FINISHED if read_ledger(path).last_close == FINISHED else "interrupted"


def check_resumable(run_dir: Path) -> LedgerState:
    """Read every file ``crawl --resume`` reads back (ledger, items, errors, summary, stats,
    sites, config) and raise :class:`RunDirDamaged` on the first damaged one. Partly
    written last lines (a kill mid-write) are allowed: resuming cuts them off."""
    run = RunDir(run_dir)
    state = read_ledger(ledger_path(run_dir))
    for _ in bulk_pairs(run.items, torn_tail_ok=True):
        pass
    for _ in ndjson_lines(run.errors, torn_tail_ok=True):
        pass
    for path in (run.config, run.summary, run.stats, run.sites):
        if path.exists():
            read_json(path)
    if run.sites.exists() and not all(isinstance(e, dict) for e in read_json(run.sites).values()):
        raise RunDirDamaged(run.sites, "an entry that is not an object")
    return state


def mark_unfinished(run_dir: Path) -> None:
    """After a session that finished crawling but could not save its results: make sure the
    ledger does not say ``finished``, so ``--resume`` runs again. Appends a ``closed`` event;
    if even that cannot be written (disk full), cuts the last ``closed finished`` line off
    (cutting needs no space)."""
    path = ledger_path(run_dir)
    if not path.exists():
        return
    try:
        ledger = AppendFile(path)
        try:
            ledger.write(dumps_line({"ev": "closed", "reason": notsaved.REASON}))
        finally:
            ledger.close()
        return
    except OSError:
        pass
    lines, length = _complete_lines(path)
    if lines and b'"ev":"closed"' in lines[-1]:
        _truncate(path, length - len(lines[-1]))


class Ledger:
    """The append-only ledger file: one JSON line per event, written whole (see
    :class:`onionlab.crawler.runs.rundir.AppendFile`), fsynced if asked."""

    def __init__(self, path: Path, fsync: bool = False) -> None:
        self.path = path
        self._file = AppendFile(path, fsync=fsync)

    def append(self, event: dict[str, Any]) -> None:
        self._file.write(dumps_line(event, separators=(",", ":")))

    def close(self) -> None:
        self._file.close()


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
        self.broken = False
        self.tracked: set[str] = set(self.previous.queued)
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
        if fp in self.tracked:
            return True
        self.tracked.add(fp)
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
        if fp in self.tracked:
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
