"""Site kind ``vendor_shop_b``: a minimalist single-vendor "store" with product cards.

A different person from ``vendor_shop_a`` (preferably one with a Monero wallet who also
sells on the market) runs it: a paginated card catalogue, one page per item (prices in XMR
first, then USD and BTC), a payment page with one static XMR and one static BTC address
(the vendor's own wallets, so they cluster with the markets), Session/Telegram contacts,
FAQ (with a typo'd XMR address as decoy), key, signed mirrors, shipping and news posts.

Modules: ``paths`` (the URL scheme, shared by the site ``onionlab.lab.sites.vendor_shop_b``
and the truth), ``content``, ``build`` and ``truth``; word lists in ``data/words.json``.
Depends on ``onionlab.lab.world`` (and shares a few helpers with
``onionlab.lab.world.kinds.vendor_shop_a``).
"""

from onionlab.lab.world.kinds.vendor_shop_b.build import build
from onionlab.lab.world.kinds.vendor_shop_b.content import PER_PAGE, ShopB, Update
from onionlab.lab.world.kinds.vendor_shop_b.paths import *  # noqa: F403  (the URL scheme, whole)
from onionlab.lab.world.kinds.vendor_shop_b.paths import __all__ as _paths_all
from onionlab.lab.world.kinds.vendor_shop_b.truth import (
    catalog_pages,
    decoys,
    occurrences,
    pages,
    truth_listings,
    truth_vendors,
)

__all__ = [
    *_paths_all,
    "PER_PAGE",
    "ShopB",
    "Update",
    "build",
    "catalog_pages",
    "decoys",
    "occurrences",
    "pages",
    "truth_listings",
    "truth_vendors",
]
