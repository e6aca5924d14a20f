"""An extraction worker process: load the plugins, then do one page per frame, until end of input.

Started by the pool (:mod:`onionlab.crawler.extraction.pool`) as ``python -P -m
onionlab.crawler.extraction.worker <culprit fd> <memory MB>``, it speaks the frames of
:mod:`onionlab.crawler.extraction.protocol` on its stdin/stdout (whatever a plugin prints goes
to stderr). A worker ignores SIGINT (the crawl handles Ctrl-C), dies with the crawl
(``PR_SET_PDEATHSIG`` and end of input), and loads plugins exactly as the crawl does
(:func:`onionlab.crawler.pluginmanager.load_plugins`, the same environment and ``sys.path``:
entry points, ``ONIONLAB_PLUGINS_DIR``, ``ONIONLAB_LOAD_PLUGINS``,
``ONIONLAB_DISABLE_PLUGINS``); the pool refuses a worker that loads a different set. Before
its first page it does a warm-up page (:mod:`~.warmup`; a worker forked from a crawl that
did it already starts with its plugins loaded and warm), then measures its memory
baseline and sets an address-space limit (``RLIMIT_AS``) that much above it: an allocation
over it fails at once, even inside C code. Its stats and log records (warnings and up) go
back with each answer, to be merged into the crawl's. Depends on Scrapy, lxml,
:mod:`onionlab.crawler.pluginmanager` and :mod:`onionlab.crawler.extraction` (page, items,
protocol).
"""

from __future__ import annotations

import contextlib
import json
import logging
import mmap
import os
import signal
import sys
import time
from typing import Any, BinaryIO

from scrapy.linkextractors import LinkExtractor

from onionlab.crawler import default_settings
from onionlab.crawler.extraction.items import MAX_ITEMS_PER_PAGE
from onionlab.crawler.extraction.page import (
    MAX_LINKS_PER_PAGE,
    CountingStats,
    link_extractor_for,
    work_on_page,
)
from onionlab.crawler.extraction.protocol import (
    CULPRIT_SIZE,
    HEADER,
    culprit_of,
    read_exactly,
    response_of,
    rss_kb,
    write_frame,
)
from onionlab.crawler.extraction.warmup import prepared, warm_up
from onionlab.crawler.pluginmanager import observe_calls

logger = logging.getLogger(__name__)

NICENESS = 5
"""A worker runs 5 below the crawl's CPU priority: the crawl's own process (and, beside the
lab, Tor) get a core first. A page waiting a few milliseconds more for a worker costs less
than Tor's answers waiting for a core: on the open scale-5 lab, Tor's latency as the crawl
saw it fell from 106 to 80 ms and the crawl went from 236 to 252 pages/s (2 cores)."""


def _die_with_parent() -> None:
    with contextlib.suppress(Exception):  # Linux only; end of input covers the rest
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() == 1:
        os._exit(0)


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


def worker_main(culprit_fd: int, memory_mb: int, source: BinaryIO | None = None) -> None:
    """A worker: load plugins, then do one page per frame read from ``source`` (standard
    input), until end of input; answers go to standard output."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the crawl's to handle
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    _die_with_parent()
    # Frames go on the real stdout; whatever a plugin prints goes to stderr instead.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    source = source or sys.stdin.buffer
    culprit = mmap.mmap(culprit_fd, CULPRIT_SIZE)

    def mark(name: str) -> None:
        culprit[:CULPRIT_SIZE] = name.encode()[: CULPRIT_SIZE - 1].ljust(CULPRIT_SIZE, b"\0")

    from onionlab.crawler.pluginmanager import load_plugins

    records = _LogRecords()
    logging.getLogger().addHandler(records)
    logging.getLogger().setLevel(logging.WARNING)
    loaded = prepared()  # forked from a crawl that warmed them up already (warmup.prepare)
    if loaded is None:
        loaded = load_plugins()
    # Once more in a forked worker: the first page a process works on allocates what lxml
    # and the allocator keep (3.5 MB here, though the crawl did the page before the fork);
    # measured into the baseline, not into what a crawled page may add.
    warm_up(loaded.manager)
    observe_calls(mark)
    baseline = rss_kb()
    limit = 0
    if memory_mb > 0:
        import resource

        limit = _vm_size() + memory_mb * 1024 * 1024
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    names = sorted(p.name for p in loaded.plugins if not p.error)
    hello = {"pid": os.getpid(), "plugins": names, "rss_kb": baseline}
    write_frame(out, hello)
    extractors: dict[tuple[str, ...], LinkExtractor] = {}
    while True:
        try:
            json_len, body_len = HEADER.unpack(read_exactly(source, HEADER.size))
            header = json.loads(read_exactly(source, json_len))
            body = read_exactly(source, body_len)
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
            gate = header.get("gate")
            outcome = work_on_page(
                loaded.manager,
                response_of(header, body),
                extractors[domains],
                stats=stats,
                only=only,
                max_items=int(header.get("max_items", MAX_ITEMS_PER_PAGE)),
                max_links=int(header.get("max_links", MAX_LINKS_PER_PAGE)),
                mark=mark,
                gate=None if gate is None else frozenset(gate).__contains__,
                classify=bool(header.get("classify")),
            )
            result = {"ok": True, **outcome.__dict__}
        except MemoryError:
            result = {"ok": False, "reason": "memory", "culprit": culprit_of(culprit)}
        except Exception as exc:  # our own code failed on this page: say so, carry on
            result = {"ok": False, "reason": "crashed", "culprit": culprit_of(culprit)}
            logger.exception("extraction failed on %s: %s", header.get("url"), exc)
        body = b""
        result["stats"] = dict(stats.values)
        result["logs"] = records.records
        result["rss_kb"] = rss_kb()
        # The address-space limit counts what the allocator keeps after a big page, not
        # only what is resident: a worker this close to it would fail on ordinary pages.
        result["retire"] = bool(limit) and _vm_size() > limit - memory_mb * 512 * 1024
        result["cpu_ms"] = round((time.process_time() - cpu_started) * 1000, 2)
        mark("")
        try:
            write_frame(out, result)
        except MemoryError:
            write_frame(out, {"ok": False, "reason": "memory", "stats": {}, "logs": []})
        if not result["ok"] and result["reason"] == "memory":
            return  # a fresh worker replaces this one


if __name__ == "__main__":
    try:
        worker_main(
            int(sys.argv[1]),
            int(sys.argv[2])
            if len(sys.argv) > 2
            else default_settings.default("ONIONLAB_EXTRACT_MEMORY_MB"),
        )
    except BrokenPipeError:
        # The crawl is gone (it stopped on a usage error before this worker said hello,
        # or was killed): nobody to answer and nothing to report. os._exit, so Python's
        # final flush of the dead pipe does not print a traceback on the crawl's stderr.
        os._exit(0)
