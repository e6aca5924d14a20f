"""Runs the ``onionlab`` CLI in a fresh process, as a user would (one reactor per crawl)."""

from __future__ import annotations

import os
import subprocess
import sys

SEED = 7  # the end-to-end lab's seed


def onionlab(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """``onionlab ARGS`` in a subprocess; returns the completed process (text output)."""
    return subprocess.run(
        [sys.executable, "-m", "onionlab", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "ONIONLAB_DATA": ""},
    )
