"""Site kinds: how each kind of onion service is generated and what its ground truth is.

A kind is a package in this package (``kinds/<kind>/``; its name is the kind, so
``KIND_MODULES`` needs no entry) exposing:

- ``build(ctx: WorldContext, spec: ServiceSpec) -> Service`` — the site's content, drawn
  from the shared context (identities, rates) with the site's own seeded RNGs;
- ``pages(service) -> list[Page]`` — every HTML page a complete crawl reaches, as paths;
- ``occurrences(service) -> list[Occurrence]`` — every valid identifier shown, per page;
- ``decoys(service) -> list[Occurrence]`` — look-alike identifiers that fail validation;
- ``truth_listings(service) -> list[dict]`` and ``truth_vendors(service) -> list[dict]``;
- optionally ``truth_attacks(service) -> list[dict]`` (a hostile site's attacks).

The site's HTTP side (``lab/sites/<kind>/``) renders the same ``Service``; both build
URLs from the kind's own ``paths`` module, so truth and pages cannot drift apart.
Depends on ``onionlab.lab.world`` only.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def _kind_packages() -> tuple[str, ...]:
    """Every kind: each sub-package of this package is one (its name is the kind)."""
    return tuple(sorted(m.name for m in pkgutil.iter_modules(__path__) if m.ispkg))


# kind -> module implementing it (imported on first use), derived from the package names
KIND_MODULES: dict[str, str] = {kind: f"{__name__}.{kind}" for kind in _kind_packages()}


def kind_module(kind: str) -> ModuleType:
    """The module implementing ``kind`` (KeyError if the kind is unknown)."""
    return importlib.import_module(KIND_MODULES[kind])
