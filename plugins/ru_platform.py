"""Extracts product cards («товар») and shop operators from the lab's Russian shop platform.

An instructor's plugin like any other: it uses only ``crawler.hookimpl`` and the item types,
and is registered through the ``onionlab`` entry-point group in ``pyproject.toml``.
It answers only for pages with this layout — a product card (``div.tovar`` with
``td.tovar-id``) or a shop page (``div.shop`` with ``dd.operator``) — and returns ``None``
for every other page.

What it reads, and from where:

* **Listing** (``/tovar/<id>``): Артикул, name, Магазин, Оператор (the vendor), Район,
  Фасовка («0.5 г» → ``weight_g="0.5"``; «10 шт.» has no weight), Тип клада, Наличие and the
  local price («7 600 ₽» → ``price_local="7600"``). The currency code comes from the page's own
  rate bar (``span.rate-rub`` says «1 $ = … ₽»), so no sign table is hard-coded.
  The city is given in English: the card shows only the Russian name, but the breadcrumb
  links to ``/magazin/<shop>/<city-slug>`` and the platform's slugs transliterate the English
  name («saint-petersburg» → «Saint Petersburg»).
  ``price_usd`` is the card's own USD-pegged equivalent: the USDT amount as shown, or the
  BTC amount × the bar's «1 BTC = … $», rounded half-up to cents. (The bar quotes fiat only
  as «1 $ = 86.96 сом», rounded to kopecks, which is too coarse to give exact cents; only
  if a card had no equivalent would the plugin fall back to it.) The substance is read
  from a «Вещество» row (``td.tovar-substance``) when the card has one.
* **Vendor** (``/magazin/<shop>``): the operator's handle, the PGP fingerprint when the shop
  shows one, and the shop's BTC top-up addresses — not the look-alike addresses listed in
  its phishing warning (``code.fake-addr``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from urllib.parse import urlsplit

from scrapy.http import TextResponse

from onionlab import hookimpl
from onionlab.items import Item, Listing, Vendor
from onionlab.parsing import has, text

CENT = Decimal("0.01")
NUMBER = re.compile(r"\d[\d\s\u00a0\u202f]*(?:[.,]\d+)?")
CITY_CRUMB = re.compile(r"^/magazin/[^/]+/([a-z0-9-]+)$")
RATE_CLASS = re.compile(r"\brate-([a-z]+)\b")


_TOVAR_NAME = "div.tovar h1.tovar-name"
_TOVAR_ID = "div.tovar td.tovar-id"
_SHOP_NAME = "div.shop h1.shop-name"
_SHOP_OPERATOR = "div.shop dd.operator"


def _decimal(shown: str) -> Decimal | None:
    """The first number in ``shown`` («7 600 ₽» → 7600, «0,5 г» → 0.5), or ``None``."""
    match = NUMBER.search(shown)
    if not match:
        return None
    digits = re.sub(r"[\s\u00a0\u202f]", "", match.group(0)).replace(",", ".")
    try:
        return Decimal(digits)
    except InvalidOperation:
        return None


def _plain(value: Decimal | None) -> str | None:
    """A decimal as a plain string without exponent or trailing zeros (``Decimal("2")`` → "2")."""
    if value is None:
        return None
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _cents(value: Decimal | None) -> str | None:
    """A USD amount half-up to cents, or ``None`` (also for one too large to have cents: the
    decimal context holds 28 digits, and no real price comes near).
    """
    if value is None:
        return None
    try:
        return f"{value.quantize(CENT, ROUND_HALF_UP):f}"
    except InvalidOperation:
        return None


def _rates(response: TextResponse) -> tuple[dict[str, tuple[str, Decimal]], Decimal | None]:
    """The rate bar: ``{local sign: (currency code, units per dollar)}`` and USD per BTC."""
    fiat: dict[str, tuple[str, Decimal]] = {}
    btc_usd = None
    for span in response.css("div.ratebar span.rate"):
        match = RATE_CLASS.search(span.attrib.get("class", ""))
        text = " ".join(span.xpath("string()").get("").split())
        left, _, right = text.partition("=")
        if not match or not right:
            continue
        code = match.group(1).upper()
        if code == "BTC":
            btc_usd = _decimal(right)
            continue
        per_dollar = _decimal(right)
        sign = NUMBER.sub("", right).strip()
        if per_dollar and sign and "$" in left:
            fiat[sign] = (code, per_dollar)
    return fiat, btc_usd


def _city_en(response: TextResponse) -> str | None:
    """The city's English name, from the slug of the shop-city breadcrumb link."""
    for href in response.css("div.crumbs a::attr(href)").getall():
        match = CITY_CRUMB.match(href)
        if match:
            return " ".join(part.capitalize() for part in match.group(1).split("-"))
    return None


def _listing(response: TextResponse, site: str) -> Listing | None:
    listing_id = text(response, "div.tovar td.tovar-id")
    title = text(response, "div.tovar h1.tovar-name")
    if not listing_id or not title:
        return None
    fasovka = text(response, "div.tovar td.tovar-fasovka")
    amount = _plain(_decimal(fasovka))
    grams = bool(re.search(r"\bг\b", fasovka))

    local_text = text(response, "div.tovar td.tovar-price span.price-local")
    local = _decimal(local_text)
    sign = NUMBER.sub("", local_text).strip()
    fiat, btc_usd = _rates(response)
    currency, per_dollar = fiat.get(sign, (None, None))

    crypto_amount = _decimal(text(response, "div.tovar span.price-crypto span.crypto-amount"))
    crypto = text(response, "div.tovar span.price-crypto span.crypto-currency").upper() or None
    usd: Decimal | None = None
    if crypto_amount is not None and crypto == "USDT":
        usd = crypto_amount
    elif crypto_amount is not None and crypto == "BTC" and btc_usd:
        usd = crypto_amount * btc_usd
    elif local is not None and per_dollar:
        usd = local / per_dollar  # coarse: the bar rounds the rate to kopecks

    extra = {
        "shop": text(response, "div.tovar td.tovar-shop") or None,
        "city": _city_en(response),
        "city_ru": text(response, "div.tovar td.tovar-city") or None,
        "district": text(response, "div.tovar td.tovar-district") or None,
        "stash_type": text(response, "div.tovar td.tovar-klad") or None,
        "delivery": text(response, "div.tovar td.tovar-nalichie") or None,
        "currency": currency,
        "price_local": _plain(local),
        "price_crypto": format(crypto_amount, "f") if crypto_amount is not None else None,
        "crypto_currency": crypto,
        "unit": ("g" if grams else "pcs") if amount else None,
        "quantity": amount,
    }
    return Listing(
        site=site,
        listing_id=listing_id,
        url=response.url,
        title=title,
        vendor=text(response, "div.tovar td.tovar-operator") or None,
        substance=text(response, "div.tovar td.tovar-substance") or None,
        weight_g=amount if grams else None,
        price_usd=_cents(usd),
        price_btc=extra["price_crypto"] if crypto == "BTC" else None,
        extra={k: v for k, v in extra.items() if v is not None},
    )


def _vendor(response: TextResponse, site: str) -> Vendor | None:
    handle = text(response, "div.shop dd.operator")
    if not handle:
        return None
    fingerprint = "".join(text(response, "div.shop ul.contacts code.pgp-fp").split())
    btc = [
        " ".join(a.split())
        for a in response.css("div.shop ul.wallets code.addr-btc::text").getall()
    ]
    return Vendor(
        site=site,
        handle=handle,
        url=response.url,
        pgp_fingerprint=fingerprint or None,
        btc=[a for a in btc if a],
        extra={"shop": text(response, "div.shop h1.shop-name")},
    )


@hookimpl
def onionlab_extract(response: TextResponse) -> Iterator[Item] | None:
    site = (urlsplit(response.url).hostname or "").lower()
    if has(response, _TOVAR_NAME) and has(response, _TOVAR_ID):
        listing = _listing(response, site)
        return iter([listing] if listing else [])
    if has(response, _SHOP_NAME) and has(response, _SHOP_OPERATOR):
        vendor = _vendor(response, site)
        return iter([vendor] if vendor else [])
    return None
