"""The store's URL scheme: every page's path, shared by the world and the site.

The truth lists these pages and the site (``onionlab.lab.sites.vendor_shop_b``) renders and
links them. The pages every single-vendor shop has come from
``onionlab.lab.world.kinds.shop_paths``. Depends on nothing else.
"""

from __future__ import annotations

from onionlab.lab.world.kinds.shop_paths import CONTACT, FAQ, HOME, MIRRORS, PGP, SHIPPING

PAY = "/pay"
UPDATES = "/updates"


def catalog_path(number: int = 1) -> str:
    return "/catalog" if number == 1 else f"/catalog/{number}"


def item_path(sku: str) -> str:
    return f"/item/{sku}"


def update_path(number: int) -> str:
    return f"/updates/{number}"


__all__ = [
    "CONTACT",
    "FAQ",
    "HOME",
    "MIRRORS",
    "PAY",
    "PGP",
    "SHIPPING",
    "UPDATES",
    "catalog_path",
    "item_path",
    "update_path",
]
