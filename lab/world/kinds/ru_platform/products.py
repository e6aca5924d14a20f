"""The platform's shop wares: products per city and district, reviews, job ads, wallets.

Depends on ``onionlab.lab.world`` and the platform's content, words and draws.
"""

from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from onionlab.lab.world import identifiers, vocab
from onionlab.lab.world.context import WorldContext
from onionlab.lab.world.kinds.ru_platform.content import (
    CENT,
    DAY,
    INSTANT,
    PREORDER,
    SATOSHI,
    City,
    Job,
    Product,
    Review,
    fmt_amount,
    money,
)
from onionlab.lab.world.kinds.ru_platform.drawing import (
    amounts_of,
    date_of,
    nice,
    product_description,
    product_title,
    round_local,
    substance_pool,
    today,
)
from onionlab.lab.world.kinds.ru_platform.words import (
    JOB_TERMS,
    JOBS,
    NICK_STARTS,
    REVIEWS_BAD,
    REVIEWS_GOOD,
    REVIEWS_MIXED,
)
from onionlab.lab.world.model import Identity


def products_for(
    ctx: WorldContext,
    name: str,
    shops: list[dict[str, Any]],
    cities: dict[str, City],
    rates: dict[str, Decimal],
    count: int,
) -> list[Product]:
    rng = ctx.rng(name, "products")
    subs, weights = substance_pool()
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
        amount = rng.choice(amounts_of(sub))
        stash = rng.choice(stash_types)
        delivery = INSTANT if rng.random() < 0.8 else PREORDER
        usd_raw = (
            Decimal(str(sub.usd_per_g)) * Decimal(amount) ** Decimal("0.85")
            * Decimal(rng.randrange(110, 160)) / 100
            + Decimal(rng.randrange(4, 9))
        )  # fmt: skip
        rate = rates[city.currency]
        local = round_local(usd_raw / rate, city.currency)
        usd = (Decimal(local) * rate).quantize(CENT, ROUND_HALF_UP)
        if shop["crypto"] == "BTC":
            crypto = f"{(usd / ctx.btc_usd).quantize(SATOSHI, ROUND_HALF_UP):.8f}"
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
                title=product_title(rng, sub, amount, unit),
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
                description=product_description(
                    rng, stash, delivery, city.district(district_slug).name
                ),
                sold=rng.randrange(0, 400),
            )
        )
    return products


def reviews_for(rng: random.Random, shop: str, products: list[Product], n: int) -> list[Review]:
    reviews = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.72:
            text, stars = rng.choice(REVIEWS_GOOD), 5
        elif roll < 0.9:
            text, stars = rng.choice(REVIEWS_MIXED), rng.choice((3, 4))
        else:
            text, stars = rng.choice(REVIEWS_BAD), rng.choice((1, 2))
        nick = f"{rng.choice(NICK_STARTS)}***{rng.choice('abcdeknrstxyz0123456789')}"
        reviews.append(
            Review(
                shop=shop,
                date=date_of(rng.randrange(today() - 180 * DAY, today())),
                author=nick,
                stars=stars,
                text=text,
                product=rng.choice(products).listing_id,
            )
        )
    reviews.sort(key=lambda r: (r.date, r.product, r.author), reverse=True)
    return reviews


def jobs_for(
    rng: random.Random,
    shop: dict[str, Any],
    cities: dict[str, City],
    rates: dict[str, Decimal],
    taken: set[str],
) -> list[Job]:
    jobs = []
    for _ in range(rng.randrange(2, 6)):
        role, pattern, low, high, _ = rng.choices(JOBS, [j[4] for j in JOBS])[0]
        city = cities[rng.choice(shop["cities"])]
        rate = rates[city.currency]
        a = nice(Decimal(low) / rate * rng.randrange(90, 111) / 100, city.currency)
        b = nice(Decimal(high) / rate * rng.randrange(90, 111) / 100, city.currency)
        pay = pattern.format(
            a=money(a, city.currency) if "{b}" not in pattern else fmt_amount(a),
            b=money(b, city.currency),
        )
        deposit = money(nice(Decimal(60) / rate, city.currency), city.currency)
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
                terms=rng.choice(JOB_TERMS).format(deposit=deposit),
                contact=shop["hr_telegram"] if rng.random() < 0.7 else shop["bot"],
            )
        )
    return sorted(jobs, key=lambda j: j.job_id)


def wallets(ctx: WorldContext, name: str, person: Identity, slug: str) -> list[tuple[str, str]]:
    wallets: list[tuple[str, str]] = []
    for kind in ("btc", "trx", "xmr", "ltc"):
        own = person.wallet(kind)
        if own:
            wallets += [(kind, own[0])]
        else:
            wallets.append((kind, identifiers.make(kind, ctx.secret(name, slug, "wallet", kind))))
    return wallets
