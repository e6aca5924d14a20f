"""The pool of vendor identities (people) that the sites draw their vendors from.

One identity = one handle (with small per-site variations), one OpenPGP key, wallets and
contacts that stay the same on every site. Wallets: always Bitcoin (P2PKH, the form the
Western market shows), about half also Monero, some Litecoin, Ethereum and TRON; contacts:
always e-mail, usually Telegram, some Jabber and Session. Each identity's wallets and
contacts come from its own ``sub_secret``/``sub_rng`` streams, so they do not shift the
handles of the others. Pure and deterministic; depends on ``onionlab.lab.world.context``,
``onionlab.lab.world.pgp``, ``onionlab.lab.world.btc``, ``onionlab.lab.world.identifiers``,
``onionlab.lab.world.contacts`` and the bundled vocabularies.
"""

from __future__ import annotations

import random
from typing import Any

from onionlab.lab.world import contacts as contact_kinds
from onionlab.lab.world import identifiers
from onionlab.lab.world.btc import p2pkh_address
from onionlab.lab.world.context import sub_rng, sub_secret
from onionlab.lab.world.data_files import load_data
from onionlab.lab.world.model import Identity
from onionlab.lab.world.pgp import make_key

IDENTITIES_PER_SCALE = 30
_EPOCH_2019 = 1546300800
_EPOCH_2024 = 1704067200
# (chain, probability that an identity has a wallet on it, variants with their weights)
_EXTRA_WALLETS: tuple[tuple[str, float, tuple[tuple[str, int], ...]], ...] = (
    ("xmr", 0.5, (("standard", 3), ("subaddress", 2))),
    ("ltc", 0.3, (("p2pkh", 2), ("p2sh", 1), ("p2wpkh", 2))),
    ("eth", 0.25, (("eip55", 1),)),
    ("trx", 0.35, (("base58check", 1),)),
)
_TELEGRAM_SUFFIXES = ("", "", "_shop", "_official", "_store", "24", "_operator")


def _wallets(
    seed: int, ident: str, btc: tuple[tuple[str, str], ...]
) -> tuple[tuple[str, str], ...]:
    """``btc`` followed by the identity's wallets on the other chains."""
    rng = sub_rng(seed, "identity", ident, "wallets")
    wallets = list(btc)
    for kind, share, variants in _EXTRA_WALLETS:
        if rng.random() >= share:
            continue
        names = [v for v, _ in variants]
        weights = [w for _, w in variants]
        for i in range(1 if rng.random() < 0.8 else 2):
            variant = rng.choices(names, weights)[0]
            secret = sub_secret(seed, "identity", ident, kind, str(i))
            wallets.append((kind, identifiers.make(kind, secret, variant)))
    return tuple(wallets)


def _contacts(seed: int, ident: str, handle: str, email: str) -> tuple[tuple[str, str], ...]:
    """E-mail always; Telegram for most identities (often their handle), some Jabber/Session."""
    rng = sub_rng(seed, "identity", ident, "contacts")
    found = [("email", email)]
    if rng.random() < 0.75:
        own = handle + rng.choice(_TELEGRAM_SUFFIXES)
        if rng.random() < 0.5 and contact_kinds.TELEGRAM_RE.match(own):
            found.append(("telegram", own))
        else:
            found.append(("telegram", contact_kinds.telegram(rng)))
    if rng.random() < 0.35:
        found.append(("jabber", contact_kinds.jabber(rng)))
    if rng.random() < 0.3:
        found.append(
            ("session", contact_kinds.session_id(sub_secret(seed, "identity", ident, "session")))
        )
    return tuple(found)


def _handle(rng: random.Random, taken: set[str], names: dict[str, Any]) -> str:
    for _ in range(10_000):
        first = rng.choice(names["handle_first"])
        second = rng.choice(names["handle_second"])
        style = rng.randrange(6)
        if style == 0:
            handle = f"{first.lower()}_{second.lower()}"
        elif style == 1:
            handle = f"{first}{second}{rng.choice(['420', '24', '7', '99', 'NL', 'UK', 'EU'])}"
        else:
            handle = f"{first}{second}"
        if handle.lower() not in taken:
            taken.add(handle.lower())
            return handle
    raise RuntimeError("ran out of vendor handles")


def build_identities(seed: int, scale: float) -> tuple[Identity, ...]:
    """The identity pool of the world (``IDENTITIES_PER_SCALE`` per unit of scale)."""
    names = load_data("names.json")
    rng = sub_rng(seed, "identities")
    taken: set[str] = set()
    identities = []
    for n in range(max(4, round(IDENTITIES_PER_SCALE * scale))):
        ident = f"id-{n:04d}"
        handle = _handle(rng, taken, names)
        secret = sub_secret(seed, "identity", ident, "pgp")
        domain = rng.choice(names["mail_domains"])
        email = f"{handle.lower()}@{domain}"
        pgp = make_key(
            secret, f"{handle} <{email}>", created=rng.randrange(_EPOCH_2019, _EPOCH_2024)
        )
        btc = tuple(
            ("btc", p2pkh_address(sub_secret(seed, "identity", ident, "btc", str(i))))
            for i in range(1 if rng.random() < 0.7 else 2)
        )
        identities.append(
            Identity(
                id=ident,
                handle=handle,
                country=rng.choice(names["countries"]),
                pgp=pgp,
                wallets=_wallets(seed, ident, btc),
                contacts=_contacts(seed, ident, handle, email),
                pgp_secret=secret,
            )
        )
    return tuple(identities)


def handle_on(identity: Identity, site: str, seed: int) -> str:
    """The handle ``identity`` uses on ``site``: usually the same, sometimes a variation."""
    rng = sub_rng(seed, "handle-variant", identity.id, site)
    roll = rng.random()
    base = identity.handle
    if roll < 0.6:
        return base
    if roll < 0.75:
        return base.lower()
    if roll < 0.85:
        return f"{base}_official"
    if roll < 0.95:
        return f"real{base}" if base[0].isupper() else f"real_{base}"
    return base.replace("o", "0", 1) if "o" in base else f"{base}2"
