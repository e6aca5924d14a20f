"""The pages every single-vendor shop site renders (``vendor_shop_a``, ``vendor_shop_b``).

``common_pages(renderer)`` renders the home, FAQ, contact, PGP, mirrors and shipping pages of a
shop by their paths (``onionlab.lab.world.kinds.shop_paths``); each shop adds its own pages.
Depends on ``onionlab.lab.world``.
"""

from __future__ import annotations

from typing import Protocol

from onionlab.lab.world.kinds.shop_paths import CONTACT, FAQ, HOME, MIRRORS, PGP, SHIPPING


class ShopRenderer(Protocol):
    """A shop's renderer: one method per page every shop has."""

    def home(self) -> bytes: ...
    def faq(self) -> bytes: ...
    def contact(self) -> bytes: ...
    def pgp(self) -> bytes: ...
    def mirrors(self) -> bytes: ...
    def shipping(self) -> bytes: ...


def common_pages(r: ShopRenderer) -> dict[str, bytes]:
    """The pages every single-vendor shop has, by path."""
    return {
        HOME: r.home(),
        FAQ: r.faq(),
        CONTACT: r.contact(),
        PGP: r.pgp(),
        MIRRORS: r.mirrors(),
        SHIPPING: r.shipping(),
    }
