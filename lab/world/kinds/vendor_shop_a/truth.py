"""The shop's ground truth: pages, identifier occurrences, decoys, listings, vendor.

Depends on ``onionlab.lab.world.layout`` and the shop's paths and content.
"""

from __future__ import annotations

from typing import Any

from onionlab.lab.world.kinds.vendor_shop_a.content import REVIEWS_PER_PAGE, ShopA
from onionlab.lab.world.kinds.vendor_shop_a.helpers import jabber_onions
from onionlab.lab.world.kinds.vendor_shop_a.paths import (
    ABOUT,
    CANARY,
    CONTACT,
    FAQ,
    HOME,
    MIRRORS,
    ORDER,
    PGP,
    PRICES,
    SHIPPING,
    category_path,
    product_path,
    reviews_path,
)
from onionlab.lab.world.layout import Occurrence, Page
from onionlab.lab.world.model import Service
from onionlab.lab.world.records import listing_record, page_count, vendor_record


def review_pages(service: Service) -> int:
    shop: ShopA = service.content
    return page_count(len(shop.reviews), REVIEWS_PER_PAGE)


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
    return [listing_record(service, x, product_path(x.listing_id)) for x in service.listings]


def truth_vendors(service: Service) -> list[dict[str, Any]]:
    shop: ShopA = service.content
    record = vendor_record(service, service.vendors[0], ABOUT)
    record["email"] = [shop.email]
    if shop.jabber:
        record["jabber"] = [shop.jabber]
    return [record]
