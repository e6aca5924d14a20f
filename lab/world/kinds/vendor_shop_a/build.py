"""Builds the price-list shop: one vendor, products, reviews, FAQ, signed mirrors and canary.

Depends on ``onionlab.lab.world`` and the shop's modules.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta

from onionlab.lab.world import identifiers
from onionlab.lab.world.context import ServiceSpec, WorldContext
from onionlab.lab.world.data_files import load_words
from onionlab.lab.world.identities import handle_on
from onionlab.lab.world.kinds.vendor_shop_a.content import REVIEWS_PER_SCALE, Review, ShopA
from onionlab.lab.world.kinds.vendor_shop_a.helpers import (
    also_on,
    make_products,
    make_vendor,
    pick_identity,
    standby_onions,
    story_day,
    timestamp,
)
from onionlab.lab.world.model import Identity, Listing, Service
from onionlab.lab.world.pgp import clearsign

_WORDS = load_words("onionlab.lab.world.kinds.vendor_shop_a")
_DESCRIPTIONS = _WORDS["descriptions"]
_INTROS = _WORDS["intros"]
_REVIEWS = _WORDS["reviews"]


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
