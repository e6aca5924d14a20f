"""Site kind ``vendor_shop_a``: a single vendor's own English price-list shop.

One person (a shared ``Identity``, ideally one who also sells on the market so trainees can
link the handles) runs it: a price table of products, one page per product, an order page
("encrypt your address to our PGP key", one static BTC address, no escrow), reviews, FAQ
(with a typo'd look-alike address and a fake mirror as decoys), the key, a PGP-signed mirror
list, a signed warrant canary, contacts and an about page.

Modules: ``paths`` (the URL scheme, shared by the site ``onionlab.lab.sites.vendor_shop_a``
and the truth), ``content``, ``helpers`` (what the other single-vendor shop
``vendor_shop_b`` and the paste site share: who runs the shop, its products),
``build`` and ``truth``; word lists in ``data/words.json``.
Depends on ``onionlab.lab.world``.
"""

from onionlab.lab.world.kinds.vendor_shop_a.build import build, signed_mirrors
from onionlab.lab.world.kinds.vendor_shop_a.content import REVIEWS_PER_PAGE, ShopA
from onionlab.lab.world.kinds.vendor_shop_a.helpers import (
    also_on,
    jabber_onions,
    make_products,
    make_vendor,
    pick_identity,
    shop_price,
    standby_onions,
    story_day,
    timestamp,
    xmr_price,
)
from onionlab.lab.world.kinds.vendor_shop_a.paths import *  # noqa: F403  (the URL scheme, whole)
from onionlab.lab.world.kinds.vendor_shop_a.paths import __all__ as _paths_all
from onionlab.lab.world.kinds.vendor_shop_a.truth import (
    decoys,
    occurrences,
    pages,
    review_pages,
    truth_listings,
    truth_vendors,
)

__all__ = [
    *_paths_all,
    "REVIEWS_PER_PAGE",
    "ShopA",
    "also_on",
    "build",
    "decoys",
    "jabber_onions",
    "make_products",
    "make_vendor",
    "occurrences",
    "pages",
    "pick_identity",
    "review_pages",
    "shop_price",
    "signed_mirrors",
    "standby_onions",
    "story_day",
    "timestamp",
    "truth_listings",
    "truth_vendors",
    "xmr_price",
]
