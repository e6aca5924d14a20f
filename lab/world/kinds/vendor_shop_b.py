"""Site kind ``vendor_shop_b``: a minimalist single-vendor "store" with product cards.

A different person from ``vendor_shop_a`` (preferably one with a Monero wallet who also
sells on the market) runs it: a paginated card catalogue, one page per item (prices in XMR
first, then USD and BTC), a payment page with one static XMR and one static BTC address
(the vendor's own wallets, so they cluster with the markets), Session/Telegram contacts,
FAQ (with a typo'd XMR address as decoy), key, signed mirrors, shipping and news posts.
Depends on ``onionlab.lab.world`` (and shares a few helpers with
``onionlab.lab.world.kinds.vendor_shop_a``).
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from onionlab.lab.world import contacts, identifiers
from onionlab.lab.world.context import ServiceSpec, WorldContext
from onionlab.lab.world.identities import handle_on
from onionlab.lab.world.kinds.vendor_shop_a import (
    also_on,
    make_products,
    make_vendor,
    pick_identity,
    signed_mirrors,
    standby_onions,
    story_day,
    xmr_price,
)
from onionlab.lab.world.layout import Occurrence, Page
from onionlab.lab.world.model import Listing, Service

PER_PAGE = 12
UPDATES_PER_SCALE = 6

HOME = "/"
FAQ = "/faq"
CONTACT = "/contact"
PAY = "/pay"
PGP = "/pgp"
MIRRORS = "/mirrors"
SHIPPING = "/shipping"
UPDATES = "/updates"


def catalog_path(number: int = 1) -> str:
    return "/catalog" if number == 1 else f"/catalog/{number}"


def item_path(sku: str) -> str:
    return f"/item/{sku}"


def update_path(number: int) -> str:
    return f"/updates/{number}"


@dataclass(frozen=True)
class Update:
    """A news post: number (its URL), date, title, text and the onions the text names."""

    number: int
    date: str
    title: str
    text: str
    onions: tuple[str, ...] = ()
    skus: tuple[str, ...] = ()  # items the post links to


@dataclass(frozen=True)
class ShopB:
    """Everything of ``vendor_shop_b`` that is not a ``Listing`` or the ``Vendor``."""

    identity: str
    handle: str
    email: str  # the key's user ID e-mail
    xmr: str  # static payment addresses
    btc: str
    session: str
    telegram: str  # the operator's Telegram ("" if none)
    bot: str  # the shop's order bot on Telegram
    decoy_xmr: str
    since: str
    faq: tuple[tuple[str, str], ...]
    standby: tuple[str, ...]
    mirrors_signed: str
    xmr_prices: tuple[tuple[str, str], ...]  # (sku, price in XMR)
    updates: tuple[Update, ...]  # newest first

    def price_xmr(self, sku: str) -> str:
        return dict(self.xmr_prices)[sku]


_DESCRIPTIONS = (
    "{name}, {form}. Tested, weighed, sealed.",
    "{name} ({form}). Small batches, always fresh.",
    "Our {name}. {form}, no cuts, no fillers.",
)


def _sku_maker(rng: random.Random) -> Callable[[int], str]:
    """Product ids: six lower-case letters and digits, unique, never all digits."""
    taken: set[str] = set()
    alphabet = string.ascii_lowercase + string.digits

    def make(_: int) -> str:
        while True:
            sku = "".join(rng.choice(alphabet) for _ in range(6))
            if sku not in taken and not sku.isdigit():
                taken.add(sku)
                return sku

    return make


def _faq(decoy_xmr: str, bot: str) -> tuple[tuple[str, str], ...]:
    return (
        ("how do i pay?", "send the XMR (or BTC) total to the address on the pay page, then "
         f"message the bot @{bot} with your sku list and the tx id."),
        ("is there escrow?", "no. we have been around long enough. start with a small order."),
        ("a telegram account gave me a different address", f"it gave you something like "
         f"{decoy_xmr} - look at it twice: it is our address with the end changed. it is "
         "fake and will not even pass a wallet's checksum. we never send addresses in chat."),
        ("do you change addresses?", "no. the pay page addresses are static."),
        ("why monero?", "because your bank does not need to know. btc is accepted, xmr gets "
         "5% off."),
    )  # fmt: skip


def _updates(
    ctx: WorldContext, name: str, listings: tuple[Listing, ...], elsewhere: tuple[Any, ...]
) -> tuple[Update, ...]:
    rng = ctx.rng(name, "updates")
    today = story_day()
    count = max(1, round(UPDATES_PER_SCALE * ctx.scale))
    # Updates go further back as there are more of them (the scale grows the history).
    days = sorted(rng.sample(range(1, max(300, 2 * count)), count), reverse=True)
    out = []
    for n, back in enumerate(days, 1):
        day = (today - timedelta(days=back)).isoformat()
        if n == count and elsewhere:
            title, host, handle = elsewhere[0]
            text = (f"you can now also find us on {title} as {handle}: {host}.onion - same "
                    "key, same products, escrow if you need it.")  # fmt: skip
            out.append(Update(n, day, f"we are on {title}", text, onions=(host,)))
            continue
        picks = tuple(x.listing_id for x in rng.sample(listings, min(3, len(listings))))
        kind = rng.randrange(3)
        if kind == 0:
            out.append(Update(n, day, "restock", "fresh batches in, see the items below.",
                              skus=picks))  # fmt: skip
        elif kind == 1:
            out.append(Update(n, day, "shipping pause", f"no shipping for {rng.randrange(2, 8)} "
                              "days, orders are queued and go out after."))  # fmt: skip
        else:
            out.append(Update(n, day, "price drop", "cheaper for the next two weeks:",
                              skus=picks))  # fmt: skip
    return tuple(sorted(out, key=lambda u: u.number, reverse=True))


def build(ctx: WorldContext, spec: ServiceSpec) -> Service:
    """The store: vendor (not vendor-a's), items, static XMR + BTC, contacts and news."""
    name = spec.name
    taken = [s.content.identity for s in ctx.built.values() if s.kind == "vendor_shop_a"]
    person = pick_identity(ctx, name, avoid=taken, prefer=lambda p: bool(p.wallet("xmr")))
    handle = handle_on(person, name, ctx.seed)
    rng = ctx.rng(name, "shop")
    since = str(rng.randrange(2022, 2026))
    listings, categories = make_products(
        ctx,
        name,
        handle,
        person.country,
        "Europe",
        ids=_sku_maker(ctx.rng(name, "skus")),
        title=lambda grade, label, form, w: " ".join(
            part for part in (grade.lower(), label, f"({form})", f"{w}g") if part
        ),
        descriptions=_DESCRIPTIONS,
    )
    xmr = (person.wallet("xmr") or (identifiers.make("xmr", ctx.secret(name, "xmr")),))[0]
    own_session = contacts.session_id(ctx.secret(name, "session"))
    session = (person.contact("session") or (own_session,))[0]
    bot = contacts.telegram(ctx.rng(name, "bot"), bot=True)
    decoy_xmr = identifiers.decoy("xmr", ctx.secret(name, "decoy-xmr"))
    onion = ctx.onion(name).removesuffix(".onion")
    brand = f"{handle.lower()}.store"
    standby = standby_onions(ctx, name)
    today = story_day()
    mirrors = [m.removesuffix(".onion") for m in ctx.mirrors(spec)]
    shop = ShopB(
        identity=person.id,
        handle=handle,
        email=person.contact("email")[0],
        xmr=xmr,
        btc=person.wallet("btc")[0],
        session=session,
        telegram=(person.contact("telegram") or ("",))[0],
        bot=bot,
        decoy_xmr=decoy_xmr,
        since=since,
        faq=_faq(decoy_xmr, bot),
        standby=standby,
        mirrors_signed=signed_mirrors(
            person, brand, [onion, *mirrors], standby, today - timedelta(days=9)
        ),
        xmr_prices=tuple((x.listing_id, xmr_price(Decimal(x.price_usd))) for x in listings),
        updates=_updates(ctx, name, listings, also_on(ctx, person)),
    )
    bio = f"{handle}: small batches, static addresses, no escrow. since {since}."
    return Service(
        name=name,
        kind="vendor_shop_b",
        title=brand,
        onion=f"{onion}.onion",
        categories=categories,
        vendors=(make_vendor(person, handle, since, bio, shop.btc),),
        listings=listings,
        tagline="quiet. fast. static.",
        per_page=PER_PAGE,
        mirrors=ctx.mirrors(spec),
        content=shop,
    )


# --- ground truth ----------------------------------------------------------------------------


def catalog_pages(service: Service) -> int:
    return max(1, -(-len(service.listings) // PER_PAGE))


def pages(service: Service) -> list[Page]:
    shop: ShopB = service.content
    found = [Page(HOME, "home")]
    found += [Page(catalog_path(n), "catalog", "", n) for n in range(1, catalog_pages(service) + 1)]
    found += [Page(item_path(x.listing_id), "listing", x.listing_id) for x in service.listings]
    found += [
        Page(FAQ, "faq"),
        Page(CONTACT, "vendor", service.vendors[0].handle),
        Page(PAY, "pay"),
        Page(PGP, "pgp"),
        Page(MIRRORS, "mirrors"),
        Page(SHIPPING, "shipping"),
        Page(UPDATES, "updates"),
    ]
    found += [Page(update_path(u.number), "update", str(u.number)) for u in shop.updates]
    return found


def occurrences(service: Service) -> list[Occurrence]:
    shop: ShopB = service.content
    fpr = service.vendors[0].pgp.fingerprint
    onion = service.onion.removesuffix(".onion")
    found = [
        Occurrence("onion", onion, HOME),
        Occurrence("xmr", shop.xmr, PAY),
        Occurrence("btc", shop.btc, PAY),
        Occurrence("session", shop.session, CONTACT),
        Occurrence("telegram", shop.bot, CONTACT),
        Occurrence("pgp_fingerprint", fpr, CONTACT),
        Occurrence("xmr", shop.xmr, CONTACT),
        Occurrence("btc", shop.btc, CONTACT),
        Occurrence("telegram", shop.bot, FAQ),
        Occurrence("pgp_fingerprint", fpr, PGP),
        Occurrence("email", shop.email, PGP),
        Occurrence("onion", onion, MIRRORS),
        *(Occurrence("onion", m.removesuffix(".onion"), MIRRORS) for m in service.mirrors),
        *(Occurrence("onion", host, MIRRORS) for host in shop.standby),
        Occurrence("pgp_fingerprint", fpr, MIRRORS),
    ]
    if shop.telegram:
        found.append(Occurrence("telegram", shop.telegram, CONTACT))
    for update in shop.updates:
        found += [Occurrence("onion", host, update_path(update.number)) for host in update.onions]
    return found


def decoys(service: Service) -> list[Occurrence]:
    shop: ShopB = service.content
    return [Occurrence("xmr", shop.decoy_xmr, FAQ)]


def truth_listings(service: Service) -> list[dict[str, Any]]:
    shop: ShopB = service.content
    names = {c.slug: c.name for c in service.categories}
    base = f"http://{service.onion.lower()}"
    return [
        {
            "site": service.name,
            "listing_id": x.listing_id,
            "url": base + item_path(x.listing_id),
            "title": x.title,
            "vendor": x.vendor,
            "category": names[x.category],
            "substance": x.substance,
            "weight_g": x.weight_g,
            "price_usd": x.price_usd,
            "price_btc": x.price_btc,
            "price_xmr": shop.price_xmr(x.listing_id),
            "ships_from": x.ships_from,
        }
        for x in service.listings
    ]


def truth_vendors(service: Service) -> list[dict[str, Any]]:
    shop: ShopB = service.content
    vendor = service.vendors[0]
    telegram = sorted({shop.bot, *([shop.telegram] if shop.telegram else [])})
    return [
        {
            "site": service.name,
            "handle": vendor.handle,
            "identity": vendor.identity,
            "url": f"http://{service.onion.lower()}{CONTACT}",
            "pgp_fingerprint": vendor.pgp.fingerprint,
            "btc": [shop.btc],
            "xmr": [shop.xmr],
            "session": [shop.session],
            "telegram": telegram,
            "email": [shop.email],
        }
    ]
