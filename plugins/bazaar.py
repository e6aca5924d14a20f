"""Extracts listings and store profiles from the lab's "bazaar" layout (a card-grid Western market).

An instructor's plugin like any other: it uses only ``crawler.hookimpl`` and the item types,
and is registered through the ``onionlab`` entry-point group in ``pyproject.toml``.

It answers only for two kinds of page of this layout and returns ``None`` for every other:

* item pages (``article.bz-item``): one :class:`~onionlab.items.Listing`. The facts list
  (``dl.bz-facts``: ``dd.f-id``, ``dd.f-seller a``, ``dd.f-dept``, ``dd.f-product``,
  ``dd.f-from``) gives id, vendor, category, substance and origin; the first row of the
  quantity-pricing table (``table.bz-tiers tr.tier``) gives the weight and the USD/BTC
  prices. Every tier, EUR/XMR prices, destination, escrow and dates go into ``extra``.
* store pages (``section.bz-store``): one :class:`~onionlab.items.Vendor` with the PGP
  fingerprint (``code.bz-fpr``) and the current Bitcoin addresses (``tr.addr`` rows of
  chain ``btc``). Addresses struck out as "old - do not use" (``tr.addr-old``) are never
  taken as the vendor's; they are kept apart in ``extra["old_addresses"]``.

Item cards on department, home and store pages are not turned into listings: they lack the
BTC price, and every card links to its item page, where the full listing is read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from parsel import Selector
from scrapy.http import TextResponse

from onionlab import hookimpl
from onionlab.items import Item, Listing, Vendor
from onionlab.parsing import has, text

NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
FINGERPRINT = re.compile(r"[0-9A-F]{40}")
CENT = Decimal("0.01")
SATOSHI = Decimal("0.00000001")


_BAZAAR_PAGE = "body.bz"
_ITEM_TITLE = "article.bz-item h1.bz-item-title"
_STORE_NAME = "section.bz-store h1.bz-store-name"


def _decimal(shown: str) -> Decimal | None:
    """The first number in ``shown`` (thousands separators dropped), or ``None``."""
    match = NUMBER.search(shown)
    if not match:
        return None
    try:
        return Decimal(match.group(0).replace(",", ""))
    except InvalidOperation:
        return None


def _money(shown: str, step: Decimal | None = None) -> str | None:
    """A price as a decimal string: at ``step`` precision (``"45.00"``), else as shown.

    ``None`` for a number too long to have that precision (more than 28 digits in all): no
    real price, and quantizing it would raise.
    """
    value = _decimal(shown)
    if value is None:
        return None
    try:
        return format(value.quantize(step) if step is not None else value, "f")
    except InvalidOperation:
        return None


def _amount(shown: str) -> str | None:
    """A weight or count without trailing zeros: ``"3.50"`` → ``"3.5"``, ``"28"`` → ``"28"``."""
    value = _decimal(shown)
    return format(value.normalize(), "f") if value is not None else None


_MAX_COUNT_DIGITS = 18  # stock, sales, views: no real count has more digits


def _count(shown: str) -> int | None:
    """A whole number as shown (``"2,537"`` → ``2537``), or ``None`` (also for one of more than
    18 digits: converting a number of a few hundred thousand digits takes seconds).
    """
    value = _decimal(shown)
    if value is None or value.adjusted() >= _MAX_COUNT_DIGITS:
        return None
    return int(value) if value == value.to_integral_value() else None


def _tier(row: Selector) -> dict[str, Any]:
    quantity = row.attrib.get("data-qty") or text(row, "td.t-qty")
    unit = text(row, "td.t-qty").rpartition(" ")[2].lower()
    return {
        "quantity": _amount(quantity),
        "unit": unit or None,
        "price_usd": _money(text(row, "td.t-usd"), CENT),
        "price_eur": _money(text(row, "td.t-eur"), CENT),
        "price_btc": _money(text(row, "td.t-btc"), SATOSHI),
        "price_xmr": _money(text(row, "td.t-xmr")),
    }


def _listing(response: TextResponse, site: str) -> Listing | None:
    article = response.css("article.bz-item")
    listing_id = text(article, "dd.f-id").lstrip("#") or article.attrib.get("data-item", "")
    title = text(article, "h1.bz-item-title")
    if not listing_id or not title:
        return None
    tiers = [_tier(row) for row in article.css("table.bz-tiers tr.tier")]
    first = tiers[0] if tiers else {}
    # Grams are a weight; a count of pieces ("pcs") is not, so it stays in ``extra`` only.
    weight = first.get("quantity") if first.get("unit") == "g" else None
    escrow = article.css("dd.f-pay").attrib.get("data-escrow") or text(article, "dd.f-pay")
    extra: dict[str, Any] = {
        "unit": first.get("unit"),
        "quantity": first.get("quantity"),
        "price_eur": first.get("price_eur"),
        "price_xmr": first.get("price_xmr"),
        "ships_to": text(article, "dd.f-to") or None,
        "escrow": escrow or None,
        "posted": text(article, "dd.f-listed") or None,
        "stock": _count(text(article, "dd.f-stock")),
        "sold": _count(text(article, "dd.f-sold")),
        "views": _count(text(article, "dd.f-views")),
        "tiers": tiers,
        "shipping": [
            {
                "option": text(li, "span.ship-name"),
                "price_usd": _money(text(li, "span.ship-usd"), CENT),
            }
            for li in article.css("ul.bz-shipping li")
        ],
    }
    return Listing(
        site=site,
        listing_id=listing_id,
        url=response.url,
        title=title,
        vendor=text(article, "dd.f-seller a") or None,
        category=text(article, "dd.f-dept") or None,
        substance=text(article, "dd.f-product") or None,
        weight_g=weight,
        price_usd=first.get("price_usd"),
        price_btc=first.get("price_btc"),
        ships_from=text(article, "dd.f-from") or None,
        extra={k: v for k, v in extra.items() if v not in (None, [])},
    )


def _contact(li: Selector) -> dict[str, str]:
    kind = li.attrib.get("data-type") or text(li, "span.ct-label").lower()
    value = text(li, "span.ct-value")
    if kind == "telegram":  # shown as "@handle"; the handle itself has no "@"
        value = value.removeprefix("@")
    return {"type": kind, "value": value}


def _vendor(response: TextResponse, site: str) -> Vendor | None:
    store = response.css("section.bz-store")
    handle = text(store, "h1.bz-store-name") or store.attrib.get("data-store", "")
    if not handle:
        return None
    fingerprint = "".join(text(store, "div.bz-pgp code.bz-fpr").split()).upper()
    current: dict[str, list[str]] = {}
    old: list[dict[str, str]] = []
    for row in store.css("table.bz-addr tr.addr"):
        chain = row.attrib.get("data-chain", "").lower()
        value = text(row, ".addr-value")
        if not chain or not value:
            continue
        if "addr-old" in row.attrib.get("class", "").split():
            old.append({"chain": chain, "value": value})
        else:
            current.setdefault(chain, []).append(value)
    extra: dict[str, Any] = {
        "xmr": current.get("xmr", []),
        "contacts": [_contact(li) for li in store.css("ul.bz-contacts li")],
        "old_addresses": old,
        "country": text(store, "dd.s-country") or None,
        "joined": text(store, "dd.s-since") or None,
        "last_seen": text(store, "dd.s-seen") or None,
        "rating": _money(text(store, "dd.s-score")),
        "sales": _count(text(store, "dd.s-orders")),
        "level": _count(text(store, "p.bz-lvl")),
        "bond_usd": _money(text(store, "dd.s-bond"), CENT),
        "disputes": _count(text(store, "dd.s-disputes")),
    }
    return Vendor(
        site=site,
        handle=handle,
        url=response.url,
        pgp_fingerprint=fingerprint if FINGERPRINT.fullmatch(fingerprint) else None,
        btc=current.get("btc", []),
        extra={k: v for k, v in extra.items() if v not in (None, [])},
    )


@hookimpl
def onionlab_extract(response: TextResponse) -> Iterator[Item] | None:
    if not isinstance(response, TextResponse) or not has(response, _BAZAAR_PAGE):
        return None
    site = (urlsplit(response.url).hostname or "").lower()
    if has(response, _ITEM_TITLE):
        listing = _listing(response, site)
        return iter([listing] if listing else [])
    if has(response, _STORE_NAME):
        vendor = _vendor(response, site)
        return iter([vendor] if vendor else [])
    return None
