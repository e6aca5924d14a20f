"""Ctrl-C that always works: a graceful stop first, a forced exit when that does not end it.

Scrapy's own handlers ask the reactor to stop (``reactor.callFromThread``); a plugin that
sleeps or spins on the crawl's event loop, or a download slot that never frees (a site
profile's ``delay = inf``), keeps that request from ever running, and the crawl ignores
Ctrl-C. :class:`StopOnSignal` replaces those handlers for one crawl:

- the first SIGINT or SIGTERM asks for Scrapy's graceful stop (what is in flight
  finishes, the resume ledger gets its ``closed`` line) and arms a watchdog thread: if the
  crawl has not ended ``timeout`` seconds later (``ONIONLAB_STOP_TIMEOUT``, 10 s), the
  process exits at once;
- a second SIGINT or SIGTERM exits at once.

A forced exit prints one line (how to resume) and ends the process with
:data:`onionlab.crawler.exitcodes.INTERRUPTED` (130) without unwinding: nothing is lost that a
resume needs, because the ledger and ``items.ndjson`` are flushed line by line and a torn
last line is cut off on resume (:mod:`onionlab.crawler.spidermiddlewares.resume`).

Python runs signal handlers in the main thread only, between bytecodes (and in the few C
loops that check for signals, such as the regex engine's); another thread runs only when
the main thread lets go of the GIL. Each way a plugin can wedge the crawl is covered:

- it sleeps or waits: the handler runs at once, the watchdog thread too;
- it spins in Python, or in a regex that backtracks forever: the handler runs, but
  threads starve, so the watchdog is also a ``SIGALRM`` timer (when no one else uses
  the alarm);
- it is stuck in C code that releases the GIL: a thread reads the signal numbers
  Python's C-level handler writes to ``signal.set_wakeup_fd`` (chained: the bytes are
  passed on to the descriptor installed before, Twisted's SIGCHLD waker); each delivery
  counts once, whichever path sees it first;
- it is stuck in C code that holds the GIL and never checks for signals: on Linux the
  handlers are installed with ``SA_RESETHAND``, so the kernel restores the default action
  as it delivers the first signal and a second one ends the process (killed by SIGINT:
  a shell reports 130, a Python parent -2; no line is printed then). Once the first
  signal's Python handler runs, the handler is installed again without the flag, and
  the second signal exits with 130 and its line as above.

Depends on the standard library only (``ctypes`` for ``sigaction`` on Linux).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from onionlab.crawler.exitcodes import INTERRUPTED

SIGNALS = (signal.SIGINT, signal.SIGTERM)
DEFAULT_TIMEOUT = 10.0
"""Seconds a graceful stop may take before the process exits anyway."""


SA_ONSTACK = 0x08000000  # Linux: CPython (3.10+) installs every handler with it
SA_RESETHAND = 0x80000000  # Linux: restore the default action when delivering the signal

_extra_hints: list[str] = []


def reset_on_delivery(signum: int) -> bool:
    """Add ``SA_RESETHAND`` to ``signum``'s installed handler (Linux, glibc layout of
    ``struct sigaction``: handler pointer, 128-byte mask, int flags); False, changing
    nothing, anywhere else or when the flags are not what CPython sets."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        action = ctypes.create_string_buffer(512)  # larger than any struct sigaction
        if libc.sigaction(signum, None, action) != 0:
            return False
        at = ctypes.sizeof(ctypes.c_void_p) + 128
        flags = int.from_bytes(action.raw[at : at + 4], sys.byteorder)
        if not flags & SA_ONSTACK:
            return False  # not the layout (or not the handler) this expects
        action[at : at + 4] = (flags | SA_RESETHAND).to_bytes(4, sys.byteorder)
        return libc.sigaction(signum, action, None) == 0
    except (OSError, AttributeError, ValueError):
        return False


def add_forced_exit_hint(hint: str) -> None:
    """One more thing a forced exit should say (it runs no cleanup), e.g. that the lab
    ``onionlab demo`` started is still running."""
    if hint not in _extra_hints:
        _extra_hints.append(hint)


_active: StopOnSignal | None = None  # the installed instance, for forked children


def _forked_child() -> None:
    """In a process forked from the crawl (an extraction worker): none of this applies.
    Without this, its signals would be written to the crawl's wakeup socket (one Ctrl-C to
    the terminal's process group would count once per worker) and it would print its own
    resume line."""
    stopper = _active
    if stopper is None:
        return
    stopper._done.set()
    with contextlib.suppress(ValueError, OSError):
        signal.set_wakeup_fd(-1)
    for sock in stopper._wakeup or ():
        sock.close()  # this process's copies; the crawl's own stay open
    stopper._wakeup = None
    for signum, handler in stopper._previous.items():
        with contextlib.suppress(ValueError, TypeError, OSError):
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked_child)


class StopOnSignal:
    """Signal handling for one crawl (install from the main thread, before the reactor runs).

    ``request_stop`` is called once, from a signal handler or another thread, on the first
    signal: it must be thread-safe (``reactor.callFromThread``). ``hint`` is the line
    printed on a forced exit (how to resume).
    """

    def __init__(
        self,
        request_stop: Callable[[], None],
        *,
        timeout: float = DEFAULT_TIMEOUT,
        hint: str = "",
        exit: Callable[[int], Any] = os._exit,
    ) -> None:
        self.request_stop = request_stop
        self.timeout = max(0.0, timeout)
        self.hint = hint
        self.signum: int | None = None  # the first signal received
        self._exit = exit
        self._lock = threading.RLock()  # a handler can interrupt a handler: no deadlock
        self._seen = {"handler": 0, "wakeup": 0}
        self._acted = 0
        self._done = threading.Event()
        self._previous: dict[int, Any] = {}
        self._wakeup: tuple[socket.socket, socket.socket] | None = None
        self._old_wakeup = -1

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name if self.signum else ""

    # -- installing ----------------------------------------------------------------------
    def install(self, *, wakeup: bool = True) -> None:
        """Take over SIGINT and SIGTERM (from the main thread). Call it before the reactor
        starts with ``wakeup=False``, and again once it runs: Twisted and Scrapy install
        their handlers, and Twisted its wakeup descriptor, as it starts."""
        global _active
        _active = self
        for signum in SIGNALS:
            self._previous.setdefault(signum, signal.getsignal(signum))
            signal.signal(signum, self._on_signal)
            if self.signum is None:  # before the first signal only: see the module doc
                reset_on_delivery(signum)
        if signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None):  # a free alarm
            self._previous.setdefault(signal.SIGALRM, signal.SIG_DFL)
            signal.signal(signal.SIGALRM, self._on_alarm)
        if wakeup and self._wakeup is None:
            self._chain_wakeup_fd()

    def _chain_wakeup_fd(self) -> None:
        reader, writer = socket.socketpair()
        writer.setblocking(False)
        try:
            self._old_wakeup = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
        except (ValueError, OSError):  # not the main thread, or no wakeup fd possible
            reader.close()
            writer.close()
            return
        self._wakeup = (reader, writer)
        threading.Thread(target=self._read_wakeups, name="onionlab-signals", daemon=True).start()

    def uninstall(self) -> None:
        """Give SIGINT and SIGTERM back (what was there before) and stop the watchdog."""
        global _active
        if _active is self:
            _active = None
        self._done.set()
        if signal.getsignal(signal.SIGALRM) == self._on_alarm:
            with contextlib.suppress(ValueError, OSError):
                signal.setitimer(signal.ITIMER_REAL, 0)
        for signum, handler in self._previous.items():
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        self._previous.clear()
        if self._wakeup is not None:
            reader, writer = self._wakeup
            # Not the descriptor chained to: the reactor has stopped and closed it (one
            # crawl per process), and a stale number could name another file by now.
            with contextlib.suppress(ValueError, OSError):
                signal.set_wakeup_fd(-1)
            self._wakeup = None
            writer.close()
            reader.close()

    # -- receiving -----------------------------------------------------------------------
    def _on_alarm(self, _signum: int, _frame: FrameType | None) -> None:
        if self.signum:
            self._force(f"the crawl did not stop within {self.timeout:g} s of {self.signal_name}")

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        for each in SIGNALS:  # the kernel reset this one to its default (SA_RESETHAND)
            with contextlib.suppress(ValueError):
                signal.signal(each, self._on_signal)
        self._note("handler", signum)

    def _read_wakeups(self) -> None:
        assert self._wakeup is not None
        reader = self._wakeup[0]
        while not self._done.is_set():
            try:
                data = reader.recv(256)
            except OSError:
                return
            if not data:
                return
            if self._old_wakeup >= 0:  # pass it on (Twisted reaps children on SIGCHLD)
                with contextlib.suppress(OSError):
                    os.write(self._old_wakeup, data)
            for signum in data:
                if signum in SIGNALS:
                    self._note("wakeup", signum)

    def _note(self, source: str, signum: int) -> None:
        with self._lock:
            if self._done.is_set():
                return
            self._seen[source] += 1
            count = max(self._seen.values())
            if count <= self._acted:
                return  # the other path already saw this delivery
            self._acted = count
            first = count == 1
            if first:
                self.signum = signum
        if not first:
            self._force(f"{signal.Signals(signum).name} again: stopping at once")
            return
        if os.isatty(2):  # someone at a terminal pressed Ctrl-C: say what happens now
            with contextlib.suppress(OSError):
                os.write(
                    2,
                    f"\n{self.signal_name}: stopping gracefully (at most {self.timeout:g} s); "
                    "press Ctrl-C again to stop at once\n".encode(),
                )
        # Two watchdogs: a thread, and an alarm for when the main thread holds the GIL
        # but still runs signal handlers (a long regex does; threads then never run).
        threading.Thread(target=self._watchdog, name="onionlab-stop-watchdog", daemon=True).start()
        if signal.getsignal(signal.SIGALRM) == self._on_alarm:
            signal.setitimer(signal.ITIMER_REAL, max(self.timeout, 0.001))
        self.request_stop()

    def _watchdog(self) -> None:
        if not self._done.wait(self.timeout):
            self._force(f"the crawl did not stop within {self.timeout:g} s of {self.signal_name}")

    def _force(self, why: str) -> None:
        # The watchdog thread and SIGALRM can both fire at the bound: one of them says it.
        forcing = self.__dict__.setdefault("_forcing", threading.Lock())
        if self._done.is_set() or not forcing.acquire(blocking=False):
            return
        line = "; ".join([f"interrupted: {why}", *filter(None, [self.hint, *_extra_hints])])
        if os.isatty(2):  # the live progress display hid the cursor: give it back
            line = "\x1b[?25h\n" + line
        with contextlib.suppress(OSError):  # never print() here: stderr may be mid-write
            os.write(2, (line + "\n").encode("utf-8", "replace"))
        self._exit(INTERRUPTED)
