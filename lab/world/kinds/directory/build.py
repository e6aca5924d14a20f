"""Builds the directory: every other service by category, with status, history, decoys.

Depends on ``onionlab.lab.world`` and the directory's modules.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from onionlab.lab.world import identifiers
from onionlab.lab.world.context import ServiceSpec, WorldContext
from onionlab.lab.world.kinds.directory.content import (
    CATEGORIES,
    DEAD_SITES,
    DESCRIPTIONS,
    DIRECTORY_NAMES,
    DOWN_SERVICES,
    FAKE_LINKS,
    HISTORY,
    KIND_CATEGORY,
    Address,
    Alert,
    DirectoryContent,
    Entry,
)
from onionlab.lab.world.model import PgpKey, Service
from onionlab.lab.world.vocab import rates


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
