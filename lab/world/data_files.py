"""Reads the bundled data files: ``lab/world/data`` and each kind's ``data/`` folder (cached).

``load_data`` reads the shared vocabularies; ``load_words`` reads a kind's own word lists
(names, phrases, templates) with JSON arrays turned into tuples, so a list keeps the exact
order and content it had as a Python tuple (the world's random draws depend on both).
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


def _tuples(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tuples(item) for item in value)
    if isinstance(value, dict):
        return {key: _tuples(item) for key, item in value.items()}
    return value


@cache
def load_words(package: str, name: str = "words.json") -> dict[str, Any]:
    """The word lists in ``<package>/data/<name>``, arrays as tuples (cached; read-only)."""
    text = resources.files(package).joinpath("data").joinpath(name).read_text(encoding="utf-8")
    return _tuples(json.loads(text))
