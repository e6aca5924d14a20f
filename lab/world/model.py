"""The world model: frozen dataclasses that every generator, site and export shares.

Pure data, no behaviour beyond small derived properties. May depend only on the standard
library. Sites render these objects; ``onionlab.lab.world.truth`` exports them as ground truth.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

_T = TypeVar("_T")


def find_by(items: Iterable[_T], field_name: str, value: object) -> _T:
    """The first of ``items`` whose ``field_name`` is ``value``; KeyError(value) if none is."""
    for item in items:
        if getattr(item, field_name) == value:
            return item
    raise KeyError(value)


@dataclass(frozen=True)
class Category:
    """A category of one site (``slug`` is its URL key, ``name`` its display name)."""

    slug: str
    name: str


@dataclass(frozen=True)
class PgpKey:
    """A vendor's OpenPGP v4 public key (Ed25519, self-certified)."""

    fingerprint: str  # 40 upper-case hex
    key_id: str  # last 16 hex of the fingerprint
    uid: str  # "handle <handle@domain>"
    created: int  # key creation time, seconds since the epoch
    armored: str  # ASCII-armored transferable public key


@dataclass(frozen=True)
class Identity:
    """A vendor as a person: the same key, wallets and contacts on every site they sell on.

    ``wallets`` and ``contacts`` are ``(type, value)`` pairs with the entity types of the
    ground truth (``btc``, ``ltc``, ``xmr``, ``eth``, ``trx``; ``telegram``, ``jabber``,
    ``session``, ``email``). ``pgp_secret`` signs the vendor's messages (a lab-only key).
    """

    id: str  # stable across seeds' structure, e.g. "id-007"
    handle: str  # the base handle; sites may show a variation of it
    country: str
    pgp: PgpKey
    wallets: tuple[tuple[str, str], ...]
    contacts: tuple[tuple[str, str], ...]
    pgp_secret: bytes = field(repr=False, default=b"")

    def wallet(self, kind: str) -> tuple[str, ...]:
        return tuple(value for k, value in self.wallets if k == kind)

    def contact(self, kind: str) -> tuple[str, ...]:
        return tuple(value for k, value in self.contacts if k == kind)


@dataclass(frozen=True)
class Vendor:
    """A vendor on one site."""

    handle: str
    country: str
    joined: str  # YYYY-MM-DD
    bio: str
    pgp: PgpKey
    btc: tuple[str, ...]  # Base58Check P2PKH addresses
    rating: str  # e.g. "98.7"
    sales: int
    identity: str = ""  # Identity.id of the person behind this handle


@dataclass(frozen=True)
class Listing:
    """A product listing on one site. Compared fields are fixed-format strings."""

    listing_id: str
    title: str
    vendor: str  # vendor handle
    category: str  # category slug
    substance: str  # canonical substance name
    weight_g: str  # "5", "0.5"
    price_usd: str  # "45.00"
    price_btc: str  # "0.00071000"
    ships_from: str
    ships_to: str
    description: str
    posted: str  # YYYY-MM-DD
    sold: int


@dataclass(frozen=True)
class Service:
    """One onion service of the lab: its identity and the content it serves."""

    name: str  # unique in the world, e.g. "market"
    kind: str  # archetype, selects the site implementation, e.g. "market"
    title: str
    onion: str  # "<56 chars>.onion"
    categories: tuple[Category, ...] = ()
    vendors: tuple[Vendor, ...] = ()
    listings: tuple[Listing, ...] = ()
    featured: tuple[str, ...] = ()  # listing ids shown on the home page
    tagline: str = ""  # slogan under the site title
    per_page: int = 10  # listings per category index page
    key_label: str = ""  # label of the onion key (derive_service_key); "" means ``name``
    mirrors: tuple[str, ...] = ()  # further "<56>.onion" addresses serving the same site
    clone_of: str = ""  # for a phishing clone: the name of the service it imitates
    content: Any = None  # kind-specific data (forum threads, pastes, shops, …)

    @property
    def url(self) -> str:
        return f"http://{self.onion}/"

    @property
    def addresses(self) -> tuple[tuple[str, str], ...]:
        """``(key label, onion)`` for the primary address and every mirror."""
        label = self.key_label or self.name
        mirrors = tuple((f"{label}#mirror{i}", onion) for i, onion in enumerate(self.mirrors, 1))
        return ((label, self.onion), *mirrors)

    def category(self, slug: str) -> Category:
        return find_by(self.categories, "slug", slug)

    def vendor(self, handle: str) -> Vendor:
        return find_by(self.vendors, "handle", handle)


@dataclass(frozen=True)
class World:
    """Everything the lab serves, built deterministically from ``seed`` and ``scale``."""

    seed: int
    scale: float
    btc_usd: str  # the world's fixed exchange rate, e.g. "64250.00"
    services: tuple[Service, ...]
    identities: tuple[Identity, ...] = ()

    def service(self, name: str) -> Service:
        return find_by(self.services, "name", name)
