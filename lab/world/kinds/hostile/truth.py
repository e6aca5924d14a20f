"""The hostile site's ground truth: ordinary pages, identifiers and one row per attack.

Depends on ``onionlab.lab.world.layout`` and the hostile site's modules.
"""

from __future__ import annotations

from onionlab.lab.world.context import sub_rng
from onionlab.lab.world.kinds.hostile.attacks import ATTACKS
from onionlab.lab.world.kinds.hostile.build import content_of
from onionlab.lab.world.kinds.hostile.paths import (
    ABOUT_PATH,
    HOME_PATH,
    LISTINGS_2_PATH,
    LISTINGS_PATH,
    MIRRORS_TXT,
    PGP_TXT,
)
from onionlab.lab.world.layout import Occurrence, Page
from onionlab.lab.world.model import Service


def pages(service: Service) -> list[Page]:
    """The ordinary HTML pages a complete crawl records (the attacks are not pages)."""
    return [
        Page(HOME_PATH, "home"),
        Page(LISTINGS_PATH, "category", number=1),
        Page(LISTINGS_2_PATH, "category", number=2),
        Page(ABOUT_PATH, "about"),
    ]


def occurrences(service: Service) -> list[Occurrence]:
    """Identifiers the site really shows: its onion, its key, and the forged mirror's onion."""
    content = content_of(service)
    own = service.onion.removesuffix(".onion")
    found = [Occurrence("onion", own, HOME_PATH), Occurrence("onion", own, MIRRORS_TXT)]
    if content.mirror_target:
        found.append(Occurrence("onion", content.mirror_target.removesuffix(".onion"), MIRRORS_TXT))
    found += [
        Occurrence("pgp_fingerprint", content.admin_key.fingerprint, PGP_TXT),
        Occurrence("pgp_fingerprint", content.admin_key.fingerprint, ABOUT_PATH),
    ]
    return found


def decoys(service: Service) -> list[Occurrence]:
    return []


def truth_listings(service: Service) -> list[dict[str, object]]:
    return []


def truth_vendors(service: Service) -> list[dict[str, object]]:
    return []


def truth_attacks(service: Service) -> list[dict[str, object]]:
    """One row per attack: site, path, url, attack, category, expect, what."""
    base = f"http://{service.onion.lower()}"
    return [
        {
            "site": service.name,
            "path": a.path,
            "url": base + a.path,
            "attack": a.attack,
            "category": a.category,
            "expect": list(a.expect),
            "what": a.what,
        }
        for a in ATTACKS
    ]


def wiki_word(seed: int, parent: str, n: int) -> str:
    """The ``n``-th child word of letters-only generator page ``parent`` (deterministic)."""
    rng = sub_rng(seed, "hostile-wiki", parent, str(n))
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randrange(5, 11)))
