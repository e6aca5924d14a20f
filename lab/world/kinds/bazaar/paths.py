"""The bazaar's URL scheme: every page's path, shared by the world and the site.

The truth lists these pages and the site (``onionlab.lab.sites.bazaar``) renders and links
them. ``PROTECTED_PREFIXES`` are the paths behind the lab's login wall. Depends on nothing.
"""

from __future__ import annotations

HOME_PATH = "/"
SECURITY_PATH = "/info/security"
NEWS_PATH = "/news"
PGP_TXT = "/pgp.txt"
MIRRORS_TXT = "/mirrors.txt"
CANARY_TXT = "/canary.txt"
TEXT_PATHS = (PGP_TXT, MIRRORS_TXT, CANARY_TXT)
PROTECTED_PREFIXES = ("/item/", "/store/")


def item_path(listing_id: str) -> str:
    return f"/item/{listing_id}"


def store_path(handle: str) -> str:
    return f"/store/{handle}"


def reviews_path(handle: str) -> str:
    return f"/store/{handle}/reviews"


def dept_path(slug: str, number: int = 1) -> str:
    return f"/c/{slug}/{number}"
