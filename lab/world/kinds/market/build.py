"""Builds the market and its phishing clone: vendors from the shared pool, listings, prices.

A clone (``spec.clone_of``) copies the original's catalogue and look but has a look-alike
onion, other keys and other wallets. Depends on ``onionlab.lab.world``.
"""

from __future__ import annotations

import random
import string
from dataclasses import replace
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from onionlab.lab.world.btc import p2pkh_address
from onionlab.lab.world.context import ServiceSpec, WorldContext
from onionlab.lab.world.data_files import load_data
from onionlab.lab.world.identities import handle_on
from onionlab.lab.world.model import Category, Identity, Listing, Service, Vendor
from onionlab.lab.world.pgp import make_key

LISTINGS_PER_SCALE = 72
VENDORS_PER_SCALE = 11
FEATURED = 6
_CENT = Decimal("0.01")
_SATOSHI = Decimal("0.00000001")
_EPOCH_2024_06 = 1717200000  # 2024-06-01T00:00:00Z


def _date(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def _listing_id(rng: random.Random, taken: set[str]) -> str:
    alphabet = string.ascii_lowercase + string.digits
    while True:
        lid = "".join(rng.choice(alphabet) for _ in range(7))
        if lid not in taken and not lid.isdigit():
            taken.add(lid)
            return lid


def _build_vendors(
    ctx: WorldContext, name: str, count: int, categories: list[Category], since: int
) -> tuple[list[Vendor], dict[str, list[str]]]:
    names = load_data("names.json")
    rng = ctx.rng(name, "vendors")
    vendors: list[Vendor] = []
    specialties: dict[str, list[str]] = {}
    slugs = [c.slug for c in categories]
    rng.shuffle(slugs)
    people: list[Identity] = ctx.vendors_for(name, count)
    for k, person in enumerate(people):
        handle = handle_on(person, name, ctx.seed)
        primary = slugs[k % len(slugs)]
        others = [s for s in slugs if s != primary]
        specialties[handle] = [primary, *rng.sample(others, rng.randrange(0, 3))]
        joined = rng.randrange(since, _EPOCH_2024_06)
        year = _date(joined)[:4]
        vendors.append(
            Vendor(
                handle=handle,
                country=person.country,
                joined=_date(joined),
                bio=rng.choice(names["vendor_bios"]).format(year=year),
                pgp=person.pgp,
                btc=person.wallet("btc"),
                rating=f"{Decimal(rng.randrange(940, 1001)) / 10:.1f}",
                sales=rng.randrange(3, 4000),
                identity=person.id,
            )
        )
    return vendors, specialties


def _price(rng: random.Random, usd_per_g: int, weight: Decimal) -> Decimal:
    """Street price with a quantity discount, rounded like vendors do."""
    raw = Decimal(usd_per_g) * weight ** Decimal("0.85") * Decimal(rng.randrange(85, 120)) / 100
    dollars = max(Decimal(5), raw.quantize(Decimal(1), ROUND_HALF_UP))
    if rng.random() < 0.3:
        return dollars - _CENT  # 49.99
    return dollars


def _build_market(ctx: WorldContext, name: str) -> Service:
    seed, scale, rate = ctx.seed, ctx.scale, ctx.btc_usd
    vocab = load_data("substances.json")
    names = load_data("names.json")
    rng = ctx.rng(name, "identity")
    brand = f"{rng.choice(names['market_first'])} {rng.choice(names['market_second'])}"
    founded = rng.randrange(2019, 2023)
    since = int(datetime(founded, 1, 1, tzinfo=UTC).timestamp())
    tagline = rng.choice(names["market_slogans"]).format(year=founded)

    all_categories = [Category(slug=c["slug"], name=c["name"]) for c in vocab["categories"]]
    by_category: dict[str, list[dict[str, Any]]] = {}
    for sub in vocab["substances"]:
        by_category.setdefault(sub["category"], []).append(sub)

    n_listings = max(1, round(LISTINGS_PER_SCALE * scale))
    n_vendors = max(1, min(n_listings, round(VENDORS_PER_SCALE * scale)))
    vendors, specialties = _build_vendors(ctx, name, n_vendors, all_categories, since)
    by_handle = {v.handle: v for v in vendors}

    # (vendor, category) for every listing: each vendor gets one, each category gets one,
    # then the rest follow the vendors' specialties.
    rng = ctx.rng(name, "listings")
    specs: list[tuple[str, str]] = [(v.handle, specialties[v.handle][0]) for v in vendors]
    for cat in all_categories:
        if len(specs) >= n_listings:
            break
        if all(c != cat.slug for _, c in specs):
            experts = [h for h, sp in specialties.items() if cat.slug in sp]
            specs.append((rng.choice(experts or list(specialties)), cat.slug))
    slugs = [c["slug"] for c in vocab["categories"]]
    weights = [c["weight"] for c in vocab["categories"]]
    while len(specs) < n_listings:
        cat_slug = rng.choices(slugs, weights)[0]
        experts = [h for h, sp in specialties.items() if cat_slug in sp]
        specs.append((rng.choice(experts or list(specialties)), cat_slug))
    specs = specs[:n_listings]

    listings: list[Listing] = []
    taken: set[str] = set()
    for handle, cat_slug in specs:
        vendor = by_handle[handle]
        sub = rng.choice(by_category[cat_slug])
        weight = rng.choice(sub["weights"])
        label = rng.choice(sub["names"])
        form = rng.choice(sub["forms"])
        tag = rng.choice(vocab["tags"])
        weight_first = rng.random() < 0.25
        title = f"{weight}g {label} {form}" if weight_first else f"{label} {form} {weight}g"
        if tag:
            title = f"{title} {tag}"
        usd = _price(rng, sub["usd_per_g"], Decimal(weight))
        btc = (usd / rate).quantize(_SATOSHI, ROUND_HALF_UP)
        description = rng.choice(names["descriptions"]).format(
            name=label, form=form, ships_from=vendor.country
        )
        tail = rng.choice(names["description_tails"])
        if tail:
            description = f"{description} {tail}"
        joined = int(datetime.strptime(vendor.joined, "%Y-%m-%d").replace(tzinfo=UTC).timestamp())
        posted = rng.randrange(joined, _EPOCH_2024_06 + 86400)
        listings.append(
            Listing(
                listing_id=_listing_id(rng, taken),
                title=title,
                vendor=handle,
                category=cat_slug,
                substance=sub["canonical"],
                weight_g=weight,
                price_usd=f"{usd:.2f}",
                price_btc=f"{btc:.8f}",
                ships_from=vendor.country,
                ships_to=rng.choice(names["ships_to"]),
                description=description,
                posted=_date(posted),
                sold=rng.randrange(0, 900),
            )
        )

    used = {lst.category for lst in listings}
    categories = tuple(c for c in all_categories if c.slug in used)
    featured = sorted(listings, key=lambda lst: (-lst.sold, lst.listing_id))[:FEATURED]
    onion = ctx.onion(name)
    del seed
    return Service(
        name=name,
        kind="market",
        title=brand,
        onion=onion,
        categories=categories,
        vendors=tuple(sorted(vendors, key=lambda v: v.handle.lower())),
        listings=tuple(listings),
        featured=tuple(lst.listing_id for lst in featured),
        tagline=tagline,
    )


def _build_clone(ctx: WorldContext, spec: ServiceSpec) -> Service:
    """A phishing clone: same catalogue and design, look-alike onion, the thief's keys and wallets.

    Trainees detect it the way real buyers should: the onion differs after the first
    characters, the vendors' PGP fingerprints differ from the original's, and the
    original's signed mirror list does not name it.
    """
    original = ctx.built[spec.clone_of]
    label, onion = ctx.vanity_onion(spec.name, original.onion[:2])
    vendors = []
    for vendor in original.vendors:
        secret = ctx.secret(spec.name, "pgp", vendor.handle)
        key = make_key(secret, vendor.pgp.uid, created=vendor.pgp.created + 86400 * 400)
        wallets = tuple(
            p2pkh_address(ctx.secret(spec.name, "btc", vendor.handle, str(i)))
            for i in range(len(vendor.btc))
        )
        vendors.append(replace(vendor, pgp=key, btc=wallets, identity=""))
    return replace(
        original,
        name=spec.name,
        onion=onion,
        key_label=label,
        vendors=tuple(vendors),
        mirrors=(),
        clone_of=spec.clone_of,
    )


def build(ctx: WorldContext, spec: ServiceSpec) -> Service:
    """The market (or, with ``spec.clone_of``, its phishing clone)."""
    if spec.clone_of:
        return _build_clone(ctx, spec)
    return replace(_build_market(ctx, spec.name), mirrors=ctx.mirrors(spec))
