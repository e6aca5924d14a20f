"""A page's work (title, plugins' items, hidden links, links), bounded in time and memory.

Every fetched HTML or text page is parsed once, by :func:`work_on_page`: its title, every
allowed plugin's items (extracted, normalised, serialised:
:mod:`onionlab.crawler.extraction.items`), the number of links hidden from humans, and the visible
links to follow. In a crawl this runs in worker processes (:class:`ExtractPool`), never on the
crawl's event loop: CPython's regex engine cannot be interrupted, so the only bound on a slow or
greedy plugin is a process that can be killed. The main process gets plain data back (JSON documents
and URLs) and yields the items and requests itself.

Why a pool of our own and not ``pebble``/``loky``: the pool must (1) name the plugin that
was running when a page was cut off (a shared page the worker writes the plugin's name
into before each call), (2) watch each worker's resident memory (it needs the workers'
pids), (3) share the workers fairly between sites, so one hostile site never holds all of
them, and (4) deliver results on the event loop without helper threads contending for the
GIL on the crawl's hot path. pebble's ``ProcessPool`` gives per-task timeouts but none of
the rest, and forks workers from a thread of a threaded process. The pool here is asyncio's
subprocess support (Scrapy 2.19 runs on the asyncio reactor): each worker is
``python -m onionlab.crawler.extraction.pagework``, speaking length-prefixed frames on its
stdin/stdout.

Bounds (Scrapy settings, defaults in :mod:`onionlab.crawler.addon`; an environment variable of the
same name wins, as ``onionlab crawl`` has no flag for them):

- ``ONIONLAB_EXTRACT_WORKERS`` (0 = one per core, at least 2; -1 = in the crawl's own
  process, unbounded: for debugging);
- ``ONIONLAB_EXTRACT_TIMEOUT`` (10 s): a page still running is cut off, its worker killed
  and replaced; counted ``onionlab/dropped/extract_timeout`` and
  ``plugins/<name>/timeouts``;
- ``ONIONLAB_EXTRACT_MEMORY_MB`` (32): what one page may add to a worker's resident memory
  above its baseline (about 100 MB with every built-in plugin, warmed up). Enforced twice: an
  address-space limit in the worker (``RLIMIT_AS``: an allocation over it fails at once,
  even inside C code) and a watchdog here that kills a worker whose RSS goes over; counted
  ``onionlab/dropped/extract_memory`` (and ``plugins/<name>/memory``). A worker that ends
  a page above half its allowance is replaced, so memory does not creep;
- a worker that dies otherwise: ``onionlab/dropped/extract_crashed``;
- ``ONIONLAB_MAX_ITEMS_PER_PAGE`` (2,000) and ``ONIONLAB_MAX_LINKS_PER_PAGE`` (5,000): the
  excess is counted ``onionlab/dropped/items_per_page`` / ``links_per_page``.

A page cut off still gets its Page item (without a title). A site whose page has run for
over a second may hold all workers but one (when there are two or more), so other sites'
pages keep flowing while its pages run into their time bound; the worker on such a page
drops to the lowest CPU priority (nice 19), so a page spinning in a plugin takes no core
from the crawl or the other workers, and is replaced after that page. Workers ignore SIGINT (the
crawl handles Ctrl-C), die with the crawl (``PR_SET_PDEATHSIG`` and end of input), and
load plugins exactly as the crawl does (:func:`onionlab.crawler.pluginmanager.load_plugins`, the
same environment and ``sys.path``: entry points, ``ONIONLAB_PLUGINS_DIR``,
``ONIONLAB_LOAD_PLUGINS``, ``ONIONLAB_DISABLE_PLUGINS``); a worker that loads a different
set is refused. Stats and log records made in a worker are merged
into the crawl's. Depends on Scrapy, lxml, :mod:`onionlab.crawler.pluginmanager` and
:mod:`onionlab.crawler.extraction.items`; the worker side only on those.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import mmap
import os
import signal
import struct
import subprocess
import sys
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pluggy
from lxml import etree
from scrapy.http import HtmlResponse, TextResponse, XmlResponse
from scrapy.linkextractors import LinkExtractor

from onionlab.crawler.extraction.items import MAX_ITEMS_PER_PAGE, extract_docs
from onionlab.crawler.pluginmanager import StatsLike, observe_calls

logger = logging.getLogger(__name__)

MAX_LINKS_PER_PAGE = 5_000
DEFAULT_TIMEOUT = 10.0
DEFAULT_MEMORY_MB = 32
CULPRIT_SIZE = 128
WATCH_INTERVAL = 0.1  # seconds between two looks at the busy workers' memory
PIPELINE = 6  # pages sent to a worker ahead of its answers (see ExtractPool._pump)
PIPE_SIZE = 1024 * 1024  # bytes of each worker pipe (Linux's default most)
SLOW = 1.0  # seconds: a page running longer marks its site as slow (see ExtractPool)

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_STYLE = f"translate(@style, '{_UPPER} \t\n\r', '{_UPPER.lower()}')"
# An element a human cannot see: the ``hidden`` attribute or an inline style hiding it.
HIDDEN = f"@hidden or contains({_STYLE}, 'display:none') or contains({_STYLE}, 'visibility:hidden')"
_HIDDEN_ELEMENTS = etree.XPath(f"//*[{HIDDEN}]")
_HIDDEN_BELOW = etree.XPath(f"descendant::*[{HIDDEN}]")
_LINKS_WITH_HREF = etree.XPath("descendant-or-self::*[self::a or self::area][@href]")


# --- the work on one page (in a worker, or in-process) ------------------------------------


def cut_hidden(root: Any) -> int:
    """Remove every subtree a human cannot see from the parsed page; return how many links
    with an ``href`` they held.

    Linear in the page: hidden elements are found by one XPath pass, and each hidden
    subtree is visited once (a hidden element inside another is skipped). The links left
    in the tree are exactly those with no hidden ancestor (the spider's old
    ``ancestor-or-self`` test, which cost O(links × depth): 18 s on 2,000-deep nesting).
    The tree is changed: run this last, after everything else that reads the page.
    """
    hidden = _HIDDEN_ELEMENTS(root)
    if not hidden:
        return 0
    inner: set[Any] = set()
    count = 0
    for element in hidden:  # document order: an outer hidden element comes first
        if element in inner:
            continue
        inner.update(_HIDDEN_BELOW(element))
        count += len(_LINKS_WITH_HREF(element))
        parent = element.getparent()
        if parent is None:  # the whole page is hidden
            for child in list(element):
                element.remove(child)
        else:
            parent.remove(element)  # its tail text goes too: links do not need it
    return count


@dataclass
class PageOutcome:
    """What the work on one page gives: plain data, the same in a worker and in-process."""

    title: str = ""
    docs: list[str] = field(default_factory=list)  # the items' JSON documents
    hidden: int = 0
    links: list[str] = field(default_factory=list)


def work_on_page(
    pm: pluggy.PluginManager,
    response: TextResponse,
    link_extractor: LinkExtractor,
    *,
    stats: StatsLike | None = None,
    only: Callable[[str], bool] | None = None,
    max_items: int = MAX_ITEMS_PER_PAGE,
    max_links: int = MAX_LINKS_PER_PAGE,
    mark: Callable[[str], None] | None = None,
) -> PageOutcome:
    """Title, items, hidden-link count and visible links of one page, the page parsed once.

    ``mark(phase)`` is told what runs (``"(title)"``, ``"(links)"``; plugins are named by
    :func:`onionlab.crawler.pluginmanager.observe_calls`).
    """
    mark = mark or (lambda _phase: None)
    mark("(title)")
    outcome = PageOutcome(title=(response.css("title::text").get() or "").strip())
    outcome.docs = [doc for _item, doc in extract_docs(pm, response, stats, only, max_items)]
    mark("(links)")
    outcome.hidden = cut_hidden(response.selector.root)
    links = [link.url for link in link_extractor.extract_links(response)]
    if max_links and len(links) > max_links:
        if stats is not None:
            stats.inc_value("onionlab/dropped/links_per_page", len(links) - max_links)
        logger.warning(
            "%s: %d links, over the cap of %d per page; the rest dropped",
            response.url,
            len(links),
            max_links,
        )
        del links[max_links:]
    outcome.links = links
    return outcome


def link_extractor_for(domains: Iterable[str]) -> LinkExtractor:
    """The spider's link extractor: links to the given hosts (and ``host:port`` forms)."""
    return LinkExtractor(allow_domains=sorted(set(domains)), unique=True)


_RESPONSE_TYPES: dict[str, type[TextResponse]] = {
    cls.__name__: cls for cls in (TextResponse, HtmlResponse, XmlResponse)
}


def task_of(response: TextResponse) -> tuple[dict[str, Any], bytes]:
    """The frame header and body that rebuild ``response`` in a worker."""
    cls = type(response)
    name = cls.__name__ if _RESPONSE_TYPES.get(cls.__name__) is cls else "HtmlResponse"
    headers = [
        [key.decode("latin-1"), value.decode("latin-1")]
        for key, values in response.headers.items()
        for value in values
    ]
    header = {"url": response.url, "status": response.status, "headers": headers, "cls": name}
    return header, response.body


def response_of(header: dict[str, Any], body: bytes) -> TextResponse:
    """Rebuild the response :func:`task_of` described."""
    cls = _RESPONSE_TYPES.get(header.get("cls", ""), HtmlResponse)
    headers: dict[str, list[str]] = {}
    for key, value in header.get("headers", ()):
        headers.setdefault(key, []).append(value)
    return cls(header["url"], status=int(header.get("status", 200)), headers=headers, body=body)


class CountingStats:
    """A minimal stats collector: increments, to be merged into the crawl's."""

    def __init__(self) -> None:
        self.values: Counter[str] = Counter()

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self.values[key] += count


# --- the worker process -------------------------------------------------------------------

_HEADER = struct.Struct("!II")
_LENGTH = struct.Struct("!I")


def _read_exactly(stream: Any, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return bytes(data)


def _die_with_parent() -> None:
    with contextlib.suppress(Exception):  # Linux only; end of input covers the rest
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() == 1:
        os._exit(0)


def _rss_kb(pid: int | str = "self") -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[1]) * (os.sysconf("SC_PAGESIZE") // 1024)
    except (OSError, ValueError, IndexError):
        return 0


def _vm_size() -> int:
    with open("/proc/self/statm", "rb") as handle:
        return int(handle.read().split()[0]) * os.sysconf("SC_PAGESIZE")


class _LogRecords(logging.Handler):
    """Keeps a worker's log records (warnings and up) for the crawl to log."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[list[Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):
            self.records.append([record.levelno, record.name, record.getMessage()])


WARM_UP_PAGE = """<html><head><title>warm-up</title></head><body>
<h1>Vendor profile</h1><p>Price: $120.00 (0.0021 BTC) for 3.5 g, ships from NL.</p>
<p>Мефедрон кристаллы 1 г, доставка. MDMA pills 120mg. Contact: vendor@example.onion</p>
<a href="/item/1">item</a><a href="/vendor/x" style="display:none">hidden</a>
<pre>-----BEGIN PGP PUBLIC KEY BLOCK-----
-----END PGP PUBLIC KEY BLOCK-----</pre>
<p>bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq 1BoatSLRHtKNngkdXEeobR76b53LETtpyT</p>
</body></html>"""
"""A page like the lab's, done once by each new worker before it takes pages: plugins
that load lazily (dictionaries, compiled patterns) do it then, not on a crawled page, and
the memory baseline is measured after."""


def _warm_up(pm: pluggy.PluginManager) -> None:
    url = "http://" + "w" * 56 + ".onion/warm-up"
    page = HtmlResponse(url, body=WARM_UP_PAGE.encode(), encoding="utf-8")
    with contextlib.suppress(Exception):
        work_on_page(pm, page, link_extractor_for([]), stats=CountingStats())


def worker_main(culprit_fd: int, memory_mb: int) -> None:
    """A worker: load plugins, then do one page per frame read, until end of input."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the crawl's to handle
    _die_with_parent()
    # Frames go on the real stdout; whatever a plugin prints goes to stderr instead.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    source = sys.stdin.buffer
    culprit = mmap.mmap(culprit_fd, CULPRIT_SIZE)

    def mark(name: str) -> None:
        culprit[:CULPRIT_SIZE] = name.encode()[: CULPRIT_SIZE - 1].ljust(CULPRIT_SIZE, b"\0")

    from onionlab.crawler.pluginmanager import load_plugins

    records = _LogRecords()
    logging.getLogger().addHandler(records)
    logging.getLogger().setLevel(logging.WARNING)
    loaded = load_plugins()
    _warm_up(loaded.manager)
    observe_calls(mark)
    baseline = _rss_kb()
    limit = 0
    if memory_mb > 0:
        import resource

        limit = _vm_size() + memory_mb * 1024 * 1024
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    names = sorted(p.name for p in loaded.plugins if not p.error)
    hello = {"pid": os.getpid(), "plugins": names, "rss_kb": baseline}
    _write_frame(out, hello)
    extractors: dict[tuple[str, ...], LinkExtractor] = {}
    while True:
        try:
            json_len, body_len = _HEADER.unpack(_read_exactly(source, _HEADER.size))
            header = json.loads(_read_exactly(source, json_len))
            body = _read_exactly(source, body_len)
        except EOFError:
            return
        records.records = []
        stats = CountingStats()
        cpu_started = time.process_time()
        result: dict[str, Any]
        try:
            domains = tuple(header["domains"])
            if domains not in extractors:
                extractors[domains] = link_extractor_for(domains)
            allowed = header.get("plugins")
            only = None if allowed is None else frozenset(allowed).__contains__
            outcome = work_on_page(
                loaded.manager,
                response_of(header, body),
                extractors[domains],
                stats=stats,
                only=only,
                max_items=int(header.get("max_items", MAX_ITEMS_PER_PAGE)),
                max_links=int(header.get("max_links", MAX_LINKS_PER_PAGE)),
                mark=mark,
            )
            result = {"ok": True, **outcome.__dict__}
        except MemoryError:
            result = {"ok": False, "reason": "memory", "culprit": _culprit_of(culprit)}
        except Exception as exc:  # our own code failed on this page: say so, carry on
            result = {"ok": False, "reason": "crashed", "culprit": _culprit_of(culprit)}
            logger.exception("extraction failed on %s: %s", header.get("url"), exc)
        body = b""
        result["stats"] = dict(stats.values)
        result["logs"] = records.records
        result["rss_kb"] = _rss_kb()
        # The address-space limit counts what the allocator keeps after a big page, not
        # only what is resident: a worker this close to it would fail on ordinary pages.
        result["retire"] = bool(limit) and _vm_size() > limit - memory_mb * 512 * 1024
        result["cpu_ms"] = round((time.process_time() - cpu_started) * 1000, 2)
        mark("")
        try:
            _write_frame(out, result)
        except MemoryError:
            _write_frame(out, {"ok": False, "reason": "memory", "stats": {}, "logs": []})
        if not result["ok"] and result["reason"] == "memory":
            return  # a fresh worker replaces this one


def _write_frame(out: Any, message: dict[str, Any]) -> None:
    data = json.dumps(message).encode("ascii")  # escapes even lone surrogates
    out.write(_LENGTH.pack(len(data)) + data)
    out.flush()


def _culprit_of(culprit: mmap.mmap) -> str:
    return culprit[:CULPRIT_SIZE].split(b"\0", 1)[0].decode("utf-8", "replace")


# --- the pool, in the crawl's process -----------------------------------------------------


class ExtractFailed(Exception):
    """A page's work was cut off: ``reason`` is ``timeout``, ``memory`` or ``crashed``."""

    def __init__(self, reason: str, culprit: str = "", stats: dict[str, int] | None = None):
        super().__init__(f"extraction {reason}" + (f" in {culprit}" if culprit else ""))
        self.reason = reason
        self.culprit = culprit
        self.stats = stats or {}


@dataclass
class _Job:
    host: str
    header: dict[str, Any]
    body: bytes
    future: asyncio.Future[dict[str, Any]]
    queued: float = field(default_factory=time.monotonic)


class _Worker:
    """One worker process, its pipes (attached to the event loop) and its culprit page."""

    def __init__(self, proc: subprocess.Popen[bytes], culprit: mmap.mmap, fd: int) -> None:
        self.proc = proc
        self.pid = proc.pid
        self.culprit = culprit
        self.fd = fd
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.read_transport: asyncio.BaseTransport | None = None
        self.baseline_kb = 0
        self.jobs: deque[_Job] = deque()  # sent to it, answered in this order
        self.driver: asyncio.Future[None] | None = None  # reads its answers
        self.draining = False  # takes no new page: replaced once it is done
        self.demoted = False  # at the lowest CPU priority since its page ran slow
        self.started = 0.0  # when it began the page it is on (the first of ``jobs``)
        self.killed_for = ""

    async def attach(self) -> None:
        loop = asyncio.get_running_loop()
        assert self.proc.stdout is not None and self.proc.stdin is not None
        self.reader = asyncio.StreamReader()
        reader = self.reader
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), self.proc.stdout)
        transport, protocol = await loop.connect_write_pipe(
            asyncio.streams.FlowControlMixin, self.proc.stdin
        )
        self.writer = asyncio.StreamWriter(transport, protocol, None, loop)

    def culprit_name(self) -> str:
        return _culprit_of(self.culprit)

    def kill(self, why: str) -> None:
        self.killed_for = self.killed_for or why
        with contextlib.suppress(ProcessLookupError, OSError):
            self.proc.kill()

    def close(self) -> None:
        # An attached pipe is closed by its transport (the loop must stop watching it
        # first); one never attached is closed here.
        if self.writer is not None:
            with contextlib.suppress(Exception):
                self.writer.close()
        elif self.proc.stdin is not None:
            with contextlib.suppress(Exception):
                self.proc.stdin.close()
        if self.read_transport is not None:
            with contextlib.suppress(Exception):
                self.read_transport.close()
        elif self.proc.stdout is not None:
            with contextlib.suppress(Exception):
                self.proc.stdout.close()
        with contextlib.suppress(Exception):
            self.culprit.close()
        with contextlib.suppress(OSError):
            os.close(self.fd)
        _reap(self.proc)


def _reap(proc: subprocess.Popen[bytes], tries: int = 50) -> None:
    """Collect a killed worker's exit status without blocking the event loop."""
    if proc.poll() is not None or tries <= 0:
        return
    with contextlib.suppress(RuntimeError):
        asyncio.get_running_loop().call_later(0.1, _reap, proc, tries - 1)


class ExtractPool:
    """Worker processes doing :func:`work_on_page`, each page bounded in time and memory.

    :meth:`run` returns the page's result dict or raises :class:`ExtractFailed`. Pages
    wait in a queue per site, served in turn (see :meth:`_next_job`).
    """

    def __init__(
        self,
        size: int,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        memory_mb: int = DEFAULT_MEMORY_MB,
        expected_plugins: Iterable[str] | None = None,
    ) -> None:
        self.size = max(1, size)
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.expected = sorted(expected_plugins) if expected_plugins is not None else None
        self.per_site = max(1, self.size - 1)
        self.workers: list[_Worker] = []  # started and ready
        self.starting = 0
        self.queues: OrderedDict[str, deque[_Job]] = OrderedDict()
        self.closed = False
        self.broken = ""  # why workers cannot start (then every page fails at once)
        self.peak_rss_kb = 0
        self.started_workers = 0
        self.timing: Counter[str] = Counter()  # ms pages waited, ran, and worker CPU
        self.queued_max = 0  # the most pages ever waiting for a worker
        self.recycled = 0  # replaced after a page left them above half their allowance
        self.demoted = 0  # given the lowest CPU priority, their page running slow
        self._watch: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._pending: deque[_Worker] = deque()  # started, not yet attached to the loop

    # -- workers -------------------------------------------------------------------------
    def _spawn(self) -> None:
        """Start one worker process now (no event loop needed: the spider starts them
        before the crawl does); its pipes join the event loop once that runs."""
        if self.closed or self.broken:
            return
        fd = os.memfd_create("onionlab-culprit")
        os.ftruncate(fd, CULPRIT_SIZE)
        culprit = mmap.mmap(fd, CULPRIT_SIZE)
        # -P and the crawl's own sys.path: the worker imports every module (plugins
        # included) from where the crawl did, never from a folder that happens to be the
        # current directory (an instructor's ``plugins/``, say).
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        try:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-P",
                    "-m",
                    "onionlab.crawler.extraction.pagework",
                    str(fd),
                    str(self.memory_mb),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                pass_fds=(fd,),
                env=env,
                close_fds=True,
                process_group=0,  # a terminal's Ctrl-C goes to the crawl, not to its workers
            )
        except OSError as exc:
            culprit.close()
            os.close(fd)
            self._give_up(f"an extraction worker did not start: {exc!r}")
            return
        for pipe in (proc.stdin, proc.stdout):  # room for several answers: no waiting
            with contextlib.suppress(OSError, AttributeError):
                fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_SIZE)  # type: ignore[union-attr]
        self.started_workers += 1
        self.starting += 1
        self._pending.append(_Worker(proc, culprit, fd))
        self._attach_pending()

    def _attach_pending(self) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # before the crawl runs: attached by the first page (or start())
        while self._pending:
            self._background(self._await_hello(self._pending.popleft()))

    def _background(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _await_hello(self, worker: _Worker) -> None:
        try:
            await worker.attach()
            assert worker.reader is not None
            hello = await asyncio.wait_for(_read_frame(worker.reader), timeout=120)
        except Exception as exc:
            self.starting -= 1
            worker.kill("failed")
            worker.close()
            self._give_up(f"an extraction worker did not start: {exc!r}")
            return
        self.starting -= 1
        if self.expected is not None and hello.get("plugins") != self.expected:
            worker.kill("refused")
            worker.close()
            self._give_up(
                "an extraction worker loaded other plugins than the crawl "
                f"({hello.get('plugins')} instead of {self.expected})"
            )
            return
        worker.baseline_kb = int(hello.get("rss_kb", 0))
        if self.closed:
            worker.kill("closed")
            worker.close()
            return
        self.workers.append(worker)
        self._pump()

    def _give_up(self, why: str) -> None:
        if self.broken:
            return
        self.broken = why
        logger.error("%s; pages get no items", why)
        for queue in self.queues.values():
            for job in queue:
                if not job.future.done():
                    job.future.set_exception(ExtractFailed("crashed"))
        self.queues.clear()

    def _retire(self, worker: _Worker) -> None:
        """Kill ``worker`` and start another; its pages not yet begun go back in line."""
        with contextlib.suppress(ValueError):
            self.workers.remove(worker)
        self._requeue(worker)
        worker.kill("retired")
        worker.close()
        if not self.closed:
            self._spawn()

    def _requeue(self, worker: _Worker) -> None:
        while worker.jobs:
            job = worker.jobs.pop()  # last first: each goes to the front of its site's line
            if not job.future.done():
                queue = self.queues.setdefault(job.host, deque())
                queue.appendleft(job)
                self.queues.move_to_end(job.host, last=False)

    def start(self) -> None:
        """Start the workers (each takes a second or two to load the plugins); call it as
        early as possible. :meth:`run` starts them too if need be."""
        missing = self.size - len(self.workers) - self.starting
        for _ in range(missing):
            self._spawn()
        self._attach_pending()

    # -- pages ---------------------------------------------------------------------------
    async def run(self, host: str, header: dict[str, Any], body: bytes) -> dict[str, Any]:
        if self.closed or self.broken:
            raise ExtractFailed("crashed")
        self.start()
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.queues.setdefault(host, deque()).append(_Job(host, header, body, future))
        self._pump()
        self.queued_max = max(self.queued_max, sum(len(q) for q in self.queues.values()))
        return await future

    def _stuck(self, worker: _Worker, now: float) -> bool:
        """Whether the page ``worker`` is on has run longer than :data:`SLOW`."""
        return bool(worker.jobs) and now - worker.started > SLOW

    def _site_stuck(self, host: str, now: float) -> bool:
        return any(w.jobs[0].host == host and self._stuck(w, now) for w in self.workers if w.jobs)

    def _next_job(self, worker: _Worker, now: float) -> _Job | None:
        """The next page for ``worker``, sites in turn. A site may use every worker, except
        one whose page is running slow: it then keeps all workers but one, so other sites'
        pages keep flowing while its pages run into their time bound."""
        for host in list(self.queues):
            if any(j.host == host for j in worker.jobs):
                pass  # already in this worker's line: no new worker taken
            elif any(
                w.jobs and w.jobs[0].host == host and self._stuck(w, now) for w in self.workers
            ):
                held = sum(1 for w in self.workers if any(j.host == host for j in w.jobs))
                if held >= self.per_site:
                    continue
            queue = self.queues[host]
            job = queue.popleft()
            del self.queues[host]
            if queue:
                self.queues[host] = queue  # to the end of the turn
            if job.future.done():  # given up meanwhile
                return self._next_job(worker, now)
            return job
        return None

    def _pump(self) -> None:
        """Hand out waiting pages: up to :data:`PIPELINE` a worker, so a worker never waits
        for this (busy) process to read its last answer before starting the next page."""
        now = time.monotonic()
        progress = True
        while progress and self.queues:
            progress = False
            for worker in sorted(self.workers, key=lambda w: len(w.jobs)):
                if worker.draining or len(worker.jobs) >= PIPELINE or self._stuck(worker, now):
                    continue
                job = self._next_job(worker, now)
                if job is None:
                    continue
                self._send(worker, job, now)
                progress = True
                break
        if self._watch is None and any(w.jobs for w in self.workers):
            self._watch = asyncio.get_running_loop().call_later(WATCH_INTERVAL, self._check)

    def _send(self, worker: _Worker, job: _Job, now: float) -> None:
        assert worker.writer is not None
        data = json.dumps(job.header).encode()
        try:
            worker.writer.write(_HEADER.pack(len(data), len(job.body)) + data)
            worker.writer.write(job.body)
        except Exception:  # the pipe is gone: the driver sees the worker's end
            pass
        if not worker.jobs:
            worker.started = now
            self.timing["wait_ms"] += (now - job.queued) * 1000
        worker.jobs.append(job)
        if worker.driver is None:
            worker.driver = asyncio.ensure_future(self._drive(worker))

    async def _drive(self, worker: _Worker) -> None:
        """Read ``worker``'s answers in order, each page within its time bound (counted from
        when the page before it was answered)."""
        try:
            while worker.jobs and not self.closed:
                job = worker.jobs[0]
                left = worker.started + self.timeout - time.monotonic()
                failure = await self._answer(worker, job, max(left, 0.001))
                if failure is not None:
                    worker.jobs.popleft()
                    if not job.future.done():
                        job.future.set_exception(failure)
                    self._retire(worker)
                    break
                self._pump()  # keep its line full
        finally:
            worker.driver = None
            if worker.draining and not worker.jobs and worker in self.workers:
                self._retire(worker)
            self._pump()

    async def _answer(self, worker: _Worker, job: _Job, left: float) -> ExtractFailed | None:
        """Wait for the answer to ``job``, the page ``worker`` is on; resolve it, or say why
        the worker must go."""
        assert worker.reader is not None
        # A timer, not ``wait_for``: no task per page; at the bound it kills the worker,
        # and the read below then ends.
        timer = asyncio.get_running_loop().call_later(left, worker.kill, "timeout")
        try:
            result = await _read_frame(worker.reader)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            reason = worker.killed_for if worker.killed_for in ("timeout", "memory") else "crashed"
            worker.kill(reason)
            return ExtractFailed(reason, worker.culprit_name())
        except Exception as exc:  # a garbled answer: the worker cannot be trusted any more
            logger.error("extraction worker %d: %r", worker.pid, exc)
            worker.kill("crashed")
            return ExtractFailed("crashed", worker.culprit_name())
        finally:
            timer.cancel()
        now = time.monotonic()
        self.timing["run_ms"] += (now - worker.started) * 1000
        self.timing["cpu_ms"] += float(result.get("cpu_ms", 0))
        rss = int(result.get("rss_kb", 0))
        self.peak_rss_kb = max(self.peak_rss_kb, rss)
        if not result.get("ok"):
            return ExtractFailed(
                str(result.get("reason", "crashed")),
                str(result.get("culprit", "")),
                result.get("stats"),
            )
        worker.jobs.popleft()
        job.body = b""
        worker.started = now
        if worker.jobs:
            self.timing["wait_ms"] += (now - worker.jobs[0].queued) * 1000
        over = self.memory_mb > 0 and rss > worker.baseline_kb + self.memory_mb * 512
        over = over or bool(result.get("retire"))
        if over and not worker.draining:  # finish the page it is on, then a fresh one
            logger.debug("extraction worker at %d kB after a page: replaced", rss)
            self.recycled += 1
            worker.draining = True
            self._requeue_unstarted(worker)
        if not job.future.done():
            job.future.set_result(result)
        return None

    def _requeue_unstarted(self, worker: _Worker) -> None:
        """Take back every page but the one ``worker`` is on (it will stop after that)."""
        head = worker.jobs.popleft() if worker.jobs else None
        self._requeue(worker)
        if head is not None:
            worker.jobs.append(head)

    def _check(self) -> None:
        """The watchdog: kill a busy worker whose RSS went over its allowance, and demote
        one whose page runs slow (see :meth:`_demote`)."""
        self._watch = None
        busy = [w for w in self.workers if w.jobs]
        now = time.monotonic()
        demoted = [w for w in busy if not w.demoted and self._stuck(w, now)]
        for worker in demoted:
            self._demote(worker)
        if self.memory_mb > 0:
            for worker in busy:
                rss = _rss_kb(worker.pid)
                self.peak_rss_kb = max(self.peak_rss_kb, rss)
                if rss > worker.baseline_kb + self.memory_mb * 1024:
                    worker.kill("memory")
        if busy and not self.closed:
            self._watch = asyncio.get_running_loop().call_later(WATCH_INTERVAL, self._check)
        if demoted:
            self._pump()  # their pages not yet begun go to the other workers

    def _demote(self, worker: _Worker) -> None:
        """Give ``worker``, whose page has run over :data:`SLOW`, the lowest CPU priority.

        On a machine with as many workers as cores, a page spinning in a plugin for its
        whole time bound takes a core from the crawl and the other workers; at nice 19 it
        only gets what they leave. A process cannot get its priority back without
        privileges, so the worker takes no new page and is replaced once this one ends.
        """
        worker.demoted = True
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, worker.pid, 19)
        if not worker.draining:
            worker.draining = True
            self._requeue_unstarted(worker)
        self.demoted += 1

    def close(self) -> None:
        """Stop every worker (pages still waiting fail as ``crashed``)."""
        self.closed = True
        if self._watch is not None:
            self._watch.cancel()
        for worker in self.workers:
            self._requeue(worker)
        for queue in self.queues.values():
            for job in queue:
                if not job.future.done():
                    job.future.set_exception(ExtractFailed("crashed"))
        self.queues.clear()
        for worker in [*self.workers, *self._pending]:
            if worker.driver is not None:
                worker.driver.cancel()
            worker.kill("closed")
            worker.close()
        self.workers.clear()
        self._pending.clear()


async def _read_frame(stream: asyncio.StreamReader) -> dict[str, Any]:
    (length,) = _LENGTH.unpack(await stream.readexactly(_LENGTH.size))
    message: dict[str, Any] = json.loads(await stream.readexactly(length))
    return message


def setting(settings: Any, name: str, kind: Callable[[str], Any], default: Any) -> Any:
    """A bound's value: the environment variable of that name if set (the crawl command
    has no flag for these), else the Scrapy setting, else ``default``."""
    raw = os.environ.get(name, "").strip()
    if raw:
        try:
            return kind(raw)
        except ValueError:
            logger.error("%s=%r is not a number: using %r", name, raw, default)
            return default
    value = settings.get(name)
    return default if value is None or value == "" else kind(str(value))


def apply_result_stats(stats: StatsLike, values: dict[str, int]) -> None:
    """Merge the stats a worker counted into the crawl's."""
    for key, count in values.items():
        stats.inc_value(key, int(count))


def replay_logs(records: Iterable[list[Any]]) -> None:
    """Log, in the crawl's log, what a worker logged."""
    for level, name, message in records:
        logging.getLogger(str(name)).log(int(level), "%s", message)


if __name__ == "__main__":
    worker_main(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_MEMORY_MB)
