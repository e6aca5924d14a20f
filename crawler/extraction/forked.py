"""An extraction worker started as a fork of the crawl's process, before the crawl runs.

Why: a worker started as a new interpreter (:func:`~.process.spawn_worker`) imports Scrapy
and every plugin again, about 0.7 s of CPU each (0.5 s of it imports), spent while the
crawl itself starts and on the same cores (two workers: 1.4 of the 19 CPU-seconds that
the whole crawl of a scale-1 lab costs, Tor included). The crawl's process has imported
all of it already: a fork shares those pages copy-on-write and imports nothing again.

When: only while forking is safe, that is from the main thread, with no other thread
(one holding a lock at the fork would leave it held for ever in the child) and no event
loop running; the spider starts its pool then (:mod:`onionlab.crawler.spiders.onion`).
A worker started later (one replacing another) is a new interpreter, as before.

The child makes itself what a spawned worker is: its own process group (a terminal's
Ctrl-C goes to the crawl only), the default signal handlers, none of the crawl's log
handlers (kept referenced, never closed: their descriptors are the crawl's), its pipes on
standard input and output, the crawl's ends of the other workers' pipes closed (a worker
must see end of input when the crawl closes its pipe), named ``onionlab-worker`` in
``/proc/<pid>/comm``; then it runs :func:`onionlab.crawler.extraction.worker.worker_main`
and never returns into the crawl's code (``os._exit``). :class:`ForkedProcess` is the
part of ``subprocess.Popen``'s interface the pool uses. Depends on the standard library;
the child imports the worker module.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
import traceback
from collections.abc import Iterable
from typing import IO, Any

WORKER_NAME = b"onionlab-worker"  # /proc/<pid>/comm of a forked worker (15 bytes at most)
_RESET = ("SIGTERM", "SIGHUP", "SIGQUIT", "SIGCHLD", "SIGUSR1", "SIGUSR2", "SIGALRM")
_KEPT: list[Any] = []  # in a child: the crawl's log handlers, never collected nor closed
_UNREAPED: list[ForkedProcess] = []  # ended or killed, not yet waited for: no zombie stays


class ForkedProcess:
    """A forked worker's pid and pipes, with ``poll`` and ``kill`` as ``Popen`` has them."""

    def __init__(self, pid: int, stdin: IO[bytes], stdout: IO[bytes]) -> None:
        self.pid = pid
        self.stdin: IO[bytes] | None = stdin
        self.stdout: IO[bytes] | None = stdout
        self.returncode: int | None = None

    def poll(self) -> int | None:
        """Its exit code once it has ended (and is reaped), else None."""
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere
                self.returncode = -1
            else:
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def kill(self) -> None:
        if self.poll() is None:
            os.kill(self.pid, signal.SIGKILL)

    def __del__(self) -> None:
        # As subprocess does for a Popen never waited for: reaped at the next fork.
        if self.returncode is None:
            _UNREAPED.append(self)


def _reap_ended() -> None:
    for process in list(_UNREAPED):
        if process.poll() is not None:
            _UNREAPED.remove(process)


def can_fork() -> bool:
    """Whether a worker may be forked from this process now (see the module's docstring)."""
    if not hasattr(os, "fork") or threading.current_thread() is not threading.main_thread():
        return False
    if threading.active_count() != 1:
        return False
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return True
    return False


def fork_worker(culprit_fd: int, memory_mb: int, crawl_side: Iterable[int]) -> ForkedProcess:
    """Fork a worker (call :func:`can_fork` first); ``crawl_side``: the descriptors of the
    other workers' pipes this process holds, closed in the child. OSError if it cannot."""
    _reap_ended()
    to_worker, worker_in = os.pipe()[::-1]  # (write end, read end)
    worker_out, from_worker = os.pipe()[::-1]
    for stream in (sys.stdout, sys.stderr):  # what is buffered is written once, here
        with contextlib.suppress(Exception):
            stream.flush()
    try:
        pid = os.fork()
    except OSError:
        for fd in (to_worker, worker_in, worker_out, from_worker):
            os.close(fd)
        raise
    if pid == 0:  # pragma: no cover - the child; tested through its behaviour
        _child(worker_in, worker_out, culprit_fd, memory_mb, [to_worker, from_worker, *crawl_side])
    os.close(worker_in)
    os.close(worker_out)
    with contextlib.suppress(OSError):  # the child does it too: whichever comes first
        os.setpgid(pid, pid)
    return ForkedProcess(pid, open(to_worker, "wb"), open(from_worker, "rb"))


def _child(
    stdin_fd: int, stdout_fd: int, culprit_fd: int, memory_mb: int, crawl_side: list[int]
) -> None:
    code = 0
    try:
        with contextlib.suppress(OSError):
            os.setpgid(0, 0)
        signal.set_wakeup_fd(-1)
        for name in _RESET:
            with contextlib.suppress(AttributeError, OSError, ValueError):
                signal.signal(getattr(signal, name), signal.SIG_DFL)
        for fd in crawl_side:
            with contextlib.suppress(OSError):
                os.close(fd)
        os.dup2(stdin_fd, 0)
        os.dup2(stdout_fd, 1)
        os.close(stdin_fd)
        os.close(stdout_fd)
        loggers = [logging.getLogger()] + [
            item
            for item in logging.Logger.manager.loggerDict.values()
            if isinstance(item, logging.Logger)
        ]
        for each in loggers:
            if each.handlers:
                _KEPT.append(each.handlers)
                each.handlers = []
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL(None).prctl(15, WORKER_NAME, 0, 0, 0)  # PR_SET_NAME
        from onionlab.crawler.extraction.worker import worker_main

        with open(0, "rb", closefd=False) as source:
            worker_main(culprit_fd, memory_mb, source=source)
    except BrokenPipeError:
        pass  # the crawl is gone: nobody to answer
    except BaseException:
        code = 1
        with contextlib.suppress(Exception):
            traceback.print_exc()
            sys.stderr.flush()
    finally:
        os._exit(code)
