"""The shapes every site kind's truth is made of: a ``Page`` and an identifier ``Occurrence``.

Each kind's own URL scheme lives in its package (``onionlab.lab.world.kinds.<kind>.paths``),
shared by the site that renders the pages and the truth that lists them.
Depends only on ``onionlab.lab.world.model``.
"""

from __future__ import annotations

from dataclasses import dataclass

from onionlab.lab.world.model import Service


@dataclass(frozen=True)
class Page:
    """One HTML page of a site: its path (``/path?query`` as the site writes links)."""

    path: str
    kind: str  # "home", "category", "listing", "vendor", …
    key: str = ""  # category slug, listing id or vendor handle
    number: int = 1  # page number of a paginated index


@dataclass(frozen=True)
class Occurrence:
    """An identifier shown on a page (``type`` is btc, pgp_fingerprint or onion)."""

    type: str
    value: str
    path: str


def onion_identifier(service: Service) -> str:
    """The onion identifier value: the 56-character address without ``.onion``."""
    return service.onion.removesuffix(".onion")
