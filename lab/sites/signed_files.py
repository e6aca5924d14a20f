"""A market's signed files per dark.fail's Onion Mirror Guidelines (pgp/mirrors/canary.txt).

``signed_files(world, service, admin_key, admin_secret)`` returns ``{path: bytes}`` for
``/pgp.txt`` (the market's ASCII-armored admin key), ``/mirrors.txt`` (clearsigned; one
``http://<onion>`` line per official address, ``#`` comments) and ``/canary.txt``
(clearsigned; a YYYY-MM-DD date and a made-up latest Bitcoin block hash, refreshed every
14 days in the story). ``admin_key(world, service)`` derives a market's admin key from the
seed and the *service's own* name, so a phishing clone can never sign as the market it
copies. Everything is deterministic (no clock). Used by the ``market`` and ``bazaar``
sites. Depends only on ``onionlab.lab.world``.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

from onionlab.lab.world.context import sub_rng, sub_secret
from onionlab.lab.world.model import PgpKey, Service, World
from onionlab.lab.world.pgp import clearsign, make_key
from onionlab.lab.world.vocab import rates

PGP_TXT = "/pgp.txt"
MIRRORS_TXT = "/mirrors.txt"
CANARY_TXT = "/canary.txt"
PATHS = (PGP_TXT, MIRRORS_TXT, CANARY_TXT)

CANARY_DAYS = 14
_EPOCH_2019 = 1546300800
_EPOCH_2022 = 1640995200
_HALVING_2024 = date(2024, 4, 20)  # block 840,000
_HALVING_HEIGHT = 840_000


def admin_secret(seed: int, service: Service) -> bytes:
    """The 32-byte seed of ``service``'s admin key (``ctx.secret(name, "admin-pgp")``)."""
    return sub_secret(seed, service.name, "admin-pgp")


def admin_key(world: World, service: Service) -> tuple[PgpKey, bytes]:
    """``(key, secret)`` of the market's admin key.

    A kind that keeps its admin key in ``service.content.admin_key`` (the bazaar) gets that
    key back; otherwise (the market and its clone) the key is made here from the seed and
    the service's name. The clone has the original's title but another name, hence another
    key: its files never verify against the real market's ``pgp.txt``.
    """
    secret = admin_secret(world.seed, service)
    kept = getattr(service.content, "admin_key", None)
    if isinstance(kept, PgpKey):
        return kept, secret
    created = sub_rng(world.seed, service.name, "admin-pgp").randrange(_EPOCH_2019, _EPOCH_2022)
    return make_key(secret, f"{service.title} Admin", created=created), secret


def story_date() -> date:
    """The world's "today" (the date of its exchange rates)."""
    return date.fromisoformat(rates().date)


def canary_date(seed: int, service: Service) -> date:
    """The date of the service's current canary: within the last 14 days of the story."""
    back = sub_rng(seed, service.name, "canary").randrange(CANARY_DAYS)
    return story_date() - timedelta(days=back)


def block_at(seed: int, service: Service, day: date) -> tuple[int, str]:
    """A plausible Bitcoin block height for ``day`` and a made-up 64-hex block hash."""
    height = _HALVING_HEIGHT + (day - _HALVING_2024).days * 144
    height -= sub_rng(seed, service.name, "canary", "height").randrange(40)
    digest = hashlib.sha256(sub_secret(seed, service.name, "canary-block", str(height))).hexdigest()
    return height, "0" * 19 + digest[19:]


def _timestamp(day: date, seconds: int) -> int:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return int(start.timestamp()) + seconds


def pgp_text(service: Service, key: PgpKey) -> str:
    """The armored admin key with a ``Comment`` header naming the fingerprint."""
    head, sep, rest = key.armored.partition("\n\n")
    if not sep:  # pragma: no cover - make_key always writes a blank line after the header
        return key.armored
    return f"{head}\nComment: {service.title} admin key {key.fingerprint}\n\n{rest}"


def mirrors_text(service: Service, day: date) -> str:
    """The unsigned body of mirrors.txt: comments, then one ``http://<onion>`` per address."""
    lines = [
        f"# {service.title} - official mirrors",
        f"# Updated {day.isoformat()}. Any address not in this signed list is a phishing site.",
        "# Verify this file with the key published at /pgp.txt.",
        "",
    ]
    lines += [f"http://{onion}" for _, onion in service.addresses]
    return "\n".join(lines) + "\n"


def canary_text(service: Service, day: date, height: int, block: str) -> str:
    """The unsigned body of canary.txt."""
    next_day = day + timedelta(days=CANARY_DAYS)
    return "\n".join(
        [
            f"{service.title} warrant canary",
            "",
            f"Date: {day.isoformat()}",
            f"Latest Bitcoin block: {height}",
            f"Block hash: {block}",
            "",
            "As of the date above:",
            "1. We have not been served with any warrant, subpoena or court order.",
            "2. We have not been compromised; our keys remain under our sole control.",
            "3. No staff member has been arrested or coerced to act against our users.",
            "",
            f"This canary is refreshed every {CANARY_DAYS} days. The next one is due by "
            f"{next_day.isoformat()}.",
            "If it is late or its signature does not verify, assume the worst and stay away.",
            "",
        ]
    )


def signed_files(
    world: World, service: Service, admin_key: PgpKey, admin_secret: bytes
) -> dict[str, bytes]:
    """``{path: UTF-8 bytes}`` of ``/pgp.txt``, ``/mirrors.txt`` and ``/canary.txt``."""
    day = canary_date(world.seed, service)
    height, block = block_at(world.seed, service, day)
    offset = sub_rng(world.seed, service.name, "canary", "time").randrange(3600, 20 * 3600)
    signed_at = _timestamp(day, offset)
    mirrors = clearsign(admin_secret, admin_key, mirrors_text(service, day), signed_at)
    canary = clearsign(
        admin_secret, admin_key, canary_text(service, day, height, block), signed_at + 60
    )
    return {
        PGP_TXT: pgp_text(service, admin_key).encode("utf-8"),
        MIRRORS_TXT: mirrors.encode("utf-8"),
        CANARY_TXT: canary.encode("utf-8"),
    }
