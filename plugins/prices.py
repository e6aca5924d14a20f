"""Gives each listing its sale unit and its price per gram (or per piece) in US dollars.

A built-in plugin, written like an instructor's: it imports only ``crawler.hookimpl``, the
item types and the standard library. Its exchange rates are data,
``plugins/data/rates.toml``: dated tables of the USD value of one unit of each currency.

For a :class:`~onionlab.items.Listing` (hook ``onionlab_normalize_item``):

* **quantity and unit**: ``weight_g`` → grams (``unit="g"``); else the extractor's
  ``extra["quantity"]`` with ``extra["unit"]`` (``"pcs"``, «шт», tabs… → ``unit="unit"``);
  else one unambiguous quantity in the title ("10 tabs", "3.5g", «5шт»; doses in mg/µg are
  not quantities), noted as ``extra["quantity_source"] = "title"``.
* **USD price**: the site's own ``price_usd``; else the local price (``extra["price_local"]``
  in ``extra["currency"]``), ``price_btc`` or another ``extra["price_<code>"]``, converted
  with the newest rate table and rounded half-up to cents; the converted figure fills
  ``price_usd`` and ``extra["rate_date"]``/``extra["price_usd_from"]`` say how. A currency
  without a rate gives no USD and an ``extra["price_note"]`` instead.
* **per unit**: ``price_per_unit_usd`` = USD price ÷ quantity, rounded half-up to cents,
  as a string with two decimals; also for every quantity tier in ``extra["tiers"]``.

Nothing here raises on odd input: a listing it cannot price is left with a note.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from onionlab import hookimpl
from onionlab.items import Item, Listing

RATES_FILE = Path(__file__).with_name("data") / "rates.toml"
CENT = Decimal("0.01")
# Amounts are read between these powers of ten (zero aside): past them a "price" or a
# "quantity" is no real one, and converting it would overflow the decimal context (to cents
# a value needs at most 28 digits) or, with a few million digits, take seconds.
_MAX_EXPONENT = 15

GRAM, PIECE = "g", "unit"
_UNIT_WORDS = {
    GRAM: ("g", "gr", "gram", "grams", "г", "гр", "грамм"),
    PIECE: ("pcs", "pc", "piece", "pieces", "unit", "units", "шт", "штук", "tab", "tabs",
            "tablet", "tablets", "pill", "pills", "blotter", "blotters", "caps", "capsules",
            "marks", "таб", "табл", "марок", "марки"),
}  # fmt: skip
_UNIT_OF = {word: unit for unit, words in _UNIT_WORDS.items() for word in words}
_GRAMS_PER = {"kg": Decimal(1000), "кг": Decimal(1000), "oz": Decimal("28.3495")}
_NUMBER = r"(\d+(?:[.,]\d+)?)"
# "(?<!\d)": a number is read from its first digit only (as substances' _QUANTITY; a start
# inside a number can match nothing its start cannot, and a run of digits stays linear).
_TITLE_QUANTITY = re.compile(
    r"(?<!\d)"
    + _NUMBER
    + r"\s*("
    + "|".join(sorted({*_UNIT_OF, *_GRAMS_PER}, key=len, reverse=True))
    + r")(?![^\W\d_])",
    re.IGNORECASE,
)
_TITLE_COUNT = re.compile(r"(?<![\w.])(?:x\s*(\d+)|(\d+)\s*x)(?![\w.])", re.IGNORECASE)


@dataclass(frozen=True)
class RateTable:
    """A dated table of exchange rates: ``usd[code]`` is the USD value of one unit."""

    date: date
    source: str
    usd: dict[str, Decimal]
    signs: dict[str, str]

    def code(self, currency: str) -> str:
        """The code of ``currency`` as a page or an extractor writes it ("₽", "rub" → "RUB")."""
        written = " ".join(currency.split())
        return self.signs.get(written, self.signs.get(written.lower(), written.upper()))

    def to_usd(self, amount: Decimal, currency: str) -> Decimal | None:
        """``amount`` of ``currency`` in USD, half-up to cents; ``None`` without a rate."""
        rate = self.usd.get(self.code(currency))
        return None if rate is None else (amount * rate).quantize(CENT, ROUND_HALF_UP)


def load_rates(path: Path = RATES_FILE) -> RateTable:
    """The newest table of the rates file ``path``."""
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    newest = max(data["table"], key=lambda table: table["date"])
    return RateTable(
        date=newest["date"],
        source=" ".join(newest["source"].split()),
        usd={code.upper(): Decimal(value) for code, value in newest["usd_per_unit"].items()},
        signs={**{k.lower(): v for k, v in data["signs"].items()}, **data["signs"]},
    )


@cache
def rates() -> RateTable:
    """The plugin's rate table, read once."""
    return load_rates()


def _decimal(value: Any) -> Decimal | None:
    """A positive-or-zero decimal from a string or number («1 024,5» → 1024.5), or ``None``."""
    if value is None or isinstance(value, bool):
        return None
    text = re.sub(r"[\s\u00a0\u202f]", "", str(value)).replace(",", ".")
    if len(text) > 64:
        return None  # no amount a page shows is written with more characters
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite() or number < 0:
        return None
    return number if not number or abs(number.adjusted()) <= _MAX_EXPONENT else None


def _cents(value: Decimal) -> str:
    return f"{value.quantize(CENT, ROUND_HALF_UP):.2f}"


# --- quantity --------------------------------------------------------------------------


def quantity_from_title(title: str) -> tuple[Decimal, str] | None:
    """The one quantity a title states ("10 tabs", "3.5g", "1 oz", «5шт», "x10"), or ``None``.

    Milligrams and micrograms are doses ("Xanax 2mg", «250 мкг»), not quantities sold; a
    title stating two different quantities is ambiguous and gives ``None``.
    """
    found: set[tuple[Decimal, str]] = set()
    for number, word in _TITLE_QUANTITY.findall(title):
        amount = _decimal(number)
        word = word.lower()
        if amount is None:
            continue
        if word in _GRAMS_PER:
            found.add((amount * _GRAMS_PER[word], GRAM))
        else:
            found.add((amount, _UNIT_OF[word]))
    pieces = {q for q in found if q[1] == PIECE}
    for times, count in _TITLE_COUNT.findall(title):
        amount = _decimal(times or count)
        if amount is not None:
            pieces.add((amount, PIECE))
    chosen = pieces or found
    return next(iter(chosen)) if len(chosen) == 1 else None


def quantity(listing: Listing) -> tuple[Decimal, str, str] | None:
    """``(amount, unit, source)`` of what the listing sells, or ``None`` when unknown."""
    weight = _decimal(listing.weight_g)
    if weight is not None:
        return weight, GRAM, "weight_g"
    amount = _decimal(listing.extra.get("quantity"))
    unit = _UNIT_OF.get(str(listing.extra.get("unit", "")).lower().strip())
    if amount is not None and unit is not None:
        return amount, unit, "extra"
    from_title = quantity_from_title(listing.title or "")
    return (*from_title, "title") if from_title else None


# --- price -----------------------------------------------------------------------------


def usd_price(listing: Listing, table: RateTable) -> tuple[Decimal | None, str | None, str]:
    """``(usd, converted_from, note)``: the listing's USD price and, if converted, from what."""
    own = _decimal(listing.price_usd)
    if own is not None:
        return own, None, ""
    offers: list[tuple[Any, str]] = []
    if listing.extra.get("price_local") is not None:
        offers.append((listing.extra["price_local"], str(listing.extra.get("currency") or "")))
    if listing.price_btc is not None:
        offers.append((listing.price_btc, "BTC"))
    for key, value in listing.extra.items():
        if key.startswith("price_") and key[6:].upper() in table.usd:
            offers.append((value, key[6:].upper()))
    notes = []
    for value, currency in offers:
        amount = _decimal(value)
        if amount is None:
            notes.append(f"unreadable price {value!r}")
            continue
        if not currency:
            notes.append(f"price {value!r} has no currency")
            continue
        converted = table.to_usd(amount, currency)
        if converted is not None:
            return converted, table.code(currency), ""
        notes.append(f"no USD rate for {currency!r} in the rates of {table.date.isoformat()}")
    return None, None, "; ".join(notes)


def per_unit(usd: Decimal, amount: Decimal) -> str | None:
    """USD per gram or per unit, half-up to cents (``None`` for a zero quantity)."""
    if amount <= 0:
        return None
    try:
        return _cents(usd / amount)
    except ArithmeticError:  # a quotient too large for cents (a tiny tier quantity)
        return None


def normalize_listing(listing: Listing, table: RateTable | None = None) -> None:
    """Set ``unit`` and ``price_per_unit_usd`` of ``listing`` (and a converted ``price_usd``)."""
    table = table or rates()
    sold = quantity(listing)
    if sold is not None:
        listing.unit = sold[1]
        if sold[2] == "title":
            listing.extra["quantity_source"] = "title"
    usd, converted_from, note = usd_price(listing, table)
    if converted_from is not None and usd is not None:
        listing.price_usd = _cents(usd)
        listing.extra["price_usd_from"] = converted_from
        listing.extra["rate_date"] = table.date.isoformat()
    if note:
        listing.extra["price_note"] = note
    if usd is not None and sold is not None:
        listing.price_per_unit_usd = per_unit(usd, sold[0])
    _price_tiers(listing)


def _price_tiers(listing: Listing) -> None:
    tiers = listing.extra.get("tiers")
    if not isinstance(tiers, list):
        return
    for tier in tiers:
        if not isinstance(tier, dict):
            continue
        amount, usd = _decimal(tier.get("quantity")), _decimal(tier.get("price_usd"))
        if amount is not None and usd is not None and amount > 0:
            tier["price_per_unit_usd"] = per_unit(usd, amount)


@hookimpl
def onionlab_normalize_item(item: Item) -> None:
    if isinstance(item, Listing):
        normalize_listing(item)


@hookimpl
def onionlab_index_fields() -> dict[str, dict[str, Any]]:
    keyword = {"type": "keyword"}
    return {
        "listing": {
            "rate_date": {"type": "date"},
            "price_usd_from": keyword,
            "price_note": {"type": "text"},
            "quantity_source": keyword,
        }
    }
