"""The bazaar's content model (items with price tiers, stores, reviews, news) and queries.

Depends on ``onionlab.lab.world.model``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from onionlab.lab.world.model import Listing, PgpKey, Service, find_by
from onionlab.lab.world.records import page_count

LISTINGS_PER_SCALE = 300
VENDORS_PER_SCALE = 25
PER_PAGE = 15  # cards per department page
FEATURED = 12
MAX_TIERS = 4
SHOWN_WALLETS = ("btc", "xmr")
CONTACT_TYPES = ("telegram", "jabber", "session", "email")

CENT = Decimal("0.01")
SATOSHI = Decimal("0.00000001")
PICONERO_SHOWN = Decimal("0.000001")


ONION_HOST = re.compile(r"(?<![a-z2-7])([a-z2-7]{56})\.onion")


@dataclass(frozen=True)
class Tier:
    """One quantity tier of an item; ``amount`` is grams or units (see ``Item.unit``)."""

    amount: str
    price_usd: str
    price_eur: str
    price_btc: str
    price_xmr: str


@dataclass(frozen=True)
class Item:
    """What the bazaar shows about a listing beyond ``Listing``."""

    listing_id: str
    unit: str  # "g" or "pcs"
    tiers: tuple[Tier, ...]
    stock: int
    views: int
    escrow: str  # "Escrow" or "FE"
    shipping: tuple[tuple[str, str], ...]  # (option, extra USD)


@dataclass(frozen=True)
class Review:
    buyer: str  # masked, e.g. "k***7"
    stars: int
    text: str
    posted: str
    listing_id: str


@dataclass(frozen=True)
class Store:
    """What the bazaar shows about a vendor beyond ``Vendor``."""

    handle: str
    level: int
    bond_usd: str
    last_seen: str
    positive: int
    neutral: int
    negative: int
    disputes: int
    xmr: tuple[str, ...]
    contacts: tuple[tuple[str, str], ...]  # (type, value) in display order
    old_wallets: tuple[tuple[str, str], ...]  # (chain, checksum-failing decoy)
    elsewhere: tuple[tuple[str, str, int], ...]  # (market, rating %, sales)
    reviews: tuple[Review, ...]


@dataclass(frozen=True)
class NewsPost:
    posted: str
    title: str
    body: str


@dataclass(frozen=True)
class BazaarContent:
    rates_date: str
    usd_per: tuple[tuple[str, str], ...]  # (currency, USD per unit): EUR, BTC, XMR
    items: tuple[Item, ...]
    stores: tuple[Store, ...]
    admin_key: PgpKey
    news: tuple[NewsPost, ...]
    phishing_decoy: str  # a mistyped (checksum-failing) onion quoted in the news

    def item(self, listing_id: str) -> Item:
        return find_by(self.items, "listing_id", listing_id)

    def store(self, handle: str) -> Store:
        return find_by(self.stores, "handle", handle)

    def rate(self, currency: str) -> Decimal:
        return Decimal(dict(self.usd_per)[currency])


def content_of(service: Service) -> BazaarContent:
    assert isinstance(service.content, BazaarContent), service.name
    return service.content


def dept_listings(service: Service, slug: str) -> list[Listing]:
    """A department's listings in the order the site shows them (most sold first)."""
    chosen = [lst for lst in service.listings if lst.category == slug]
    return sorted(chosen, key=lambda lst: (-lst.sold, lst.listing_id))


def dept_page_count(service: Service, slug: str) -> int:
    return page_count(len(dept_listings(service, slug)), service.per_page)


def store_listings(service: Service, handle: str) -> list[Listing]:
    chosen = [lst for lst in service.listings if lst.vendor == handle]
    return sorted(chosen, key=lambda lst: (lst.posted, lst.listing_id), reverse=True)
