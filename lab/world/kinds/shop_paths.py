"""The paths every single-vendor shop kind has (``vendor_shop_a``, ``vendor_shop_b``).

Home, FAQ, contact, PGP key, mirror list and shipping: each shop's ``paths`` module takes them
from here and adds its own pages. Not a kind itself (kinds are the sub-packages).
Depends on nothing.
"""

from __future__ import annotations

HOME = "/"
FAQ = "/faq"
CONTACT = "/contact"
PGP = "/pgp"
MIRRORS = "/mirrors"
SHIPPING = "/shipping"

__all__ = ["CONTACT", "FAQ", "HOME", "MIRRORS", "PGP", "SHIPPING"]
