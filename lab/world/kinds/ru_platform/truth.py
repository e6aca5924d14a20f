"""The platform's ground truth: pages, identifier occurrences, decoys, listings, vendors, jobs.

Depends on ``onionlab.lab.world.layout`` and the platform's content and paths.
"""

from __future__ import annotations

from typing import Any

from onionlab.lab.world.kinds.ru_platform.content import Platform, Product
from onionlab.lab.world.kinds.ru_platform.paths import LAYOUT, RuLayout
from onionlab.lab.world.layout import Occurrence, Page
from onionlab.lab.world.model import Service


def pages(service: Service) -> list[Page]:
    return LAYOUT.pages(service)


def occurrences(service: Service) -> list[Occurrence]:
    """Home: the platform's onion(s); /balans: the platform's wallets; /obmen: the exchanger
    bot; each shop page: its contacts, top-up wallets and (sometimes) PGP fingerprint; each
    shop's jobs page: the Telegram contacts of its ads. Product cards show no identifiers."""
    plat: Platform = service.content
    found = [Occurrence("onion", a.removesuffix(".onion"), "/") for _, a in service.addresses]
    found += [Occurrence(k, v, RuLayout.BALANCE) for k, v in plat.wallets]
    found.append(Occurrence("telegram", plat.exchanger_bot, RuLayout.EXCHANGE))
    for shop in plat.shops:
        path = LAYOUT.shop_path(shop.slug)
        found += [
            Occurrence("telegram", shop.bot, path),
            Occurrence("telegram", shop.channel, path),
            Occurrence("telegram", shop.operator_telegram, path),
            Occurrence("jabber", shop.jabber, path),
        ]
        server = shop.jabber.rpartition("@")[2]
        if server.endswith(".onion"):  # a Jabber server on an onion host shows that onion too
            found.append(Occurrence("onion", server.removesuffix(".onion"), path))
        if shop.session:
            found.append(Occurrence("session", shop.session, path))
        if shop.pgp_fingerprint:
            found.append(Occurrence("pgp_fingerprint", shop.pgp_fingerprint, path))
        found += [Occurrence(k, v, path) for k, v in shop.wallets]
        jobs = LAYOUT.jobs_path(shop.slug)
        found += [Occurrence("telegram", c, jobs) for c in sorted({j.contact for j in shop.jobs})]
    return found


def decoys(service: Service) -> list[Occurrence]:
    plat: Platform = service.content
    found = [Occurrence(k, v, p) for k, v, p in plat.decoys]
    for shop in plat.shops:
        found += [Occurrence(k, v, LAYOUT.shop_path(shop.slug)) for k, v in shop.decoys]
    return found


def quantity(p: Product) -> dict[str, str]:
    if p.unit == "g":
        return {"weight_g": p.amount, "unit": "g", "quantity": p.amount}
    return {"unit": "pcs", "quantity": p.amount}


def truth_listings(service: Service) -> list[dict[str, Any]]:
    plat: Platform = service.content
    base = f"http://{service.onion.lower()}"
    shops = {s.slug: s for s in plat.shops}
    out = []
    for p in plat.products:
        city = plat.city(p.city)
        out.append(
            {
                "site": service.name,
                "listing_id": p.listing_id,
                "url": base + LAYOUT.product_path(p.listing_id),
                "title": p.title,
                "shop": shops[p.shop].name,
                "vendor": shops[p.shop].operator,
                "substance": p.substance,
                **quantity(p),
                "city": city.name_en,
                "country": city.country,
                "district": city.district(p.district).name,
                "stash_type": p.stash_type,
                "delivery": p.delivery,
                "currency": p.currency,
                "price_local": p.price_local,
                "price_usd": p.price_usd,
                "price_crypto": p.price_crypto,
                "crypto_currency": p.crypto,
            }
        )
    return out


def truth_vendors(service: Service) -> list[dict[str, Any]]:
    plat: Platform = service.content
    base = f"http://{service.onion.lower()}"
    return [
        {
            "site": service.name,
            "handle": s.operator,
            "identity": s.identity,
            "shop": s.name,
            "url": base + LAYOUT.shop_path(s.slug),
            "pgp_fingerprint": s.pgp_fingerprint or None,
            "btc": sorted(s.wallet("btc")),
            "trx": sorted(s.wallet("trx")),
            "xmr": sorted(s.wallet("xmr")),
            "ltc": sorted(s.wallet("ltc")),
            "telegram": [s.operator_telegram, s.bot, s.channel],
            "jabber": [s.jabber],
            "session": [s.session] if s.session else [],
            "rating": s.rating,
            "sales": s.sales,
            "reviews": len(s.reviews),
            "cities": [plat.city(c).name_en for c in s.cities],
        }
        for s in plat.shops
    ]


def truth_jobs(service: Service) -> list[dict[str, Any]]:
    """The job ads (not yet part of ``truth.json``; exported for a future ``jobs`` section)."""
    plat: Platform = service.content
    base = f"http://{service.onion.lower()}"
    return [
        {
            "site": service.name,
            "job_id": j.job_id,
            "url": base + LAYOUT.jobs_path(s.slug),
            "shop": s.name,
            "role": j.role,
            "city": plat.city(j.city).name_en,
            "pay": j.pay,
            "contact": j.contact,
        }
        for s in plat.shops
        for j in s.jobs
    ]
