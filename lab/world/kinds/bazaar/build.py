"""Builds the bazaar: brand, stores from the shared identity pool, items, reviews, news.

Depends on ``onionlab.lab.world`` and the bazaar's content, paths and words.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from onionlab.lab.world import identifiers, vocab
from onionlab.lab.world.context import ServiceSpec, WorldContext
from onionlab.lab.world.data_files import load_data
from onionlab.lab.world.identities import handle_on
from onionlab.lab.world.kinds.bazaar.content import (
    CENT,
    CONTACT_TYPES,
    FEATURED,
    LISTINGS_PER_SCALE,
    MAX_TIERS,
    PER_PAGE,
    PICONERO_SHOWN,
    SATOSHI,
    VENDORS_PER_SCALE,
    BazaarContent,
    Item,
    NewsPost,
    Review,
    Store,
    Tier,
)
from onionlab.lab.world.kinds.bazaar.words import LEGACY_MARKETS, REVIEWS, SHIPPING
from onionlab.lab.world.model import Category, Identity, Listing, Service, Vendor
from onionlab.lab.world.pgp import make_key

ESCROW_FE = "FE"
ESCROW = "Escrow"


def _date(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def _ts(day: str) -> int:
    return int(datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC).timestamp())


def _amount(value: Decimal) -> str:
    """A weight or unit count without trailing zeros ("3.5", "28", "0.5")."""
    return format(value.normalize(), "f")


def _brand(ctx: WorldContext, name: str) -> tuple[str, str, int]:
    names = load_data("names.json")
    rng = ctx.rng(name, "identity")
    taken = {svc.title for svc in ctx.built.values()}
    firsts = list(names["market_first"])
    rng.shuffle(firsts)
    seconds = ["Bazaar", *[s for s in names["market_second"] if s != "Bazaar"]]
    brand = next(
        f"{first} {second}"
        for second in seconds
        for first in firsts
        if f"{first} {second}" not in taken
    )
    founded = rng.randrange(2020, 2023)
    tagline = rng.choice(names["market_slogans"]).format(year=founded)
    return brand, tagline, founded


def _price_tiers(
    rng: random.Random, usd_per_unit: Decimal, amounts: list[Decimal], per: dict[str, Decimal]
) -> tuple[Tier, ...]:
    factor = Decimal(rng.randrange(88, 125)) / 100
    tiers = []
    for amount in amounts:
        raw = usd_per_unit * amount ** Decimal("0.82") * factor
        usd = max(Decimal(4), raw.quantize(Decimal(1), ROUND_HALF_UP))
        eur = (usd / per["EUR"]).quantize(CENT, ROUND_HALF_UP)
        btc = (usd / per["BTC"]).quantize(SATOSHI, ROUND_HALF_UP)
        xmr = (usd / per["XMR"]).quantize(PICONERO_SHOWN, ROUND_HALF_UP)
        tiers.append(Tier(_amount(amount), f"{usd:.2f}", f"{eur:.2f}", f"{btc:.8f}", f"{xmr:.6f}"))
    return tuple(tiers)


def _usd_per(ctx: WorldContext) -> tuple[str, dict[str, Decimal]]:
    """The story date and the USD value of one EUR, BTC and XMR.

    BTC uses the world's own rate (``ctx.btc_usd``, as the market does), EUR and XMR the
    world's dated rate table (``vocab.rates()``).
    """
    table = vocab.rates()
    return table.date, {"EUR": table.usd["EUR"], "BTC": ctx.btc_usd, "XMR": table.usd["XMR"]}


def _mask(rng: random.Random) -> str:
    alphabet = "abcdefghijkmnpqrstuvwxyz"
    return f"{rng.choice(alphabet)}***{rng.randrange(10)}"


def _elsewhere(
    ctx: WorldContext, person: Identity, rng: random.Random
) -> tuple[tuple[str, str, int], ...]:
    found = []
    for svc in ctx.built.values():
        if svc.kind != "market" or svc.clone_of:
            continue
        for ven in svc.vendors:
            if ven.identity == person.id:
                found.append((svc.title, ven.rating, ven.sales))
    if rng.random() < 0.4:
        legacy = rng.choice(LEGACY_MARKETS)
        found.append(
            (legacy, f"{Decimal(rng.randrange(950, 1001)) / 10:.1f}", rng.randrange(40, 3000))
        )
    return tuple(found)


def _contacts(person: Identity) -> tuple[tuple[str, str], ...]:
    return tuple((t, v) for t in CONTACT_TYPES for v in person.contact(t))


def _build_stores(
    ctx: WorldContext, name: str, count: int, since: int, until: int, slugs: list[str]
) -> tuple[list[Vendor], dict[str, Store], dict[str, list[str]]]:
    names = load_data("names.json")
    rng = ctx.rng(name, "stores")
    people = ctx.vendors_for(name, count)
    vendors: list[Vendor] = []
    stores: dict[str, Store] = {}
    specialties: dict[str, list[str]] = {}
    order = list(slugs)
    rng.shuffle(order)
    for k, person in enumerate(people):
        handle = handle_on(person, name, ctx.seed)
        primary = order[k % len(order)]
        specialties[handle] = [primary, *rng.sample([s for s in order if s != primary], 2)]
        joined = _date(rng.randrange(since, until))
        positive = rng.randrange(5, 2500)
        neutral = rng.randrange(0, max(1, positive // 40))
        negative = rng.randrange(0, max(1, positive // 60))
        rating = (Decimal(positive) * 100 / (positive + neutral + negative)).quantize(
            Decimal("0.1"), ROUND_HALF_UP
        )
        vendors.append(
            Vendor(
                handle=handle,
                country=person.country,
                joined=joined,
                bio=rng.choice(names["vendor_bios"]).format(year=joined[:4]),
                pgp=person.pgp,
                btc=person.wallet("btc"),
                rating=f"{rating:.1f}",
                sales=positive + neutral + negative + rng.randrange(0, 200),
                identity=person.id,
            )
        )
        old: list[tuple[str, str]] = []
        # An "old address - do not use" that fails its checksum: the first store always
        # shows a BTC one, the second an XMR one, others now and then.
        if k == 0 or (k > 1 and rng.random() < 0.25):
            old.append(("btc", identifiers.decoy("btc", ctx.secret(name, "old-btc", person.id))))
        if k == 1 or (k > 1 and rng.random() < 0.15):
            old.append(("xmr", identifiers.decoy("xmr", ctx.secret(name, "old-xmr", person.id))))
        stores[handle] = Store(
            handle=handle,
            level=min(10, 1 + positive // 250),
            bond_usd=rng.choice(("0.00", "250.00", "500.00", "1000.00")),
            last_seen="",  # filled in once the story date is known
            positive=positive,
            neutral=neutral,
            negative=negative,
            disputes=rng.randrange(0, 1 + negative),
            xmr=person.wallet("xmr"),
            contacts=_contacts(person),
            old_wallets=tuple(old),
            elsewhere=_elsewhere(ctx, person, rng),
            reviews=(),
        )
    return vendors, stores, specialties


def build(ctx: WorldContext, spec: ServiceSpec) -> Service:
    """The bazaar: ~300 listings from ~25 vendors at scale 1, one mirror."""
    name = spec.name
    brand, tagline, founded = _brand(ctx, name)
    since = int(datetime(founded, 1, 1, tzinfo=UTC).timestamp())
    story, per = _usd_per(ctx)
    today = date.fromisoformat(story)

    cat_names = {c["slug"]: c["name"] for c in load_data("substances.json")["categories"]}
    cat_weights = {c["slug"]: c["weight"] for c in load_data("substances.json")["categories"]}
    by_cat: dict[str, list[Any]] = {}
    for sub in vocab.substances():  # Western listings are sold by weight (grams)
        if sub.category in cat_names and sub.unit == "g":
            by_cat.setdefault(sub.category, []).append(sub)
    slugs = [s for s in cat_names if s in by_cat]

    n_listings = max(1, round(LISTINGS_PER_SCALE * ctx.scale))
    n_vendors = max(1, min(n_listings, round(VENDORS_PER_SCALE * ctx.scale)))
    until = _ts(story) - 86400 * 60
    vendors, stores, specialties = _build_stores(ctx, name, n_vendors, since, until, slugs)
    by_handle = {v.handle: v for v in vendors}

    rng = ctx.rng(name, "items")
    plan: list[tuple[str, str]] = [(v.handle, specialties[v.handle][0]) for v in vendors]
    for slug in slugs:
        if all(c != slug for _, c in plan):
            experts = [h for h, sp in specialties.items() if slug in sp]
            plan.append((rng.choice(experts or list(specialties)), slug))
    while len(plan) < n_listings:
        slug = rng.choices(slugs, [cat_weights[s] for s in slugs])[0]
        experts = [h for h, sp in specialties.items() if slug in sp]
        plan.append((rng.choice(experts or list(specialties)), slug))
    plan = plan[:n_listings]

    names = load_data("names.json")
    tags = load_data("substances.json")["tags"]
    listings: list[Listing] = []
    items: list[Item] = []
    taken: set[int] = set()
    end = _ts(story)
    for handle, slug in plan:
        vendor = by_handle[handle]
        sub = rng.choice(by_cat[slug])
        unit, amounts = sub.unit, [Decimal(w) for w in sub.weights]
        start = rng.randrange(max(1, len(amounts) - 1)) if len(amounts) > 1 else 0
        tier_amounts = amounts[start : start + rng.randrange(1, MAX_TIERS + 1)]
        tiers = _price_tiers(rng, Decimal(sub.usd_per_g), tier_amounts, per)
        label = rng.choice(list(sub.names or sub.en))
        tag = rng.choice(tags)
        base = tiers[0].amount
        shown = f"{base}g" if unit == "g" else f"{base}x"
        title = f"[{shown}] {label}" if rng.random() < 0.3 else f"{label} - {shown}"
        if tag:
            title = f"{title} {tag}"
        lid = rng.randrange(10_000, 100_000)
        while lid in taken:
            lid = rng.randrange(10_000, 100_000)
        taken.add(lid)
        joined = _ts(vendor.joined)
        posted = _date(rng.randrange(joined, max(joined + 86400, end)))
        description = rng.choice(names["descriptions"]).format(
            name=label, form=rng.choice(list(sub.forms) or ["batch"]), ships_from=vendor.country
        )
        tail = rng.choice(names["description_tails"])
        if tail:
            description = f"{description} {tail}"
        listings.append(
            Listing(
                listing_id=str(lid),
                title=title,
                vendor=handle,
                category=slug,
                substance=sub.canonical,
                weight_g=base,
                price_usd=tiers[0].price_usd,
                price_btc=tiers[0].price_btc,
                ships_from=vendor.country,
                ships_to=rng.choice(names["ships_to"]),
                description=description,
                posted=posted,
                sold=rng.randrange(0, 700),
            )
        )
        shipping = tuple(
            (option, rng.choice(prices))
            for option, prices in sorted(rng.sample(SHIPPING, rng.randrange(1, 4)))
        )
        items.append(
            Item(
                listing_id=str(lid),
                unit=unit,
                tiers=tiers,
                stock=rng.randrange(0, 400),
                views=rng.randrange(20, 9000),
                escrow=ESCROW_FE if stores[handle].level >= 5 and rng.random() < 0.3 else ESCROW,
                shipping=shipping,
            )
        )

    # Feedback: a few masked reviews per store, on the store's own items.
    rng = ctx.rng(name, "reviews")
    final_stores: list[Store] = []
    for vendor in vendors:
        store = stores[vendor.handle]
        mine = [lst for lst in listings if lst.vendor == vendor.handle]
        reviews = []
        for _ in range(rng.randrange(4, 13)):
            lst = rng.choice(mine)
            stars = rng.choices((5, 4, 3, 2, 1), (70, 15, 7, 4, 4))[0]
            text = rng.choice(REVIEWS).format(days=rng.randrange(2, 15), what=lst.substance)
            when = _date(rng.randrange(_ts(lst.posted), max(_ts(lst.posted) + 86400, _ts(story))))
            reviews.append(Review(_mask(rng), stars, text, when, lst.listing_id))
        reviews.sort(key=lambda r: (r.posted, r.listing_id, r.buyer), reverse=True)
        seen = today - timedelta(days=rng.randrange(0, 6))
        final_stores.append(replace(store, reviews=tuple(reviews), last_seen=seen.isoformat()))

    admin_rng = ctx.rng(name, "admin-pgp")
    admin = make_key(
        ctx.secret(name, "admin-pgp"),
        f"{brand} Admin",
        created=admin_rng.randrange(since, since + 86400 * 200),
    )
    decoy_onion = identifiers.onion_decoy(ctx.secret(name, "phishing-decoy"))
    mirror_added = (today - timedelta(days=ctx.rng(name, "news").randrange(20, 60))).isoformat()
    news = (
        NewsPost(
            (today - timedelta(days=3)).isoformat(),
            "Canary renewed",
            "Our warrant canary has been renewed and signed. Verify it at /canary.txt "
            "with the key at /pgp.txt.",
        ),
        NewsPost(
            mirror_added,
            "New mirror online",
            "A second official address is online. The full list is on the security page "
            "and in the signed /mirrors.txt.",
        ),
        NewsPost(
            (today - timedelta(days=75)).isoformat(),
            "Phishing warning",
            "A mistyped address is being passed around on forums: "
            f"{decoy_onion}.onion. It is not ours and not even a valid onion address. "
            "Only use the addresses in our signed mirror list.",
        ),
        NewsPost(
            f"{founded}-01-01",
            f"{brand} is open",
            "Welcome! Escrow on every order, vendor bonds, PGP everywhere, no JavaScript.",
        ),
    )

    used = {lst.category for lst in listings}
    categories = tuple(Category(slug=s, name=cat_names[s]) for s in slugs if s in used)
    featured = sorted(listings, key=lambda lst: (-lst.sold, lst.listing_id))[:FEATURED]
    content = BazaarContent(
        rates_date=story,
        usd_per=tuple((cur, str(per[cur])) for cur in ("EUR", "BTC", "XMR")),
        items=tuple(items),
        stores=tuple(sorted(final_stores, key=lambda s: s.handle.lower())),
        admin_key=admin,
        news=news,
        phishing_decoy=decoy_onion,
    )
    return Service(
        name=name,
        kind="bazaar",
        title=brand,
        onion=ctx.onion(name),
        categories=categories,
        vendors=tuple(sorted(vendors, key=lambda v: v.handle.lower())),
        listings=tuple(listings),
        featured=tuple(lst.listing_id for lst in featured),
        tagline=tagline,
        per_page=PER_PAGE,
        mirrors=ctx.mirrors(spec),
        content=content,
    )
