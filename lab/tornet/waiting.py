"""Bounded polling: every wait loop in onionlab.lab.tornet is capped in attempts and in time.

Standard library only.
"""

from __future__ import annotations

import time
from collections.abc import Iterator


def poll(timeout: float, interval: float) -> Iterator[int]:
    """Yield attempt numbers about every ``interval`` s until ``timeout`` s have passed.

    The first attempt always happens; the number of attempts is capped at
    ``timeout / interval + 2`` even if the clock misbehaves.
    """
    deadline = time.monotonic() + max(timeout, 0.0)
    max_attempts = int(max(timeout, 0.0) / interval) + 2
    for attempt in range(max_attempts):
        if attempt and time.monotonic() >= deadline:
            return
        started = time.monotonic()
        yield attempt
        now = time.monotonic()
        time.sleep(max(0.0, min(interval - (now - started), deadline - now)))
