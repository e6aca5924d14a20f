"""Where the lab keeps its state: ``$ONIONLAB_DATA/lab`` or ``./onionlab-data/lab``.

The same rule as the crawler's (documented in ``docs/lab-contract.md``); the lab keeps its
own copy so that it never imports the crawler. Depends on the standard library only.
"""

from __future__ import annotations

import os
from pathlib import Path


def default_lab_dir(data_dir: Path | None = None) -> Path:
    """The lab directory under ``data_dir`` (default: ``$ONIONLAB_DATA`` or ``./onionlab-data``)."""
    base = data_dir or Path(os.environ.get("ONIONLAB_DATA") or "onionlab-data")
    return (Path(base).expanduser() / "lab").resolve()
