"""The store's content model (``ShopB``, its news updates) and its sizes.

Depends on ``onionlab.lab.world.model``.
"""

from __future__ import annotations

from dataclasses import dataclass

PER_PAGE = 12
UPDATES_PER_SCALE = 6


@dataclass(frozen=True)
class Update:
    """A news post: number (its URL), date, title, text and the onions the text names."""

    number: int
    date: str
    title: str
    text: str
    onions: tuple[str, ...] = ()
    skus: tuple[str, ...] = ()  # items the post links to


@dataclass(frozen=True)
class ShopB:
    """Everything of ``vendor_shop_b`` that is not a ``Listing`` or the ``Vendor``."""

    identity: str
    handle: str
    email: str  # the key's user ID e-mail
    xmr: str  # static payment addresses
    btc: str
    session: str
    telegram: str  # the operator's Telegram ("" if none)
    bot: str  # the shop's order bot on Telegram
    decoy_xmr: str
    since: str
    faq: tuple[tuple[str, str], ...]
    standby: tuple[str, ...]
    mirrors_signed: str
    xmr_prices: tuple[tuple[str, str], ...]  # (sku, price in XMR)
    updates: tuple[Update, ...]  # newest first

    def price_xmr(self, sku: str) -> str:
        return dict(self.xmr_prices)[sku]
