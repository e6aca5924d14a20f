"""Ground truth export (``truth.json``, schema ``onionlab-truth/1``, docs/lab-contract.md).

``ground_truth(world)`` returns plain JSON data in a stable order; ``truth_json(world)``
serialises it byte-identically for the same seed. Depends only on ``lab.world``.
"""

from __future__ import annotations

import json
from typing import Any

from lab.world.layout import layout_for
from lab.world.model import World

SCHEMA = "onionlab-truth/1"


def ground_truth(world: World) -> dict[str, Any]:
    """Everything a complete, perfect crawl of ``world`` should find."""
    services: list[dict[str, Any]] = []
    categories: list[dict[str, Any]] = []
    vendors: list[dict[str, Any]] = []
    listings: list[dict[str, Any]] = []
    occurrences: dict[tuple[str, str], set[str]] = {}
    pages: set[str] = set()

    for svc in world.services:
        base = f"http://{svc.onion.lower()}"
        layout = layout_for(svc)
        services.append(
            {
                "name": svc.name,
                "kind": svc.kind,
                "title": svc.title,
                "onion": svc.onion,
                "url": svc.url,
            }
        )
        categories += [{"site": svc.name, "slug": c.slug, "name": c.name} for c in svc.categories]
        for v in svc.vendors:
            vendors.append(
                {
                    "site": svc.name,
                    "handle": v.handle,
                    "url": base + layout.vendor_path(v.handle),
                    "pgp_fingerprint": v.pgp.fingerprint,
                    "btc": sorted(v.btc),
                }
            )
        names = {c.slug: c.name for c in svc.categories}
        for lst in svc.listings:
            listings.append(
                {
                    "site": svc.name,
                    "listing_id": lst.listing_id,
                    "url": base + layout.listing_path(lst.listing_id),
                    "title": lst.title,
                    "vendor": lst.vendor,
                    "category": names[lst.category],
                    "substance": lst.substance,
                    "weight_g": lst.weight_g,
                    "price_usd": lst.price_usd,
                    "price_btc": lst.price_btc,
                    "ships_from": lst.ships_from,
                }
            )
        pages.update(base + page.path for page in layout.pages(svc))
        for occ in layout.occurrences(svc):
            occurrences.setdefault((occ.type, occ.value), set()).add(base + occ.path)

    return {
        "schema": SCHEMA,
        "seed": world.seed,
        "services": sorted(services, key=lambda s: s["name"]),
        "categories": sorted(categories, key=lambda c: (c["site"], c["slug"])),
        "vendors": sorted(vendors, key=lambda v: (v["site"], v["handle"])),
        "listings": sorted(listings, key=lambda lst: (lst["site"], lst["listing_id"])),
        "identifiers": [
            {"type": kind, "value": value, "pages": sorted(urls)}
            for (kind, value), urls in sorted(occurrences.items())
        ],
        "pages": sorted(pages),
    }


def truth_json(world: World) -> str:
    """``ground_truth(world)`` as JSON text: sorted keys, fixed separators, UTF-8 safe."""
    return (
        json.dumps(
            ground_truth(world),
            sort_keys=True,
            indent=2,
            separators=(",", ": "),
            ensure_ascii=False,
        )
        + "\n"
    )
