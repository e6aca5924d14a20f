"""A hard wall-clock timer for tests of hostile inputs: a hang fails the test, not the CI run.

:func:`hard_timeout` raises :class:`TookTooLong` in the main thread after the given seconds
(``SIGALRM``: regex matching and Python loops both see it). Standard library only.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager


class TookTooLong(AssertionError):
    """The code under test was still running when the hard timer expired."""


@contextmanager
def hard_timeout(seconds: float) -> Iterator[None]:
    """Fail (raise :class:`TookTooLong`) after ``seconds`` of wall time."""

    def expire(*_: object) -> None:
        raise TookTooLong(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
