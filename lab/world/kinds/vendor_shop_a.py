"""Site kind ``vendor_shop_a``: a single vendor's own English price-list shop.

One person (a shared ``Identity``, ideally one who also sells on the market so trainees can
link the handles) runs it: a price table of products, one page per product, an order page
("encrypt your address to our PGP key", one static BTC address, no escrow), reviews, FAQ
(with a typo'd look-alike address and a fake mirror as decoys), the key, a PGP-signed mirror
list, a signed warrant canary, contacts and an about page. Also exports the few helpers the
other single-vendor shop (``vendor_shop_b``) shares: who runs the shop, its products.
Depends on ``onionlab.lab.world``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from onionlab.lab.world import identifiers
from onionlab.lab.world.context import ServiceSpec, WorldContext
from onionlab.lab.world.data_files import load_data
from onionlab.lab.world.identities import handle_on
from onionlab.lab.world.layout import Occurrence, Page
from onionlab.lab.world.model import Category, Identity, Listing, Service, Vendor
from onionlab.lab.world.pgp import clearsign
from onionlab.lab.world.vocab import Substance, rates, substances

PRODUCTS_PER_SCALE = 40
REVIEWS_PER_SCALE = 24
REVIEWS_PER_PAGE = 10
STANDBY_MIRRORS = 2
_SATOSHI = Decimal("0.00000001")
_PICONERO_SHOWN = Decimal("0.0001")  # XMR prices are shown (and kept) with 4 decimals
_GRADES = ("", "Premium", "Budget", "Reserve", "Export", "Lab-grade")

# --- paths (the site builds its links with these) ------------------------------------------

HOME = "/"
PRICES = "/prices"
ORDER = "/order"
FAQ = "/faq"
PGP = "/pgp"
MIRRORS = "/mirrors"
CONTACT = "/contact"
ABOUT = "/about"
SHIPPING = "/shipping"
CANARY = "/canary"


def category_path(slug: str) -> str:
    return f"/prices/{slug}"


def product_path(listing_id: str) -> str:
    return f"/product/{listing_id}"


def reviews_path(number: int = 1) -> str:
    return "/reviews" if number == 1 else f"/reviews?page={number}"


# --- content ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Review:
    """A buyer's review: masked buyer name, date, 1–5 stars, text, the product reviewed."""

    buyer: str
    date: str
    stars: int
    text: str
    listing_id: str


@dataclass(frozen=True)
class ShopA:
    """Everything of ``vendor_shop_a`` that is not a ``Listing`` or the ``Vendor``."""

    identity: str  # Identity.id
    handle: str
    email: str
    jabber: str  # "" when the vendor has no Jabber account
    payment_btc: str  # the static payment address (no escrow)
    decoy_btc: str  # a typo'd look-alike of an address, quoted in the FAQ (fails checksum)
    decoy_onion: str  # a fake "mirror" (bad checksum), quoted in the FAQ
    since: str  # year the shop opened
    ships_to: str
    intro: str
    faq: tuple[tuple[str, str], ...]
    standby: tuple[str, ...]  # backup onions listed on the mirror page (not online)
    also_on: tuple[tuple[str, str, str], ...]  # (site title, onion, handle there)
    mirrors_signed: str  # clearsigned mirror list
    canary_signed: str  # clearsigned warrant canary
    updated: str  # YYYY-MM-DD of the price list
    reviews: tuple[Review, ...]


# --- helpers shared with vendor_shop_b -------------------------------------------------------


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


def _categories() -> dict[str, str]:
    return {c["slug"]: c["name"] for c in load_data("substances.json")["categories"]}


def shop_price(rng: random.Random, sub: Substance, weight: Decimal) -> Decimal:
    """A direct-from-vendor price: cheaper than the markets (no fee), whole dollars."""
    raw = sub.usd_per_g * weight ** Decimal("0.82") * Decimal(rng.randrange(78, 104)) / 100
    return max(Decimal(5), raw.quantize(Decimal(1), ROUND_HALF_UP))


def xmr_price(usd: Decimal) -> str:
    """``usd`` in XMR at the world's rate table, four decimals."""
    return f"{(usd / rates().usd['XMR']).quantize(_PICONERO_SHOWN, ROUND_HALF_UP):.4f}"


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
        grade = _GRADES[grade_round % len(_GRADES)]
        if grade_round >= len(_GRADES):
            grade = f"{grade} batch {grade_round // len(_GRADES) + 1}".strip()
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
                        price_btc=f"{(usd / ctx.btc_usd).quantize(_SATOSHI, ROUND_HALF_UP):.8f}",
                        ships_from=ships_from,
                        ships_to=ships_to,
                        description=rng.choice(descriptions).format(name=name, form=form),
                        posted=posted.strftime("%Y-%m-%d"),
                        sold=rng.randrange(0, 600),
                    )
                )
        grade_round += 1
    names = _categories()
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


# --- build -----------------------------------------------------------------------------------

_DESCRIPTIONS = (
    "{name}, {form}. Same batch as the last three months, reagent tested before packing.",
    "Our house {name} ({form}). Weighed on a 0.001 g scale, always a little over.",
    "{name} {form}. Double vacuum sealed, moisture barrier bag, no smell.",
    "Clean {name}, {form}. Ask for the test photos through our contact page.",
)
_INTROS = (
    "{handle} has shipped from {country} since {since}. No middlemen, no escrow, no market "
    "fees: you pay us directly and we pass the savings on. Read the order page before you "
    "order.",
    "Welcome to {handle}'s direct shop. We sold on the markets for years; now we sell "
    "direct from {country}. Prices below are final, shipping is included.",
)
_REVIEWS = (
    "Arrived in {days} days, stealth on point. Will order again.",
    "Weight was over, quality as described. A+",
    "Took {days} days but worth the wait. Clean product.",
    "Good comms, answered my PGP message the same day.",
    "Not as strong as the last batch, still decent for the price.",
    "Fast and discreet. Best direct vendor I have used.",
    "Package was delayed, vendor reshipped without questions. Respect.",
)


def _faq(handle: str, decoy_btc: str, decoy_onion: str) -> tuple[tuple[str, str], ...]:
    return (
        ("Do you offer escrow?", "No. This is a direct shop: you pay our address up front. "
         "If you need escrow, buy from us on the markets (see the about page) and pay the fee."),
        ("Where is your payment address?", "Only on the order page. We never change it and "
         "we never send it by chat."),
        (f"Someone sent me the address {decoy_btc} saying it is {handle}'s. Is it?",
         "No. Look closely: that string is a copy of ours with characters changed by a "
         "scammer. It is not even a valid address. Our address is on the order page only."),
        (f"Is {decoy_onion}.onion your new mirror?",
         "No. That link circulates on paste sites and it is fake: Tor will refuse it. Our "
         "mirrors are on the signed mirror page."),
        ("How do I encrypt my address?", "Import the key from the PGP page, encrypt your "
         "name and address to it and paste the whole armored block in the order form."),
        ("Do you reship?", "Once, on proven non-arrival, for orders over $100. See the "
         "shipping page."),
        ("Can I pay with Monero?", "Not in this shop. Bitcoin only, exact amount, one "
         "transaction per order."),
    )  # fmt: skip


def signed_mirrors(
    person: Identity,
    brand: str,
    onions: Sequence[str],
    standby: Sequence[str],
    day: date,
) -> str:
    """A mirror list clearsigned by the vendor: ``onions`` (primary first) and backups."""
    lines = [
        f"{brand} - official addresses",
        f"Updated: {day.isoformat()}",
        "",
        f"Primary: http://{onions[0]}.onion",
        *(f"Mirror:  http://{host}.onion" for host in onions[1:]),
        *(f"Backup:  http://{host}.onion" for host in standby),
        "",
        "Any address not in a message signed with this key is a phishing site.",
    ]
    return clearsign(person.pgp_secret, person.pgp, "\n".join(lines) + "\n", timestamp(day))


def _signed_canary(person: Identity, handle: str, rng: random.Random, day: date) -> str:
    block = "00000000000000000002" + "".join(rng.choice("0123456789abcdef") for _ in range(44))
    lines = [
        f"Warrant canary of {handle}",
        f"Date: {day.isoformat()}",
        f"Latest Bitcoin block: {block}",
        "",
        "We have not been arrested, contacted by law enforcement or forced to hand over",
        "any data. This canary is refreshed every 14 days. If it is stale, assume the worst.",
    ]
    return clearsign(person.pgp_secret, person.pgp, "\n".join(lines) + "\n", timestamp(day))


def _reviews(ctx: WorldContext, site: str, listings: Sequence[Listing]) -> tuple[Review, ...]:
    rng = ctx.rng(site, "reviews")
    today = story_day()
    out = []
    for _ in range(max(1, round(REVIEWS_PER_SCALE * ctx.scale))):
        buyer = rng.choice("abcdefghijklmnoprstvwxyz") + "***" + rng.choice("aeiklnrsty")
        day = today - timedelta(days=rng.randrange(1, 360))
        text = rng.choice(_REVIEWS).format(days=rng.randrange(2, 12))
        stars = rng.choice((5, 5, 5, 4, 4, 3))
        out.append(Review(buyer, day.isoformat(), stars, text, rng.choice(listings).listing_id))
    return tuple(sorted(out, key=lambda r: (r.date, r.buyer), reverse=True))


def build(ctx: WorldContext, spec: ServiceSpec) -> Service:
    """The shop: its vendor, products, reviews and signed pages."""
    name = spec.name
    person = pick_identity(ctx, name)
    handle = handle_on(person, name, ctx.seed)
    rng = ctx.rng(name, "shop")
    since = str(rng.randrange(2021, 2025))
    ships_to = rng.choice(("Worldwide", "Europe", "EU + UK", "Worldwide except USA"))
    listings, categories = make_products(
        ctx,
        name,
        handle,
        person.country,
        ships_to,
        ids=lambda n: f"P{n + 1:03d}",
        title=lambda grade, label, form, w: " ".join(
            part for part in (grade, label, form, f"- {w} g") if part
        ),
        descriptions=_DESCRIPTIONS,
    )
    onion = ctx.onion(name).removesuffix(".onion")
    brand = f"{handle} Direct"
    today = story_day()
    standby = standby_onions(ctx, name)
    payment = person.wallet("btc")[0]
    decoy_btc = identifiers.decoy("btc", ctx.secret(name, "decoy-btc"))
    decoy_onion = identifiers.onion_decoy(ctx.secret(name, "decoy-onion"))
    shop = ShopA(
        identity=person.id,
        handle=handle,
        email=person.contact("email")[0],
        jabber=(person.contact("jabber") or ("",))[0],
        payment_btc=payment,
        decoy_btc=decoy_btc,
        decoy_onion=decoy_onion,
        since=since,
        ships_to=ships_to,
        intro=rng.choice(_INTROS).format(handle=handle, country=person.country, since=since),
        faq=_faq(handle, decoy_btc, decoy_onion),
        standby=standby,
        also_on=also_on(ctx, person),
        mirrors_signed=signed_mirrors(
            person,
            brand,
            [onion, *(m.removesuffix(".onion") for m in ctx.mirrors(spec))],
            standby,
            today - timedelta(days=3),
        ),
        canary_signed=_signed_canary(person, handle, rng, today - timedelta(days=6)),
        updated=(today - timedelta(days=2)).isoformat(),
        reviews=_reviews(ctx, name, listings),
    )
    bio = f"Direct shop of {handle}, shipping from {person.country} since {since}."
    return Service(
        name=name,
        kind="vendor_shop_a",
        title=brand,
        onion=f"{onion}.onion",
        categories=categories,
        vendors=(make_vendor(person, handle, since, bio, payment),),
        listings=listings,
        tagline="direct from the source - no escrow, no fees",
        mirrors=ctx.mirrors(spec),
        content=shop,
    )


# --- ground truth ----------------------------------------------------------------------------


def review_pages(service: Service) -> int:
    shop: ShopA = service.content
    return max(1, -(-len(shop.reviews) // REVIEWS_PER_PAGE))


def pages(service: Service) -> list[Page]:
    found = [Page(HOME, "home"), Page(PRICES, "prices")]
    found += [Page(category_path(c.slug), "category", c.slug) for c in service.categories]
    found += [Page(product_path(x.listing_id), "listing", x.listing_id) for x in service.listings]
    found += [Page(reviews_path(n), "reviews", "", n) for n in range(1, review_pages(service) + 1)]
    found += [
        Page(ORDER, "order"),
        Page(FAQ, "faq"),
        Page(PGP, "pgp"),
        Page(MIRRORS, "mirrors"),
        Page(CONTACT, "contact"),
        Page(ABOUT, "vendor", service.vendors[0].handle),
        Page(SHIPPING, "shipping"),
        Page(CANARY, "canary"),
    ]
    return found


def occurrences(service: Service) -> list[Occurrence]:
    shop: ShopA = service.content
    fpr = service.vendors[0].pgp.fingerprint
    onion = service.onion.removesuffix(".onion")
    found = [
        Occurrence("onion", onion, HOME),
        Occurrence("onion", onion, MIRRORS),
        *(Occurrence("onion", host.removesuffix(".onion"), MIRRORS) for host in service.mirrors),
        *(Occurrence("onion", host, MIRRORS) for host in shop.standby),
        Occurrence("pgp_fingerprint", fpr, MIRRORS),
        Occurrence("pgp_fingerprint", fpr, PGP),
        Occurrence("email", shop.email, PGP),  # the key's user ID
        Occurrence("pgp_fingerprint", fpr, ORDER),
        Occurrence("btc", shop.payment_btc, ORDER),
        Occurrence("pgp_fingerprint", fpr, CONTACT),
        Occurrence("email", shop.email, CONTACT),
        Occurrence("pgp_fingerprint", fpr, ABOUT),
        Occurrence("btc", shop.payment_btc, ABOUT),
        *(Occurrence("onion", host, ABOUT) for _, host, _ in shop.also_on),
    ]
    if shop.jabber:
        found.append(Occurrence("jabber", shop.jabber, CONTACT))
        found += [Occurrence("onion", host, CONTACT) for host in jabber_onions(shop.jabber)]
    return found


def decoys(service: Service) -> list[Occurrence]:
    shop: ShopA = service.content
    return [Occurrence("btc", shop.decoy_btc, FAQ), Occurrence("onion", shop.decoy_onion, FAQ)]


def truth_listings(service: Service) -> list[dict[str, Any]]:
    names = {c.slug: c.name for c in service.categories}
    base = f"http://{service.onion.lower()}"
    return [
        {
            "site": service.name,
            "listing_id": x.listing_id,
            "url": base + product_path(x.listing_id),
            "title": x.title,
            "vendor": x.vendor,
            "category": names[x.category],
            "substance": x.substance,
            "weight_g": x.weight_g,
            "price_usd": x.price_usd,
            "price_btc": x.price_btc,
            "ships_from": x.ships_from,
        }
        for x in service.listings
    ]


def truth_vendors(service: Service) -> list[dict[str, Any]]:
    shop: ShopA = service.content
    vendor = service.vendors[0]
    record: dict[str, Any] = {
        "site": service.name,
        "handle": vendor.handle,
        "identity": vendor.identity,
        "url": f"http://{service.onion.lower()}{ABOUT}",
        "pgp_fingerprint": vendor.pgp.fingerprint,
        "btc": sorted(vendor.btc),
        "email": [shop.email],
    }
    if shop.jabber:
        record["jabber"] = [shop.jabber]
    return [record]
