"""Typed access to the world's vocabularies: substances (EN/RU names), cities, exchange rates.

Reads ``substances.json`` (both its ``substances``, which the Western market sells, and
``more_substances``), ``cities.json`` and ``rates.json`` from ``lab/world/data``. Everything
is fixed data: no clock, no network, so conversions are the same on every run. Also the
stash types (тип клада) of the Russian-language shops. Depends on ``onionlab.lab.world.data_files``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from types import MappingProxyType

from onionlab.lab.world.data_files import load_data

STASH_TYPES = ("магнит", "прикоп", "тайник")
STASH_TYPES_EN = ("magnet", "buried", "hidden cache")
STASH_GLOSSES: Mapping[str, str] = MappingProxyType(
    dict(zip(STASH_TYPES, STASH_TYPES_EN, strict=True))
)

FIAT = ("USD", "EUR", "RUB", "KZT", "KGS", "BYN", "UAH")
# Decimal places of a converted amount, per currency (fiat: 2).
DECIMALS: Mapping[str, int] = MappingProxyType(
    {**dict.fromkeys(FIAT, 2), "BTC": 8, "LTC": 8, "XMR": 12, "ETH": 6, "TRX": 6, "USDT": 6}
)


@dataclass(frozen=True)
class Substance:
    """A substance with its names: ``canonical`` is the ground truth's name for it."""

    canonical: str  # e.g. "Mephedrone", "α-PVP"
    klass: str  # pharmacological class, e.g. "synthetic cathinone"
    category: str  # market category slug (substances.json "categories")
    en: tuple[str, ...]  # English names, codes and slang
    ru: tuple[str, ...]  # Cyrillic names and slang, base (uninflected) forms
    usd_per_g: Decimal  # street price of one gram (or of one piece when unit == "pcs")
    unit: str  # "g" or "pcs"
    weights: tuple[str, ...]  # offered quantities in ``unit``, e.g. ("0.5", "1", "2")
    names: tuple[str, ...] = ()  # how Western vendors write it in listing titles
    forms: tuple[str, ...] = ()  # "crystals", "powder", "pellets", …


@dataclass(frozen=True)
class City:
    """A city of the Russian-language shops, with its districts (районы)."""

    name_ru: str
    name_en: str
    country: str  # ISO 3166 alpha-2: RU, KZ, KG, BY
    currency: str  # RUB, KZT, KGS, BYN
    lat: float
    lon: float
    districts: tuple[str, ...]  # Russian district names, e.g. "Центральный"


@dataclass(frozen=True)
class Rates:
    """A fixed, dated exchange-rate table: ``usd[c]`` is the USD value of one unit of ``c``."""

    date: str  # YYYY-MM-DD
    usd: Mapping[str, Decimal]

    def convert(self, amount_usd: Decimal, currency: str) -> Decimal:
        """``amount_usd`` in ``currency``, rounded half-up to ``DECIMALS[currency]`` places."""
        currency = currency.upper()
        if currency not in self.usd:
            raise KeyError(f"no rate for {currency!r}")
        value = Decimal(amount_usd) / self.usd[currency]
        return value.quantize(Decimal(1).scaleb(-DECIMALS.get(currency, 2)), ROUND_HALF_UP)

    def to_usd(self, amount: Decimal, currency: str) -> Decimal:
        """``amount`` of ``currency`` in USD, rounded half-up to cents."""
        value = Decimal(amount) * self.usd[currency.upper()]
        return value.quantize(Decimal("0.01"), ROUND_HALF_UP)


@cache
def substances() -> tuple[Substance, ...]:
    """Every substance of the vocabulary (the market's ones first, in file order)."""
    data = load_data("substances.json")
    return tuple(
        Substance(
            canonical=s["canonical"],
            klass=s["klass"],
            category=s["category"],
            en=tuple(s["en"]),
            ru=tuple(s["ru"]),
            usd_per_g=Decimal(str(s["usd_per_g"])),
            unit=s.get("unit", "g"),
            weights=tuple(s["weights"]),
            names=tuple(s.get("names", ())),
            forms=tuple(s.get("forms", ())),
        )
        for s in [*data["substances"], *data.get("more_substances", [])]
    )


def substance(canonical: str) -> Substance:
    """The substance whose canonical name is ``canonical``."""
    for sub in substances():
        if sub.canonical == canonical:
            return sub
    raise KeyError(canonical)


@cache
def cities() -> tuple[City, ...]:
    """The cities of the Russian-language shops (Russia, Kazakhstan, Kyrgyzstan, Belarus)."""
    return tuple(
        City(
            name_ru=c["name_ru"],
            name_en=c["name_en"],
            country=c["country"],
            currency=c["currency"],
            lat=float(c["lat"]),
            lon=float(c["lon"]),
            districts=tuple(c["districts"]),
        )
        for c in load_data("cities.json")["cities"]
    )


@cache
def rates() -> Rates:
    """The world's exchange-rate table (fixed and dated, see ``rates.json``)."""
    data = load_data("rates.json")
    table = {code: Decimal(value) for code, value in data["usd_per_unit"].items()}
    return Rates(date=data["date"], usd=MappingProxyType(table))


def convert(amount_usd: Decimal, currency: str) -> Decimal:
    """``amount_usd`` in ``currency`` at the world's rates (see ``Rates.convert``)."""
    return rates().convert(amount_usd, currency)
