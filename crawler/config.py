"""Where onionlab keeps its data, and the defaults every command shares.

Precedence: command-line flags > ``ONIONLAB_*`` environment variables > defaults.
Depends on the standard library only.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DATA_DIR = "onionlab-data"


def data_dir(flag: str | Path | None = None) -> Path:
    """The data directory: ``--data-dir``, else ``$ONIONLAB_DATA``, else ``./onionlab-data``."""
    value = flag or os.environ.get("ONIONLAB_DATA") or DEFAULT_DATA_DIR
    return Path(value).expanduser().resolve()


def lab_dir(base: Path) -> Path:
    """Where the running lab keeps its state (``lab.json``, ``truth.json``, tor data)."""
    return base / "lab"


def runs_dir(base: Path) -> Path:
    """Where crawl run directories are created."""
    return base / "runs"
