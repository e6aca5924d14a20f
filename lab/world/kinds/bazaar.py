"""Site kind ``bazaar``: a second Western multi-vendor market with its own brand and URLs.

A card-grid market: home, paginated departments (``/c/<slug>/<n>``), items
(``/item/<id>``) with quantity tiers priced in USD and EUR with BTC and XMR equivalents,
stores (``/store/<handle>``) showing the vendor's PGP key, BTC/XMR wallets and contacts,
store feedback pages, a security page and a news page, plus the dark.fail-style signed
files ``/pgp.txt``, ``/mirrors.txt`` and ``/canary.txt`` (rendered by
``onionlab.lab.sites.signed_files``). Vendors come from the shared identity pool (many also sell on
``market``). One mirror (``spec.mirrors``) serves the same site. Deterministic: every
choice comes from ``ctx.rng``/``ctx.secret``. Depends on ``onionlab.lab.world`` only.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from onionlab.lab.world import identifiers, vocab
from onionlab.lab.world.context import ServiceSpec, WorldContext
from onionlab.lab.world.data_files import load_data
from onionlab.lab.world.identities import handle_on
from onionlab.lab.world.layout import Occurrence, Page, onion_identifier
from onionlab.lab.world.model import Category, Identity, Listing, PgpKey, Service, Vendor
from onionlab.lab.world.pgp import make_key

LISTINGS_PER_SCALE = 300
VENDORS_PER_SCALE = 25
PER_PAGE = 15  # cards per department page
FEATURED = 12
MAX_TIERS = 4
SHOWN_WALLETS = ("btc", "xmr")
CONTACT_TYPES = ("telegram", "jabber", "session", "email")

_CENT = Decimal("0.01")
_SATOSHI = Decimal("0.00000001")
_PICONERO_SHOWN = Decimal("0.000001")

HOME_PATH = "/"
SECURITY_PATH = "/info/security"
NEWS_PATH = "/news"
PGP_TXT = "/pgp.txt"
MIRRORS_TXT = "/mirrors.txt"
CANARY_TXT = "/canary.txt"
TEXT_PATHS = (PGP_TXT, MIRRORS_TXT, CANARY_TXT)
PROTECTED_PREFIXES = ("/item/", "/store/")
_ONION_HOST = re.compile(r"(?<![a-z2-7])([a-z2-7]{56})\.onion")


# --- URL scheme (shared by the site and the ground truth) ------------------------------------


def item_path(listing_id: str) -> str:
    return f"/item/{listing_id}"


def store_path(handle: str) -> str:
    return f"/store/{handle}"


def reviews_path(handle: str) -> str:
    return f"/store/{handle}/reviews"


def dept_path(slug: str, number: int = 1) -> str:
    return f"/c/{slug}/{number}"


# --- kind-specific content -------------------------------------------------------------------


@dataclass(frozen=True)
class Tier:
    """One quantity tier of an item; ``amount`` is grams or units (see ``Item.unit``)."""

    amount: str
    price_usd: str
    price_eur: str
    price_btc: str
    price_xmr: str


@dataclass(frozen=True)
class Item:
    """What the bazaar shows about a listing beyond ``Listing``."""

    listing_id: str
    unit: str  # "g" or "pcs"
    tiers: tuple[Tier, ...]
    stock: int
    views: int
    escrow: str  # "Escrow" or "FE"
    shipping: tuple[tuple[str, str], ...]  # (option, extra USD)


@dataclass(frozen=True)
class Review:
    buyer: str  # masked, e.g. "k***7"
    stars: int
    text: str
    posted: str
    listing_id: str


@dataclass(frozen=True)
class Store:
    """What the bazaar shows about a vendor beyond ``Vendor``."""

    handle: str
    level: int
    bond_usd: str
    last_seen: str
    positive: int
    neutral: int
    negative: int
    disputes: int
    xmr: tuple[str, ...]
    contacts: tuple[tuple[str, str], ...]  # (type, value) in display order
    old_wallets: tuple[tuple[str, str], ...]  # (chain, checksum-failing decoy)
    elsewhere: tuple[tuple[str, str, int], ...]  # (market, rating %, sales)
    reviews: tuple[Review, ...]


@dataclass(frozen=True)
class NewsPost:
    posted: str
    title: str
    body: str


@dataclass(frozen=True)
class BazaarContent:
    rates_date: str
    usd_per: tuple[tuple[str, str], ...]  # (currency, USD per unit): EUR, BTC, XMR
    items: tuple[Item, ...]
    stores: tuple[Store, ...]
    admin_key: PgpKey
    news: tuple[NewsPost, ...]
    phishing_decoy: str  # a mistyped (checksum-failing) onion quoted in the news

    def item(self, listing_id: str) -> Item:
        for item in self.items:
            if item.listing_id == listing_id:
                return item
        raise KeyError(listing_id)

    def store(self, handle: str) -> Store:
        for store in self.stores:
            if store.handle == handle:
                return store
        raise KeyError(handle)

    def rate(self, currency: str) -> Decimal:
        return Decimal(dict(self.usd_per)[currency])


# --- generation ------------------------------------------------------------------------------

_SHIPPING = (
    ("Standard letter", ("0.00", "3.00", "5.00")),
    ("Tracked parcel", ("12.00", "15.00", "20.00")),
    ("Express tracked", ("25.00", "30.00", "35.00")),
    ("Stealth+ (double vacuum, decoy item)", ("8.00", "10.00")),
)
_REVIEWS = (
    "Arrived in {days} days, perfect stealth. Will order again.",
    "Quality as described, weight spot on. A+ vendor.",
    "Took a while but vendor kept me updated. Product is good.",
    "Best {what} I have had from this market, fast shipping.",
    "Slightly under weight but vendor made it right with a reship.",
    "Great comms, PGP encrypted everything. Recommended.",
    "Stealth could be better, product is fire though.",
    "Second order, consistent quality. 5/5.",
    "Never arrived, vendor refused reship. Avoid.",
    "OK product, shipping slow ({days} days).",
    "Exactly what was promised. Thanks!",
    "Reagent tested: legit {what}. Will be back.",
)
_LEGACY_MARKETS = ("AlphaBay", "Dream", "Empire", "White House", "Versus")
_ESCROW_FE = "FE"
_ESCROW = "Escrow"


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
        eur = (usd / per["EUR"]).quantize(_CENT, ROUND_HALF_UP)
        btc = (usd / per["BTC"]).quantize(_SATOSHI, ROUND_HALF_UP)
        xmr = (usd / per["XMR"]).quantize(_PICONERO_SHOWN, ROUND_HALF_UP)
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
        legacy = rng.choice(_LEGACY_MARKETS)
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
            for option, prices in sorted(rng.sample(_SHIPPING, rng.randrange(1, 4)))
        )
        items.append(
            Item(
                listing_id=str(lid),
                unit=unit,
                tiers=tiers,
                stock=rng.randrange(0, 400),
                views=rng.randrange(20, 9000),
                escrow=_ESCROW_FE if stores[handle].level >= 5 and rng.random() < 0.3 else _ESCROW,
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
            text = rng.choice(_REVIEWS).format(days=rng.randrange(2, 15), what=lst.substance)
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


# --- layout and truth ------------------------------------------------------------------------


def content_of(service: Service) -> BazaarContent:
    assert isinstance(service.content, BazaarContent), service.name
    return service.content


def dept_listings(service: Service, slug: str) -> list[Listing]:
    """A department's listings in the order the site shows them (most sold first)."""
    chosen = [lst for lst in service.listings if lst.category == slug]
    return sorted(chosen, key=lambda lst: (-lst.sold, lst.listing_id))


def dept_page_count(service: Service, slug: str) -> int:
    return max(1, -(-len(dept_listings(service, slug)) // service.per_page))


def store_listings(service: Service, handle: str) -> list[Listing]:
    chosen = [lst for lst in service.listings if lst.vendor == handle]
    return sorted(chosen, key=lambda lst: (lst.posted, lst.listing_id), reverse=True)


def pages(service: Service) -> list[Page]:
    out = [Page(HOME_PATH, "home")]
    for cat in service.categories:
        for n in range(1, dept_page_count(service, cat.slug) + 1):
            out.append(Page(dept_path(cat.slug, n), "category", cat.slug, n))
    out += [Page(item_path(lst.listing_id), "listing", lst.listing_id) for lst in service.listings]
    for ven in service.vendors:
        out.append(Page(store_path(ven.handle), "vendor", ven.handle))
        out.append(Page(reviews_path(ven.handle), "reviews", ven.handle))
    out += [Page(SECURITY_PATH, "security"), Page(NEWS_PATH, "news")]
    out += [Page(path, "text", path.strip("/")) for path in TEXT_PATHS]
    return out


def occurrences(service: Service) -> list[Occurrence]:
    content = content_of(service)
    onions = [onion_identifier(service), *(m.removesuffix(".onion") for m in service.mirrors)]
    found = []
    for path in (HOME_PATH, SECURITY_PATH, MIRRORS_TXT):
        found += [Occurrence("onion", onion, path) for onion in onions]
    for path in (SECURITY_PATH, PGP_TXT):
        found.append(Occurrence("pgp_fingerprint", content.admin_key.fingerprint, path))
    for ven in service.vendors:
        path = store_path(ven.handle)
        store = content.store(ven.handle)
        found.append(Occurrence("pgp_fingerprint", ven.pgp.fingerprint, path))
        found += [Occurrence("btc", addr, path) for addr in ven.btc]
        found += [Occurrence("xmr", addr, path) for addr in store.xmr]
        found += [Occurrence(kind, value, path) for kind, value in store.contacts]
        # A Jabber server may itself be an onion service: its address is shown too.
        hosts = {m for _, value in store.contacts for m in _ONION_HOST.findall(value)}
        found += [Occurrence("onion", host, path) for host in sorted(hosts)]
    return found


def decoys(service: Service) -> list[Occurrence]:
    content = content_of(service)
    found = [Occurrence("onion", content.phishing_decoy, NEWS_PATH)]
    for store in content.stores:
        path = store_path(store.handle)
        found += [Occurrence(chain, value, path) for chain, value in store.old_wallets]
    return found


def truth_listings(service: Service) -> list[dict[str, Any]]:
    content = content_of(service)
    names = {c.slug: c.name for c in service.categories}
    base = f"http://{service.onion.lower()}"
    out = []
    for lst in service.listings:
        item = content.item(lst.listing_id)
        first = item.tiers[0]
        out.append(
            {
                "site": service.name,
                "listing_id": lst.listing_id,
                "url": base + item_path(lst.listing_id),
                "title": lst.title,
                "vendor": lst.vendor,
                "category": names[lst.category],
                "substance": lst.substance,
                "weight_g": lst.weight_g,
                "unit": item.unit,
                "quantity": first.amount,
                "price_usd": first.price_usd,
                "price_eur": first.price_eur,
                "price_btc": first.price_btc,
                "price_xmr": first.price_xmr,
                "ships_from": lst.ships_from,
                "ships_to": lst.ships_to,
                "escrow": item.escrow,
                "posted": lst.posted,
                "tiers": [
                    {
                        "quantity": t.amount,
                        "price_usd": t.price_usd,
                        "price_eur": t.price_eur,
                        "price_btc": t.price_btc,
                        "price_xmr": t.price_xmr,
                    }
                    for t in item.tiers
                ],
            }
        )
    return out


def truth_vendors(service: Service) -> list[dict[str, Any]]:
    content = content_of(service)
    base = f"http://{service.onion.lower()}"
    out = []
    for ven in service.vendors:
        store = content.store(ven.handle)
        out.append(
            {
                "site": service.name,
                "handle": ven.handle,
                "identity": ven.identity,
                "url": base + store_path(ven.handle),
                "pgp_fingerprint": ven.pgp.fingerprint,
                "btc": sorted(ven.btc),
                "xmr": sorted(store.xmr),
                "contacts": [{"type": t, "value": v} for t, v in store.contacts],
                "country": ven.country,
                "rating": ven.rating,
                "sales": ven.sales,
            }
        )
    return out
