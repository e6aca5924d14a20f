"""The platform's content model (cities, shops, products, reviews, jobs) and its formats.

Depends on ``onionlab.lab.world.model``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

SHOPS_PER_SCALE = 7
PRODUCTS_PER_SCALE = 390
REVIEWS_PER_PAGE = 10
COUNTRIES = ("RU", "KZ", "KG")
CITIES_MIN, CITIES_PER_SCALE = 6, 8


CENT = Decimal("0.01")
SATOSHI = Decimal("0.00000001")
DAY = 86400

CURRENCY_SIGN = {"RUB": "₽", "KZT": "₸", "KGS": "сом", "BYN": "BYN", "UAH": "₴"}
PRICE_STEP = {"RUB": 50, "KZT": 500, "KGS": 50, "BYN": 1, "UAH": 10}
INSTANT, PREORDER = "моментальный", "предзаказ"


_TRANSLIT = {
    **dict(zip("абвгдеёзийклмнопрстуфхыэ", "abvgdeeziyklmnoprstufhye", strict=True)),
    **{"ж": "zh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sch", "ъ": "", "ь": "", "ю": "yu"},
    "я": "ya",
}


def translit(text: str) -> str:
    """A URL slug from Russian or English text (lower case, ASCII, hyphen-separated)."""
    out = []
    for ch in text.lower():
        if ch in _TRANSLIT:
            out.append(_TRANSLIT[ch])
        elif ch.isascii() and ch.isalnum():
            out.append(ch)
        else:
            out.append("-")
    return "-".join(part for part in "".join(out).split("-") if part)


# --- content model -----------------------------------------------------------------------


@dataclass(frozen=True)
class District:
    slug: str
    name: str  # as the city's residents write it (Russian)


@dataclass(frozen=True)
class City:
    slug: str
    name_ru: str
    name_en: str
    country: str
    currency: str
    districts: tuple[District, ...]

    def district(self, slug: str) -> District:
        return next(d for d in self.districts if d.slug == slug)


@dataclass(frozen=True)
class Product:
    """A product card («товар»): one фасовка of one substance, stashed in one district."""

    listing_id: str
    title: str
    shop: str  # shop slug
    city: str  # city slug
    district: str  # district slug
    substance: str  # canonical English name (vocab)
    amount: str  # "0.5" (grams) or "10" (pieces)
    unit: str  # "g" or "pcs"
    stash_type: str  # магнит / прикоп / тайник …
    delivery: str  # моментальный / предзаказ
    currency: str  # RUB / KZT / KGS
    price_local: str  # integer string, "2900"
    price_usd: str  # "31.52"
    crypto: str  # "BTC" or "USDT"
    price_crypto: str  # "0.00048512" or "31.52"
    description: str
    sold: int


@dataclass(frozen=True)
class Review:
    shop: str
    date: str  # YYYY-MM-DD
    author: str  # masked buyer name
    stars: int
    text: str
    product: str  # listing id reviewed


@dataclass(frozen=True)
class Job:
    job_id: str
    shop: str
    role: str
    city: str  # city slug
    pay: str  # as written in the ad, e.g. «от 1 500 ₽ за клад»
    terms: str
    contact: str  # Telegram username (no @)


@dataclass(frozen=True)
class Shop:
    slug: str
    name: str
    operator: str  # the operator's handle on this platform
    identity: str  # Identity.id
    slogan: str
    opened: str  # YYYY-MM-DD
    rating: str  # "4.87"
    sales: int
    cities: tuple[str, ...]  # city slugs
    districts: tuple[tuple[str, str], ...]  # (city slug, district slug) served
    crypto: str  # the equivalent shown on product cards: BTC or USDT
    bot: str  # Telegram bot username
    channel: str  # Telegram channel username
    operator_telegram: str
    hr_telegram: str
    jabber: str
    session: str  # "" if the shop shows none
    pgp_fingerprint: str  # "" if the shop shows none
    wallets: tuple[tuple[str, str], ...]  # (btc|trx|xmr|ltc, address) top-up addresses
    decoys: tuple[tuple[str, str], ...]  # look-alike addresses in the phishing warning
    reviews: tuple[Review, ...]
    jobs: tuple[Job, ...]

    def wallet(self, kind: str) -> tuple[str, ...]:
        return tuple(v for k, v in self.wallets if k == kind)


@dataclass(frozen=True)
class Platform:
    name: str
    founded: int
    rates_date: str
    usd_rates: tuple[tuple[str, str], ...]  # (currency, USD per unit), e.g. ("RUB", "0.010800")
    btc_usd: str
    cities: tuple[City, ...]
    shops: tuple[Shop, ...]
    products: tuple[Product, ...]
    wallets: tuple[tuple[str, str], ...]  # the platform's own balance top-up addresses
    exchanger_bot: str
    decoys: tuple[tuple[str, str, str], ...]  # (type, value, path)

    def city(self, slug: str) -> City:
        return next(c for c in self.cities if c.slug == slug)

    def shop(self, slug: str) -> Shop:
        return next(s for s in self.shops if s.slug == slug)

    def usd_per_unit(self, currency: str) -> Decimal:
        return Decimal(dict(self.usd_rates)[currency])

    def to_usd(self, amount: Decimal | int | str, currency: str) -> Decimal:
        """Local money in USD as the truth computes it: ``amount × USD per unit``, to cents."""
        value = Decimal(amount) * self.usd_per_unit(currency)
        return value.quantize(CENT, ROUND_HALF_UP)


def fmt_amount(amount: int) -> str:
    """``2900`` → ``"2 900"`` (a space between thousands, as Russian shops write prices)."""
    return f"{amount:,}".replace(",", " ")


def money(amount: int | str, currency: str) -> str:
    return f"{fmt_amount(int(amount))} {CURRENCY_SIGN.get(currency, currency)}"


__all__ = [
    "CURRENCY_SIGN",
    "REVIEWS_PER_PAGE",
    "City",
    "District",
    "Job",
    "Platform",
    "Product",
    "Review",
    "Shop",
    "fmt_amount",
    "money",
    "translit",
]
