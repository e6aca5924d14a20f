"""Deterministic contact handles of the world: Telegram, Jabber/XMPP, Session and e-mail.

Every value is drawn from a caller-supplied ``random.Random`` (or derived from secret bytes)
so that worlds are reproducible. Mail and Jabber domains are made-up names on TLDs reserved
by RFC 2606 (``.example``, ``.test``, ``.invalid``) or onion hosts, so no real person's
address can be generated. Session IDs are ``05`` + the X25519 key converted from a real
Ed25519 key. Depends on PyNaCl and ``onionlab.lab.tornet.onion_keys``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from nacl.bindings import crypto_sign_ed25519_pk_to_curve25519
from nacl.signing import SigningKey

from onionlab.lab.tornet.onion_keys import onion_address

TELEGRAM_MIN, TELEGRAM_MAX = 5, 32
TELEGRAM_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,30}[A-Za-z0-9]$")
SESSION_PREFIX = "05"

# Latin and transliterated-Russian words that shop, vendor and operator handles are made of.
_WORDS = (
    "shop", "store", "market", "klad", "magnit", "prikop", "snow", "white", "crystal",
    "ice", "candy", "rocket", "prime", "lux", "vip", "best", "fast", "fresh", "chem",
    "lab", "mef", "meph", "kristal", "shishki", "boshki", "gash", "sol", "skorost",
    "kosmos", "zvezda", "sever", "yug", "vostok", "zapad", "ural", "sibir", "baikal",
    "neva", "volga", "stolica", "piter", "msk", "spb", "ekb", "nsk", "kzn", "krd",
    "almaty", "astana", "bishkek", "minsk", "operator", "support", "helper", "manager",
    "admin", "bro", "drug", "kot", "lis", "volk", "medved", "sova", "shaman", "doktor",
    "himik", "alchemist", "green", "black", "gold", "silver", "panda", "tiger", "joker",
    "dealer", "plug", "express", "turbo", "nord", "dark", "ghost", "shadow", "tor",
)  # fmt: skip
_ROLES = ("operator", "support", "oper", "help", "admin", "manager", "rabota", "hr", "chat")
_NUMBERS = ("24", "7", "77", "777", "365", "1", "2", "13", "42", "69", "99", "420", "2024")

JABBER_DOMAINS = (
    "xmpp-secure.example", "darkjabber.example", "jabb.test", "chatnode.example",
    "freexmpp.test", "securechat.example", "talkhub.test", "xmpp.onionlab.example",
)  # fmt: skip
MAIL_DOMAINS = (
    "securemail.example", "privmail.example", "onionbox.test", "cryptpost.example",
    "shadowmail.test", "anonbox.invalid", "darkpost.example", "safemail.test",
    "tormail.invalid", "ghostpost.example",
)  # fmt: skip
RESERVED_TLDS = (".example", ".test", ".invalid", ".onion")


def _word(rng: random.Random) -> str:
    return rng.choice(_WORDS)


# A name style: builds a name from two drawn words; its own draws (if any) come after theirs.
NameStyle = Callable[[random.Random, str, str], str]

_TELEGRAM_STYLES: tuple[NameStyle, ...] = (
    lambda rng, first, second: f"{first}_{second}",
    lambda rng, first, second: f"{first}{second}{rng.choice(_NUMBERS)}",
    lambda rng, first, second: f"{first.capitalize()}{second.capitalize()}",
    lambda rng, first, second: f"{first}_{rng.choice(_ROLES)}",
    lambda rng, first, second: f"{first}{rng.choice(_NUMBERS)}_{second}",
    lambda rng, first, second: f"{rng.choice(_ROLES)}_{first}{rng.choice(_NUMBERS)}",
)


def telegram(rng: random.Random, bot: bool = False) -> str:
    """A Telegram username: 5–32 of ``[A-Za-z0-9_]``, starts with a letter, no trailing ``_``.

    With ``bot``, the name ends in ``bot`` as Telegram requires for bots.
    """
    for _ in range(100):
        style = rng.randrange(6)
        first, second = _word(rng), _word(rng)
        name = _TELEGRAM_STYLES[style](rng, first, second)
        if bot:
            name = name.rstrip("_") + rng.choice(("_bot", "bot", "_shop_bot", "24bot"))
        if TELEGRAM_RE.match(name) and TELEGRAM_MIN <= len(name) <= TELEGRAM_MAX:
            return name
    raise RuntimeError("no Telegram username found")  # pragma: no cover


def onion_host(rng: random.Random) -> str:
    """A valid v3 onion host (``<56 chars>.onion``) of an ed25519 key drawn from ``rng``."""
    return onion_address(rng.randbytes(32))


def jabber(rng: random.Random, domain: str | None = None) -> str:
    """A lowercase Jabber ID ``local@domain``.

    Without ``domain``, the domain is a made-up server on a reserved TLD or (about one in
    four) an onion host.
    """
    style = rng.randrange(4)
    first, second = _word(rng), _word(rng)
    if style == 0:
        local = f"{first}.{second}"
    elif style == 1:
        local = f"{first}{rng.choice(_NUMBERS)}"
    elif style == 2:
        local = f"{first}_{rng.choice(_ROLES)}"
    else:
        local = f"{first}-{second}{rng.choice(_NUMBERS)}"
    if domain is None:
        domain = onion_host(rng) if rng.random() < 0.25 else rng.choice(JABBER_DOMAINS)
    return f"{local}@{domain}".lower()


def session_id(secret: bytes) -> str:
    """A Session messenger ID: ``05`` + hex X25519 key of the Ed25519 key of ``secret``."""
    if len(secret) != 32:
        raise ValueError("secret must be 32 bytes")
    ed_pub = bytes(SigningKey(secret).verify_key)
    return SESSION_PREFIX + crypto_sign_ed25519_pk_to_curve25519(ed_pub).hex()


def email(rng: random.Random, handle: str) -> str:
    """A lowercase e-mail address for ``handle`` on a reserved-TLD domain (RFC 2606)."""
    local = re.sub(r"[^a-z0-9._-]+", "", handle.lower().replace(" ", "."))
    local = re.sub(r"[._-]{2,}", ".", local).strip("._-") or "user"
    style = rng.randrange(4)
    if style == 1:
        local = f"{local}{rng.choice(_NUMBERS)}"
    elif style == 2:
        local = f"{local}.{rng.choice(_ROLES)}"
    return f"{local[:64].rstrip('._-')}@{rng.choice(MAIL_DOMAINS)}"
