"""The extraction pool: worker processes doing each page's work, bounded in time and memory.

In a crawl, each page's work (:func:`onionlab.crawler.extraction.page.work_on_page`) runs in
worker processes, never on the crawl's event loop: CPython's regex engine cannot be interrupted,
so the only bound on a slow or greedy plugin is a process that can be killed. The crawl gets
plain data back (JSON documents and URLs) and yields the items and requests itself (why
a pool of our own: :mod:`onionlab.crawler.extraction`).

Bounds (settings in :mod:`onionlab.crawler.default_settings`; an environment variable wins):

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

A page cut off still gets its Page item (without a title). Sites take turns; a site whose
page has run for over a second, and pages over 1 MB, may hold all workers but one (when
there are two or more: :mod:`~.turns`), so other sites' pages keep flowing; the worker on
a slow page drops to the lowest CPU priority (nice 19), so a page spinning in a plugin takes no core
from the crawl or the other workers, and is replaced after that page. A worker that loads
other plugins than the crawl is refused. Depends on the extraction process, protocol and turns only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Iterable
from typing import Any

from onionlab.crawler import default_settings
from onionlab.crawler.extraction.process import ExtractFailed, Job, WorkerProcess, spawn_worker
from onionlab.crawler.extraction.protocol import HEADER, read_frame, rss_kb
from onionlab.crawler.extraction.turns import next_job, stuck

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT: float = default_settings.default("ONIONLAB_EXTRACT_TIMEOUT")
DEFAULT_MEMORY_MB: int = default_settings.default("ONIONLAB_EXTRACT_MEMORY_MB")
WATCH_INTERVAL = 0.1  # seconds between two looks at the busy workers' memory
PIPELINE = 6  # pages sent to a worker ahead of its answers (see ExtractPool._pump)
HELLO_TIMEOUT = 60.0  # seconds a new worker has to load the plugins and say hello (about 2)
START_TRIES = 3  # starts in a row that fail before the pool gives up (pages get no items)


class ExtractPool:
    """Worker processes doing each page's work (:mod:`~.page`), each bounded in time and memory.

    :meth:`run` returns the page's result dict or raises :class:`ExtractFailed`. Pages
    wait in a queue per site, served in turn (:mod:`~.turns`).
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
        self.workers: list[WorkerProcess] = []  # started and ready
        self.starting = 0
        self.queues: OrderedDict[str, deque[Job]] = OrderedDict()
        self.closed = False
        self.broken = ""  # why workers cannot start (then every page fails at once)
        self.peak_rss_kb = 0
        self.started_workers = 0
        self.timing: Counter[str] = Counter()  # ms pages waited, ran, and worker CPU
        self.queued_max = 0  # the most pages ever waiting for a worker
        self.recycled = 0  # replaced after a page left them above half their allowance
        self.failed_starts = 0  # starts in a row that did not say hello
        self.demoted = 0  # given the lowest CPU priority, their page running slow
        self._watch: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._pending: deque[WorkerProcess] = deque()  # started, not yet attached to the loop

    # -- workers -------------------------------------------------------------------------
    def _spawn(self) -> None:
        """Start one worker process now (no event loop needed: the spider starts them
        before the crawl does); its pipes join the event loop once that runs."""
        if self.closed or self.broken:
            return
        try:
            worker = spawn_worker(self.memory_mb)
        except OSError as exc:
            self._give_up(f"an extraction worker did not start: {exc!r}")
            return
        self.started_workers += 1
        self.starting += 1
        self._pending.append(worker)
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

    async def _await_hello(self, worker: WorkerProcess) -> None:
        try:
            await worker.attach()
            assert worker.reader is not None
            hello = await asyncio.wait_for(read_frame(worker.reader), timeout=HELLO_TIMEOUT)
        except Exception as exc:
            self.starting -= 1
            worker.kill("failed")
            worker.close()
            self.failed_starts += 1
            if self.failed_starts >= START_TRIES or self.closed:
                self._give_up(f"an extraction worker did not start: {exc!r}")
            else:  # one stuck start does not stop extraction: another takes its place
                logger.warning("an extraction worker did not start (%r): starting another", exc)
                self._spawn()
            return
        self.starting -= 1
        self.failed_starts = 0
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

    def _retire(self, worker: WorkerProcess) -> None:
        """Kill ``worker`` and start another; its pages not yet begun go back in line."""
        with contextlib.suppress(ValueError):
            self.workers.remove(worker)
        self._requeue(worker)
        worker.kill("retired")
        worker.close()
        if not self.closed:
            self._spawn()

    def _requeue(self, worker: WorkerProcess) -> None:
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
        self.queues.setdefault(host, deque()).append(Job(host, header, body, future))
        self._pump()
        self.queued_max = max(self.queued_max, sum(len(q) for q in self.queues.values()))
        return await future

    def _pump(self) -> None:
        """Hand out waiting pages: up to :data:`PIPELINE` a worker, so a worker never waits
        for this (busy) process to read its last answer before starting the next page."""
        now = time.monotonic()
        progress = True
        while progress and self.queues:
            progress = False
            for worker in sorted(self.workers, key=lambda w: len(w.jobs)):
                if worker.draining or len(worker.jobs) >= PIPELINE or stuck(worker, now):
                    continue
                job = next_job(self.queues, worker, self.workers, now)
                if job is None:
                    continue
                self._send(worker, job, now)
                progress = True
                break
        if self._watch is None and any(w.jobs for w in self.workers):
            self._watch = asyncio.get_running_loop().call_later(WATCH_INTERVAL, self._check)

    def _send(self, worker: WorkerProcess, job: Job, now: float) -> None:
        assert worker.writer is not None
        data = json.dumps(job.header).encode()
        try:
            worker.writer.write(HEADER.pack(len(data), len(job.body)) + data)
            worker.writer.write(job.body)
        except Exception:  # the pipe is gone: the driver sees the worker's end
            pass
        if not worker.jobs:
            worker.started = now
            self.timing["wait_ms"] += (now - job.queued) * 1000
        worker.jobs.append(job)
        if worker.driver is None:
            worker.driver = asyncio.ensure_future(self._drive(worker))

    async def _drive(self, worker: WorkerProcess) -> None:
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

    async def _answer(self, worker: WorkerProcess, job: Job, left: float) -> ExtractFailed | None:
        """Wait for the answer to ``job``, the page ``worker`` is on; resolve it, or say why
        the worker must go."""
        assert worker.reader is not None
        # A timer, not ``wait_for``: no task per page; at the bound it kills the worker,
        # and the read below then ends.
        timer = asyncio.get_running_loop().call_later(left, worker.kill, "timeout")
        try:
            result = await read_frame(worker.reader)
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

    def _requeue_unstarted(self, worker: WorkerProcess) -> None:
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
        demoted = [w for w in busy if not w.demoted and stuck(w, now)]
        for worker in demoted:
            self._demote(worker)
        if self.memory_mb > 0:
            for worker in busy:
                rss = rss_kb(worker.pid)
                self.peak_rss_kb = max(self.peak_rss_kb, rss)
                if rss > worker.baseline_kb + self.memory_mb * 1024:
                    worker.kill("memory")
        if busy and not self.closed:
            self._watch = asyncio.get_running_loop().call_later(WATCH_INTERVAL, self._check)
        if demoted:
            self._pump()  # their pages not yet begun go to the other workers

    def _demote(self, worker: WorkerProcess) -> None:
        """Give ``worker``, whose page has run over :data:`~.turns.SLOW`, the lowest CPU priority.

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
