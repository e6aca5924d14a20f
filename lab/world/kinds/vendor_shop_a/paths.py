"""The shop's URL scheme: every page's path, shared by the world and the site.

The truth lists these pages and the site (``onionlab.lab.sites.vendor_shop_a``) renders and
links them. The pages every single-vendor shop has come from
``onionlab.lab.world.kinds.shop_paths``. Depends on nothing else.
"""

from __future__ import annotations

from onionlab.lab.world.kinds.shop_paths import CONTACT, FAQ, HOME, MIRRORS, PGP, SHIPPING

PRICES = "/prices"
ORDER = "/order"
ABOUT = "/about"
CANARY = "/canary"


def category_path(slug: str) -> str:
    return f"/prices/{slug}"


def product_path(listing_id: str) -> str:
    return f"/product/{listing_id}"


def reviews_path(number: int = 1) -> str:
    return "/reviews" if number == 1 else f"/reviews?page={number}"


__all__ = [
    "ABOUT",
    "CANARY",
    "CONTACT",
    "FAQ",
    "HOME",
    "MIRRORS",
    "ORDER",
    "PGP",
    "PRICES",
    "SHIPPING",
    "category_path",
    "product_path",
    "reviews_path",
]
