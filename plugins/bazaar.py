"""Extracts listings and store profiles from the lab's "bazaar" layout (a card-grid Western market).

An instructor's plugin like any other: it uses only ``crawler.hookimpl`` and the item types,
and is registered through the ``onionlab`` entry-point group in ``pyproject.toml``.

It answers only for two kinds of page of this layout and returns ``None`` for every other:

* item pages (``article.bz-item``): one :class:`~crawler.items.Listing`. The facts list
  (``dl.bz-facts``: ``dd.f-id``, ``dd.f-seller a``, ``dd.f-dept``, ``dd.f-product``,
  ``dd.f-from``) gives id, vendor, category, substance and origin; the first row of the
  quantity-pricing table (``table.bz-tiers tr.tier``) gives the weight and the USD/BTC
  prices. Every tier, EUR/XMR prices, destination, escrow and dates go into ``extra``.
* store pages (``section.bz-store``): one :class:`~crawler.items.Vendor` with the PGP
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
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from lxml import etree
from parsel import Selector, SelectorList
from parsel.csstranslator import HTMLTranslator
from scrapy.http import TextResponse

from crawler import hookimpl
from crawler.items import Item, Listing, Vendor

NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
FINGERPRINT = re.compile(r"[0-9A-F]{40}")
CENT = Decimal("0.01")
SATOSHI = Decimal("0.00000001")


# Which layout a page has is asked of every page crawled, and most pages have none of these:
# the questions are compiled once and asked of the parsed tree directly, which gives what
# ``bool(response.css(...))`` gives without building a selector per node and per call.
_CSS = HTMLTranslator()


@cache
def _query(css: str) -> etree.XPath:
    return etree.XPath(_CSS.css_to_xpath(css))


def _has(response: TextResponse, query: etree.XPath) -> bool:
    """Whether ``query`` (see :func:`_query`) finds anything on the page."""
    return bool(query(response.selector.root))


_STRING_VALUE = etree.XPath("string()", smart_strings=False)


def _text(node: TextResponse | Selector | SelectorList[Selector], css: str) -> str:
    """What ``crawler.parsing.text(node, css)`` gives (the text of the first match of ``css``,
    whitespace collapsed; ``""`` if none), read off the lxml tree with the query compiled
    once: a product page asks for a dozen fields, and parsel's selectors cost more than the
    lookups.
    """
    if isinstance(node, TextResponse):
        roots = [node.selector.root]
    elif isinstance(node, SelectorList):
        roots = [selector.root for selector in node]
    else:
        roots = [node.root]
    query = _query(css)
    for root in roots:
        found = query(root)
        if found:
            return " ".join(_STRING_VALUE(found[0]).split())
    return ""


_BAZAAR_PAGE = _query("body.bz")
_ITEM_TITLE = _query("article.bz-item h1.bz-item-title")
_STORE_NAME = _query("section.bz-store h1.bz-store-name")


def _decimal(text: str) -> Decimal | None:
    """The first number in ``text`` (thousands separators dropped), or ``None``."""
    match = NUMBER.search(text)
    if not match:
        return None
    try:
        return Decimal(match.group(0).replace(",", ""))
    except InvalidOperation:
        return None


def _money(text: str, step: Decimal | None = None) -> str | None:
    """A price as a decimal string: at ``step`` precision (``"45.00"``), else as shown."""
    value = _decimal(text)
    if value is None:
        return None
    return format(value.quantize(step) if step is not None else value, "f")


def _amount(text: str) -> str | None:
    """A weight or count without trailing zeros: ``"3.50"`` → ``"3.5"``, ``"28"`` → ``"28"``."""
    value = _decimal(text)
    return format(value.normalize(), "f") if value is not None else None


def _count(text: str) -> int | None:
    """A whole number as shown (``"2,537"`` → ``2537``), or ``None``."""
    value = _decimal(text)
    return int(value) if value is not None and value == value.to_integral_value() else None


def _tier(row: Selector) -> dict[str, Any]:
    quantity = row.attrib.get("data-qty") or _text(row, "td.t-qty")
    unit = _text(row, "td.t-qty").rpartition(" ")[2].lower()
    return {
        "quantity": _amount(quantity),
        "unit": unit or None,
        "price_usd": _money(_text(row, "td.t-usd"), CENT),
        "price_eur": _money(_text(row, "td.t-eur"), CENT),
        "price_btc": _money(_text(row, "td.t-btc"), SATOSHI),
        "price_xmr": _money(_text(row, "td.t-xmr")),
    }


def _listing(response: TextResponse, site: str) -> Listing | None:
    article = response.css("article.bz-item")
    listing_id = _text(article, "dd.f-id").lstrip("#") or article.attrib.get("data-item", "")
    title = _text(article, "h1.bz-item-title")
    if not listing_id or not title:
        return None
    tiers = [_tier(row) for row in article.css("table.bz-tiers tr.tier")]
    first = tiers[0] if tiers else {}
    # Grams are a weight; a count of pieces ("pcs") is not, so it stays in ``extra`` only.
    weight = first.get("quantity") if first.get("unit") == "g" else None
    escrow = article.css("dd.f-pay").attrib.get("data-escrow") or _text(article, "dd.f-pay")
    extra: dict[str, Any] = {
        "unit": first.get("unit"),
        "quantity": first.get("quantity"),
        "price_eur": first.get("price_eur"),
        "price_xmr": first.get("price_xmr"),
        "ships_to": _text(article, "dd.f-to") or None,
        "escrow": escrow or None,
        "posted": _text(article, "dd.f-listed") or None,
        "stock": _count(_text(article, "dd.f-stock")),
        "sold": _count(_text(article, "dd.f-sold")),
        "views": _count(_text(article, "dd.f-views")),
        "tiers": tiers,
        "shipping": [
            {
                "option": _text(li, "span.ship-name"),
                "price_usd": _money(_text(li, "span.ship-usd"), CENT),
            }
            for li in article.css("ul.bz-shipping li")
        ],
    }
    return Listing(
        site=site,
        listing_id=listing_id,
        url=response.url,
        title=title,
        vendor=_text(article, "dd.f-seller a") or None,
        category=_text(article, "dd.f-dept") or None,
        substance=_text(article, "dd.f-product") or None,
        weight_g=weight,
        price_usd=first.get("price_usd"),
        price_btc=first.get("price_btc"),
        ships_from=_text(article, "dd.f-from") or None,
        extra={k: v for k, v in extra.items() if v not in (None, [])},
    )


def _contact(li: Selector) -> dict[str, str]:
    kind = li.attrib.get("data-type") or _text(li, "span.ct-label").lower()
    value = _text(li, "span.ct-value")
    if kind == "telegram":  # shown as "@handle"; the handle itself has no "@"
        value = value.removeprefix("@")
    return {"type": kind, "value": value}


def _vendor(response: TextResponse, site: str) -> Vendor | None:
    store = response.css("section.bz-store")
    handle = _text(store, "h1.bz-store-name") or store.attrib.get("data-store", "")
    if not handle:
        return None
    fingerprint = "".join(_text(store, "div.bz-pgp code.bz-fpr").split()).upper()
    current: dict[str, list[str]] = {}
    old: list[dict[str, str]] = []
    for row in store.css("table.bz-addr tr.addr"):
        chain = row.attrib.get("data-chain", "").lower()
        value = _text(row, ".addr-value")
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
        "country": _text(store, "dd.s-country") or None,
        "joined": _text(store, "dd.s-since") or None,
        "last_seen": _text(store, "dd.s-seen") or None,
        "rating": _money(_text(store, "dd.s-score")),
        "sales": _count(_text(store, "dd.s-orders")),
        "level": _count(_text(store, "p.bz-lvl")),
        "bond_usd": _money(_text(store, "dd.s-bond"), CENT),
        "disputes": _count(_text(store, "dd.s-disputes")),
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
    if not isinstance(response, TextResponse) or not _has(response, _BAZAAR_PAGE):
        return None
    site = (urlsplit(response.url).hostname or "").lower()
    if _has(response, _ITEM_TITLE):
        listing = _listing(response, site)
        return iter([listing] if listing else [])
    if _has(response, _STORE_NAME):
        vendor = _vendor(response, site)
        return iter([vendor] if vendor else [])
    return None
