"""Reads the bundled vocabularies in ``lab/world/data`` (cached; treat as read-only).

Depends on the standard library only.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def load_data(name: str) -> dict[str, Any]:
    """Load a vocabulary file from ``lab/world/data`` (cached; treat as read-only)."""
    text = (
        resources.files("onionlab.lab.world")
        .joinpath("data")
        .joinpath(name)
        .read_text(encoding="utf-8")
    )
    return json.loads(text)
