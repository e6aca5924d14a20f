"""Site kind ``ru_platform``: a Russian-language automated shop platform (Hydra/Mega type).

Platform home → shops (магазин: рейтинг, отзывы, продажи) → catalogue by город → район →
product card («товар»: фасовка, price in ₽/₸/сом with a BTC or USDT-TRC20 equivalent, тип
клада, моментальный/предзаказ). Each shop shows its operator's contacts (Telegram bot and
channel, «оператор 24/7», Jabber, sometimes Session) and its balance top-up wallets (BTC,
USDT-TRC20, XMR, LTC); a «Работа» section carries job ads. Operators are shared identities
(``ctx.vendors_for``). URL structure lives here (``RuLayout``), used by both the site
(``onionlab.lab.sites.ru_platform``) and the ground truth. Depends on ``onionlab.lab.world``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from onionlab.lab.world import contacts, identifiers, vocab
from onionlab.lab.world.context import ServiceSpec, WorldContext
from onionlab.lab.world.identities import handle_on
from onionlab.lab.world.layout import Occurrence, Page
from onionlab.lab.world.model import Identity, Service, Vendor

SHOPS_PER_SCALE = 7
PRODUCTS_PER_SCALE = 390
REVIEWS_PER_PAGE = 10
COUNTRIES = ("RU", "KZ", "KG")
CITIES_MIN, CITIES_PER_SCALE = 6, 8
PROTECTED_PREFIXES: tuple[str, ...] = ("/tovar/", "/rabota")

_CENT = Decimal("0.01")
_SATOSHI = Decimal("0.00000001")
_DAY = 86400

CURRENCY_SIGN = {"RUB": "₽", "KZT": "₸", "KGS": "сом", "BYN": "BYN", "UAH": "₴"}
_PRICE_STEP = {"RUB": 50, "KZT": 500, "KGS": 50, "BYN": 1, "UAH": 10}
INSTANT, PREORDER = "моментальный", "предзаказ"

PLATFORM_NAMES = ("ТАЙГА", "ПОЛЫНЬ", "БАРХАН", "ОМУТ", "ЧАЩА", "СФИНКС", "ЗАЗЕРКАЛЬЕ")
PLATFORM_SLOGANS = (
    "Крупнейшая площадка СНГ с {year} года",
    "Автоматические продажи 24/7 · гарантия площадки",
    "Моментальные клады в {n} городах",
)
_ADJECTIVES = (
    "Белый", "Чёрный", "Северный", "Тёмный", "Золотой", "Зелёный", "Синий", "Ночной",
    "Сибирский", "Степной", "Горный", "Мятный", "Снежный", "Лунный", "Быстрый", "Южный",
)  # fmt: skip
_NOUNS = (
    "Кролик", "Лес", "Барс", "Кот", "Экспресс", "Ветер", "Кристалл", "Алхимик", "Дракон",
    "Лис", "Волк", "Шторм", "Ворон", "Филин", "Маяк", "Остров", "Медведь", "Сокол",
)  # fmt: skip
_SHOP_SUFFIXES = ("", "", "", " 24", " Shop", " Store")
_SHOP_SLOGANS = (
    "Работаем с {year} года. Только проверенный товар, вес всегда в норме.",
    "Моментальные клады по всему городу. Оператор на связи 24/7.",
    "Качество без компромиссов. Перезаклад при ненаходе по правилам площадки.",
    "Свои курьеры, свой склад. Фото и координаты сразу после оплаты.",
    "Лучшие цены в регионе, скидки постоянным покупателям.",
)

# Russian seller vocabulary by substance (matched on the canonical English name, lower case).
_FORMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("mephedrone", ("крис", "мука", "кристаллы", "крупный крис")),
    ("pvp", ("крис", "белый", "синий", "кристаллы")),
    ("methamphetamine", ("лёд", "кристаллы")),
    ("amphetamine", ("паста", "порошок", "мокрый")),
    ("cocaine", ("Перу", "Боливия", "чешуя")),
    ("mdma", ("крис", "кристаллы")),
    ("cannabis", ("AK-47", "Amnesia Haze", "White Widow", "Gorilla Glue", "Gelato", "OG Kush")),
    ("hash", ("Ice-o-lator", "Марокко", "пластилин", "Euro")),
    ("lsd", ("250 мкг", "Хофманн", "Алиса")),
    ("heroin", ("афган", "белый")),
    ("pinaca", ("микс", "рега", "жёсткий")),
    ("butinaca", ("микс", "рега")),
    ("psilocybin", ("Golden Teacher", "Б+")),
)
_TAGS = ("VHQ", "HQ", "Premium", "Люкс", "TOP", "Original", "", "", "", "")
_POPULARITY: tuple[tuple[str, float], ...] = (
    ("mephedrone", 12), ("pvp", 10), ("cannabis", 9), ("hash", 8), ("methamphetamine", 2),
    ("amphetamine", 6), ("mdma", 5), ("cocaine", 4), ("lsd", 3), ("heroin", 3),
    ("pinaca", 3), ("butinaca", 2), ("methadone", 2), ("ketamine", 2), ("psilocybin", 2),
)  # fmt: skip
_PILL_WORDS = frozenset({"колёса", "таблы", "марки"})  # not for a product sold by the gram
_GRAMS = ("0.3", "0.5", "1", "2", "5")
_GRAMS_HERB = ("1", "2", "3", "5")

_REVIEWS_GOOD = (
    "Всё нашёл с первого раза, клад на месте, вес в норме. Спасибо магазину!",
    "Магнит, всё чётко, фото точное. Качество огонь.",
    "Забрал за 5 минут, координаты точные, рекомендую.",
    "Кристаллы чистые, вес даже с плюсом. Буду брать ещё.",
    "Оператор ответил быстро, всё супер. Магазин топ.",
    "Прикоп неглубокий, нашёл сразу. Качество на 5.",
    "Беру не первый раз, ни одного ненахода. Так держать.",
    "Описание подробное, нашёл за пару минут. Товар соответствует.",
)
_REVIEWS_MIXED = (
    "Ненаход, но оператор оформил перезаклад через 3 часа — нашёл. Спасибо за решение.",
    "Перезаклад сделали, но ждал почти сутки. Товар норм.",
    "Чайки сняли клад, по фото место верное. Сделали перезаклад, 4 из 5.",
    "Недовес 0.1, оператор вернул часть на баланс. В целом нормально.",
    "Фото размытое, координаты сбиты на 30 метров. Нашёл с трудом.",
)
_REVIEWS_BAD = (
    "Ненаход. Был на месте два раза, пусто. Оператор молчит уже сутки.",
    "Ненаход, перезаклад так и не дали, открыл диспут.",
    "Пусто по координатам, второй ненаход подряд. Не рекомендую.",
)
_NICK_STARTS = ("Ки", "Ма", "Ан", "Де", "Ol", "Se", "Vl", "Ва", "Ро", "Ni", "Ал", "Ди")

# (role, how the pay is quoted, low/high USD, how often shops advertise it)
_JOBS: tuple[tuple[str, str, int, int, int], ...] = (
    ("Закладчик / курьер", "от {a} за клад", 5, 18, 6),
    ("Закладчик / курьер", "до {b} в неделю", 700, 1200, 4),
    ("Склад (складмен)", "до {b} в неделю", 900, 1600, 2),
    ("Водитель", "от {a} за рейс", 120, 350, 2),
    ("Трафаретчик", "{a}–{b} за трафарет", 3, 12, 2),
    ("Химик", "от {a} в месяц", 3000, 8000, 1),
    ("Оператор", "{a} в неделю", 300, 600, 1),
)
_JOB_TERMS = (
    "Залог от {deposit} или фото паспорта. Обучение, гибкий график.",
    "Опыт не обязателен, всему научим. Выплаты каждый день в BTC или USDT.",
    "Возраст 18+, наличие смартфона. Работа в своём районе.",
    "Строгая конспирация, только проверенные люди. Подробности у куратора.",
    "Без залога для опытных (пруфы работы в других шопах).",
)

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
        return value.quantize(_CENT, ROUND_HALF_UP)


# --- URL structure -----------------------------------------------------------------------


class RuLayout:
    """Paths of the platform; the site and the truth both build URLs from these."""

    @staticmethod
    def city_path(city: str) -> str:
        return f"/gorod/{city}"

    @staticmethod
    def shop_path(shop: str) -> str:
        return f"/magazin/{shop}"

    @staticmethod
    def shop_city_path(shop: str, city: str) -> str:
        return f"/magazin/{shop}/{city}"

    @staticmethod
    def district_path(shop: str, city: str, district: str) -> str:
        return f"/magazin/{shop}/{city}/{district}"

    @staticmethod
    def reviews_path(shop: str, number: int = 1) -> str:
        base = f"/magazin/{shop}/otzyvy"
        return base if number == 1 else f"{base}?page={number}"

    @staticmethod
    def product_path(listing_id: str) -> str:
        return f"/tovar/{listing_id}"

    @staticmethod
    def jobs_path(shop: str = "") -> str:
        return f"/rabota/{shop}" if shop else "/rabota"

    BALANCE = "/balans"
    EXCHANGE = "/obmen"
    RULES = "/pravila"

    @staticmethod
    def review_page_count(shop: Shop) -> int:
        return max(1, -(-len(shop.reviews) // REVIEWS_PER_PAGE))

    @staticmethod
    def shop_products(
        platform: Platform, shop: str, city: str = "", district: str = ""
    ) -> list[Product]:
        """Products in the order the site lists them (by substance, then price)."""
        chosen = [
            p
            for p in platform.products
            if p.shop == shop and (not city or p.city == city)
            and (not district or p.district == district)
        ]  # fmt: skip
        return sorted(chosen, key=lambda p: (p.title, int(p.price_local), p.listing_id))

    def pages(self, service: Service) -> list[Page]:
        plat: Platform = service.content
        pages = [
            Page("/", "home"),
            Page(self.BALANCE, "balance"),
            Page(self.EXCHANGE, "exchange"),
            Page(self.RULES, "rules"),
            Page(self.jobs_path(), "jobs-index"),
        ]
        pages += [Page(self.city_path(c.slug), "city", c.slug) for c in plat.cities]
        for shop in plat.shops:
            pages.append(Page(self.shop_path(shop.slug), "shop", shop.slug))
            for city in shop.cities:
                pages.append(
                    Page(self.shop_city_path(shop.slug, city), "shop-city", f"{shop.slug}/{city}")
                )
            for city, district in shop.districts:
                pages.append(
                    Page(
                        self.district_path(shop.slug, city, district),
                        "district",
                        f"{shop.slug}/{city}/{district}",
                    )
                )
            for n in range(1, self.review_page_count(shop) + 1):
                pages.append(Page(self.reviews_path(shop.slug, n), "reviews", shop.slug, n))
            pages.append(Page(self.jobs_path(shop.slug), "jobs", shop.slug))
        pages += [
            Page(self.product_path(p.listing_id), "product", p.listing_id) for p in plat.products
        ]
        return pages


LAYOUT = RuLayout()


# --- generation --------------------------------------------------------------------------


def _date(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def _today() -> int:
    """The world's "today": the date of the rates table (no clock), as epoch seconds."""
    day = datetime.strptime(vocab.rates().date, "%Y-%m-%d").replace(tzinfo=UTC)
    return int(day.timestamp())


def _keyword_value(canonical: str, table: Sequence[tuple[str, Any]], default: Any) -> Any:
    name = canonical.lower()
    for key, value in table:
        if key in name:
            return value
    return default


def fmt_amount(amount: int) -> str:
    """``2900`` → ``"2 900"`` (a space between thousands, as Russian shops write prices)."""
    return f"{amount:,}".replace(",", " ")


def money(amount: int | str, currency: str) -> str:
    return f"{fmt_amount(int(amount))} {CURRENCY_SIGN.get(currency, currency)}"


def _nice(value: Decimal, currency: str) -> int:
    """Money as job ads quote it: two significant digits (``252 800`` → ``250 000``)."""
    exact = _round_local(value, currency)
    step = max(_PRICE_STEP.get(currency, 1), 10 ** max(0, len(str(exact)) - 2))
    return max(step, int((Decimal(exact) / step).quantize(Decimal(1), ROUND_HALF_UP)) * step)


def _round_local(value: Decimal, currency: str) -> int:
    step = _PRICE_STEP.get(currency, 1)
    return max(step, int((value / step).quantize(Decimal(1), ROUND_HALF_UP)) * step)


def _usd_rates(currencies: set[str]) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The rates table's date and ``(currency, USD value of one unit)`` for ``currencies``."""
    rates = vocab.rates()
    return rates.date, tuple((cur, str(rates.usd[cur])) for cur in sorted(currencies | {"USDT"}))


def _choose_cities(rng: random.Random, scale: float) -> list[City]:
    pool = [c for c in vocab.cities() if c.country in COUNTRIES and len(c.districts) >= 3]
    by_country = {k: [c for c in pool if c.country == k] for k in COUNTRIES}
    want = min(len(pool), max(CITIES_MIN, round(CITIES_PER_SCALE * scale)))
    chosen = []
    # One city of each smaller country first, then Russian cities, then whatever is left.
    for k in ("KZ", "KG"):
        if by_country[k]:
            chosen.append(rng.choice(by_country[k]))
    rest = [c for c in by_country["RU"] if c not in chosen]
    rng.shuffle(rest)
    chosen += rest[: max(0, want - len(chosen) - 1)]
    others = [c for c in pool if c not in chosen]
    rng.shuffle(others)
    chosen += others[: max(0, want - len(chosen))]
    cities = []
    taken: set[str] = set()
    for c in chosen:
        slug = translit(c.name_en)
        while slug in taken:
            slug += "-2"
        taken.add(slug)
        districts = []
        seen: set[str] = set()
        for d in c.districts:
            dslug = translit(d)
            if dslug and dslug not in seen:
                seen.add(dslug)
                districts.append(District(dslug, d))
        cities.append(City(slug, c.name_ru, c.name_en, c.country, c.currency, tuple(districts)))
    return cities


def _shop_names(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """``count`` distinct ``(name, slug)`` pairs («Белый Кролик 24», ``belyy-krolik-24``)."""
    names: list[tuple[str, str]] = []
    taken: set[str] = set()
    tries = 0
    while len(names) < count:
        tries += 1
        adj, noun = rng.choice(_ADJECTIVES), rng.choice(_NOUNS)
        # Once the plain pairs run out (very large scales), number the shops.
        number = f" {tries}" if tries > 50 * len(_ADJECTIVES) else ""
        if adj + noun + number in taken:
            continue
        taken.add(adj + noun + number)
        name = f"{adj} {noun}{number or rng.choice(_SHOP_SUFFIXES)}"
        names.append((name, translit(name)))
    return names


def _telegram_for(slug: str, rng: random.Random, suffixes: Sequence[str]) -> str:
    base = slug.replace("-", "")[:20]
    return f"{base}{rng.choice(suffixes)}"


def _substance_pool() -> tuple[list[vocab.Substance], list[float]]:
    subs = list(vocab.substances())
    weights = [float(_keyword_value(s.canonical, _POPULARITY, 0.3)) for s in subs]
    return subs, weights


def _amounts(sub: vocab.Substance) -> tuple[str, ...]:
    """The фасовки a shop offers: small retail doses (pieces: the smallest packs)."""
    if sub.unit == "pcs":
        return sub.weights[:3]
    if Decimal(sub.weights[0]) < Decimal("0.3"):  # potent opioids: the substance's own doses
        return sub.weights
    herb = any(k in sub.canonical.lower() for k in ("cannabis", "hash", "psilocybin"))
    return _GRAMS_HERB if herb else _GRAMS


def _title(rng: random.Random, sub: vocab.Substance, amount: str, unit: str) -> str:
    ru_names = [n for n in sub.ru if n and (unit == "pcs" or n not in _PILL_WORDS)]
    ru_names = ru_names or [sub.canonical]
    name = rng.choice(ru_names)
    name = name[0].upper() + name[1:]
    parts = [name]
    forms = _keyword_value(sub.canonical, _FORMS, ())
    forms = [f for f in forms if f.lower() not in name.lower() and name.lower() not in f.lower()]
    if forms and rng.random() < 0.75:
        parts.append(rng.choice(forms))
    tag = rng.choice(_TAGS)
    if tag:
        parts.append(tag)
    if rng.random() < 0.25:
        parts.append(f"{amount}г" if unit == "g" else f"{amount}шт")
    return " ".join(parts)


def _description(rng: random.Random, stash: str, delivery: str, district: str) -> str:
    first = (
        f"Клад: {stash}, район {district}. После оплаты вы сразу получите координаты, "
        "фото и подробное описание места."
        if delivery == INSTANT
        else f"Предзаказ: клад ({stash}) будет готов в районе {district} в течение 2–6 часов."
    )
    tail = rng.choice(
        (
            "При ненаходе — перезаклад после проверки фото.",
            "Ненаход решается только с фото с места, в течение 3 часов.",
            "Фасовка в зип-пакет, дополнительно обмотано изолентой.",
            "Не забирайте клад в тёмное время суток, будьте внимательны.",
            "Вес проверен на весах, допуск ±0.02.",
        )
    )
    return f"{first} {tail}"


def _products_for(
    ctx: WorldContext,
    name: str,
    shops: list[dict[str, Any]],
    cities: dict[str, City],
    rates: dict[str, Decimal],
    count: int,
) -> list[Product]:
    rng = ctx.rng(name, "products")
    subs, weights = _substance_pool()
    stash_types = list(vocab.STASH_TYPES)
    slots = [(s["slug"], c, d) for s in shops for c, d in s["districts"]]
    assigned = list(slots)  # every district page gets at least one product
    while len(assigned) < count:
        assigned.append(rng.choice(slots))
    taken: set[str] = set()
    products = []
    for shop_slug, city_slug, district_slug in assigned:
        shop = next(s for s in shops if s["slug"] == shop_slug)
        city = cities[city_slug]
        sub = rng.choices(subs, weights)[0]
        unit = sub.unit
        amount = rng.choice(_amounts(sub))
        stash = rng.choice(stash_types)
        delivery = INSTANT if rng.random() < 0.8 else PREORDER
        usd_raw = (
            Decimal(str(sub.usd_per_g)) * Decimal(amount) ** Decimal("0.85")
            * Decimal(rng.randrange(110, 160)) / 100
            + Decimal(rng.randrange(4, 9))
        )  # fmt: skip
        rate = rates[city.currency]
        local = _round_local(usd_raw / rate, city.currency)
        usd = (Decimal(local) * rate).quantize(_CENT, ROUND_HALF_UP)
        if shop["crypto"] == "BTC":
            crypto = f"{(usd / ctx.btc_usd).quantize(_SATOSHI, ROUND_HALF_UP):.8f}"
        else:
            crypto = f"{usd:.2f}"
        while True:
            lid = str(rng.randrange(100000, 1000000))
            if lid not in taken:
                taken.add(lid)
                break
        products.append(
            Product(
                listing_id=lid,
                title=_title(rng, sub, amount, unit),
                shop=shop_slug,
                city=city_slug,
                district=district_slug,
                substance=sub.canonical,
                amount=amount,
                unit=unit,
                stash_type=stash,
                delivery=delivery,
                currency=city.currency,
                price_local=str(local),
                price_usd=f"{usd:.2f}",
                crypto=shop["crypto"],
                price_crypto=crypto,
                description=_description(rng, stash, delivery, city.district(district_slug).name),
                sold=rng.randrange(0, 400),
            )
        )
    return products


def _reviews_for(rng: random.Random, shop: str, products: list[Product], n: int) -> list[Review]:
    reviews = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.72:
            text, stars = rng.choice(_REVIEWS_GOOD), 5
        elif roll < 0.9:
            text, stars = rng.choice(_REVIEWS_MIXED), rng.choice((3, 4))
        else:
            text, stars = rng.choice(_REVIEWS_BAD), rng.choice((1, 2))
        nick = f"{rng.choice(_NICK_STARTS)}***{rng.choice('abcdeknrstxyz0123456789')}"
        reviews.append(
            Review(
                shop=shop,
                date=_date(rng.randrange(_today() - 180 * _DAY, _today())),
                author=nick,
                stars=stars,
                text=text,
                product=rng.choice(products).listing_id,
            )
        )
    reviews.sort(key=lambda r: (r.date, r.product, r.author), reverse=True)
    return reviews


def _jobs_for(
    rng: random.Random,
    shop: dict[str, Any],
    cities: dict[str, City],
    rates: dict[str, Decimal],
    taken: set[str],
) -> list[Job]:
    jobs = []
    for _ in range(rng.randrange(2, 6)):
        role, pattern, low, high, _ = rng.choices(_JOBS, [j[4] for j in _JOBS])[0]
        city = cities[rng.choice(shop["cities"])]
        rate = rates[city.currency]
        a = _nice(Decimal(low) / rate * rng.randrange(90, 111) / 100, city.currency)
        b = _nice(Decimal(high) / rate * rng.randrange(90, 111) / 100, city.currency)
        pay = pattern.format(
            a=money(a, city.currency) if "{b}" not in pattern else fmt_amount(a),
            b=money(b, city.currency),
        )
        deposit = money(_nice(Decimal(60) / rate, city.currency), city.currency)
        while True:
            job_id = f"{rng.randrange(1000, 10000)}"
            if job_id not in taken:
                taken.add(job_id)
                break
        jobs.append(
            Job(
                job_id=job_id,
                shop=shop["slug"],
                role=role,
                city=city.slug,
                pay=pay,
                terms=rng.choice(_JOB_TERMS).format(deposit=deposit),
                contact=shop["hr_telegram"] if rng.random() < 0.7 else shop["bot"],
            )
        )
    return sorted(jobs, key=lambda j: j.job_id)


def _wallets(ctx: WorldContext, name: str, person: Identity, slug: str) -> list[tuple[str, str]]:
    wallets: list[tuple[str, str]] = []
    for kind in ("btc", "trx", "xmr", "ltc"):
        own = person.wallet(kind)
        if own:
            wallets += [(kind, own[0])]
        else:
            wallets.append((kind, identifiers.make(kind, ctx.secret(name, slug, "wallet", kind))))
    return wallets


def _build_shops(
    ctx: WorldContext, name: str, cities: list[City], rates: dict[str, Decimal]
) -> tuple[list[dict[str, Any]], list[Identity]]:
    n_shops = max(3, round(SHOPS_PER_SCALE * ctx.scale))
    people = ctx.vendors_for(name, n_shops)
    n_shops = len(people)
    rng = ctx.rng(name, "shops")
    names = _shop_names(rng, n_shops)
    # Spread the cities over the shops (each city served at least once), then add extras.
    served: list[list[str]] = [[] for _ in range(n_shops)]
    for i, city in enumerate(cities):
        served[i % n_shops].append(city.slug)
    for lst in served:
        extra = [c.slug for c in cities if c.slug not in lst]
        n_extra = rng.randrange(0 if lst else 1, 3 - min(2, len(lst)))
        for slug in rng.sample(extra, min(len(extra), n_extra)):
            lst.append(slug)
    order = {c.slug: i for i, c in enumerate(cities)}
    by_slug = {c.slug: c for c in cities}
    shops = []
    for k, (person, (shop_name, slug)) in enumerate(zip(people, names, strict=True)):
        srng = ctx.rng(name, "shop", slug)
        shop_cities = sorted(served[k], key=order.__getitem__)
        districts: list[tuple[str, str]] = []
        for c in shop_cities:
            pool = list(by_slug[c].districts)
            for d in srng.sample(pool, min(len(pool), srng.randrange(3, 7))):
                districts.append((c, d.slug))
        districts.sort(key=lambda cd: (order[cd[0]], cd[1]))
        operator_tg = person.contact("telegram")
        jabber = person.contact("jabber")
        session = person.contact("session")
        shows_session = srng.random() < 0.5
        shops.append(
            {
                "slug": slug,
                "name": shop_name,
                "person": person,
                "operator": handle_on(person, name, ctx.seed),
                "cities": shop_cities,
                "districts": districts,
                "crypto": "BTC" if srng.random() < 0.6 else "USDT",
                "bot": _telegram_for(slug, srng, ("_bot", "_shop_bot", "24_bot", "_robot")),
                "channel": _telegram_for(slug, srng, ("_channel", "_news", "_official", "_info")),
                "operator_telegram": operator_tg[0] if operator_tg else contacts.telegram(srng),
                "hr_telegram": contacts.telegram(srng),
                "jabber": jabber[0] if jabber else contacts.jabber(srng),
                "session": (
                    (session[0] if session else contacts.session_id(ctx.secret(name, slug, "ses")))
                    if shows_session
                    else ""
                ),
                "pgp": person.pgp.fingerprint if srng.random() < 0.5 else "",
                "wallets": _wallets(ctx, name, person, slug),
                "opened": _date(srng.randrange(_today() - 5 * 365 * _DAY, _today() - 200 * _DAY)),
                "sales": srng.randrange(800, 60000),
                "slogan": srng.choice(_SHOP_SLOGANS),
                "n_reviews": max(3, round(srng.randrange(12, 31) * ctx.scale)),
                "decoys": [
                    (kind, identifiers.decoy(kind, ctx.secret(name, slug, "decoy", kind)))
                    for kind in srng.sample(("btc", "trx", "xmr", "ltc"), srng.randrange(0, 3))
                ],
            }
        )
    return shops, people


def _build(ctx: WorldContext, spec: ServiceSpec) -> Service:
    name = spec.name
    rng = ctx.rng(name, "platform")
    cities = _choose_cities(ctx.rng(name, "cities"), ctx.scale)
    rates_date, usd_rates = _usd_rates({c.currency for c in cities})
    rates = {cur: Decimal(v) for cur, v in usd_rates}
    by_city = {c.slug: c for c in cities}
    shop_dicts, _ = _build_shops(ctx, name, cities, rates)
    n_products = max(
        sum(len(s["districts"]) for s in shop_dicts), round(PRODUCTS_PER_SCALE * ctx.scale)
    )
    products = _products_for(ctx, name, shop_dicts, by_city, rates, n_products)
    jobs_taken: set[str] = set()
    shops = []
    for s in shop_dicts:
        srng = ctx.rng(name, "shop-extra", s["slug"])
        own = [p for p in products if p.shop == s["slug"]]
        reviews = _reviews_for(srng, s["slug"], own, s["n_reviews"])
        stars = Decimal(sum(r.stars for r in reviews)) / len(reviews)
        shops.append(
            Shop(
                slug=s["slug"],
                name=s["name"],
                operator=s["operator"],
                identity=s["person"].id,
                slogan=s["slogan"].format(year=s["opened"][:4]),
                opened=s["opened"],
                rating=f"{stars.quantize(_CENT, ROUND_HALF_UP):.2f}",
                sales=s["sales"],
                cities=tuple(s["cities"]),
                districts=tuple(s["districts"]),
                crypto=s["crypto"],
                bot=s["bot"],
                channel=s["channel"],
                operator_telegram=s["operator_telegram"],
                hr_telegram=s["hr_telegram"],
                jabber=s["jabber"],
                session=s["session"],
                pgp_fingerprint=s["pgp"],
                wallets=tuple(s["wallets"]),
                decoys=tuple(s["decoys"]),
                reviews=tuple(reviews),
                jobs=tuple(_jobs_for(srng, s, by_city, rates, jobs_taken)),
            )
        )
    platform_wallets = tuple(
        (kind, identifiers.make(kind, ctx.secret(name, "platform", kind)))
        for kind in ("btc", "trx", "xmr", "ltc")
    )
    decoys = [
        (kind, identifiers.decoy(kind, ctx.secret(name, "platform-old", kind)), RuLayout.BALANCE)
        for kind in ("btc", "trx")
    ]
    decoys.append(("btc", identifiers.decoy("btc", ctx.secret(name, "exchanger-old")), "/obmen"))
    decoys.append(("onion", identifiers.onion_decoy(ctx.secret(name, "phishing-onion")), "/"))
    founded = rng.randrange(2018, 2021)
    vendors = tuple(
        sorted(
            (
                Vendor(
                    handle=s["operator"],
                    country=s["person"].country,
                    joined=s["opened"],
                    bio=s["name"],
                    pgp=s["person"].pgp,
                    btc=tuple(v for k, v in s["wallets"] if k == "btc"),
                    rating=next(sh.rating for sh in shops if sh.slug == s["slug"]),
                    sales=s["sales"],
                    identity=s["person"].id,
                )
                for s in shop_dicts
            ),
            key=lambda v: v.handle.lower(),
        )
    )
    platform = Platform(
        name=rng.choice(PLATFORM_NAMES),
        founded=founded,
        rates_date=rates_date,
        usd_rates=usd_rates,
        btc_usd=f"{ctx.btc_usd:.2f}",
        cities=tuple(cities),
        shops=tuple(shops),
        products=tuple(products),
        wallets=platform_wallets,
        exchanger_bot=contacts.telegram(rng, bot=True),
        decoys=tuple(decoys),
    )
    tagline = rng.choice(PLATFORM_SLOGANS).format(year=founded, n=len(cities))
    return Service(
        name=name,
        kind="ru_platform",
        title=platform.name,
        onion=ctx.onion(name),
        vendors=vendors,
        tagline=tagline,
        mirrors=ctx.mirrors(spec),
        content=platform,
    )


def build(ctx: WorldContext, spec: ServiceSpec) -> Service:
    """The platform: cities, shops with operators from the shared pool, products, jobs."""
    return _build(ctx, spec)


# --- truth -------------------------------------------------------------------------------


def pages(service: Service) -> list[Page]:
    return LAYOUT.pages(service)


def occurrences(service: Service) -> list[Occurrence]:
    """Home: the platform's onion(s); /balans: the platform's wallets; /obmen: the exchanger
    bot; each shop page: its contacts, top-up wallets and (sometimes) PGP fingerprint; each
    shop's jobs page: the Telegram contacts of its ads. Product cards show no identifiers."""
    plat: Platform = service.content
    found = [Occurrence("onion", a.removesuffix(".onion"), "/") for _, a in service.addresses]
    found += [Occurrence(k, v, RuLayout.BALANCE) for k, v in plat.wallets]
    found.append(Occurrence("telegram", plat.exchanger_bot, RuLayout.EXCHANGE))
    for shop in plat.shops:
        path = LAYOUT.shop_path(shop.slug)
        found += [
            Occurrence("telegram", shop.bot, path),
            Occurrence("telegram", shop.channel, path),
            Occurrence("telegram", shop.operator_telegram, path),
            Occurrence("jabber", shop.jabber, path),
        ]
        server = shop.jabber.rpartition("@")[2]
        if server.endswith(".onion"):  # a Jabber server on an onion host shows that onion too
            found.append(Occurrence("onion", server.removesuffix(".onion"), path))
        if shop.session:
            found.append(Occurrence("session", shop.session, path))
        if shop.pgp_fingerprint:
            found.append(Occurrence("pgp_fingerprint", shop.pgp_fingerprint, path))
        found += [Occurrence(k, v, path) for k, v in shop.wallets]
        jobs = LAYOUT.jobs_path(shop.slug)
        found += [Occurrence("telegram", c, jobs) for c in sorted({j.contact for j in shop.jobs})]
    return found


def decoys(service: Service) -> list[Occurrence]:
    plat: Platform = service.content
    found = [Occurrence(k, v, p) for k, v, p in plat.decoys]
    for shop in plat.shops:
        found += [Occurrence(k, v, LAYOUT.shop_path(shop.slug)) for k, v in shop.decoys]
    return found


def _quantity(p: Product) -> dict[str, str]:
    if p.unit == "g":
        return {"weight_g": p.amount, "unit": "g", "quantity": p.amount}
    return {"unit": "pcs", "quantity": p.amount}


def truth_listings(service: Service) -> list[dict[str, Any]]:
    plat: Platform = service.content
    base = f"http://{service.onion.lower()}"
    shops = {s.slug: s for s in plat.shops}
    out = []
    for p in plat.products:
        city = plat.city(p.city)
        out.append(
            {
                "site": service.name,
                "listing_id": p.listing_id,
                "url": base + LAYOUT.product_path(p.listing_id),
                "title": p.title,
                "shop": shops[p.shop].name,
                "vendor": shops[p.shop].operator,
                "substance": p.substance,
                **_quantity(p),
                "city": city.name_en,
                "country": city.country,
                "district": city.district(p.district).name,
                "stash_type": p.stash_type,
                "delivery": p.delivery,
                "currency": p.currency,
                "price_local": p.price_local,
                "price_usd": p.price_usd,
                "price_crypto": p.price_crypto,
                "crypto_currency": p.crypto,
            }
        )
    return out


def truth_vendors(service: Service) -> list[dict[str, Any]]:
    plat: Platform = service.content
    base = f"http://{service.onion.lower()}"
    return [
        {
            "site": service.name,
            "handle": s.operator,
            "identity": s.identity,
            "shop": s.name,
            "url": base + LAYOUT.shop_path(s.slug),
            "pgp_fingerprint": s.pgp_fingerprint or None,
            "btc": sorted(s.wallet("btc")),
            "trx": sorted(s.wallet("trx")),
            "xmr": sorted(s.wallet("xmr")),
            "ltc": sorted(s.wallet("ltc")),
            "telegram": [s.operator_telegram, s.bot, s.channel],
            "jabber": [s.jabber],
            "session": [s.session] if s.session else [],
            "rating": s.rating,
            "sales": s.sales,
            "reviews": len(s.reviews),
            "cities": [plat.city(c).name_en for c in s.cities],
        }
        for s in plat.shops
    ]


def truth_jobs(service: Service) -> list[dict[str, Any]]:
    """The job ads (not yet part of ``truth.json``; exported for a future ``jobs`` section)."""
    plat: Platform = service.content
    base = f"http://{service.onion.lower()}"
    return [
        {
            "site": service.name,
            "job_id": j.job_id,
            "url": base + LAYOUT.jobs_path(s.slug),
            "shop": s.name,
            "role": j.role,
            "city": plat.city(j.city).name_en,
            "pay": j.pay,
            "contact": j.contact,
        }
        for s in plat.shops
        for j in s.jobs
    ]


__all__: list[str] = [
    "LAYOUT",
    "PROTECTED_PREFIXES",
    "City",
    "District",
    "Job",
    "Platform",
    "Product",
    "Review",
    "RuLayout",
    "Shop",
    "build",
    "decoys",
    "occurrences",
    "pages",
    "truth_jobs",
    "truth_listings",
    "truth_vendors",
]
