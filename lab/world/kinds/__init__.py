"""Site kinds: how each kind of onion service is generated and what its ground truth is.

A kind is a module in this package exposing:

- ``build(ctx: WorldContext, spec: ServiceSpec) -> Service`` — the site's content, drawn
  from the shared context (identities, rates) with the site's own seeded RNGs;
- ``pages(service) -> list[Page]`` — every HTML page a complete crawl reaches, as paths;
- ``occurrences(service) -> list[Occurrence]`` — every valid identifier shown, per page;
- ``decoys(service) -> list[Occurrence]`` — look-alike identifiers that fail validation;
- ``truth_listings(service) -> list[dict]`` and ``truth_vendors(service) -> list[dict]``;
- optionally ``truth_attacks(service) -> list[dict]`` (a hostile site's attacks).

The site's HTTP side (``lab/sites/<package>``) renders the same ``Service``; both build
URLs from the kind's own path helpers, so truth and pages cannot drift apart.
Depends on ``onionlab.lab.world`` only.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# kind -> module implementing it (imported on first use)
KIND_MODULES: dict[str, str] = {
    "market": "onionlab.lab.world.kinds.market",
    "bazaar": "onionlab.lab.world.kinds.bazaar",
    "ru_platform": "onionlab.lab.world.kinds.ru_platform",
    "vendor_shop_a": "onionlab.lab.world.kinds.vendor_shop_a",
    "vendor_shop_b": "onionlab.lab.world.kinds.vendor_shop_b",
    "forum": "onionlab.lab.world.kinds.forum",
    "paste": "onionlab.lab.world.kinds.paste",
    "directory": "onionlab.lab.world.kinds.directory",
    "hostile": "onionlab.lab.world.kinds.hostile",
}


def kind_module(kind: str) -> ModuleType:
    """The module implementing ``kind`` (KeyError if the kind is unknown)."""
    return importlib.import_module(KIND_MODULES[kind])
