"""The hostile site's URL scheme: its ordinary pages and the names it points at.

The attacks' paths are in ``attacks``; the site (``onionlab.lab.sites.hostile``) routes
both. Depends on nothing.
"""

from __future__ import annotations

HOME_PATH = "/"
LISTINGS_PATH = "/listings/"
LISTINGS_2_PATH = "/listings/2"
ABOUT_PATH = "/about"
PGP_TXT = "/pgp.txt"
MIRRORS_TXT = "/mirrors.txt"
ORDINARY = (HOME_PATH, LISTINGS_PATH, LISTINGS_2_PATH, ABOUT_PATH)
MIRROR_TARGET = "forum"  # the lab site the forged mirrors.txt names as "our mirror"
FAKE_CLEARNET = "cdn.abyss-market.invalid"  # never resolves (RFC 6761 .invalid)
