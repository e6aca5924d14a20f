"""The deterministic world generator: ``build_world(seed, scale)``.

Pure: every random choice comes from a ``random.Random`` derived from the seed and a
string naming the sub-part (so adding a service later leaves the others unchanged); no
clock, no ``os.urandom``, no global ``random``. Vocabularies live in ``lab/world/data``.
May depend on the standard library, ``onionlab.lab.world.*`` and ``onionlab.lab.tornet.onion_keys``.
"""

from __future__ import annotations

import importlib.util
from decimal import Decimal

from onionlab.lab.world.context import WorldContext, sub_rng
from onionlab.lab.world.identities import build_identities
from onionlab.lab.world.kinds import KIND_MODULES, kind_module
from onionlab.lab.world.model import World
from onionlab.lab.world.plan import PLAN

_CENT = Decimal("0.01")


def implemented_kinds() -> set[str]:
    """The site kinds whose generator module exists (all of them, once the lab is complete)."""
    return {kind for kind, module in KIND_MODULES.items() if importlib.util.find_spec(module)}


def _btc_rate(seed: int) -> Decimal:
    rng = sub_rng(seed, "rates")
    return (Decimal(rng.randrange(5_800_000, 7_200_000)) / 100).quantize(_CENT)


def build_world(seed: int, scale: float = 1.0, *, hostile: bool = False) -> World:
    """Build the whole lab world for ``seed``; ``scale`` multiplies the amount of content.

    ``hostile`` adds the plan's optional services (the malicious site); without it the
    world is exactly the one it has always been for ``seed``.
    """
    if scale <= 0:
        raise ValueError("scale must be positive")
    rate = _btc_rate(seed)
    ctx = WorldContext(
        seed=seed, scale=scale, btc_usd=rate, identities=build_identities(seed, scale)
    )
    available = implemented_kinds()
    for spec in PLAN:
        if spec.kind not in available or (spec.optional and not hostile):
            continue
        ctx.built[spec.name] = kind_module(spec.kind).build(ctx, spec)
    return World(
        seed=seed,
        scale=scale,
        btc_usd=f"{rate:.2f}",
        services=tuple(ctx.built.values()),
        identities=ctx.identities,
    )
