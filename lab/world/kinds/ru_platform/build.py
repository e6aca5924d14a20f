"""Builds the platform service: cities, shops with operators from the shared pool, wares.

Depends on ``onionlab.lab.world`` and the platform's modules.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from onionlab.lab.world import contacts, identifiers
from onionlab.lab.world.context import ServiceSpec, WorldContext
from onionlab.lab.world.identities import handle_on
from onionlab.lab.world.kinds.ru_platform.content import (
    CENT,
    DAY,
    PRODUCTS_PER_SCALE,
    SHOPS_PER_SCALE,
    City,
    Platform,
    Shop,
)
from onionlab.lab.world.kinds.ru_platform.drawing import (
    choose_cities,
    date_of,
    shop_names,
    telegram_for,
    today,
    usd_rates_of,
)
from onionlab.lab.world.kinds.ru_platform.paths import RuLayout
from onionlab.lab.world.kinds.ru_platform.products import (
    jobs_for,
    products_for,
    reviews_for,
    wallets,
)
from onionlab.lab.world.kinds.ru_platform.words import (
    PLATFORM_NAMES,
    PLATFORM_SLOGANS,
    SHOP_SLOGANS,
)
from onionlab.lab.world.model import Identity, Service, Vendor


def build_shops(
    ctx: WorldContext, name: str, cities: list[City], rates: dict[str, Decimal]
) -> tuple[list[dict[str, Any]], list[Identity]]:
    n_shops = max(3, round(SHOPS_PER_SCALE * ctx.scale))
    people = ctx.vendors_for(name, n_shops)
    n_shops = len(people)
    rng = ctx.rng(name, "shops")
    names = shop_names(rng, n_shops)
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
                "bot": telegram_for(slug, srng, ("_bot", "_shop_bot", "24_bot", "_robot")),
                "channel": telegram_for(slug, srng, ("_channel", "_news", "_official", "_info")),
                "operator_telegram": operator_tg[0] if operator_tg else contacts.telegram(srng),
                "hr_telegram": contacts.telegram(srng),
                "jabber": jabber[0] if jabber else contacts.jabber(srng),
                "session": (
                    (session[0] if session else contacts.session_id(ctx.secret(name, slug, "ses")))
                    if shows_session
                    else ""
                ),
                "pgp": person.pgp.fingerprint if srng.random() < 0.5 else "",
                "wallets": wallets(ctx, name, person, slug),
                "opened": date_of(srng.randrange(today() - 5 * 365 * DAY, today() - 200 * DAY)),
                "sales": srng.randrange(800, 60000),
                "slogan": srng.choice(SHOP_SLOGANS),
                "n_reviews": max(3, round(srng.randrange(12, 31) * ctx.scale)),
                "decoys": [
                    (kind, identifiers.decoy(kind, ctx.secret(name, slug, "decoy", kind)))
                    for kind in srng.sample(("btc", "trx", "xmr", "ltc"), srng.randrange(0, 3))
                ],
            }
        )
    return shops, people


def build_platform(ctx: WorldContext, spec: ServiceSpec) -> Service:
    name = spec.name
    rng = ctx.rng(name, "platform")
    cities = choose_cities(ctx.rng(name, "cities"), ctx.scale)
    rates_date, usd_rates = usd_rates_of({c.currency for c in cities})
    rates = {cur: Decimal(v) for cur, v in usd_rates}
    by_city = {c.slug: c for c in cities}
    shop_dicts, _ = build_shops(ctx, name, cities, rates)
    n_products = max(
        sum(len(s["districts"]) for s in shop_dicts), round(PRODUCTS_PER_SCALE * ctx.scale)
    )
    products = products_for(ctx, name, shop_dicts, by_city, rates, n_products)
    jobs_taken: set[str] = set()
    shops = []
    for s in shop_dicts:
        srng = ctx.rng(name, "shop-extra", s["slug"])
        own = [p for p in products if p.shop == s["slug"]]
        reviews = reviews_for(srng, s["slug"], own, s["n_reviews"])
        stars = Decimal(sum(r.stars for r in reviews)) / len(reviews)
        shops.append(
            Shop(
                slug=s["slug"],
                name=s["name"],
                operator=s["operator"],
                identity=s["person"].id,
                slogan=s["slogan"].format(year=s["opened"][:4]),
                opened=s["opened"],
                rating=f"{stars.quantize(CENT, ROUND_HALF_UP):.2f}",
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
                jobs=tuple(jobs_for(srng, s, by_city, rates, jobs_taken)),
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
    return build_platform(ctx, spec)
