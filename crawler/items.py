"""The item types every layer shares (pages, listings, vendors, identifiers), with stable ids.

Plain dataclasses (Scrapy handles them through itemadapter). An item's ``doc_id`` depends
only on what identifies it, so a re-crawl or a replay updates instead of duplicating.
Depends on the standard library only.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

_ATOMIC = frozenset({str, int, float, bool, type(None)})
_FIELDS: dict[type, tuple[str, ...]] = {}  # an item class -> its field names


def _plain(value: Any) -> Any:
    """``value`` as :func:`dataclasses.asdict` gives a field's value (containers copied,
    dataclasses turned into dicts), with the JSON types of an item's fields done directly:
    ``asdict`` took 20 µs an item, most of the cost of writing it (5 in all now)."""
    kind = type(value)
    if kind in _ATOMIC:
        return value
    if kind is list:
        return [_plain(each) for each in value]
    if kind is dict:
        return {_plain(key): _plain(each) for key, each in value.items()}
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a named tuple
        return kind(*[_plain(each) for each in value])
    if isinstance(value, (list, tuple)):
        return kind(_plain(each) for each in value)
    if isinstance(value, dict):
        return kind((_plain(key), _plain(each)) for key, each in value.items())
    return copy.deepcopy(value)


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
        """The document as indexed: the fields (as :func:`dataclasses.asdict` gives them)
        that are not None, plus ``kind``."""
        names = _FIELDS.get(type(self))
        if names is None:
            names = _FIELDS[type(self)] = tuple(f.name for f in fields(self))
        doc = {}
        for name in names:
            value = getattr(self, name)
            if value is not None:
                doc[name] = _plain(value)
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
    ``unit`` is ``"g"`` (sold by weight) or ``"unit"`` (tablets, blotters, …) and
    ``price_per_unit_usd`` the price per gram or per unit in USD, set by a normaliser.
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
    unit: str | None = None
    price_per_unit_usd: str | None = None
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


ENTITY_TYPES = (
    "onion",
    "btc",
    "ltc",
    "xmr",
    "eth",
    "trx",
    "pgp_fingerprint",
    "email",
    "telegram",
    "jabber",
    "session",
    "substance",
)
"""The entity vocabulary shared by ``onionlab extract``, eval and the Elasticsearch indices."""


@dataclass
class Entity(Item):
    """One occurrence of an entity (an identifier or a canonical substance) on one page.

    ``type`` is one of :data:`ENTITY_TYPES`; ``value`` is normalised as that type demands
    (``onion``: the 56-character v3 address, lower case, without ``.onion``; ``btc``/``ltc``/
    ``xmr``/``trx``: as written, bech32 lower case; ``eth``: EIP-55; ``pgp_fingerprint``: 40
    (v4 key) or 64 (v6 key) upper-case hex; ``email``/``jabber``: lower case; ``telegram``:
    the username without ``@`` or link; ``session``: 66 hex; ``substance``: the canonical
    name). ``context`` is a short
    snippet around the occurrence; ``extra`` holds type-specific details (a PGP key's user
    ids, a crypto address's format, …).
    """

    kind: ClassVar[str] = "identifier"
    type: str
    value: str
    url: str
    site: str
    context: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def entity_id(self) -> str:
        """The id of the entity itself (type and value), shared by all its occurrences."""
        return stable_id("entity", self.type, self.value)

    def doc_id(self) -> str:
        return stable_id("identifier", self.type, self.value, self.url)

    def to_doc(self) -> dict[str, Any]:
        doc = super().to_doc()
        doc["entity_id"] = self.entity_id()
        return doc


@dataclass
class VendorIdentity(Item):
    """The person behind vendor profiles on several sites, linked by shared identifiers.

    ``members`` are ``{"site": host, "handle": handle}`` pairs; the lists hold every PGP
    fingerprint, contact and wallet (``{"type", "value"}``) that links them. ``identity`` is
    derived from the strongest shared identifier, so a re-crawl gives the same id.
    """

    kind: ClassVar[str] = "vendor_identity"
    identity: str
    members: list[dict[str, str]] = field(default_factory=list)
    handles: list[str] = field(default_factory=list)
    pgp_fingerprints: list[str] = field(default_factory=list)
    contacts: list[dict[str, str]] = field(default_factory=list)
    wallets: list[dict[str, str]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def doc_id(self) -> str:
        return stable_id("vendor_identity", self.identity)


ITEM_TYPES: dict[str, type[Item]] = {
    cls.kind: cls for cls in (Page, Listing, Vendor, Entity, VendorIdentity)
}
