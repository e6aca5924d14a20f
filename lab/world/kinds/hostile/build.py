"""Builds the hostile site: its title, keys, forged mirror and a few ordinary listings.

Depends on ``onionlab.lab.world``.
"""

from __future__ import annotations

from dataclasses import dataclass

from onionlab.lab.world.context import ServiceSpec, WorldContext, sub_secret
from onionlab.lab.world.data_files import load_words
from onionlab.lab.world.kinds.hostile.paths import MIRROR_TARGET
from onionlab.lab.world.model import PgpKey, Service
from onionlab.lab.world.pgp import make_key


@dataclass(frozen=True)
class HostileContent:
    """What the hostile site needs beyond its ``Service``: keys and the forged mirror."""

    admin_key: PgpKey  # published at /pgp.txt
    forger_key: PgpKey  # signs the forged mirrors.txt (same uid, another key)
    mirror_target: str  # "<56>.onion" of the lab site named as the mirror
    items: tuple[tuple[str, str, str], ...]  # (title, price, description) of its listings
    seed_word: str  # the first word of the letters-only generator


_WORDS = load_words("onionlab.lab.world.kinds.hostile")
TITLES = _WORDS["titles"]
ITEMS = _WORDS["items"]


def secrets_for(seed: int, name: str) -> tuple[bytes, bytes]:
    """``(admin secret, forger secret)`` of the hostile site's two keys."""
    return sub_secret(seed, name, "admin-pgp"), sub_secret(seed, name, "forger-pgp")


def build(ctx: WorldContext, spec: ServiceSpec) -> Service:
    """The hostile site: its title, keys, forged mirror and a few ordinary listings."""
    rng = ctx.rng(spec.name, "identity")
    title = rng.choice(TITLES)
    admin_secret, forger_secret = secrets_for(ctx.seed, spec.name)
    created = rng.randrange(1_600_000_000, 1_700_000_000)
    uid = f"{title} Admin"
    admin = make_key(admin_secret, uid, created=created)
    forger = make_key(forger_secret, uid, created=created + 86_400)
    target = ctx.built.get(MIRROR_TARGET)
    items_rng = ctx.rng(spec.name, "items")
    items = tuple(
        (name, f"{items_rng.randrange(15, 400)}.00", f"{name}. Instant delivery, no questions.")
        for name in items_rng.sample(ITEMS, 8)
    )
    wiki_rng = ctx.rng(spec.name, "wiki")
    letters = "".join(wiki_rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(7))
    return Service(
        name=spec.name,
        kind=spec.kind,
        title=title,
        onion=ctx.onion(spec.name),
        tagline="Links, leaks and deals. No logs, no KYC.",
        content=HostileContent(
            admin_key=admin,
            forger_key=forger,
            mirror_target=target.onion if target is not None else "",
            items=items,
            seed_word=letters,
        ),
    )


def content_of(service: Service) -> HostileContent:
    content = service.content
    if not isinstance(content, HostileContent):
        raise TypeError(f"{service.name} is not a hostile site")
    return content
