"""The store's ground truth: pages, identifier occurrences, decoys, listings, vendor.

Depends on ``onionlab.lab.world.layout`` and the store's paths and content.
"""

from __future__ import annotations

from typing import Any

from onionlab.lab.world.kinds.vendor_shop_b.content import PER_PAGE, ShopB
from onionlab.lab.world.kinds.vendor_shop_b.paths import (
    CONTACT,
    FAQ,
    HOME,
    MIRRORS,
    PAY,
    PGP,
    SHIPPING,
    UPDATES,
    catalog_path,
    item_path,
    update_path,
)
from onionlab.lab.world.layout import Occurrence, Page
from onionlab.lab.world.model import Service
from onionlab.lab.world.records import listing_record, page_count, vendor_record


def catalog_pages(service: Service) -> int:
    return page_count(len(service.listings), PER_PAGE)


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
    return [
        {
            **listing_record(service, x, item_path(x.listing_id)),
            "price_xmr": shop.price_xmr(x.listing_id),
        }
        for x in service.listings
    ]


def truth_vendors(service: Service) -> list[dict[str, Any]]:
    shop: ShopB = service.content
    telegram = sorted({shop.bot, *([shop.telegram] if shop.telegram else [])})
    return [
        {
            **vendor_record(service, service.vendors[0], CONTACT),
            "btc": [shop.btc],
            "xmr": [shop.xmr],
            "session": [shop.session],
            "telegram": telegram,
            "email": [shop.email],
        }
    ]
