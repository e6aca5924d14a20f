"""Site kind ``directory``: a hidden-wiki style link directory of every other lab service.

Built last, it lists every service in ``ctx.built`` (markets and their mirrors, the Russian
platform, vendor shops, the forum, the paste site) by category with up/down status, a
last-checked time (a fixed string), a check history and a "verified" badge. Traps, as on
real directories: the phishing clone (``clone_of``) sits in its original's category as a
user-submitted, unverified "mirror" under the original's name — only ``/warnings`` flags it
as phishing; the market that exit-scammed in the forum's story and a few other dead sites
are listed as down; a few links are mistyped onions whose checksum fails (decoys).
Pages: ``/``, ``/c/<category>``, ``/site/<slug>``, ``/status``, ``/warnings``, ``/about``.
URL helpers live here, shared with ``onionlab.lab.sites.directory``. Depends on
``onionlab.lab.world``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from onionlab.lab.world import identifiers
from onionlab.lab.world.context import ServiceSpec, WorldContext
from onionlab.lab.world.layout import Occurrence, Page
from onionlab.lab.world.model import Category, PgpKey, Service
from onionlab.lab.world.vocab import rates

PROTECTED_PREFIXES: tuple[str, ...] = ()
# Services a story says are dead: listed as down (the lab lead aligns this with the
# exit-scam schedule of the lab profiles).
DOWN_SERVICES: frozenset[str] = frozenset()
HISTORY = 7  # checks shown per address, oldest first

CATEGORIES: tuple[Category, ...] = (
    Category("markets", "Markets"),
    Category("ru", "Русскоязычные площадки"),
    Category("shops", "Vendor shops"),
    Category("forums", "Forums & communities"),
    Category("paste", "Pastebins"),
    Category("other", "Other services"),
    Category("defunct", "Defunct, seized & exit-scammed"),
)
KIND_CATEGORY = {
    "market": "markets",
    "bazaar": "markets",
    "ru_platform": "ru",
    "vendor_shop_a": "shops",
    "vendor_shop_b": "shops",
    "forum": "forums",
    "paste": "paste",
}
DESCRIPTIONS = {
    "markets": "Multi-vendor market with escrow. Always check the signed mirrors.txt.",
    "ru": "Автоматическая площадка: магазины, клады, обменник.",
    "shops": "Single-vendor shop. Direct orders, no escrow.",
    "forums": "Discussion forum: reviews, scam reports, vendor threads.",
    "paste": "Anonymous pastebin.",
    "other": "Service.",
}
DIRECTORY_NAMES = ("The Onion Index", "Hidden Links", "Deep Atlas", "Tor Yellow Pages")
DEAD_SITES = (
    ("Silk Lane", "seized"),
    ("Agora Nova", "offline"),
    ("Nightshade Market", "seized"),
    ("Bluebell Shop", "offline"),
    ("Ravenhill Forum", "offline"),
    ("Kraken Bay", "seized"),
)
FAKE_LINKS = (
    ("SecureDrop Mail", "other", "Anonymous e-mail, no logs."),
    ("OnionBox Hosting", "other", "Hosting for hidden services."),
    ("Tor Search Plus", "other", "Search engine for onion sites."),
    ("Crypto Mixer Pro", "other", "Bitcoin mixing service."),
    ("Bazaar Mirror (unofficial)", "markets", "Mirror added by a user, unverified."),
    ("Escrow Exchange", "other", "Trusted escrow for private deals."),
)


@dataclass(frozen=True)
class Address:
    """One onion address of an entry (``onion`` is ``<56>.onion``; decoys fail its checksum)."""

    onion: str
    label: str  # "main", "mirror 1", …
    status: str  # "up" or "down"
    checked: str  # "YYYY-MM-DD HH:MM UTC"
    history: tuple[str, ...]  # the last HISTORY checks, oldest first
    valid: bool = True


@dataclass(frozen=True)
class Entry:
    slug: str  # public id: a number
    name: str
    category: str
    description: str
    addresses: tuple[Address, ...]
    verified: bool
    service: str = ""  # the lab service behind the link ("" for dead or broken links)
    fingerprint: str = ""  # the site's signing key, where it publishes one
    note: str = ""  # e.g. "exit scam 2026-05-04"
    submitted: bool = False  # added by a user, never reviewed
    reports: int = 0  # phishing reports received

    @property
    def status(self) -> str:
        return self.addresses[0].status


@dataclass(frozen=True)
class Alert:
    """An entry of ``/warnings``."""

    kind: str  # "phishing" or "exit-scam"
    onion: str  # the address warned about
    subject: str  # whom it imitates, or the dead market's name
    real_onion: str  # the genuine address ("" when there is none)
    reported: str  # YYYY-MM-DD
    text: str


@dataclass(frozen=True)
class DirectoryContent:
    categories: tuple[Category, ...]
    entries: tuple[Entry, ...]
    alerts: tuple[Alert, ...]
    updated: str  # "YYYY-MM-DD HH:MM UTC"

    def entry(self, slug: str) -> Entry:
        for entry in self.entries:
            if entry.slug == slug:
                return entry
        raise KeyError(slug)

    def in_category(self, slug: str) -> list[Entry]:
        chosen = [e for e in self.entries if e.category == slug]
        return sorted(chosen, key=lambda e: (not e.verified, e.status != "up", e.name.lower()))


# --- URL structure (shared with onionlab.lab.sites.directory)
# ------------------------------------------


def category_path(slug: str) -> str:
    return f"/c/{slug}"


def site_path(slug: str) -> str:
    return f"/site/{slug}"


STATUS_PATH = "/status"
WARNINGS_PATH = "/warnings"
ABOUT_PATH = "/about"


def content_of(service: Service) -> DirectoryContent:
    content = service.content
    assert isinstance(content, DirectoryContent)
    return content


def _bare(onion: str) -> str:
    return onion.removesuffix(".onion")


# --- build -----------------------------------------------------------------------------------


class _Clock:
    """Fixed check times counted back from the story's "now" (no wall clock)."""

    def __init__(self, rng: random.Random) -> None:
        today = datetime.strptime(rates().date, "%Y-%m-%d").replace(tzinfo=UTC)
        self.now = today - timedelta(minutes=rng.randrange(5, 50))
        self.rng = rng

    def checked(self) -> str:
        ts = self.now - timedelta(minutes=self.rng.randrange(1, 180))
        return ts.strftime("%Y-%m-%d %H:%M UTC")


def _history(rng: random.Random, up: bool) -> tuple[str, ...]:
    if not up:
        return ("down",) * HISTORY
    return (*("down" if rng.random() < 0.08 else "up" for _ in range(HISTORY - 1)), "up")


def _address(
    clock: _Clock, rng: random.Random, onion: str, label: str, up: bool, valid: bool = True
) -> Address:
    return Address(
        onion=onion,
        label=label,
        status="up" if up else "down",
        checked=clock.checked(),
        history=_history(rng, up),
        valid=valid,
    )


def _fingerprint(svc: Service) -> str:
    key = getattr(svc.content, "admin_key", None)
    if isinstance(key, PgpKey):
        return key.fingerprint
    if svc.kind.startswith("vendor_shop") and len(svc.vendors) == 1:
        return svc.vendors[0].pgp.fingerprint
    return ""


def build(ctx: WorldContext, spec: ServiceSpec) -> Service:
    """The directory: one entry per service built before it, plus dead and broken links."""
    rng = ctx.rng(spec.name, "identity")
    title = rng.choice(DIRECTORY_NAMES)
    clock = _Clock(ctx.rng(spec.name, "clock"))
    hist = ctx.rng(spec.name, "history")
    others = [s for s in ctx.built.values() if s.name != spec.name]
    entries: list[Entry] = []
    alerts: list[Alert] = []
    for svc in others:
        if svc.clone_of:
            continue
        category = KIND_CATEGORY.get(svc.kind, "other")
        up = svc.name not in DOWN_SERVICES
        addresses = [_address(clock, hist, svc.onion, "main", up)]
        addresses += [
            _address(clock, hist, m, f"mirror {i}", up) for i, m in enumerate(svc.mirrors, 1)
        ]
        entries.append(
            Entry(
                slug=svc.name,
                name=svc.title,
                category=category,
                description=svc.tagline or DESCRIPTIONS[category],
                addresses=tuple(addresses),
                verified=True,
                service=svc.name,
                fingerprint=_fingerprint(svc),
                note="" if up else "gone: not answering since the last checks",
            )
        )
    # The phishing clone: a user-submitted "mirror" under the original's name.
    for svc in others:
        if not svc.clone_of or svc.clone_of not in ctx.built:
            continue
        original = ctx.built[svc.clone_of]
        category = KIND_CATEGORY.get(original.kind, "other")
        reported = (clock.now - timedelta(days=rng.randrange(3, 20))).strftime("%Y-%m-%d")
        entries.append(
            Entry(
                slug=svc.name,
                name=f"{original.title} (mirror 2)",
                category=category,
                description="New official mirror — no queue, instant deposits!",
                addresses=(_address(clock, hist, svc.onion, "main", True),),
                verified=False,
                service=svc.name,
                submitted=True,
                reports=rng.randrange(3, 12),
            )
        )
        alerts.append(
            Alert(
                kind="phishing",
                onion=svc.onion,
                subject=original.title,
                real_onion=original.onion,
                reported=reported,
                text=f"Phishing clone of {original.title}. Same design, different vendor keys "
                "and deposit addresses. It is NOT in the market's signed mirrors.txt.",
            )
        )
    # Markets that died in the forum's story (exit scams), then other dead sites.
    forum = next((s for s in others if s.kind == "forum"), None)
    for k, dead in enumerate(getattr(getattr(forum, "content", None), "dead_markets", ())):
        slug = f"dead-{k + 1}"
        entries.append(
            Entry(
                slug=slug,
                name=dead.name,
                category="defunct",
                description="Former multi-vendor market.",
                addresses=(_address(clock, hist, dead.onion, "main", False),),
                verified=True,
                note=f"{dead.fate} {dead.died}: withdrawals disabled, then the site vanished",
            )
        )
        alerts.append(
            Alert(
                kind="exit-scam",
                onion=dead.onion,
                subject=dead.name,
                real_onion="",
                reported=dead.died,
                text=f"{dead.name} exit-scammed. Any 'new mirror' or 'recovery service' "
                "claiming to be them is a scam.",
            )
        )
    dead_rng = ctx.rng(spec.name, "dead")
    n_dead = min(len(DEAD_SITES), max(2, round(3 * ctx.scale)))
    for i, (name, fate) in enumerate(dead_rng.sample(DEAD_SITES, n_dead)):
        year = dead_rng.randrange(2021, 2026)
        entries.append(
            Entry(
                slug=f"defunct-{i + 1}",
                name=name,
                category="defunct",
                description="No longer operating.",
                addresses=(
                    _address(clock, hist, ctx.onion(f"{spec.name}#defunct{i}"), "main", False),
                ),
                verified=False,
                note=f"{fate} ({year})",
            )
        )
    # Broken links: onions with a wrong checksum (typos that circulate on the web).
    fake_rng = ctx.rng(spec.name, "broken")
    count = min(len(FAKE_LINKS), max(2, round(3 * ctx.scale)))
    for i, (name, category, description) in enumerate(fake_rng.sample(FAKE_LINKS, count)):
        host = identifiers.onion_decoy(ctx.secret(spec.name, "broken", str(i))) + ".onion"
        entries.append(
            Entry(
                slug=f"link-{i + 1}",
                name=name,
                category=category,
                description=description,
                addresses=(_address(clock, hist, host, "main", False, valid=False),),
                verified=False,
                submitted=True,
            )
        )
    # Public ids are plain numbers, as on real directories: internal names must not leak.
    entries = [replace(e, slug=str(n)) for n, e in enumerate(entries, 1)]
    used = {e.category for e in entries}
    return Service(
        name=spec.name,
        kind="directory",
        title=title,
        onion=ctx.onion(spec.name),
        tagline="a curated, checked list of onion services",
        mirrors=ctx.mirrors(spec),
        content=DirectoryContent(
            categories=tuple(c for c in CATEGORIES if c.slug in used),
            entries=tuple(entries),
            alerts=tuple(alerts),
            updated=clock.now.strftime("%Y-%m-%d %H:%M UTC"),
        ),
    )


# --- truth -----------------------------------------------------------------------------------


def pages(service: Service) -> list[Page]:
    content = content_of(service)
    found = [Page("/", "home")]
    found += [Page(category_path(c.slug), "category", c.slug) for c in content.categories]
    found += [Page(site_path(e.slug), "site", e.slug) for e in content.entries]
    found += [
        Page(STATUS_PATH, "status"),
        Page(WARNINGS_PATH, "warnings"),
        Page(ABOUT_PATH, "about"),
    ]
    return found


def shown(service: Service) -> dict[str, list[tuple[str, str, bool]]]:
    """``{path: [(type, value, valid), …]}``: every identifier each page shows."""
    content = content_of(service)
    own = ("onion", _bare(service.onion), True)

    def of(entries: list[Entry]) -> list[tuple[str, str, bool]]:
        return [("onion", _bare(a.onion), a.valid) for e in entries for a in e.addresses]

    out: dict[str, list[tuple[str, str, bool]]] = {
        "/": [own, *of(list(content.entries))],
        STATUS_PATH: of(list(content.entries)),
        ABOUT_PATH: [own],
        WARNINGS_PATH: [
            ("onion", _bare(o), True) for a in content.alerts for o in (a.onion, a.real_onion) if o
        ],
    }
    for cat in content.categories:
        out[category_path(cat.slug)] = of(content.in_category(cat.slug))
    for entry in content.entries:
        items = of([entry])
        if entry.fingerprint:
            items.append(("pgp_fingerprint", entry.fingerprint, True))
        out[site_path(entry.slug)] = items
    return out


def _occ(service: Service, valid: bool) -> list[Occurrence]:
    found = {
        Occurrence(kind, value, path)
        for path, items in shown(service).items()
        for kind, value, ok in items
        if ok == valid
    }
    return sorted(found, key=lambda o: (o.path, o.type, o.value))


def occurrences(service: Service) -> list[Occurrence]:
    return _occ(service, True)


def decoys(service: Service) -> list[Occurrence]:
    return _occ(service, False)


def truth_listings(service: Service) -> list[dict[str, Any]]:
    return []


def truth_vendors(service: Service) -> list[dict[str, Any]]:
    return []
