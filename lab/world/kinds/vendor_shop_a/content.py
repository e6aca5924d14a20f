"""The shop's content model (``ShopA``, its reviews) and its sizes.

Depends on ``onionlab.lab.world.model``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from onionlab.lab.world.data_files import load_words

PRODUCTS_PER_SCALE = 40
REVIEWS_PER_SCALE = 24
REVIEWS_PER_PAGE = 10
STANDBY_MIRRORS = 2
SATOSHI = Decimal("0.00000001")
PICONERO_SHOWN = Decimal("0.0001")  # XMR prices are shown (and kept) with 4 decimals
_WORDS = load_words("onionlab.lab.world.kinds.vendor_shop_a")
GRADES = _WORDS["grades"]


@dataclass(frozen=True)
class Review:
    """A buyer's review: masked buyer name, date, 1–5 stars, text, the product reviewed."""

    buyer: str
    date: str
    stars: int
    text: str
    listing_id: str


@dataclass(frozen=True)
class ShopA:
    """Everything of ``vendor_shop_a`` that is not a ``Listing`` or the ``Vendor``."""

    identity: str  # Identity.id
    handle: str
    email: str
    jabber: str  # "" when the vendor has no Jabber account
    payment_btc: str  # the static payment address (no escrow)
    decoy_btc: str  # a typo'd look-alike of an address, quoted in the FAQ (fails checksum)
    decoy_onion: str  # a fake "mirror" (bad checksum), quoted in the FAQ
    since: str  # year the shop opened
    ships_to: str
    intro: str
    faq: tuple[tuple[str, str], ...]
    standby: tuple[str, ...]  # backup onions listed on the mirror page (not online)
    also_on: tuple[tuple[str, str, str], ...]  # (site title, onion, handle there)
    mirrors_signed: str  # clearsigned mirror list
    canary_signed: str  # clearsigned warrant canary
    updated: str  # YYYY-MM-DD of the price list
    reviews: tuple[Review, ...]
