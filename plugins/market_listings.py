"""Extracts listings and vendor profiles from the lab's Western-style market layout.

An instructor's plugin like any other: it uses only the public plugin API (and ``_layout``),
and is registered through the ``onionlab`` entry-point group in ``pyproject.toml``.
It answers only for pages that have this layout (``div.listing`` / ``div.vendor-profile``).
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

from scrapy.http import TextResponse

from onionlab import hookimpl
from onionlab.items import Item, Listing, Vendor
from onionlab.parsing import fingerprint as _fingerprint
from onionlab.parsing import text as _text
from onionlab.plugins._layout import layout_listing

_LISTING_FIELDS = {  # where each listing field stands in ``div.listing``
    "vendor": "td.vendor a",
    "category": "td.category",
    "substance": "td.substance",
    "weight_g": "td.weight",
    "price_usd": "td.price .usd",
    "price_btc": "td.price .btc",
    "ships_from": "td.ships-from",
}


def _listing(response: TextResponse, site: str) -> Listing | None:
    listing_id = _text(response, "div.listing td.listing-id").lstrip("#")
    title = _text(response, "div.listing h1.listing-title")
    if not listing_id or not title:
        return None
    return layout_listing(
        site=site,
        listing_id=listing_id,
        url=response.url,
        title=title,
        field=lambda name: _text(response, f"div.listing {_LISTING_FIELDS[name]}"),
    )


def _vendor(response: TextResponse, site: str) -> Vendor | None:
    handle = _text(response, "div.vendor-profile h1.vendor-handle")
    if not handle:
        return None
    fingerprint = _fingerprint(_text(response, "div.vendor-profile code.fpr"))
    return Vendor(
        site=site,
        handle=handle,
        url=response.url,
        pgp_fingerprint=fingerprint,
        btc=[a.strip() for a in response.css("ul.btc-addresses code.btc-address::text").getall()],
    )


@hookimpl
def onionlab_extract(response: TextResponse) -> Iterator[Item] | None:
    site = (urlsplit(response.url).hostname or "").lower()
    if response.css("div.listing h1.listing-title"):
        listing = _listing(response, site)
        return iter([listing] if listing else [])
    if response.css("div.vendor-profile"):
        vendor = _vendor(response, site)
        return iter([vendor] if vendor else [])
    return None
