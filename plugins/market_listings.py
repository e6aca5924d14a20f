"""Extracts listings and vendor profiles from the lab's Western-style market layout.

An instructor's plugin like any other: it uses only ``crawler.hookimpl`` and the item types,
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
from onionlab.parsing import number as _number
from onionlab.parsing import text as _text


def _listing(response: TextResponse, site: str) -> Listing | None:
    listing_id = _text(response, "div.listing td.listing-id").lstrip("#")
    title = _text(response, "div.listing h1.listing-title")
    if not listing_id or not title:
        return None
    return Listing(
        site=site,
        listing_id=listing_id,
        url=response.url,
        title=title,
        vendor=_text(response, "div.listing td.vendor a") or None,
        category=_text(response, "div.listing td.category") or None,
        substance=_text(response, "div.listing td.substance") or None,
        weight_g=_number(_text(response, "div.listing td.weight")),
        price_usd=_number(_text(response, "div.listing td.price .usd")),
        price_btc=_number(_text(response, "div.listing td.price .btc")),
        ships_from=_text(response, "div.listing td.ships-from") or None,
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
