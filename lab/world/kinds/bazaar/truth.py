"""The bazaar's ground truth: pages, identifier occurrences, decoys, listings, vendors.

Depends on ``onionlab.lab.world.layout`` and the bazaar's content and paths.
"""

from __future__ import annotations

from typing import Any

from onionlab.lab.world.kinds.bazaar.content import ONION_HOST, content_of, dept_page_count
from onionlab.lab.world.kinds.bazaar.paths import (
    HOME_PATH,
    MIRRORS_TXT,
    NEWS_PATH,
    PGP_TXT,
    SECURITY_PATH,
    TEXT_PATHS,
    dept_path,
    item_path,
    reviews_path,
    store_path,
)
from onionlab.lab.world.layout import Occurrence, Page, onion_identifier
from onionlab.lab.world.model import Service
from onionlab.lab.world.records import listing_base, vendor_record


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
        hosts = {m for _, value in store.contacts for m in ONION_HOST.findall(value)}
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
    out = []
    for lst in service.listings:
        item = content.item(lst.listing_id)
        first = item.tiers[0]
        out.append(
            {
                **listing_base(service, lst, item_path(lst.listing_id)),
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
    out = []
    for ven in service.vendors:
        store = content.store(ven.handle)
        out.append(
            {
                **vendor_record(service, ven, store_path(ven.handle)),
                "xmr": sorted(store.xmr),
                "contacts": [{"type": t, "value": v} for t, v in store.contacts],
                "country": ven.country,
                "rating": ven.rating,
                "sales": ven.sales,
            }
        )
    return out
