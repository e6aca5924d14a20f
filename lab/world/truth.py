"""Ground truth export (``truth.json``, schema ``onionlab-truth/1``, docs/lab-contract.md).

``ground_truth(world)`` returns plain JSON data in a stable order; ``truth_json(world)``
serialises it byte-identically for the same seed. Each service's pages, identifiers,
decoys, listings and vendors come from its site kind (``onionlab.lab.world.kinds``), the same code
the site builds its links with. Depends only on ``onionlab.lab.world``.
"""

from __future__ import annotations

import json
from typing import Any

from onionlab.lab.world.kinds import kind_module
from onionlab.lab.world.layout import Occurrence
from onionlab.lab.world.model import World

SCHEMA = "onionlab-truth/1"


def _collect(
    found: dict[tuple[str, str], set[str]], base: str, occurrences: list[Occurrence]
) -> None:
    for occ in occurrences:
        found.setdefault((occ.type, occ.value), set()).add(base + occ.path)


def _listed(found: dict[tuple[str, str], set[str]]) -> list[dict[str, Any]]:
    return [
        {"type": kind, "value": value, "pages": sorted(urls)}
        for (kind, value), urls in sorted(found.items())
    ]


def ground_truth(world: World) -> dict[str, Any]:
    """Everything a complete, perfect crawl of ``world`` should find."""
    services: list[dict[str, Any]] = []
    categories: list[dict[str, Any]] = []
    vendors: list[dict[str, Any]] = []
    listings: list[dict[str, Any]] = []
    identifiers: dict[tuple[str, str], set[str]] = {}
    decoys: dict[tuple[str, str], set[str]] = {}
    pages: set[str] = set()
    handles: dict[str, dict[str, str]] = {}
    attacks: list[dict[str, Any]] = []

    for svc in world.services:
        kind = kind_module(svc.kind)
        base = f"http://{svc.onion.lower()}"
        services.append(
            {
                "name": svc.name,
                "kind": svc.kind,
                "title": svc.title,
                "onion": svc.onion,
                "url": svc.url,
                "mirrors": list(svc.mirrors),
                "clone_of": svc.clone_of,
            }
        )
        categories += [{"site": svc.name, "slug": c.slug, "name": c.name} for c in svc.categories]
        site_vendors = kind.truth_vendors(svc)
        vendors += site_vendors
        for vendor in site_vendors:
            if vendor.get("identity"):
                handles.setdefault(vendor["identity"], {})[svc.name] = vendor["handle"]
        listings += kind.truth_listings(svc)
        pages.update(base + page.path for page in kind.pages(svc))
        _collect(identifiers, base, kind.occurrences(svc))
        _collect(decoys, base, kind.decoys(svc))
        if hasattr(kind, "truth_attacks"):
            attacks += kind.truth_attacks(svc)

    people = [
        {
            "id": person.id,
            "handle": person.handle,
            "handles": dict(sorted(handles.get(person.id, {}).items())),
            "pgp_fingerprint": person.pgp.fingerprint,
            "wallets": [{"type": t, "value": v} for t, v in person.wallets],
            "contacts": [{"type": t, "value": v} for t, v in person.contacts],
        }
        for person in world.identities
        if person.id in handles
    ]
    truth: dict[str, Any] = {
        "schema": SCHEMA,
        "seed": world.seed,
        "scale": world.scale,
        "services": sorted(services, key=lambda s: s["name"]),
        "categories": sorted(categories, key=lambda c: (c["site"], c["slug"])),
        "identities": people,
        "vendors": sorted(vendors, key=lambda v: (v["site"], v["handle"])),
        "listings": sorted(listings, key=lambda lst: (lst["site"], str(lst["listing_id"]))),
        "identifiers": _listed(identifiers),
        "decoys": _listed(decoys),
        "pages": sorted(pages),
    }
    if attacks:  # only a world with a hostile site has the key (others stay byte-identical)
        truth["attacks"] = sorted(attacks, key=lambda a: (a["site"], a["path"]))
    return truth


def truth_json(world: World) -> str:
    """``ground_truth(world)`` as byte-stable JSON text (sorted keys, fixed separators)."""
    return json.dumps(ground_truth(world), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
