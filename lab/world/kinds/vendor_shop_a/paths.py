"""The shop's URL scheme: every page's path, shared by the world and the site.

The truth lists these pages and the site (``onionlab.lab.sites.vendor_shop_a``) renders and
links them. Depends on nothing.
"""

from __future__ import annotations

HOME = "/"
PRICES = "/prices"
ORDER = "/order"
FAQ = "/faq"
PGP = "/pgp"
MIRRORS = "/mirrors"
CONTACT = "/contact"
ABOUT = "/about"
SHIPPING = "/shipping"
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
