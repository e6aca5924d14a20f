"""The item types every layer shares (pages, listings, vendors), with stable document ids.

Plain dataclasses (Scrapy handles them through itemadapter). An item's ``doc_id`` depends
only on what identifies it, so a re-crawl or a replay updates instead of duplicating.
Depends on the standard library only.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit


def stable_id(*parts: str) -> str:
    """Return a short, stable document id for the given identifying parts."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def host_of(url: str) -> str:
    """The lower-case host of ``url`` (for onion URLs: the site's address)."""
    return (urlsplit(url).hostname or "").lower()


@dataclass
class Item:
    """Base of every item: ``kind`` names its index; ``doc_id`` is its stable id."""

    kind: ClassVar[str] = "item"

    def doc_id(self) -> str:
        raise NotImplementedError

    def to_doc(self) -> dict[str, Any]:
        """The document as indexed: the fields plus ``kind``."""
        doc = {k: v for k, v in asdict(self).items() if v is not None}
        doc["kind"] = self.kind
        return doc


@dataclass
class Page(Item):
    """One fetched page: written by the crawler itself for every response."""

    kind: ClassVar[str] = "page"
    url: str
    site: str
    status: int
    title: str = ""
    content_type: str = ""
    length: int = 0
    depth: int = 0
    fetched_at: str = ""

    def doc_id(self) -> str:
        return stable_id("page", self.url)


@dataclass
class Listing(Item):
    """A product listing on a market or shop, as the site shows it.

    ``site`` is the onion host the listing was seen on and ``listing_id`` the site's own key
    for it. Money and weights are decimal strings exactly as normalised by the plugin.
    """

    kind: ClassVar[str] = "listing"
    site: str
    listing_id: str
    url: str
    title: str
    vendor: str | None = None
    category: str | None = None
    substance: str | None = None
    weight_g: str | None = None
    price_usd: str | None = None
    price_btc: str | None = None
    ships_from: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def doc_id(self) -> str:
        return stable_id("listing", self.site, self.listing_id)


@dataclass
class Vendor(Item):
    """A vendor profile on one site, with the identifiers it shows."""

    kind: ClassVar[str] = "vendor"
    site: str
    handle: str
    url: str
    pgp_fingerprint: str | None = None
    btc: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def doc_id(self) -> str:
        return stable_id("vendor", self.site, self.handle.lower())


ITEM_TYPES: dict[str, type[Item]] = {cls.kind: cls for cls in (Page, Listing, Vendor)}
