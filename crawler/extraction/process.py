"""One extraction worker process as the crawl sees it: started, attached, killed, reaped.

:func:`spawn_worker` forks a worker from the crawl's process while that is safe (before the
crawl runs: :mod:`~.forked`), else starts ``python -P -m onionlab.crawler.extraction.worker``
with the crawl's own ``sys.path``; each gets a culprit page
(:mod:`onionlab.crawler.extraction.protocol`);
:class:`WorkerProcess` holds its pipes (attached to the event loop once it runs) and the
pages sent to it (:class:`Job`). A page cut off fails with :class:`ExtractFailed`; what a
worker counted and logged is merged into the crawl's (:func:`apply_result_stats`,
:func:`replay_logs`). Used by
:mod:`onionlab.crawler.extraction.pool` and the spider; depends on the standard library,
the protocol, :mod:`~.forked` and :mod:`~.warmup`.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import mmap
import os
import subprocess
import sys
import time
import weakref
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from onionlab.crawler.extraction.forked import ForkedProcess, can_fork, fork_worker
from onionlab.crawler.extraction.protocol import CULPRIT_SIZE, culprit_of
from onionlab.crawler.extraction.warmup import prepare
from onionlab.crawler.pluginmanager import StatsLike

logger = logging.getLogger(__name__)

WORKER_MODULE = "onionlab.crawler.extraction.worker"
PIPE_SIZE = 1024 * 1024  # bytes of each worker pipe (Linux's default most)
_LIVE: weakref.WeakSet[WorkerProcess] = weakref.WeakSet()  # not yet closed


class ExtractFailed(Exception):
    """A page's work was cut off: ``reason`` is ``timeout``, ``memory`` or ``crashed``."""

    def __init__(self, reason: str, culprit: str = "", stats: dict[str, int] | None = None):
        super().__init__(f"extraction {reason}" + (f" in {culprit}" if culprit else ""))
        self.reason = reason
        self.culprit = culprit
        self.stats = stats or {}


@dataclass
class Job:
    host: str
    header: dict[str, Any]
    body: bytes
    future: asyncio.Future[dict[str, Any]]
    queued: float = field(default_factory=time.monotonic)


class WorkerProcess:
    """One worker process, its pipes (attached to the event loop) and its culprit page."""

    def __init__(
        self, proc: subprocess.Popen[bytes] | ForkedProcess, culprit: mmap.mmap, fd: int
    ) -> None:
        self.proc = proc
        self.pid = proc.pid
        self.culprit = culprit
        self.fd = fd
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.read_transport: asyncio.BaseTransport | None = None
        self.baseline_kb = 0
        self.jobs: deque[Job] = deque()  # sent to it, answered in this order
        self.driver: asyncio.Future[None] | None = None  # reads its answers
        self.draining = False  # takes no new page: replaced once it is done
        self.demoted = False  # at the lowest CPU priority since its page ran slow
        self.started = 0.0  # when it began the page it is on (the first of ``jobs``)
        self.killed_for = ""
        _LIVE.add(self)

    def descriptors(self) -> list[int]:
        """This process's ends of the worker's pipes, and the culprit page."""
        pipes = [pipe.fileno() for pipe in (self.proc.stdin, self.proc.stdout) if pipe]
        return [*pipes, self.fd]

    async def attach(self) -> None:
        loop = asyncio.get_running_loop()
        assert self.proc.stdout is not None and self.proc.stdin is not None
        self.reader = asyncio.StreamReader()
        reader = self.reader
        # Kept: close() must close the transport, never the pipe under it. A pipe closed
        # under a transport that still watches its descriptor number read the next worker's
        # pipe once the number was reused: that worker's hello was lost, and it was
        # replaced after HELLO_TIMEOUT (60 s) with extraction stalled meanwhile.
        self.read_transport, _protocol = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), self.proc.stdout
        )
        transport, protocol = await loop.connect_write_pipe(
            asyncio.streams.FlowControlMixin, self.proc.stdin
        )
        self.writer = asyncio.StreamWriter(transport, protocol, None, loop)

    def culprit_name(self) -> str:
        return culprit_of(self.culprit)

    def kill(self, why: str) -> None:
        self.killed_for = self.killed_for or why
        with contextlib.suppress(ProcessLookupError, OSError):
            self.proc.kill()

    def close(self) -> None:
        _LIVE.discard(self)
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


def _reap(proc: subprocess.Popen[bytes] | ForkedProcess, tries: int = 50) -> None:
    """Collect a killed worker's exit status without blocking the event loop."""
    if proc.poll() is not None or tries <= 0:
        return
    with contextlib.suppress(RuntimeError):
        asyncio.get_running_loop().call_later(0.1, _reap, proc, tries - 1)


def spawn_worker(memory_mb: int) -> WorkerProcess:
    """Start one worker process now (no event loop needed); OSError if it cannot start.

    Forked from this process while that is safe (:mod:`~.forked`; its plugins warmed up
    here first, :func:`~.warmup.prepare`), else a new interpreter."""
    fd = os.memfd_create("onionlab-culprit")
    os.ftruncate(fd, CULPRIT_SIZE)
    culprit = mmap.mmap(fd, CULPRIT_SIZE)
    if can_fork():
        prepare()  # once: the plugins loaded and warmed up here, for every forked worker
        try:
            crawl_side = [each for worker in _LIVE for each in worker.descriptors()]
            forked = fork_worker(fd, memory_mb, crawl_side)
        except OSError:
            pass  # a new interpreter, below
        else:
            _enlarge(forked)
            return WorkerProcess(forked, culprit, fd)
    # -P and the crawl's own sys.path: the worker imports every module (plugins
    # included) from where the crawl did, never from a folder that happens to be the
    # current directory (an instructor's ``plugins/``, say).
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    try:
        proc = subprocess.Popen(
            [sys.executable, "-P", "-m", WORKER_MODULE, str(fd), str(memory_mb)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            pass_fds=(fd,),
            env=env,
            close_fds=True,
            process_group=0,  # a terminal's Ctrl-C goes to the crawl, not to its workers
        )
    except OSError:
        culprit.close()
        os.close(fd)
        raise
    _enlarge(proc)
    return WorkerProcess(proc, culprit, fd)


def _enlarge(proc: subprocess.Popen[bytes] | ForkedProcess) -> None:
    for pipe in (proc.stdin, proc.stdout):  # room for several answers: no waiting
        with contextlib.suppress(OSError, AttributeError):
            fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_SIZE)  # type: ignore[union-attr]


def apply_result_stats(stats: StatsLike, values: dict[str, int]) -> None:
    """Merge the stats a worker counted into the crawl's."""
    for key, count in values.items():
        stats.inc_value(key, int(count))


def replay_logs(records: Iterable[list[Any]]) -> None:
    """Log, in the crawl's log, what a worker logged."""
    for level, name, message in records:
        logging.getLogger(str(name)).log(int(level), "%s", message)
