"""The platform's small draws and formats: dates, local prices, cities, shop names, titles.

Depends on ``onionlab.lab.world`` and the platform's content and words.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from onionlab.lab.world import vocab
from onionlab.lab.world.kinds.ru_platform.content import (
    CITIES_MIN,
    CITIES_PER_SCALE,
    COUNTRIES,
    INSTANT,
    PRICE_STEP,
    City,
    District,
    translit,
)
from onionlab.lab.world.kinds.ru_platform.words import (
    ADJECTIVES,
    FORMS,
    GRAMS,
    GRAMS_HERB,
    NOUNS,
    PILL_WORDS,
    POPULARITY,
    SHOP_SUFFIXES,
    TAGS,
)


def date_of(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def today() -> int:
    """The world's "today": the date of the rates table (no clock), as epoch seconds."""
    day = datetime.strptime(vocab.rates().date, "%Y-%m-%d").replace(tzinfo=UTC)
    return int(day.timestamp())


def keyword_value(canonical: str, table: Sequence[tuple[str, Any]], default: Any) -> Any:
    name = canonical.lower()
    for key, value in table:
        if key in name:
            return value
    return default


def nice(value: Decimal, currency: str) -> int:
    """Money as job ads quote it: two significant digits (``252 800`` → ``250 000``)."""
    exact = round_local(value, currency)
    step = max(PRICE_STEP.get(currency, 1), 10 ** max(0, len(str(exact)) - 2))
    return max(step, int((Decimal(exact) / step).quantize(Decimal(1), ROUND_HALF_UP)) * step)


def round_local(value: Decimal, currency: str) -> int:
    step = PRICE_STEP.get(currency, 1)
    return max(step, int((value / step).quantize(Decimal(1), ROUND_HALF_UP)) * step)


def usd_rates_of(currencies: set[str]) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The rates table's date and ``(currency, USD value of one unit)`` for ``currencies``."""
    rates = vocab.rates()
    return rates.date, tuple((cur, str(rates.usd[cur])) for cur in sorted(currencies | {"USDT"}))


def choose_cities(rng: random.Random, scale: float) -> list[City]:
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


def shop_names(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """``count`` distinct ``(name, slug)`` pairs («Белый Кролик 24», ``belyy-krolik-24``)."""
    names: list[tuple[str, str]] = []
    taken: set[str] = set()
    tries = 0
    while len(names) < count:
        tries += 1
        adj, noun = rng.choice(ADJECTIVES), rng.choice(NOUNS)
        # Once the plain pairs run out (very large scales), number the shops.
        number = f" {tries}" if tries > 50 * len(ADJECTIVES) else ""
        if adj + noun + number in taken:
            continue
        taken.add(adj + noun + number)
        name = f"{adj} {noun}{number or rng.choice(SHOP_SUFFIXES)}"
        names.append((name, translit(name)))
    return names


def telegram_for(slug: str, rng: random.Random, suffixes: Sequence[str]) -> str:
    base = slug.replace("-", "")[:20]
    return f"{base}{rng.choice(suffixes)}"


def substance_pool() -> tuple[list[vocab.Substance], list[float]]:
    subs = list(vocab.substances())
    weights = [float(keyword_value(s.canonical, POPULARITY, 0.3)) for s in subs]
    return subs, weights


def amounts_of(sub: vocab.Substance) -> tuple[str, ...]:
    """The фасовки a shop offers: small retail doses (pieces: the smallest packs)."""
    if sub.unit == "pcs":
        return sub.weights[:3]
    if Decimal(sub.weights[0]) < Decimal("0.3"):  # potent opioids: the substance's own doses
        return sub.weights
    herb = any(k in sub.canonical.lower() for k in ("cannabis", "hash", "psilocybin"))
    return GRAMS_HERB if herb else GRAMS


def product_title(rng: random.Random, sub: vocab.Substance, amount: str, unit: str) -> str:
    ru_names = [n for n in sub.ru if n and (unit == "pcs" or n not in PILL_WORDS)]
    ru_names = ru_names or [sub.canonical]
    name = rng.choice(ru_names)
    name = name[0].upper() + name[1:]
    parts = [name]
    forms = keyword_value(sub.canonical, FORMS, ())
    forms = [f for f in forms if f.lower() not in name.lower() and name.lower() not in f.lower()]
    if forms and rng.random() < 0.75:
        parts.append(rng.choice(forms))
    tag = rng.choice(TAGS)
    if tag:
        parts.append(tag)
    if rng.random() < 0.25:
        parts.append(f"{amount}г" if unit == "g" else f"{amount}шт")
    return " ".join(parts)


def product_description(rng: random.Random, stash: str, delivery: str, district: str) -> str:
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
