"""Extracts products and the vendor from the lab's two single-vendor shop layouts.

An instructor's plugin like any other: it uses only the public plugin API (and ``_layout``),
and is registered through the ``onionlab`` entry-point group in ``pyproject.toml``.
The two shops are different designs, recognised separately:

* the price-list shop (table frame, ``p-*`` classes): a product page is
  ``div.product-page`` with ``table.p-info``; the vendor is its about page,
  ``h2.vendor-handle`` with ``table.vendor-info`` (fingerprint and payment address);
* the minimalist store (``data-field`` attributes): a product page is
  ``article.item[data-sku]``; the vendor is the contact page, ``h1[data-field=handle]``
  with the fingerprint (printed in groups of four) and any addresses it shows.

Any other page gets ``None``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from parsel import Selector, SelectorList
from scrapy.http import TextResponse

from onionlab import hookimpl
from onionlab.items import Item, Listing, Vendor
from onionlab.parsing import fingerprint as _fingerprint
from onionlab.parsing import has
from onionlab.parsing import number as _number
from onionlab.parsing import text as _text
from onionlab.parsing import texts as _texts
from onionlab.plugins._layout import layout_listing


def _extra(**fields: Any) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value}


_SHOP_A_PRODUCT = "div.product-page table.p-info"
_SHOP_A_HANDLE = "h2.vendor-handle"
_SHOP_A_VENDOR_INFO = "table.vendor-info"
_SHOP_B_ITEM = "article.item[data-sku] dl.specs"
_SHOP_B_HANDLE = 'main h1[data-field="handle"]'


# --- price-list shop (vendor_shop_a) ---------------------------------------------------------


_SHOP_A_FIELDS = {  # where each listing field stands on a product page
    "vendor": "td.p-vendor",
    "category": "td.p-category",
    "substance": "td.p-substance",
    "weight_g": "td.p-weight",
    "price_usd": ".p-usd",
    "price_btc": ".p-btc",
    "ships_from": "td.p-ships-from",
}


def _shop_a_product(response: TextResponse, site: str) -> Listing | None:
    page = response.css("div.product-page")
    listing_id = _text(page, "table.p-info td.p-code")
    title = _text(page, "h2.p-title")
    if not listing_id or not title:
        return None
    return layout_listing(
        site=site,
        listing_id=listing_id,
        url=response.url,
        title=title,
        field=lambda name: _text(page, _SHOP_A_FIELDS[name]),
        extra=_extra(
            ships_to=_text(page, "td.p-ships-to"),
            description=_text(page, "p.p-desc"),
        ),
    )


def _shop_a_vendor(response: TextResponse, site: str) -> Vendor | None:
    handle = _text(response, "h2.vendor-handle")
    if not handle:
        return None
    info = response.css("table.vendor-info")
    also_on = [
        _extra(
            site=_text(entry, "span.site-title"),
            handle=_text(entry, "span.site-handle"),
            onion=_text(entry, "code.onion"),
        )
        for entry in response.css("ul.also-on li")
    ]
    return Vendor(
        site=site,
        handle=handle,
        url=response.url,
        pgp_fingerprint=_fingerprint(_text(info, "code.fingerprint")),
        btc=_texts(info, "code.btc-address"),
        extra=_extra(
            bio=_text(response, "p.v-bio"),
            country=_text(info, "td.v-country"),
            ships_to=_text(info, "td.v-ships-to"),
            since=_text(info, "td.v-since"),
            also_on=also_on,
        ),
    )


# --- minimalist store (vendor_shop_b) --------------------------------------------------------


def _field(nodes: Selector | SelectorList[Selector] | TextResponse, name: str) -> str:
    return _text(nodes, f'[data-field="{name}"]')


# The data-field of each listing field on an item page, where it is not the field's own name.
_SHOP_B_FIELDS = {"weight_g": "weight", "price_usd": "price-usd", "price_btc": "price-btc",
                  "ships_from": "ships-from"}  # fmt: skip


def _shop_b_item(response: TextResponse, site: str) -> Listing | None:
    item = response.css("article.item[data-sku]")
    listing_id = (item.attrib.get("data-sku") or "").strip()
    title = _field(item, "title")
    if not listing_id or not title:
        return None
    return layout_listing(
        site=site,
        listing_id=listing_id,
        url=response.url,
        title=title,
        field=lambda name: _field(item, _SHOP_B_FIELDS.get(name, name)),
        extra=_extra(
            price_xmr=_number(_field(item, "price-xmr")),
            ships_to=_field(item, "ships-to"),
            description=_field(item, "description"),
        ),
    )


def _shop_b_vendor(response: TextResponse, site: str) -> Vendor | None:
    handle = _text(response, 'main h1[data-field="handle"]')
    if not handle:
        return None
    main = response.css("main")
    telegram = [
        name.lstrip("@")
        for field in ("telegram-bot", "telegram")
        for name in _texts(main, f'[data-field="{field}"]')
    ]
    return Vendor(
        site=site,
        handle=handle,
        url=response.url,
        pgp_fingerprint=_fingerprint(_field(main, "fingerprint")),
        btc=_texts(main, '[data-field="btc-address"]'),
        extra=_extra(
            xmr=_texts(main, '[data-field="xmr-address"]'),
            session=_texts(main, '[data-field="session"]'),
            telegram=sorted(set(telegram)),
        ),
    )


@hookimpl
def onionlab_extract(response: TextResponse) -> Iterator[Item] | None:
    """Items from a product page or vendor page of either shop; ``None`` on any other page."""
    site = (urlsplit(response.url).hostname or "").lower()
    item: Item | None
    if has(response, _SHOP_A_PRODUCT):
        item = _shop_a_product(response, site)
    elif has(response, _SHOP_A_HANDLE) and has(response, _SHOP_A_VENDOR_INFO):
        item = _shop_a_vendor(response, site)
    elif has(response, _SHOP_B_ITEM):
        item = _shop_b_item(response, site)
    elif has(response, _SHOP_B_HANDLE):
        item = _shop_b_vendor(response, site)
    else:
        return None
    return iter([item] if item else [])
