"""Helpers of the single-vendor shops (also used by ``vendor_shop_b`` and ``paste``).

The story's day, the shop's identity, products, prices, signed mirrors and Jabber onions.
Depends on ``onionlab.lab.world``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

from onionlab.lab.world.context import WorldContext
from onionlab.lab.world.data_files import load_data
from onionlab.lab.world.kinds.vendor_shop_a.content import (
    GRADES,
    PICONERO_SHOWN,
    PRODUCTS_PER_SCALE,
    SATOSHI,
    STANDBY_MIRRORS,
)
from onionlab.lab.world.model import Category, Identity, Listing, Vendor
from onionlab.lab.world.vocab import Substance, rates, substances


def story_day() -> date:
    """The world's "today" (the date of its exchange-rate table)."""
    return date.fromisoformat(rates().date)


def timestamp(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, 12, tzinfo=UTC).timestamp())


def pick_identity(
    ctx: WorldContext,
    site: str,
    avoid: Sequence[str] = (),
    prefer: Callable[[Identity], bool] = lambda _: True,
) -> Identity:
    """The person behind a single-vendor shop.

    A seeded order of the pool (``ctx.vendors_for(site, …)``); the first identity that also
    sells on the ``market`` (and satisfies ``prefer``) wins, then anyone selling on any site
    built so far, then anyone. ``avoid`` lists identity ids already running a shop.
    """
    order = [p for p in ctx.vendors_for(site, len(ctx.identities)) if p.id not in avoid]
    if not order:
        order = ctx.vendors_for(site, 1)
    market = ctx.built.get("market")
    on_market = {v.identity for v in market.vendors} if market else set()
    anywhere = {v.identity for svc in ctx.built.values() for v in svc.vendors if v.identity}
    for chosen in (on_market, anywhere):
        for person in order:
            if person.id in chosen and prefer(person):
                return person
        for person in order:
            if person.id in chosen:
                return person
    return order[0]


def also_on(ctx: WorldContext, person: Identity) -> tuple[tuple[str, str, str], ...]:
    """``(title, onion, handle)`` of every site built so far where ``person`` sells."""
    found = []
    for svc in ctx.built.values():
        for vendor in svc.vendors:
            if vendor.identity == person.id and not svc.clone_of:
                found.append((svc.title, svc.onion.removesuffix(".onion"), vendor.handle))
    return tuple(found)


def standby_onions(ctx: WorldContext, name: str) -> tuple[str, ...]:
    """Backup addresses a shop advertises but does not run (valid onions, offline)."""
    return tuple(
        ctx.onion(f"{name}#standby{i}").removesuffix(".onion")
        for i in range(1, STANDBY_MIRRORS + 1)
    )


def categories_by_slug() -> dict[str, str]:
    return {c["slug"]: c["name"] for c in load_data("substances.json")["categories"]}


def shop_price(rng: random.Random, sub: Substance, weight: Decimal) -> Decimal:
    """A direct-from-vendor price: cheaper than the markets (no fee), whole dollars."""
    raw = sub.usd_per_g * weight ** Decimal("0.82") * Decimal(rng.randrange(78, 104)) / 100
    return max(Decimal(5), raw.quantize(Decimal(1), ROUND_HALF_UP))


def xmr_price(usd: Decimal) -> str:
    """``usd`` in XMR at the world's rate table, four decimals."""
    return f"{(usd / rates().usd['XMR']).quantize(PICONERO_SHOWN, ROUND_HALF_UP):.4f}"


def make_products(
    ctx: WorldContext,
    site: str,
    vendor: str,
    ships_from: str,
    ships_to: str,
    ids: Callable[[int], str],
    title: Callable[[str, str, str, str], str],
    descriptions: Sequence[str],
) -> tuple[tuple[Listing, ...], tuple[Category, ...]]:
    """``round(PRODUCTS_PER_SCALE * scale)`` products of one vendor, grouped by substance.

    The vendor specialises in two or three categories; each substance is offered in up to
    four weights (grams only). Past the vocabulary, products repeat in other grades.
    ``ids(n)`` names product ``n``; ``title(grade, name, form, weight)`` writes its title.
    """
    rng = ctx.rng(site, "products")
    n = max(1, round(PRODUCTS_PER_SCALE * ctx.scale))
    pool = [s for s in substances() if s.unit == "g"]
    slugs = sorted({s.category for s in pool})
    favourite = set(rng.sample(slugs, rng.choice((2, 3))))
    rng.shuffle(pool)
    pool.sort(key=lambda s: s.category not in favourite)  # stable: favourites first
    per_substance = max(2, min(4, math.ceil(n / max(1, len(pool)))))
    start = timestamp(story_day()) - 86400 * 400
    listings: list[Listing] = []
    grade_round = 0
    while len(listings) < n:
        grade = GRADES[grade_round % len(GRADES)]
        if grade_round >= len(GRADES):
            grade = f"{grade} batch {grade_round // len(GRADES) + 1}".strip()
        for sub in pool:
            if len(listings) >= n:
                break
            name = rng.choice(sub.names or sub.en)
            form = rng.choice(sub.forms) if sub.forms else "powder"
            weights = sorted(sub.weights, key=Decimal)
            first = rng.randrange(0, max(1, len(weights) - per_substance + 1))
            for weight in weights[first : first + per_substance]:
                if len(listings) >= n:
                    break
                usd = shop_price(rng, sub, Decimal(weight))
                posted = datetime.fromtimestamp(start + rng.randrange(0, 86400 * 390), UTC)
                listings.append(
                    Listing(
                        listing_id=ids(len(listings)),
                        title=title(grade, name, form, weight),
                        vendor=vendor,
                        category=sub.category,
                        substance=sub.canonical,
                        weight_g=weight,
                        price_usd=f"{usd:.2f}",
                        price_btc=f"{(usd / ctx.btc_usd).quantize(SATOSHI, ROUND_HALF_UP):.8f}",
                        ships_from=ships_from,
                        ships_to=ships_to,
                        description=rng.choice(descriptions).format(name=name, form=form),
                        posted=posted.strftime("%Y-%m-%d"),
                        sold=rng.randrange(0, 600),
                    )
                )
        grade_round += 1
    names = categories_by_slug()
    used = [slug for slug in names if any(lst.category == slug for lst in listings)]
    return tuple(listings), tuple(Category(slug, names[slug]) for slug in used)


def make_vendor(person: Identity, handle: str, since: str, bio: str, btc: str) -> Vendor:
    return Vendor(
        handle=handle,
        country=person.country,
        joined=f"{since}-01-01",
        bio=bio,
        pgp=person.pgp,
        btc=(btc,),
        rating="",
        sales=0,
        identity=person.id,
    )


def jabber_onions(jid: str) -> list[str]:
    """The onion host inside a Jabber ID on an onion server (a separate identifier)."""
    domain = jid.rpartition("@")[2]
    return [domain.removesuffix(".onion")] if domain.endswith(".onion") else []
