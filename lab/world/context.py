"""What every site generator shares while the world is built: seed, rates, vendor identities.

A site kind's ``build(ctx, spec)`` draws everything from here, so that the same person
keeps the same key, wallets and contacts on every site, and so that adding a site leaves
the others unchanged (each part has its own seeded RNG). Pure; depends on ``onionlab.lab.world``
and ``onionlab.lab.tornet.onion_keys`` only.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from decimal import Decimal

from onionlab.lab.tornet.onion_keys import derive_service_key, onion_address
from onionlab.lab.world.model import Identity, Service


def sub_rng(seed: int, *parts: str) -> random.Random:
    """A ``random.Random`` for one sub-part of the world, independent of the others."""
    return random.Random("onionlab/world/v1/" + "/".join([str(seed), *parts]))


def sub_secret(seed: int, *parts: str) -> bytes:
    """32 deterministic secret bytes for one key of the world."""
    label = "/".join(["onionlab/secret/v1", str(seed), *parts])
    return hashlib.sha256(label.encode()).digest()


@dataclass(frozen=True)
class ServiceSpec:
    """One onion service of the lab plan: its name, its kind and kind-specific options."""

    name: str
    kind: str
    mirrors: int = 0
    clone_of: str = ""
    optional: bool = False  # built only when asked for (the hostile site: a profile switch)


@dataclass
class WorldContext:
    seed: int
    scale: float
    btc_usd: Decimal
    identities: tuple[Identity, ...]
    built: dict[str, Service] = field(default_factory=dict)  # services built so far

    def rng(self, *parts: str) -> random.Random:
        return sub_rng(self.seed, *parts)

    def secret(self, *parts: str) -> bytes:
        return sub_secret(self.seed, *parts)

    def onion(self, label: str) -> str:
        """The onion address published for key ``label``."""
        return onion_address(derive_service_key(self.seed, label))

    def mirrors(self, spec: ServiceSpec) -> tuple[str, ...]:
        return tuple(self.onion(f"{spec.name}#mirror{i}") for i in range(1, spec.mirrors + 1))

    def vendors_for(self, site: str, count: int) -> list[Identity]:
        """``count`` identities selling on ``site``: a seeded pick from the shared pool, so
        that sites overlap (the same person on several markets) without being identical."""
        pool = list(self.identities)
        count = min(count, len(pool))
        return self.rng(site, "who-sells-here").sample(pool, count)

    def vanity_onion(self, label: str, prefix: str, limit: int = 200_000) -> tuple[str, str]:
        """A key label whose onion starts with ``prefix`` (a phishing clone's look-alike).

        Deterministic: tries ``label#vanity0``, ``label#vanity1``, … (bounded by ``limit``).
        """
        for n in range(limit):
            candidate = f"{label}#vanity{n}"
            address = self.onion(candidate)
            if address.startswith(prefix):
                return candidate, address
        raise RuntimeError(f"no onion with prefix {prefix!r} within {limit} keys")
