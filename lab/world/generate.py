"""The deterministic world generator: ``build_world(seed, scale)``.

Pure: every random choice comes from a ``random.Random`` derived from the seed and a
string naming the sub-part (so adding a service later leaves the others unchanged); no
clock, no ``os.urandom``, no global ``random``. Vocabularies live in ``lab/world/data``.
May depend on the standard library, ``lab.world.*`` and ``lab.tornet.onion_keys``.
"""

from __future__ import annotations

import hashlib
import json
import random
import string
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from importlib import resources
from typing import Any

from lab.tornet.onion_keys import derive_service_key, onion_address
from lab.world.btc import p2pkh_address
from lab.world.model import Category, Listing, Service, Vendor, World
from lab.world.pgp import make_key

LISTINGS_PER_SCALE = 72
VENDORS_PER_SCALE = 11
FEATURED = 6
_CENT = Decimal("0.01")
_SATOSHI = Decimal("0.00000001")
_EPOCH_2019 = 1546300800  # 2019-01-01T00:00:00Z
_EPOCH_2024_06 = 1717200000  # 2024-06-01T00:00:00Z


@cache
def load_data(name: str) -> dict[str, Any]:
    """Load a vocabulary file from ``lab/world/data`` (cached; treat as read-only)."""
    text = resources.files("lab.world").joinpath("data").joinpath(name).read_text(encoding="utf-8")
    return json.loads(text)


def sub_rng(seed: int, *parts: str) -> random.Random:
    """A ``random.Random`` for one sub-part of the world, independent of the others."""
    return random.Random("onionlab/world/v1/" + "/".join([str(seed), *parts]))


def sub_secret(seed: int, *parts: str) -> bytes:
    """32 deterministic secret bytes for one key of the world."""
    label = "/".join(["onionlab/secret/v1", str(seed), *parts])
    return hashlib.sha256(label.encode()).digest()


def _date(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def _btc_rate(seed: int) -> Decimal:
    rng = sub_rng(seed, "rates")
    return (Decimal(rng.randrange(5_800_000, 7_200_000)) / 100).quantize(_CENT)


def build_world(seed: int, scale: float = 1.0) -> World:
    """Build the whole lab world for ``seed``; ``scale`` multiplies the amount of content."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    rate = _btc_rate(seed)
    services = (_build_market(seed, scale, "market", rate),)
    return World(seed=seed, scale=scale, btc_usd=f"{rate:.2f}", services=services)


def _unique_handle(rng: random.Random, taken: set[str], names: dict[str, Any]) -> str:
    while True:
        first = rng.choice(names["handle_first"])
        second = rng.choice(names["handle_second"])
        style = rng.randrange(6)
        if style == 0:
            handle = f"{first.lower()}_{second.lower()}"
        elif style == 1:
            handle = f"{first}{second}{rng.choice(['420', '24', '7', '99', 'NL', 'UK', 'EU'])}"
        else:
            handle = f"{first}{second}"
        if handle.lower() not in taken:
            taken.add(handle.lower())
            return handle


def _listing_id(rng: random.Random, taken: set[str]) -> str:
    alphabet = string.ascii_lowercase + string.digits
    while True:
        lid = "".join(rng.choice(alphabet) for _ in range(7))
        if lid not in taken and not lid.isdigit():
            taken.add(lid)
            return lid


def _build_vendors(
    seed: int, scale: float, name: str, count: int, categories: list[Category], since: int
) -> tuple[list[Vendor], dict[str, list[str]]]:
    names = load_data("names.json")
    rng = sub_rng(seed, name, "vendors")
    taken: set[str] = set()
    vendors: list[Vendor] = []
    specialties: dict[str, list[str]] = {}
    slugs = [c.slug for c in categories]
    rng.shuffle(slugs)
    for k in range(count):
        handle = _unique_handle(rng, taken, names)
        primary = slugs[k % len(slugs)]
        others = [s for s in slugs if s != primary]
        specialties[handle] = [primary, *rng.sample(others, rng.randrange(0, 3))]
        joined = rng.randrange(since, _EPOCH_2024_06)
        key_created = joined - rng.randrange(86400, 400 * 86400)
        domain = rng.choice(names["mail_domains"])
        pgp = make_key(
            sub_secret(seed, name, "pgp", handle),
            f"{handle} <{handle.lower()}@{domain}>",
            created=key_created,
        )
        n_btc = 1 if rng.random() < 0.7 else 2
        btc = tuple(
            p2pkh_address(sub_secret(seed, name, "btc", handle, str(i))) for i in range(n_btc)
        )
        year = _date(joined)[:4]
        vendors.append(
            Vendor(
                handle=handle,
                country=rng.choice(names["countries"]),
                joined=_date(joined),
                bio=rng.choice(names["vendor_bios"]).format(year=year),
                pgp=pgp,
                btc=btc,
                rating=f"{Decimal(rng.randrange(940, 1001)) / 10:.1f}",
                sales=rng.randrange(3, 4000),
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


def _build_market(seed: int, scale: float, name: str, rate: Decimal) -> Service:
    vocab = load_data("substances.json")
    names = load_data("names.json")
    rng = sub_rng(seed, name, "identity")
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
    vendors, specialties = _build_vendors(seed, scale, name, n_vendors, all_categories, since)
    by_handle = {v.handle: v for v in vendors}

    # (vendor, category) for every listing: each vendor gets one, each category gets one,
    # then the rest follow the vendors' specialties.
    rng = sub_rng(seed, name, "listings")
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
    onion = onion_address(derive_service_key(seed, name))
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
