"""Builds the card store: one vendor, SKUs, XMR prices, FAQ, signed mirrors, news updates.

Depends on ``onionlab.lab.world``, the store's modules and ``vendor_shop_a``'s helpers.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from onionlab.lab.world import contacts, identifiers
from onionlab.lab.world.context import ServiceSpec, WorldContext
from onionlab.lab.world.data_files import load_words
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
from onionlab.lab.world.kinds.vendor_shop_b.content import (
    PER_PAGE,
    UPDATES_PER_SCALE,
    ShopB,
    Update,
)
from onionlab.lab.world.model import Listing, Service

_WORDS = load_words("onionlab.lab.world.kinds.vendor_shop_b")
_DESCRIPTIONS = _WORDS["descriptions"]


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
